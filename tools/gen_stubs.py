"""Generate the stubs of protos/ (`make proto`, and the stale-stub tests).

gen_stubs.py OUT_DIR            the Python stubs (clients/python)
gen_stubs.py --node OUT_DIR     the Node client's TypeScript (clients/node/src/generated)
"""

import shutil
import sys
from pathlib import Path

import google.rpc
from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "protos"
DESCRIPTOR_SET = "graphrestore/v1/graphrestore_v1.binpb"
WELL_KNOWN = Path(protoc.__file__).parent / "_proto"
# google/rpc/*.proto as googleapis-common-protos ships them beside its Python modules.
GOOGLEAPIS = Path(next(iter(google.rpc.__path__))).parent.parent
# The Node client decodes these from grpc-status-details-bin.
RICH_STATUS_PROTOS = ["google/rpc/status.proto", "google/rpc/error_details.proto"]
TS_PROTO = ROOT / "clients" / "node" / "node_modules" / ".bin" / "protoc-gen-ts_proto"
# ts-proto: @grpc/grpc-js clients, and the generic definitions the package's promise
# client is built from; Timestamp fields as Date (its default); enums as their names, as
# grpcurl and the Python client print them; no helper exported by every file, so
# index.ts can re-export them all.
TS_PROTO_OPTIONS = ",".join(
    [
        "outputServices=grpc-js",
        "outputServices=generic-definitions",
        "esModuleInterop=true",
        "stringEnums=true",
        "exportCommonSymbols=false",
        "env=node",
    ]
)


def _protoc(*args: str) -> None:
    status = protoc.main(["protoc", f"-I{PROTO_ROOT}", f"-I{WELL_KNOWN}", *args])
    if status != 0:
        sys.exit(f"protoc failed with status {status}")


def _our_protos() -> list[str]:
    return sorted(str(p.relative_to(PROTO_ROOT)) for p in PROTO_ROOT.rglob("*.proto"))


def generate(out_dir: Path) -> None:
    plugin = shutil.which("protoc-gen-mypy_grpc", path=str(Path(sys.executable).parent))
    if plugin is None:
        sys.exit("protoc-gen-mypy_grpc not found beside this python (pip install mypy-protobuf)")
    _protoc(
        f"--plugin=protoc-gen-mypy_grpc={plugin}",
        f"--python_out={out_dir}",
        f"--pyi_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        f"--mypy_grpc_out={out_dir}",
        # With comments, for server reflection (grpcurl describe shows them).
        "--include_source_info",
        f"--descriptor_set_out={out_dir / DESCRIPTOR_SET}",
        *_our_protos(),
    )


def generate_node(out_dir: Path) -> None:
    if not TS_PROTO.exists():
        sys.exit("ts-proto not installed: npm ci --prefix clients/node")
    out_dir.mkdir(parents=True, exist_ok=True)
    _protoc(
        f"-I{GOOGLEAPIS}",
        f"--plugin=protoc-gen-ts_proto={TS_PROTO}",
        f"--ts_proto_out={out_dir}",
        f"--ts_proto_opt={TS_PROTO_OPTIONS}",
        *_our_protos(),
        *RICH_STATUS_PROTOS,
    )


if __name__ == "__main__":
    if sys.argv[1] == "--node":
        generate_node(Path(sys.argv[2]))
    else:
        generate(Path(sys.argv[1]))
