"""The policy in force, and its reloads: an edit of the policy file is put in force when
its content changed and it is valid; a broken edit keeps the last good policy serving
(serving on the bad day matters more) and says so: an error log line with the line and
column, graphrestore_policy_reload_failures_total, and whatever the listeners do (the
audit record, the health detail, ending Watch streams the new policy no longer allows).

Content, not the file's times, says whether it changed: an edit of equal size with its
modification time put back is still an edit. A call looks at the file's times (cheap,
and an edit is in force for the next call); every RELOAD_EVERY_S the content itself is
read and compared."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from collections.abc import Callable
from pathlib import Path

from graphrestore_gateway import metrics
from graphrestore_gateway.access.policy import Policy, PolicyError, parse_policy, read_policy_file

RELOAD_EVERY_S = 1.0

log = logging.getLogger(__name__)

# Told of every reload that found an edit: None when it is in force, or why it was refused.
ReloadListener = Callable[[PolicyError | None], None]


class PolicySource:
    """Without a file (GRAPHRESTORE_AUTH=none only), nothing is checked."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._listeners: list[ReloadListener] = []
        self._policy: Policy | None = None
        # The sha256 of the content in force, and of the content last looked at (or why
        # the file could not be read).
        self.digest = ""
        self._seen = ""
        self._stamp: tuple[int, int, int] | None = None
        # Why the file as it is now is not the policy in force (None: it is).
        self.refused: PolicyError | None = None
        if path is not None:
            self._stamp = _stamp(path)
            content = read_policy_file(path)
            self._policy = parse_policy(content, str(path))
            self.digest = self._seen = _digest(content)

    def on_reload(self, listener: ReloadListener) -> None:
        self._listeners.append(listener)

    def current(self) -> Policy | None:
        """The policy in force (an edit whose file times show it is loaded first)."""
        if self.path is not None and _stamp(self.path) != self._stamp:
            self.reload()
        return self._policy

    def reload(self) -> None:
        """Read the file; an edit of its content is put in force, or refused."""
        assert self.path is not None
        self._stamp = _stamp(self.path)
        try:
            content = read_policy_file(self.path)
        except PolicyError as unreadable:
            if self._seen != str(unreadable):
                self._seen = str(unreadable)
                self._refuse(unreadable)
            return
        seen = _digest(content)
        if seen == self._seen:
            return
        self._seen = seen
        try:
            policy = parse_policy(content, str(self.path))
        except PolicyError as refused:
            self._refuse(refused)
            return
        self._policy, self.digest, self.refused = policy, seen, None
        log.info(
            "policy reloaded", extra={"fields": {"callers": len(policy.rules), "sha256": seen}}
        )
        self._tell()

    async def keep_reloading(self) -> None:
        """Reload every RELOAD_EVERY_S, until cancelled."""
        while True:
            await asyncio.sleep(RELOAD_EVERY_S)
            self.reload()

    def _refuse(self, refused: PolicyError) -> None:
        self.refused = refused
        metrics.POLICY_RELOAD_FAILURES.inc()
        log.error(
            "policy edit refused; keeping the last good policy in force",
            extra={
                "fields": {
                    "error": str(refused),
                    "line": refused.line,
                    "column": refused.column,
                    "in_force_sha256": self.digest,
                }
            },
        )
        self._tell()

    def _tell(self) -> None:
        for listener in self._listeners:
            listener(self.refused)


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size, stat.st_ino


def _digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()
