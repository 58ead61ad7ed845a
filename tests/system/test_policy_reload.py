"""An operator edits the policy of running gateways: an edit is found by its content, a
broken edit leaves every replica serving with the last good policy and saying so loudly
(health detail, metric, error log line with line and column, audit record), and
`graphrestore-gateway check-policy` says before deploying what each caller could do."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from graphrestore.channel import open_channel
from graphrestore.v1 import onedrive_restore_service_pb2_grpc as service_grpc
from graphrestore.v1 import restore_session_pb2 as pb
from grpc_health.v1 import health_pb2, health_pb2_grpc
from helpers import create_request, error_info, wait_for
from pki import Authority, Issued
from processes import BIN, Emulator, Gateway, MtlsGateway, clean_env, start_mtls_gateway
from prometheus_client.parser import text_string_to_metric_families
from test_config import run_gateway

BOT = "spiffe://corp/ns/payroll/sa/backup-bot"
POLICY = f"""# who may restore
[[callers]]
id = "{BOT}"
methods = ["CreateRestoreSession", "GetRestoreSession"]
destination_types = ["new"]
max_artifacts = 10
"""
# The bot's create taken away, by an edit with a typo on line 5, column 28 (not TOML).
TYPO = POLICY.replace('["CreateRestoreSession", ', "[").replace('["new"]', '["new"]]')
POLICY_POINTS_AT = "policy.toml:5:28: "
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
POLICY_DETAIL = "graphrestore.policy-file"


@dataclass
class Replicas:
    """Gateways of one CA and one policy file (the first one's), and the bot."""

    first: MtlsGateway
    gateways: list[Gateway]
    bot: Issued

    def channel(self, gateway: Gateway) -> grpc.Channel:
        return open_channel(
            gateway.address,
            ca_file=str(self.first.ca.cert_file),
            cert_file=str(self.bot.cert_file),
            key_file=str(self.bot.key_file),
        )

    def create(self, gateway: Gateway) -> None:
        with self.channel(gateway) as channel:
            stub = service_grpc.OneDriveRestoreServiceStub(channel)
            assert stub.CreateRestoreSession(create_request("rp-reload"), timeout=10).id

    def health(self, gateway: Gateway, service: str = "") -> int:
        with self.channel(gateway) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            request = health_pb2.HealthCheckRequest(service=service)
            return int(stub.Check(request, timeout=5).status)

    def failures_counted(self, gateway: Gateway) -> float:
        [line] = [json.loads(x) for x in gateway.log_lines if "metrics listening" in x]
        context = ssl.create_default_context(cafile=str(self.first.ca.cert_file))
        text = httpx.get(line["url"].replace("127.0.0.1", "localhost"), verify=context).text
        return sum(
            sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if sample.name == "graphrestore_policy_reload_failures_total"
        )

    def audit(self, gateway: Gateway) -> list[dict[str, Any]]:
        assert gateway.audit_file is not None
        return [json.loads(line) for line in gateway.audit_file.read_text().splitlines()]


def start_replicas(env: dict[str, str], folder: Path, count: int) -> Replicas:
    """Gateways sharing one CA, one policy file and `env` (one Redis), each with its own
    audit file and a metrics port."""
    env = {**env, "GRAPHRESTORE_METRICS_LISTEN": "127.0.0.1:0"}
    first = start_mtls_gateway(env, folder, POLICY)
    others = [first.replica(env, folder / f"audit-{index}.jsonl") for index in range(1, count)]
    return Replicas(first, [first.gateway, *others], first.ca.issue("bot", "bot", uri=BOT))


@pytest.fixture
def replicas(emulator: Emulator, redis_url: str, tmp_path: Path) -> Iterator[Replicas]:
    started = start_replicas(
        {**emulator.gateway_env(), "GRAPHRESTORE_REDIS_URL": redis_url}, tmp_path, 2
    )
    yield started
    for gateway in started.gateways:
        assert gateway.stop() == 0


def test_a_typo_pushed_to_two_replicas_leaves_both_serving_the_last_good_policy(
    replicas: Replicas,
) -> None:
    for gateway in replicas.gateways:
        replicas.create(gateway)
        assert replicas.health(gateway, POLICY_DETAIL) == SERVING
    replicas.first.policy_file.write_text(TYPO)

    def refused(gateway: Gateway) -> list[dict[str, Any]]:
        return [r for r in gateway.log_records() if r["message"].startswith("policy edit refused")]

    def reloads(gateway: Gateway) -> list[dict[str, Any]]:
        return [r for r in replicas.audit(gateway) if r.get("event") == "policy_reload"]

    for gateway in replicas.gateways:
        # Each replica finds the edit by itself, with no call to make it look.
        assert wait_for(lambda gateway=gateway: bool(refused(gateway)), within_s=10)
        [line] = refused(gateway)
        assert line["level"] == "error"
        assert (line["line"], line["column"]) == (5, 28)
        assert POLICY_POINTS_AT in line["error"]
        assert replicas.health(gateway) == SERVING  # still ready
        assert wait_for(
            lambda gateway=gateway: replicas.health(gateway, POLICY_DETAIL) == NOT_SERVING, 5
        )
        assert replicas.failures_counted(gateway) == 1
        # The record is written beside the log line, not before it.
        assert wait_for(lambda gateway=gateway: bool(reloads(gateway)), within_s=5)
        [record] = reloads(gateway)
        assert (record["outcome"], record["line"], record["column"]) == ("REFUSED", 5, 28)
        assert record["in_force_sha256"]
        replicas.create(gateway)  # the last good policy still lets the bot create
    # The operator fixes the typo: in force on both, and the detail is well again.
    replicas.first.policy_file.write_text(TYPO.replace('["new"]]', '["new"]'))
    for gateway in replicas.gateways:
        assert wait_for(
            lambda gateway=gateway: replicas.health(gateway, POLICY_DETAIL) == SERVING, 10
        )
        with replicas.channel(gateway) as channel, pytest.raises(grpc.RpcError) as failure:
            service_grpc.OneDriveRestoreServiceStub(channel).CreateRestoreSession(
                create_request("rp-reload"), timeout=10
            )
        assert error_info(failure.value).reason == "METHOD_NOT_ALLOWED"
        assert replicas.failures_counted(gateway) == 1
        assert wait_for(lambda gateway=gateway: len(reloads(gateway)) == 2, within_s=5)
        assert [r["outcome"] for r in reloads(gateway)] == ["REFUSED", "IN_FORCE"]


def test_an_edit_of_equal_size_with_its_time_put_back_is_loaded(
    emulator: Emulator, tmp_path: Path
) -> None:
    replicas = start_replicas(emulator.gateway_env(), tmp_path, 1)
    [gateway] = replicas.gateways
    try:
        replicas.create(gateway)
        before = os.stat(replicas.first.policy_file)
        in_place = POLICY.replace('["new"]', '["inPlace"]').replace("may restore", "may res")
        assert len(in_place) == len(POLICY)
        replicas.first.policy_file.write_text(in_place)
        os.utime(replicas.first.policy_file, ns=(before.st_atime_ns, before.st_mtime_ns))
        assert os.stat(replicas.first.policy_file).st_mtime_ns == before.st_mtime_ns

        def in_place_allowed() -> bool:
            request = create_request("rp-reload", destination=pb.DESTINATION_TYPE_IN_PLACE)
            with replicas.channel(gateway) as channel:
                stub = service_grpc.OneDriveRestoreServiceStub(channel)
                try:
                    return bool(stub.CreateRestoreSession(request, timeout=10).id)
                except grpc.RpcError as error:
                    assert error_info(error).reason == "DESTINATION_TYPE_NOT_ALLOWED"
                    return False

        assert wait_for(in_place_allowed, within_s=10)
    finally:
        assert gateway.stop() == 0


def test_a_broken_policy_at_start_refuses_to_start(emulator: Emulator, tmp_path: Path) -> None:
    ca = Authority(tmp_path, "internal")
    server = ca.issue("gateway", "graphrestore", server=True)
    (tmp_path / "policy.toml").write_text(TYPO)
    started = run_gateway(
        {
            **emulator.gateway_env(),
            "GRAPHRESTORE_STATE_DIR": str(tmp_path / "state"),
            "GRAPHRESTORE_AUTH": "mtls",
            "GRAPHRESTORE_TLS_CERT_FILE": str(server.cert_file),
            "GRAPHRESTORE_TLS_KEY_FILE": str(server.key_file),
            "GRAPHRESTORE_CLIENT_CA_FILE": str(ca.cert_file),
            "GRAPHRESTORE_POLICY_FILE": str(tmp_path / "policy.toml"),
        }
    )
    assert started.returncode == 2
    assert POLICY_POINTS_AT in started.stderr


def check_policy(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "graphrestore-gateway"), "check-policy", str(path)],
        env=clean_env({}),
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_check_policy_prints_what_each_caller_may_do(tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(
        POLICY + '\n[[callers]]\nid = "spiffe://corp/ns/helpdesk/*"\n'
        'methods = ["GetRestoreSession"]\nsessions = "any"\nprotection_unit_ids = ["u-1"]\n'
    )
    checked = check_policy(policy)
    assert checked.returncode == 0, checked.stderr
    assert f"{policy}: valid, 2 callers" in checked.stdout
    bot, helpdesk = checked.stdout.split("\n\n")[1:]
    assert bot.splitlines() == [
        BOT,
        "  workloads      onedrive",
        "  methods        CreateRestoreSession, GetRestoreSession",
        "  destinations   new",
        "  max_artifacts  10 per session",
        "  units          any",
        "  sessions       own (created through the gateway)",
    ]
    assert "every caller whose id starts with spiffe://corp/ns/helpdesk/" in helpdesk
    assert "  units          u-1" in helpdesk
    assert "  sessions       any of the tenant" in helpdesk


@pytest.mark.parametrize(
    ("content", "where"),
    [
        (TYPO, ":5:28: Expected newline"),
        (POLICY + '\n[[callers]]\nid = "x"\n  methodz = []\n', ":10:3: callers[1]: unknown keys"),
        (POLICY.replace('["new"]', '["new", "elsewhere"]'), ":5:1: callers[0].destination"),
        ("", ":1:1: needs [[callers]] tables"),
    ],
)
def test_check_policy_refuses_any_error_with_its_line_and_column(
    tmp_path: Path, content: str, where: str
) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(content)
    checked = check_policy(policy)
    assert checked.returncode == 2
    assert f"{policy}{where}" in checked.stderr
    assert checked.stdout == ""
