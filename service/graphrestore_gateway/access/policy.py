"""What each caller may do: a TOML policy file, default deny, reloaded when it changes."""

from __future__ import annotations

import logging
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphrestore.v1 import restore_session_pb2 as pb

from graphrestore_gateway.exceptions import Denied, quoted
from graphrestore_gateway.restore.workloads import WORKLOADS

log = logging.getLogger(__name__)

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


@dataclass(frozen=True)
class Restores:
    """What a request adds to restore (drives, sites, mailboxes)."""

    destinations: frozenset[int]
    count: int
    # How they are named: by restore point, by protection unit, by a drive owner's
    # directory object id, or by names no unit rule can check (e-mails: app-only callers
    # never see a unit's e-mail; site URLs and ids; mailbox owners).
    restore_point_ids: tuple[str, ...] = ()
    unit_ids: tuple[str, ...] = ()
    directory_object_ids: tuple[str, ...] = ()
    unverifiable_names: int = 0
    # (kind of id, id, destination) of each, for the audit record.
    named: tuple[tuple[str, str, int], ...] = ()

    def audit(self) -> list[dict[str, str]]:
        return [
            {kind: value, "destination": _destination_name(destination)}
            for kind, value, destination in self.named
        ]


def _destination_name(number: int) -> str:
    try:
        return pb.DestinationType.Name(number)
    except ValueError:  # a number no member has (proto3 enums are open)
        return str(number)


class PolicyError(ValueError):
    """The policy file is not valid; the message says where."""


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

    def check_units(self, caller: str, unit_ids: list[str]) -> None:
        """Every protection unit named or held is one of the caller's ("" is unknown)."""
        if self.protection_unit_ids is None:
            return
        if "" in unit_ids:
            raise Denied(
                "the protection unit of a restore point is unknown",
                "PROTECTION_UNIT_NOT_ALLOWED",
            )
        outside = sorted(set(unit_ids) - self.protection_unit_ids)
        if outside:
            raise Denied(
                f"{quoted(caller)} may not restore protection unit {quoted(outside[0])}",
                "PROTECTION_UNIT_NOT_ALLOWED",
            )


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
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise PolicyError(f"{path}: {exc}") from None
    tables = document.get("callers")
    if not isinstance(tables, list):
        raise PolicyError(f"{path}: needs [[callers]] tables")
    return Policy(tuple(_rule(path, index, table) for index, table in enumerate(tables)))


def _rule(path: Path, index: int, table: Any) -> CallerRule:
    where = f"{path}: callers[{index}]"
    if not isinstance(table, dict):
        raise PolicyError(f"{where} must be a table")
    unknown = set(table) - RULE_KEYS
    if unknown:
        raise PolicyError(f"{where}: unknown keys {sorted(unknown)}")
    caller_id = table.get("id")
    if not isinstance(caller_id, str) or not caller_id.rstrip("*"):
        raise PolicyError(f"{where}: id must be a caller id, or a prefix ending in *")
    methods = _strings(table.get("methods"), f"{where}.methods")
    if set(methods) - RPCS:
        raise PolicyError(f"{where}.methods: unknown {sorted(set(methods) - RPCS)}")
    workloads = _strings(table.get("workloads", sorted(DEFAULT_WORKLOADS)), f"{where}.workloads")
    if set(workloads) - set(WORKLOADS):
        raise PolicyError(f"{where}.workloads: only {', '.join(WORKLOADS)}")
    destinations = _strings(table.get("destination_types", []), f"{where}.destination_types")
    if set(destinations) - set(GRAPH_DESTINATIONS):
        raise PolicyError(f"{where}.destination_types: only new and inPlace")
    max_artifacts = table.get("max_artifacts", 0)
    if not isinstance(max_artifacts, int) or isinstance(max_artifacts, bool) or max_artifacts < 0:
        raise PolicyError(f"{where}.max_artifacts must be a whole number")
    units = table.get("protection_unit_ids")
    sessions = table.get("sessions", "own")
    if sessions not in SESSION_SCOPES:
        raise PolicyError(f'{where}.sessions must be "own" or "any"')
    return CallerRule(
        id=caller_id,
        methods=frozenset(methods),
        destination_types=frozenset(GRAPH_DESTINATIONS[d] for d in destinations),
        max_artifacts=max_artifacts,
        protection_unit_ids=None
        if units is None
        else frozenset(_strings(units, f"{where}.protection_unit_ids")),
        sessions=sessions,
        workloads=frozenset(workloads),
    )


def _strings(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PolicyError(f"{where} must be a list of strings")
    return value


class PolicySource:
    """The policy in force: reloaded when its file changes; a broken edit keeps the old
    policy (and says why in the log). Without a file (GRAPHRESTORE_AUTH=none only),
    nothing is checked."""

    def __init__(self, path: Path | None) -> None:
        self._path = path
        self._stamp: tuple[float, int] | None = None
        self._policy = load_policy(path) if path else None
        # Whether the file, as it is now, is the policy in force.
        self._file_in_force = True
        if path:
            self._stamp = self._file_stamp(path)

    @staticmethod
    def _file_stamp(path: Path) -> tuple[float, int]:
        stat = os.stat(path)
        return stat.st_mtime, stat.st_size

    def current(self) -> Policy | None:
        if self._path is None:
            return self._policy
        try:
            stamp = self._file_stamp(self._path)
        except OSError as exc:
            log.error(
                "policy file unreadable; keeping the policy in force",
                extra={"fields": {"error": str(exc)}},
            )
            self._file_in_force = False
            self._stamp = None
            return self._policy
        if stamp != self._stamp:
            self._stamp = stamp
            try:
                self._policy = load_policy(self._path)
                self._file_in_force = True
                log.info("policy reloaded", extra={"fields": {"callers": len(self._policy.rules)}})
            except PolicyError as exc:
                self._file_in_force = False
                log.error(
                    "policy edit refused; keeping the policy in force",
                    extra={"fields": {"error": str(exc)}},
                )
        return self._policy

    def file_in_force(self) -> bool:
        """Whether the policy file can be read and is the policy in force (a refused
        edit keeps the old policy serving, but health says so)."""
        self.current()
        return self._file_in_force
