"""Wiring of polymorphic pseudonymisation: one transcryptor per process, and its endpoints."""

from __future__ import annotations

from flask import Flask

from . import openapi  # noqa: F401 - registers the paths in the OpenAPI document
from .sealing import LinkSealer
from .subjects import PolymorphicSubjects
from .transcryptor import Transcryptor
from .views import bp


def init_app(app: Flask) -> None:
    core = app.extensions["gateway"]
    app.extensions["polymorphic"] = PolymorphicSubjects(
        Transcryptor(core.settings.keys_dir), LinkSealer(core.keys.keyring)
    )
    app.register_blueprint(bp)
