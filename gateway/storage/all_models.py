"""Import every model module so that ``Base.metadata`` knows all tables (Alembic, tests)."""

from __future__ import annotations

import importlib

MODEL_MODULES = (
    "gateway.storage.models",
    "gateway.oauth.models",
    "gateway.exchange.models",
    "gateway.audit.models",
    "gateway.reidentification.models",
    "gateway.consents.models",
    "gateway.signals.models",
    "gateway.monitoring.models",
    "gateway.saml.models",
    "gateway.web.models",
)


def load_all_models() -> None:
    for name in MODEL_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
