"""``/api/v1/openapi.json`` and ``/api/v1/docs`` (every asset served locally, no CDN)."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template

from ..services import services
from .openapi import build_spec

bp = Blueprint("docs", __name__, template_folder="../templates")


@bp.get("/api/v1/openapi.json")
def openapi_document():
    cache = current_app.extensions.setdefault("gateway_openapi", {})
    base_url = services().settings.base_url
    if base_url not in cache:
        cache[base_url] = build_spec(base_url)
    return jsonify(cache[base_url])


@bp.get("/api/v1/docs")
def openapi_page():
    return render_template("docs.html")
