"""Checks of caller requests before anything reaches Graph (Graph's own rules, applied early)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, TypeAlias

from google.rpc.error_details_pb2 import BadRequest
from graphrestore.v1 import browse_session_pb2 as browse_pb
from graphrestore.v1 import onedrive_restore_service_pb2 as service_pb
from graphrestore.v1 import restore_session_pb2 as pb

from graphrestore_gateway.restore.workloads import (
    PROTECTION_UNIT_IDS,
    WORKLOADS,
    NameForm,
    Workload,
)

# Graph takes 50 artifacts per call; the gateway fills larger sessions in chunks, up to
# what one bulk request may hold.
MAX_ARTIFACTS_PER_SESSION = 10_000
MAX_PAGE_SIZE = 1000
# Graph's ids (restore points, sessions, units) are not always GUIDs: allow Graph's id
# alphabet, bounded, matched whole; never a slash or space, and never only dots (a
# path segment "." or ".." would climb out of the path it is put in).
GRAPH_ID = re.compile(r"(?!\.+$)[A-Za-z0-9._=-]{1,256}", re.ASCII)
GRAPH_ID_RULE = "must be 1-256 letters, digits, '-', '_', '.' or '=', not only dots"
EMAIL = re.compile(r"[^@\s]{1,64}@[A-Za-z0-9.-]{1,253}", re.ASCII)
SITE_URL = re.compile(r"https://[^\s]{1,2040}", re.ASCII)
# Ids that go into a JSON body, never a path (site ids hold commas, search ids base64).
BODY_ID = re.compile(r"[!-~]{1,1024}", re.ASCII)
MAX_QUERY_CHARS = 4096
# Graph takes this many artifacts per create; no granular PATCH fills a session here.
MAX_BROWSED_ITEMS = 50
# A name filter goes into Graph's (name -contains '...'): bounded, and no quote (which
# would end the literal) or control character.
NAME_FILTER = re.compile(r"[^'\x00-\x1f\x7f]{1,256}")
BROWSE_LOCATIONS = frozenset(
    {
        browse_pb.BROWSABLE_RESOURCE_TYPE_SITE,
        browse_pb.BROWSABLE_RESOURCE_TYPE_DOCUMENT_LIBRARY,
        browse_pb.BROWSABLE_RESOURCE_TYPE_FOLDER,
    }
)
# AIP-155: the hyphenated 8-4-4-4-12 form only, ASCII hex in either case.
REQUEST_ID = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", re.ASCII
)
RESTORABLE_DESTINATIONS = frozenset({pb.DESTINATION_TYPE_NEW, pb.DESTINATION_TYPE_IN_PLACE})
CHOOSABLE_TAGS = frozenset({pb.RESTORE_POINT_TAG_NONE, pb.RESTORE_POINT_TAG_FAST_RESTORE})
CHOOSABLE_PREFERENCES = frozenset(
    {
        pb.RESTORE_POINT_PREFERENCE_UNSPECIFIED,
        pb.RESTORE_POINT_PREFERENCE_LATEST,
        pb.RESTORE_POINT_PREFERENCE_OLDEST,
    }
)

Violation: TypeAlias = BadRequest.FieldViolation


def request_id_violations(request_id: str) -> list[Violation]:
    """AIP-155: request_id is optional, and a hyphenated UUID when given."""
    if not request_id or REQUEST_ID.fullmatch(request_id):
        return []
    return [
        Violation(
            field="request_id",
            description="must be a UUID in its 8-4-4-4-12 hyphenated form (AIP-155)",
        )
    ]


def new_artifact_violations(artifacts: Sequence[Any], field: str) -> list[Violation]:
    """Artifacts to add: 1..10,000, valid distinct restore point ids, one destination
    (granular mailbox artifacts: and the search that found their messages)."""
    if not artifacts:
        return [Violation(field=field, description="at least one artifact is required")]
    if len(artifacts) > MAX_ARTIFACTS_PER_SESSION:
        return [
            Violation(
                field=field,
                description=f"at most {MAX_ARTIFACTS_PER_SESSION} artifacts per request "
                f"(got {len(artifacts)})",
            )
        ]
    violations = []
    first_index_of: dict[str, int] = {}
    for index, artifact in enumerate(artifacts):
        restore_point_id = artifact.restore_point.id
        id_field = f"{field}[{index}].restore_point.id"
        if not restore_point_id:
            violations.append(Violation(field=id_field, description="is required"))
        elif not GRAPH_ID.fullmatch(restore_point_id):
            violations.append(Violation(field=id_field, description=GRAPH_ID_RULE))
        elif restore_point_id in first_index_of:
            violations.append(
                Violation(
                    field=id_field,
                    description=f"duplicates {field}[{first_index_of[restore_point_id]}]",
                )
            )
        else:
            first_index_of[restore_point_id] = index
        if isinstance(artifact, pb.GranularMailboxRestoreArtifact) and not BODY_ID.fullmatch(
            artifact.search_response_id
        ):
            violations.append(
                Violation(
                    field=f"{field}[{index}].search_response_id",
                    description="is required: the search_response_id of a SearchRestorePoints "
                    "answer with an artifact query",
                )
            )
        destination_field = f"{field}[{index}].destination_type"
        if artifact.destination_type not in RESTORABLE_DESTINATIONS:
            violations.append(
                Violation(
                    field=destination_field,
                    description="must be DESTINATION_TYPE_NEW or DESTINATION_TYPE_IN_PLACE",
                )
            )
        elif artifact.destination_type != artifacts[0].destination_type:
            violations.append(
                Violation(
                    field=destination_field,
                    description=f"differs from {field}[0]; one session has one destination type",
                )
            )
    return violations


def create_violations(
    request: service_pb.CreateRestoreSessionRequest, workload: Workload
) -> list[Violation]:
    """The session's artifacts of this workload (or, for Exchange, granular mailbox
    artifacts instead), and none of another workload's."""
    violations = request_id_violations(request.request_id)
    if not request.HasField("restore_session"):
        violations.append(Violation(field="restore_session", description="is required"))
        return violations
    session = request.restore_session
    ours = (workload.artifact_field, workload.granular_field, workload.browsed_field)
    for other in WORKLOADS.values():
        for name in (other.artifact_field, other.granular_field, other.browsed_field):
            if name and name not in ours and getattr(session, name):
                violations.append(
                    Violation(
                        field=f"restore_session.{name}",
                        description=f"is not restored by {workload.service.name}",
                    )
                )
    field = workload.created_field(session)
    if field != workload.artifact_field and getattr(session, workload.artifact_field):
        violations.append(
            Violation(
                field=f"restore_session.{field}",
                description=f"a session holds {workload.artifact_field} or {field}, not both",
            )
        )
    if field == workload.browsed_field:
        violations += browsed_item_violations(getattr(session, field), f"restore_session.{field}")
    else:
        violations += new_artifact_violations(getattr(session, field), f"restore_session.{field}")
    return violations


def browsed_item_violations(items: Sequence[Any], field: str) -> list[Violation]:
    """Files and folders to restore: 1..50, each a browse session id and a distinct item
    key (no destination: Graph restores them to a new folder)."""
    if not 0 < len(items) <= MAX_BROWSED_ITEMS:
        return [Violation(field=field, description=f"name 1-{MAX_BROWSED_ITEMS} items")]
    violations = []
    first_index_of: dict[str, int] = {}
    for index, item in enumerate(items):
        violations += id_violations(item.browse_session_id, f"{field}[{index}].browse_session_id")
        key_field = f"{field}[{index}].id"
        if not BODY_ID.fullmatch(item.id):
            violations.append(Violation(field=key_field, description="must be an item key"))
        elif item.id in first_index_of:
            violations.append(
                Violation(
                    field=key_field, description=f"duplicates {field}[{first_index_of[item.id]}]"
                )
            )
        else:
            first_index_of[item.id] = index
    return violations


def item_key_violations(values: Sequence[str], field: str) -> list[Violation]:
    """Item keys to remove, 1..50 (they go into a JSON body, never a path)."""
    if not 0 < len(values) <= MAX_BROWSED_ITEMS:
        return [Violation(field=field, description=f"name 1-{MAX_BROWSED_ITEMS} items")]
    return [
        Violation(field=f"{field}[{index}]", description="must be an item key")
        for index, value in enumerate(values)
        if not BODY_ID.fullmatch(value)
    ]


def browse_session_create_violations(
    request: service_pb.CreateBrowseSessionRequest,
) -> list[Violation]:
    return request_id_violations(request.request_id) + id_violations(
        request.restore_point_id, "restore_point_id"
    )


def browse_violations(request: service_pb.BrowseRequest) -> list[Violation]:
    """A browse: its session, a location given with its type (or neither, for the top), a
    name filter Graph's literal can hold, a known order."""
    violations = id_violations(request.browse_session_id, "browse_session_id")
    location, kind = request.browse_location_item_key, request.browse_resource_type
    if location and not BODY_ID.fullmatch(location):
        violations.append(
            Violation(field="browse_location_item_key", description="must be an item key")
        )
    if bool(location) != (kind != browse_pb.BROWSABLE_RESOURCE_TYPE_UNSPECIFIED):
        violations.append(
            Violation(
                field="browse_resource_type",
                description="is set exactly when browse_location_item_key is",
            )
        )
    elif location and kind not in BROWSE_LOCATIONS:
        violations.append(
            Violation(
                field="browse_resource_type", description="must be SITE, DOCUMENT_LIBRARY or FOLDER"
            )
        )
    if request.name_contains and not NAME_FILTER.fullmatch(request.name_contains):
        violations.append(
            Violation(
                field="name_contains",
                description="must be 1-256 characters, without ' or control characters",
            )
        )
    if request.order_by not in browse_pb.BrowseQueryOrder.values():
        violations.append(Violation(field="order_by", description="unknown order"))
    return violations


def id_violations(value: str, field: str) -> list[Violation]:
    """A Graph id the gateway will put into a URL path."""
    if not value:
        return [Violation(field=field, description="is required")]
    if not GRAPH_ID.fullmatch(value):
        return [Violation(field=field, description=GRAPH_ID_RULE)]
    return []


def id_list_violations(values: Sequence[str], field: str) -> list[Violation]:
    if not values:
        return [Violation(field=field, description="at least one id is required")]
    if len(values) > MAX_ARTIFACTS_PER_SESSION:
        return [Violation(field=field, description=f"at most {MAX_ARTIFACTS_PER_SESSION} ids")]
    return [v for i, value in enumerate(values) for v in id_violations(value, f"{field}[{i}]")]


def page_size_violations(page_size: int) -> list[Violation]:
    if not 0 <= page_size <= MAX_PAGE_SIZE:
        return [Violation(field="page_size", description=f"must be 0-{MAX_PAGE_SIZE}")]
    return []


def search_violations(
    request: service_pb.SearchRestorePointsRequest, workload: Workload
) -> list[Violation]:
    violations = id_list_violations(request.protection_unit_ids, "protection_unit_ids")
    violations += _time_period_violations(request.protection_time_period, "protection_time_period")
    violations += _choice_violations(request.restore_point_preference, request.tags, "")
    if request.HasField("artifact_query"):
        violations += _artifact_query_violations(request, workload)
    return violations


def _artifact_query_violations(
    request: service_pb.SearchRestorePointsRequest, workload: Workload
) -> list[Violation]:
    """Graph searches mailbox messages only, of exactly one protection unit."""
    field = "artifact_query"
    if not workload.granular_field:
        return [
            Violation(
                field=field, description="searches mailbox messages: ExchangeRestoreService only"
            )
        ]
    query = request.artifact_query
    violations = []
    if len(request.protection_unit_ids) != 1:
        violations.append(
            Violation(
                field="protection_unit_ids",
                description="an artifact query searches exactly one protection unit",
            )
        )
    if query.artifact_type != pb.RESTORABLE_ARTIFACT_MESSAGE:
        violations.append(
            Violation(
                field=f"{field}.artifact_type", description="must be RESTORABLE_ARTIFACT_MESSAGE"
            )
        )
    if not query.query_expression.strip() or len(query.query_expression) > MAX_QUERY_CHARS:
        violations.append(
            Violation(
                field=f"{field}.query_expression",
                description=f"is required, at most {MAX_QUERY_CHARS} characters",
            )
        )
    return violations


def _time_period_violations(period: pb.TimePeriod, field: str) -> list[Violation]:
    if not (period.HasField("start_date_time") and period.HasField("end_date_time")):
        return [Violation(field=field, description="needs start and end")]
    if period.start_date_time.ToNanoseconds() > period.end_date_time.ToNanoseconds():
        return [Violation(field=field, description="start is after end")]
    return []


def _choice_violations(preference: int, tags: Sequence[int], parent: str) -> list[Violation]:
    """restore_point_preference and tags, under `parent` (a message field, or "")."""
    prefix = f"{parent}." if parent else ""
    violations = []
    if preference not in CHOOSABLE_PREFERENCES:
        violations.append(
            Violation(field=f"{prefix}restore_point_preference", description="unknown preference")
        )
    if len(tags) > len(CHOOSABLE_TAGS):
        # Read no further: 4 MB of tags is four million of them.
        violations.append(
            Violation(
                field=f"{prefix}tags",
                description=f"at most {len(CHOOSABLE_TAGS)}: NONE and FAST_RESTORE",
            )
        )
        return violations
    for index, tag in enumerate(tags):
        if tag not in CHOOSABLE_TAGS:
            violations.append(
                Violation(
                    field=f"{prefix}tags[{index}]", description="must be NONE or FAST_RESTORE"
                )
            )
    return violations


# How each form of name in a bulk request must look.
_NAME_FORMS: dict[NameForm, tuple[re.Pattern[str], str]] = {
    "email": (EMAIL, "must be an e-mail address"),
    "site_url": (SITE_URL, "must be an https:// URL"),
    "site_id": (BODY_ID, "must be a site id"),
    "graph_id": (GRAPH_ID, GRAPH_ID_RULE),
}


def bulk_violations(request: Any, workload: Workload) -> list[Violation]:
    """Graph's bulk rules, checked early: 1-10,000 named, a time period, one
    restorable destination; protection units only where the gateway can send them as
    something Graph takes (drives: their owners)."""
    violations = request_id_violations(request.request_id)
    if request.restore_session_id:
        violations += id_violations(request.restore_session_id, "restore_session_id")
    bulk = request.bulk_addition_request
    field = "bulk_addition_request"
    names = [*workload.bulk_names, *workload.bulk_object_ids, PROTECTION_UNIT_IDS]
    named = sum(len(getattr(bulk, name.field)) for name in names)
    within_bounds = 0 < named <= MAX_ARTIFACTS_PER_SESSION
    if not within_bounds:
        violations.append(
            Violation(
                field=f"{field}.{names[0].field}",
                description=f"name 1-{MAX_ARTIFACTS_PER_SESSION} in all (got {named})",
            )
        )
    if bulk.protection_unit_ids and not workload.bulk_by_unit:
        violations.append(
            Violation(
                field=f"{field}.protection_unit_ids",
                description="Graph documents protectionUnitIds as not implemented: name them "
                f"by {' or '.join(name.field for name in workload.bulk_names)}",
            )
        )
    # Each name is read only in a request of valid length (like artifacts and ids).
    if within_bounds:
        for name in names:
            pattern, rule = _NAME_FORMS[name.form]
            violations += [
                Violation(field=f"{field}.{name.field}[{i}]", description=rule)
                for i, value in enumerate(getattr(bulk, name.field))
                if not pattern.fullmatch(value)
            ]
    violations += _time_period_violations(
        bulk.protection_time_period, f"{field}.protection_time_period"
    )
    if bulk.destination_type not in RESTORABLE_DESTINATIONS:
        violations.append(
            Violation(
                field=f"{field}.destination_type",
                description="must be DESTINATION_TYPE_NEW or DESTINATION_TYPE_IN_PLACE",
            )
        )
    violations += _choice_violations(bulk.restore_point_preference, bulk.tags, field)
    return violations
