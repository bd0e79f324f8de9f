"""OpenAPI description of ``/api/v1/audit/*`` (API.md section 8)."""

from __future__ import annotations

from apispec import APISpec

from ..docs.openapi import path_source, problem_response

HEX = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
HEX_LIST = {"type": "array", "items": HEX}

CHECKPOINT = {
    "type": "object",
    "description": (
        "A signed checkpoint: `note` is a C2SP signed note whose body is a C2SP "
        "tlog-checkpoint (origin, tree size, base64 root hash, and a `timestamp` extension "
        "line), signed with the Ed25519 key of /api/v1/audit/key."
    ),
    "required": ["tree_size", "root_hash", "timestamp", "key_id", "note"],
    "properties": {
        "tree_size": {"type": "integer", "minimum": 1},
        "root_hash": HEX,
        "timestamp": {"type": "string", "format": "date-time"},
        "key_id": {"type": "string", "description": "The signed-note key ID, 8 hex digits."},
        "note": {"type": "string"},
    },
}

COMPONENTS = {
    "AuditCheckpoint": CHECKPOINT,
    "AuditVerification": {
        "type": "object",
        "required": ["valid", "entries", "head_hash", "first_invalid_seq", "checkpoint"],
        "properties": {
            "valid": {"type": "boolean"},
            "entries": {"type": "integer", "minimum": 0},
            "head_hash": HEX,
            "first_invalid_seq": {"type": ["integer", "null"]},
            "checkpoint": {
                "oneOf": [{"$ref": "#/components/schemas/AuditCheckpoint"}, {"type": "null"}]
            },
            "invalid_checkpoints": {
                "type": "array",
                "items": {"type": "integer"},
                "description": "Tree sizes of checkpoints whose signature or root is wrong.",
            },
            "problem": {"type": ["string", "null"]},
            "verified_at": {
                "type": ["string", "null"],
                "format": "date-time",
                "description": (
                    "When the full walk ran; a walk is reused for 60 s, with only the entries "
                    "appended since checked."
                ),
            },
        },
    },
    "AuditInclusionProof": {
        "type": "object",
        "description": "RFC 9162 section 2.1.3 inclusion proof; hashes are hex.",
        "required": [
            "seq",
            "leaf_index",
            "leaf_hash",
            "tree_size",
            "root_hash",
            "audit_path",
            "checkpoint",
        ],
        "properties": {
            "seq": {"type": "integer", "minimum": 1},
            "leaf_index": {"type": "integer", "minimum": 0},
            "leaf_hash": HEX,
            "tree_size": {"type": "integer", "minimum": 1},
            "root_hash": HEX,
            "audit_path": HEX_LIST,
            "checkpoint": {"$ref": "#/components/schemas/AuditCheckpoint"},
        },
    },
    "AuditConsistencyProof": {
        "type": "object",
        "description": "RFC 9162 section 2.1.4 consistency proof; hashes are hex.",
        "required": ["from_size", "to_size", "from_root", "to_root", "proof"],
        "properties": {
            "from_size": {"type": "integer", "minimum": 1},
            "to_size": {"type": "integer", "minimum": 1},
            "from_root": HEX,
            "to_root": HEX,
            "proof": HEX_LIST,
            "from_checkpoint": {"$ref": "#/components/schemas/AuditCheckpoint"},
            "to_checkpoint": {"$ref": "#/components/schemas/AuditCheckpoint"},
        },
    },
    "AuditKey": {
        "type": "object",
        "required": ["key_id", "algorithm", "public_key", "vkey"],
        "properties": {
            "key_id": {"type": "string"},
            "algorithm": {"type": "string", "enum": ["Ed25519"]},
            "public_key": {"type": "string", "description": "base64 of the 32-byte key"},
            "vkey": {"type": "string", "description": "C2SP verifier key string"},
            "name": {"type": "string", "description": "The key name (the checkpoint origin)."},
        },
    },
}

UNAUTHORISED = problem_response("missing_token or invalid_token")
FORBIDDEN = problem_response("insufficient_scope")
BAD_PARAMETER = problem_response("invalid_parameter")
SECURITY = [{"oauth2": ["audit:read"]}]


def _query(name: str, schema: dict, description: str = "", required: bool = False) -> dict:
    parameter = {"name": name, "in": "query", "required": required, "schema": schema}
    if description:
        parameter["description"] = description
    return parameter


def _json(ref: str) -> dict:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}


TIME = {"type": "string", "format": "date-time"}
PAGING = [
    _query("cursor", {"type": "string"}),
    _query("limit", {"type": "integer", "minimum": 1, "maximum": 500}),
]


def _get(summary: str, operation_id: str, parameters: list, ok: dict, **responses) -> dict:
    answers = {"200": ok, "400": BAD_PARAMETER, "401": UNAUTHORISED, "403": FORBIDDEN}
    answers.update(responses)
    return {
        "get": {
            "summary": summary,
            "operationId": operation_id,
            "tags": ["audit"],
            "security": SECURITY,
            "parameters": parameters,
            "responses": answers,
        }
    }


def _event_search() -> dict:
    return _get(
        "Search the audit events the caller may see (operator: all)",
        "searchAuditEvents",
        [
            _query("from", TIME, "inclusive"),
            _query("to", TIME, "exclusive"),
            _query(
                "org",
                {"type": "string", "pattern": "^[0-9]{20}$"},
                "events where this organisation is actor, sender or recipient",
            ),
            _query("action", {"type": "string"}),
            _query("message_type", {"type": "string"}),
            _query("decision", {"type": "string", "enum": ["allowed", "denied"]}),
            *PAGING,
        ],
        _event_page(),
    )


def _event_page() -> dict:
    return {"description": "A page of events", "content": _json("AuditEventPage")}


def _subject_report() -> dict:
    return {
        "post": {
            "summary": "Subject access report: one child's events, by BSN in the body",
            "operationId": "auditSubjectReport",
            "tags": ["audit"],
            "security": SECURITY,
            "requestBody": {"required": True, "content": _json("SubjectReportRequest")},
            "responses": {
                "200": _event_page(),
                "400": problem_response("invalid_json or invalid_parameter"),
                "401": UNAUTHORISED,
                "403": FORBIDDEN,
                "413": problem_response("payload_too_large"),
                "415": problem_response("unsupported_media_type"),
                "422": problem_response("validation_failed"),
            },
        }
    }


def _export() -> dict:
    return _get(
        "Export the events the caller may see, streamed as CSV or JSON Lines",
        "exportAuditEvents",
        [
            _query("format", {"type": "string", "enum": ["csv", "jsonl"]}, required=True),
            _query("from", TIME, "inclusive"),
            _query("to", TIME, "exclusive"),
        ],
        {
            "description": "The events, one a line",
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/x-ndjson": {"schema": {"type": "string"}},
            },
        },
    )


def _verify() -> dict:
    return _get(
        "Verify the hash chain and every signed checkpoint",
        "verifyAuditLog",
        [],
        {"description": "The outcome", "content": _json("AuditVerification")},
    )


def _inclusion_proof() -> dict:
    return _get(
        "Inclusion proof of one entry in a signed tree (RFC 9162 2.1.3)",
        "auditInclusionProof",
        [
            {
                "name": "seq",
                "in": "path",
                "required": True,
                "schema": {"type": "integer", "minimum": 1},
            },
            _query(
                "tree_size",
                {"type": "integer", "minimum": 1},
                "the size of a signed checkpoint; default the newest",
            ),
        ],
        {"description": "The proof", "content": _json("AuditInclusionProof")},
        **{
            "404": problem_response(
                "not_found: no entry with this seq, or (for a partner) an entry of "
                "another organisation"
            ),
            "409": problem_response("audit_chain_invalid"),
        },
    )


def _consistency_proof() -> dict:
    return _get(
        "Consistency proof between two signed checkpoints (RFC 9162 2.1.4)",
        "auditConsistencyProof",
        [
            _query("from_size", {"type": "integer", "minimum": 1}, required=True),
            _query("to_size", {"type": "integer", "minimum": 1}, required=True),
        ],
        {"description": "The proof", "content": _json("AuditConsistencyProof")},
        **{"409": problem_response("audit_chain_invalid")},
    )


def _key() -> dict:
    return {
        "get": {
            "summary": "The public key that signs the audit checkpoints",
            "operationId": "getAuditKey",
            "tags": ["audit"],
            "security": [],
            "responses": {"200": {"description": "The key", "content": _json("AuditKey")}},
        }
    }


PATHS = {
    "/api/v1/audit/events": _event_search,
    "/api/v1/audit/subject-report": _subject_report,
    "/api/v1/audit/export": _export,
    "/api/v1/audit/verify": _verify,
    "/api/v1/audit/proof/{seq}": _inclusion_proof,
    "/api/v1/audit/consistency": _consistency_proof,
    "/api/v1/audit/key": _key,
}
"""Each path and the function that describes its operations (fresh dicts on every call)."""


@path_source
def audit_paths(spec: APISpec) -> None:
    for name, component in COMPONENTS.items():
        if name not in spec.components.schemas:
            spec.components.schema(name, component)
    for path, operations in PATHS.items():
        spec.path(path=path, operations=operations())
