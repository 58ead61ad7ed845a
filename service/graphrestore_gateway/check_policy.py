"""`graphrestore-gateway check-policy FILE`: parse a policy as the gateway would and print
what each caller may do (exit 0), or the first problem with its line and column (exit 2),
so an edit is checked before it is deployed (as `nginx -t` or `promtool check config`)."""

from __future__ import annotations

import sys
from pathlib import Path

from graphrestore_gateway.access.policy import (
    GRAPH_DESTINATIONS,
    CallerRule,
    PolicyError,
    load_policy,
)

USAGE = "usage: graphrestore-gateway check-policy FILE"


def main(arguments: list[str]) -> int:
    if arguments in (["-h"], ["--help"]):
        print(f"{USAGE}\n\n{__doc__}")
        return 0
    if len(arguments) != 1 or arguments[0].startswith("-"):
        print(USAGE, file=sys.stderr)
        return 2
    path = Path(arguments[0])
    try:
        policy = load_policy(path)
    except PolicyError as error:
        print(f"graphrestore-gateway: {error}", file=sys.stderr)
        return 2
    print(f"{path}: valid, {len(policy.rules)} callers (any other caller is refused)")
    for rule in policy.rules:
        print()
        print("\n".join(describe(rule)))
    return 0


def describe(rule: CallerRule) -> list[str]:
    """What a rule lets its caller do, one line each."""
    who = f"every caller whose id starts with {rule.id[:-1]}" if rule.id.endswith("*") else ""
    destinations = [n for n, v in GRAPH_DESTINATIONS.items() if v in rule.destination_types]
    units = sorted(rule.protection_unit_ids) if rule.protection_unit_ids is not None else None
    return [
        rule.id + (f" ({who}, unless a longer or exact rule matches)" if who else ""),
        f"  workloads      {', '.join(sorted(rule.workloads))}",
        f"  methods        {', '.join(sorted(rule.methods)) or 'none'}",
        f"  destinations   {', '.join(destinations) or 'none'}",
        f"  max_artifacts  {rule.max_artifacts} per session",
        f"  units          {'any' if units is None else ', '.join(units) or 'none'}",
        "  sessions       "
        + ("any of the tenant" if rule.sees_every_session else "own (created through the gateway)"),
    ]
