"""Granular OneDrive and SharePoint restore: artifacts that name a browse session and an
item key (granularDriveRestoreArtifacts, granularSiteRestoreArtifacts), checked against the
session's tree, and where each item is restored to.

Graph's v1.0 granular artifacts carry no destinationType: where items go is not the
caller's choice. Every item of a session is restored into one restore folder at the root
of its document library (`restoredItemPath`, "the folder where all the artifacts are
restored"), named for the session's creation time; its name is not documented."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from graph_emulator import schema
from graph_emulator.browse import (
    ONEDRIVE_BROWSE,
    SHAREPOINT_BROWSE,
    BrowseSession,
    BrowseStore,
    Kind,
)
from graph_emulator.graph import GraphFailure, conform, failed_delta_item
from graph_emulator.realistic import Realism
from graph_emulator.sessions import ONEDRIVE, Artifact, Session, Workload, graph_time
from graph_emulator.tree import FILE, FOLDER, Item

BROWSE_KINDS = {ONEDRIVE: ONEDRIVE_BROWSE, "sharePoint": SHAREPOINT_BROWSE}
# Unset strings and times, as every documented granular answer writes them.
UNSET_TIME = "0001-01-01T00:00:00Z"
RESTORED_ITEMS = frozenset({FOLDER, FILE})
# The OneDrive PATCH example names an added item by `itemKey` (no property of the type);
# its create example and both SharePoint ones by `id`.
ITEM_KEY_ALIAS = "itemKey"


@dataclass
class GranularArtifact(Artifact):
    """An item of a browse session in a restore session: its id is the item key."""

    browse_session_id: str = ""
    owner_property: str = ""
    owner: str = ""
    item: Item | None = None
    library: Item | None = None
    point_time: datetime | None = None
    # A session deleted at expiry cannot be restored from (not documented: the stricter).
    browse_expires: datetime | None = None
    restore_folder: str = ""

    def failure(
        self, failing_restore_points: set[str], realism: Realism | None = None
    ) -> dict[str, Any] | None:
        if (
            self.browse_expires is not None
            and self.start is not None
            and self.browse_expires <= self.start
        ):
            return {"code": "BrowseSessionExpired", "message": "The browse session expired."}
        return super().failure(failing_restore_points, realism)

    def restored_web_url(self) -> str:
        assert self.item is not None and self.library is not None
        return f"{self.library.web_url}/{self.restore_folder}/{self.item.name}"

    def to_graph(self) -> dict[str, Any]:
        """Before activation, unset as documented ("", 0001-01-01); the restored path,
        key and URL once the item is restored. The type has no `error`."""
        assert self.item is not None and self.library is not None
        started = self.status != "added"
        done = self.status == "succeeded"
        restored_key = uuid.uuid5(uuid.NAMESPACE_URL, f"{self.id}|{self.restore_folder}")
        return {
            "id": self.id,
            "browseSessionId": self.browse_session_id,
            "status": self.status,
            "webUrl": self.item.web_url if started else "",
            "restoredItemKey": f"{self.library.key},{restored_key}" if done else "",
            "restoredItemPath": f"{self.library.path}/{self.restore_folder}" if done else "",
            "restoredItemWebUrl": self.restored_web_url() if done else "",
            "restorePointDateTime": graph_time(self.point_time) if started else UNSET_TIME,
            "startDateTime": graph_time(self.start) or UNSET_TIME,
            "completionDateTime": graph_time(self.completion) or UNSET_TIME,
            self.owner_property: self.owner,
        }


@cache
def _declared(type_name: str) -> frozenset[str]:
    return frozenset({*schema.properties(type_name), "@odata.type"})


class GranularItems:
    """Reads granular artifacts as Graph takes them and adds them to sessions."""

    def __init__(self, browse: BrowseStore) -> None:
        self.browse = browse

    def parse(
        self, items: Any, workload: Workload, alias_allowed: bool = False
    ) -> list[tuple[BrowseSession, Item]]:
        """Each item's browse session and tree item; 400 for the whole request when one
        names a session that is gone, of another kind, still creating or failed, or a key
        that is not a file or folder of it."""
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise GraphFailure(
                400, "InvalidArtifactRequest", f"{workload.granular} must be a list of objects."
            )
        kind = BROWSE_KINDS[workload.kind]
        found: list[tuple[BrowseSession, Item]] = []
        for body in items:
            found.append(self._parse_one(body, workload, kind, alias_allowed))
        keys = [item.key for _, item in found]
        if len(set(keys)) != len(keys):
            raise GraphFailure(
                400, "DuplicateArtifactInList", "The same item key appears twice in the list."
            )
        return found

    def _parse_one(
        self, body: dict[str, Any], workload: Workload, kind: Kind, alias_allowed: bool
    ) -> tuple[BrowseSession, Item]:
        allowed = _declared(workload.granular_type) | ({ITEM_KEY_ALIAS} if alias_allowed else set())
        for name in body:
            if name not in allowed:
                # Graph refuses a property its type does not have (destinationType too:
                # granular artifacts have none).
                raise GraphFailure(
                    400,
                    "BadRequest",
                    f"The property '{name}' does not exist on type "
                    f"'microsoft.graph.{workload.granular_type}'.",
                )
        named = [body[k] for k in ("id", ITEM_KEY_ALIAS) if k in body]
        if not named or not all(isinstance(n, str) for n in named) or len(set(named)) != 1:
            raise GraphFailure(400, "InvalidArtifactRequest", "Name each item by one item key.")
        key: str = named[0]
        conform(
            {k: v for k, v in body.items() if k != ITEM_KEY_ALIAS},
            schema.validator(workload.granular_type),
        )
        session_id = body.get("browseSessionId")
        session = self.browse.get(session_id) if isinstance(session_id, str) else None
        if session is None or not session.serves(kind):
            raise GraphFailure(
                400,
                "InvalidArtifactRequest",
                f"Browse session {session_id!r} does not exist, has expired, or is not a "
                f"{kind.type_name}.",
            )
        status = session.status(self.browse.clock.now())
        if status != "created":
            raise GraphFailure(
                400, "InvalidArtifactRequest", f"Browse session {session_id} is {status}."
            )
        item = session.item(key)
        if item is None or item.type not in RESTORED_ITEMS:
            raise GraphFailure(
                400,
                "InvalidArtifactRequest",
                f"Item key {key!r} names no file or folder of browse session {session_id}.",
            )
        return session, item

    def add(
        self, session: Session, workload: Workload, found: list[tuple[BrowseSession, Item]]
    ) -> list[Artifact]:
        """The items as artifacts of `session`, which becomes a granular session."""
        folder = f"Restored-{session.created:%Y%m%d-%H%M%S}"
        added: list[Artifact] = []
        for browse, item in found:
            library = next(
                child
                for child in browse.tree.site.children
                if item.path.startswith(f"{child.path}/")
            )
            artifact = GranularArtifact(
                id=item.key,
                restore_point_id=browse.point.id,
                destination_type="",
                artifact_type=workload.granular_type,
                browse_session_id=browse.id,
                owner_property=BROWSE_KINDS[workload.kind].owner_property,
                owner=browse.owner(),
                item=item,
                library=library,
                point_time=browse.point.protected_at,
                browse_expires=browse.expires,
                restore_folder=folder,
            )
            session.artifacts[artifact.id] = artifact
            added.append(artifact)
        session.job_type = "granular"
        return added

    def apply(self, session: Session, workload: Workload, delta: list[Any]) -> list[dict[str, Any]]:
        """A PATCH's additions and removals, in the order given, every addition checked
        before anything changes; the answer's items. As documented: added items and
        removals are echoed; a removal of an item the session does not hold, or an item
        it already holds, is a 409 item."""
        is_removal = [isinstance(item, dict) and "@removed" in item for item in delta]
        for item, removal in zip(delta, is_removal, strict=True):
            if removal:
                conform(item, schema.removed_item_validator())
        # Only the OneDrive page names an added item by itemKey.
        additions = iter(
            self.parse(
                [item for item, removal in zip(delta, is_removal, strict=True) if not removal],
                workload,
                alias_allowed=workload.kind == ONEDRIVE,
            )
        )
        answer: list[dict[str, Any]] = []
        for item, removal in zip(delta, is_removal, strict=True):
            if removal:
                answer.append(_remove(session, str(item["id"])))
                continue
            browse_session, found = next(additions)
            if found.key in session.artifacts:
                answer.append(
                    failed_delta_item(
                        {"browseSessionId": browse_session.id, "id": found.key},
                        "add",
                        "DuplicateArtifactInList",
                        "The item is already in the session.",
                    )
                )
                continue
            [added] = self.add(session, workload, [(browse_session, found)])
            answer.append(added.to_graph())
        return answer


def _remove(session: Session, artifact_id: str) -> dict[str, Any]:
    """Remove an item; echoed as documented, or a 409 item when the session lacks it."""
    if session.artifacts.pop(artifact_id, None) is None:
        return failed_delta_item(
            {"id": artifact_id},
            "remove",
            "Invalid",
            "The identifier to be removed from the restore session does not exist",
        )
    return {"id": artifact_id, "@removed": {"reason": "changed"}}
