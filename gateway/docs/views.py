"""``/api/v1/openapi.json`` and ``/api/v1/docs`` (every asset served locally, no CDN)."""

from __future__ import annotations

import functools

from flask import Blueprint, jsonify, render_template

from ..services import services
from .openapi import build_spec

bp = Blueprint("docs", __name__, template_folder="../templates")


@bp.get("/api/v1/openapi.json")
def openapi_document():
    return jsonify(_document(services().settings.base_url))


@functools.lru_cache(maxsize=8)
def _document(base_url: str) -> dict:
    """The document of one base URL, built once per process: the paths and schemas are
    fixed when the modules are imported."""
    return build_spec(base_url)


@bp.get("/api/v1/docs")
def openapi_page():
    return render_template("docs.html")
