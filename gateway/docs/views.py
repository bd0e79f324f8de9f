"""``/api/v1/openapi.json`` and ``/api/v1/docs``: Swagger UI fed by the document, every asset
served by the gateway itself (no CDN, and the page keeps the strict CSP of gateway.http)."""

from __future__ import annotations

import functools
from importlib import metadata, resources

from flask import Blueprint, abort, jsonify, render_template, send_from_directory

from ..services import services
from .openapi import build_spec

SWAGGER_UI_PACKAGE = "flask-swagger-ui"
"""The PyPI package whose ``dist`` folder is Swagger UI's release build (5.x reads OpenAPI
3.1; swagger-ui-bundle still ships 4.x, which refuses a 3.1 document)."""
SWAGGER_UI_DIR = str(resources.files("flask_swagger_ui") / "dist")
SWAGGER_UI_VERSION = metadata.version(SWAGGER_UI_PACKAGE)
ASSET_MAX_AGE = 7 * 24 * 3600
"""The asset URLs carry the package version, so browsers may keep them for a week."""

bp = Blueprint("docs", __name__, template_folder="../templates")


@bp.get("/api/v1/openapi.json")
def openapi_document():
    """Public, and readable from any origin: documentation tools in a browser (Swagger UI or
    ReDoc elsewhere) must be able to fetch it (ADR ``/core/publish-openapi``; the document
    holds nothing that is not public, so ``*`` is the allowlist ``/core/transport/cors``
    allows for it)."""
    response = jsonify(_document(services().settings.base_url))
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@functools.lru_cache(maxsize=8)
def _document(base_url: str) -> dict:
    """The document of one base URL, built once per process: the paths and schemas are
    fixed when the modules are imported."""
    return build_spec(base_url)


@bp.get("/api/v1/docs")
def openapi_page():
    return render_template("docs.html", swagger_ui_version=SWAGGER_UI_VERSION)


@bp.get("/api/v1/docs/swagger-ui/<version>/<path:filename>")
def swagger_ui_asset(version: str, filename: str):
    """Swagger UI's own files, from the installed package (``send_from_directory`` refuses
    paths outside it); the version in the URL lets a new package replace cached copies."""
    if version != SWAGGER_UI_VERSION:
        abort(404)
    return send_from_directory(SWAGGER_UI_DIR, filename, max_age=ASSET_MAX_AGE)
