"""How long to wait before sending a failed Graph request again."""

from __future__ import annotations

import random
from dataclasses import dataclass

# Microsoft's SDK retry handlers wait at least this long when Graph gave no Retry-After
# (Kiota's RetryHandler: a 3 s delay, doubled on each retry).
DEFAULT_BASE_S = 3.0
# No single wait longer than this, whatever the attempt.
DEFAULT_CAP_S = 60.0
# Up to this share of a wait is added at random, so that calls that failed together do
# not all come back together.
JITTER = 0.25
# Graph's Retry-After is honoured up to this long. A 429's pauses every Graph call of the
# gateway (graph/budget.py, shared by the replicas through Redis): one answer asking for a
# day (86400, or a far-future HTTP date), a fault or a hostile proxy, would stop every
# caller for that day. Past this, the next call asks Graph again, which says so again if
# it still means it.
MAX_RETRY_AFTER_S = 60.0


def honoured_retry_after_s(retry_after_s: float | None) -> float | None:
    """Graph's Retry-After as the gateway waits it: at most MAX_RETRY_AFTER_S."""
    return None if retry_after_s is None else min(retry_after_s, MAX_RETRY_AFTER_S)


@dataclass(frozen=True)
class Backoff:
    """Waits between attempts: Graph's Retry-After when it gave one, else `base_s`
    doubling with each attempt (capped), plus jitter."""

    base_s: float = DEFAULT_BASE_S
    cap_s: float = DEFAULT_CAP_S

    def wait_s(self, attempt: int, retry_after_s: float | None) -> float:
        """Seconds to wait after failed attempt number `attempt` (1 for the first)."""
        if retry_after_s is not None:
            return retry_after_s
        doubled_s = min(self.cap_s, self.base_s * 2.0 ** (attempt - 1))
        return doubled_s * (1 + random.uniform(0, JITTER))
