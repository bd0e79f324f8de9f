"""deploy/envoy-gateway: the TLS terminator verifies client certificates and always
overwrites the header the gateway reads them from, and the gateway trusts only it.

Gateway API and Envoy Gateway kinds are CRDs, for which kubernetes-validate has no schema;
these tests parse the manifests and check the fields that carry the security property
(field names as in Envoy Gateway's v1alpha1 API and Gateway API v1).
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

import yaml

from gateway.config import Settings

REPO = Path(__file__).resolve().parents[3]
ENVOY = REPO / "deploy" / "envoy-gateway"
KUBERNETES = REPO / "deploy" / "kubernetes"
NAMESPACE = "thuiszitterspact"


def resources() -> list[dict]:
    found = []
    for path in sorted(ENVOY.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        found += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return found


def find(kind: str) -> dict:
    matches = [r for r in resources() if r["kind"] == kind]
    assert len(matches) == 1, f"{kind}: {len(matches)} found"
    return matches[0]


def configmap() -> dict[str, str]:
    return yaml.safe_load((KUBERNETES / "configmap.yaml").read_text())["data"]


def test_the_resources_are_there_and_in_the_namespace():
    kinds = {r["kind"] for r in resources()}
    assert {"Gateway", "HTTPRoute", "ClientTrafficPolicy", "EnvoyProxy", "ConfigMap"} <= kinds
    for resource in resources():
        assert resource["metadata"]["namespace"] == NAMESPACE
    kustomization = yaml.safe_load((ENVOY / "kustomization.yaml").read_text())
    assert kustomization["resources"] == ["envoy-gateway.yaml"]
    assert find("Gateway")["apiVersion"] == "gateway.networking.k8s.io/v1"
    assert find("ClientTrafficPolicy")["apiVersion"] == "gateway.envoyproxy.io/v1alpha1"


def test_the_gateway_terminates_tls_and_routes_to_the_gateway_service():
    gateway = find("Gateway")
    (listener,) = gateway["spec"]["listeners"]
    assert listener["protocol"] == "HTTPS" and listener["tls"]["mode"] == "Terminate"
    assert listener["tls"]["certificateRefs"]
    assert listener["hostname"] == configmap()["GATEWAY_BASE_URL"].removeprefix("https://")
    route = find("HTTPRoute")
    assert route["spec"]["parentRefs"][0]["name"] == gateway["metadata"]["name"]
    service = yaml.safe_load((KUBERNETES / "service.yaml").read_text())
    (backend,) = route["spec"]["rules"][0]["backendRefs"]
    assert backend["name"] == service["metadata"]["name"]
    assert backend["port"] == service["spec"]["ports"][0]["port"]


def test_client_certificates_are_verified_and_the_header_always_overwritten():
    policy = find("ClientTrafficPolicy")["spec"]
    gateway = find("Gateway")["metadata"]["name"]
    assert {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": gateway} in policy[
        "targetRefs"
    ]
    validation = policy["tls"]["clientValidation"]
    (ca,) = validation["caCertificateRefs"]
    bundle = [r for r in resources() if r["kind"] == ca["kind"]][0]
    assert bundle["metadata"]["name"] == ca["name"] and "ca.crt" in bundle["data"]
    xfcc = policy["headers"]["xForwardedClientCert"]
    # SanitizeSet: a client's own header is dropped, a verified certificate set anew.
    # (AppendForward or ForwardOnly would pass on what the client sent.)
    assert xfcc["mode"] == "SanitizeSet"
    assert "Cert" in xfcc["certDetailsToAdd"]


def test_the_gateway_reads_that_header_and_trusts_only_the_terminators_pool():
    settings = Settings.from_env(configmap())
    assert settings.client_cert_header.lower() == "x-forwarded-client-cert"
    assert settings.trusted_proxies == settings.forwarded_allow_ips
    pool = find("EnvoyProxy")["spec"]["provider"]["kubernetes"]["envoyDeployment"]["pod"]
    assert pool["annotations"], "the terminator's pods get an IP pool of their own"
    for network in settings.trusted_proxies:
        assert network.num_addresses <= 256
        assert not network.overlaps(ipaddress.ip_network("10.0.0.0/16"))


def test_only_the_terminators_pods_may_reach_the_api_pods():
    policies = [
        d
        for d in yaml.safe_load_all((KUBERNETES / "networkpolicy.yaml").read_text())
        if d and d["metadata"]["name"] == "gateway-api-ingress"
    ]
    sources = policies[0]["spec"]["ingress"][0]["from"]
    envoy = [
        s for s in sources
        if s["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
        == "envoy-gateway-system"
    ]
    assert envoy[0]["podSelector"]["matchLabels"] == {
        "gateway.envoyproxy.io/owning-gateway-name": find("Gateway")["metadata"]["name"],
        "gateway.envoyproxy.io/owning-gateway-namespace": NAMESPACE,
    }
