"""Pure fixtures for unit tests: files in tmp_path, never a process or a socket."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pki import Authority

EXAMPLES = Path(__file__).parent.parent / "contract" / "graph-examples"


def example(name: str) -> Any:
    """One of Microsoft's documented bodies in tests/contract/graph-examples."""
    return json.loads((EXAMPLES / name).read_text())


@pytest.fixture
def gateway_files(tmp_path: Path) -> dict[str, str]:
    """Files a gateway's settings name, by a short name: a client secret, a CA, a server
    certificate and key of that CA, a certificate credential, a policy, a 32-character
    page token key, a file that is no PEM, an empty one and one that is missing."""
    ca = Authority(tmp_path, "unit")
    server = ca.issue("server", "localhost", server=True)
    files = {
        "secret": "client-secret-value",
        "policy": '[[callers]]\nid = "bot"\nmethods = []\n',
        "page-token-key": "k" * 32,
        "not-pem": "hello",
        "empty": "",
    }
    # The gateway's own certificate credential: a certificate and its key in one PEM.
    files["client-cert"] = server.cert_file.read_text() + server.key_file.read_text()
    for name, content in files.items():
        (tmp_path / name).write_text(content)
    return {
        **{name: str(tmp_path / name) for name in files},
        "ca": str(ca.cert_file),
        "server-cert": str(server.cert_file),
        "server-key": str(server.key_file),
        "missing": str(tmp_path / "missing"),
        "state": str(tmp_path / "state"),
    }
