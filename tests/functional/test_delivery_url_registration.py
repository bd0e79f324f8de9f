"""``delivery_url`` at registration (issue 16): in production only https to a public address
on port 443; an IP literal in a private, loopback, link-local or other non-global range, or
another port, is refused with a clear message at every place a delivery_url is set (the
registry service behind ``gateway org add`` and the web admin, and the bootstrap file).
Development keeps plain http to this machine for local recipients."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from gateway.bootstrap import BootstrapError, read_bootstrap
from gateway.cli import main
from gateway.registry.errors import InvalidRegistration
from gateway.registry.service import OrganisationRegistry
from gateway.storage.database import Database

OIN = "00000001005678901000"

REFUSED = [
    ("http://10.0.0.5/", "https"),
    ("https://10.0.0.5/inbox", "public address"),
    ("https://127.0.0.1/", "public address"),
    ("https://[::1]/", "public address"),
    ("https://169.254.169.254/latest/meta-data/", "public address"),
    ("https://[fe80::1]/", "public address"),
    ("https://[::ffff:10.0.0.5]/", "public address"),
    ("https://100.64.0.1/", "public address"),  # carrier-grade NAT: not global
    ("https://0.0.0.0/", "public address"),
    ("https://2130706433/", "public address"),  # 127.0.0.1 as one number
    ("https://0x7f.1/", "public address"),  # 127.0.0.1 in inet_aton's shorthand
    ("https://partner.example:8443/", "443"),
    ("https://partner.example:80/", "443"),
    ("https://partner.example:notaport/", "URL"),
]


@pytest.fixture
def production_registry(sqlite_url):
    return OrganisationRegistry(Database(sqlite_url), production=True)


@pytest.mark.parametrize("url, reason", REFUSED)
def test_production_registry_refuses(production_registry, url, reason):
    with pytest.raises(InvalidRegistration, match="delivery_url") as caught:
        production_registry.add_organisation(OIN, "Leerplicht", "leerplicht", delivery_url=url)
    assert reason in str(caught.value)


@pytest.mark.parametrize(
    "url",
    ["https://partner.example/inbox", "https://partner.example:443/inbox",
     "https://93.184.216.34/inbox", "https://[2a00:1450:4001:82a::200e]/inbox"],
)
def test_production_registry_accepts_public_https_on_443(production_registry, url):
    production_registry.add_organisation(OIN, "Leerplicht", "leerplicht", delivery_url=url)


@pytest.mark.parametrize("url, reason", REFUSED)
def test_production_bootstrap_names_the_field(tmp_path, url, reason):
    path = tmp_path / "orgs.yaml"
    path.write_text(json.dumps({"organisations": [
        {"oin": OIN, "name": "Leerplicht", "type": "leerplicht", "delivery_url": url},
    ]}))
    with pytest.raises(BootstrapError) as caught:
        read_bootstrap(path, production=True)
    assert "delivery_url" in str(caught.value) and reason in str(caught.value)


def test_production_org_add_refuses_with_a_clear_error(sqlite_url, tmp_path, monkeypatch, keys_dir):
    monkeypatch.setenv("GATEWAY_ENV", "production")
    monkeypatch.setenv("GATEWAY_BASE_URL", "https://gateway.example.nl")
    monkeypatch.setenv("GATEWAY_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("GATEWAY_KEYS_DIR", str(keys_dir))
    result = CliRunner().invoke(main, [
        "org", "add", "--oin", OIN, "--name", "Leerplicht", "--type", "leerplicht",
        "--delivery-url", "https://169.254.169.254/",
    ])
    assert result.exit_code != 0
    assert "delivery_url" in result.output and "public address" in result.output


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8081/inbox", "https://127.0.0.1:8443/inbox", "http://[::1]:9/x",
            "https://10.0.0.5/", "https://partner.example:8443/"],
)
def test_development_keeps_local_and_test_recipients(sqlite_url, url):
    registry = OrganisationRegistry(Database(sqlite_url), production=False)
    registry.add_organisation(OIN, "Leerplicht", "leerplicht", delivery_url=url)
