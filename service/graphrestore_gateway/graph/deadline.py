"""The caller's gRPC deadline, carried down to every wait below the servicer."""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Deadline:
    """An absolute time.monotonic() instant, or None when the caller set no deadline."""

    at: float | None

    @classmethod
    def after(cls, seconds: float | None) -> Deadline:
        return cls(None if seconds is None else time.monotonic() + seconds)

    def remaining_s(self) -> float | None:
        """Seconds left (never negative), or None for no deadline."""
        if self.at is None:
            return None
        return max(0.0, self.at - time.monotonic())

    def allows(self, wait_s: float) -> bool:
        """Whether waiting `wait_s` still leaves time to act afterwards."""
        remaining = self.remaining_s()
        return remaining is None or remaining > wait_s
