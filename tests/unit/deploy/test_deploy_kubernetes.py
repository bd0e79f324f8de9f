"""deploy/kubernetes: every manifest validates against the Kubernetes OpenAPI schemas, and the
pieces fit together (names, labels, keys, probes, security context, network policy).

Schema validation is ``kubernetes-validate`` (PyPI, pinned in the ``test`` extra), which bundles
the JSON schemas generated from the Kubernetes OpenAPI documents, so it runs offline. It is
run in strict mode (unknown fields are errors) against Kubernetes 1.29 and against the newest
version it ships. ``kustomization.yaml`` is not a Kubernetes resource; its resource list and
image name are checked against the files instead.
"""

from __future__ import annotations

import copy
import re
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from gateway.config import Settings, production_problems
from gateway.keys import AUDIT_KEY_FILE, MASTER_DIR, SIGNING_DIR

REPO = Path(__file__).resolve().parents[3]
KUBERNETES = REPO / "deploy" / "kubernetes"
VERSIONS = ["1.29.0", kubernetes_validate.latest_version()]
NAMESPACE = "thuiszitterspact"


def manifest_files() -> list[Path]:
    return sorted(p for p in KUBERNETES.glob("*.yaml") if p.name != "kustomization.yaml")


def resources() -> list[dict]:
    found = []
    for path in manifest_files():
        for document in yaml.safe_load_all(path.read_text()):
            if document:
                found.append(document)
    return found


def find(kind: str, name: str) -> dict:
    matches = [r for r in resources() if r["kind"] == kind and r["metadata"]["name"] == name]
    assert len(matches) == 1, f"{kind}/{name}: {len(matches)} found"
    return matches[0]


def kinds() -> set[str]:
    return {r["kind"] for r in resources()}


def pod_templates() -> dict[str, dict]:
    """Pods that run the gateway image (not the Redis of the rate limits)."""
    return {
        f"{r['kind']}/{r['metadata']['name']}": r["spec"]["template"]
        for r in resources()
        if r["kind"] in ("Deployment", "Job")
        and r["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"] == "gateway"
    }


def all_pod_templates() -> dict[str, dict]:
    return {
        f"{r['kind']}/{r['metadata']['name']}": r["spec"]["template"]
        for r in resources()
        if r["kind"] in ("Deployment", "Job")
    }


@pytest.mark.parametrize("version", VERSIONS)
def test_every_manifest_validates_strictly_against_the_kubernetes_schemas(version):
    checked = []
    for resource in resources():
        # Raises ValidationError (with the path) or SchemaNotFoundError for an unknown kind.
        kubernetes_validate.validate(resource, version, strict=True)
        checked.append(f"{resource['kind']}/{resource['metadata']['name']}")
    assert len(checked) == len(set(checked)) >= 14


def test_the_required_kinds_are_there():
    assert {
        "Namespace",
        "ConfigMap",
        "Secret",
        "Deployment",
        "Job",
        "Service",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "NetworkPolicy",
    } <= kinds()
    assert find("HorizontalPodAutoscaler", "gateway")["apiVersion"] == "autoscaling/v2"


@pytest.mark.parametrize(
    "break_it",
    [
        lambda d: d["spec"]["template"]["spec"]["containers"][0].update(readinesProbe={}),
        lambda d: d["spec"].update(replicas="two"),
        lambda d: d["spec"]["template"]["spec"]["securityContext"].update(runAsNonRoot="yes"),
    ],
    ids=["misspelt-field", "wrong-type", "wrong-type-nested"],
)
def test_the_validator_rejects_broken_manifests(break_it):
    """Control: strict validation is not a rubber stamp."""
    broken = copy.deepcopy(find("Deployment", "gateway"))
    break_it(broken)
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, VERSIONS[0], strict=True)


def test_kustomization_lists_every_manifest_and_the_image():
    kustomization = yaml.safe_load((KUBERNETES / "kustomization.yaml").read_text())
    assert sorted(kustomization["resources"]) == [p.name for p in manifest_files()]
    assert kustomization["namespace"] == NAMESPACE
    images = {
        c["image"].rsplit(":", 1)[0]
        for template in pod_templates().values()
        for c in template["spec"]["containers"]
    }
    assert images == {i["name"] for i in kustomization["images"]}
    for resource in resources():
        if resource["kind"] != "Namespace":
            assert resource["metadata"]["namespace"] == NAMESPACE


def test_gateway_deployment_probes_serve_readyz_and_healthz_on_the_http_port():
    container = containers()["gateway"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        assert container[probe]["httpGet"]["port"] in ports
    command = " ".join(container["command"])
    assert f"--port {ports['http']}" in command and "gateway run" in command
    assert "db upgrade" not in command, "migrations belong to the Job, not to every replica"
    for kind in ("requests", "limits"):
        assert {"cpu", "memory"} <= container["resources"][kind].keys()


def containers(deployment: str = "gateway") -> dict[str, dict]:
    pod = find("Deployment", deployment)["spec"]["template"]["spec"]
    return {c["name"]: c for c in pod["containers"]}


def test_delivery_worker_and_migrations_run_their_commands():
    delivery = containers("gateway-worker")["delivery"]
    assert "exec gateway worker " in delivery["command"][-1]
    assert [p["containerPort"] for p in delivery["ports"]] == [9100]
    job = find("Job", "gateway-migrations")["spec"]["template"]["spec"]
    assert job["containers"][0]["command"] == ["gateway", "db", "upgrade"]
    assert job["restartPolicy"] == "Never"


def test_the_delivery_worker_is_a_deployment_of_its_own_with_a_liveness_probe():
    """Issue 16: the worker used to be a probe-less second container of the API pods, so a
    stuck worker went unnoticed (only the backlog alert) and scaled with the API."""
    assert set(containers()) == {"gateway"}, "no worker inside the API pods"
    worker = find("Deployment", "gateway-worker")
    assert worker["spec"]["replicas"] >= 2
    labels = worker["spec"]["template"]["metadata"]["labels"]
    assert labels["app.kubernetes.io/component"] == "worker"
    (delivery,) = worker["spec"]["template"]["spec"]["containers"]
    start = delivery["command"][-1].rstrip().splitlines()[-1].split()
    heartbeat = start[start.index("--heartbeat-file") + 1]
    for probe in ("livenessProbe", "startupProbe"):
        command = delivery[probe]["exec"]["command"]
        assert command[:3] == ["gateway", "worker", "--check-heartbeat"]
        assert command[command.index("--heartbeat-file") + 1] == heartbeat
        max_age = int(command[command.index("--max-age") + 1])
        # a turn takes at most a batch's lease (2 x timeout + 5 s) plus the poll interval
        timeout = int(find("ConfigMap", "gateway-config")["data"][
            "GATEWAY_DELIVERY_TIMEOUT_SECONDS"])
        assert max_age > 2 * timeout + 5 + 1
        assert delivery[probe]["timeoutSeconds"] >= 5
    assert "readinessProbe" not in delivery, "no traffic is routed to workers"
    pdb = find("PodDisruptionBudget", "gateway-worker")["spec"]
    assert all(labels.get(k) == v for k, v in pdb["selector"]["matchLabels"].items())
    assert pdb["minAvailable"] < worker["spec"]["replicas"]
    pod = worker["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in delivery["volumeMounts"]}
    assert heartbeat.startswith("/tmp/") and "emptyDir" in volumes[mounts["/tmp"]]
    # its own metrics endpoint, behind the metrics token, found through its Service
    service = find("Service", "gateway-worker")
    assert all(labels.get(k) == v for k, v in service["spec"]["selector"].items())
    assert service["spec"]["ports"][0]["targetPort"] == delivery["ports"][0]["name"]
    assert "--metrics-port 9100" in delivery["command"][-1]
    assert "GATEWAY_METRICS_TOKEN" in {v["name"] for v in delivery["env"]}


@pytest.mark.parametrize(
    ("deployment", "name"), [("gateway", "gateway"), ("gateway-worker", "delivery")]
)
def test_start_removes_only_live_gauges_of_dead_processes(deployment, name, tmp_path):
    """The shell before ``exec`` really does what mark_process_dead does for a dead pid."""
    lines = containers(deployment)[name]["command"][-1].rstrip().splitlines()
    assert lines[-1].startswith("exec gateway ")
    alive = subprocess.Popen(["sleep", "30"])
    dead = subprocess.Popen(["true"])
    dead.wait()
    try:
        files = {
            f"gauge_livemax_{alive.pid}.db": True,
            f"gauge_livemin_{dead.pid}.db": False,
            f"gauge_liveall_{dead.pid}.db": False,
            f"counter_{dead.pid}.db": True,
            f"gauge_max_{dead.pid}.db": True,
        }
        for file in files:
            (tmp_path / file).write_bytes(b"x")
        subprocess.run(
            ["sh", "-c", "\n".join(lines[:-1])],
            env={"PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
            check=True,
            timeout=10,
        )
        assert {f.name for f in tmp_path.iterdir()} == {f for f, kept in files.items() if kept}
    finally:
        alive.kill()
        alive.wait()


@pytest.mark.parametrize("name", sorted(all_pod_templates()))
def test_every_pod_is_non_root_with_a_read_only_root_and_limits(name):
    pod = all_pod_templates()[name]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] >= 10000
    assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    assert pod["automountServiceAccountToken"] is False
    for container in pod["containers"]:
        context = container["securityContext"]
        assert context["readOnlyRootFilesystem"] is True
        assert context["allowPrivilegeEscalation"] is False
        assert context["capabilities"]["drop"] == ["ALL"]
        assert {"cpu", "memory"} <= container["resources"]["requests"].keys()
        assert "memory" in container["resources"]["limits"]


@pytest.mark.parametrize("name", sorted(pod_templates()))
def test_gateway_pods_write_only_to_emptydirs(name):
    """Read-only root: /tmp and the Prometheus multiprocess directory (the gateway touches it
    at import, ``gateway db upgrade`` included) must be emptyDirs in every gateway pod."""
    pod = pod_templates()[name]["spec"]
    config = find("ConfigMap", "gateway-config")["data"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    for container in pod["containers"]:
        mounts = {m["mountPath"]: volumes[m["name"]] for m in container["volumeMounts"]}
        assert "emptyDir" in mounts["/tmp"]
        assert "emptyDir" in mounts[config["PROMETHEUS_MULTIPROC_DIR"]]


@pytest.mark.parametrize("deployment", ["Deployment/gateway", "Deployment/gateway-worker"])
def test_key_volumes_lay_out_the_key_directory_the_gateway_reads(deployment):
    keys_dir = find("ConfigMap", "gateway-config")["data"]["GATEWAY_KEYS_DIR"]
    secrets = {r["metadata"]["name"]: r for r in resources() if r["kind"] == "Secret"}
    pod = pod_templates()[deployment]["spec"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    for container in pod["containers"]:
        mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
        master = mounts[f"{keys_dir}/{MASTER_DIR}"]
        signing = mounts[f"{keys_dir}/{SIGNING_DIR}"]
        audit = mounts[f"{keys_dir}/{AUDIT_KEY_FILE}"]
        for mount in (master, signing, audit):
            assert mount["readOnly"] is True
            assert volumes[mount["name"]]["secret"]["secretName"] in secrets
        assert audit["subPath"] == AUDIT_KEY_FILE
        audit_secret = secrets[volumes[audit["name"]]["secret"]["secretName"]]
        assert AUDIT_KEY_FILE in audit_secret["stringData"]
        master_secret = secrets[volumes[master["name"]]["secret"]["secretName"]]
        assert all(re.fullmatch(r"v\d+\.key", key) for key in master_secret["stringData"])


def test_secret_references_resolve_and_the_secrets_hold_only_placeholders():
    secrets = {r["metadata"]["name"]: r for r in resources() if r["kind"] == "Secret"}
    configmaps = {r["metadata"]["name"] for r in resources() if r["kind"] == "ConfigMap"}
    for template in pod_templates().values():
        for container in template["spec"]["containers"]:
            for source in container.get("envFrom", []):
                assert source["configMapRef"]["name"] in configmaps
            for variable in container.get("env", []):
                ref = variable["valueFrom"]["secretKeyRef"]
                assert ref["key"] in secrets[ref["name"]]["stringData"], variable["name"]
    for secret in secrets.values():
        assert "data" not in secret, "templates use stringData placeholders, never real data"
        for key, value in secret["stringData"].items():
            assert "REPLACE" in value, f"{secret['metadata']['name']}/{key} is not a placeholder"


def test_configmap_and_secrets_form_a_production_configuration_the_gateway_accepts():
    """The real settings parser reads the manifests' environment as a pod would get it."""
    environ = dict(find("ConfigMap", "gateway-config")["data"])
    container = containers()["gateway"]
    for variable in container["env"]:
        environ[variable["name"]] = (
            "placeholder-from-" + variable["valueFrom"]["secretKeyRef"]["name"]
        )
    settings = Settings.from_env(environ)
    assert settings.is_production
    assert production_problems(settings) == []
    assert {"GATEWAY_DATABASE_URL", "GATEWAY_METRICS_TOKEN"} <= {
        v["name"] for v in container["env"]
    }


def test_every_gateway_variable_is_one_the_gateway_reads():
    source = "\n".join(p.read_text() for p in (REPO / "gateway").rglob("*.py"))
    names = set(find("ConfigMap", "gateway-config")["data"])
    for template in pod_templates().values():
        for container in template["spec"]["containers"]:
            names |= {v["name"] for v in container.get("env", [])}
    for name in sorted(n for n in names if n.startswith("GATEWAY_")):
        assert f'"{name}"' in source, f"{name} is not read anywhere in gateway/"


def test_service_hpa_and_pdb_select_the_gateway_pods():
    labels = find("Deployment", "gateway")["spec"]["template"]["metadata"]["labels"]
    job_labels = find("Job", "gateway-migrations")["spec"]["template"]["metadata"]["labels"]

    def selects(selector: dict, pod_labels: dict) -> bool:
        return all(pod_labels.get(k) == v for k, v in selector.items())

    worker_labels = find("Deployment", "gateway-worker")["spec"]["template"]["metadata"][
        "labels"]
    service = find("Service", "gateway")
    assert selects(service["spec"]["selector"], labels)
    assert not selects(service["spec"]["selector"], job_labels)
    assert not selects(service["spec"]["selector"], worker_labels), "no traffic to workers"
    container = containers()["gateway"]
    assert service["spec"]["ports"][0]["targetPort"] in {p["name"] for p in container["ports"]}
    hpa = find("HorizontalPodAutoscaler", "gateway")["spec"]
    assert hpa["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "gateway",
    }
    assert 2 <= hpa["minReplicas"] < hpa["maxReplicas"]
    pdb = find("PodDisruptionBudget", "gateway")["spec"]
    assert selects(pdb["selector"]["matchLabels"], labels)
    assert not selects(pdb["selector"]["matchLabels"], worker_labels)
    assert pdb["minAvailable"] < hpa["minReplicas"], "a drain must be able to make progress"


def test_network_policies_deny_by_default_and_open_only_the_needed_flows():
    policies = {
        r["metadata"]["name"]: r["spec"] for r in resources() if r["kind"] == "NetworkPolicy"
    }
    deny = policies["default-deny"]
    assert deny["podSelector"] == {} and set(deny["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in deny and "egress" not in deny

    api_labels = find("Deployment", "gateway")["spec"]["template"]["metadata"]["labels"]
    job_labels = find("Job", "gateway-migrations")["spec"]["template"]["metadata"]["labels"]

    def applies(spec: dict, labels: dict) -> bool:
        return all(labels.get(k) == v for k, v in spec["podSelector"]["matchLabels"].items())

    redis_labels = find("Deployment", "gateway-redis")["spec"]["template"]["metadata"]["labels"]
    worker_labels = find("Deployment", "gateway-worker")["spec"]["template"]["metadata"][
        "labels"]
    ingress = {name: p for name, p in policies.items() if "ingress" in p}
    assert set(ingress) == {
        "gateway-api-ingress",
        "gateway-redis-ingress",
        "gateway-worker-metrics-ingress",
    }
    worker_in = ingress["gateway-worker-metrics-ingress"]
    assert applies(worker_in, worker_labels) and not applies(worker_in, api_labels)
    assert [p["port"] for p in worker_in["ingress"][0]["ports"]] == [9100]
    assert not applies(ingress["gateway-api-ingress"], worker_labels)
    api_in = ingress["gateway-api-ingress"]
    assert applies(api_in, api_labels) and not applies(api_in, job_labels)
    rule = api_in["ingress"][0]
    assert [p["port"] for p in rule["ports"]] == [8000]
    namespaces = {
        s["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] for s in rule["from"]
    }
    # the TLS terminator is Envoy Gateway's proxy (deploy/envoy-gateway), not ingress-nginx
    assert namespaces == {"envoy-gateway-system", "monitoring"}
    redis_in = ingress["gateway-redis-ingress"]
    assert applies(redis_in, redis_labels)
    assert [s["podSelector"]["matchLabels"] for s in redis_in["ingress"][0]["from"]] == [
        {"app.kubernetes.io/name": "gateway", "app.kubernetes.io/component": "api"}
    ]

    def egress_ports(labels: dict) -> set[int]:
        return {
            port["port"]
            for spec in policies.values()
            if "egress" in spec and applies(spec, labels)
            for rule in spec["egress"]
            for port in rule["ports"]
        }

    # The workers push over HTTPS (the API pods no longer do); migrations need only the
    # database.
    assert egress_ports(api_labels) == {53, 5432, 6379}
    assert egress_ports(worker_labels) == {53, 5432, 443}
    assert egress_ports(job_labels) == {53, 5432}
    assert egress_ports(redis_labels) == set()


def test_namespace_enforces_the_restricted_pod_security_standard():
    namespace = find("Namespace", NAMESPACE)
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_the_audit_witness_lives_on_a_shared_writable_claim_outside_the_keys():
    """The witness must outlive a database restore, be written by every replica, and cannot
    sit in the read-only key Secrets (gateway/audit/witness.py)."""
    config = find("ConfigMap", "gateway-config")["data"]
    witness = Path(config["GATEWAY_AUDIT_WITNESS"])
    assert not str(witness).startswith(config["GATEWAY_KEYS_DIR"])
    pod = pod_templates()["Deployment/gateway"]["spec"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    (container,) = pod["containers"]
    (mount,) = [m for m in container["volumeMounts"] if m["mountPath"] == str(witness.parent)]
    assert not mount.get("readOnly", False)
    claim_name = volumes[mount["name"]]["persistentVolumeClaim"]["claimName"]
    claim = find("PersistentVolumeClaim", claim_name)
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]  # every replica writes it
    assert pod["securityContext"]["fsGroup"] == 10001
