"""Settings of one gateway process, read only from ``GATEWAY_*`` environment variables.

Configuration lives in the environment (twelve-factor) so that one container image runs on a
laptop and in production; data (organisations, routes) comes from the bootstrap file instead.
``production`` refuses unsafe defaults at start: see :func:`production_problems`.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

ENVIRONMENTS = ("development", "production")
DEFAULT_BASE_URL = "http://127.0.0.1:8000"


class ConfigurationError(Exception):
    """A setting is missing or unsafe; the message names the setting."""

    code = "configuration_error"


def _int(environ: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be an integer") from None
    if value < minimum:
        raise ConfigurationError(f"{name} must be at least {minimum}")
    return value


def _path(environ: Mapping[str, str], name: str) -> Path | None:
    raw = environ.get(name)
    return Path(raw) if raw else None


def _delivery_client_key(environ: Mapping[str, str]) -> Path | None:
    """The mTLS key for push delivery; only meaningful beside a client certificate."""
    key = _path(environ, "GATEWAY_DELIVERY_CLIENT_KEY")
    if key is not None and not environ.get("GATEWAY_DELIVERY_CLIENT_CERT"):
        raise ConfigurationError(
            "GATEWAY_DELIVERY_CLIENT_KEY needs GATEWAY_DELIVERY_CLIENT_CERT as well"
        )
    return key


def _limit(environ: Mapping[str, str], name: str, default: str) -> str:
    """A rate limit string such as ``100/second;3000/minute`` (checked at start)."""
    from limits import parse_many

    raw = environ.get(name) or default
    try:
        parse_many(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must look like '100/second;3000/minute'") from None
    return raw


def _networks(
    raw: str, name: str = "GATEWAY_TRUSTED_PROXIES"
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    networks = []
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        if part == "*":  # gunicorn's "trust everyone"
            networks += [ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0")]
            continue
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise ConfigurationError(f"{name} must be a list of CIDRs") from None
    return tuple(networks)


NARROWEST_WIDE_PREFIX = {4: 24, 6: 64}
"""The widest trusted-proxy range production accepts per IP version: a /24 (256 addresses) or
a /64. Only the TLS terminator may set the client-certificate and forwarding headers, and a
terminator is a few pods: give it an IP pool of its own (or dedicated nodes) and trust that.
Anything wider always spans several nodes' pod ranges or the whole cluster network (the old
``10.0.0.0/8``), where any pod, compromised or not, could claim a partner's identity with
nothing but the partner's public certificate. /24 and /64 are the units clusters allocate
addresses in (a node's pod CIDR, an IPv6 subnet), so a narrower bound would refuse sound set-ups.
"""


def wide_networks(networks) -> list[str]:
    """The ranges in ``networks`` wider than :data:`NARROWEST_WIDE_PREFIX` allows."""
    return [
        str(network)
        for network in networks
        if network.prefixlen < NARROWEST_WIDE_PREFIX[network.version]
    ]


PKCS11_PURPOSES = ("token", "push", "receipt", "audit")


@dataclass(frozen=True)
class Pkcs11Settings:
    """Where the signing keys live when an HSM holds them (``GATEWAY_PKCS11_*``).

    Unset (no ``GATEWAY_PKCS11_MODULE``) means files under ``GATEWAY_KEYS_DIR``, the default.
    The master secret always stays a file: see gateway/keys/hsm.py for why.
    """

    module: Path
    token_label: str
    pin: str = field(repr=False)
    purposes: tuple[str, ...] = PKCS11_PURPOSES
    label_prefix: str = ""
    """Put before every key label, so that several gateways (acceptance, production) can
    share one token or partition without seeing each other's keys."""
    audit_label: str = "audit-ed25519"


def pkcs11_from_env(environ: Mapping[str, str]) -> Pkcs11Settings | None:
    module = environ.get("GATEWAY_PKCS11_MODULE")
    if not module:
        return None
    token = environ.get("GATEWAY_PKCS11_TOKEN")
    if not token:
        raise ConfigurationError("GATEWAY_PKCS11_MODULE needs GATEWAY_PKCS11_TOKEN (its label)")
    pin, pin_file = environ.get("GATEWAY_PKCS11_PIN"), environ.get("GATEWAY_PKCS11_PIN_FILE")
    if bool(pin) == bool(pin_file):
        raise ConfigurationError(
            "GATEWAY_PKCS11_MODULE needs exactly one of GATEWAY_PKCS11_PIN or "
            "GATEWAY_PKCS11_PIN_FILE"
        )
    if pin_file:
        try:
            pin = Path(pin_file).read_text().strip()
        except OSError:
            raise ConfigurationError("GATEWAY_PKCS11_PIN_FILE cannot be read") from None
    raw = environ.get("GATEWAY_PKCS11_KEYS") or ",".join(PKCS11_PURPOSES)
    purposes = tuple(part.strip() for part in raw.split(",") if part.strip())
    if not purposes or any(purpose not in PKCS11_PURPOSES for purpose in purposes):
        raise ConfigurationError(
            "GATEWAY_PKCS11_KEYS must list some of " + ", ".join(PKCS11_PURPOSES)
        )
    return Pkcs11Settings(
        module=Path(module),
        token_label=token,
        pin=pin,
        purposes=purposes,
        label_prefix=environ.get("GATEWAY_PKCS11_LABEL_PREFIX", ""),
        audit_label=environ.get("GATEWAY_PKCS11_AUDIT_LABEL") or "audit-ed25519",
    )


@dataclass(frozen=True)
class Settings:
    """Every setting the gateway reads; tests derive variants with :func:`dataclasses.replace`."""

    env: str = "development"
    database_url: str = ""
    base_url: str = DEFAULT_BASE_URL
    keys_dir: Path = Path("instance/keys")
    saml_idp_metadata: str | None = None
    metrics_token: str | None = None
    client_cert_header: str = "X-Client-Cert"
    trusted_proxies: tuple = field(default_factory=tuple)
    forwarded_allow_ips: tuple = field(default_factory=tuple)
    """``GATEWAY_FORWARDED_ALLOW_IPS`` (gunicorn reads it itself, gateway/gunicorn_conf.py):
    parsed here only so that production can refuse a wide range."""
    log_level: str = "INFO"
    timezone: str = "Europe/Amsterdam"
    delivery_max_attempts: int = 10
    delivery_backoff_seconds: int = 5
    delivery_timeout_seconds: int = 10
    delivery_client_cert: Path | None = None
    """PEM certificate (optionally with its key) the worker presents to recipients (mTLS)."""
    delivery_client_key: Path | None = None
    """PEM private key of ``delivery_client_cert`` when the certificate file holds none."""
    instance_dir: Path = Path("instance")
    audit_witness: Path | None = None
    """``GATEWAY_AUDIT_WITNESS``: the file that witnesses the newest published audit checkpoint
    (gateway/audit/witness.py). It must survive a database restore and be writable by every
    process of every replica; default ``<keys_dir>/audit-witness.json``, which a deployment
    that mounts its keys read-only must move to a small shared writable volume."""
    rate_limit_storage: str = "memory://"
    rate_limit_client: str = "100/second;3000/minute"
    rate_limit_organisation: str = "200/second;6000/minute"
    rate_limit_signals: str = "30/hour;200/day"
    rate_limit_address: str = "20/second;600/minute"
    """Signal writes (open and close) per organisation: a bulk probe of who is involved with
    which child is slow (API.md section 13 rule 5)."""
    pkcs11: Pkcs11Settings | None = None
    """The signing keys on a PKCS#11 token (an HSM) instead of in files; None: files."""
    logboek_otlp_endpoint: str | None = None
    """``GATEWAY_LOGBOEK_OTLP_ENDPOINT``: the Logboek Dataverwerkingen's OTLP/HTTP traces URL
    (``https://logboek.example/v1/traces``); None (the default): records wait in the outbox
    and are not sent."""
    logboek_batch: int = 100
    logboek_backoff_seconds: int = 5
    """First wait after the Logboek did not confirm; doubles per failure (at most 300 s)."""
    logboek_timeout_seconds: int = 10
    otel_exporter_endpoint: str | None = None
    """``GATEWAY_OTEL_EXPORTER_OTLP_ENDPOINT``: the operators' tracing backend (OTLP/HTTP
    traces URL); None (the default): no operator tracing."""
    otel_service_name: str = "thuiszitterspact-gateway"
    test_faults: bool = False
    """``GATEWAY_TEST_FAULTS=1`` (development and tests only): a request's
    ``Gateway-Test-Fault`` header makes the gateway fail there with a server error."""

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def issuer(self) -> str:
        return self.base_url

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read the ``GATEWAY_*`` variables; unknown values are refused, naming the variable."""
        environ = os.environ if environ is None else environ
        env = environ.get("GATEWAY_ENV", "development") or "development"
        if env not in ENVIRONMENTS:
            raise ConfigurationError("GATEWAY_ENV must be 'development' or 'production'")
        instance_dir = Path(environ.get("GATEWAY_INSTANCE_DIR", "instance"))
        database_url = environ.get("GATEWAY_DATABASE_URL") or (
            f"sqlite:///{(instance_dir / 'gateway.db').resolve()}"
        )
        base_url = (environ.get("GATEWAY_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        level = (environ.get("GATEWAY_LOG_LEVEL") or "INFO").upper()
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ConfigurationError("GATEWAY_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR")
        return cls(
            env=env,
            database_url=normalise_database_url(database_url),
            base_url=base_url,
            keys_dir=Path(environ.get("GATEWAY_KEYS_DIR") or instance_dir / "keys"),
            saml_idp_metadata=environ.get("GATEWAY_SAML_IDP_METADATA") or None,
            metrics_token=environ.get("GATEWAY_METRICS_TOKEN") or None,
            client_cert_header=environ.get("GATEWAY_CLIENT_CERT_HEADER") or "X-Client-Cert",
            trusted_proxies=_networks(environ.get("GATEWAY_TRUSTED_PROXIES", "")),
            forwarded_allow_ips=_networks(
                environ.get("GATEWAY_FORWARDED_ALLOW_IPS", ""), "GATEWAY_FORWARDED_ALLOW_IPS"
            ),
            log_level=level,
            timezone=environ.get("GATEWAY_TIMEZONE") or "Europe/Amsterdam",
            delivery_max_attempts=_int(environ, "GATEWAY_DELIVERY_MAX_ATTEMPTS", 10, 1),
            delivery_backoff_seconds=_int(environ, "GATEWAY_DELIVERY_BACKOFF_SECONDS", 5, 0),
            delivery_timeout_seconds=_int(environ, "GATEWAY_DELIVERY_TIMEOUT_SECONDS", 10, 1),
            delivery_client_cert=_path(environ, "GATEWAY_DELIVERY_CLIENT_CERT"),
            delivery_client_key=_delivery_client_key(environ),
            instance_dir=instance_dir,
            audit_witness=_path(environ, "GATEWAY_AUDIT_WITNESS"),
            rate_limit_storage=environ.get("GATEWAY_RATE_LIMIT_STORAGE") or "memory://",
            rate_limit_client=_limit(
                environ, "GATEWAY_RATE_LIMIT_CLIENT", "100/second;3000/minute"
            ),
            rate_limit_organisation=_limit(
                environ, "GATEWAY_RATE_LIMIT_ORGANISATION", "200/second;6000/minute"
            ),
            rate_limit_signals=_limit(environ, "GATEWAY_RATE_LIMIT_SIGNALS", "30/hour;200/day"),
            rate_limit_address=_limit(
                environ, "GATEWAY_RATE_LIMIT_ADDRESS", "20/second;600/minute"
            ),
            pkcs11=pkcs11_from_env(environ),
            logboek_otlp_endpoint=_url(environ, "GATEWAY_LOGBOEK_OTLP_ENDPOINT"),
            logboek_batch=_int(environ, "GATEWAY_LOGBOEK_BATCH", 100, 1),
            logboek_backoff_seconds=_int(environ, "GATEWAY_LOGBOEK_BACKOFF_SECONDS", 5, 0),
            logboek_timeout_seconds=_int(environ, "GATEWAY_LOGBOEK_TIMEOUT_SECONDS", 10, 1),
            otel_exporter_endpoint=_url(environ, "GATEWAY_OTEL_EXPORTER_OTLP_ENDPOINT"),
            otel_service_name=environ.get("GATEWAY_OTEL_SERVICE_NAME")
            or "thuiszitterspact-gateway",
            test_faults=environ.get("GATEWAY_TEST_FAULTS", "") in ("1", "true"),
        )


def _url(environ: Mapping[str, str], name: str) -> str | None:
    """An http(s) URL setting (an OTLP endpoint), or None when unset."""
    raw = (environ.get(name) or "").strip()
    if not raw:
        return None
    if not raw.startswith(("http://", "https://")):
        raise ConfigurationError(f"{name} must be an http:// or https:// URL")
    return raw


def normalise_database_url(url: str) -> str:
    """``postgresql://`` means psycopg 3 (SQLAlchemy would otherwise pick psycopg2)."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://") :]
    if url.startswith("postgres://"):
        return "postgresql+psycopg://" + url[len("postgres://") :]
    return url


def production_problems(settings: Settings) -> list[str]:
    """The static reasons this configuration may not run in production (empty when safe).

    Checks that need the database or the key store (client secrets, schema version, keys that
    would be generated) are made where those are opened; see ``gateway.startup``.
    """
    problems = []
    if not settings.base_url.startswith("https://"):
        problems.append("GATEWAY_BASE_URL must be an https URL in production")
    if not settings.metrics_token:
        problems.append("GATEWAY_METRICS_TOKEN must be set in production")
    if settings.rate_limit_storage.startswith("memory"):
        problems.append(
            "GATEWAY_RATE_LIMIT_STORAGE must name a shared store (redis://...) in production, "
            "so that every replica counts the same requests"
        )
    if settings.test_faults:
        problems.append("GATEWAY_TEST_FAULTS is for development and tests only")
    if settings.logboek_otlp_endpoint and not settings.logboek_otlp_endpoint.startswith("https://"):
        # the Logboek Dataverwerkingen standard: "Het Logboek MOET TLS afdwingen"
        problems.append("GATEWAY_LOGBOEK_OTLP_ENDPOINT must be an https URL in production")
    for name, networks in (
        ("GATEWAY_TRUSTED_PROXIES", settings.trusted_proxies),
        ("GATEWAY_FORWARDED_ALLOW_IPS", settings.forwarded_allow_ips),
    ):
        wide = wide_networks(networks)
        if wide:
            problems.append(
                f"{name} trusts {', '.join(wide)}: in production trust only the TLS "
                "terminator's own addresses, no range wider than /24 (IPv4) or /64 (IPv6)"
            )
    return problems
