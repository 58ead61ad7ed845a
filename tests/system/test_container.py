"""The image: hadolint-clean, and what it runs (its entrypoint, as its non-root user)
works outside it, since no container engine runs here."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
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


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The gateway's and the client's wheels, built from this checkout as the image's
    build stage builds them."""
    folder = tmp_path_factory.mktemp("wheels")
    subprocess.run(
        [
            str(BIN / "pip"),
            "wheel",
            "--quiet",
            "--no-deps",
            "--wheel-dir",
            str(folder),
            ".",
            "clients/python",
        ],
        cwd=ROOT,
        check=True,
        timeout=300,
    )
    return folder


def test_the_gateway_wheel_holds_no_emulator(wheels: Path) -> None:
    [wheel] = wheels.glob("graphrestore_gateway-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    assert any(n.startswith("graphrestore_gateway/") for n in names)
    assert not [n for n in names if "emulator" in n], names


@pytest.fixture(scope="module")
def image_install(wheels: Path) -> Iterator[Path]:
    """What the image holds: a venv with the two wheels (and their dependencies) in a
    folder any user may enter, wherever this checkout is."""
    folder = Path(tempfile.mkdtemp(prefix="graphrestore-image-"))
    folder.chmod(0o755)
    venv = folder / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    subprocess.run(
        [str(venv / "bin" / "pip"), "install", "--quiet", *map(str, sorted(wheels.glob("*.whl")))],
        check=True,
        timeout=600,
    )
    yield venv / "bin"
    shutil.rmtree(folder)


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
    emulator: Emulator, readable_copies: dict[str, str], image_install: Path
) -> None:
    setpriv = ["setpriv", f"--reuid={IMAGE_UID}", f"--regid={IMAGE_UID}", "--clear-groups"]
    env = {**emulator.gateway_env(), **readable_copies, "PYTHONDONTWRITEBYTECODE": "1"}
    gateway_command = [*setpriv, str(image_install / "graphrestore-gateway")]
    with own_gateway(env, command=gateway_command) as (gateway, stub):
        health = subprocess.run(
            [*setpriv, str(image_install / "graphrestore-healthcheck")],
            env={**env, "GRAPHRESTORE_LISTEN": gateway.address},
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert health.returncode == 0, health.stderr
        assert stub.CreateRestoreSession(create_request("rp-image"), timeout=10).id
