"""The image: hadolint-clean, and what it runs (its entrypoint, as its non-root user)
works outside it, since no container engine runs here."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import create_request
from processes import BIN, ROOT, Emulator, own_gateway

IMAGE_UID = 10001


def dockerfile_lines() -> list[str]:
    return (ROOT / "Dockerfile").read_text().splitlines()


def test_dockerfile_passes_hadolint() -> None:
    result = subprocess.run(
        [str(BIN / "hadolint"), str(ROOT / "Dockerfile")], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_runs_the_gateway_as_its_non_root_user() -> None:
    lines = dockerfile_lines()
    assert f"USER {IMAGE_UID}" in lines
    assert 'ENTRYPOINT ["graphrestore-gateway"]' in lines
    assert sum(line.startswith("FROM ") for line in lines) == 2


@pytest.fixture
def readable_copies(emulator: Emulator) -> Iterator[dict[str, str]]:
    """The emulator's secret and CA, readable by the image's user only."""
    folder = Path(tempfile.mkdtemp(prefix="graphrestore-image-"))
    folder.chmod(0o711)
    copies = {}
    for variable in ("GRAPHRESTORE_CLIENT_SECRET_FILE", "GRAPHRESTORE_CA_FILE"):
        target = folder / Path(emulator.gateway_env()[variable]).name
        shutil.copyfile(emulator.gateway_env()[variable], target)
        os.chown(target, IMAGE_UID, IMAGE_UID)
        target.chmod(0o400)
        copies[variable] = str(target)
    state_dir = folder / "state"
    state_dir.mkdir()
    os.chown(state_dir, IMAGE_UID, IMAGE_UID)
    copies["GRAPHRESTORE_STATE_DIR"] = str(state_dir)
    yield copies
    shutil.rmtree(folder)


@pytest.mark.skipif(os.geteuid() != 0, reason="switching to the image's uid needs root")
def test_the_entrypoint_serves_as_uid_10001(
    emulator: Emulator, readable_copies: dict[str, str]
) -> None:
    setpriv = ["setpriv", f"--reuid={IMAGE_UID}", f"--regid={IMAGE_UID}", "--clear-groups"]
    env = {**emulator.gateway_env(), **readable_copies, "PYTHONDONTWRITEBYTECODE": "1"}
    with own_gateway(env, run_as=setpriv) as (gateway, stub):
        health = subprocess.run(
            [*setpriv, str(BIN / "graphrestore-healthcheck")],
            env={"GRAPHRESTORE_LISTEN": gateway.address},
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert health.returncode == 0, health.stderr
        assert stub.CreateRestoreSession(create_request("rp-image"), timeout=10).id
