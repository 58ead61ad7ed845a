"""Restore sessions of the three workloads and their lifecycle on a clock the tests move."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from graph_emulator.realistic import Realism

ACTIVATING_FOR = timedelta(seconds=30)
RESTORING_FOR = timedelta(minutes=5)
MAX_ACTIVE_SESSIONS = 25
TERMINAL_STATUSES = frozenset({"completed", "completedWithError", "failed"})
# Members after unknownFutureValue: sent only to callers that opt in.
LATE_SESSION_STATUSES = frozenset({"failed"})
LATE_JOB_TYPES = frozenset({"granular"})


class Clock:
    """Real UTC time, optionally running `scale` times faster (for demos), plus an offset
    that tests advance instead of sleeping."""

    def __init__(self, scale: float = 1.0) -> None:
        self.started = datetime.now(UTC)
        self.scale = scale
        self.offset = timedelta()

    def now(self) -> datetime:
        real = datetime.now(UTC)
        return real + (real - self.started) * (self.scale - 1) + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


def graph_time(moment: datetime | None) -> str | None:
    """Graph's DateTimeOffset form, 7 fractional digits as Graph sends them."""
    if moment is None:
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


# Every documented session and bulk request names Microsoft's own app as its creator,
# whichever app called: Graph's createdBy never tells the gateway its own sessions.
GRAPH_RESTORE_APP = {
    "application": {
        "id": "1fec8e78-bce4-4aaf-ab1b-5451cc387264",
        "displayName": "Microsoft Enhanced Restore",
    },
    "user": None,
}


@dataclass(frozen=True)
class Workload:
    """What differs between the OneDrive, SharePoint and Exchange parts of the API."""

    kind: str
    # The kind of protection unit whose restore points its sessions restore.
    unit_kind: str
    # Entity set and type names: sessions, artifacts, bulk addition requests.
    sessions: str
    session_type: str
    artifacts: str
    artifact_type: str
    bulk_requests: str
    bulk_type: str
    # How a bulk request names what it restores: (by name, by id).
    bulk_names: tuple[str, str]
    # The error detail code of a name a bulk request could not resolve.
    unresolved_code: str
    # The granular artifacts a create may carry instead (Exchange: found by a search;
    # OneDrive and SharePoint: items of a browse session), and their type.
    granular: str = ""
    granular_type: str = ""


ONEDRIVE = "oneDriveForBusiness"
# A session's @odata.context, as each workload's documented answers spell it.
SESSION_CONTEXTS = {
    ONEDRIVE: "oneDriveForBusinessRestoreSession/$entity",
    "sharePoint": "restoreSessions/$entity",
    "exchange": "exchangeRestoreSessions/$entity",
}
WORKLOADS = {
    w.kind: w
    for w in (
        Workload(
            ONEDRIVE,
            "drive",
            "oneDriveForBusinessRestoreSessions",
            "oneDriveForBusinessRestoreSession",
            "driveRestoreArtifacts",
            "driveRestoreArtifact",
            "driveRestoreArtifactsBulkAdditionRequests",
            "driveRestoreArtifactsBulkAdditionRequest",
            ("drives", "directoryObjectIds"),
            "UserNotBackedup",
            "granularDriveRestoreArtifacts",
            "granularDriveRestoreArtifact",
        ),
        Workload(
            "sharePoint",
            "site",
            "sharePointRestoreSessions",
            "sharePointRestoreSession",
            "siteRestoreArtifacts",
            "siteRestoreArtifact",
            "siteRestoreArtifactsBulkAdditionRequests",
            "siteRestoreArtifactsBulkAdditionRequest",
            ("siteWebUrls", "siteIds"),
            "SiteUrlNotFound",
            "granularSiteRestoreArtifacts",
            "granularSiteRestoreArtifact",
        ),
        Workload(
            "exchange",
            "mailbox",
            "exchangeRestoreSessions",
            "exchangeRestoreSession",
            "mailboxRestoreArtifacts",
            "mailboxRestoreArtifact",
            "mailboxRestoreArtifactsBulkAdditionRequests",
            "mailboxRestoreArtifactsBulkAdditionRequest",
            ("mailboxes", "directoryObjectIds"),
            "UserNotBackedup",
            granular="granularMailboxRestoreArtifacts",
            granular_type="granularMailboxRestoreArtifact",
        ),
    )
}
GRANULAR_MAILBOX = "granularMailboxRestoreArtifact"


@dataclass
class Artifact:
    id: str
    restore_point_id: str
    destination_type: str
    # The restore point as Graph shows it inside an artifact (id, protection times).
    restore_point: dict[str, Any] = field(default_factory=dict)
    status: str = "added"
    start: datetime | None = None
    completion: datetime | None = None
    error: dict[str, Any] | None = None
    # Graph's type: driveRestoreArtifact, siteRestoreArtifact, mailboxRestoreArtifact
    # or granularMailboxRestoreArtifact (which names the search that found its messages).
    artifact_type: str = "driveRestoreArtifact"
    search_response_id: str = ""

    def failure(
        self, failing_restore_points: set[str], realism: Realism | None = None
    ) -> dict[str, Any] | None:
        """Why restoring this artifact fails, once it has started (None: it succeeds)."""
        if self.restore_point_id in failing_restore_points:
            return {
                "code": "ArtifactNotFound",
                "message": "The restore point of this artifact no longer exists.",
            }
        return realism.artifact_error(self.restore_point_id) if realism else None

    def to_graph(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "destinationType": self.destination_type,
            "status": self.status,
            "startDateTime": graph_time(self.start),
            "completionDateTime": graph_time(self.completion),
            "error": self.error,
            "restorePoint": self.restore_point or {"id": self.restore_point_id},
        }
        done = self.status == "succeeded"
        restored = uuid.uuid5(uuid.NAMESPACE_URL, self.id)
        if self.artifact_type in ("driveRestoreArtifact", "siteRestoreArtifact"):
            body["restoredSiteId"] = str(restored) if done else None
            body["restoredSiteName"] = f"Restored {self.restore_point_id}" if done else None
            body["restoredSiteWebUrl"] = (
                f"https://contoso.sharepoint.com/sites/restored-{restored.hex[:12]}"
                if done
                else None
            )
        else:
            body["restoredFolderId"] = str(restored) if done else None
            body["restoredFolderName"] = f"Restored {self.restore_point_id}" if done else None
            body["restoredItemCount"] = restored.int % 500 + 1 if done else None
        if self.artifact_type == GRANULAR_MAILBOX:
            body["searchResponseId"] = self.search_response_id
        return body


@dataclass
class BulkRequest:
    """A bulk addition request: drives, sites or mailboxes named, Graph picks the points."""

    id: str
    body: dict[str, Any]
    created: datetime
    app_id: str
    # What it named that had no restore point in the period.
    unresolved: list[str] = field(default_factory=list)
    # The realistic profile resolves in the background: the artifacts it will add to its
    # session at `resolves_at` (until then none are there).
    pending: list[Artifact] = field(default_factory=list)
    resolves_at: datetime | None = None

    def resolve(self, session: Session, now: datetime) -> None:
        if self.resolves_at is not None and self.pending and now >= self.resolves_at:
            session.artifacts.update((a.id, a) for a in self.pending)
            self.pending = []

    def done(self, session: Session) -> bool:
        """In the background: resolved and its session activated (graph-api.md: `active`
        until the session is activated). Else: when its session has ended."""
        if self.resolves_at is not None:
            return not self.pending and session.activated is not None
        return session.status in TERMINAL_STATUSES

    def to_graph(self, session: Session) -> dict[str, Any]:
        workload = WORKLOADS[session.kind]
        by_name, by_id = workload.bulk_names
        if self.done(session):
            failed = self.unresolved or any(
                a.status == "failed" for a in session.artifacts.values()
            )
            status = "completedWithErrors" if failed else "completed"
        else:
            status = "active"
        creator = GRAPH_RESTORE_APP
        return {
            "@odata.type": f"#microsoft.graph.{workload.bulk_type}",
            "id": self.id,
            "displayName": self.body.get("displayName"),
            "status": status,
            "destinationType": self.body.get("destinationType", "new"),
            "protectionTimePeriod": self.body.get("protectionTimePeriod"),
            "restorePointPreference": self.body.get("restorePointPreference", "latest"),
            "tags": self.body.get("tags"),
            "protectionUnitIds": self.body.get("protectionUnitIds", []),
            by_name: self.body.get(by_name, []),
            by_id: self.body.get(by_id, []),
            "createdDateTime": graph_time(self.created),
            "createdBy": creator,
            "lastModifiedDateTime": graph_time(self.created),
            "lastModifiedBy": creator,
            # As the documented list item shows an unresolved drive.
            "error": {
                "code": "BulkRestoreArtifactsNotResolved",
                "message": "Errors while resolving restore artifacts",
                "details": [
                    {
                        "code": workload.unresolved_code,
                        "message": f"'{name}' has not been backed up",
                        "target": name,
                    }
                    for name in self.unresolved
                ],
            }
            if self.unresolved
            else None,
        }


# restoreSessions holds every workload's sessions; only @odata.type tells them apart
# (SharePoint's spelled as its documented answers spell it).
SESSION_TYPES = {
    "oneDriveForBusiness": "#microsoft.graph.oneDriveForBusinessRestoreSession",
    "sharePoint": "#microsoft.graph.sharepointRestoreSession",
    "exchange": "#microsoft.graph.exchangeRestoreSession",
}


@dataclass
class Session:
    id: str
    app_id: str
    created: datetime
    kind: str = ONEDRIVE
    job_type: str = "standard"
    status: str = "draft"
    last_modified: datetime | None = None
    activated: datetime | None = None
    completed: datetime | None = None
    artifacts: dict[str, Artifact] = field(default_factory=dict)
    bulk_requests: dict[str, BulkRequest] = field(default_factory=dict)
    # When it was made in real time (list lag is Graph's, not sped up with the clock).
    created_monotonic: float = field(default_factory=time.monotonic)

    def advance_to(
        self, now: datetime, failing_restore_points: set[str], realism: Realism | None = None
    ) -> None:
        """Move bulk requests, status and artifacts forward to where they are at `now`."""
        for bulk in self.bulk_requests.values():
            bulk.resolve(self, now)
        if self.activated is None or self.status in TERMINAL_STATUSES:
            return
        started = self.activated + (
            timedelta(seconds=realism.activating_s) if realism else ACTIVATING_FOR
        )
        # Restoring starts once every bulk request has resolved.
        resolved = [b.resolves_at for b in self.bulk_requests.values() if b.resolves_at]
        started = max([started, *resolved])
        if now < started:
            return
        self.status = "active"
        restoring = (
            timedelta(seconds=realism.restore_duration_s(len(self.artifacts)))
            if realism
            else RESTORING_FOR
        )
        # Artifacts finish one after another across the restore's duration.
        step = restoring / max(len(self.artifacts), 1)
        for index, artifact in enumerate(self.artifacts.values()):
            if artifact.status in ("succeeded", "failed"):
                continue
            artifact.start = started
            artifact.completion = started + step * (index + 1)
            if now < artifact.completion:
                artifact.status = "inProgress"
                artifact.completion = None
            elif (error := artifact.failure(failing_restore_points, realism)) is not None:
                artifact.status = "failed"
                artifact.error = error
            else:
                artifact.status = "succeeded"
        finished = started + restoring
        if now < finished:
            return
        failed = [a.status == "failed" for a in self.artifacts.values()]
        if failed and all(failed):
            self.status = "failed"
        else:
            self.status = "completedWithError" if any(failed) else "completed"
        self.completed = finished
        self.last_modified = finished

    def to_graph(self, include_late_members: bool) -> dict[str, Any]:
        counts = {"total": len(self.artifacts), "completed": 0, "inProgress": 0, "failed": 0}
        for artifact in self.artifacts.values():
            if artifact.status == "succeeded":
                counts["completed"] += 1
            elif artifact.status == "failed":
                counts["failed"] += 1
            elif artifact.status in ("scheduling", "scheduled", "inProgress"):
                counts["inProgress"] += 1
        status = self.status
        if status in LATE_SESSION_STATUSES and not include_late_members:
            status = "unknownFutureValue"
        job_type = self.job_type
        if job_type in LATE_JOB_TYPES and not include_late_members:
            job_type = "unknownFutureValue"
        creator = GRAPH_RESTORE_APP
        return {
            "@odata.context": f"/solutions/backupRestore/$metadata#{SESSION_CONTEXTS[self.kind]}",
            "@odata.type": SESSION_TYPES[self.kind],
            "id": self.id,
            "status": status,
            "restoreJobType": job_type,
            "restoreSessionArtifactCount": counts,
            "createdBy": creator,
            "createdDateTime": graph_time(self.created),
            "lastModifiedBy": creator,
            "lastModifiedDateTime": graph_time(self.last_modified or self.created),
            "completedDateTime": graph_time(self.completed),
            "error": None,
        }


class SessionStore:
    """All restore sessions of the tenant, in creation order. `describe_point` gives a
    restore point's Graph body for the artifacts that name it."""

    def __init__(
        self,
        clock: Clock,
        describe_point: Callable[[str], dict[str, Any]] | None = None,
        realism: Realism | None = None,
    ) -> None:
        self.clock = clock
        self.describe_point = describe_point or (lambda point_id: {"id": point_id})
        self.realism = realism
        self.sessions: dict[str, Session] = {}
        self.failing_restore_points: set[str] = set()

    def create(
        self,
        app_id: str,
        artifacts: list[tuple[str, str]],
        kind: str = ONEDRIVE,
        granular: Sequence[tuple[str, str, str]] = (),
    ) -> Session:
        now = self.clock.now()
        session = Session(id=str(uuid.uuid4()), app_id=app_id, created=now, kind=kind)
        self.add_artifacts(session, artifacts)
        for point, destination, search_id in granular:
            artifact = self._artifact(point, destination, GRANULAR_MAILBOX)
            artifact.search_response_id = search_id
            session.artifacts[artifact.id] = artifact
        session.last_modified = now
        self.sessions[session.id] = session
        return session

    def _artifact(self, point: str, destination: str, artifact_type: str) -> Artifact:
        return Artifact(
            id=str(uuid.uuid4()),
            restore_point_id=point,
            destination_type=destination,
            restore_point=self.describe_point(point),
            artifact_type=artifact_type,
        )

    def new_artifacts(self, session: Session, artifacts: list[tuple[str, str]]) -> list[Artifact]:
        artifact_type = WORKLOADS[session.kind].artifact_type
        return [self._artifact(rp, dest, artifact_type) for rp, dest in artifacts]

    def add_artifacts(self, session: Session, artifacts: list[tuple[str, str]]) -> list[Artifact]:
        added = self.new_artifacts(session, artifacts)
        session.artifacts.update((a.id, a) for a in added)
        session.last_modified = self.clock.now()
        return added

    def get(self, session_id: str) -> Session | None:
        session = self.sessions.get(session_id)
        if session is not None:
            session.advance_to(self.clock.now(), self.failing_restore_points, self.realism)
        return session

    def advance_all(self) -> None:
        now = self.clock.now()
        for session in self.sessions.values():
            session.advance_to(now, self.failing_restore_points, self.realism)

    def listed(self) -> list[Session]:
        """The sessions a list shows now: under the realistic profile, a new one only
        `list_lag_s` real seconds after its create was answered (Graph is eventually
        consistent; the lag is its own, not sped up with the restores)."""
        self.advance_all()
        if self.realism is None:
            return list(self.sessions.values())
        shown_before = time.monotonic() - self.realism.list_lag_s
        return [s for s in self.sessions.values() if s.created_monotonic <= shown_before]

    @property
    def max_active(self) -> int:
        return self.realism.max_active_sessions if self.realism else MAX_ACTIVE_SESSIONS

    def active_count(self) -> int:
        self.advance_all()
        return sum(s.status in ("activating", "active") for s in self.sessions.values())
