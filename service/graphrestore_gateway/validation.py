"""Checks of caller requests before anything reaches Graph (Graph's own rules, applied early)."""

from __future__ import annotations

import re
import uuid
from typing import TypeAlias

from google.rpc.error_details_pb2 import BadRequest
from graphrestore.v1 import onedrive_restore_service_pb2 as service_pb
from graphrestore.v1 import restore_session_pb2 as pb

# Graph takes at most this many artifacts in one create or PATCH.
MAX_ARTIFACTS_PER_REQUEST = 50
# Restore point ids are not always GUIDs; allow Graph's id alphabet, bounded.
RESTORE_POINT_ID = re.compile(r"^[A-Za-z0-9._=-]{1,256}$")
RESTORABLE_DESTINATIONS = frozenset({pb.DESTINATION_TYPE_NEW, pb.DESTINATION_TYPE_IN_PLACE})

Violation: TypeAlias = BadRequest.FieldViolation


def request_id_violations(request_id: str) -> list[Violation]:
    """AIP-155: request_id is optional, and a UUID when given."""
    if not request_id:
        return []
    try:
        uuid.UUID(request_id)
    except ValueError:
        return [Violation(field="request_id", description="must be a UUID (AIP-155)")]
    return []


def new_artifact_violations(
    artifacts: list[pb.DriveRestoreArtifact], field: str
) -> list[Violation]:
    """Artifacts to add: 1..50, valid distinct restore point ids, one restorable destination."""
    if not artifacts:
        return [Violation(field=field, description="at least one artifact is required")]
    if len(artifacts) > MAX_ARTIFACTS_PER_REQUEST:
        return [
            Violation(
                field=field,
                description=f"at most {MAX_ARTIFACTS_PER_REQUEST} artifacts per request "
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
        elif not RESTORE_POINT_ID.match(restore_point_id):
            violations.append(
                Violation(
                    field=id_field,
                    description="must be 1-256 letters, digits, '-', '_', '.' or '='",
                )
            )
        elif restore_point_id in first_index_of:
            violations.append(
                Violation(
                    field=id_field,
                    description=f"duplicates {field}[{first_index_of[restore_point_id]}]",
                )
            )
        else:
            first_index_of[restore_point_id] = index
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


def create_violations(request: service_pb.CreateRestoreSessionRequest) -> list[Violation]:
    violations = request_id_violations(request.request_id)
    if not request.HasField("restore_session"):
        violations.append(Violation(field="restore_session", description="is required"))
        return violations
    violations += new_artifact_violations(
        list(request.restore_session.drive_restore_artifacts),
        "restore_session.drive_restore_artifacts",
    )
    return violations
