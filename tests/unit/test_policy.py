"""Policy decisions, without a gateway: who matches which rule, and what each rule refuses."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from graphrestore.v1 import restore_session_pb2 as pb
from graphrestore_gateway.access.policy import PolicyError, load_policy
from graphrestore_gateway.access.policy_source import PolicySource
from graphrestore_gateway.exceptions import Denied
from graphrestore_gateway.metrics import REGISTRY
from graphrestore_gateway.restore.restores import Restores

POLICY = """
[[callers]]
id = "spiffe://corp/ns/ops/*"
methods = ["GetRestoreSession"]

[[callers]]
id = "spiffe://corp/ns/ops/sa/admin"
methods = ["CreateRestoreSession", "AddDriveRestoreArtifacts"]
destination_types = ["new"]
max_artifacts = 5
protection_unit_ids = ["u-1"]
sessions = "any"
"""


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(POLICY)
    return path


def test_an_exact_id_wins_and_a_cn_never_matches_a_uri_rule(policy_file: Path) -> None:
    policy = load_policy(policy_file)
    admin = policy.admit("spiffe://corp/ns/ops/sa/admin", "onedrive", "CreateRestoreSession")
    assert admin.sees_every_session and admin.restricts_units and admin.restricts_destinations
    assert not policy.admit(
        "spiffe://corp/ns/ops/sa/other", "onedrive", "GetRestoreSession"
    ).sees_every_session
    with pytest.raises(Denied) as denied:
        policy.admit("cn:spiffe://corp/ns/ops/sa/admin", "onedrive", "GetRestoreSession")
    assert denied.value.reason == "UNKNOWN_CALLER"


@pytest.mark.parametrize(
    ("restores", "already", "reason"),
    [
        (Restores(frozenset({pb.DESTINATION_TYPE_IN_PLACE}), 1), 0, "DESTINATION_TYPE_NOT_ALLOWED"),
        (Restores(frozenset({pb.DESTINATION_TYPE_NEW}), 3), 3, "TOO_MANY_ARTIFACTS"),
        (
            Restores(frozenset({pb.DESTINATION_TYPE_NEW}), 1, unverifiable_names=1),
            0,
            "PROTECTION_UNITS_UNVERIFIABLE",
        ),
    ],
)
def test_each_rule_refuses_with_its_reason(
    policy_file: Path, restores: Restores, already: int, reason: str
) -> None:
    rule = load_policy(policy_file).admit(
        "spiffe://corp/ns/ops/sa/admin", "onedrive", "CreateRestoreSession"
    )
    with pytest.raises(Denied) as denied:
        rule.check_restores("admin", restores, already)
    assert denied.value.reason == reason


def test_units_unknown_or_outside_the_list_are_refused(policy_file: Path) -> None:
    rule = load_policy(policy_file).admit(
        "spiffe://corp/ns/ops/sa/admin", "onedrive", "CreateRestoreSession"
    )
    rule.check_units("admin", ["u-1", "u-1"])
    refusals = []
    for units in (["u-1", "u-2"], ["u-1", ""]):
        with pytest.raises(Denied) as denied:
            rule.check_units("admin", units)
        assert denied.value.reason == "PROTECTION_UNIT_NOT_ALLOWED"
        refusals.append(str(denied.value))
    # A unit looked up is never told, and an unknown one reads the same; one the caller
    # named itself is quoted back.
    assert refusals[0] == refusals[1] and "u-2" not in refusals[0]
    with pytest.raises(Denied, match="'u-2'"):
        rule.check_units("admin", ["u-2"], named=True)


def test_sessions_must_be_own_or_any(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text('[[callers]]\nid = "x"\nmethods = []\nsessions = "some"\n')
    with pytest.raises(PolicyError, match="sessions"):
        load_policy(path)


def test_a_reload_finds_an_edit_by_its_content_not_its_times(policy_file: Path) -> None:
    source = PolicySource(policy_file)
    told: list[PolicyError | None] = []
    source.on_reload(told.append)
    admin = "spiffe://corp/ns/ops/sa/admin"
    before = os.stat(policy_file)
    policy_file.write_text(POLICY.replace('"u-1"', '"u-2"'))  # the same size
    os.utime(policy_file, ns=(before.st_atime_ns, before.st_mtime_ns))

    def units() -> frozenset[str] | None:
        policy = source.current()
        assert policy is not None
        return policy.admit(admin, "onedrive", "CreateRestoreSession").protection_unit_ids

    assert units() == {"u-1"}  # the file's times say nothing changed
    source.reload()  # what the gateway does every RELOAD_EVERY_S
    assert units() == {"u-2"}
    assert told == [None]


def test_a_broken_edit_keeps_the_last_good_policy_and_is_told_once(policy_file: Path) -> None:
    source = PolicySource(policy_file)
    told: list[PolicyError | None] = []
    source.on_reload(told.append)
    in_force = source.current()
    failures = REGISTRY.get_sample_value("graphrestore_policy_reload_failures_total") or 0.0
    policy_file.write_text(POLICY.replace("max_artifacts = 5", "max_artifacts = -5"))
    for _ in range(3):
        assert source.current() is in_force
        source.reload()
    [refused] = told
    assert refused is not None and (refused.line, refused.column) == (10, 1)
    assert str(refused).startswith(f"{policy_file}:10:1: callers[1].max_artifacts")
    assert REGISTRY.get_sample_value("graphrestore_policy_reload_failures_total") == failures + 1
    policy_file.write_text(POLICY)
    source.reload()
    assert told == [refused, None] and source.refused is None
