"""The realistic profile's chances repeat with its seed; restorectl's split of a large day."""

from __future__ import annotations

from email.utils import parsedate_to_datetime

from graph_emulator.realistic import Realism
from graphrestore.whole_day import sessions_per_workload


def faults(realism: Realism, requests: int) -> list[tuple[int, str | None, bool] | None]:
    return [realism.transient("POST") for _ in range(requests)]


def test_the_same_seed_gives_the_same_faults_and_another_seed_others() -> None:
    shares = {"unavailable_share": 0.2, "gateway_timeout_share": 0.1}
    first, again = Realism(seed=5, **shares), Realism(seed=5, **shares)
    assert faults(first, 500) == faults(again, 500)
    assert faults(Realism(seed=6, **shares), 500) != faults(Realism(seed=5, **shares), 500)
    points = [f"rp-{i}" for i in range(2000)]
    failing = [p for p in points if first.artifact_error(p)]
    assert failing == [p for p in points if Realism(seed=5).artifact_error(p)]
    assert 0 < len(failing) < 30  # about 0.5% of 2,000


def test_a_spent_budget_answers_retry_after_as_seconds_fractions_or_a_date() -> None:
    realism = Realism(throttle_requests=2, throttle_window_s=10)
    assert realism.throttle(100.0) is None and realism.throttle(101.0) is None
    answers = {realism.throttle(102.5) for _ in range(200)}
    assert "8" in answers and "7.500" in answers
    dates = [a for a in answers if a and not a.replace(".", "").isdigit()]
    assert dates and parsedate_to_datetime(dates[0]).tzinfo is not None
    # A new window, a new budget.
    assert realism.throttle(110.0) is None


def test_a_large_day_is_split_into_up_to_25_sessions_the_largest_as_small_as_can_be() -> None:
    day = sessions_per_workload({"onedrive": 10_000, "exchange": 10_000, "sharepoint": 1000})
    # 11 + 11 + 2: a 25th session would not make the largest smaller, only cost calls.
    assert day == {"onedrive": 11, "exchange": 11, "sharepoint": 2}
    assert max(-(-10_000 // day["onedrive"]), -(-1000 // day["sharepoint"])) <= 910
    # A small day stays in one session per workload; 20,000 names need two at least.
    assert sessions_per_workload({"onedrive": 60, "sharepoint": 10}) == {
        "onedrive": 1,
        "sharepoint": 1,
    }
    assert sessions_per_workload({"onedrive": 20_000})["onedrive"] == 25
