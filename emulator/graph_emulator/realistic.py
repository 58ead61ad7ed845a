"""`--profile realistic`: a Graph that throttles, fails now and then and lags as Graph does
under load. Every number is a setting (a CLI flag each, and `/_emulator/realism`), its
default written next to where it comes from: the shared Graph facts (graph-api*.md), or
"our assumption" where Microsoft publishes nothing. Every chance is drawn from one seeded
generator (or hashed from the seed and an id), so a run's faults repeat with its seed.

Throttling and list lag count real (wall clock) time: the client waits `Retry-After` in
real seconds, and eventual consistency is Graph's own, not part of the restore. Restore
durations and bulk resolution run on the emulator's clock, which `--time-scale` speeds up."""

from __future__ import annotations

import hashlib
import math
import random
import time
from dataclasses import asdict, dataclass, field, fields
from email.utils import formatdate
from typing import Any

# The documented per-artifact failure codes (graph-api.md, "Errors": per-artifact errors
# arrive inside 200 answers as the artifact's `error`).
ARTIFACT_ERRORS = (
    ("ArtifactNotFound", "The restore point of this artifact no longer exists."),
    ("ArtifactCannotBeRestored", "The artifact cannot be restored."),
    ("InvalidRestoreTime", "The restore point time is not valid for this artifact."),
)
WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})


def _setting(default: Any, source: str) -> Any:
    return field(default=default, metadata={"help": source})


@dataclass
class Realism:
    """The realistic profile's numbers. Field help says where each default comes from."""

    seed: int = _setting(1, "seeds every chance below: the same seed, the same faults")
    throttle_requests: int = _setting(
        600,
        "Graph requests the tenant may make per window, all apps together (graph-api.md: "
        "limits are per tenant and shared by every app; no number is published for this "
        "API: our assumption)",
    )
    throttle_window_s: float = _setting(
        10.0, "the budget's window in real seconds (our assumption)"
    )
    retry_after_fractional_share: float = _setting(
        0.3, "share of 429s whose Retry-After is fractional, e.g. 2.128 (graph-api.md)"
    )
    retry_after_date_share: float = _setting(
        0.1, "share of 429s whose Retry-After is an HTTP date (RFC 9110; graph-api.md)"
    )
    unavailable_share: float = _setting(
        0.01, "share of Graph requests answered 503 serviceNotAvailable (our assumption)"
    )
    unavailable_retry_after_share: float = _setting(
        0.5, "share of 503s that carry Retry-After (graph-api.md: 429/503 carry it; our share)"
    )
    unavailable_retry_after_s: float = _setting(2.0, "the Retry-After of those 503s (ours)")
    gateway_timeout_share: float = _setting(
        0.005, "share of Graph requests answered 504 gatewayTimeout (our assumption)"
    )
    after_work_share: float = _setting(
        0.5,
        "share of 503s and 504s to a write that come after the work was done (graph-api.md: "
        "no page says a 503 proves nothing was done, and a timeout proves nothing; our share)",
    )
    bulk_resolve_base_s: float = _setting(
        5.0, "seconds a bulk addition request resolves before its first name (our assumption)"
    )
    bulk_resolve_per_name_s: float = _setting(
        0.01, "and per name it holds (our assumption: 10,000 names in 105 s)"
    )
    list_lag_s: float = _setting(
        5.0,
        "real seconds before a new session shows in restoreSessions lists (eventual "
        "consistency; our assumption)",
    )
    artifact_failure_share: float = _setting(
        0.005,
        "share of artifacts that fail with a documented per-artifact error (graph-api.md "
        "names ArtifactNotFound, InvalidRestoreTime, ArtifactCannotBeRestored; our share)",
    )
    max_active_sessions: int = _setting(
        25, "sessions activating or active at once (graph-api.md: 25, then 500 TooManyActive)"
    )
    activating_s: float = _setting(30.0, "seconds a session stays activating (our assumption)")
    restore_base_s: float = _setting(
        120.0, "seconds every restore session takes beyond its artifacts (our assumption)"
    )
    restore_per_artifact_s: float = _setting(
        2.0,
        "seconds per artifact, one after another in a session: duration grows with size "
        "(our assumption)",
    )
    # The throttle window now running (real time) and its count; the chance generator.
    _window_start: float = field(default=0.0, repr=False, compare=False)
    _window_used: int = field(default=0, repr=False, compare=False)
    _chance: random.Random = field(default_factory=random.Random, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._chance.seed(self.seed)

    @classmethod
    def settings(cls) -> list[tuple[str, Any, str]]:
        """(name, default, where it comes from) of every setting."""
        return [
            (f.name, f.default, f.metadata["help"])
            for f in fields(cls)
            if not f.name.startswith("_")
        ]

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if not k.startswith("_")}

    def update(self, changes: dict[str, Any]) -> None:
        """Change settings by name (the control API); an unknown name is refused."""
        known = {name: type(default) for name, default, _ in self.settings()}
        for name, value in changes.items():
            if name not in known:
                raise ValueError(f"unknown setting {name!r}")
            setattr(self, name, known[name](value))
        if "seed" in changes:
            self._chance.seed(self.seed)

    def restore_duration_s(self, artifacts: int) -> float:
        return self.restore_base_s + self.restore_per_artifact_s * artifacts

    def bulk_resolve_s(self, names: int) -> float:
        return self.bulk_resolve_base_s + self.bulk_resolve_per_name_s * names

    def artifact_error(self, restore_point_id: str) -> dict[str, Any] | None:
        """A documented per-artifact error for a share of restore points (hashed, so the
        same points fail whatever the order of the run), else None."""
        draw = _hashed(self.seed, restore_point_id)
        if draw >= self.artifact_failure_share:
            return None
        code, message = ARTIFACT_ERRORS[int(draw * 1e9) % len(ARTIFACT_ERRORS)]
        return {"code": code, "message": message}

    def throttle(self, now_s: float | None = None) -> str | None:
        """Count one request against the tenant's budget: None if it may pass, else the
        Retry-After to answer its 429 with (seconds, fractional at times, or a date)."""
        now_s = time.monotonic() if now_s is None else now_s
        if now_s - self._window_start >= self.throttle_window_s:
            self._window_start, self._window_used = now_s, 0
        if self._window_used < self.throttle_requests:
            self._window_used += 1
            return None
        wait_s = self._window_start + self.throttle_window_s - now_s
        draw = self._chance.random()
        if draw < self.retry_after_date_share:
            # An HTTP date has whole seconds: one more, so it never says "now".
            return formatdate(time.time() + math.ceil(wait_s) + 1, usegmt=True)
        if draw < self.retry_after_date_share + self.retry_after_fractional_share:
            return f"{wait_s:.3f}"
        return str(max(1, math.ceil(wait_s)))

    def transient(self, method: str) -> tuple[int, str | None, bool] | None:
        """A 503 or 504 for this request, or None: (status, Retry-After, after the work)."""
        draw = self._chance.random()
        write = method in WRITE_METHODS
        if draw < self.unavailable_share:
            retry_after = (
                f"{self.unavailable_retry_after_s:g}"
                if self._chance.random() < self.unavailable_retry_after_share
                else None
            )
            return 503, retry_after, write and self._chance.random() < self.after_work_share
        if draw < self.unavailable_share + self.gateway_timeout_share:
            return 504, None, write and self._chance.random() < self.after_work_share
        return None


def _hashed(seed: int, key: str) -> float:
    """A number in [0, 1) fixed by the seed and the key."""
    digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64
