"""The per-method table: for each RPC of each workload's service, whether it mutates,
how it is validated, which session it names and what it restores. Validation, policy
and audit read a request only through this table; adding an RPC is one row here and one
servicer method, for all three workloads."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from google.protobuf import message_factory
from google.protobuf.descriptor import ServiceDescriptor
from google.protobuf.message import Message
from graphrestore.v1 import restore_session_pb2 as pb

from graphrestore_gateway.access.authorize import Asked
from graphrestore_gateway.restore import site_lookup, validation
from graphrestore_gateway.restore.restores import Restores
from graphrestore_gateway.restore.validation import Violation
from graphrestore_gateway.restore.workloads import PROTECTION_UNIT_IDS, WORKLOADS, Workload


@dataclass(frozen=True)
class Method:
    name: str
    # The servicer method that serves it (the same for every workload).
    behavior: str
    workload: Workload
    mutating: bool
    validate: Callable[[Any], list[Violation]]
    # The existing session the request names ("" for none).
    session_id: Callable[[Any], str]
    # What it adds to restore (None: it adds nothing).
    restores: Callable[[Any], Restores | None]
    # Whether it changes a session's contents or state (checked against what it holds).
    changes_session: bool = False
    # Ids of artifacts it names, for the audit record.
    artifact_ids: Callable[[Any], list[str]] = lambda request: []
    # Protection units it searches (held to the caller's units before Graph is asked).
    searched_units: Callable[[Any], list[str]] = lambda request: []
    # What it asks Graph to make, for its request record (Workload.contents_of; "": no
    # new session).
    contents: Callable[[Any], str] = lambda request: ""
    # Browse sessions it names: read (the caller's own, for a caller that sees only its
    # own), or, where it restores, restored from (always the caller's own).
    browse_session_ids: Callable[[Any], list[str]] = lambda request: []
    # Restore points it browses (their units held to the caller's).
    browsed_restore_points: Callable[[Any], list[str]] = lambda request: []
    # Whether it shows the files and folders the session named holds (their names): a
    # caller bound to units sees them only where their units are its own.
    shows_items: bool = False
    # The method the policy reads it as ("": its own name).
    policy_method: str = ""
    # Site URLs it looks up, for the audit record.
    site_web_urls: Callable[[Any], list[str]] = lambda request: []

    def asked(self, request: Any) -> Asked:
        """What the request asks to do, as the policy reads it."""
        return Asked(
            self.workload,
            self.policy_method or self.name,
            self.session_id(request),
            self.changes_session,
            self.searched_units(request),
            self.browse_session_ids(request),
            self.browsed_restore_points(request),
            self.shows_items,
            restoring=self.restores(request) is not None,
        )

    @property
    def service(self) -> ServiceDescriptor:
        return self.workload.service

    @property
    def descriptor(self) -> Any:
        return self.service.methods_by_name[self.name]

    @property
    def request_type(self) -> type[Message]:
        return message_factory.GetMessageClass(self.descriptor.input_type)

    @property
    def response_type(self) -> type[Message]:
        return message_factory.GetMessageClass(self.descriptor.output_type)

    @property
    def streaming(self) -> bool:
        return bool(self.descriptor.server_streaming)


def _no_session(request: Any) -> str:
    return ""


def _named_session(request: Any) -> str:
    return str(request.restore_session_id)


def _nothing(request: Any) -> Restores | None:
    return None


def _artifacts(artifacts: list[Any]) -> Restores:
    return Restores(
        destinations=frozenset(a.destination_type for a in artifacts),
        count=len(artifacts),
        restore_point_ids=tuple(a.restore_point.id for a in artifacts),
        searches=tuple(
            (a.search_response_id, a.restore_point.id)
            for a in artifacts
            if isinstance(a, pb.GranularMailboxRestoreArtifact)
        ),
        named=tuple(
            ("restore_point_id", a.restore_point.id, a.destination_type) for a in artifacts
        ),
    )


def _browsed_items(items: list[Any]) -> Restores:
    """Files and folders picked by browsing: Graph restores them to a new folder."""
    return Restores(
        destinations=frozenset({pb.DESTINATION_TYPE_NEW}),
        count=len(items),
        named=tuple(("item_key", item.id, pb.DESTINATION_TYPE_NEW) for item in items),
    )


def _created(workload: Workload) -> Callable[[Any], Restores]:
    def restores(request: Any) -> Restores:
        session = request.restore_session
        field = workload.created_field(session)
        if field == workload.browsed_field:
            return _browsed_items(list(getattr(session, field)))
        return _artifacts(list(getattr(session, field)))

    return restores


def _created_contents(workload: Workload) -> Callable[[Any], str]:
    def contents(request: Any) -> str:
        session = request.restore_session
        field = workload.created_field(session)
        if field == workload.browsed_field:
            return workload.browsed_contents_of(list(getattr(session, field)))
        return workload.contents_of(
            list(getattr(session, field)), granular=field == workload.granular_field
        )

    return contents


def _browsed_from(workload: Workload) -> Callable[[Any], list[str]]:
    """The browse sessions a create's browsed items name (each once)."""

    def named(request: Any) -> list[str]:
        session = request.restore_session
        if not workload.browsed_field:
            return []
        return _browse_sessions_of(getattr(session, workload.browsed_field))

    return named


def _browse_sessions_of(items: list[Any]) -> list[str]:
    return list(dict.fromkeys(item.browse_session_id for item in items))


def _named_browse_session(request: Any) -> list[str]:
    return [str(request.browse_session_id)]


def _bulk(workload: Workload) -> Callable[[Any], Restores]:
    def restores(request: Any) -> Restores:
        bulk = request.bulk_addition_request
        by_name = [(n.item, v) for n in workload.bulk_names for v in getattr(bulk, n.field)]
        by_id = [
            (n.item, v)
            for n in (*workload.bulk_object_ids, PROTECTION_UNIT_IDS)
            for v in getattr(bulk, n.field)
        ]
        named = [*by_name, *by_id]
        object_ids = tuple(v for n in workload.bulk_object_ids for v in getattr(bulk, n.field))
        return Restores(
            destinations=frozenset({bulk.destination_type}),
            count=len(named),
            unit_ids=tuple(bulk.protection_unit_ids),
            directory_object_ids=object_ids,
            unverifiable_names=len(by_name),
            named=tuple((item, v, bulk.destination_type) for item, v in named),
        )

    return restores


def _session_named(request: Any) -> list[Violation]:
    return validation.id_violations(request.restore_session_id, "restore_session_id")


def _changes_named_session(request: Any) -> list[Violation]:
    return _session_named(request) + validation.request_id_violations(request.request_id)


def _paged_session(request: Any) -> list[Violation]:
    return _session_named(request) + validation.page_size_violations(request.page_size)


SITE_LOOKUP = "FindSiteProtectionUnit"


def methods_of(w: Workload) -> dict[str, Method]:
    """The table of one workload's service."""
    artifacts = w.artifact_field
    artifact_ids = w.artifact_ids_field
    table = {
        m.name: m
        for m in (
            Method(
                "CreateRestoreSession",
                "create_session",
                w,
                mutating=True,
                validate=lambda r: validation.create_violations(r, w),
                session_id=_no_session,
                restores=_created(w),
                contents=_created_contents(w),
                browse_session_ids=_browsed_from(w),
            ),
            Method(
                "GetRestoreSession",
                "get_session",
                w,
                mutating=False,
                validate=_session_named,
                session_id=_named_session,
                restores=_nothing,
            ),
            Method(
                "ListRestoreSessions",
                "list_sessions",
                w,
                mutating=False,
                validate=lambda r: validation.page_size_violations(r.page_size),
                session_id=_no_session,
                restores=_nothing,
            ),
            Method(
                "DeleteRestoreSession",
                "delete_session",
                w,
                mutating=True,
                validate=_changes_named_session,
                session_id=_named_session,
                restores=_nothing,
                changes_session=True,
            ),
            Method(
                w.rpc("Add{noun}RestoreArtifacts"),
                "add_artifacts",
                w,
                mutating=True,
                validate=lambda r: (
                    _changes_named_session(r)
                    + validation.new_artifact_violations(getattr(r, artifacts), artifacts)
                ),
                session_id=_named_session,
                restores=lambda r: _artifacts(w.artifacts_of(r)),
                changes_session=True,
            ),
            Method(
                w.rpc("Remove{noun}RestoreArtifacts"),
                "remove_artifacts",
                w,
                mutating=True,
                validate=lambda r: (
                    _changes_named_session(r)
                    + validation.id_list_violations(getattr(r, artifact_ids), artifact_ids)
                ),
                session_id=_named_session,
                restores=_nothing,
                changes_session=True,
                artifact_ids=lambda r: list(getattr(r, artifact_ids)),
            ),
            Method(
                "ActivateRestoreSession",
                "activate_session",
                w,
                mutating=True,
                validate=_changes_named_session,
                session_id=_named_session,
                restores=_nothing,
                changes_session=True,
            ),
            Method(
                w.rpc("List{noun}RestoreArtifacts"),
                "list_artifacts",
                w,
                mutating=False,
                validate=_paged_session,
                session_id=_named_session,
                restores=_nothing,
            ),
            Method(
                "SearchRestorePoints",
                "search_restore_points",
                w,
                mutating=False,
                validate=lambda r: validation.search_violations(r, w),
                session_id=_no_session,
                restores=_nothing,
                searched_units=lambda r: list(r.protection_unit_ids),
            ),
            Method(
                w.rpc("Create{noun}RestoreArtifactsBulkAdditionRequest"),
                "create_bulk",
                w,
                mutating=True,
                validate=lambda r: validation.bulk_violations(r, w),
                session_id=_named_session,
                restores=_bulk(w),
                changes_session=True,
            ),
            Method(
                w.rpc("Get{noun}RestoreArtifactsBulkAdditionRequest"),
                "get_bulk",
                w,
                mutating=False,
                validate=lambda r: (
                    _session_named(r)
                    + validation.id_violations(
                        r.bulk_addition_request_id, "bulk_addition_request_id"
                    )
                ),
                session_id=_named_session,
                restores=_nothing,
            ),
            Method(
                w.rpc("List{noun}RestoreArtifactsBulkAdditionRequests"),
                "list_bulk",
                w,
                mutating=False,
                validate=_session_named,
                session_id=_named_session,
                restores=_nothing,
            ),
            Method(
                "WatchRestoreSession",
                "watch_session",
                w,
                mutating=False,
                validate=_session_named,
                session_id=_named_session,
                restores=_nothing,
            ),
        )
    }
    if w.browses:
        table.update({m.name: m for m in _browse_methods_of(w)})
    if SITE_LOOKUP in w.service.methods_by_name:
        table[SITE_LOOKUP] = Method(
            SITE_LOOKUP,
            "find_site_protection_unit",
            w,
            mutating=False,
            validate=lambda r: site_lookup.site_url_violations(r.site_web_url),
            session_id=_no_session,
            restores=_nothing,
            # Mapping URLs to units is a search of the tenant's units: a rule that may
            # not search may not do it either.
            policy_method="SearchRestorePoints",
            site_web_urls=lambda r: [r.site_web_url],
        )
    return table


def _browse_methods_of(w: Workload) -> tuple[Method, ...]:
    """The rows of a workload whose files and folders are browsed (OneDrive, SharePoint)."""
    items, item_ids = w.browsed_field, w.browsed_ids_field
    return (
        Method(
            w.rpc("AddGranular{noun}RestoreArtifacts"),
            "add_browsed_items",
            w,
            mutating=True,
            validate=lambda r: (
                _changes_named_session(r)
                + validation.browsed_item_violations(getattr(r, items), items)
            ),
            session_id=_named_session,
            restores=lambda r: _browsed_items(list(getattr(r, items))),
            changes_session=True,
            browse_session_ids=lambda r: _browse_sessions_of(getattr(r, items)),
        ),
        Method(
            w.rpc("RemoveGranular{noun}RestoreArtifacts"),
            "remove_browsed_items",
            w,
            mutating=True,
            validate=lambda r: (
                _changes_named_session(r)
                + validation.item_key_violations(getattr(r, item_ids), item_ids)
            ),
            session_id=_named_session,
            restores=_nothing,
            changes_session=True,
            artifact_ids=lambda r: list(getattr(r, item_ids)),
        ),
        Method(
            "CreateBrowseSession",
            "create_browse_session",
            w,
            mutating=True,
            validate=validation.browse_session_create_violations,
            session_id=_no_session,
            restores=_nothing,
            browsed_restore_points=lambda r: [r.restore_point_id],
            contents=lambda r: w.browse_session_contents_of(r.restore_point_id),
        ),
        Method(
            "GetBrowseSession",
            "get_browse_session",
            w,
            mutating=False,
            validate=lambda r: validation.id_violations(r.browse_session_id, "browse_session_id"),
            session_id=_no_session,
            restores=_nothing,
            browse_session_ids=_named_browse_session,
        ),
        Method(
            "ListBrowseSessions",
            "list_browse_sessions",
            w,
            mutating=False,
            validate=lambda r: [],
            session_id=_no_session,
            restores=_nothing,
        ),
        Method(
            "Browse",
            "browse",
            w,
            mutating=False,
            validate=validation.browse_violations,
            session_id=_no_session,
            restores=_nothing,
            browse_session_ids=_named_browse_session,
        ),
        Method(
            w.rpc("ListGranular{noun}RestoreArtifacts"),
            "list_browsed_items",
            w,
            mutating=False,
            validate=_session_named,
            session_id=_named_session,
            restores=_nothing,
            shows_items=True,
        ),
    )


# Workload name -> RPC name -> its row.
METHODS = {name: methods_of(workload) for name, workload in WORKLOADS.items()}
