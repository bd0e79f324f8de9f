"""``GATEWAY_LOGBOEK_*``, ``GATEWAY_OTEL_*`` and ``GATEWAY_TEST_FAULTS``: off by default, URLs
checked, production refuses a plain-http Logboek and the test faults."""

from __future__ import annotations

import pytest

from gateway.config import ConfigurationError, Settings, production_problems


def test_everything_is_off_by_default():
    settings = Settings.from_env({})
    assert settings.logboek_otlp_endpoint is None
    assert settings.otel_exporter_endpoint is None
    assert settings.test_faults is False
    assert (settings.logboek_batch, settings.logboek_backoff_seconds) == (100, 5)


def test_the_endpoints_must_be_http_urls():
    with pytest.raises(ConfigurationError, match="GATEWAY_LOGBOEK_OTLP_ENDPOINT"):
        Settings.from_env({"GATEWAY_LOGBOEK_OTLP_ENDPOINT": "logboek:4318"})
    with pytest.raises(ConfigurationError, match="GATEWAY_OTEL_EXPORTER_OTLP_ENDPOINT"):
        Settings.from_env({"GATEWAY_OTEL_EXPORTER_OTLP_ENDPOINT": "file:///tmp/x"})


def test_production_wants_tls_to_the_logboek_and_no_test_faults():
    unsafe = Settings.from_env(
        {
            "GATEWAY_ENV": "production",
            "GATEWAY_LOGBOEK_OTLP_ENDPOINT": "http://logboek:4318/v1/traces",
            "GATEWAY_TEST_FAULTS": "1",
        }
    )
    problems = production_problems(unsafe)
    assert "GATEWAY_LOGBOEK_OTLP_ENDPOINT must be an https URL in production" in problems
    assert "GATEWAY_TEST_FAULTS is for development and tests only" in problems
    safe = Settings.from_env(
        {"GATEWAY_ENV": "production", "GATEWAY_LOGBOEK_OTLP_ENDPOINT": "https://lb/v1/traces"}
    )
    assert not any("LOGBOEK" in p or "TEST_FAULTS" in p for p in production_problems(safe))
