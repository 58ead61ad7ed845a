"""An operator's view: the metrics a scrape shows move by exactly what was done."""

from __future__ import annotations

import json
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import httpx
import pytest
from graphrestore.v1 import onedrive_restore_service_pb2 as service_pb
from helpers import create_request, wait_for
from pki import Authority, Issued
from processes import BIN, Emulator, MtlsGateway, clean_env, start_mtls_gateway
from prometheus_client.parser import text_string_to_metric_families
from test_config import run_gateway

SERVICE = "graphrestore.v1.OneDriveRestoreService"
OPERATOR = "spiffe://corp/ns/ops/sa/operator"
STRANGER = "spiffe://corp/ns/other/sa/x"


@dataclass
class Observed:
    mtls: MtlsGateway
    operator: Issued
    stranger: Issued
    url: str

    def scrape(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        """Every sample: (name, sorted labels) -> value."""
        context = ssl.create_default_context(cafile=str(self.mtls.ca.cert_file))
        text = httpx.get(self.url, verify=context).text
        return {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        }


@pytest.fixture(scope="module")
def observed(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Observed]:
    mtls = start_mtls_gateway(
        {**emulator.gateway_env(), "GRAPHRESTORE_METRICS_LISTEN": "127.0.0.1:0"},
        tmp_path_factory.mktemp("metrics"),
        f'[[callers]]\nid = "{OPERATOR}"\nmethods = ["CreateRestoreSession", '
        '"WatchRestoreSession"]\ndestination_types = ["new"]\nmax_artifacts = 10\n',
    )
    lines = mtls.gateway.log_lines
    assert wait_for(lambda: any("metrics listening" in line for line in lines), 5)
    [line] = [json.loads(x) for x in lines if "metrics listening" in x]
    yield Observed(
        mtls,
        mtls.ca.issue("operator", "op", uri=OPERATOR),
        mtls.ca.issue("stranger", "x", uri=STRANGER),
        line["url"].replace("127.0.0.1", "localhost"),
    )
    assert mtls.gateway.stop() == 0


def test_a_scrape_counts_exactly_what_was_done(observed: Observed) -> None:
    before = observed.scrape()
    channel, stub = observed.mtls.stub(observed.operator)
    with channel:
        first = create_request("rp-metrics-1")
        for request in (first, create_request("rp-metrics-2"), create_request("rp-metrics-3")):
            stub.CreateRestoreSession(request, timeout=10)
        stub.CreateRestoreSession(first, timeout=10)  # a retry: replayed, not sent again
        with pytest.raises(grpc.RpcError):
            stub.CreateRestoreSession(create_request(), timeout=10)  # no artifacts
        session_id = stub.CreateRestoreSession(create_request("rp-metrics-4"), timeout=10).id
        watch = stub.WatchRestoreSession(
            service_pb.WatchRestoreSessionRequest(restore_session_id=session_id), timeout=30
        )
        next(watch)
        during = observed.scrape()
        watch.cancel()
    channel, stranger = observed.mtls.stub(observed.stranger)
    with channel, pytest.raises(grpc.RpcError):
        stranger.CreateRestoreSession(create_request("rp-metrics-x"), timeout=10)
    after = observed.scrape()

    def moved(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    handled = "grpc_server_handled_total"
    rpc = {"grpc_service": SERVICE, "grpc_method": "CreateRestoreSession", "grpc_type": "unary"}
    assert moved(handled, **rpc, grpc_code="OK", caller=OPERATOR) == 5
    assert moved(handled, **rpc, grpc_code="INVALID_ARGUMENT", caller=OPERATOR) == 1
    assert moved(handled, **rpc, grpc_code="PERMISSION_DENIED", caller=STRANGER) == 1
    assert moved("grpc_server_started_total", **rpc) == 7
    assert moved("grpc_server_handling_seconds_count", **rpc) == 7
    creates = "POST /oneDriveForBusinessRestoreSessions"
    assert moved("graphrestore_graph_requests_total", route=creates, status="201") == 4
    assert moved("graphrestore_graph_request_seconds_count", route=creates) == 4
    assert moved("graphrestore_request_records_total", event="replayed") == 1
    assert moved("graphrestore_policy_denials_total", reason="UNKNOWN_CALLER") == 1
    graph_calls = sum(
        value - before.get(key, 0.0)
        for key, value in after.items()
        if key[0] == "graphrestore_graph_requests_total"
    )
    assert moved("graphrestore_budget_wait_seconds_count") == graph_calls
    assert during[("graphrestore_watch_streams", ())] == 1
    # The cancelled stream is let go as soon as the gateway sees the cancel.
    assert wait_for(lambda: observed.scrape()[("graphrestore_watch_streams", ())] == 0, 5)
    assert after[("graphrestore_token_requests_total", (("outcome", "ok"),))] >= 1
    assert after[("graphrestore_budget_available_requests", ())] > 0


def test_metrics_off_loopback_need_tls(emulator: Emulator, tmp_path: Path) -> None:
    result = subprocess.run(
        [str(BIN / "graphrestore-gateway")],
        env=clean_env(
            {
                **emulator.gateway_env(),
                "GRAPHRESTORE_LISTEN": "127.0.0.1:0",
                "GRAPHRESTORE_STATE_DIR": str(tmp_path),
                "GRAPHRESTORE_METRICS_LISTEN": "0.0.0.0:9464",
            }
        ),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "GRAPHRESTORE_METRICS_LISTEN" in result.stderr


def scrape_status(url: str, ca: Authority, client: Issued | None) -> int | str:
    """The HTTP status of a scrape with `client`'s certificate (or none), or the
    failure's type when the TLS handshake refused it."""
    context = ssl.create_default_context(cafile=str(ca.cert_file))
    if client is not None:
        context.load_cert_chain(str(client.cert_file), str(client.key_file))
    try:
        return httpx.get(url, verify=context, timeout=10).status_code
    except httpx.TransportError as refused:
        return type(refused).__name__


@pytest.mark.parametrize("scrape_ca", ["callers'", "its own"])
def test_metrics_off_loopback_need_a_client_certificate(
    emulator: Emulator, tmp_path: Path, scrape_ca: str
) -> None:
    """Off loopback a scraper proves itself: the labels name every caller."""
    scrapers = Authority(tmp_path, "scrapers")
    env = {**emulator.gateway_env(), "GRAPHRESTORE_METRICS_LISTEN": "0.0.0.0:0"}
    if scrape_ca == "its own":
        env["GRAPHRESTORE_METRICS_CLIENT_CA_FILE"] = str(scrapers.cert_file)
    mtls = start_mtls_gateway(env, tmp_path, f'[[callers]]\nid = "{OPERATOR}"\nmethods = []\n')
    try:
        lines = mtls.gateway.log_lines
        assert wait_for(lambda: any("metrics listening" in line for line in lines), 5)
        [line] = [json.loads(x) for x in lines if "metrics listening" in x]
        url = f"https://localhost:{line['port']}/metrics"
        caller = mtls.ca.issue("operator", "op", uri=OPERATOR)
        prometheus = scrapers.issue("prometheus", "prometheus")
        stranger = Authority(tmp_path, "elsewhere").issue("stranger", "x")
        allowed = caller if scrape_ca == "callers'" else prometheus
        for client in (None, stranger, prometheus if allowed is caller else caller):
            assert scrape_status(url, mtls.ca, client) != 200, client
        assert scrape_status(url, mtls.ca, allowed) == 200
    finally:
        assert mtls.gateway.stop() == 0


def test_metrics_off_loopback_with_bearer_tokens_need_a_scrape_ca(
    emulator: Emulator, tmp_path: Path
) -> None:
    """With jwt there is no callers' CA to take: the gateway does not start without one."""
    server = Authority(tmp_path, "internal").issue("gateway", "graphrestore", server=True)
    (tmp_path / "policy.toml").write_text('[[callers]]\nid = "x"\nmethods = []\n')
    result = run_gateway(
        {
            **emulator.gateway_env(),
            "GRAPHRESTORE_STATE_DIR": str(tmp_path),
            "GRAPHRESTORE_AUTH": "jwt",
            "GRAPHRESTORE_TLS_CERT_FILE": str(server.cert_file),
            "GRAPHRESTORE_TLS_KEY_FILE": str(server.key_file),
            "GRAPHRESTORE_JWT_JWKS_URL": "https://127.0.0.1:1/keys",
            "GRAPHRESTORE_JWT_ISSUER": "https://issuer",
            "GRAPHRESTORE_JWT_AUDIENCE": "api://graphrestore",
            "GRAPHRESTORE_POLICY_FILE": str(tmp_path / "policy.toml"),
            "GRAPHRESTORE_METRICS_LISTEN": "0.0.0.0:0",
        }
    )
    assert result.returncode == 2
    assert "GRAPHRESTORE_METRICS_CLIENT_CA_FILE" in result.stderr
