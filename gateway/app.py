"""The application factory: the composition root's services, the HTTP plumbing, the areas'
blueprints. Nothing else builds a service (docs/architecture.md)."""

from __future__ import annotations

from flask import Flask

from . import errors, http, logs, metrics, ratelimit
from .audit import openapi as audit_openapi
from .audit.views import bp as audit_bp
from .composition import Services
from .config import Settings
from .consents import openapi as consent_openapi
from .consents.views import bp as consents_bp
from .docs.views import bp as docs_bp
from .exchange import openapi as exchange_openapi
from .exchange.views import bp as exchanges_bp
from .monitoring import openapi as monitoring_openapi
from .monitoring.views import bp as monitoring_bp
from .oauth import openapi as oauth_openapi
from .oauth.server import GatewayAuthorizationServer
from .oauth.views import bp as oauth_bp
from .ops.views import bp as ops_bp
from .pact import openapi as pact_openapi
from .pact.views import bp as cases_bp
from .pep import openapi as polymorphic_openapi
from .pep.views import bp as polymorphic_bp
from .processing import openapi as processing_openapi
from .processing.views import bp as processing_bp
from .reidentification import openapi as reidentification_openapi
from .reidentification.views import bp as reidentifications_bp
from .saml.views import bp as saml_bp
from .services import AUTHORIZATION_SERVER, SERVICES
from .signals import openapi as signal_openapi
from .signals.views import bp as signals_bp
from .startup import check_production
from .version import API_VERSION, package_version
from .web.views import bp as web_bp

MAX_BODY_BYTES = 256 * 1024

OPENAPI_SOURCES = (
    oauth_openapi,
    polymorphic_openapi,
    consent_openapi,
    exchange_openapi,
    pact_openapi,
    signal_openapi,
    monitoring_openapi,
    audit_openapi,
    reidentification_openapi,
    processing_openapi,
)
"""Each area's OpenAPI paths, registered on import, in the order the document lists them."""

BLUEPRINTS = (
    ops_bp,
    docs_bp,
    oauth_bp,
    polymorphic_bp,
    consents_bp,
    exchanges_bp,
    cases_bp,
    signals_bp,
    monitoring_bp,
    audit_bp,
    reidentifications_bp,
    processing_bp,
    saml_bp,
    web_bp,
)


def create_app(settings: Settings | None = None) -> Flask:
    """Build a gateway application; ``settings`` default to the ``GATEWAY_*`` environment.

    Production refuses to start with keys that would be generated, an http base URL, client
    secrets, a missing metrics token or an outdated schema (:mod:`gateway.startup`).
    """
    settings = settings or Settings.from_env()
    logs.configure(settings.log_level)
    app = Flask(__name__, static_folder="static", template_folder="templates")
    app.config.update(
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        MAX_FORM_MEMORY_SIZE=MAX_BODY_BYTES,
        JSON_SORT_KEYS=False,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.is_production,
        PREFERRED_URL_SCHEME="https" if settings.base_url.startswith("https") else "http",
    )
    app.json.sort_keys = False
    app.json.ensure_ascii = False

    services = Services(settings)
    services.keys  # noqa: B018 - production refuses missing keys first, naming the files
    check_production(settings, services.db, services.registry)
    services.build_all()
    app.extensions[SERVICES] = services
    app.extensions[AUTHORIZATION_SERVER] = GatewayAuthorizationServer(
        app, settings, services.oauth_store, services.tokens, services.assertions,
        services.audit_log,
    )

    errors.register(app)
    http.register(app)
    ratelimit.init_app(app, settings)
    _start_series(services)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    if services.saml.development_idp is not None:
        from .saml.devidp.views import bp as devidp_bp

        app.register_blueprint(devidp_bp)
    return app


def _start_series(services: Services) -> None:
    """The series API.md section 11 names exist from the start at 0 (before the first push,
    with no worker running, before the first probe), so dashboards and alerts see their first
    increase."""
    metrics.BUILD_INFO.labels(package_version(), API_VERSION).set(1)
    for result in metrics.DELIVERY_RESULTS:
        metrics.DELIVERIES.labels(result)
    for org_type in services.signals.policy.organisation_types:
        metrics.SIGNAL_PROBES.labels(org_type=org_type)
