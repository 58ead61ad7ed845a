"""Every rule of restore/validation.py at its boundaries: what a caller may send reaches
Graph, what Graph would refuse (or what could climb out of a URL path) never does."""

from __future__ import annotations

from typing import Any

import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from graphrestore.v1 import browse_session_pb2 as browse_pb
from graphrestore.v1 import exchange_restore_service_pb2 as exchange_pb
from graphrestore.v1 import onedrive_restore_service_pb2 as service_pb
from graphrestore.v1 import restore_session_pb2 as pb
from graphrestore.v1 import sharepoint_restore_service_pb2 as sharepoint_pb
from graphrestore_gateway.restore import validation
from graphrestore_gateway.restore.workloads import EXCHANGE, ONEDRIVE, SHAREPOINT, WORKLOADS


def fields(violations: list[Any]) -> list[str]:
    return [violation.field for violation in violations]


# Fixed, so that every pytest-xdist worker collects the same test ids.
SAMPLE_ID = "6f1d2c3b-8a4e-4b7f-9c0d-1e2f3a4b5c6d"

# Graph's own example id is not a GUID; "=" ends base64 ids.
GOOD_IDS = [
    "1f1fccc3-a642-4f61-bf49-f37b9a888279",
    "cdf4a823-sfde-ki2s-kmsj-clu2nsdk43ga",
    "a",
    "A.b_c-d=",
    ".hidden",
    "x" * 256,
]
BAD_IDS = [
    ".",
    "..",
    "...",
    "a/b",
    "../x",
    "a b",
    "x" * 257,
    "a\n",
    "a%2F",
    "a?b",
    "a#b",
    "é",
    "a,b",
    "\u0661",  # an Arabic-Indic digit: a digit to Unicode, not to Graph's alphabet
]


@pytest.mark.parametrize("value", GOOD_IDS)
def test_an_id_of_graphs_alphabet_is_taken(value: str) -> None:
    assert validation.id_violations(value, "id") == []


@pytest.mark.parametrize("value", BAD_IDS)
def test_an_id_that_could_leave_its_path_segment_is_refused(value: str) -> None:
    [violation] = validation.id_violations(value, "restore_session_id")
    assert violation.field == "restore_session_id"
    assert violation.description == validation.GRAPH_ID_RULE


def test_a_missing_id_is_required_not_malformed() -> None:
    [violation] = validation.id_violations("", "browse_session_id")
    assert violation.description == "is required"


@pytest.mark.parametrize(
    "request_id",
    ["", SAMPLE_ID, SAMPLE_ID.upper(), "00000000-0000-0000-0000-000000000000"],
)
def test_request_id_is_optional_and_a_hyphenated_uuid(request_id: str) -> None:
    assert validation.request_id_violations(request_id) == []


@pytest.mark.parametrize(
    "request_id",
    [
        SAMPLE_ID.replace("-", ""),  # no hyphens
        "{" + SAMPLE_ID + "}",
        "urn:uuid:" + SAMPLE_ID,
        SAMPLE_ID + " ",
        SAMPLE_ID[:-1],
        SAMPLE_ID + "0",
        "g" * 8 + SAMPLE_ID[8:],
        "\uff10" * 8 + SAMPLE_ID[8:],  # full-width digits
        "retry-1",
    ],
)
def test_any_other_request_id_is_refused(request_id: str) -> None:
    assert fields(validation.request_id_violations(request_id)) == ["request_id"]


def drive_artifact(rp: str, destination: int = pb.DESTINATION_TYPE_NEW) -> pb.DriveRestoreArtifact:
    return pb.DriveRestoreArtifact(
        restore_point=pb.RestorePoint(id=rp), destination_type=destination
    )


def test_artifacts_are_one_to_ten_thousand() -> None:
    field = "restore_session.drive_restore_artifacts"
    assert fields(validation.new_artifact_violations([], field)) == [field]
    at_limit = [drive_artifact(f"rp-{i}") for i in range(validation.MAX_ARTIFACTS_PER_SESSION)]
    assert validation.new_artifact_violations(at_limit, field) == []
    [over] = validation.new_artifact_violations([*at_limit, drive_artifact("rp-x")], field)
    assert over.field == field and "got 10001" in over.description


@pytest.mark.parametrize(
    ("artifacts", "expected"),
    [
        ([drive_artifact("")], ["a[0].restore_point.id"]),
        ([drive_artifact("a/b")], ["a[0].restore_point.id"]),
        ([drive_artifact("rp"), drive_artifact("rp")], ["a[1].restore_point.id"]),
        ([drive_artifact("rp", pb.DESTINATION_TYPE_UNSPECIFIED)], ["a[0].destination_type"]),
        ([drive_artifact("rp", 99)], ["a[0].destination_type"]),
        (
            [drive_artifact("rp-1"), drive_artifact("rp-2", pb.DESTINATION_TYPE_IN_PLACE)],
            ["a[1].destination_type"],
        ),
        ([drive_artifact("rp-1", pb.DESTINATION_TYPE_IN_PLACE)], []),
    ],
    ids=["empty id", "slash", "duplicate", "no destination", "unknown", "mixed", "in place"],
)
def test_each_artifact_is_named_once_with_the_sessions_one_destination(
    artifacts: list[pb.DriveRestoreArtifact], expected: list[str]
) -> None:
    assert fields(validation.new_artifact_violations(artifacts, "a")) == expected


def test_a_duplicate_names_the_artifact_it_repeats() -> None:
    artifacts = [drive_artifact("rp-0"), drive_artifact("rp-1"), drive_artifact("rp-0")]
    [duplicate] = validation.new_artifact_violations(artifacts, "a")
    assert duplicate.description == "duplicates a[0]"


def test_a_granular_mailbox_artifact_needs_the_search_that_found_it() -> None:
    artifact = pb.GranularMailboxRestoreArtifact(
        restore_point=pb.RestorePoint(id="rp"), destination_type=pb.DESTINATION_TYPE_NEW
    )
    assert fields(validation.new_artifact_violations([artifact], "g")) == [
        "g[0].search_response_id"
    ]
    artifact.search_response_id = "c2VhcmNo+/=="
    assert validation.new_artifact_violations([artifact], "g") == []


def create(**session: Any) -> service_pb.CreateRestoreSessionRequest:
    return service_pb.CreateRestoreSessionRequest(restore_session=pb.RestoreSession(**session))


@pytest.mark.parametrize("workload", WORKLOADS.values(), ids=WORKLOADS.keys())
def test_a_create_without_a_session_is_refused(workload: Any) -> None:
    request = service_pb.CreateRestoreSessionRequest(request_id="not-a-uuid")
    assert fields(validation.create_violations(request, workload)) == [
        "request_id",
        "restore_session",
    ]


@pytest.mark.parametrize(
    ("workload", "other_field", "artifact"),
    [
        (ONEDRIVE, "site_restore_artifacts", pb.SiteRestoreArtifact),
        (ONEDRIVE, "mailbox_restore_artifacts", pb.MailboxRestoreArtifact),
        (SHAREPOINT, "drive_restore_artifacts", pb.DriveRestoreArtifact),
        (SHAREPOINT, "mailbox_restore_artifacts", pb.MailboxRestoreArtifact),
        (EXCHANGE, "drive_restore_artifacts", pb.DriveRestoreArtifact),
        (EXCHANGE, "site_restore_artifacts", pb.SiteRestoreArtifact),
    ],
)
def test_a_create_carrying_another_workloads_artifacts_is_refused(
    workload: Any, other_field: str, artifact: type[Any]
) -> None:
    """A caller allowed one workload cannot smuggle another's artifacts into its session."""
    own = {
        workload.artifact_field: [
            workload.artifact_type(
                restore_point=pb.RestorePoint(id="rp"), destination_type=pb.DESTINATION_TYPE_NEW
            )
        ]
    }
    smuggled = [artifact(restore_point=pb.RestorePoint(id="rp-2"), destination_type=1)]
    request = create(**own, **{other_field: smuggled})
    assert f"restore_session.{other_field}" in fields(
        validation.create_violations(request, workload)
    )


@pytest.mark.parametrize("workload", WORKLOADS.values(), ids=WORKLOADS.keys())
def test_a_create_of_the_workloads_own_artifacts_passes(workload: Any) -> None:
    artifact = workload.artifact_type(
        restore_point=pb.RestorePoint(id="rp"), destination_type=pb.DESTINATION_TYPE_NEW
    )
    assert (
        validation.create_violations(create(**{workload.artifact_field: [artifact]}), workload)
        == []
    )


def test_an_exchange_session_holds_whole_or_granular_mailboxes_not_both() -> None:
    whole = pb.MailboxRestoreArtifact(restore_point=pb.RestorePoint(id="rp"), destination_type=1)
    granular = pb.GranularMailboxRestoreArtifact(
        restore_point=pb.RestorePoint(id="rp-2"), destination_type=1, search_response_id="s"
    )
    request = create(
        mailbox_restore_artifacts=[whole], granular_mailbox_restore_artifacts=[granular]
    )
    assert "restore_session.granular_mailbox_restore_artifacts" in fields(
        validation.create_violations(request, EXCHANGE)
    )


def browsed(item_id: str, session: str = "bs-1") -> Any:
    return pb.GranularDriveRestoreArtifact(browse_session_id=session, id=item_id)


@pytest.mark.parametrize("count", [0, validation.MAX_BROWSED_ITEMS + 1])
def test_browsed_items_are_one_to_fifty(count: int) -> None:
    items = [browsed(f"key-{i}") for i in range(count)]
    assert fields(validation.browsed_item_violations(items, "b")) == ["b"]


def test_fifty_browsed_items_pass() -> None:
    items = [browsed(f"key-{i}") for i in range(validation.MAX_BROWSED_ITEMS)]
    assert validation.browsed_item_violations(items, "b") == []


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        ([browsed("k", session="")], ["b[0].browse_session_id"]),
        ([browsed("k", session="../x")], ["b[0].browse_session_id"]),
        ([browsed("")], ["b[0].id"]),
        ([browsed("k k")], ["b[0].id"]),
        ([browsed("k"), browsed("k")], ["b[1].id"]),
        ([browsed("site,web,list/item")], []),
    ],
    ids=["no session", "climbing session", "no key", "space", "duplicate", "commas"],
)
def test_each_browsed_item_names_a_session_and_a_distinct_key(
    items: list[Any], expected: list[str]
) -> None:
    assert fields(validation.browsed_item_violations(items, "b")) == expected


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([], ["k"]),
        (["x"] * 51, ["k"]),
        (["ok", "", "a b", "é"], ["k[1]", "k[2]", "k[3]"]),
        (["x" * 1024], []),
        (["x" * 1025], ["k[0]"]),
    ],
    ids=["none", "51", "bad keys", "1024 chars", "1025 chars"],
)
def test_item_keys_to_remove(values: list[str], expected: list[str]) -> None:
    assert fields(validation.item_key_violations(values, "k")) == expected


def browse(**fields_: Any) -> service_pb.BrowseRequest:
    return service_pb.BrowseRequest(browse_session_id="bs-1", **fields_)


FOLDER = browse_pb.BROWSABLE_RESOURCE_TYPE_FOLDER


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        (browse(), []),
        (browse(browse_location_item_key="k", browse_resource_type=FOLDER), []),
        (browse(browse_location_item_key="k"), ["browse_resource_type"]),
        (browse(browse_resource_type=FOLDER), ["browse_resource_type"]),
        (
            browse(browse_location_item_key="k", browse_resource_type=99),
            ["browse_resource_type"],
        ),
        (
            browse(browse_location_item_key="a b", browse_resource_type=FOLDER),
            ["browse_location_item_key"],
        ),
        (browse(name_contains="report"), []),
        (browse(name_contains="o'brien"), ["name_contains"]),
        (browse(name_contains="a\x00b"), ["name_contains"]),
        (browse(name_contains="a\x7f"), ["name_contains"]),
        (browse(name_contains="x" * 256), []),
        (browse(name_contains="x" * 257), ["name_contains"]),
        (browse(order_by=99), ["order_by"]),
        (service_pb.BrowseRequest(), ["browse_session_id"]),
    ],
    ids=[
        "top",
        "folder",
        "key without type",
        "type without key",
        "unknown type",
        "bad key",
        "name filter",
        "quote",
        "nul",
        "del",
        "256 chars",
        "257 chars",
        "unknown order",
        "no session",
    ],
)
def test_browse_requests(request_: service_pb.BrowseRequest, expected: list[str]) -> None:
    assert fields(validation.browse_violations(request_)) == expected


@pytest.mark.parametrize(
    "kind",
    [t for t in browse_pb.BrowsableResourceType.values() if t not in validation.BROWSE_LOCATIONS],
)
def test_only_sites_libraries_and_folders_are_browse_locations(kind: int) -> None:
    request_ = browse(browse_location_item_key="k", browse_resource_type=kind)
    assert fields(validation.browse_violations(request_)) == ["browse_resource_type"]


def test_a_browse_session_is_created_of_a_valid_restore_point() -> None:
    request_ = service_pb.CreateBrowseSessionRequest(restore_point_id="a/b", request_id="x")
    assert fields(validation.browse_session_create_violations(request_)) == [
        "request_id",
        "restore_point_id",
    ]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([], ["u"]),
        (["ok", "a/b", ""], ["u[1]", "u[2]"]),
        (["u"] * validation.MAX_ARTIFACTS_PER_SESSION, []),
        (["u"] * (validation.MAX_ARTIFACTS_PER_SESSION + 1), ["u"]),
    ],
    ids=["none", "bad ids", "at limit", "over limit"],
)
def test_id_lists(values: list[str], expected: list[str]) -> None:
    assert fields(validation.id_list_violations(values, "u")) == expected


@pytest.mark.parametrize(
    ("page_size", "ok"), [(-1, False), (0, True), (1, True), (1000, True), (1001, False)]
)
def test_page_size_is_zero_to_a_thousand(page_size: int, ok: bool) -> None:
    assert (validation.page_size_violations(page_size) == []) is ok


def stamp(seconds: int) -> Timestamp:
    return Timestamp(seconds=seconds)


def search(**fields_: Any) -> service_pb.SearchRestorePointsRequest:
    defaults: dict[str, Any] = {
        "protection_unit_ids": ["unit-1"],
        "protection_time_period": pb.TimePeriod(
            start_date_time=stamp(1_700_000_000), end_date_time=stamp(1_700_000_001)
        ),
    }
    return service_pb.SearchRestorePointsRequest(**{**defaults, **fields_})


def query(expression: str = "subject:x", kind: int = pb.RESTORABLE_ARTIFACT_MESSAGE) -> Any:
    return pb.ArtifactQuery(query_expression=expression, artifact_type=kind)


@pytest.mark.parametrize(
    ("request_", "workload", "expected"),
    [
        (search(), ONEDRIVE, []),
        (search(protection_time_period=pb.TimePeriod()), ONEDRIVE, ["protection_time_period"]),
        (
            search(protection_time_period=pb.TimePeriod(start_date_time=stamp(1))),
            ONEDRIVE,
            ["protection_time_period"],
        ),
        (
            search(
                protection_time_period=pb.TimePeriod(
                    start_date_time=stamp(2), end_date_time=stamp(1)
                )
            ),
            ONEDRIVE,
            ["protection_time_period"],
        ),
        (
            search(
                protection_time_period=pb.TimePeriod(
                    start_date_time=stamp(1), end_date_time=stamp(1)
                )
            ),
            ONEDRIVE,
            [],
        ),
        (search(restore_point_preference=99), ONEDRIVE, ["restore_point_preference"]),
        (search(tags=[pb.RESTORE_POINT_TAG_FAST_RESTORE]), ONEDRIVE, []),
        (search(tags=[pb.RESTORE_POINT_TAG_UNSPECIFIED]), ONEDRIVE, ["tags[0]"]),
        (search(tags=[1, 1, 1]), ONEDRIVE, ["tags"]),
        (search(artifact_query=query()), ONEDRIVE, ["artifact_query"]),
        (search(artifact_query=query()), SHAREPOINT, ["artifact_query"]),
        (search(artifact_query=query()), EXCHANGE, []),
        (
            search(artifact_query=query(), protection_unit_ids=["u-1", "u-2"]),
            EXCHANGE,
            ["protection_unit_ids"],
        ),
        (search(artifact_query=query(kind=0)), EXCHANGE, ["artifact_query.artifact_type"]),
        (search(artifact_query=query("  ")), EXCHANGE, ["artifact_query.query_expression"]),
        (search(artifact_query=query("x" * 4096)), EXCHANGE, []),
        (
            search(artifact_query=query("x" * 4097)),
            EXCHANGE,
            ["artifact_query.query_expression"],
        ),
    ],
    ids=[
        "valid",
        "no period",
        "no end",
        "start after end",
        "one instant",
        "unknown preference",
        "fast restore",
        "unspecified tag",
        "more tags than exist",
        "query for drives",
        "query for sites",
        "query for mailboxes",
        "query over two units",
        "query not for messages",
        "blank query",
        "4096 chars",
        "4097 chars",
    ],
)
def test_search_requests(
    request_: service_pb.SearchRestorePointsRequest, workload: Any, expected: list[str]
) -> None:
    assert fields(validation.search_violations(request_, workload)) == expected


PERIOD = pb.TimePeriod(start_date_time=stamp(1), end_date_time=stamp(2))


BULK_REQUESTS = {
    "onedrive": service_pb.CreateDriveRestoreArtifactsBulkAdditionRequestRequest,
    "sharepoint": sharepoint_pb.CreateSiteRestoreArtifactsBulkAdditionRequestRequest,
    "exchange": exchange_pb.CreateMailboxRestoreArtifactsBulkAdditionRequestRequest,
}


def bulk_request(workload: Any, **bulk: Any) -> Any:
    """A workload's create-bulk request, valid but for its names unless `bulk` says otherwise."""
    defaults: dict[str, Any] = {
        "protection_time_period": PERIOD,
        "destination_type": pb.DESTINATION_TYPE_NEW,
    }
    return BULK_REQUESTS[workload.name](
        bulk_addition_request=workload.bulk_type(**{**defaults, **bulk})
    )


BULK_FIELD = "bulk_addition_request"
VALID_NAMES = {
    "drives": "ada@contoso.com",
    "mailboxes": "ada@contoso.com",
    "site_web_urls": "https://contoso.sharepoint.com/sites/hr",
    "site_ids": "contoso.sharepoint.com,1b2c,3d4e",
    "directory_object_ids": "9e3a1b7c-0000-4000-8000-000000000001",
}
INVALID_NAMES = {
    "drives": ["ada", "ada@", "@contoso.com", "a b@contoso.com", "ada@contoso.com/x"],
    "mailboxes": ["ada", "ada@contoso com"],
    "site_web_urls": ["http://contoso.sharepoint.com", "https://a b", "contoso.sharepoint.com"],
    "site_ids": ["", "a b", "é"],
    "directory_object_ids": ["a/b", "..", "a b"],
}


@pytest.mark.parametrize(
    ("workload", "name"),
    [(w, n.field) for w in WORKLOADS.values() for n in (*w.bulk_names, *w.bulk_object_ids)],
)
def test_a_bulk_of_one_well_formed_name_passes(workload: Any, name: str) -> None:
    request_ = bulk_request(workload, **{name: [VALID_NAMES[name]]})
    assert validation.bulk_violations(request_, workload) == []


@pytest.mark.parametrize(
    ("workload", "name", "value"),
    [
        (w, n.field, v)
        for w in WORKLOADS.values()
        for n in (*w.bulk_names, *w.bulk_object_ids)
        for v in INVALID_NAMES[n.field]
    ],
)
def test_a_malformed_bulk_name_is_refused(workload: Any, name: str, value: str) -> None:
    request_ = bulk_request(workload, **{name: [VALID_NAMES[name], value]})
    assert fields(validation.bulk_violations(request_, workload)) == [f"{BULK_FIELD}.{name}[1]"]


@pytest.mark.parametrize("workload", WORKLOADS.values(), ids=WORKLOADS.keys())
def test_a_bulk_names_one_to_ten_thousand_in_all(workload: Any) -> None:
    first = workload.bulk_names[0].field
    assert fields(validation.bulk_violations(bulk_request(workload), workload)) == [
        f"{BULK_FIELD}.{first}"
    ]
    # The limit counts every way of naming together.
    half = validation.MAX_ARTIFACTS_PER_SESSION // 2
    names = [n.field for n in (*workload.bulk_names, *workload.bulk_object_ids)]
    at_limit = {names[0]: [VALID_NAMES[names[0]]] * half, names[1]: [VALID_NAMES[names[1]]] * half}
    assert validation.bulk_violations(bulk_request(workload, **at_limit), workload) == []
    at_limit[names[1]].append(VALID_NAMES[names[1]])
    assert fields(validation.bulk_violations(bulk_request(workload, **at_limit), workload)) == [
        f"{BULK_FIELD}.{first}"
    ]


@pytest.mark.parametrize("workload", [SHAREPOINT, EXCHANGE], ids=["sharepoint", "exchange"])
def test_protection_unit_ids_are_taken_only_where_graph_implements_them(workload: Any) -> None:
    request_ = bulk_request(workload, protection_unit_ids=["unit-1"])
    assert f"{BULK_FIELD}.protection_unit_ids" in fields(
        validation.bulk_violations(request_, workload)
    )
    assert (
        validation.bulk_violations(bulk_request(ONEDRIVE, protection_unit_ids=["u"]), ONEDRIVE)
        == []
    )


@pytest.mark.parametrize(
    ("bulk", "expected"),
    [
        ({"destination_type": pb.DESTINATION_TYPE_UNSPECIFIED}, [f"{BULK_FIELD}.destination_type"]),
        ({"destination_type": 7}, [f"{BULK_FIELD}.destination_type"]),
        ({"protection_time_period": pb.TimePeriod()}, [f"{BULK_FIELD}.protection_time_period"]),
        ({"restore_point_preference": 42}, [f"{BULK_FIELD}.restore_point_preference"]),
        ({"tags": [pb.RESTORE_POINT_TAG_NONE, 5]}, [f"{BULK_FIELD}.tags[1]"]),
    ],
    ids=["no destination", "unknown destination", "no period", "preference", "tag"],
)
def test_a_bulks_destination_period_and_choice(bulk: dict[str, Any], expected: list[str]) -> None:
    request_ = bulk_request(ONEDRIVE, drives=["ada@contoso.com"], **bulk)
    assert fields(validation.bulk_violations(request_, ONEDRIVE)) == expected


def test_a_bulk_into_a_session_names_it_by_a_valid_id() -> None:
    request_ = bulk_request(ONEDRIVE, drives=["ada@contoso.com"])
    request_.restore_session_id = "../sessions"
    request_.request_id = "again"
    assert fields(validation.bulk_violations(request_, ONEDRIVE)) == [
        "request_id",
        "restore_session_id",
    ]


def test_names_are_not_read_in_a_bulk_over_the_limit() -> None:
    """Ten thousand and one bad names give one violation, not ten thousand and one."""
    request_ = bulk_request(ONEDRIVE, drives=["bad"] * (validation.MAX_ARTIFACTS_PER_SESSION + 1))
    assert fields(validation.bulk_violations(request_, ONEDRIVE)) == [f"{BULK_FIELD}.drives"]
