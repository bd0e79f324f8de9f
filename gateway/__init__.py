"""Thuiszitterspact gateway: a secure data-exchange API gateway with a privacy layer.

``create_app`` is imported on first use (PEP 562): ``import gateway.cli`` must not pay for
every view, blueprint and service module, because each CLI command is a process of its own.
"""

from __future__ import annotations

__all__ = ["create_app"]


def __getattr__(name: str):
    if name == "create_app":
        from .app import create_app

        return create_app
    raise AttributeError(f"module 'gateway' has no attribute {name!r}")
