"""deploy/docker-compose.yml: validated as a Compose file, and its pieces fit together.

What is validated, exactly (no Docker engine runs here, so no `docker compose config`):
- Variables are interpolated the way Compose does it after YAML parsing (``${VAR}``,
  ``${VAR:-default}``, ``${VAR:?error}``, ``$$``), from a test ``.env``.
- The result is parsed by ``compose-spec`` (PyPI, pinned in the ``test`` extra): Python
  bindings of the Rust ``compose_spec`` crate, which deserialises every field strictly by the
  Compose Specification (unknown keys, bad durations, ports or depends_on conditions are
  errors), then ``validate()`` checks references to top-level networks, volumes, secrets and
  configs, and ``to_spec()`` re-validates with pydantic models generated from the Compose
  JSON schema.
- Then structure: depends_on targets exist and wait on healthchecks that exist, the gateway's
  healthcheck asks /readyz, every GATEWAY_* variable is one the gateway reads, the real
  settings parser accepts the environment as production, mounted files exist, and the
  Prometheus config, secret paths and ports line up.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from compose_spec import PyCompose

from gateway.config import Settings, production_problems
from gateway.keys import AUDIT_KEY_FILE, MASTER_DIR, SIGNING_DIR

REPO = Path(__file__).resolve().parents[3]
DEPLOY = REPO / "deploy"
COMPOSE = DEPLOY / "docker-compose.yml"

TEST_DOTENV = {
    "POSTGRES_PASSWORD": "test-password",
    "GATEWAY_BASE_URL": "https://gateway.example.test",
    "GRAFANA_ADMIN_PASSWORD": "test-admin",
}

_VARIABLE = re.compile(
    r"\$\$|\$\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
    r"|\$(?P<bare>[A-Za-z_][A-Za-z0-9_]*)"
)


class MissingVariable(Exception):
    pass


def interpolate(value, environ: dict):
    """Compose's interpolation of a parsed document (strings only, keys untouched)."""
    if isinstance(value, dict):
        return {k: interpolate(v, environ) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, environ) for v in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group("braced") or match.group("bare")
        op, arg = match.group("op"), match.group("arg")
        current = environ.get(name)
        if op in (":-", "-"):
            use_default = not current if op == ":-" else current is None
            return arg if use_default else current
        if op in (":?", "?") and (not current if op == ":?" else current is None):
            raise MissingVariable(f"{name}: {arg}")
        return current or ""

    return _VARIABLE.sub(substitute, value)


def raw() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def project(environ: dict | None = None) -> dict:
    return interpolate(raw(), TEST_DOTENV if environ is None else environ)


def services() -> dict:
    return project()["services"]


def test_compose_file_validates_against_the_compose_specification():
    compose = PyCompose.from_json(json.dumps(project()))
    compose.validate()
    spec = compose.to_spec()
    assert set(compose.service_names()) == set(raw()["services"])
    assert spec.services is not None and len(spec.services) == len(raw()["services"])


@pytest.mark.parametrize(
    "break_it, message",
    [
        (
            lambda p: p["services"]["gateway"].update(helthcheck={"test": ["CMD", "true"]}),
            "helthcheck",
        ),
        (
            lambda p: p["services"]["gateway"]["healthcheck"].update(interval="ten seconds"),
            "ten seconds",
        ),
        (
            lambda p: p["services"]["gateway"]["depends_on"]["migrations"].update(
                condition="service_done"
            ),
            "service_done",
        ),
        (lambda p: p["services"]["gateway"].update(ports=["eighty:8000"]), "eighty"),
        (lambda p: p["services"]["gateway"].update(secrets=["no_such_secret"]), "no_such_secret"),
        (lambda p: p["services"]["gateway"].update(networks=["nowhere"]), "nowhere"),
    ],
    ids=[
        "misspelt-key",
        "bad-duration",
        "bad-condition",
        "bad-port",
        "undefined-secret",
        "undefined-network",
    ],
)
def test_the_validator_rejects_broken_compose_files(break_it, message):
    """Control: the validation is not a rubber stamp."""
    broken = project()
    break_it(broken)
    with pytest.raises(ValueError, match=message):
        PyCompose.from_json(json.dumps(broken)).validate()


def test_the_required_variables_are_exactly_the_documented_secrets():
    required = set()
    for name in TEST_DOTENV:
        environ = {k: v for k, v in TEST_DOTENV.items() if k != name}
        with pytest.raises(MissingVariable, match=name):
            project(environ)
        required.add(name)
    assert required == set(TEST_DOTENV)
    readme = (DEPLOY / "README.md").read_text()
    for name in TEST_DOTENV:
        assert name in readme, f"deploy/README.md must explain {name}"


def test_the_required_services_are_there():
    assert {"postgres", "redis", "migrations", "gateway", "worker", "prometheus"} <= set(services())


def test_gateway_worker_and_migrations_build_one_image_from_the_repository_dockerfile():
    images = set()
    for name in ("migrations", "gateway", "worker"):
        service = services()[name]
        images.add(service["image"])
        assert (DEPLOY / service["build"]["context"] / service["build"]["dockerfile"]).is_file()
    assert len(images) == 1


def test_startup_order_waits_on_health_and_on_the_migrations():
    all_services = services()
    for name, service in all_services.items():
        for dependency, condition in service.get("depends_on", {}).items():
            assert dependency in all_services, f"{name} depends on unknown {dependency}"
            if condition["condition"] == "service_healthy":
                check = all_services[dependency].get("healthcheck", {})
                assert check.get("test") and not check.get("disable"), (name, dependency)
    for name in ("gateway", "worker"):
        depends = all_services[name]["depends_on"]
        assert depends["migrations"]["condition"] == "service_completed_successfully"
        assert depends["postgres"]["condition"] == "service_healthy"
    assert all_services["gateway"]["depends_on"]["redis"]["condition"] == "service_healthy"
    assert all_services["migrations"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert all_services["migrations"]["restart"] == "no"


def test_commands_run_migrations_once_and_the_gateway_without_them():
    all_services = services()
    assert all_services["migrations"]["command"][-1].endswith("exec gateway db upgrade")
    gateway_command = all_services["gateway"]["command"][-1]
    assert "exec gateway run --host 0.0.0.0 --port 8000" in gateway_command
    assert "db upgrade" not in gateway_command
    assert all_services["worker"]["command"][-1].rstrip().endswith("exec gateway worker")


def run_prelude(command: str, directory: Path) -> None:
    """Run a container command up to its final ``exec`` line, with a local metrics dir."""
    lines = command.rstrip().splitlines()
    assert lines[-1].startswith("exec gateway ")
    prelude = "\n".join(line for line in lines[:-1] if "GATEWAY_METRICS_TOKEN" not in line)
    subprocess.run(
        ["sh", "-c", prelude],
        env={"PROMETHEUS_MULTIPROC_DIR": str(directory), "PATH": "/usr/bin:/bin"},
        check=True,
        timeout=10,
    )


@pytest.mark.parametrize("name", ["gateway", "worker"])
def test_start_removes_only_live_gauges_of_dead_processes(name, tmp_path):
    """The shell before ``exec`` really does what mark_process_dead does for a dead pid."""
    alive = subprocess.Popen(["sleep", "30"])
    dead = subprocess.Popen(["true"])
    dead.wait()
    try:
        files = {
            f"gauge_livemax_{alive.pid}.db": True,
            f"gauge_livemin_{dead.pid}.db": False,
            f"gauge_livemax_{dead.pid}.db": False,
            f"counter_{dead.pid}.db": True,  # counters of dead processes keep counting
            f"histogram_{dead.pid}.db": True,
            f"gauge_max_{dead.pid}.db": True,
        }
        for file in files:
            (tmp_path / file).write_bytes(b"x")
        run_prelude(services()[name]["command"][-1], tmp_path)
        assert {f.name for f in tmp_path.iterdir()} == {f for f, kept in files.items() if kept}
    finally:
        alive.kill()
        alive.wait()


def test_healthchecks():
    all_services = services()
    gateway = all_services["gateway"]["healthcheck"]["test"]
    assert gateway[0] == "CMD" and "http://127.0.0.1:8000/readyz" in gateway[-1]
    assert all_services["postgres"]["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    assert all_services["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    assert "/-/ready" in all_services["prometheus"]["healthcheck"]["test"][-1]
    # The image's HEALTHCHECK asks :8000/healthz, which the worker and the one-shot migrations
    # do not serve: it is switched off for them, explicitly.
    assert all_services["worker"]["healthcheck"] == {"disable": True}
    assert all_services["migrations"]["healthcheck"] == {"disable": True}


def test_every_gateway_variable_is_one_the_gateway_reads():
    source = "\n".join(p.read_text() for p in (REPO / "gateway").rglob("*.py"))
    for name in ("migrations", "gateway", "worker"):
        for variable in services()[name]["environment"]:
            if variable.startswith("GATEWAY_"):
                assert f'"{variable}"' in source, f"{variable} is not read anywhere in gateway/"


def test_the_gateway_environment_is_a_production_configuration_the_gateway_accepts():
    """The real settings parser reads the service's environment, plus the metrics token the
    command exports from the secret file."""
    service = services()["gateway"]
    environ = {k: v for k, v in service["environment"].items() if v is not None}
    assert "GATEWAY_METRICS_TOKEN" not in environ
    assert 'GATEWAY_METRICS_TOKEN="$(cat /run/secrets/metrics_token)"' in service["command"][-1]
    environ["GATEWAY_METRICS_TOKEN"] = "from-the-secret-file"
    settings = Settings.from_env(environ)
    assert settings.is_production
    assert production_problems(settings) == []
    assert settings.database_url.startswith("postgresql+psycopg://gateway:test-password@postgres:")
    assert settings.rate_limit_storage.startswith("redis://redis:6379")


def test_read_only_containers_keep_the_metrics_directory_on_writable_storage():
    compose = project()
    for name in ("migrations", "gateway", "worker"):
        service = compose["services"][name]
        assert service["read_only"] is True and service["user"] == "10001:10001"
        assert service["cap_drop"] == ["ALL"]
    migrations = compose["services"]["migrations"]
    directory = migrations["environment"]["PROMETHEUS_MULTIPROC_DIR"]
    tmpfs = [entry.split(":")[0] for entry in migrations["tmpfs"]]
    assert any(directory.startswith(mount + "/") for mount in tmpfs)
    assert 'mkdir -p "$PROMETHEUS_MULTIPROC_DIR"' in migrations["command"][-1]


def test_gateway_and_worker_share_the_metrics_directory_and_pid_namespace():
    """So that the gateway's /metrics includes the worker's delivery metrics."""
    compose = project()
    directories = set()
    for name in ("gateway", "worker"):
        service = compose["services"][name]
        directory = service["environment"]["PROMETHEUS_MULTIPROC_DIR"]
        assert f"gateway-metrics:{directory}" in service["volumes"]
        directories.add(directory)
    assert len(directories) == 1
    assert compose["volumes"]["gateway-metrics"]["driver_opts"]["type"] == "tmpfs"
    assert compose["services"]["worker"]["pid"] == "service:gateway"
    assert compose["services"]["worker"]["depends_on"]["gateway"]["condition"] == "service_started"


def test_keys_are_mounted_read_only_where_the_gateway_looks():
    for name in ("gateway", "worker"):
        service = services()[name]
        keys_dir = service["environment"]["GATEWAY_KEYS_DIR"]
        mounts = [v.split(":") for v in service["volumes"]]
        assert [m[1:] for m in mounts if m[1] == keys_dir] == [[keys_dir, "ro"]]
    readme = (DEPLOY / "README.md").read_text()
    for part in (f"{MASTER_DIR}/v1.key", f"{SIGNING_DIR}/", AUDIT_KEY_FILE):
        assert part in readme


def test_mounted_configuration_files_exist():
    for name in ("prometheus", "grafana"):
        for volume in services()[name]["volumes"]:
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (DEPLOY / source).exists(), f"{name} mounts missing {source}"


def test_prometheus_reads_the_same_token_and_finds_the_gateway_service():
    compose = project()
    assert compose["secrets"]["metrics_token"]["file"] == "./secrets/metrics_token"
    assert "metrics_token" in compose["services"]["prometheus"]["secrets"]
    assert "metrics_token" in compose["services"]["gateway"]["secrets"]
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    job = next(j for j in config["scrape_configs"] if j["job_name"] == "gateway")
    assert job["authorization"]["credentials_file"] == "/run/secrets/metrics_token"
    discovery = job["dns_sd_configs"][0]
    assert discovery["names"] == ["gateway"] and discovery["port"] == 8000
    prometheus_networks = set(compose["services"]["prometheus"]["networks"])
    assert prometheus_networks & set(compose["services"]["gateway"]["networks"])


def test_the_database_network_has_no_route_out_and_only_the_worker_has_egress():
    compose = project()
    assert compose["networks"]["backend"]["internal"] is True
    assert set(compose["services"]["postgres"]["networks"]) == {"backend"}
    assert set(compose["services"]["redis"]["networks"]) == {"backend"}
    with_egress = {n for n, s in compose["services"].items() if "egress" in s.get("networks", [])}
    assert with_egress == {"worker"}


def test_grafana_provisioning_points_at_the_dashboard_and_the_compose_prometheus():
    grafana = services()["grafana"]
    mounts = dict(v.rsplit(":", 1)[0].split(":", 1) for v in grafana["volumes"])
    dashboard_target = mounts["./grafana/gateway-dashboard.json"]
    provider = yaml.safe_load(
        (DEPLOY / "grafana" / "provisioning" / "dashboards" / "gateway.yml").read_text()
    )["providers"][0]
    assert Path(dashboard_target).parent == Path(provider["options"]["path"])
    datasource = yaml.safe_load(
        (DEPLOY / "grafana" / "provisioning" / "datasources" / "prometheus.yml").read_text()
    )["datasources"][0]
    assert datasource["type"] == "prometheus" and datasource["url"] == "http://prometheus:9090"


def test_the_audit_witness_lives_on_a_named_volume_outside_the_keys():
    """Written by the gateway (read-only root, keys read-only), kept across restarts and
    database restores; the image makes its directory for the user the containers run as."""
    compose = project()
    gateway = compose["services"]["gateway"]
    witness = Path(gateway["environment"]["GATEWAY_AUDIT_WITNESS"])
    assert not str(witness).startswith(gateway["environment"]["GATEWAY_KEYS_DIR"])
    assert f"audit-witness:{witness.parent}" in gateway["volumes"]
    assert "audit-witness" in compose["volumes"]
    dockerfile = (REPO / "Dockerfile").read_text()
    assert "--uid 10001" in dockerfile and gateway["user"] == "10001:10001"
    assert str(witness.parent) in dockerfile.split("chown", 1)[1].split("\n")[0]
