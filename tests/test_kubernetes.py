"""The kustomize base (deploy/kubernetes): valid against Kubernetes' schemas (offline,
kubernetes-validate; `make lint` runs it too), and holding what an operator relies on:
two non-root replicas on a read-only root, gRPC probes, a budget for disruptions, a
network policy, secrets and policy as files, and only settings the gateway knows."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import yaml
from graphrestore_gateway.access.policy import load_policy
from processes import BIN, ROOT

BASE = ROOT / "deploy" / "kubernetes"
KUBERNETES_VERSION = "1.30.0"


def manifest(name: str) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((BASE / name).read_text())
    return document


def test_every_manifest_is_valid_and_listed_in_the_kustomization() -> None:
    listed = manifest("kustomization.yaml")["resources"]
    files = sorted(p.name for p in BASE.glob("*.yaml") if p.name != "kustomization.yaml")
    assert sorted(listed) == files
    result = subprocess.run(
        [
            str(BIN / "kubernetes-validate"),
            "--strict",
            "-k",
            KUBERNETES_VERSION,
            *map(str, sorted(BASE.glob("*.yaml"))),
        ],
        capture_output=True,
        text=True,
    )
    # The kustomization is no Kubernetes resource: every other file must pass.
    assert result.stdout.count(" passed for resource ") == len(files), result.stdout + result.stderr


def test_the_deployment_runs_two_locked_down_replicas_with_grpc_probes() -> None:
    deployment = manifest("deployment.yaml")
    spec = deployment["spec"]
    pod = spec["template"]["spec"]
    [container] = pod["containers"]
    assert spec["replicas"] == 2
    assert pod["securityContext"]["runAsUser"] == 10001
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    assert set(container["resources"]) == {"requests", "limits"}
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        assert container[probe]["grpc"]["port"] == 8081
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    env = {e["name"]: e for e in container["env"]}
    for file_setting in ("CLIENT_SECRET_FILE", "TLS_KEY_FILE", "POLICY_FILE"):
        path = Path(env[f"GRAPHRESTORE_{file_setting}"]["value"])
        assert mounts[str(path.parent)]["readOnly"] is True
    assert (
        env["GRAPHRESTORE_REDIS_URL"]["valueFrom"]["secretKeyRef"]["name"] == "graphrestore-redis"
    )


def test_the_deployment_sets_only_settings_the_gateway_knows_and_a_valid_policy(
    tmp_path: Path,
) -> None:
    readme = (ROOT / "README.md").read_text()
    documented = set(re.findall(r"`(GRAPHRESTORE_[A-Z_]+)`", readme))
    [container] = manifest("deployment.yaml")["spec"]["template"]["spec"]["containers"]
    assert {e["name"] for e in container["env"]} <= documented
    policy = tmp_path / "policy.toml"
    policy.write_text(manifest("configmap.yaml")["data"]["policy.toml"])
    assert load_policy(policy).rules


def test_disruptions_and_the_network_are_bounded() -> None:
    assert manifest("poddisruptionbudget.yaml")["spec"]["minAvailable"] == 1
    network = manifest("networkpolicy.yaml")["spec"]
    assert network["policyTypes"] == ["Ingress", "Egress"]
    [callers, _] = network["ingress"]
    assert callers["from"][0]["podSelector"]["matchLabels"] == {"graphrestore.io/caller": "true"}
    egress_ports = sorted({p["port"] for rule in network["egress"] for p in rule["ports"]})
    assert egress_ports == [53, 443, 6379]
