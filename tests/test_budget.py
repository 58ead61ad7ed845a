"""The tenant's Graph budget: shared by callers and replicas, paused by a 429, and a call
that cannot start before its deadline is refused at once."""

from __future__ import annotations

import itertools
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import grpc
from helpers import create_request, error_info, retry_delay_s
from processes import CREATE_PATH, Emulator, own_gateway


def create_posts_since(emulator: Emulator, since: float) -> list[float]:
    return sorted(
        r["time"]
        for r in emulator.journal()
        if r["method"] == "POST" and r["path"] == CREATE_PATH and r["time"] >= since
    )


def test_a_429_pauses_every_call_not_just_its_own(emulator: Emulator) -> None:
    with own_gateway(emulator.gateway_env()) as (_, stub):
        stub.CreateRestoreSession(create_request("rp-warm"), timeout=10)
        emulator.fault(
            kind="status",
            method="POST",
            path=CREATE_PATH + "$",
            status=429,
            code="TooManyRequests",
            retry_after_s=2,
        )
        started = time.time()
        throttled = threading.Thread(
            target=lambda: stub.CreateRestoreSession(create_request("rp-429"), timeout=20)
        )
        throttled.start()
        time.sleep(0.3)
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
    # 2 per second across both replicas (a little slack for the two clocks involved).
    assert min(gaps) >= 0.4
