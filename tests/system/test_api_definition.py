"""The committed stubs match protos/, and the protos pass buf lint."""

from __future__ import annotations

import filecmp
import shutil
import subprocess
import sys
from pathlib import Path

from processes import ROOT

GENERATED = ROOT / "clients" / "python" / "graphrestore" / "v1"


def test_committed_stubs_are_not_stale(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(ROOT / "tools" / "gen_stubs.py"), str(tmp_path)], check=True
    )
    fresh = sorted(p.name for p in (tmp_path / "graphrestore" / "v1").iterdir())
    committed = sorted(
        p.name for p in GENERATED.iterdir() if p.name != "__init__.py" and p.is_file()
    )
    assert fresh == committed, "run `make proto` and commit the result"
    _, mismatch, errors = filecmp.cmpfiles(
        tmp_path / "graphrestore" / "v1", GENERATED, fresh, shallow=False
    )
    assert not mismatch and not errors, f"stale stubs {mismatch + errors}: run `make proto`"


def test_buf_lint_passes() -> None:
    buf = ROOT / ".tools" / "node_modules" / ".bin" / "buf"
    assert buf.exists() or shutil.which("buf"), "buf missing: `make test` installs it with npm"
    result = subprocess.run(
        [str(buf) if buf.exists() else "buf", "lint"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_breaking_change_to_the_released_api_is_caught(tmp_path: Path) -> None:
    """`make lint` runs buf breaking against api-baseline/: today's API passes, and a
    renamed field (wire-compatible, but not for JSON and grpcurl callers) fails."""
    buf = ROOT / ".tools" / "node_modules" / ".bin" / "buf"
    baseline = ROOT / "api-baseline" / "graphrestore-v1.binpb"

    def breaking(workspace: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(buf), "breaking", "--against", str(baseline)],
            cwd=workspace,
            capture_output=True,
            text=True,
        )

    assert breaking(ROOT).returncode == 0
    shutil.copy(ROOT / "buf.yaml", tmp_path / "buf.yaml")
    shutil.copytree(ROOT / "protos", tmp_path / "protos")
    proto = tmp_path / "protos" / "graphrestore" / "v1" / "onedrive_restore_service.proto"
    proto.write_text(proto.read_text().replace("string request_id =", "string idempotency_key ="))
    result = breaking(tmp_path)
    assert result.returncode != 0
    assert "request_id" in result.stdout + result.stderr
