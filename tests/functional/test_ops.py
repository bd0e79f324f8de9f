"""Health, readiness (including the database going away) and the metrics endpoint."""

import os
import shutil
from dataclasses import replace

import pytest

from gateway import create_app
from gateway.storage import migrate
from gateway.storage.database import Database
from tests.conftest import POSTGRES_URL, create_postgres_database, drop_postgres_database


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_readyz_ready(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["status"] == "ready"


def test_readyz_503_when_the_sqlite_database_is_gone(tmp_path, settings):
    folder = tmp_path / "data"
    folder.mkdir()
    url = f"sqlite:///{folder / 'gateway.db'}"
    migrate.upgrade(Database(url).engine)
    app = create_app(replace(settings, database_url=url))
    client = app.test_client()
    assert client.get("/readyz").status_code == 200
    app.extensions["gateway"].db.dispose()
    shutil.rmtree(folder)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == "not_ready"
    assert "unreachable" in response.get_json()["detail"]


def test_readyz_503_when_schema_is_not_current(tmp_path, settings):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    client = create_app(replace(settings, database_url=url)).test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert "gateway db upgrade" in response.get_json()["detail"]


@pytest.mark.skipif(not POSTGRES_URL, reason="needs GATEWAY_TEST_POSTGRES_URL (set by .ci/run)")
def test_readyz_503_when_postgres_goes_away_and_recovers_without_restart(settings):
    url = create_postgres_database("gwready")
    try:
        migrate.upgrade(Database(url).engine)
        app = create_app(replace(settings, database_url=url))
        client = app.test_client()
        assert client.get("/readyz").status_code == 200
        drop_postgres_database(url)
        assert client.get("/readyz").status_code == 503
        # the database comes back (restored): the same process becomes ready again
        name = url.rsplit("/", 1)[1]
        from sqlalchemy import create_engine, text

        admin = create_engine(url.rsplit("/", 1)[0] + "/test", isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        migrate.upgrade(Database(url).engine)
        assert client.get("/readyz").status_code == 200
    finally:
        drop_postgres_database(url)


def test_metrics_open_without_token(client):
    client.get("/healthz")
    response = client.get("/metrics")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "gateway_request_duration_seconds_bucket" in text
    assert 'endpoint="/healthz"' in text


def test_metrics_need_the_token_when_set(app, settings):
    app.extensions["gateway"].settings = replace(settings, metrics_token="t0k3n-for-tests")
    client = app.test_client()
    assert client.get("/metrics").status_code == 401
    bad = client.get("/metrics", headers={"Authorization": "Bearer wrong"})
    assert bad.status_code == 401 and bad.get_json()["code"] == "invalid_token"
    good = client.get("/metrics", headers={"Authorization": "Bearer t0k3n-for-tests"})
    assert good.status_code == 200


def test_create_app_without_arguments_uses_the_environment(tmp_path, monkeypatch, keys_dir):
    url = f"sqlite:///{tmp_path / 'env.db'}"
    migrate.upgrade(Database(url).engine)
    monkeypatch.setenv("GATEWAY_DATABASE_URL", url)
    monkeypatch.setenv("GATEWAY_KEYS_DIR", str(keys_dir))
    monkeypatch.delenv("GATEWAY_ENV", raising=False)
    app = create_app()
    assert app.test_client().get("/readyz").status_code == 200
    assert os.fspath(app.extensions["gateway"].settings.keys_dir) == str(keys_dir)
