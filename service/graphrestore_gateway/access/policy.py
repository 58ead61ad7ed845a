"""What each caller may do: a TOML policy file, default deny, reloaded when it changes."""

from __future__ import annotations

import logging
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphrestore.v1 import onedrive_restore_service_pb2 as service_pb
from graphrestore.v1 import restore_session_pb2 as pb

log = logging.getLogger(__name__)

GRAPH_DESTINATIONS = {"new": pb.DESTINATION_TYPE_NEW, "inPlace": pb.DESTINATION_TYPE_IN_PLACE}
RPCS = frozenset(service_pb.DESCRIPTOR.services_by_name["OneDriveRestoreService"].methods_by_name)
RULE_KEYS = frozenset(
    {"id", "methods", "destination_types", "max_artifacts", "protection_unit_ids"}
)


class PolicyError(ValueError):
    """The policy file is not valid; the message says where."""


class Denied(Exception):
    """The policy refuses the call: `reason` (UPPER_SNAKE_CASE) names the rule."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class CallerRule:
    """One [[callers]] table."""

    id: str
    methods: frozenset[str]
    destination_types: frozenset[int]
    max_artifacts: int
    protection_unit_ids: frozenset[str] | None

    def matches(self, caller: str) -> bool:
        if self.id.endswith("*"):
            return caller.startswith(self.id[:-1])
        return caller == self.id


@dataclass(frozen=True)
class Policy:
    rules: tuple[CallerRule, ...]

    def rule_for(self, caller: str) -> CallerRule | None:
        """An exact id wins over prefixes; the longest prefix wins among them."""
        matching = [r for r in self.rules if r.matches(caller)]
        return max(matching, key=lambda r: (not r.id.endswith("*"), len(r.id)), default=None)

    def may_call(self, caller: str, method: str) -> bool:
        """Whether the caller is known and allowed the method (the rest needs the request)."""
        rule = self.rule_for(caller)
        return rule is not None and method in rule.methods

    def restricts_units(self, caller: str) -> bool:
        """Whether the caller may restore only listed protection units."""
        rule = self.rule_for(caller)
        return rule is not None and rule.protection_unit_ids is not None

    def check(
        self,
        caller: str,
        method: str,
        request: Any,
        already_in_session: int = 0,
        unit_of_point: dict[str, str] | None = None,
    ) -> None:
        """Raise Denied unless `caller` may make this call. `already_in_session` counts the
        artifacts the session it adds to holds already; `unit_of_point` names the
        protection unit of each restore point the request names (as Graph knows them)."""
        rule = self.rule_for(caller)
        if rule is None:
            raise Denied("UNKNOWN_CALLER", f"caller {caller!r} is not in the policy")
        if method not in rule.methods:
            raise Denied("METHOD_NOT_ALLOWED", f"{caller!r} may not call {method}")
        wanted = _what_it_restores(request)
        if wanted is None:
            return
        destinations, count, unit_ids = wanted
        refused = destinations - rule.destination_types
        if refused:
            names = sorted(n for n, v in GRAPH_DESTINATIONS.items() if v in refused) or ["unset"]
            raise Denied(
                "DESTINATION_TYPE_NOT_ALLOWED",
                f"{caller!r} may not restore to {', '.join(names)}",
            )
        if count + already_in_session > rule.max_artifacts:
            raise Denied(
                "TOO_MANY_ARTIFACTS",
                f"{caller!r} may restore at most {rule.max_artifacts} drives per session, "
                f"not {count + already_in_session}",
            )
        if rule.protection_unit_ids is not None:
            if unit_ids is None and unit_of_point is not None:
                points = restore_point_ids(request)
                unknown = [p for p in points if p not in unit_of_point]
                if unknown:
                    raise Denied(
                        "PROTECTION_UNIT_NOT_ALLOWED",
                        f"the protection unit of restore point {unknown[0]} is unknown",
                    )
                unit_ids = [unit_of_point[p] for p in points]
            if unit_ids is None:
                raise Denied(
                    "PROTECTION_UNITS_UNVERIFIABLE",
                    f"{caller!r} may only restore listed protection units: name drives by "
                    "restore point or protection unit id, not by owner",
                )
            outside = sorted(set(unit_ids) - rule.protection_unit_ids)
            if outside:
                raise Denied(
                    "PROTECTION_UNIT_NOT_ALLOWED",
                    f"{caller!r} may not restore protection unit {outside[0]}",
                )


def restore_point_ids(request: Any) -> list[str]:
    """The restore points a request names (creates and additions)."""
    if isinstance(request, service_pb.CreateRestoreSessionRequest):
        return [a.restore_point.id for a in request.restore_session.drive_restore_artifacts]
    if isinstance(request, service_pb.AddDriveRestoreArtifactsRequest):
        return [a.restore_point.id for a in request.drive_restore_artifacts]
    return []


def adds_to_session(request: Any) -> str:
    """The existing session a request adds drives to, if it does."""
    if isinstance(
        request,
        service_pb.AddDriveRestoreArtifactsRequest
        | service_pb.CreateDriveRestoreArtifactsBulkAdditionRequestRequest,
    ):
        return str(request.restore_session_id)
    return ""


def _what_it_restores(request: Any) -> tuple[frozenset[int], int, list[str] | None] | None:
    """(destination types, number of drives, protection unit ids if known) of a request
    that adds drives to restore; None for any other request."""
    if isinstance(request, service_pb.CreateRestoreSessionRequest):
        artifacts = list(request.restore_session.drive_restore_artifacts)
    elif isinstance(request, service_pb.AddDriveRestoreArtifactsRequest):
        artifacts = list(request.drive_restore_artifacts)
    elif isinstance(request, service_pb.CreateDriveRestoreArtifactsBulkAdditionRequestRequest):
        bulk = request.bulk_addition_request
        count = len(bulk.drives) + len(bulk.directory_object_ids) + len(bulk.protection_unit_ids)
        by_unit_only = not bulk.drives and not bulk.directory_object_ids
        units = list(bulk.protection_unit_ids) if by_unit_only else None
        return frozenset({bulk.destination_type}), count, units
    else:
        return None
    return frozenset(a.destination_type for a in artifacts), len(artifacts), None


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
    destinations = _strings(table.get("destination_types", []), f"{where}.destination_types")
    if set(destinations) - set(GRAPH_DESTINATIONS):
        raise PolicyError(f"{where}.destination_types: only new and inPlace")
    max_artifacts = table.get("max_artifacts", 0)
    if not isinstance(max_artifacts, int) or isinstance(max_artifacts, bool) or max_artifacts < 0:
        raise PolicyError(f"{where}.max_artifacts must be a whole number")
    units = table.get("protection_unit_ids")
    return CallerRule(
        id=caller_id,
        methods=frozenset(methods),
        destination_types=frozenset(GRAPH_DESTINATIONS[d] for d in destinations),
        max_artifacts=max_artifacts,
        protection_unit_ids=None
        if units is None
        else frozenset(_strings(units, f"{where}.protection_unit_ids")),
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
            return self._policy
        if stamp != self._stamp:
            self._stamp = stamp
            try:
                self._policy = load_policy(self._path)
                log.info("policy reloaded", extra={"fields": {"callers": len(self._policy.rules)}})
            except PolicyError as exc:
                log.error(
                    "policy edit refused; keeping the policy in force",
                    extra={"fields": {"error": str(exc)}},
                )
        return self._policy
