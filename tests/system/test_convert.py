"""Pure mapping: Graph enums, times and error codes (unit tests beside the end-to-end ones)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from graphrestore.v1 import restore_session_pb2 as pb
from graphrestore_gateway.restore import bulk_convert, convert, session_convert
from graphrestore_gateway.rpc.status import reason_from_code


@pytest.mark.parametrize(
    ("enum", "graph", "number"),
    [
        (pb.DestinationType, "new", pb.DESTINATION_TYPE_NEW),
        (pb.DestinationType, "inPlace", pb.DESTINATION_TYPE_IN_PLACE),
        (
            pb.RestoreSessionStatus,
            "completedWithError",
            pb.RESTORE_SESSION_STATUS_COMPLETED_WITH_ERROR,
        ),
        (pb.RestoreSessionStatus, "failed", pb.RESTORE_SESSION_STATUS_FAILED),
        (
            pb.RestoreSessionStatus,
            "unknownFutureValue",
            pb.RESTORE_SESSION_STATUS_UNKNOWN_FUTURE_VALUE,
        ),
        (pb.ArtifactRestoreStatus, "inProgress", pb.ARTIFACT_RESTORE_STATUS_IN_PROGRESS),
        (pb.RestoreJobType, "bulk", pb.RESTORE_JOB_TYPE_BULK),
        (pb.RestorePointTag, "fastRestore", pb.RESTORE_POINT_TAG_FAST_RESTORE),
    ],
)
def test_enum_members_map_both_ways(enum: object, graph: str, number: int) -> None:
    assert convert.enum_from_graph(enum, graph) == number  # type: ignore[arg-type]
    assert convert.enum_to_graph(enum, number) == graph  # type: ignore[arg-type]


@pytest.mark.parametrize("odd", ["paused", "IN_PLACE", "in place", "42", "destinationTypeNew"])
def test_unknown_enum_strings_become_unknown_future_value(odd: str) -> None:
    assert (
        convert.enum_from_graph(pb.DestinationType, odd) == pb.DESTINATION_TYPE_UNKNOWN_FUTURE_VALUE
    )


def test_missing_enum_is_unspecified() -> None:
    assert convert.enum_from_graph(pb.DestinationType, None) == pb.DESTINATION_TYPE_UNSPECIFIED


@pytest.mark.parametrize(
    ("graph", "json_time"),
    [
        ("2024-12-03T13:09:46.3725247Z", "2024-12-03T13:09:46.372524700Z"),
        ("2023-03-30T12:01:03.45Z", "2023-03-30T12:01:03.450Z"),
        ("2023-03-30T12:01:03Z", "2023-03-30T12:01:03Z"),
        ("2023-03-30T14:01:03+02:00", "2023-03-30T12:01:03Z"),
    ],
)
def test_graph_times_parse_with_up_to_seven_fraction_digits(graph: str, json_time: str) -> None:
    stamp = convert.timestamp_from_graph(graph)
    assert stamp is not None and stamp.ToJsonString() == json_time


@pytest.mark.parametrize(
    "broken", ["2015-06-19T12-01-03.45Z", "2023-13-40T25:00:00Z", "yesterday", "", 7]
)
def test_broken_times_are_dropped_not_fatal(broken: object) -> None:
    assert convert.timestamp_from_graph(broken) is None


def test_restore_point_tags_are_comma_separated_flags() -> None:
    point = convert.restore_point_from_graph({"id": "rp", "tags": "fastRestore,none,shiny"})
    assert point is not None
    assert list(point.tags) == [
        pb.RESTORE_POINT_TAG_FAST_RESTORE,
        pb.RESTORE_POINT_TAG_NONE,
        pb.RESTORE_POINT_TAG_UNKNOWN_FUTURE_VALUE,
    ]


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("TooManyActiveRestoreSessions", "TOO_MANY_ACTIVE_RESTORE_SESSIONS"),
        ("RestoreSessionNotFound", "RESTORE_SESSION_NOT_FOUND"),
        ("Authorization_RequestDenied", "AUTHORIZATION_REQUEST_DENIED"),
        ("serviceNotAvailable", "SERVICE_NOT_AVAILABLE"),
        ("invalid_client", "INVALID_CLIENT"),
    ],
)
def test_graph_codes_become_aip193_reasons(code: str, reason: str) -> None:
    assert reason_from_code(code) == reason


@pytest.mark.parametrize("enum_name", sorted(pb.DESCRIPTOR.enum_types_by_name))
def test_every_enum_takes_a_member_graph_adds_later(enum_name: str) -> None:
    from google.protobuf.internal.enum_type_wrapper import EnumTypeWrapper

    enum = EnumTypeWrapper(pb.DESCRIPTOR.enum_types_by_name[enum_name])
    number = convert.enum_from_graph(enum, "addedByGraphNextYear")
    assert enum.Name(number).endswith("_UNKNOWN_FUTURE_VALUE")


def test_a_bulk_request_with_a_new_preference_still_converts() -> None:
    bulk = bulk_convert.bulk_request_from_graph(
        pb.DriveRestoreArtifactsBulkAdditionRequest,
        {"id": "b-1", "restorePointPreference": "closestToNoon", "status": "active"},
        "s-1",
    )
    assert bulk.restore_point_preference == pb.RESTORE_POINT_PREFERENCE_UNKNOWN_FUTURE_VALUE


@pytest.mark.parametrize(
    ("seconds", "nanos", "graph"),
    [
        (1_793_491_200, 0, "2026-11-01T00:00:00Z"),
        (1_793_491_200, 500_000_000, "2026-11-01T00:00:00.5Z"),
        (1_793_491_200, 372_524_700, "2026-11-01T00:00:00.3725247Z"),
    ],
)
def test_times_keep_their_fraction_of_a_second(seconds: int, nanos: int, graph: str) -> None:
    from google.protobuf.timestamp_pb2 import Timestamp

    assert convert.time_to_graph(Timestamp(seconds=seconds, nanos=nanos)) == graph


def test_every_property_of_a_documented_mailbox_unit_is_read() -> None:
    examples = Path(__file__).parent.parent / "contract" / "graph-examples"
    listed = json.loads(
        (examples / "exchange-list-mailbox-protection-units.response-200.json").read_text()
    )
    point = convert.restore_point_from_graph({"id": "p-1", "protectionUnit": listed["value"][0]})
    assert point is not None
    unit = point.protection_unit
    assert (unit.id, unit.policy_id, unit.status) == (
        "2b014d8c-71fe-4d00-a01a-31850bc5b32c",
        "9fec8e78-bce4-4aaf-ab1b-5451cc387264",
        "unprotectRequested",
    )
    assert (unit.display_name, unit.email) == ("Emily Braun", "emilyb@contoso.com")
    assert unit.directory_object_id == "384974e2-72cd-48de-a6e8-6985d7c5db90"
    assert list(unit.protection_sources) == [pb.PROTECTION_SOURCE_NONE]
    assert not unit.HasField("offboard_requested_date_time")  # 0001-01-01: unset
    assert unit.created_by.application.display_name == "Microsoft Enhanced Restore"
    assert unit.last_modified_by.user.display_name == "User1"
    assert unit.created_date_time.ToJsonString() == "2015-06-19T12:01:03.450Z"


def test_a_site_units_flags_and_broken_times_are_read_as_far_as_they_go() -> None:
    unit = convert.restore_point_from_graph(
        {
            "id": "p-2",
            "protectionUnit": {
                "@odata.type": "#microsoft.graph.siteProtectionUnit",
                "siteId": "contoso.sharepoint.com,da60e844,712a596e",
                "siteName": "Enhanced Restore IDC",
                "siteWebUrl": "https://contoso.sharepoint.com/teams/ERIDC",
                "protectionSources": "manual,dynamicRule",
                "createdDateTime": "2015-06-19T12-01-03.45Z",
            },
        }
    ).protection_unit  # type: ignore[union-attr]
    assert unit.site_web_url == "https://contoso.sharepoint.com/teams/ERIDC"
    assert list(unit.protection_sources) == [
        pb.PROTECTION_SOURCE_MANUAL,
        pb.PROTECTION_SOURCE_DYNAMIC_RULE,
    ]
    assert not unit.HasField("created_date_time")  # the documented broken form


EXAMPLES = Path(__file__).parent.parent / "contract" / "graph-examples"


@pytest.mark.parametrize(
    ("name", "artifact_type"),
    [
        ("update.response-200.json", pb.DriveRestoreArtifact),
        ("sharepoint-update.response-200.json", pb.SiteRestoreArtifact),
        ("exchange-update.response-200.json", pb.MailboxRestoreArtifact),
    ],
)
def test_a_patch_echo_keeps_when_each_artifact_was_added(name: str, artifact_type: type) -> None:
    answer = json.loads((EXAMPLES / name).read_text())
    [delta] = [items for key, items in answer.items() if key.endswith("@delta")]
    echoed = [item for item in delta if "createdDateTime" in item]
    assert echoed
    for item in echoed:
        artifact, _ = session_convert.delta_item_from_graph(artifact_type, item)
        assert artifact.created_date_time.ToJsonString() == "2015-06-19T12:01:03.450Z"


@pytest.mark.parametrize(
    ("name", "bulk_type"),
    [
        ("bulk-addition.response-201.json", pb.DriveRestoreArtifactsBulkAdditionRequest),
        ("sharepoint-bulk-addition.response-201.json", pb.SiteRestoreArtifactsBulkAdditionRequest),
        (
            "sharepoint-get-bulk-addition.response-200.json",
            pb.SiteRestoreArtifactsBulkAdditionRequest,
        ),
        ("exchange-bulk-addition.response-201.json", pb.MailboxRestoreArtifactsBulkAdditionRequest),
        (
            "exchange-get-bulk-addition.response-200.json",
            pb.MailboxRestoreArtifactsBulkAdditionRequest,
        ),
        (
            "exchange-list-bulk-additions.response-200.json",
            pb.MailboxRestoreArtifactsBulkAdditionRequest,
        ),
    ],
)
def test_a_bulk_answer_keeps_who_made_and_changed_it(name: str, bulk_type: type) -> None:
    body = json.loads((EXAMPLES / name).read_text())
    documented = convert.single_from_graph(body)
    if "value" in documented:
        [documented] = documented["value"]
    bulk = bulk_convert.bulk_request_from_graph(bulk_type, documented, "s-1")
    for role, field in (("createdBy", bulk.created_by), ("lastModifiedBy", bulk.last_modified_by)):
        user = documented[role]["user"]
        assert field.user.id == user.get("id") or user["identity"]
