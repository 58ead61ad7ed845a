"""`restorectl restore --csv` with a `workload` column: the whole bad day in one run.

Each row names a user (`email`) and/or a site (`site_url`); its `workload` says what to
restore (`onedrive`, `exchange`, `sharepoint`; empty: the user's drive and mailbox, and
the site). The three workloads run in parallel, each in bulk sessions of up to 10,000
(Graph picks the latest restore point before the point in time), each activated as
soon as Graph's 25-active-sessions limit allows. A large day is split into up to 25
sessions in all, so that they run at once and the largest is as small as it can be.
One progress line per workload, one summary, and every item not restored named."""

from __future__ import annotations

import csv
import math
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import grpc

from graphrestore import restore_flow, runs
from graphrestore.bulk import (
    NAMES_PER_BULK,
    REFUSED_NAME_REASONS,
    WORKLOADS,
    Workload,
    bulk_request,
    reason_of,
    without_refused_names,
)
from graphrestore.runs import RunRecord
from graphrestore.v1 import onedrive_restore_service_pb2 as onedrive_pb
from graphrestore.v1 import restore_session_pb2 as pb

# Graph runs at most this many sessions of a tenant at once.
MAX_ACTIVE_SESSIONS = 25
# Sessions are not split below this many names: each costs Graph calls of its own.
MIN_NAMES_PER_SESSION = 100
REDRAW_S = 0.5
# How long a call is retried while the gateway says Graph is throttling or unavailable.
RETRY_PATIENCE_S = 600.0
# Reading a session until it has ended: backoff until its pace is known, then a read when
# the pace says it ends (a little after).
POLL_MIN_S, POLL_MAX_S, POLL_BACKOFF, PACE_MARGIN = 1.0, 15.0, 1.5, 1.02
# The wider margin of a session read while the run's last has not ended yet.
LATE_MARGIN = 1.1
# Artifacts a pace measured over is known to 1 % (half PACE_MARGIN): no read halfway to
# refine it.
MEASURED_ENOUGH = 100
# How long the pace waits for one of the run's largest sessions to learn it from, before
# any session may.
LEARNER_WAIT_S = 10.0


def names_workloads(path: str) -> bool:
    """Whether a CSV is one for the whole day: its header has a `workload` column."""
    with open(path, newline="", encoding="utf-8") as handle:
        return "workload" in (csv.DictReader(handle).fieldnames or ())


def read_rows(path: str) -> dict[str, list[str]]:
    """workload -> the names (e-mails, site URLs) the CSV gives it, in order, once each."""
    names: dict[str, dict[str, None]] = {name: {} for name in WORKLOADS}
    with open(path, newline="", encoding="utf-8") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            email = (row.get("email") or "").strip()
            site = (row.get("site_url") or "").strip()
            asked = (row.get("workload") or "").strip().lower()
            wanted = [asked] if asked else ["onedrive", "exchange", "sharepoint"]
            for workload in wanted:
                if workload not in WORKLOADS:
                    raise restore_flow.RestoreInputError(
                        f"{path}:{line}: workload {asked!r} is not one of {', '.join(WORKLOADS)}"
                    )
                name = site if workload == "sharepoint" else email
                if name:
                    names[workload][name] = None
                elif asked:
                    column = "site_url" if workload == "sharepoint" else "email"
                    raise restore_flow.RestoreInputError(
                        f"{path}:{line}: {workload} needs {column}"
                    )
    found = {workload: list(named) for workload, named in names.items() if named}
    if not found:
        raise restore_flow.RestoreInputError(f"{path}: no email or site_url in any row")
    return found


@dataclass
class Progress:
    """What one workload's sessions show, for the progress lines and the summary."""

    workload: str
    names: int
    sessions: dict[str, pb.RestoreSession] = field(default_factory=dict)
    # Names refused or not resolved, and artifacts that failed: (what, code, message).
    not_restored: list[tuple[str, str, str]] = field(default_factory=list)
    # How many names a bulk request refused (they are in no session).
    refused: int = 0
    error: str = ""
    done: bool = False

    def counts(self) -> tuple[int, int, int, int]:
        """(total, completed, failed, running) over its sessions."""
        sums = [0, 0, 0, 0]
        for session in self.sessions.values():
            c = session.restore_session_artifact_count
            for index, value in enumerate((c.total, c.completed, c.failed, c.in_progress)):
                sums[index] += value
        return sums[0], sums[1], sums[2], sums[3]

    def line(self, started: float) -> str:
        total, completed, failed, running = self.counts()
        finished = completed + failed
        filled = restore_flow.BAR_WIDTH * finished // max(total, 1)
        state = "error" if self.error else "done" if self.done else "running"
        bar = "#" * filled + "." * (restore_flow.BAR_WIDTH - filled)
        return (
            f"{self.workload:<10} [{bar}] {finished}/{total} done={completed} "
            f"failed={failed} running={running} sessions={len(self.sessions)} {state} "
            f"elapsed {restore_flow.clock(time.monotonic() - started)}"
        )


def share(names: int, sessions: int) -> int:
    """Names in each of `sessions` sessions of `names` (the last may hold fewer)."""
    return math.ceil(names / sessions)


def sessions_per_workload(counts: dict[str, int]) -> dict[str, int]:
    """How many bulk sessions each workload's names go into: at most 10,000 names each,
    up to 25 in all (they run at once, and a larger session takes longer), the largest as
    small as it can be, none under MIN_NAMES_PER_SESSION names unless the workload has
    fewer, and no session more than that takes (each costs Graph calls of its own)."""
    split = {w: max(1, math.ceil(n / NAMES_PER_BULK)) for w, n in counts.items()}

    def largest_share(workload: str) -> int:
        return share(counts[workload], split[workload])

    while True:
        # The largest share shrinks only when every workload that holds it splits once more.
        top = max(largest_share(w) for w in split)
        largest = [w for w in split if largest_share(w) == top]
        if sum(split.values()) + len(largest) > MAX_ACTIVE_SESSIONS or any(
            share(counts[w], split[w] + 1) < MIN_NAMES_PER_SESSION for w in largest
        ):
            return split
        for workload in largest:
            split[workload] += 1


def restore_all(
    channel: grpc.Channel,
    names: dict[str, list[str]],
    point_in_time: datetime,
    destination: pb.DestinationType,
    timeout: float,
    show_progress: bool,
    record: RunRecord,
) -> list[Progress]:
    """Restore every workload's names in parallel, each step in `record`; each
    workload's Progress at the end."""
    progress = [Progress(workload, len(named)) for workload, named in names.items()]
    split = sessions_per_workload({workload: len(named) for workload, named in names.items()})
    started = time.monotonic()
    lock = threading.Lock()
    pace = Pace(max(share(len(names[w]), split[w]) for w in names))

    def run(item: Progress) -> None:
        try:
            _restore_workload(
                WORKLOADS[item.workload],
                WORKLOADS[item.workload].stub(channel),
                names[item.workload],
                split[item.workload],
                item,
                lock,
                point_in_time,
                destination,
                timeout,
                record,
                pace,
            )
        except grpc.RpcError as error:
            item.error = f"{error.code().name}: {error.details()}"
            _record_not_placed(record, item, names[item.workload], error)
        except restore_flow.RestoreInputError as error:
            item.error = str(error)
        finally:
            item.done = True

    display = Display(progress, started, lock)
    with ThreadPoolExecutor(max_workers=len(progress)) as pool:
        for item in progress:
            pool.submit(run, item)
        while not all(item.done for item in progress):
            if show_progress:
                display.draw()
            time.sleep(REDRAW_S)
    if show_progress:
        display.draw()
    return progress


class Display:
    """One line per workload on stderr: redrawn in place on a terminal; elsewhere (a
    log), printed again only when a workload's counts or state change."""

    def __init__(self, progress: list[Progress], started: float, lock: threading.Lock) -> None:
        self._progress = progress
        self._started = started
        self._lock = lock
        self._drawn = 0
        self._shown: list[str] = []

    def draw(self) -> None:
        with self._lock:
            lines = [item.line(self._started) for item in self._progress]
        if sys.stderr.isatty():
            up = f"\x1b[{self._drawn}F" if self._drawn else ""
            sys.stderr.write(up + "".join(f"{line}\x1b[K\n" for line in lines))
            self._drawn = len(lines)
        else:
            # What changed, without the elapsed time that always does.
            states = [line.rsplit(" elapsed ", 1)[0] for line in lines]
            changed = [
                line for line, state in zip(lines, states, strict=True) if state not in self._shown
            ]
            sys.stderr.write("".join(f"{line}\n" for line in changed))
            self._shown = states
        sys.stderr.flush()


def _restore_workload(
    workload: Workload,
    stub: Any,
    names: list[str],
    sessions: int,
    progress: Progress,
    lock: threading.Lock,
    point_in_time: datetime,
    destination: pb.DestinationType,
    timeout: float,
    record: RunRecord,
    pace: Pace,
) -> None:
    """`sessions` bulk sessions of the names, each on its own: create it, activate it as
    soon as its bulk request exists (when Graph allows), follow it to the end, then name
    what it did not restore. A stalled create holds back its own session only."""

    def create(chunk: list[str]) -> tuple[str, str, int]:
        request = bulk_request(workload, chunk, point_in_time, destination)
        bulk = restore_flow.retrying(
            workload.rpc(stub, "Create{noun}RestoreArtifactsBulkAdditionRequest"),
            request,
            timeout,
            RETRY_PATIENCE_S,
        )
        record.session_made(
            workload.name, bulk.restore_session_id, chunk, request.request_id, bulk.id
        )
        return bulk.restore_session_id, bulk.id, len(chunk)

    def seen(session: pb.RestoreSession) -> None:
        with lock:
            progress.sessions[session.id] = session
        counts = session.restore_session_artifact_count
        record.progress(workload.name, session.id, counts.completed, counts.failed)

    def restore(chunk: list[str]) -> None:
        created, refused = without_refused_names(create, chunk, workload.names_field)
        with lock:
            progress.not_restored += [(name, code, message) for name, code, message, _ in refused]
            progress.refused += len(refused)
        record.items(
            [
                {"workload": workload.name, "item": name, "code": code, "message": message}
                | {"status": runs.UNRESOLVED if code in REFUSED_NAME_REASONS else runs.REFUSED}
                | {"graph_request_id": graph_request_id}
                for name, code, message, graph_request_id in refused
            ]
        )
        activated = []
        for session_id, bulk_id, items in created:
            session = restore_flow.activate_when_allowed(stub, session_id, timeout)
            activated.append((session_id, bulk_id, items, time.monotonic()))
            seen(session)
        for session_id, bulk_id, items, activated_at in activated:
            try:
                _wait_for_end(stub, session_id, seen, timeout, pace, activated_at, items)
            finally:
                pace.stops(session_id)
            _name_not_restored(workload, stub, session_id, bulk_id, progress, lock, timeout, record)

    size = share(len(names), sessions)
    chunks = [names[start : start + size] for start in range(0, len(names), size)]
    with ThreadPoolExecutor(max_workers=len(chunks)) as pool:
        for done in [pool.submit(restore, chunk) for chunk in chunks]:
            done.result()


def _name_not_restored(
    workload: Workload,
    stub: Any,
    session_id: str,
    bulk_id: str,
    progress: Progress,
    lock: threading.Lock,
    timeout: float,
    record: RunRecord,
) -> None:
    """An ended session's names its bulk request could not resolve and artifacts that
    failed, into `progress` and the run record."""
    bulk = restore_flow.retrying(
        workload.rpc(stub, "Get{noun}RestoreArtifactsBulkAdditionRequest"),
        workload.message(
            "Get{noun}RestoreArtifactsBulkAdditionRequestRequest",
            restore_session_id=session_id,
            bulk_addition_request_id=bulk_id,
        ),
        timeout,
        RETRY_PATIENCE_S,
    )
    unresolved = [
        (detail.target or detail.message, detail.code, detail.message)
        for detail in bulk.error.details
    ]
    artifacts = _artifacts(workload, stub, session_id, timeout)
    failed = [
        (f"restore point {a.restore_point.id}", a.error.code, a.error.message)
        for a in artifacts
        if a.status == pb.ARTIFACT_RESTORE_STATUS_FAILED
    ]
    with lock:
        progress.not_restored += unresolved + failed
    record.items(
        [
            {"workload": workload.name, "status": runs.UNRESOLVED, "item": what, "code": code}
            | {"message": message, "restore_session_id": session_id}
            for what, code, message in unresolved
        ]
        + [artifact_result(workload.name, session_id, a) for a in artifacts]
    )


class Pace:
    """How fast sessions restore, learnt by reading one session of the run and shared by
    all: Graph's sessions restore alike, so the others are read once, when the pace says
    they end, not again and again to learn their own. The one read is the first of the
    run's largest sessions to ask (or, after LEARNER_WAIT_S, the first to ask): a
    session's time per artifact shrinks as it grows (what every session takes besides
    its artifacts is spread over more), so a smaller one's pace would put the largest
    ones' ends, the run's end, late.

    The model: a session restores its artifacts one after another at `per_artifact_s`,
    starting `lead_s` after its activation's answer. A session that ends before the
    run's last is read later than its own margin says (the run waits for the last
    anyway), so that a read does not come before its end where the model fits it less
    well (a smaller session, say)."""

    def __init__(self, largest: int) -> None:
        self._lock = threading.Lock()
        self.known = threading.Event()
        self._largest = largest
        self._since = time.monotonic()
        self.per_artifact_s = 0.0
        self.lead_s = 0.0
        self._learner = ""
        # Session id -> (when it was activated as the pace has it, its artifacts).
        self._sessions: dict[str, tuple[float, int]] = {}

    def learns(self, session_id: str, items: int) -> bool:
        """Whether `session_id` (of `items` artifacts) is the one read to learn the pace."""
        with self._lock:
            waited = time.monotonic() - self._since >= LEARNER_WAIT_S
            if not self._learner and (items >= self._largest or waited):
                self._learner = session_id
            return self._learner == session_id

    def stops(self, session_id: str) -> None:
        """`session_id` is read no more: if it was learning, another session takes over."""
        with self._lock:
            self._sessions.pop(session_id, None)
            if self._learner == session_id and not self.known.is_set():
                self._learner = ""

    def learnt(self, per_artifact_s: float, lead_s: float) -> None:
        with self._lock:
            self.per_artifact_s, self.lead_s = per_artifact_s, lead_s
        self.known.set()

    def follows(self, session_id: str, activated_at: float, items: int) -> None:
        with self._lock:
            self._sessions[session_id] = (activated_at, items)

    def ends_at(self, session_id: str) -> float:
        """When the session ends by the pace, with a margin (monotonic)."""
        with self._lock:
            return self._end(session_id, PACE_MARGIN)

    def read_at(self, session_id: str) -> float:
        """When to read the session: when it ends by the pace, or as late as a wider
        margin allows while the run's last session has not ended (a read then costs the
        run no time, and is likelier to find it ended)."""
        with self._lock:
            last = max(self._end(session, PACE_MARGIN) for session in self._sessions)
            end = self._end(session_id, PACE_MARGIN)
            return max(end, min(last, self._end(session_id, LATE_MARGIN)))

    def _end(self, session_id: str, margin: float) -> float:
        activated_at, items = self._sessions[session_id]
        return activated_at + (self.lead_s + items * self.per_artifact_s) * margin


def _wait_for_end(
    stub: Any,
    session_id: str,
    seen: Callable[[pb.RestoreSession], None],
    timeout: float,
    pace: Pace,
    activated_at: float,
    items: int,
) -> None:
    """Read the session until it has ended, each read shown to `seen`. The session that
    learns the pace reads with backoff until artifacts finish, then once POLL_MAX_S later
    to measure the pace (and halfway to its end to refine it, if fewer than
    MEASURED_ENOUGH finished in between); every session then sleeps until the pace says
    it ends (re-reckoned as the pace is refined) and reads it, so a long restore costs a
    read or two, not one a second as a watch would make. It is never taken as ended
    before Graph says so."""
    request = onedrive_pb.GetRestoreSessionRequest(restore_session_id=session_id)
    interval_s = POLL_MIN_S
    first: tuple[float, int] | None = None  # (when, artifacts finished) once it restored
    read_at = 0.0
    share = items
    halfway = pace.learns(session_id, share)
    pace.follows(session_id, activated_at, items)

    def due() -> float:
        if halfway:  # The learner reads once more halfway, to refine the pace for all.
            return max((read_at + pace.ends_at(session_id)) / 2, read_at + POLL_MIN_S)
        return max(pace.read_at(session_id), read_at + POLL_MIN_S)

    while True:
        learner = pace.learns(session_id, share)
        if pace.known.is_set():
            while (due_s := due() - time.monotonic()) > 0:
                time.sleep(min(due_s, POLL_MIN_S))
            halfway = False
        elif learner:
            time.sleep(interval_s)
            interval_s = min(interval_s * POLL_BACKOFF, POLL_MAX_S)
        else:
            pace.known.wait(POLL_MIN_S)
            continue
        session = restore_flow.retrying(stub.GetRestoreSession, request, timeout, RETRY_PATIENCE_S)
        seen(session)
        if session.status in restore_flow.TERMINAL:
            return
        counts = session.restore_session_artifact_count
        finished, read_at = counts.completed + counts.failed, time.monotonic()
        items = counts.total or items
        if first is None and finished:
            # Measured over the longest read interval, then, not the next in the backoff.
            first, interval_s = (read_at, finished), POLL_MAX_S
        elif learner and first is not None and finished > first[1]:
            per_artifact_s = (read_at - first[0]) / (finished - first[1])
            halfway = halfway and finished - first[1] < MEASURED_ENOUGH
            pace.learnt(per_artifact_s, read_at - activated_at - finished * per_artifact_s)
        if pace.known.is_set() and finished:
            # Where this session is (it may run behind the pace): its end from here.
            activated_at = read_at - pace.lead_s - finished * pace.per_artifact_s
        pace.follows(session_id, activated_at, items)


def artifact_result(workload: str, session_id: str, artifact: Any) -> dict[str, Any]:
    """One artifact's result for the run record."""
    status = {
        pb.ARTIFACT_RESTORE_STATUS_SUCCEEDED: runs.RESTORED,
        pb.ARTIFACT_RESTORE_STATUS_FAILED: runs.FAILED,
    }.get(artifact.status, pb.ArtifactRestoreStatus.Name(artifact.status).lower())
    completed = artifact.completion_date_time
    return {
        "workload": workload,
        "status": status,
        "item": f"restore point {artifact.restore_point.id}",
        "restore_point_id": artifact.restore_point.id,
        "restore_session_id": session_id,
        "artifact_id": artifact.id,
        "code": artifact.error.code,
        "message": artifact.error.message,
        "completed": completed.ToJsonString() if completed.seconds else "",
    }


def _record_not_placed(
    record: RunRecord, progress: Progress, names: list[str], error: grpc.RpcError
) -> None:
    """A workload stopped by a failed call: its names in no session and not named
    yet are refused (the policy said no) or failed, with the call's code."""
    placed = {
        n for s in record.data["sessions"] if s["workload"] == progress.workload for n in s["names"]
    }
    placed |= {what for what, _, _ in progress.not_restored}
    refused = isinstance(error, grpc.Call) and error.code() == grpc.StatusCode.PERMISSION_DENIED
    code = reason_of(error) or (error.code().name if isinstance(error, grpc.Call) else "")
    record.items(
        [
            {"workload": progress.workload, "status": runs.REFUSED if refused else runs.FAILED}
            | {"item": name, "code": code, "message": progress.error}
            | {"graph_request_id": runs.graph_request_id(error)}
            for name in names
            if name not in placed
        ]
    )


def _artifacts(workload: Workload, stub: Any, session_id: str, timeout: float) -> list[Any]:
    def fetch(token: str) -> tuple[list[Any], str]:
        page = restore_flow.retrying(
            workload.rpc(stub, "List{noun}RestoreArtifacts"),
            workload.message(
                "List{noun}RestoreArtifactsRequest",
                restore_session_id=session_id,
                page_size=1000,
                page_token=token,
            ),
            timeout,
            RETRY_PATIENCE_S,
        )
        return list(getattr(page, workload.artifacts_field)), page.next_page_token

    return list(restore_flow.every_page(fetch))


def everything_restored(progress: list[Progress]) -> bool:
    for item in progress:
        total, completed, _, _ = item.counts()
        if item.error or item.not_restored or completed != total or total < item.names:
            return False
    return True


def summary(progress: list[Progress]) -> list[str]:
    """One line per workload, then one per item not restored."""
    lines = []
    for item in progress:
        total, completed, failed, _ = item.counts()
        unresolved = item.names - total - item.refused
        lines.append(
            f"{item.workload:<10} {completed} of {item.names} restored in "
            f"{len(item.sessions)} session{'' if len(item.sessions) == 1 else 's'}, "
            f"{failed} failed, {max(unresolved, 0)} unresolved, {item.refused} refused"
            + (f", {item.error}" if item.error else "")
        )
    for item in progress:
        for what, code, message in item.not_restored:
            lines.append(f"NOT RESTORED {item.workload} {what}: {code}: {message}")
    return lines


def as_json(progress: list[Progress]) -> dict[str, Any]:
    workloads = {}
    for item in progress:
        total, completed, failed, _ = item.counts()
        workloads[item.workload] = {
            "named": item.names,
            "restore_session_ids": list(item.sessions),
            "total": total,
            "completed": completed,
            "failed": failed,
            "error": item.error,
            "not_restored": [
                {"item": what, "code": code, "message": message}
                for what, code, message in item.not_restored
            ],
        }
    return {"everything_restored": everything_restored(progress), "workloads": workloads}
