"""The policy file (access/policy.py): which rule a caller gets, what each key grants and
refuses, and a broken file named at the line and column of its first problem."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphrestore.v1 import restore_session_pb2 as pb
from graphrestore_gateway.access.policy import (
    RPCS,
    Policy,
    PolicyError,
    load_policy,
    parse_policy,
)
from graphrestore_gateway.exceptions import Denied
from graphrestore_gateway.restore.restores import Restores
from graphrestore_gateway.restore.workloads import WORKLOADS

NEW, IN_PLACE = pb.DESTINATION_TYPE_NEW, pb.DESTINATION_TYPE_IN_PLACE


def policy(text: str) -> Policy:
    return parse_policy(text.encode(), "policy.toml")


def refusal(error: pytest.ExceptionInfo[Denied]) -> str:
    return error.value.reason


RULES = policy(
    """
[[callers]]
id = "spiffe://corp/*"
methods = ["GetRestoreSession"]

[[callers]]
id = "spiffe://corp/ns/ops/*"
methods = ["ListRestoreSessions"]

[[callers]]
id = "spiffe://corp/ns/ops/sa/admin"
methods = ["CreateRestoreSession"]
"""
)


@pytest.mark.parametrize(
    ("caller", "rule_id"),
    [
        ("spiffe://corp/ns/ops/sa/admin", "spiffe://corp/ns/ops/sa/admin"),
        ("spiffe://corp/ns/ops/sa/admin2", "spiffe://corp/ns/ops/*"),
        ("spiffe://corp/ns/ops/", "spiffe://corp/ns/ops/*"),
        ("spiffe://corp/ns/dev/sa/x", "spiffe://corp/*"),
        ("spiffe://corp/", "spiffe://corp/*"),
        ("spiffe://corp", None),
        ("spiffe://corpx/ns/ops", None),
        ("SPIFFE://corp/ns/ops/sa/admin", None),
        ("", None),
    ],
)
def test_an_exact_id_wins_then_the_longest_prefix(caller: str, rule_id: str | None) -> None:
    rule = RULES.rule_for(caller)
    assert (rule.id if rule else None) == rule_id


def test_a_star_inside_an_id_is_no_wildcard() -> None:
    rules = policy('[[callers]]\nid = "spiffe://*/admin"\nmethods = []\n')
    assert rules.rule_for("spiffe://corp/admin") is None
    assert rules.rule_for("spiffe://*/admin") is not None


def test_admit_refuses_unknown_callers_workloads_and_methods_in_that_order() -> None:
    rules = policy(
        '[[callers]]\nid = "bot"\nmethods = ["GetRestoreSession"]\nworkloads = ["exchange"]\n'
    )
    with pytest.raises(Denied) as unknown:
        rules.admit("stranger", "exchange", "GetRestoreSession")
    assert refusal(unknown) == "UNKNOWN_CALLER"
    with pytest.raises(Denied) as workload:
        rules.admit("bot", "onedrive", "DeleteRestoreSession")
    assert refusal(workload) == "WORKLOAD_NOT_ALLOWED"
    with pytest.raises(Denied) as method:
        rules.admit("bot", "exchange", "DeleteRestoreSession")
    assert refusal(method) == "METHOD_NOT_ALLOWED"
    assert rules.admit("bot", "exchange", "GetRestoreSession").id == "bot"


def test_a_rule_without_workloads_means_onedrive_only() -> None:
    rules = policy('[[callers]]\nid = "old"\nmethods = ["GetRestoreSession"]\n')
    assert rules.admit("old", "onedrive", "GetRestoreSession")
    for workload in set(WORKLOADS) - {"onedrive"}:
        with pytest.raises(Denied):
            rules.admit("old", workload, "GetRestoreSession")


@pytest.mark.parametrize("method", sorted(RPCS))
def test_every_rpc_can_be_granted_alone(method: str) -> None:
    workloads = ", ".join(f'"{name}"' for name in WORKLOADS)
    rules = policy(f'[[callers]]\nid = "c"\nmethods = ["{method}"]\nworkloads = [{workloads}]\n')
    for workload in WORKLOADS.values():
        served = workload.service.methods_by_name
        if method in served:
            assert rules.admit("c", workload.name, method)
        other = next(name for name in served if name != method)
        with pytest.raises(Denied):
            rules.admit("c", workload.name, other)


def rule(extra: str = "") -> Policy:
    return policy(f'[[callers]]\nid = "c"\nmethods = ["CreateRestoreSession"]\n{extra}')


@pytest.mark.parametrize(
    ("destinations", "asked", "allowed"),
    [
        ("[]", {NEW}, False),
        ('["new"]', {NEW}, True),
        ('["new"]', {IN_PLACE}, False),
        ('["new"]', {NEW, IN_PLACE}, False),
        ('["inPlace"]', {IN_PLACE}, True),
        ('["new", "inPlace"]', {NEW, IN_PLACE}, True),
        ('["new", "inPlace"]', {pb.DESTINATION_TYPE_UNSPECIFIED}, False),
    ],
)
def test_destinations_are_granted_one_by_one(
    destinations: str, asked: set[int], allowed: bool
) -> None:
    caller_rule = rule(f"destination_types = {destinations}").rules[0]
    if allowed:
        caller_rule.check_destinations("c", frozenset(asked))
        return
    with pytest.raises(Denied) as denied:
        caller_rule.check_destinations("c", frozenset(asked))
    assert refusal(denied) == "DESTINATION_TYPE_NOT_ALLOWED"


@pytest.mark.parametrize(
    ("max_artifacts", "adding", "already", "allowed"),
    [(5, 5, 0, True), (5, 6, 0, False), (5, 2, 3, True), (5, 2, 4, False), (0, 1, 0, False)],
)
def test_max_artifacts_counts_what_the_session_already_holds(
    max_artifacts: int, adding: int, already: int, allowed: bool
) -> None:
    caller_rule = rule(f'destination_types = ["new"]\nmax_artifacts = {max_artifacts}').rules[0]
    restores = Restores(frozenset({NEW}), adding)
    if allowed:
        caller_rule.check_restores("c", restores, already)
        return
    with pytest.raises(Denied) as denied:
        caller_rule.check_restores("c", restores, already)
    assert refusal(denied) == "TOO_MANY_ARTIFACTS"


def test_names_no_unit_rule_can_check_are_refused_to_a_caller_bound_to_units() -> None:
    bound = rule('destination_types = ["new"]\nmax_artifacts = 9\nprotection_unit_ids = ["u-1"]')
    by_email = Restores(frozenset({NEW}), 1, unverifiable_names=1)
    with pytest.raises(Denied) as denied:
        bound.rules[0].check_restores("c", by_email, 0)
    assert refusal(denied) == "PROTECTION_UNITS_UNVERIFIABLE"
    rule('destination_types = ["new"]\nmax_artifacts = 9').rules[0].check_restores("c", by_email, 0)


UNITS = rule('protection_unit_ids = ["u-1", "u-2"]').rules[0]


@pytest.mark.parametrize(
    ("units", "allowed"),
    [
        ([], True),
        (["u-1"], True),
        (["u-1", "u-2"], True),
        (["u-3"], False),
        (["u-1", "u-3"], False),
        ([""], False),  # a unit the gateway could not look up
        (["U-1"], False),
    ],
)
def test_units_are_the_listed_ones_only(units: list[str], allowed: bool) -> None:
    if allowed:
        UNITS.check_units("c", units)
        return
    with pytest.raises(Denied) as denied:
        UNITS.check_units("c", units)
    assert refusal(denied) == "PROTECTION_UNIT_NOT_ALLOWED"


def test_only_a_unit_the_caller_named_itself_is_quoted_back() -> None:
    with pytest.raises(Denied) as named:
        UNITS.check_units("c", ["u-secret"], named=True)
    assert "u-secret" in str(named.value)
    with pytest.raises(Denied) as looked_up:
        UNITS.check_units("c", ["u-secret"])
    with pytest.raises(Denied) as unknown:
        UNITS.check_units("c", [""], named=True)
    # A looked-up unit and an unknown one are refused in the same words.
    assert "u-secret" not in str(looked_up.value)
    assert str(looked_up.value) == str(unknown.value)


def test_an_empty_unit_list_grants_no_unit_and_no_list_grants_all() -> None:
    none = rule("protection_unit_ids = []").rules[0]
    assert none.restricts_units
    with pytest.raises(Denied):
        none.check_units("c", ["u-1"])
    every = rule().rules[0]
    assert not every.restricts_units
    every.check_units("c", ["anything"])


@pytest.mark.parametrize(("scope", "every"), [(None, False), ('"own"', False), ('"any"', True)])
def test_sessions_are_the_callers_own_unless_any(scope: str | None, every: bool) -> None:
    assert rule(f"sessions = {scope}" if scope else "").rules[0].sees_every_session is every


@pytest.mark.parametrize(
    ("destinations", "restricts"), [("[]", True), ('["new"]', True), ('["new", "inPlace"]', False)]
)
def test_a_rule_restricts_destinations_unless_it_grants_both(
    destinations: str, restricts: bool
) -> None:
    assert rule(f"destination_types = {destinations}").rules[0].restricts_destinations is restricts


# (file content, problem in the message, line, column)
BROKEN = [
    ("", "needs [[callers]] tables", 1, 1),
    ("callers = 3\n", "needs [[callers]] tables", 1, 1),
    ("[[callers]\nid = 1\n", "", 1, 10),
    ('[[callers]]\nid = "a"\nmethods = [,]\nsessions = "own"\n', "", 3, 12),
    ("callers = [1]\n", "callers[0] must be a table", 1, 1),
    ('[[callers]]\nid = "a"\nmethods = []\nrole = "admin"\n', "unknown keys ['role']", 4, 1),
    ("[[callers]]\nmethods = []\n", "callers[0]: id must be a caller id", 1, 1),
    ('[[callers]]\nid = "*"\nmethods = []\n', "callers[0]: id must be a caller id", 2, 1),
    ("[[callers]]\nid = 7\nmethods = []\n", "callers[0]: id must be a caller id", 2, 1),
    ('[[callers]]\nid = "a"\n', "callers[0].methods must be a list of strings", 1, 1),
    ('[[callers]]\nid = "a"\n  methods = "Get"\n', "methods must be a list of strings", 3, 3),
    ('[[callers]]\nid = "a"\nmethods = [1]\n', "methods must be a list of strings", 3, 1),
    ('[[callers]]\nid = "a"\nmethods = ["Restore"]\n', "callers[0].methods: unknown", 3, 1),
    (
        '[[callers]]\nid = "a"\nmethods = []\n\n[[callers]]\nid = "b"\nmethods = ["x"]\n',
        "callers[1].methods: unknown ['x']",
        7,
        1,
    ),
    ('[[callers]]\nid = "a"\nmethods = []\nworkloads = ["teams"]\n', "workloads: only", 4, 1),
    ('[[callers]]\nid = "a"\nmethods = []\nworkloads = "exchange"\n', "workloads must", 4, 1),
    (
        '[[callers]]\nid = "a"\nmethods = []\ndestination_types = ["inplace"]\n',
        "destination_types: only new and inPlace",
        4,
        1,
    ),
    ('[[callers]]\nid = "a"\nmethods = []\nmax_artifacts = -1\n', "max_artifacts must", 4, 1),
    ('[[callers]]\nid = "a"\nmethods = []\nmax_artifacts = 1.5\n', "max_artifacts must", 4, 1),
    ('[[callers]]\nid = "a"\nmethods = []\nmax_artifacts = true\n', "max_artifacts must", 4, 1),
    ('[[callers]]\nid = "a"\nmethods = []\nmax_artifacts = "9"\n', "max_artifacts must", 4, 1),
    ('[[callers]]\nid = "a"\nmethods = []\nsessions = "all"\n', 'must be "own" or "any"', 4, 1),
    (
        '[[callers]]\nid = "a"\nmethods = []\nprotection_unit_ids = ["u", 2]\n',
        "protection_unit_ids must be a list of strings",
        4,
        1,
    ),
]


@pytest.mark.parametrize(
    ("content", "problem", "line", "column"), BROKEN, ids=[str(i) for i in range(len(BROKEN))]
)
def test_a_broken_policy_is_named_at_its_line_and_column(
    content: str, problem: str, line: int, column: int
) -> None:
    with pytest.raises(PolicyError) as broken:
        policy(content)
    assert problem in broken.value.problem
    assert (broken.value.line, broken.value.column) == (line, column)
    assert str(broken.value).startswith(f"policy.toml:{line}:{column}: ")


def test_a_policy_that_is_not_utf8_is_named_where_it_breaks() -> None:
    with pytest.raises(PolicyError) as broken:
        parse_policy(b'[[callers]]\nid = "caf\xe9"\n', "p.toml")
    assert (broken.value.problem, broken.value.line, broken.value.column) == (
        "is not UTF-8",
        2,
        10,
    )


def test_an_unreadable_policy_file_is_a_policy_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot be read"):
        load_policy(tmp_path / "absent.toml")
