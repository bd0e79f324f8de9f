"""Production mode refuses each unsafe default at start and names the setting."""

import subprocess
import sys
from dataclasses import replace

import pytest

from gateway import create_app
from gateway.config import ConfigurationError, Settings
from gateway.registry.service import ClientCredentials, OrganisationRegistry
from gateway.storage import migrate
from gateway.storage.database import Database


@pytest.fixture
def safe(settings) -> Settings:
    return replace(
        settings,
        env="production",
        base_url="https://gateway.example.nl",
        metrics_token="a-metrics-token",
        rate_limit_storage="redis://127.0.0.1:6379/0",
    )


def test_safe_production_settings_start(safe):
    app = create_app(safe)
    assert app.test_client().get("/readyz").status_code == 200
    assert app.config["SESSION_COOKIE_SECURE"] is True


def refused(settings) -> str:
    with pytest.raises(ConfigurationError) as caught:
        create_app(settings)
    return str(caught.value)


def test_http_base_url_refused(safe):
    assert "GATEWAY_BASE_URL" in refused(replace(safe, base_url="http://gateway.example.nl"))


def test_missing_metrics_token_refused(safe):
    assert "GATEWAY_METRICS_TOKEN" in refused(replace(safe, metrics_token=None))


def test_in_memory_rate_limits_refused(safe):
    assert "GATEWAY_RATE_LIMIT_STORAGE" in refused(replace(safe, rate_limit_storage="memory://"))


def test_keys_that_would_be_generated_refused(safe, tmp_path):
    message = refused(replace(safe, keys_dir=tmp_path / "no-keys"))
    assert "GATEWAY_KEYS_DIR" in message and "generate" in message
    assert not (tmp_path / "no-keys" / "master").exists()


def test_registered_client_secret_refused(safe, sqlite_url):
    registry = OrganisationRegistry(Database(sqlite_url), production=False)
    registry.add_organisation("00000001001234567000", "School", "school")
    registry.add_client(
        "00000001001234567000",
        "sis",
        ClientCredentials("client_secret_basic", client_secret="development-secret-1"),
        ["exchange:send"],
    )
    assert "client_secret_basic" in refused(safe)


def test_outdated_schema_refused(safe, tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    migrate.upgrade(Database(url).engine, "0001_registry")
    migrate.downgrade(Database(url).engine, "base")
    assert "gateway db upgrade" in refused(replace(safe, database_url=url))


def test_registry_refuses_new_client_secret_in_production(sqlite_url):
    from gateway.registry.errors import InvalidRegistration

    registry = OrganisationRegistry(Database(sqlite_url), production=True)
    registry.add_organisation("00000001001234567000", "School", "school")
    with pytest.raises(InvalidRegistration, match="production"):
        registry.add_client(
            "00000001001234567000",
            "sis",
            ClientCredentials("client_secret_basic", client_secret="development-secret-1"),
            ["exchange:send"],
        )


def test_gateway_run_exits_non_zero_naming_the_setting(tmp_path, keys_dir, sqlite_url):
    env = {
        "PATH": "/usr/bin:/bin",
        "GATEWAY_ENV": "production",
        "GATEWAY_BASE_URL": "http://insecure.example.nl",
        "GATEWAY_METRICS_TOKEN": "x",
        "GATEWAY_DATABASE_URL": sqlite_url,
        "GATEWAY_KEYS_DIR": str(keys_dir),
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
    assert "GATEWAY_BASE_URL" in result.stderr
    assert "Traceback" not in result.stderr
