"""Logboek Dataverwerkingen end to end (issue 22 section 2): a real gunicorn gateway, real
partners, the real ``gateway worker`` (which exports the Logboek outbox), a real push
recipient, and a real OTLP/HTTP receiver in this process that decodes every request with
``opentelemetry-proto`` (the Logboek, and the operators' tracing backend on another path).

What is expected is written from the issue and the standard, not read back from the gateway:
the caller's ``traceparent`` becomes ``foreign_operation`` (its trace and span, the sender as
``urn:nl:oin:<OIN>``), never the gateway's trace; a refusal is UNSET with its code, a server
error ERROR; the push carries a trace of the gateway's own; no BSN or pseudonym leaves in any
record or span; a Logboek that refuses for a while loses nothing and gets nothing twice.
"""

from __future__ import annotations

import secrets
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

from gateway.config import Settings, production_problems
from gateway.keys import KeyStore
from gateway.logboek import subject as logboek_subject
from pseudonymise import Bsn, DomainPseudonymiser, organisation_domain
from tests import delivery_helpers as dh
from tests import exchange_helpers as ex
from tests.e2e.conftest import start_server, stop_server

LOGBOEK_PATH = "/logboek/v1/traces"
TRACING_PATH = "/tracing/v1/traces"
UNSET, OK, ERROR = 0, 1, 2  # opentelemetry.proto.trace.v1.Status.StatusCode
SEND_ACTIVITY = "leerplicht_enforcement.absence_report.school-leerplicht"
PSEUDONYM_ACTIVITY = "passend_onderwijs.absence_report.school-swv"
PROCESSING = {"exchange.send", "exchange.deliver", "exchange.ack"}


class OtlpReceiver:
    """An OTLP/HTTP endpoint: decodes ``ExportTraceServiceRequest`` and answers 200 with an
    ``ExportTraceServiceResponse``; ``refuse_next`` answers 503 to that many Logboek requests
    and ``down`` to every one (a Logboek that is away)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.spans: dict[str, list[dict]] = {LOGBOEK_PATH: [], TRACING_PATH: []}
        self.bodies: dict[str, list[bytes]] = {LOGBOEK_PATH: [], TRACING_PATH: []}
        self.attempts = 0
        self.refused = 0
        self.refuse_next = 0
        self.down = False
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status = receiver.take(self.path, self.headers.get("Content-Type", ""), body)
                answer = trace_service_pb2.ExportTraceServiceResponse().SerializeToString()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def take(self, path: str, content_type: str, body: bytes) -> int:
        with self.lock:
            if path == LOGBOEK_PATH:
                self.attempts += 1
                if self.down or self.refuse_next > 0:
                    self.refuse_next = max(0, self.refuse_next - 1)
                    self.refused += 1
                    return 503
            if path not in self.spans or content_type != "application/x-protobuf":
                return 415
            request = trace_service_pb2.ExportTraceServiceRequest()
            request.ParseFromString(body)  # a body that is not OTLP protobuf fails the test
            self.bodies[path].append(body)
            self.spans[path].extend(decoded(request))
            return 200

    def logboek(self) -> list[dict]:
        with self.lock:
            return list(self.spans[LOGBOEK_PATH])

    def stop(self) -> None:
        self.server.shutdown()


def _value(any_value):
    kind = any_value.WhichOneof("value")
    return getattr(any_value, kind) if kind else None


def decoded(request) -> list[dict]:
    found = []
    for resource_spans in request.resource_spans:
        resource = {a.key: _value(a.value) for a in resource_spans.resource.attributes}
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                found.append(
                    {
                        "trace_id": span.trace_id.hex(),
                        "span_id": span.span_id.hex(),
                        "parent_span_id": span.parent_span_id.hex(),
                        "name": span.name,
                        "status": span.status.code,
                        "start": span.start_time_unix_nano,
                        "end": span.end_time_unix_nano,
                        "attributes": {a.key: _value(a.value) for a in span.attributes},
                        "links": [
                            {
                                "trace_id": link.trace_id.hex(),
                                "span_id": link.span_id.hex(),
                                "attributes": {a.key: _value(a.value) for a in link.attributes},
                            }
                            for link in span.links
                        ],
                        "resource": resource,
                    }
                )
    return found


@pytest.fixture(scope="module")
def logboek(tmp_path_factory, keys_dir):
    receiver = OtlpReceiver()
    instance = tmp_path_factory.mktemp("logboek")
    shutil.copytree(keys_dir, instance / "keys")
    server = start_server(
        instance,
        instance / "keys",
        {
            "GATEWAY_LOGBOEK_OTLP_ENDPOINT": receiver.url + LOGBOEK_PATH,
            "GATEWAY_LOGBOEK_BACKOFF_SECONDS": "1",
            "GATEWAY_LOGBOEK_TIMEOUT_SECONDS": "2",
            "GATEWAY_OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url + TRACING_PATH,
            "OTEL_BSP_SCHEDULE_DELAY": "200",
            "GATEWAY_TEST_FAULTS": "1",
        },
    )
    recipient = dh.recipient(f"{server.url}/oauth/jwks")
    partners = dh.register_push_partners(server, instance, recipient.delivery_url)
    yield server, receiver, recipient, partners
    recipient.stop()
    stop_server(server.process)
    receiver.stop()


def export(server) -> None:
    """``gateway worker --once``: pushes what is due, then sends the Logboek outbox."""
    dh.cli(server, "worker", "--once")


def traceparent() -> tuple[str, str, str]:
    trace_id, span_id = secrets.token_hex(16), secrets.token_hex(8)
    return trace_id, span_id, f"00-{trace_id}-{span_id}-01"


def send(partners, recipient=ex.LEERPLICHT, headers=None, bsn=ex.BSN):
    return partners[ex.SCHOOL].send(
        "absence_report",
        recipient,
        ex.absence_report(ex.today()),
        subject={"bsn": bsn},
        headers=headers or {},
    )


def event_of(server, action: str, exchange_id: str | None = None, **members) -> dict:
    found = [
        e
        for e in dh.audit_events(server, action)
        if (exchange_id is None or e["exchange_id"] == exchange_id)
        and all(e.get(k) == v for k, v in members.items())
    ]
    assert found, f"no {action} event"
    return found[-1]


def record_of(receiver, event: dict) -> dict:
    [record] = [r for r in receiver.logboek() if r["span_id"] == event["span_id"]]
    return record


def activity_uri(server, activity_id: str) -> str:
    return f"{server.url}/api/v1/processing-activities/{activity_id}"


def test_a_send_with_a_traceparent_is_logged_with_the_callers_operation(logboek):
    server, receiver, recipient, partners = logboek
    caller_trace, caller_span, header = traceparent()
    response = send(partners, headers={"traceparent": header, "tracestate": "school=1"})
    assert response.status_code == 202, response.text
    exchange_id = response.json()["id"]
    event = event_of(server, "exchange.send", exchange_id)
    # the audit event carries the gateway's own trace, hashed with the rest (API.md section 8)
    assert len(event["trace_id"]) == 32 and len(event["span_id"]) == 16
    assert event["trace_id"] != caller_trace
    export(server)

    record = record_of(receiver, event)
    assert record["trace_id"] == event["trace_id"]
    assert record["name"] == "exchange.send"
    assert record["status"] in (UNSET, OK)
    attributes = record["attributes"]
    assert attributes["dpl.core.foreign_operation.trace_id"] == caller_trace
    assert attributes["dpl.core.foreign_operation.span_id"] == caller_span
    assert attributes["dpl.core.foreign_operation.entity"] == f"urn:nl:oin:{ex.SCHOOL}"
    assert record["links"] == [
        {
            "trace_id": caller_trace,
            "span_id": caller_span,
            "attributes": {"dpl.core.foreign_operation.entity": f"urn:nl:oin:{ex.SCHOOL}"},
        }
    ]
    assert attributes["dpl.core.processing_activity_id"] == activity_uri(server, SEND_ACTIVITY)
    # the URI is the activity's entry in the register (issue 22 section 3)
    entry = requests.get(attributes["dpl.core.processing_activity_id"], timeout=10)
    assert entry.status_code == 200 and entry.json()["id"] == SEND_ACTIVITY
    assert attributes["dpl.gateway.decision"] == "allowed"
    assert attributes["dpl.gateway.audit_seq"] == event["seq"]
    assert record["start"] <= record["end"]
    assert record["resource"]["service.name"] == "thuiszitterspact-gateway"

    # the data subject: the child's audit pseudonym under the Logboek's own key, no BSN
    assert attributes["dpl.core.data_subject_id_type"] == "audit_pseudonym"
    keys = KeyStore(server.env["GATEWAY_KEYS_DIR"], allow_generate=False)
    key, _ = keys.logboek_key()
    audit_pseudonym = DomainPseudonymiser(keys.keyring).pseudonymise(Bsn(ex.BSN), "audit")
    assert logboek_subject.decrypt(attributes["dpl.core.data_subject_id"], key) == audit_pseudonym
    assert audit_pseudonym not in attributes["dpl.core.data_subject_id"]

    # the push: a trace of the gateway's own for the recipient, never the sender's
    pushed = {k.lower(): v for k, v in recipient.last_request(exchange_id)["headers"].items()}
    version, pushed_trace, pushed_span, flags = pushed["traceparent"].split("-")
    assert version == "00" and len(pushed_trace) == 32 and len(pushed_span) == 16
    assert pushed_trace != caller_trace and pushed_trace != event["trace_id"]
    assert caller_trace not in str(pushed) and "school=1" not in str(pushed)
    delivered = event_of(server, "exchange.deliver", exchange_id)
    assert delivered["trace_id"] == pushed_trace
    deliver_record = record_of(receiver, delivered)
    assert deliver_record["trace_id"] == pushed_trace
    assert "dpl.core.foreign_operation.trace_id" not in deliver_record["attributes"]
    assert deliver_record["attributes"]["dpl.core.processing_activity_id"] == activity_uri(
        server, SEND_ACTIVITY
    )


def test_an_invalid_traceparent_starts_a_new_trace_and_is_no_refusal(logboek):
    server, receiver, _, partners = logboek
    for header in (
        "00-zz-00-01",
        "ff-" + "1" * 32 + "-" + "2" * 16 + "-01",
        "00-" + "0" * 32 + "-" + "2" * 16 + "-01",
    ):
        response = send(partners, headers={"traceparent": header})
        assert response.status_code == 202, response.text
        event = event_of(server, "exchange.send", response.json()["id"])
        export(server)
        record = record_of(receiver, event)
        assert record["links"] == []
        assert not any(k.startswith("dpl.core.foreign") for k in record["attributes"])
        assert record["trace_id"] == event["trace_id"] != "0" * 32


def test_a_refused_send_is_unset_with_its_refusal(logboek):
    server, receiver, _, partners = logboek
    caller_trace, caller_span, header = traceparent()
    refused = send(partners, headers={"traceparent": header}, bsn="123456789")  # not 11-proof
    assert 400 <= refused.status_code < 500
    code = refused.json()["code"]
    event = event_of(server, "exchange.send", None, decision="denied", reason=code)
    export(server)
    record = record_of(receiver, event)
    assert record["status"] == UNSET
    assert record["attributes"]["dpl.gateway.decision"] == "denied"
    assert record["attributes"]["dpl.gateway.reason"] == code
    assert record["attributes"]["dpl.core.foreign_operation.trace_id"] == caller_trace
    assert record["attributes"]["dpl.core.foreign_operation.span_id"] == caller_span


def test_a_server_error_is_an_error_record(logboek):
    server, receiver, _, partners = logboek
    caller_trace, caller_span, header = traceparent()
    before = len(dh.audit_events(server, "exchange.send"))
    failed = send(partners, headers={"traceparent": header, "Gateway-Test-Fault": "exchange.send"})
    assert failed.status_code == 500
    assert len(dh.audit_events(server, "exchange.send")) == before  # rolled back
    export(server)
    [record] = [
        r
        for r in receiver.logboek()
        if r["attributes"].get("dpl.core.foreign_operation.trace_id") == caller_trace
    ]
    assert record["status"] == ERROR
    assert record["name"] == "exchange.send"
    assert record["attributes"]["dpl.core.foreign_operation.span_id"] == caller_span
    assert record["attributes"]["dpl.core.foreign_operation.entity"] == f"urn:nl:oin:{ex.SCHOOL}"
    assert record["attributes"]["dpl.core.processing_activity_id"] == activity_uri(
        server, SEND_ACTIVITY
    )


def test_production_refuses_the_test_faults_setting():
    settings = Settings.from_env({"GATEWAY_ENV": "production", "GATEWAY_TEST_FAULTS": "1"})
    assert "GATEWAY_TEST_FAULTS is for development and tests only" in production_problems(settings)


def test_no_record_or_span_holds_a_bsn_or_a_pseudonym(logboek):
    server, receiver, _, partners = logboek
    _, _, header = traceparent()
    sent = send(partners, recipient=ex.SWV, headers={"traceparent": header})
    assert sent.status_code == 202, sent.text
    [item] = [i for i in partners[ex.SWV].inbox(limit=500)["items"] if i["id"] == sent.json()["id"]]
    ack_trace, _, ack_header = traceparent()
    acked = requests.post(
        f"{server.url}/api/v1/inbox/{item['id']}/ack",
        headers=partners[ex.SWV].headers(traceparent=ack_header),
        timeout=10,
    )
    assert acked.status_code == 200
    export(server)
    keys = KeyStore(server.env["GATEWAY_KEYS_DIR"], allow_generate=False)
    pseudonymiser = DomainPseudonymiser(keys.keyring)
    secrets_used = {
        ex.BSN,
        ex.OTHER_BSN,
        "123456789",
        item["subject"]["pseudonym"],
        pseudonymiser.pseudonymise(Bsn(ex.BSN), "audit"),
        pseudonymiser.pseudonymise(Bsn(ex.BSN), organisation_domain(ex.SWV)),
    }
    assert item["subject"]["pseudonym"] in secrets_used
    record = record_of(receiver, event_of(server, "exchange.ack", item["id"]))
    assert record["attributes"]["dpl.core.processing_activity_id"] == activity_uri(
        server, PSEUDONYM_ACTIVITY
    )
    assert record["attributes"]["dpl.core.foreign_operation.entity"] == f"urn:nl:oin:{ex.SWV}"
    assert record["attributes"]["dpl.core.foreign_operation.trace_id"] == ack_trace
    # the operators' tracing has spans too: request, pipeline steps, database, the push
    names = dh.wait_until(
        lambda: (
            {s["name"] for s in receiver.spans[TRACING_PATH]}
            >= {"POST /api/v1/exchanges", "pipeline.subject", "db insert", "delivery.push"}
            and {s["name"] for s in receiver.spans[TRACING_PATH]}
        ),
        20,
        what="the operators' spans",
    )
    assert "pipeline.minimise" in names
    request_span = next(
        s for s in receiver.spans[TRACING_PATH] if s["name"] == "POST /api/v1/exchanges"
    )
    assert request_span["attributes"] == {
        "http.request.method": "POST",
        "http.route": "/api/v1/exchanges",
        "http.response.status_code": 202,
    }
    for path in (LOGBOEK_PATH, TRACING_PATH):
        with receiver.lock:
            bodies = b"".join(receiver.bodies[path])
            spans = repr(receiver.spans[path])
        assert bodies
        for value in secrets_used:
            assert value.encode() not in bodies, (path, value)
            assert value not in spans, (path, value)


def test_a_logboek_that_is_away_loses_nothing_and_gets_nothing_twice(logboek):
    server, receiver, _, partners = logboek
    export(server)  # what earlier tests left
    first_seq = dh.audit_events(server)[-1]["seq"]
    receiver.down = True
    attempts = receiver.attempts
    ids = []
    for _ in range(4):
        _, _, header = traceparent()
        response = send(partners, headers={"traceparent": header})
        assert response.status_code == 202, response.text  # the Logboek's absence blocks no send
        ids.append(response.json()["id"])
    export(server)  # the push happens; the Logboek refuses
    assert receiver.attempts > attempts
    assert dh.metric(server, "gateway_logboek_backlog") >= 8  # 4 sends, 4 deliveries
    processed = [
        e for e in dh.audit_events(server) if e["seq"] > first_seq and e["action"] in PROCESSING
    ]
    assert {e["exchange_id"] for e in processed} == set(ids) and len(processed) == 8
    received = {r["attributes"].get("dpl.gateway.audit_seq") for r in receiver.logboek()}
    assert not received & {e["seq"] for e in processed}

    # back, after refusing two more attempts: the worker's loop retries with its backoff
    refused = receiver.refused
    receiver.down, receiver.refuse_next = False, 2
    worker = dh.start_worker(server, "--poll", "0.2", name="logboek")
    try:
        dh.wait_until(
            lambda: (
                {e["seq"] for e in processed}
                <= {r["attributes"].get("dpl.gateway.audit_seq") for r in receiver.logboek()}
            ),
            30,
            what="every record at the Logboek",
        )
    finally:
        assert worker.terminate() == 0, worker.output()
    assert receiver.refused == refused + 2
    seqs = [r["attributes"].get("dpl.gateway.audit_seq") for r in receiver.logboek()]
    for event in processed:
        assert seqs.count(event["seq"]) == 1, event["action"]
    every = [s for s in seqs if s is not None]
    assert len(every) == len(set(every))  # no record of the whole run arrived twice
    assert dh.metric(server, "gateway_logboek_backlog") == 0
