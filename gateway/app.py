"""The application factory."""

from __future__ import annotations

from flask import Flask

from . import errors, http, logs, metrics, ratelimit
from .config import Settings
from .docs import bp as docs_bp
from .keys import KeyStore
from .ops import bp as ops_bp
from .registry.service import OrganisationRegistry
from .services import Services
from .startup import check_production
from .storage.database import Database
from .version import API_VERSION, package_version

MAX_BODY_BYTES = 256 * 1024


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

    keys = KeyStore(settings.keys_dir, allow_generate=not settings.is_production)
    db = Database(settings.database_url)
    registry = OrganisationRegistry(db, production=settings.is_production)
    check_production(settings, db, registry)
    app.extensions["gateway"] = Services(settings=settings, db=db, keys=keys, registry=registry)

    errors.register(app)
    http.register(app)
    ratelimit.init_app(app)
    metrics.BUILD_INFO.labels(package_version(), API_VERSION).set(1)
    app.register_blueprint(ops_bp)
    app.register_blueprint(docs_bp)
    for init_area in _areas():
        init_area(app)
    return app


def _areas():
    """Each API area's ``init_app(app)``: builds its services and registers its blueprint.

    Imported here, not at module level, so that an area's import cost and its own
    configuration checks stay inside ``create_app``.
    """
    from . import oauth
    from .audit import area as audit
    from .consents import area as consents
    from .exchange import area as exchanges
    from .monitoring import area as monitoring
    from .pep import area as polymorphic
    from .reidentification import area as reidentifications
    from .saml import area as saml
    from .signals import area as signals
    from .web import area as web

    # consents before exchanges: the exchange pipeline picks up the consent checker;
    # polymorphic first of those: consents, exchanges and signals read polymorphic subjects
    return (
        oauth.init_app,
        polymorphic.init_app,
        consents.init_app,
        exchanges.init_app,
        signals.init_app,
        monitoring.init_app,
        audit.init_app,
        reidentifications.init_app,
        # the web pages last: they call the services the areas above built
        saml.init_app,
        web.init_app,
    )
