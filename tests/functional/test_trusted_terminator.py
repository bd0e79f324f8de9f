"""Only the TLS terminator may speak for a partner through the client-certificate header.

The header needs nothing but the partner's *public* certificate, so whoever the gateway
believes it from can log in as any ``tls_client_auth`` partner. The shipped Kubernetes config
used to trust ``10.0.0.0/8``: every pod of the cluster. Now the shipped ConfigMap trusts only
the terminator's own narrow range, the header is Envoy Gateway's XFCC, and production refuses
to start with a range wider than a /24 (IPv4) or /64 (IPv6), naming the setting.
"""

from __future__ import annotations

import ipaddress
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml
from cryptography.hazmat.primitives import serialization

from gateway import create_app
from gateway.config import ConfigurationError, Settings, production_problems
from tests.oauth_helpers import World

CONFIGMAP = Path(__file__).resolve().parents[2] / "deploy" / "kubernetes" / "configmap.yaml"
ANOTHER_POD = "10.1.2.3"  # some pod of the cluster network, not the terminator


def shipped() -> dict[str, str]:
    return yaml.safe_load(CONFIGMAP.read_text())["data"]


def shipped_settings() -> Settings:
    return Settings.from_env(shipped())


@pytest.fixture
def world(database_url, keys_dir):
    config = shipped_settings()
    world = World(
        database_url,
        keys_dir,
        trusted_proxies=config.trusted_proxies,
        client_cert_header=config.client_cert_header,
    )
    yield world
    world.close()


def terminator_header(world) -> dict[str, str]:
    """The header as the shipped terminator sets it for partner A's connection."""
    pem = quote(world.a_cert.public_bytes(serialization.Encoding.PEM).decode(), safe="")
    name = world.settings.client_cert_header
    if name.lower() == "x-forwarded-client-cert":
        return {name: f'Hash=00ff;Cert="{pem}"'}
    return {name: pem}


def a_terminator_address() -> str:
    network = shipped_settings().trusted_proxies[0]
    return str(next(network.hosts()))


def test_the_header_from_another_pod_of_the_cluster_is_refused(world):
    form = {"grant_type": "client_credentials", "client_id": "a-mtls"}
    response = world.post_token(
        form, headers=terminator_header(world), environ_base={"REMOTE_ADDR": ANOTHER_POD}
    )
    assert response.status_code == 401, response.json
    assert response.json["error"] == "invalid_client"


def test_the_header_from_the_terminator_authenticates_the_partner(world):
    form = {"grant_type": "client_credentials", "client_id": "a-mtls"}
    response = world.post_token(
        form,
        headers=terminator_header(world),
        environ_base={"REMOTE_ADDR": a_terminator_address()},
    )
    assert response.status_code == 200, response.json


def test_the_shipped_configuration_trusts_only_a_narrow_range():
    config = shipped_settings()
    assert config.trusted_proxies and config.forwarded_allow_ips
    for network in (*config.trusted_proxies, *config.forwarded_allow_ips):
        assert network.num_addresses <= 256, network
        assert ipaddress.ip_address(ANOTHER_POD) not in network
    assert not [p for p in production_problems(config) if "TRUSTED" in p or "ALLOW_IPS" in p]


@pytest.fixture
def safe(settings) -> Settings:
    return replace(
        settings,
        env="production",
        base_url="https://gateway.example.nl",
        metrics_token="a-metrics-token",
        rate_limit_storage="redis://127.0.0.1:6379/0",
    )


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("GATEWAY_TRUSTED_PROXIES", "10.0.0.0/8"),
        ("GATEWAY_TRUSTED_PROXIES", "10.244.250.0/26,10.1.0.0/23"),
        ("GATEWAY_TRUSTED_PROXIES", "0.0.0.0/0"),
        ("GATEWAY_TRUSTED_PROXIES", "fd00::/48"),
        ("GATEWAY_FORWARDED_ALLOW_IPS", "10.0.0.0/8"),
        ("GATEWAY_FORWARDED_ALLOW_IPS", "*"),
    ],
)
def test_production_refuses_a_wide_trusted_range(safe, setting, value):
    environ = {setting: value}
    parsed = Settings.from_env(environ)
    changed = replace(
        safe,
        trusted_proxies=parsed.trusted_proxies,
        forwarded_allow_ips=parsed.forwarded_allow_ips,
    )
    with pytest.raises(ConfigurationError) as caught:
        create_app(changed)
    assert setting in str(caught.value)


@pytest.mark.parametrize(
    "value", ["10.244.250.0/26", "10.244.250.0/24", "192.0.2.7", "fd00:1:2:3::/64", ""]
)
def test_production_accepts_a_narrow_range(safe, value):
    parsed = Settings.from_env(
        {"GATEWAY_TRUSTED_PROXIES": value, "GATEWAY_FORWARDED_ALLOW_IPS": value}
    )
    assert production_problems(
        replace(
            safe,
            trusted_proxies=parsed.trusted_proxies,
            forwarded_allow_ips=parsed.forwarded_allow_ips,
        )
    ) == []


def test_development_may_trust_what_it_likes(settings):
    parsed = Settings.from_env({"GATEWAY_TRUSTED_PROXIES": "10.0.0.0/8"})
    create_app(replace(settings, trusted_proxies=parsed.trusted_proxies))


def test_gateway_run_exits_non_zero_naming_the_trusted_proxies(tmp_path, keys_dir, sqlite_url):
    env = {
        "PATH": "/usr/bin:/bin",
        "GATEWAY_ENV": "production",
        "GATEWAY_BASE_URL": "https://gateway.example.nl",
        "GATEWAY_METRICS_TOKEN": "x",
        "GATEWAY_RATE_LIMIT_STORAGE": "redis://127.0.0.1:6379/0",
        "GATEWAY_DATABASE_URL": sqlite_url,
        "GATEWAY_KEYS_DIR": str(keys_dir),
        "GATEWAY_TRUSTED_PROXIES": "10.0.0.0/8",
    }
    result = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "run", "--port", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode != 0
    assert "GATEWAY_TRUSTED_PROXIES" in result.stderr
    assert "10.0.0.0/8" in result.stderr
    assert "Traceback" not in result.stderr
