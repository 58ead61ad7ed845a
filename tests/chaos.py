"""The chaos run: many callers create restore sessions through two gateway replicas that
share Redis, while the emulator injects every fault kind at random and one replica is
killed (-9) and restarted mid-run. Callers retry with the same request_id until they get
a session. Deterministic from its seed (the faults' timing meets the callers' timing,
so which call meets which fault may vary; the outcome must not).

At the end: exactly one session per request, and every caller got that session."""

from __future__ import annotations

import random
import signal
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import grpc
from graphrestore.v1 import onedrive_restore_service_pb2 as service_pb
from graphrestore.v1 import onedrive_restore_service_pb2_grpc as service_grpc
from graphrestore.v1 import restore_session_pb2 as pb
from processes import Emulator, Gateway, start_gateway

RETRY_CODES = {
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.INTERNAL,  # a 5xx that may have applied: the retry reconciles
}
# Faults after which the right final outcome is still one session per request.
FAULTS = [
    {"kind": "status", "status": 429, "code": "TooManyRequests", "retry_after_s": 1},
    {"kind": "status", "status": 503, "code": "serviceNotAvailable", "retry_after_s": 1},
    {"kind": "status", "status": 504, "code": "gatewayTimeout"},
    {"kind": "delay", "delay_s": 0.3},
    {"kind": "drop"},
    {"kind": "malformed", "status": 201},
    {"kind": "truncated"},
    {"kind": "apply_then_drop"},
    {"kind": "apply_then_status", "status": 504, "code": "gatewayTimeout"},
    {"kind": "apply_then_status", "status": 500, "code": "InternalServerError"},
]


@dataclass
class Report:
    seed: int
    requests: int
    callers: int
    faults_injected: Counter[str] = field(default_factory=Counter)
    calls: int = 0
    retries: int = 0
    reconciliations: int = 0
    sessions: int = 0
    duplicates: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    wrong_answers: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def ok(self) -> bool:
        return not (self.duplicates or self.missing or self.wrong_answers)

    def __str__(self) -> str:
        faults = ", ".join(f"{k} {v}" for k, v in sorted(self.faults_injected.items()))
        return (
            f"seed {self.seed}: {self.requests} requests by {self.callers} callers in "
            f"{self.seconds:.1f}s; {self.calls} calls, {self.retries} retries, "
            f"{self.reconciliations} reconciliations; faults: {faults}; "
            f"{self.sessions} sessions, duplicates {len(self.duplicates)}, "
            f"missing {len(self.missing)}, wrong answers {len(self.wrong_answers)}"
        )


class Replicas:
    """Two gateways sharing Redis; one can be killed and restarted while callers call."""

    def __init__(self, env: dict[str, str]) -> None:
        self._env = env
        self._lock = threading.Lock()
        self.started: list[Gateway] = []
        self.gateways = [self._start(), self._start()]

    def _start(self) -> Gateway:
        gateway = start_gateway({**self._env, "GRAPHRESTORE_STATE_DIR": tempfile.mkdtemp()})
        self.started.append(gateway)
        return gateway

    def address(self, pick: int) -> str:
        with self._lock:
            return self.gateways[pick % 2].address

    def kill_and_restart_first(self) -> None:
        with self._lock:
            doomed = self.gateways[0]
        doomed.process.send_signal(signal.SIGKILL)
        doomed.process.wait(timeout=10)
        fresh = self._start()
        with self._lock:
            self.gateways[0] = fresh

    def stop(self) -> None:
        for gateway in self.started:  # the killed ones too: what they wrote is read
            gateway.stop()


def run(emulator: Emulator, redis_url: str, seed: int, requests: int, callers: int) -> Report:
    rng = random.Random(seed)
    run_id = uuid.UUID(int=rng.getrandbits(128)).hex[:8]
    plan = [
        service_pb.CreateRestoreSessionRequest(
            restore_session=pb.RestoreSession(
                drive_restore_artifacts=[
                    pb.DriveRestoreArtifact(
                        restore_point=pb.RestorePoint(id=f"chaos-{run_id}-{index}-{n}"),
                        destination_type=pb.DESTINATION_TYPE_NEW,
                    )
                    for n in range(1 + rng.randrange(3))
                ]
            ),
            request_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        )
        for index in range(requests)
    ]
    fault_plan = [rng.choice(FAULTS) for _ in range(requests // 3)]
    report = Report(seed, requests, callers)
    faults_before = Counter(emulator.counters()["faults_injected"])
    env = {
        **emulator.gateway_env(),
        "GRAPHRESTORE_REDIS_URL": redis_url,
        "GRAPHRESTORE_GRAPH_RATE": "100000",
        "GRAPHRESTORE_GRAPH_BURST": "100000",
    }
    replicas = Replicas(env)
    answers: dict[str, str] = {}
    queue = list(plan)
    lock = threading.Lock()
    done = threading.Event()
    started = time.monotonic()

    def caller(number: int) -> None:
        caller_rng = random.Random(seed * 1000 + number)
        while True:
            with lock:
                if not queue:
                    return
                request = queue.pop()
            while True:
                address = replicas.address(caller_rng.randrange(2))
                with grpc.insecure_channel(address) as channel:
                    stub = service_grpc.OneDriveRestoreServiceStub(channel)
                    try:
                        with lock:
                            report.calls += 1
                        session = stub.CreateRestoreSession(request, timeout=30)
                    except grpc.RpcError as error:
                        if error.code() not in RETRY_CODES:
                            raise
                        with lock:
                            report.retries += 1
                        time.sleep(0.05 + caller_rng.random() * 0.2)
                        continue
                with lock:
                    answers[request.request_id] = session.id
                break

    def injector() -> None:
        for rule in fault_plan:
            if done.is_set():
                return
            emulator.fault_on_create(**rule)
            time.sleep(rng.uniform(0.01, 0.05))

    def killer() -> None:
        while len(answers) < requests // 2 and not done.is_set():
            time.sleep(0.05)
        if not done.is_set():
            replicas.kill_and_restart_first()

    threads = [threading.Thread(target=caller, args=(n,)) for n in range(callers)]
    helpers = [threading.Thread(target=injector), threading.Thread(target=killer)]
    for thread in threads + helpers:
        thread.start()
    try:
        for thread in threads:
            thread.join()
    finally:
        done.set()
        for thread in helpers:
            thread.join()
        emulator.clear_faults()
        report.seconds = time.monotonic() - started
        replicas.stop()  # and every line they wrote read
        report.reconciliations = sum(
            "reconciled: the interrupted create" in line
            for gateway in replicas.started
            for line in gateway.log_lines
        )
    report.faults_injected = Counter(emulator.counters()["faults_injected"]) - faults_before
    _verify(emulator, plan, answers, run_id, report)
    return report


def _verify(
    emulator: Emulator,
    plan: list[service_pb.CreateRestoreSessionRequest],
    answers: dict[str, str],
    run_id: str,
    report: Report,
) -> None:
    sessions = [
        s
        for s in emulator.control.get("/_emulator/sessions").json()["sessions"]
        if any(p.startswith(f"chaos-{run_id}-") for p in s["restore_point_ids"])
    ]
    report.sessions = len(sessions)
    owner_of = {}
    for request in plan:
        for artifact in request.restore_session.drive_restore_artifacts:
            owner_of[artifact.restore_point.id] = request.request_id
    sessions_of: dict[str, list[dict[str, object]]] = {r.request_id: [] for r in plan}
    for session in sessions:
        owners = {owner_of[p] for p in session["restore_point_ids"]}
        for owner in owners:
            sessions_of[owner].append(session)
    for request in plan:
        found = sessions_of[request.request_id]
        wanted = sorted(a.restore_point.id for a in request.restore_session.drive_restore_artifacts)
        if len(found) > 1:
            report.duplicates.append(request.request_id)
        elif not found:
            report.missing.append(request.request_id)
        elif (
            answers.get(request.request_id) != found[0]["id"]
            or sorted(found[0]["restore_point_ids"]) != wanted  # type: ignore[arg-type]
        ):
            report.wrong_answers.append(request.request_id)
