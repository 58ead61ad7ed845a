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
from graphrestore_gateway.restore import validation
from graphrestore_gateway.restore.restores import Restores
from graphrestore_gateway.restore.validation import Violation
from graphrestore_gateway.restore.workloads import WORKLOADS, Workload


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

    def asked(self, request: Any) -> Asked:
        """What the request asks to do, as the policy reads it."""
        return Asked(
            self.workload,
            self.name,
            self.session_id(request),
            self.changes_session,
            self.searched_units(request),
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


def _created(workload: Workload) -> Callable[[Any], Restores]:
    def restores(request: Any) -> Restores:
        session = request.restore_session
        return _artifacts(list(getattr(session, workload.created_field(session))))

    return restores


def _created_contents(workload: Workload) -> Callable[[Any], str]:
    def contents(request: Any) -> str:
        session = request.restore_session
        field = workload.created_field(session)
        return workload.contents_of(
            list(getattr(session, field)), granular=field == workload.granular_field
        )

    return contents


# A bulk request's list -> what the audit record calls one of its items.
_NAMED_AS = {
    "drives": "drive",
    "mailboxes": "mailbox",
    "site_web_urls": "site_web_url",
    "site_ids": "site_id",
    "directory_object_ids": "directory_object_id",
}


def _bulk(workload: Workload) -> Callable[[Any], Restores]:
    def restores(request: Any) -> Restores:
        bulk = request.bulk_addition_request
        by_name = [(name, v) for name in workload.bulk_names for v in getattr(bulk, name)]
        object_ids = tuple(v for name in workload.bulk_object_ids for v in getattr(bulk, name))
        named = [
            *by_name,
            *(("directory_object_id", v) for v in object_ids),
            *(("protection_unit_id", v) for v in bulk.protection_unit_ids),
        ]
        return Restores(
            destinations=frozenset({bulk.destination_type}),
            count=len(named),
            unit_ids=tuple(bulk.protection_unit_ids),
            directory_object_ids=object_ids,
            unverifiable_names=len(by_name),
            named=tuple((_NAMED_AS.get(kind, kind), v, bulk.destination_type) for kind, v in named),
        )

    return restores


def _session_named(request: Any) -> list[Violation]:
    return validation.id_violations(request.restore_session_id, "restore_session_id")


def _changes_named_session(request: Any) -> list[Violation]:
    return _session_named(request) + validation.request_id_violations(request.request_id)


def _paged_session(request: Any) -> list[Violation]:
    return _session_named(request) + validation.page_size_violations(request.page_size)


def methods_of(w: Workload) -> dict[str, Method]:
    """The table of one workload's service."""
    artifacts = w.artifact_field
    artifact_ids = w.artifact_ids_field
    return {
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


# Workload name -> RPC name -> its row.
METHODS = {name: methods_of(workload) for name, workload in WORKLOADS.items()}
