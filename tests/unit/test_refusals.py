"""The refused-call budget's arithmetic, on a clock the test moves."""

from __future__ import annotations

import pytest
from graphrestore_gateway.access.refusals import RefusalBudget, key_of


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_minutes_refusals_at_once_then_one_every_interval() -> None:
    clock = Clock()
    budget = RefusalBudget(per_minute=60, clock=clock)
    caller = key_of("spiffe://corp/a", "ipv4:10.0.0.1:5000")
    for _ in range(60):
        assert budget.wait_s(caller) == 0
        budget.charge(caller)
    assert budget.wait_s(caller) == pytest.approx(1.0)
    clock.now += 0.25
    assert budget.wait_s(caller) == pytest.approx(0.75)
    clock.now += 0.75
    assert budget.wait_s(caller) == 0
    # Another caller, or the same address without an identity, has a budget of its own.
    assert budget.wait_s(key_of("spiffe://corp/b", "ipv4:10.0.0.1:5000")) == 0
    assert budget.wait_s(key_of("", "ipv4:10.0.0.1:5000")) == 0


def test_calls_without_an_identity_share_their_address_whatever_the_port() -> None:
    assert key_of("", "ipv4:10.0.0.1:5000") == key_of("", "ipv4:10.0.0.1:6000")
    assert key_of("", "ipv6:[::1]:5000") == ("peer", "ipv6:[::1]")
    # A caller's id is never taken for an address, whatever it says.
    assert key_of("ipv4:10.0.0.1", "ipv4:10.0.0.1:5000") != key_of("", "ipv4:10.0.0.1:5000")
