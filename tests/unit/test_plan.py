"""plan.py's units CSV and time model."""

from __future__ import annotations

from pathlib import Path

from graphrestore import plan


def test_units_from_the_emulators_files_and_an_admins_export(tmp_path: Path) -> None:
    drives = tmp_path / "protected-drives.csv"
    drives.write_text("protection_unit_id,email,directory_object_id\nu-1,Alice@Contoso.com,o-1\n")
    assert plan.read_units(str(drives)) == {("onedrive", "alice@contoso.com"): "u-1"}
    every = tmp_path / "protected.csv"
    every.write_text(
        "workload,email,site_url,protection_unit_id\n"
        "onedrive,a@contoso.com,,u-d\nexchange,a@contoso.com,,u-m\n"
        "sharepoint,,https://contoso.sharepoint.com/sites/x/,u-s\n"
    )
    assert plan.read_units(str(every)) == {
        ("onedrive", "a@contoso.com"): "u-d",
        ("exchange", "a@contoso.com"): "u-m",
        ("sharepoint", "https://contoso.sharepoint.com/sites/x"): "u-s",
    }


def workload(sessions: int, rows: int, calls: int) -> plan.WorkloadPlan:
    return plan.WorkloadPlan("onedrive", rows, sessions=sessions, graph_calls=calls)


def test_sessions_run_in_waves_of_the_active_limit() -> None:
    model = plan.Model(graph_calls_per_minute=1_000_000, session_minutes=10)
    found = plan.estimate([workload(26, 26, 0), workload(24, 24, 0)], model)
    assert (found["waves_of_active_sessions"], found["minutes_for_sessions"]) == (2, 20)
    assert found["expected_minutes"] == 20


def test_a_small_budget_makes_the_calls_the_longer_part() -> None:
    model = plan.Model(graph_calls_per_minute=100, session_minutes=5)
    found = plan.estimate([workload(1, 10, 3000)], model)
    assert found["minutes_for_graph_calls"] == 30
    assert found["expected_minutes"] == 30
