"""What the emulator has seen, for tests to prove that nothing was duplicated or lost."""

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Counters:
    tokens_issued: int = 0
    sessions_created: int = 0
    assertions_with_x5c: int = 0
    # "POST /v1.0/solutions/backupRestore/oneDriveForBusinessRestoreSessions" -> n, on arrival
    received: Counter[str] = field(default_factory=Counter)
    # The same with the answer's status (or "dropped"), once answered.
    requests: Counter[str] = field(default_factory=Counter)
    faults_injected: Counter[str] = field(default_factory=Counter)
    # Bodies refused for not fitting Graph's schema: route, client-request-id, problems.
    schema_refusals: list[dict[str, str]] = field(default_factory=list)

    def snapshot(self) -> dict[str, Any]:
        return {
            "tokens_issued": self.tokens_issued,
            "sessions_created": self.sessions_created,
            "assertions_with_x5c": self.assertions_with_x5c,
            "received": dict(self.received),
            "requests": dict(self.requests),
            "faults_injected": dict(self.faults_injected),
            "schema_refusals": self.schema_refusals[-100:],
        }
