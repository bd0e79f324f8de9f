"""Thuiszitterspact gateway: a secure data-exchange API gateway with a privacy layer."""

from .app import create_app

__all__ = ["create_app"]
