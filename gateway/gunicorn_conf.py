"""Gunicorn settings used by ``gateway run`` and the container image.

Workers are stateless; per-process Prometheus files are cleaned when a worker exits.
"""

import os

bind = os.environ.get("GATEWAY_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GATEWAY_WORKERS", "2"))
threads = int(os.environ.get("GATEWAY_THREADS", "4"))
# gthread, except that an expiring idle connection with a request already on it is served
# (gateway/gunicorn_worker.py says why)
worker_class = "gateway.gunicorn_worker.GatewayThreadWorker"
timeout = 30
graceful_timeout = 20
# Seconds an idle kept-alive connection stays open. A proxy in front must close its idle upstream
# connections *before* this (its idle timeout shorter), or it may send a request on a connection
# gunicorn is closing at that moment. tests/e2e/test_wire_contract.py pauses around this value.
keepalive = int(os.environ.get("GATEWAY_KEEPALIVE", "5"))
accesslog = None
errorlog = "-"
limit_request_line = 8190
forwarded_allow_ips = os.environ.get("GATEWAY_FORWARDED_ALLOW_IPS", "127.0.0.1")


def child_exit(server, worker):
    from gateway.metrics import mark_process_dead

    mark_process_dead(worker.pid)
