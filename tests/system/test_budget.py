"""The tenant's Graph budget: shared by callers and replicas, paused by a 429, and a call
that cannot start before its deadline is refused at once."""

from __future__ import annotations

import itertools
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
from graphrestore.v1 import onedrive_restore_service_pb2_grpc as service_grpc
from helpers import create_request, error_info, retry_delay_s, wait_for
from pki import Issued
from processes import CREATE_PATH, Emulator, own_gateway, start_mtls_gateway


def create_posts_since(emulator: Emulator, since: float) -> list[float]:
    return sorted(
        r["time"]
        for r in emulator.journal()
        if r["method"] == "POST" and r["path"] == CREATE_PATH and r["time"] >= since
    )


def test_a_429_pauses_every_call_not_just_its_own(emulator: Emulator) -> None:
    with own_gateway(emulator.gateway_env()) as (_, stub):
        stub.CreateRestoreSession(create_request("rp-warm"), timeout=10)
        emulator.fault_on_create(
            kind="status",
            status=429,
            code="TooManyRequests",
            retry_after_s=2,
        )
        started = time.time()
        throttled = threading.Thread(
            target=lambda: stub.CreateRestoreSession(create_request("rp-429"), timeout=20)
        )
        throttled.start()
        # The bystander goes only once the throttled call has reached Graph (its 429).
        assert wait_for(lambda: bool(create_posts_since(emulator, started)), within_s=10)
        stub.CreateRestoreSession(create_request("rp-bystander"), timeout=20)
        throttled.join()
    first_429, *after = create_posts_since(emulator, started)
    assert len(after) == 2
    # Nothing was sent while Graph's Retry-After ran, whoever asked.
    assert min(after) - first_429 >= 1.9


def test_no_room_before_the_deadline_is_resource_exhausted_at_once(emulator: Emulator) -> None:
    env = {
        **emulator.gateway_env(),
        "GRAPHRESTORE_GRAPH_RATE": "1",
        "GRAPHRESTORE_GRAPH_BURST": "1",
    }
    with own_gateway(env) as (_, stub):
        posts_before = emulator.posts_to_create()

        def create(index: int) -> grpc.RpcError | None:
            try:
                stub.CreateRestoreSession(create_request(f"rp-budget-{index}"), timeout=1.5)
            except grpc.RpcError as error:
                return error
            return None

        with ThreadPoolExecutor(5) as pool:
            outcomes = list(pool.map(create, range(5)))
    refused = [e for e in outcomes if e is not None]
    assert 0 < len(refused) < 5
    for error in refused:
        assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert error_info(error).reason == "THROTTLE_BUDGET_EXHAUSTED"
        assert retry_delay_s(error)
    assert emulator.posts_to_create() - posts_before == 5 - len(refused)


def test_replicas_sharing_redis_share_one_budget(emulator: Emulator, redis_url: str) -> None:
    env = {
        **emulator.gateway_env(),
        "GRAPHRESTORE_REDIS_URL": redis_url,
        "GRAPHRESTORE_GRAPH_RATE": "2",
        "GRAPHRESTORE_GRAPH_BURST": "1",
    }
    with own_gateway(env) as (_, first), own_gateway(env) as (_, second):
        started = time.time()
        with ThreadPoolExecutor(6) as pool:
            list(
                pool.map(
                    lambda i: (first if i % 2 else second).CreateRestoreSession(
                        create_request(f"rp-shared-{i}"), timeout=30
                    ),
                    range(6),
                )
            )
    posts = create_posts_since(emulator, started)
    assert len(posts) == 6
    gaps = [later - earlier for earlier, later in itertools.pairwise(posts)]
    # 2 per second across both replicas: 0.5 s apart, less the jitter of three processes
    # on two cores (two unshared buckets would send pairs at once).
    assert min(gaps) >= 0.3


# Calls the noisy caller sends at once: three times what its share of the queue holds.
FLOOD = 200


def test_a_noisy_caller_cannot_fill_the_queue_in_front_of_the_others(
    emulator: Emulator, tmp_path: Path
) -> None:
    mtls = start_mtls_gateway(
        {
            **emulator.gateway_env(),
            "GRAPHRESTORE_GRAPH_RATE": "20",
            "GRAPHRESTORE_GRAPH_BURST": "1",
        },
        tmp_path,
        "".join(
            f'[[callers]]\nid = "cn:{name}"\nmethods = ["CreateRestoreSession"]\n'
            'destination_types = ["new"]\nmax_artifacts = 5\n'
            for name in ("noisy-bot", "quiet-bot")
        ),
    )
    gateway = mtls.gateway
    noisy, quiet = mtls.ca.issue("noisy", "noisy-bot"), mtls.ca.issue("quiet", "quiet-bot")

    def stub_of(who: Issued) -> service_grpc.OneDriveRestoreServiceStub:
        return mtls.stub(who)[1]

    try:
        loud = stub_of(noisy)
        flood = [
            loud.CreateRestoreSession.future(create_request(f"rp-noisy-{i}"), timeout=60)
            for i in range(FLOOD)
        ]
        # The flood has arrived once the calls past the caller's share are refused.
        assert wait_for(lambda: sum(call.done() for call in flood) >= 100, within_s=30)
        started = time.monotonic()
        assert stub_of(quiet).CreateRestoreSession(create_request("rp-quiet"), timeout=30).id
        quiet_wait_s = time.monotonic() - started
        refused = []
        for call in flood:
            try:
                call.result()
            except grpc.RpcError as error:
                refused.append(error_info(error).reason)
    finally:
        gateway.stop()
    # At most 64 of the noisy caller's calls waited; the rest were refused at once
    # (fewer than 136 when some were served while the flood was still arriving: on two
    # busy cores it arrives over a second or two, 20 served a second)...
    assert len(refused) >= 20
    assert set(refused) == {"THROTTLE_BUDGET_EXHAUSTED"}
    # ...so the quiet caller waited behind at most 64 calls at 20/s, not behind 100.
    assert quiet_wait_s < 100 / 20
