"""Gunicorn settings used by ``gateway run`` and the container image.

Workers are stateless; per-process Prometheus files are cleaned when a worker exits.
"""

import os
import threading
import time

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


def post_worker_init(worker):
    """In each worker, after the fork: start the audit's background checkpoint signer
    (gateway/audit/checkpoints.py), so checkpoints are signed off the requests' critical
    section; then move everything loaded so far out of the garbage collector's way
    (``gc.freeze``: the application's own objects live as long as the process, and scanning
    them on every collection cost milliseconds of a request's p99, docs/performance.md)."""
    import gc

    from gateway.services import gateway_services_of

    services = gateway_services_of(getattr(worker, "wsgi", None))
    if services is not None:
        services.checkpointer.start_background(services.db)
    gc.freeze()


def child_exit(server, worker):
    from gateway.metrics import mark_process_dead

    mark_process_dead(worker.pid)


def worker_exit(server, worker):
    """Write out the worker's queued log lines (gateway/logs.py) and, when profiling, its
    profile, before the process ends."""
    if _PROFILE_DIR:
        _write_profile(worker.pid)
    from gateway import logs

    logs.shutdown()


# GATEWAY_PROFILE_DIR (benchmarks only, bench/bench_wrk.py --profile-dir): every request is run
# under cProfile in the thread that serves it, and each worker writes the merged profile of its
# requests to <dir>/worker-<pid>.pstats when it exits. Unset, the hooks cost one global test.
# The clock is the thread's CPU time (GATEWAY_PROFILE_CLOCK=wall for elapsed time): under load a
# wall-clock profile is dominated by the wait for SQLite's one writer (a `with lock:` wait is
# booked to the function holding the `with`), which says where requests queue, not what costs.
_PROFILE_DIR = os.environ.get("GATEWAY_PROFILE_DIR")
_PROFILE_CLOCK = os.environ.get("GATEWAY_PROFILE_CLOCK", "cpu")
_profiles: list = []
_local = threading.local()


def pre_request(worker, req):
    if _PROFILE_DIR:
        _thread_profile().enable()


def post_request(worker, req, environ, resp):
    if _PROFILE_DIR:
        _thread_profile().disable()


def _thread_profile():
    import cProfile

    profile = getattr(_local, "profile", None)
    if profile is None:
        timer = time.perf_counter if _PROFILE_CLOCK == "wall" else time.thread_time
        profile = _local.profile = cProfile.Profile(timer)
        _profiles.append(profile)
    return profile


def _write_profile(pid: int) -> None:
    import pstats

    stats = None
    for profile in list(_profiles):
        profile.disable()
        profile.create_stats()
        if not profile.stats:
            continue
        if stats is None:
            stats = pstats.Stats(profile)
        else:
            stats.add(profile)
    if stats is not None:
        stats.dump_stats(os.path.join(_PROFILE_DIR, f"worker-{pid}.pstats"))
