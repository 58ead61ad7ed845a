"""Generate the Python stubs of protos/ into OUT_DIR (`make proto`, and the stale-stub test)."""

import shutil
import sys
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "protos"
DESCRIPTOR_SET = "graphrestore/v1/graphrestore_v1.binpb"


def generate(out_dir: Path) -> None:
    plugin = shutil.which("protoc-gen-mypy_grpc", path=str(Path(sys.executable).parent))
    if plugin is None:
        sys.exit("protoc-gen-mypy_grpc not found beside this python (pip install mypy-protobuf)")
    proto_files = sorted(str(p.relative_to(PROTO_ROOT)) for p in PROTO_ROOT.rglob("*.proto"))
    well_known = Path(protoc.__file__).parent / "_proto"
    status = protoc.main(
        [
            "protoc",
            f"-I{PROTO_ROOT}",
            f"-I{well_known}",
            f"--plugin=protoc-gen-mypy_grpc={plugin}",
            f"--python_out={out_dir}",
            f"--pyi_out={out_dir}",
            f"--grpc_python_out={out_dir}",
            f"--mypy_grpc_out={out_dir}",
            # With comments, for server reflection (grpcurl describe shows them).
            "--include_source_info",
            f"--descriptor_set_out={out_dir / DESCRIPTOR_SET}",
            *proto_files,
        ]
    )
    if status != 0:
        sys.exit(f"protoc failed with status {status}")


if __name__ == "__main__":
    generate(Path(sys.argv[1]))
