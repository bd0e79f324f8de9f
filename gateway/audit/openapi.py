"""OpenAPI description of ``/api/v1/audit/*`` (API.md section 8)."""

from __future__ import annotations

import base64
import json

from apispec import APISpec

from ..docs.examples import (
    DEMO_BSN,
    LEERPLICHT,
    SCHOOL,
    SWV,
    SWV_PSEUDONYM,
    example,
    examples,
    problem_example,
)
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

_CHECKPOINT_OR_NULL = {
    "oneOf": [{"$ref": "#/components/schemas/AuditCheckpoint"}, {"type": "null"}]
}
_GAP_FIELDS = {
    "kind": {
        "type": "string",
        "enum": ["rewound", "forked"],
        "description": "rewound: the log is shorter than the published checkpoint; forked: "
        "the log at that size has another root.",
    },
    "published_size": {"type": "integer", "minimum": 1},
    "published_root": HEX,
    "log_size": {"type": "integer", "minimum": 0},
}

COMPONENTS = {
    "AuditCheckpoint": CHECKPOINT,
    "AuditCheckpointState": {
        "type": "object",
        "description": (
            "The newest signed checkpoint, or, after a database restore that rewound the log "
            "below a checkpoint the gateway had already published, no checkpoint and the gap "
            "until the operator acknowledges it. `rewinds` lists the acknowledged gaps: a "
            "checkpoint you hold above a rewind's `log_size` will never be extended."
        ),
        "required": ["checkpoint", "gap", "rewinds"],
        "properties": {
            "checkpoint": _CHECKPOINT_OR_NULL,
            "gap": {
                "oneOf": [
                    {
                        "type": "object",
                        "required": [*_GAP_FIELDS, "published_checkpoint"],
                        "properties": {
                            **_GAP_FIELDS,
                            "published_checkpoint": {
                                "$ref": "#/components/schemas/AuditCheckpoint"
                            },
                        },
                    },
                    {"type": "null"},
                ]
            },
            "rewinds": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": [*_GAP_FIELDS, "acknowledged_at", "new_checkpoint_size"],
                    "properties": {
                        **_GAP_FIELDS,
                        "acknowledged_at": {"type": "string", "format": "date-time"},
                        "new_checkpoint_size": {"type": "integer", "minimum": 1},
                    },
                },
            },
        },
    },
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


ORIGIN = "127.0.0.1:8000/audit"
"""The checkpoint origin (the key name) of the sandbox at its default base URL."""
KEY_ID = "f788c097"
CHECKPOINT_SIGNATURE = (
    "94jAl31J4vwOp1Wx6z4cTa5H9QKNpFOjrai4L+fDnOirXXRg0amSn+5Bi2Z8ORZDdqYKUaoH7LTNh97vfSged6bTqQU="
)
ROOT_2048 = "887dbea3077fcc0e58a81382add9867a84e70a326bcbd168d3c3e6d2030cd49f"
ROOT_2148 = "2b1f6a4c9d0e8b7a35c4f2e1d6a9b8c7e0f3a5d4c2b1e9f8a7d6c5b4a3e2f1d0"


def _checkpoint(tree_size: int, root_hash: str, timestamp: str) -> dict:
    """A checkpoint as the gateway signs it: a C2SP signed note over a tlog-checkpoint."""
    root = base64.b64encode(bytes.fromhex(root_hash)).decode()
    note = (
        f"{ORIGIN}\n{tree_size}\n{root}\ntimestamp {timestamp}\n\n"
        f"\u2014 {ORIGIN} {CHECKPOINT_SIGNATURE}\n"
    )
    return {
        "tree_size": tree_size,
        "root_hash": root_hash,
        "timestamp": timestamp,
        "key_id": KEY_ID,
        "note": note,
    }


CHECKPOINT_2048 = _checkpoint(2048, ROOT_2048, "2026-12-01T08:42:20.104227Z")
CHECKPOINT_2148 = _checkpoint(2148, ROOT_2148, "2026-12-01T09:15:02.617380Z")

SEND_EVENT = {
    "seq": 1342,
    "at": "2026-12-01T08:42:17.512804Z",
    "action": "exchange.send",
    "actor": {"org": SCHOOL, "client_id": "regenboog-sis", "user": None},
    "exchange_id": "5b0d7c41-2f6e-4f8a-9d3b-8e1a6c2f4d90",
    "message_type": "absence_report",
    "sender": SCHOOL,
    "recipient": SWV,
    "purpose": "passend_onderwijs",
    "legal_basis": {"type": "legal_obligation", "citation": "Wet passend onderwijs (zorgplicht)"},
    "consent_id": None,
    "decision": "allowed",
    "reason": None,
    "fields_forwarded": [
        "absence_type",
        "start_date",
        "unauthorised_hours_4_weeks",
        "reason_category",
        "education_sector",
        "school_brin",
        "birth_year",
    ],
    "fields_dropped": ["contact", "grade", "remarks"],
    "fields_generalised": ["date_of_birth->birth_year"],
    "subject_ref": None,
    "subject_commitment": "08d8157ea75c31049ec2ecf8ee33d521701066e4c23378334e6f9546e634c411",
    "fsc_transaction_id": "01a24dc7-627d-7242-8524-6dfb77a36d96",
    "prev_hash": "4a8f524bd0155ec0fed5aedb812abd1e1f1feb768580db1aee2dbe1d2c3136ba",
    "hash": "4ff79947aa90c28b669cb6405fc49720d8ea9985beb5d3ad6ace2458eaa213a4",
}
"""An accepted send as its sender (a partner) reads it: no subject_ref, a commitment."""

REFUSED_EVENT = {
    **SEND_EVENT,
    "seq": 1343,
    "at": "2026-12-01T08:44:51.090117Z",
    "exchange_id": None,
    "message_type": "homebound_report",
    "purpose": None,
    "legal_basis": None,
    "decision": "denied",
    "reason": "route_not_allowed",
    "fields_forwarded": [],
    "fields_dropped": [],
    "fields_generalised": [],
    "subject_commitment": "b3a2f01c5d7e9a8b6c4d2e0f1a3b5c7d9e8f6a4b2c0d1e3f5a7b9c8d6e4f2a1b",
    "fsc_transaction_id": "01a24dc7-8a10-7c3e-b5d2-41f0e9c6a7b8",
    "prev_hash": "4ff79947aa90c28b669cb6405fc49720d8ea9985beb5d3ad6ace2458eaa213a4",
    "hash": "9c1e4b7a2d5f8e0b3a6c9d2f5e8b1a4c7d0e3f6a9b2c5d8e1f4a7b0c3d6e9f2a",
}
"""The next event: a send the route policy refused (nothing stored, the reason audited)."""

OPERATOR_EVENT = {
    **SEND_EVENT,
    "subject_ref": "AbK8YCfcnDtDXQAbix0jVhgD-XGeBCR4LQ",
    "subject_opening": "5f0e3c2a9b8d7e6f1a4c3b2d0e9f8a7b",
}
"""The same send as the operator's readers see it: the audit-domain pseudonym and the
opening of the commitment."""

EXAMPLES = {
    "AuditEventPage": example(
        "A partner's page: an accepted send and a refused one; more pages follow",
        {"items": [SEND_EVENT, REFUSED_EVENT], "next_cursor": "YTEzNDM"},
    ),
    "AuditEventPageOperator": example(
        "The operator's view of the same send, last page",
        {"items": [OPERATOR_EVENT], "next_cursor": None},
    ),
    "SubjectReportByBsn": example(
        "The demo child's events, by BSN (never in the URL)",
        {"subject": {"bsn": DEMO_BSN}, "limit": 50},
    ),
    "SubjectReportByPseudonym": example(
        "By the caller's own pseudonym, the next page",
        {"subject": {"pseudonym": SWV_PSEUDONYM}, "cursor": "YTEzNDI", "limit": 50},
    ),
    "AuditExportCsv": example(
        "CSV: a header row, nested fields with dots, lists joined with ';'",
        "seq,at,action,actor.org,actor.client_id,actor.user,exchange_id,message_type,sender,"
        "recipient,purpose,legal_basis.type,legal_basis.citation,legal_basis.consent_id,"
        "consent_id,decision,reason,fields_forwarded,fields_dropped,fields_generalised,"
        "subject_ref,subject_commitment,subject_opening,fsc_transaction_id,prev_hash,hash\n"
        "1343,2026-12-01T08:44:51.090117Z,exchange.send,00000001001234567000,regenboog-sis,,,"
        "homebound_report,00000001001234567000,00000001002345678000,,,,,,denied,"
        "route_not_allowed,,,,,b3a2f01c5d7e9a8b6c4d2e0f1a3b5c7d9e8f6a4b2c0d1e3f5a7b9c8d6e4f2a1b,"
        ",01a24dc7-8a10-7c3e-b5d2-41f0e9c6a7b8,"
        "4ff79947aa90c28b669cb6405fc49720d8ea9985beb5d3ad6ace2458eaa213a4,"
        "9c1e4b7a2d5f8e0b3a6c9d2f5e8b1a4c7d0e3f6a9b2c5d8e1f4a7b0c3d6e9f2a\n",
    ),
    "AuditExportJsonLines": example(
        "JSON Lines: one event a line",
        json.dumps(REFUSED_EVENT, separators=(",", ":"), sort_keys=True) + "\n",
    ),
    "AuditVerification": example(
        "The chain is whole and every checkpoint verifies",
        {
            "valid": True,
            "entries": 2148,
            "head_hash": "21bca88b4825b371999ccc5f6f83c231d9e12c7b77925a5d11338f00eb9ca0f5",
            "first_invalid_seq": None,
            "checkpoint": CHECKPOINT_2148,
            "invalid_checkpoints": [],
            "problem": None,
            "verified_at": "2026-12-01T09:15:02.615901Z",
        },
    ),
    "AuditCheckpointState": example(
        "The newest checkpoint; no gap, none ever",
        {"checkpoint": CHECKPOINT_2148, "gap": None, "rewinds": []},
    ),
    "AuditCheckpointStateRewound": example(
        "After a database restore: the log (2048 entries) is shorter than the published "
        "checkpoint (2148); proofs answer 503 until the operator acknowledges the gap",
        {
            "checkpoint": None,
            "gap": {
                "kind": "rewound",
                "published_size": 2148,
                "published_root": ROOT_2148,
                "log_size": 2048,
                "published_checkpoint": CHECKPOINT_2148,
            },
            "rewinds": [],
        },
    ),
    "AuditInclusionProof": example(
        "Entry 1342 in the tree of the checkpoint of size 2048",
        {
            "seq": 1342,
            "leaf_index": 1341,
            "leaf_hash": "19a7637787ddb1d14d12696ffb3227515261f8838253fd66ce43730e6326df4c",
            "tree_size": 2048,
            "root_hash": ROOT_2048,
            "audit_path": [
                "bf00438efce6cc151c43b7fbdceeaba5ca4e8ede9e3af9b452002ae6ffc14dce",
                "020ecd9d4fbbb5f47a72780d5ade1e73ee7b3df11aa67ac4d4af283ec971c685",
                "f098fc2c055fc92892854142249e93aacdeff97ef53f30e2d4bf23af1af47e97",
                "7eef7ea249eafa90633a526f8b766acc9bc89c250c83a0759ca899fbd406fa03",
                "0eb8e5a0bbb5b0524fee46300bb5ce22b27956bdc82024b9e6a275d89a596a3c",
                "39e0d6df4ce4c11141bfa13077797c471c59496d60e8dd26d5d6da5b1b3275ef",
                "e1f232f54e84cb4212f625824fb57e9dd43b975e61b9b489453b33f089f0c9b9",
                "92bc0cbad2fa5f7e3e78e75bcf2f12f2d29c39da5c67854915907b35f754b689",
                "c02c202f64013c872bd8ae8f4fb67bdda79603e00b30d0a5ce7273f25ea398db",
                "85e94de14c37583314e0b8d47fe8d96ac3eb68935139e265d7b61eb42b8dae88",
                "d3994b2a86be399b5979add57a70db89440ce8fcd657e1618f55893726740ba2",
            ],
            "checkpoint": CHECKPOINT_2048,
        },
    ),
    "AuditConsistencyProof": example(
        "From the checkpoint of size 2048 to that of size 2148",
        {
            "from_size": 2048,
            "to_size": 2148,
            "from_root": ROOT_2048,
            "to_root": ROOT_2148,
            "proof": [
                "4127d65245439e395979f7e54049ddc41d8615ea3ca7054280b285f9497468a6",
                "4d9a1c9df57e3788b3c22610f77fe14099d197b687d9e2054939bced4f24ad06",
                "f1bda250d2ac5712d0ebd4a55cccbc39ebdc6d90968d6dd5f63d81b6058f33c3",
                "d6b76cef6279651f057f60de196120e7065a1f9aef45fad291fd07358fcac928",
                "4418ae8904de66f519278a15394e145b41e793442af06d6b47377d9adea53716",
            ],
            "from_checkpoint": CHECKPOINT_2048,
            "to_checkpoint": CHECKPOINT_2148,
        },
    ),
    "AuditKey": example(
        "The Ed25519 key of the checkpoints",
        {
            "key_id": KEY_ID,
            "algorithm": "Ed25519",
            "public_key": "ZoIh3P7S2YxN4a1NYHKIJsbiQH8YB+lIgBbovo5xLA8=",
            "vkey": f"{ORIGIN}+{KEY_ID}+AWaCIdz+0tmMTeGtTWByiCbG4kB/GAfpSIAW6L6OcSwP",
            "name": ORIGIN,
        },
    ),
    "Problem.invalid_parameter.from": problem_example(
        400,
        "invalid_parameter",
        "from: Not a valid date and time.",
        "/api/v1/audit/events",
        {"from": ["Not a valid date and time."]},
    ),
    "Problem.invalid_parameter.tree_size": problem_example(
        400,
        "invalid_parameter",
        "tree_size: Not the size of a signed checkpoint.",
        "/api/v1/audit/proof/1342",
        {"tree_size": ["Not the size of a signed checkpoint."]},
    ),
    "Problem.not_found.audit_entry": problem_example(
        404, "not_found", "No audit entry with this sequence number.", "/api/v1/audit/proof/99999"
    ),
    "Problem.validation_failed.subject_report": problem_example(
        422,
        "validation_failed",
        "The request body is not valid.",
        "/api/v1/audit/subject-report",
        {"subject.bsn": ["is not a valid BSN"]},
    ),
}

UNAUTHORISED = problem_response("missing_token or invalid_token")
FORBIDDEN = problem_response("insufficient_scope")
BAD_PARAMETER = problem_response(
    "invalid_parameter", "Problem.invalid_parameter.from", "Problem.invalid_parameter"
)
SECURITY = [{"oauth2": ["audit:read"]}]
REWOUND = problem_response(
    "audit_log_rewound: a database restore rewound the log below a checkpoint the gateway "
    "had published; proofs resume after the operator acknowledges the gap"
)


def _query(
    name: str, schema: dict, description: str = "", required: bool = False, example=None
) -> dict:
    parameter = {"name": name, "in": "query", "required": required, "schema": schema}
    if description:
        parameter["description"] = description
    if example is not None:
        parameter["example"] = example
    return parameter


def _json(ref: str, *example_names: str) -> dict:
    media: dict = {"schema": {"$ref": f"#/components/schemas/{ref}"}}
    if example_names:
        media["examples"] = examples(*example_names)
    return {"application/json": media}


TIME = {"type": "string", "format": "date-time"}
PAGING = [
    _query("cursor", {"type": "string"}, example="YTEzNDI"),
    _query("limit", {"type": "integer", "minimum": 1, "maximum": 500}, example=100),
]
FROM = _query(
    "from", TIME, "inclusive; RFC 3339 with an offset", example="2026-12-01T00:00:00+01:00"
)
TO = _query("to", TIME, "exclusive; RFC 3339 with an offset", example="2026-12-02T00:00:00+01:00")


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
            FROM,
            TO,
            _query(
                "org",
                {"type": "string", "pattern": "^[0-9]{20}$"},
                "events where this organisation is actor, sender or recipient",
                example=LEERPLICHT,
            ),
            _query("action", {"type": "string"}, example="exchange.send"),
            _query("messageType", {"type": "string"}, example="absence_report"),
            _query("decision", {"type": "string", "enum": ["allowed", "denied"]}, example="denied"),
            *PAGING,
        ],
        _event_page(),
    )


def _event_page() -> dict:
    return {
        "description": "A page of events",
        "content": _json("AuditEventPage", "AuditEventPage", "AuditEventPageOperator"),
    }


def _subject_report() -> dict:
    return {
        "post": {
            "summary": "Subject access report: one child's events, by BSN in the body",
            "operationId": "auditSubjectReport",
            "tags": ["audit"],
            "security": SECURITY,
            "requestBody": {
                "required": True,
                "content": _json(
                    "SubjectReportRequest", "SubjectReportByBsn", "SubjectReportByPseudonym"
                ),
            },
            "responses": {
                "200": _event_page(),
                "400": problem_response("invalid_json or invalid_parameter"),
                "401": UNAUTHORISED,
                "403": FORBIDDEN,
                "413": problem_response("payload_too_large"),
                "415": problem_response("unsupported_media_type"),
                "422": problem_response(
                    "validation_failed", "Problem.validation_failed.subject_report"
                ),
            },
        }
    }


def _export() -> dict:
    return _get(
        "Export the events the caller may see, streamed as CSV or JSON Lines",
        "exportAuditEvents",
        [
            _query(
                "format", {"type": "string", "enum": ["csv", "jsonl"]}, required=True, example="csv"
            ),
            FROM,
            TO,
        ],
        {
            "description": "The events, one a line",
            "content": {
                "text/csv": {"schema": {"type": "string"}, "examples": examples("AuditExportCsv")},
                "application/x-ndjson": {
                    "schema": {"type": "string"},
                    "examples": examples("AuditExportJsonLines"),
                },
            },
        },
    )


def _verify() -> dict:
    return _get(
        "Verify the hash chain and every signed checkpoint",
        "verifyAuditLog",
        [],
        {"description": "The outcome", "content": _json("AuditVerification", "AuditVerification")},
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
                "example": 1342,
            },
            _query(
                "treeSize",
                {"type": "integer", "minimum": 1},
                "the size of a signed checkpoint; default the newest",
                example=2048,
            ),
        ],
        {
            "description": "The proof",
            "content": _json("AuditInclusionProof", "AuditInclusionProof"),
        },
        **{
            "400": problem_response(
                "invalid_parameter",
                "Problem.invalid_parameter.tree_size",
                "Problem.invalid_parameter",
            ),
            "404": problem_response(
                "not_found: no entry with this seq, or (for a partner) an entry of "
                "another organisation",
                "Problem.not_found.audit_entry",
            ),
            "409": problem_response("audit_chain_invalid"),
            "503": REWOUND,
        },
    )


def _consistency_proof() -> dict:
    return _get(
        "Consistency proof between two signed checkpoints (RFC 9162 2.1.4)",
        "auditConsistencyProof",
        [
            _query("fromSize", {"type": "integer", "minimum": 1}, required=True, example=2048),
            _query("toSize", {"type": "integer", "minimum": 1}, required=True, example=2148),
        ],
        {
            "description": "The proof",
            "content": _json("AuditConsistencyProof", "AuditConsistencyProof"),
        },
        **{"409": problem_response("audit_chain_invalid"), "503": REWOUND},
    )


def _checkpoint_state() -> dict:
    return _get(
        "The newest signed checkpoint, or the gap after a database restore",
        "getAuditCheckpoint",
        [],
        {
            "description": "The checkpoint, or the gap and no checkpoint",
            "content": _json(
                "AuditCheckpointState", "AuditCheckpointState", "AuditCheckpointStateRewound"
            ),
        },
        **{"409": problem_response("audit_chain_invalid")},
    )


def _key() -> dict:
    return {
        "get": {
            "summary": "The public key that signs the audit checkpoints",
            "operationId": "getAuditKey",
            "tags": ["audit"],
            "security": [],
            "responses": {
                "200": {"description": "The key", "content": _json("AuditKey", "AuditKey")}
            },
        }
    }


PATHS = {
    "/api/v1/audit/events": _event_search,
    "/api/v1/audit/subject-report": _subject_report,
    "/api/v1/audit/export": _export,
    "/api/v1/audit/verify": _verify,
    "/api/v1/audit/proof/{seq}": _inclusion_proof,
    "/api/v1/audit/consistency": _consistency_proof,
    "/api/v1/audit/checkpoint": _checkpoint_state,
    "/api/v1/audit/key": _key,
}
"""Each path and the function that describes its operations (fresh dicts on every call)."""


@path_source
def audit_paths(spec: APISpec) -> None:
    for name, component in COMPONENTS.items():
        if name not in spec.components.schemas:
            spec.components.schema(name, component)
    for name, component in EXAMPLES.items():
        spec.components.example(name, component)
    for path, operations in PATHS.items():
        spec.path(path=path, operations=operations())
