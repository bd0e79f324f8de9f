"""The one problem table (``gateway.errors.TABLE``) and its Dutch vocabulary.

Every problem code the gateway can answer has a Dutch text in ``gateway.web.vocabulary``: the
codes are found in the exception classes the table knows (and all their subclasses), in the
codes the production code passes when it raises (``code="..."``, ``...Refusal(status,
"code", ...)``), in Werkzeug's HTTP errors, and in the OpenAPI document's problem answers.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from pathlib import Path

import pytest

from gateway import errors
from gateway.web import vocabulary

ROOT = Path(__file__).resolve().parents[3]
PACKAGES = ("gateway", "consent", "schemas", "pseudonymise")


def _import_everything() -> None:
    for name in PACKAGES:
        package = importlib.import_module(name)
        for info in pkgutil.walk_packages(package.__path__, f"{name}."):
            if ".migrations." in info.name or info.name.endswith(("__main__", ".wsgi")):
                continue
            importlib.import_module(info.name)


def _subclasses(cls: type) -> set[type]:
    found = {cls}
    for sub in cls.__subclasses__():
        found |= _subclasses(sub)
    return found


def class_codes() -> set[str]:
    """The class-level ``code`` of every exception class the table answers."""
    _import_everything()
    codes = {entry.code for entry in errors.TABLE.values() if entry.code}
    for cls in errors.TABLE:
        for sub in _subclasses(cls):
            if sub.__module__.split(".")[0] not in PACKAGES or sub.__module__.startswith("tests"):
                continue
            entry = errors.entry_of(sub)
            code = entry.code or getattr(sub, "code", None)
            if isinstance(code, str):
                codes.add(code)
    return codes


def raised_codes() -> set[str]:
    """Codes given where an exception is raised: ``code="..."`` or ``Refusal(422, "...")``."""
    codes = set()
    for name in PACKAGES:
        for path in (ROOT / name).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call):
                    continue
                values = [kw.value for kw in node.keywords if kw.arg == "code"]
                callee = getattr(node.func, "id", None) or getattr(node.func, "attr", "")
                if callee.endswith("Refusal") and len(node.args) >= 2:
                    values.append(node.args[1])
                codes |= {
                    value.value
                    for value in values
                    if isinstance(value, ast.Constant) and isinstance(value.value, str)
                }
    return codes


def openapi_codes(document: dict) -> set[str]:
    """The codes the OpenAPI document names in its problem answers' descriptions."""
    codes = set()
    for operations in document["paths"].values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            for answer in operation.get("responses", {}).values():
                if "application/problem+json" not in answer.get("content", {}):
                    continue
                named = re.sub(r"\([^)]*\)", "", answer["description"]).split(":")[0]
                codes |= set(re.findall(r"\b[a-z]+(?:_[a-z0-9]+)+\b", named))
    return codes


def test_every_code_of_the_table_has_a_dutch_text(client):
    document = client.get("/api/v1/openapi.json").get_json()
    codes = (
        class_codes()
        | raised_codes()
        | openapi_codes(document)
        | set(errors.HTTP_CODES.values())
        | {"internal_error", "bad_request"}
    )
    missing = sorted(code for code in codes if code not in vocabulary.TEXTS)
    assert missing == []


def test_the_table_answers_a_domain_exception_with_its_class_code():
    from consent.errors import WithdrawNotAllowedError
    from schemas.errors import InvalidParameterError

    answer = errors.answer_of(WithdrawNotAllowedError("not yours", {"role": ["no"]}))
    assert (answer.status, answer.code, answer.detail) == (
        403,
        "consent_withdraw_not_allowed",
        "not yours",
    )
    assert answer.errors == {"role": ["no"]}
    answer = errors.answer_of(InvalidParameterError({"cursor": ["bad"]}))
    assert (answer.status, answer.code) == (400, "invalid_parameter")
    assert errors.answer_of(RuntimeError("a bug")) is None


@pytest.mark.parametrize("code", sorted(vocabulary.TEXTS))
def test_the_texts_are_short_dutch_sentences(code):
    text = vocabulary.TEXTS[code]
    assert text[:1].isupper() and text.endswith(".") and len(text) < 200
