"""The chaos run, a shorter seed set (`make chaos` runs the full one)."""

from __future__ import annotations

import chaos
import pytest
from processes import Emulator


@pytest.mark.parametrize("seed", [7])
def test_every_request_gets_exactly_one_session_under_chaos(
    emulator: Emulator, redis_url: str, seed: int
) -> None:
    report = chaos.run(emulator, redis_url, seed=seed, requests=200, callers=6)
    print(report)
    assert report.ok(), report
    assert report.sessions == 200
    assert report.retries > 0 and sum(report.faults_injected.values()) > 0
