"""The image, built from the Dockerfile with podman and run as it is meant to run: as uid
10001, read-only root filesystem, state on a volume, mTLS, against the emulator on the
host. Its dependencies come from the hash-locked requirements.lock."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import time
import tomllib
import uuid
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from graphrestore.channel import open_channel
from graphrestore.v1 import onedrive_restore_service_pb2_grpc as service_grpc
from helpers import create_request, wait_for
from packaging.requirements import Requirement
from pki import Authority
from processes import ROOT, Emulator

IMAGE_UID = 10001
# This run's own tag: removing it after cannot touch another run's image or containers.
TAG = f"localhost/graphrestore-gateway:test-{uuid.uuid4().hex[:8]}"
BASE = "docker.io/library/python:3.11-slim-bookworm"
# runc with cgroupfs and explicit ulimits: crun, systemd's cgroups and podman's default
# limits fail on some kernels (tools/build_image.sh builds with the same).
PODMAN = ["podman", "--runtime", "runc", "--cgroup-manager", "cgroupfs"]
LIMITS = ["--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096"]
LOCAL_PACKAGES = {"graphrestore-gateway", "graphrestore-client"}
# A PEM private key (its header and the start of its base64 body), not the PEM labels
# that OpenSSL and cryptography's libraries hold as strings. Compiled libraries are not
# read: GnuTLS (the base's apt needs it) holds its self-test keys.
PEM_PRIVATE_KEY = re.compile(rb"-----BEGIN [A-Z ]*PRIVATE KEY-----\r?\n[A-Za-z0-9+/=]{40}")
ELF = b"\x7fELF"
POLICY = """
[[callers]]
id = "spiffe://corp/ns/payroll/sa/backup-bot"
methods = ["CreateRestoreSession"]
destination_types = ["new"]
max_artifacts = 10
"""


def podman(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*PODMAN, *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def say(config: pytest.Config, line: str) -> None:
    """A line on the terminal, past pytest's capture: the numbers a run of make image-test
    is read for."""
    with config.pluginmanager.getplugin("capturemanager").global_and_fixture_disabled():
        print(line)


def locked_pins() -> dict[str, str]:
    """requirements.lock's pins, name -> version, each checked to carry hashes."""
    pins = {}
    for entry in re.split(r"\n(?=\S)", (ROOT / "requirements.lock").read_text()):
        if entry.startswith("#") or not entry.strip():
            continue
        name, _, version = entry.split()[0].partition("==")
        assert version, f"not pinned: {entry}"
        assert "--hash=sha256:" in entry, f"no hash: {entry}"
        pins[name.lower()] = version
    return pins


def test_the_lock_pins_every_dependency_of_the_gateway_and_client_with_hashes() -> None:
    pins = locked_pins()
    for project in (ROOT, ROOT / "clients" / "python"):
        metadata = tomllib.loads((project / "pyproject.toml").read_text())["project"]
        for line in metadata["dependencies"]:
            requirement = Requirement(line)
            if requirement.name in LOCAL_PACKAGES:
                continue
            pinned = pins.get(requirement.name.lower())
            assert pinned, f"{requirement.name} is not in requirements.lock: make lock"
            assert requirement.specifier.contains(pinned), f"{requirement} but {pinned} locked"
    # What builds the two local packages, without fetching anything unhashed.
    assert "setuptools" in pins


@pytest.fixture(scope="module")
def podman_ready() -> None:
    """podman as root (debootstrap makes the base), or a plain skip; in CI, a failure."""
    missing = [tool for tool in ("podman", "runc", "debootstrap") if shutil.which(tool) is None]
    reason = (
        f"{', '.join(missing)} not installed (apt-get install podman runc debootstrap)"
        if missing
        else "podman runs the image as root here, and this is not root"
        if os.geteuid() != 0
        else ""
    )
    if reason and os.environ.get("CI"):
        pytest.fail(f"the image test must run in CI: {reason}")
    if reason:
        pytest.skip(f"the image is not built: {reason}")


@pytest.fixture(scope="module")
def image(podman_ready: None, pytestconfig: pytest.Config) -> Iterator[str]:
    """The image, built by tools/build_image.sh (the base made first when missing)."""
    started = time.monotonic()
    build = subprocess.run(
        [str(ROOT / "tools" / "build_image.sh"), TAG],
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    for line in build.stdout.splitlines():
        say(pytestconfig, line)
    say(pytestconfig, f"image: base and build took {time.monotonic() - started:.0f} s in all")
    yield TAG
    podman("rmi", "--force", TAG)


@pytest.fixture
def mounted(image: str) -> Iterator[Path]:
    """The image's filesystem, read from the host."""
    mount = podman("image", "mount", image)
    assert mount.returncode == 0, mount.stderr
    yield Path(mount.stdout.strip())
    podman("image", "unmount", image)


def test_the_image_holds_no_emulator_tests_private_key_git_or_pip(mounted: Path) -> None:
    test_files = {path.name for path in (ROOT / "tests").rglob("*.py")}
    found: list[str] = []
    for folder, subfolders, files in os.walk(mounted):
        where = Path(folder).relative_to(mounted)
        for name in subfolders + files:
            path = where / name
            if "graph_emulator" in name or name in ("graph-emulator", ".git"):
                found.append(f"{path}: the emulator or a git checkout")
            if "tests" in where.parts and name in test_files:
                found.append(f"{path}: the project's tests")
            if name in ("pip", "pip3") or re.fullmatch(r"pip(3\.\d+|-.*\.dist-info)", name):
                found.append(f"{path}: pip")
        for name in files:
            path = Path(folder) / name
            if path.is_file() and not path.is_symlink():
                content = path.read_bytes()
                if not content.startswith(ELF) and PEM_PRIVATE_KEY.search(content):
                    found.append(f"{where / name}: a private key")
    assert not found, "\n".join(found)
    assert (mounted / "opt" / "graphrestore" / "bin" / "graphrestore-gateway").is_file()


def test_the_image_installs_exactly_what_the_lock_pins(image: str) -> None:
    listing = podman(
        "run",
        "--rm",
        "--network",
        "none",
        *LIMITS,
        "--entrypoint",
        "python",
        image,
        "-c",
        "import importlib.metadata as m\n"
        "for d in m.distributions(): print(d.metadata['Name'].lower(), d.version)",
    )
    assert listing.returncode == 0, listing.stderr
    installed = dict(line.split() for line in listing.stdout.splitlines())
    expected = {name: version for name, version in locked_pins().items() if name != "setuptools"}
    for name in LOCAL_PACKAGES:
        assert installed.pop(name)
    assert {name.replace("_", "-"): v for name, v in installed.items()} == expected


@pytest.mark.usefixtures("image")  # and so the base it is built on
def test_the_build_context_holds_only_what_the_dockerfile_copies(tmp_path: Path) -> None:
    """.dockerignore keeps .venv, .git, .state (the dev PKI's keys), tests, the emulator and
    caches out of what podman reads from the checkout."""
    (tmp_path / "Dockerfile").write_text(f"FROM {BASE}\nCOPY . /context\n")
    tag = f"localhost/graphrestore-context:{uuid.uuid4().hex[:8]}"
    build = podman(
        "build",
        "--pull=never",
        *LIMITS,
        "--file",
        str(tmp_path / "Dockerfile"),
        "--tag",
        tag,
        str(ROOT),
        timeout=600,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    try:
        listing = podman("run", "--rm", "--network", "none", *LIMITS, tag, "find", "/context")
    finally:
        podman("rmi", "--force", tag)
    paths = [Path(line).relative_to("/context") for line in listing.stdout.splitlines()[1:]]
    assert {path.parts[0] for path in paths} == {
        "clients",
        "pyproject.toml",
        "requirements.lock",
        "service",
    }
    assert not [p for p in paths if p.name in ("__pycache__", "build") or p.suffix == ".pem"]
    assert {p.parts[1] for p in paths if p.parts[0] == "clients" and len(p.parts) > 1} == {"python"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Container:
    """The image run as it is meant to run, with `config` (read-only) and `state` (the
    volume) from the host, on the host's network."""

    def __init__(self, image: str, env: dict[str, str], config: Path, state: Path) -> None:
        self.name = f"graphrestore-test-{uuid.uuid4().hex[:8]}"
        self.address = env["GRAPHRESTORE_LISTEN"]
        run = podman(
            "run",
            "--detach",
            "--name",
            self.name,
            "--network",
            "host",
            "--read-only",
            *LIMITS,
            "--volume",
            f"{config}:/etc/graphrestore:ro",
            "--volume",
            f"{state}:/var/lib/graphrestore",
            *[arg for item in env.items() for arg in ("--env", "=".join(item))],
            image,
        )
        assert run.returncode == 0, run.stderr
        assert wait_for(self.listening_or_gone, within_s=60), self.logs()
        assert self.running(), self.logs()

    def logs(self) -> str:
        return podman("logs", self.name).stderr

    def running(self) -> bool:
        state = podman("inspect", "--format", "{{ .State.Running }}", self.name)
        return state.stdout.strip() == "true"

    def listening_or_gone(self) -> bool:
        return '"message": "listening"' in self.logs() or not self.running()

    def healthy(self) -> bool:
        """The image's own HEALTHCHECK, run in the container."""
        return podman("healthcheck", "run", self.name).returncode == 0

    def remove(self) -> None:
        stop = podman("stop", "--time", "30", self.name)
        assert stop.returncode == 0, stop.stderr
        exit_code = podman("inspect", "--format", "{{ .State.ExitCode }}", self.name)
        podman("rm", "--force", self.name)
        assert exit_code.stdout.strip() == "0", self.logs()


@pytest.fixture
def container_files(emulator: Emulator, tmp_path: Path) -> tuple[Path, Path, Authority]:
    """What a container reads (the internal CA's gateway certificate, the policy, the
    emulator's secret and CA) in `config`, readable by uid 10001 only, and its state
    volume, writable by it; the internal CA issues callers' certificates in the test's
    own folder."""
    config, state, callers = tmp_path / "config", tmp_path / "state", tmp_path / "callers"
    for folder in (config, state, callers):
        folder.mkdir()
    ca = Authority(callers, "internal")
    shutil.copyfile(ca.cert_file, config / "client-ca.pem")
    server = ca.issue("gateway", "graphrestore", server=True)
    shutil.move(server.cert_file, config / "gateway.pem")
    shutil.move(server.key_file, config / "gateway-key.pem")
    shutil.copyfile(emulator.info["client_secret_file"], config / "client-secret")
    shutil.copyfile(emulator.info["ca_file"], config / "graph-ca.pem")
    (config / "policy.toml").write_text(POLICY)
    for path in (config, state, *config.iterdir()):
        os.chown(path, IMAGE_UID, IMAGE_UID)
        path.chmod(0o700 if path.is_dir() else 0o400)
    return config, state, ca


def container_env(emulator: Emulator) -> dict[str, str]:
    """The settings, as a deployment sets them: mTLS, the health-only port for the
    HEALTHCHECK, the audit in the state volume."""
    return {
        **emulator.gateway_env(),
        "GRAPHRESTORE_AUTH": "mtls",
        "GRAPHRESTORE_LISTEN": f"127.0.0.1:{free_port()}",
        "GRAPHRESTORE_HEALTH_LISTEN": f"127.0.0.1:{free_port()}",
        "GRAPHRESTORE_TLS_CERT_FILE": "/etc/graphrestore/gateway.pem",
        "GRAPHRESTORE_TLS_KEY_FILE": "/etc/graphrestore/gateway-key.pem",
        "GRAPHRESTORE_CLIENT_CA_FILE": "/etc/graphrestore/client-ca.pem",
        "GRAPHRESTORE_POLICY_FILE": "/etc/graphrestore/policy.toml",
        "GRAPHRESTORE_CLIENT_SECRET_FILE": "/etc/graphrestore/client-secret",
        "GRAPHRESTORE_CA_FILE": "/etc/graphrestore/graph-ca.pem",
        "GRAPHRESTORE_AUDIT_FILE": "/var/lib/graphrestore/audit.jsonl",
    }


@pytest.fixture
def containers(image: str) -> Iterator[list[Container]]:
    """Containers a test started, removed after it whatever happened."""
    started: list[Container] = []
    yield started
    for container in started:
        podman("rm", "--force", container.name)


def test_the_container_serves_mtls_callers_and_keeps_its_records_across_a_restart(
    image: str,
    emulator: Emulator,
    container_files: tuple[Path, Path, Authority],
    containers: list[Container],
    pytestconfig: pytest.Config,
) -> None:
    config, state, ca = container_files
    bot = ca.issue("bot", "backup-bot", uri="spiffe://corp/ns/payroll/sa/backup-bot")
    env = container_env(emulator)
    started = time.monotonic()
    containers.append(first := Container(image, env, config, state))
    say(pytestconfig, f"image: the container listened {time.monotonic() - started:.1f} s after run")
    assert wait_for(first.healthy, within_s=30), first.logs()

    request = create_request("rp-image-restart")
    sessions_before = emulator.counters()["sessions_created"]
    with open_channel(
        first.address,
        ca_file=str(ca.cert_file),
        cert_file=str(bot.cert_file),
        key_file=str(bot.key_file),
    ) as channel:
        created = service_grpc.OneDriveRestoreServiceStub(channel).CreateRestoreSession(
            request, timeout=30
        )
    with (
        open_channel(first.address, ca_file=str(ca.cert_file)) as channel,
        pytest.raises(grpc.RpcError) as refused,
    ):
        service_grpc.OneDriveRestoreServiceStub(channel).CreateRestoreSession(
            create_request("rp-image-stranger"), timeout=10
        )
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
    first.remove()

    # What the container wrote is in the volume, as uid 10001.
    audit = [json.loads(line) for line in (state / "audit.jsonl").read_text().splitlines()]
    assert [record["request_id"] for record in audit] == [request.request_id]
    for written in (state / "audit.jsonl", state / "requests.sqlite3"):
        assert written.stat().st_uid == IMAGE_UID

    # A new container on the same volume: the retry replays the first answer.
    containers.append(second := Container(image, {**env}, config, state))
    with open_channel(
        second.address,
        ca_file=str(ca.cert_file),
        cert_file=str(bot.cert_file),
        key_file=str(bot.key_file),
    ) as channel:
        retried = service_grpc.OneDriveRestoreServiceStub(channel).CreateRestoreSession(
            request, timeout=30
        )
    assert retried.id == created.id
    assert emulator.counters()["sessions_created"] == sessions_before + 1
    second.remove()
    audit_lines = (state / "audit.jsonl").read_text().splitlines()
    assert [json.loads(line)["request_id"] for line in audit_lines] == [request.request_id] * 2
