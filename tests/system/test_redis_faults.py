"""Redis on the bad day, against a real redis-server of each test's own: hung, it is
answered UNAVAILABLE within the Redis timeout (not at the caller's deadline); dead,
UNAVAILABLE (not INTERNAL); restarted empty, nothing is created again."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from urllib.parse import urlsplit

import grpc
import pytest
from helpers import create_request, error_info, retry_delay_s, wait_for
from processes import Emulator, own_gateway, redis_server, running_redis
from test_health import NOT_SERVING, health_of

TIMEOUT_S = 1.0


def env_for(emulator: Emulator, url: str) -> dict[str, str]:
    return {
        **emulator.gateway_env(),
        "GRAPHRESTORE_REDIS_URL": url,
        "GRAPHRESTORE_REDIS_TIMEOUT_S": str(TIMEOUT_S),
    }


def assert_unavailable(error: grpc.RpcError, reason: str) -> None:
    assert error.code() == grpc.StatusCode.UNAVAILABLE, error
    assert error_info(error).reason == reason
    assert retry_delay_s(error)


def test_a_hung_redis_is_unavailable_within_its_timeout_not_at_the_deadline(
    emulator: Emulator, tmp_path: Path
) -> None:
    with (
        redis_server(tmp_path) as (url, redis),
        own_gateway(env_for(emulator, url)) as (_, stub),
    ):
        assert stub.CreateRestoreSession(create_request("rp-before-the-hang"), timeout=10).id
        redis.send_signal(signal.SIGSTOP)  # it keeps its connections and answers nothing
        try:
            started = time.monotonic()
            with pytest.raises(grpc.RpcError) as failure:
                stub.CreateRestoreSession(create_request("rp-hung"), timeout=10)
            waited_s = time.monotonic() - started
        finally:
            redis.send_signal(signal.SIGCONT)
        assert_unavailable(failure.value, "REQUEST_STORE_UNAVAILABLE")
        assert waited_s < 3 * TIMEOUT_S
        # Redis answering again, so is the gateway.
        assert stub.CreateRestoreSession(create_request("rp-after-the-hang"), timeout=10).id


def test_a_dead_redis_is_unavailable_not_internal(emulator: Emulator, tmp_path: Path) -> None:
    with (
        redis_server(tmp_path) as (url, redis),
        own_gateway(env_for(emulator, url)) as (_, stub),
    ):
        redis.kill()
        redis.wait(timeout=10)
        with pytest.raises(grpc.RpcError) as failure:
            stub.CreateRestoreSession(create_request("rp-dead-redis"), timeout=10)
        assert_unavailable(failure.value, "REQUEST_STORE_UNAVAILABLE")


def test_a_redis_restarted_empty_creates_nothing_again(emulator: Emulator, tmp_path: Path) -> None:
    """Without persistence, a restarted Redis has forgotten every answer and owner: a
    retried create is refused rather than made a second time, and health says so."""
    request = create_request("rp-restarted-redis")
    sessions_before = emulator.counters()["sessions_created"]
    with redis_server(tmp_path) as (url, first_redis):
        port = urlsplit(url).port
        assert port is not None
        with own_gateway(env_for(emulator, url)) as (gateway, stub):
            assert stub.CreateRestoreSession(request, timeout=10).id
            first_redis.terminate()
            first_redis.wait(timeout=10)
            with running_redis(tmp_path, port):
                for retry in (request, create_request("rp-another-create")):
                    with pytest.raises(grpc.RpcError) as failure:
                        stub.CreateRestoreSession(retry, timeout=10)
                    assert_unavailable(failure.value, "REQUEST_STORE_LOST")
                assert wait_for(lambda: health_of(gateway.address) == NOT_SERVING, 10)
    assert emulator.counters()["sessions_created"] == sessions_before + 1


def test_a_redis_that_persists_keeps_serving_across_a_restart(
    emulator: Emulator, tmp_path: Path
) -> None:
    """With AOF (as the README asks), the restarted Redis holds the marker and the
    records: the retry gets the first answer."""
    request = create_request("rp-persisted-redis")
    with redis_server(tmp_path, persist=True) as (url, first_redis):
        port = urlsplit(url).port
        assert port is not None
        with own_gateway(env_for(emulator, url)) as (_, stub):
            first = stub.CreateRestoreSession(request, timeout=10)
            first_redis.terminate()
            first_redis.wait(timeout=10)
            with running_redis(tmp_path, port, persist=True):
                assert stub.CreateRestoreSession(request, timeout=10) == first
