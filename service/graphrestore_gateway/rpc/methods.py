"""The per-method table: for each RPC, whether it mutates, how it is validated, which
session it names and what it restores. Validation, policy and audit read a request only
through this table; adding an RPC is one row here and one servicer method."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from google.protobuf import message_factory
from google.protobuf.message import Message
from graphrestore.v1 import onedrive_restore_service_pb2 as service_pb
from graphrestore.v1 import restore_session_pb2 as pb

from graphrestore_gateway.access.policy import Restores
from graphrestore_gateway.restore import validation
from graphrestore_gateway.restore.validation import Violation

SERVICE = service_pb.DESCRIPTOR.services_by_name["OneDriveRestoreService"]


@dataclass(frozen=True)
class Method:
    name: str
    mutating: bool
    validate: Callable[[Any], list[Violation]]
    # The existing session the request names ("" for none).
    session_id: Callable[[Any], str]
    # The drives it adds (None: it adds none).
    restores: Callable[[Any], Restores | None]
    # Whether it changes a session's contents or state (checked against what it holds).
    changes_session: bool = False
    # Ids of artifacts it names, for the audit record.
    artifact_ids: Callable[[Any], list[str]] = lambda request: []

    @property
    def descriptor(self) -> Any:
        return SERVICE.methods_by_name[self.name]

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


def _artifacts(artifacts: list[pb.DriveRestoreArtifact]) -> Restores:
    return Restores(
        destinations=frozenset(a.destination_type for a in artifacts),
        count=len(artifacts),
        restore_point_ids=tuple(a.restore_point.id for a in artifacts),
        named=tuple(
            ("restore_point_id", a.restore_point.id, a.destination_type) for a in artifacts
        ),
    )


def _bulk(request: service_pb.CreateDriveRestoreArtifactsBulkAdditionRequestRequest) -> Restores:
    bulk = request.bulk_addition_request
    names = (
        ("drive", bulk.drives),
        ("directory_object_id", bulk.directory_object_ids),
        ("protection_unit_id", bulk.protection_unit_ids),
    )
    return Restores(
        destinations=frozenset({bulk.destination_type}),
        count=len(bulk.drives) + len(bulk.directory_object_ids) + len(bulk.protection_unit_ids),
        unit_ids=tuple(bulk.protection_unit_ids),
        directory_object_ids=tuple(bulk.directory_object_ids),
        emails=len(bulk.drives),
        named=tuple((kind, v, bulk.destination_type) for kind, values in names for v in values),
    )


def _session_named(request: Any) -> list[Violation]:
    return validation.id_violations(request.restore_session_id, "restore_session_id")


def _changes_named_session(request: Any) -> list[Violation]:
    return _session_named(request) + validation.request_id_violations(request.request_id)


def _paged_session(request: Any) -> list[Violation]:
    return _session_named(request) + validation.page_size_violations(request.page_size)


METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        Method(
            "CreateRestoreSession",
            mutating=True,
            validate=validation.create_violations,
            session_id=_no_session,
            restores=lambda r: _artifacts(list(r.restore_session.drive_restore_artifacts)),
        ),
        Method(
            "GetRestoreSession",
            mutating=False,
            validate=_session_named,
            session_id=_named_session,
            restores=_nothing,
        ),
        Method(
            "ListRestoreSessions",
            mutating=False,
            validate=lambda r: validation.page_size_violations(r.page_size),
            session_id=_no_session,
            restores=_nothing,
        ),
        Method(
            "DeleteRestoreSession",
            mutating=True,
            validate=_changes_named_session,
            session_id=_named_session,
            restores=_nothing,
            changes_session=True,
        ),
        Method(
            "AddDriveRestoreArtifacts",
            mutating=True,
            validate=lambda r: (
                _changes_named_session(r)
                + validation.new_artifact_violations(
                    list(r.drive_restore_artifacts), "drive_restore_artifacts"
                )
            ),
            session_id=_named_session,
            restores=lambda r: _artifacts(list(r.drive_restore_artifacts)),
            changes_session=True,
        ),
        Method(
            "RemoveDriveRestoreArtifacts",
            mutating=True,
            validate=lambda r: (
                _changes_named_session(r)
                + validation.id_list_violations(
                    list(r.drive_restore_artifact_ids), "drive_restore_artifact_ids"
                )
            ),
            session_id=_named_session,
            restores=_nothing,
            changes_session=True,
            artifact_ids=lambda r: list(r.drive_restore_artifact_ids),
        ),
        Method(
            "ActivateRestoreSession",
            mutating=True,
            validate=_changes_named_session,
            session_id=_named_session,
            restores=_nothing,
            changes_session=True,
        ),
        Method(
            "ListDriveRestoreArtifacts",
            mutating=False,
            validate=_paged_session,
            session_id=_named_session,
            restores=_nothing,
        ),
        Method(
            "SearchRestorePoints",
            mutating=False,
            validate=validation.search_violations,
            session_id=_no_session,
            restores=_nothing,
        ),
        Method(
            "CreateDriveRestoreArtifactsBulkAdditionRequest",
            mutating=True,
            validate=validation.bulk_violations,
            session_id=_named_session,
            restores=_bulk,
            changes_session=True,
        ),
        Method(
            "GetDriveRestoreArtifactsBulkAdditionRequest",
            mutating=False,
            validate=lambda r: (
                _session_named(r)
                + validation.id_violations(r.bulk_addition_request_id, "bulk_addition_request_id")
            ),
            session_id=_named_session,
            restores=_nothing,
        ),
        Method(
            "ListDriveRestoreArtifactsBulkAdditionRequests",
            mutating=False,
            validate=_session_named,
            session_id=_named_session,
            restores=_nothing,
        ),
        Method(
            "WatchRestoreSession",
            mutating=False,
            validate=_session_named,
            session_id=_named_session,
            restores=_nothing,
        ),
    )
}
