"""`make chaos`: the full chaos run, three seeds of 1,000 creates each, through two
gateway replicas sharing a real Redis, with every fault kind and one replica killed."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import chaos
from processes import running_emulator, running_redis

SEEDS = (1, 2, 3)
REQUESTS = 1000
CALLERS = 8


def main() -> None:
    with (
        tempfile.TemporaryDirectory() as folder,
        running_emulator(Path(folder) / "emulator") as emulator,
        running_redis(Path(folder)) as redis_url,
    ):
        reports = [chaos.run(emulator, redis_url, seed, REQUESTS, CALLERS) for seed in SEEDS]
    for report in reports:
        print(report)
    sys.exit(0 if all(r.ok() for r in reports) else 1)


if __name__ == "__main__":
    main()
