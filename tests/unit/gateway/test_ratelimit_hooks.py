"""Flask-Limiter's global ``before_request`` check is gone (issue 23): the gateway configures
no default or application-wide limit, so it only cost time on every request. Every limit is a
decorator that checks itself inside the view; the rate-limit tests
(tests/e2e/test_rate_limits.py) prove those still refuse."""

from __future__ import annotations

from gateway.ratelimit import limiter


def test_the_app_has_no_global_limit_check(app):
    hooks = app.before_request_funcs.get(None, [])
    assert limiter._check_request_limit not in hooks
    # the limiter is still initialised: its header and context hooks remain
    assert limiter in app.extensions["limiter"]
    assert any("inject_headers" in repr(hook) for hook in app.after_request_funcs.get(None, []))


def test_a_default_limit_would_keep_the_check(app, monkeypatch):
    """Should someone configure a default limit, dropping the hook would silently disable it;
    then the hook stays."""
    from flask import Flask

    from gateway import ratelimit

    other = Flask("other")
    other.before_request(limiter._check_request_limit)
    monkeypatch.setattr(limiter.limit_manager, "_default_limits", ["stand-in"])
    ratelimit._without_the_global_check(other)
    assert limiter._check_request_limit in other.before_request_funcs[None]
    monkeypatch.setattr(limiter.limit_manager, "_default_limits", [])
    ratelimit._without_the_global_check(other)
    assert limiter._check_request_limit not in other.before_request_funcs[None]
