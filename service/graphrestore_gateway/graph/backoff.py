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
