"""What each caller may do: a TOML policy file, default deny (access/policy_source.py
keeps the one in force)."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphrestore.v1 import restore_session_pb2 as pb

from graphrestore_gateway.exceptions import Denied, quoted
from graphrestore_gateway.restore.restores import Restores
from graphrestore_gateway.restore.workloads import WORKLOADS

GRAPH_DESTINATIONS = {"new": pb.DESTINATION_TYPE_NEW, "inPlace": pb.DESTINATION_TYPE_IN_PLACE}
# Every RPC name of the three services (a rule's methods apply to each workload it names).
RPCS = frozenset(name for w in WORKLOADS.values() for name in w.service.methods_by_name)
# A rule without `workloads` predates SharePoint and Exchange: it keeps meaning OneDrive
# only, so no existing caller gains a workload it was never granted.
DEFAULT_WORKLOADS = frozenset({"onedrive"})
RULE_KEYS = frozenset(
    {
        "id",
        "methods",
        "workloads",
        "destination_types",
        "max_artifacts",
        "protection_unit_ids",
        "sessions",
    }
)
SESSION_SCOPES = ("own", "any")
_TOML_AT = re.compile(r"\(at line (?P<line>\d+), column (?P<column>\d+)\)")
_CALLERS_HEADER = re.compile(r"^[ \t]*(?P<header>\[\[[ \t]*callers[ \t]*\]\])", re.M)


class PolicyError(ValueError):
    """The policy file is not valid: what is wrong, and at which line and column (as a
    compiler says it: `policy.toml:7:1: callers[1]: ...`)."""

    def __init__(self, name: str, problem: str, line: int = 1, column: int = 1) -> None:
        super().__init__(f"{name}:{line}:{column}: {problem}")
        self.problem = problem
        self.line = line
        self.column = column


@dataclass(frozen=True)
class CallerRule:
    """One [[callers]] table."""

    id: str
    methods: frozenset[str]
    destination_types: frozenset[int]
    max_artifacts: int
    protection_unit_ids: frozenset[str] | None
    # "own": only the sessions this caller created through the gateway; "any": all.
    sessions: str = "own"
    workloads: frozenset[str] = DEFAULT_WORKLOADS

    def matches(self, caller: str) -> bool:
        if self.id.endswith("*"):
            return caller.startswith(self.id[:-1])
        return caller == self.id

    @property
    def sees_every_session(self) -> bool:
        return self.sessions == "any"

    @property
    def restricts_units(self) -> bool:
        return self.protection_unit_ids is not None

    @property
    def restricts_destinations(self) -> bool:
        return not set(GRAPH_DESTINATIONS.values()) <= self.destination_types

    def check_restores(self, caller: str, restores: Restores, already_in_session: int) -> None:
        """Destination and count of the drives a request adds (no Graph needed)."""
        self.check_destinations(caller, restores.destinations)
        total = restores.count + already_in_session
        if total > self.max_artifacts:
            raise Denied(
                f"{quoted(caller)} may restore at most {self.max_artifacts} artifacts per "
                f"session, not {total}",
                "TOO_MANY_ARTIFACTS",
            )
        if self.restricts_units and restores.unverifiable_names:
            raise Denied(
                f"{quoted(caller)} may only restore listed protection units: name them by "
                "restore point (or drives by protection unit or directory object id), not by "
                "e-mail, site URL or site id",
                "PROTECTION_UNITS_UNVERIFIABLE",
            )

    def check_destinations(self, caller: str, destinations: frozenset[int]) -> None:
        refused = destinations - self.destination_types
        if refused:
            names = sorted(n for n, v in GRAPH_DESTINATIONS.items() if v in refused) or ["unset"]
            raise Denied(
                f"{quoted(caller)} may not restore to {', '.join(names)}",
                "DESTINATION_TYPE_NOT_ALLOWED",
            )

    def check_units(self, caller: str, unit_ids: list[str], named: bool = False) -> None:
        """Every protection unit named or held is one of the caller's ("" is unknown).
        Only a unit the caller `named` itself is quoted back: one looked up (a restore
        point's, a session's) is never told, and an unknown one is refused in the same
        words, so a caller bound to units learns nothing of other units, not even which
        restore points exist."""
        if self.protection_unit_ids is None:
            return
        outside = sorted(set(unit_ids) - self.protection_unit_ids)
        if not outside:
            return
        if named and "" not in outside:
            message = f"{quoted(caller)} may not restore protection unit {quoted(outside[0])}"
        else:
            message = (
                f"{quoted(caller)} may restore only its own protection units, and what the "
                "call names or the session holds is not one of them"
            )
        raise Denied(message, "PROTECTION_UNIT_NOT_ALLOWED")


@dataclass(frozen=True)
class Policy:
    rules: tuple[CallerRule, ...]

    def rule_for(self, caller: str) -> CallerRule | None:
        """An exact id wins over prefixes; the longest prefix wins among them."""
        matching = [r for r in self.rules if r.matches(caller)]
        return max(matching, key=lambda r: (not r.id.endswith("*"), len(r.id)), default=None)

    def admit(self, caller: str, workload: str, method: str) -> CallerRule:
        """The caller's rule if it is known and allowed the workload and the method;
        Denied otherwise."""
        rule = self.rule_for(caller)
        if rule is None:
            raise Denied(f"caller {quoted(caller)} is not in the policy", "UNKNOWN_CALLER")
        if workload not in rule.workloads:
            raise Denied(
                f"{quoted(caller)} may not restore the {workload} workload",
                "WORKLOAD_NOT_ALLOWED",
            )
        if method not in rule.methods:
            raise Denied(f"{quoted(caller)} may not call {method}", "METHOD_NOT_ALLOWED")
        return rule


def load_policy(path: Path) -> Policy:
    return parse_policy(read_policy_file(path), str(path))


def read_policy_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise PolicyError(str(path), f"cannot be read: {exc.strerror}") from None


def parse_policy(content: bytes, name: str) -> Policy:
    """The policy a file's `content` holds; PolicyError naming the line and column of
    the first problem otherwise."""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = content.count(b"\n", 0, exc.start) + 1
        column = exc.start - (content.rfind(b"\n", 0, exc.start) + 1) + 1
        raise PolicyError(name, "is not UTF-8", line, column) from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        problem, line, column = _toml_position(str(exc))
        raise PolicyError(name, problem, line, column) from None
    tables = document.get("callers")
    if not isinstance(tables, list):
        raise PolicyError(name, "needs [[callers]] tables")
    rules = []
    for index, table in enumerate(tables):
        try:
            rules.append(_rule(index, table))
        except _RuleError as exc:
            line, column = _position(text, index, exc.key)
            raise PolicyError(name, str(exc), line, column) from None
    return Policy(tuple(rules))


def _toml_position(message: str) -> tuple[str, int, int]:
    """tomllib's message without its "(at line L, column C)", and L and C (Python 3.11
    has them only in the message)."""
    found = _TOML_AT.search(message)
    if found is None:
        return message, 1, 1
    return message[: found.start()].rstrip(), int(found["line"]), int(found["column"])


def _position(text: str, index: int, key: str) -> tuple[int, int]:
    """Where the `index`th [[callers]] table's `key` is written (or the table's header,
    or the top of the file for callers written as an inline array)."""
    headers = list(_CALLERS_HEADER.finditer(text))
    if index >= len(headers):
        return 1, 1
    start = headers[index].start("header")
    end = headers[index + 1].start() if index + 1 < len(headers) else len(text)
    written = re.compile(rf"^[ \t]*(?P<key>{re.escape(key)})[ \t]*=", re.M).search(text, start, end)
    at = written.start("key") if key and written is not None else start
    line_start = text.rfind("\n", 0, at) + 1
    return text.count("\n", 0, at) + 1, at - line_start + 1


class _RuleError(ValueError):
    """A [[callers]] table breaks a rule; `key` is the key at fault ("" for the table)."""

    def __init__(self, problem: str, key: str = "") -> None:
        super().__init__(problem)
        self.key = key


def _rule(index: int, table: Any) -> CallerRule:
    where = f"callers[{index}]"
    if not isinstance(table, dict):
        raise _RuleError(f"{where} must be a table")
    unknown = set(table) - RULE_KEYS
    if unknown:
        raise _RuleError(f"{where}: unknown keys {sorted(unknown)}", sorted(unknown)[0])
    caller_id = table.get("id")
    if not isinstance(caller_id, str) or not caller_id.rstrip("*"):
        raise _RuleError(f"{where}: id must be a caller id, or a prefix ending in *", "id")
    methods = _strings(table, "methods", where)
    if set(methods) - RPCS:
        raise _RuleError(f"{where}.methods: unknown {sorted(set(methods) - RPCS)}", "methods")
    workloads = _strings(table, "workloads", where, sorted(DEFAULT_WORKLOADS))
    if set(workloads) - set(WORKLOADS):
        raise _RuleError(f"{where}.workloads: only {', '.join(WORKLOADS)}", "workloads")
    destinations = _strings(table, "destination_types", where, [])
    if set(destinations) - set(GRAPH_DESTINATIONS):
        raise _RuleError(f"{where}.destination_types: only new and inPlace", "destination_types")
    max_artifacts = table.get("max_artifacts", 0)
    if not isinstance(max_artifacts, int) or isinstance(max_artifacts, bool) or max_artifacts < 0:
        raise _RuleError(f"{where}.max_artifacts must be a whole number", "max_artifacts")
    sessions = table.get("sessions", "own")
    if sessions not in SESSION_SCOPES:
        raise _RuleError(f'{where}.sessions must be "own" or "any"', "sessions")
    return CallerRule(
        id=caller_id,
        methods=frozenset(methods),
        destination_types=frozenset(GRAPH_DESTINATIONS[d] for d in destinations),
        max_artifacts=max_artifacts,
        protection_unit_ids=None
        if "protection_unit_ids" not in table
        else frozenset(_strings(table, "protection_unit_ids", where)),
        sessions=sessions,
        workloads=frozenset(workloads),
    )


def _strings(table: dict[str, Any], key: str, where: str, default: Any = None) -> list[str]:
    value = table.get(key, default)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _RuleError(f"{where}.{key} must be a list of strings", key)
    return value
