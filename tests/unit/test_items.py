"""graphrestore/items.py: a restore of more items than Graph takes in one call is made in
calls of 50, each sent again as it was while the gateway is unreachable."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from graphrestore import items
from graphrestore.v1 import browse_session_pb2 as browse_pb
from graphrestore.v1 import onedrive_restore_service_pb2 as service_pb
from graphrestore.v1 import restore_session_pb2 as pb


class Unavailable(grpc.RpcError, grpc.Call):  # type: ignore[misc]
    """What a channel raises while the gateway cannot be reached."""

    def code(self) -> grpc.StatusCode:
        return grpc.StatusCode.UNAVAILABLE

    def details(self) -> str:
        return "unreachable"

    def initial_metadata(self) -> Any:
        return ()

    def trailing_metadata(self) -> Any:
        return ()

    def is_active(self) -> bool:
        return False

    def time_remaining(self) -> float | None:
        return None

    def cancel(self) -> bool:
        return False

    def add_callback(self, callback: Any) -> bool:
        return False


class Gateway:
    """A OneDrive stub that records each request, and fails the first addition once."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, Any]] = []
        self.failed_once = False

    def CreateRestoreSession(self, request: Any, timeout: float) -> pb.RestoreSession:
        self.sent.append(("create", request))
        return pb.RestoreSession(id="draft")

    def AddGranularDriveRestoreArtifacts(self, request: Any, timeout: float) -> Any:
        self.sent.append(("add", request))
        if not self.failed_once:
            self.failed_once = True
            raise Unavailable()
        return service_pb.AddGranularDriveRestoreArtifactsResponse(
            added=request.granular_drive_restore_artifacts
        )


def test_120_items_are_named_once_each_in_calls_of_50(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(items.time, "sleep", lambda seconds: None)
    gateway = Gateway()
    browsed = items.Browsed(
        gateway, False, pb.RestorePoint(id="point"), browse_pb.BrowseSession(id="browse")
    )
    picked = [browse_pb.BrowseQueryResponseItem(item_key=f"key-{n}") for n in range(120)]
    assert items.create_items_session(browsed, picked, timeout=5).id == "draft"
    kinds = [kind for kind, _ in gateway.sent]
    assert kinds == ["create", "add", "add", "add"]
    create, first_add, again, last_add = (request for _, request in gateway.sent)
    # The addition that failed is sent again as it was: the gateway makes it once.
    assert again == first_add
    named = [
        *create.restore_session.granular_drive_restore_artifacts,
        *first_add.granular_drive_restore_artifacts,
        *last_add.granular_drive_restore_artifacts,
    ]
    assert [
        len(create.restore_session.granular_drive_restore_artifacts),
        len(first_add.granular_drive_restore_artifacts),
        len(last_add.granular_drive_restore_artifacts),
    ] == [50, 50, 20]
    assert [a.id for a in named] == [f"key-{n}" for n in range(120)]
    assert {a.browse_session_id for a in named} == {"browse"}
    assert len({create.request_id, first_add.request_id, last_add.request_id}) == 3
    assert {first_add.restore_session_id, last_add.restore_session_id} == {"draft"}
