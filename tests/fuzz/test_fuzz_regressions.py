"""Regression tests for the bugs found while fuzzing, in code outside ``fuzz/``.

Each test states what the module promises (its own documented error) for one minimal input
that escaped with another exception when it was found (see docs/fuzzing.md, "Bugs found"). They
were strict xfails while the bugs were open; the owning areas have fixed them since.
"""

from __future__ import annotations

import base64
import time

import pytest

from gateway.bootstrap import BootstrapError, read_bootstrap
from gateway.oauth.assertions import AssertionVerifier
from gateway.oauth.errors import Refused
from gateway.strictjson import InvalidJsonError, loads

DEEP = "[" * 5000


def test_deeply_nested_assertion_header_is_refused():
    """assertion-json-recursion: was RecursionError, a 500 at /oauth/token."""
    header = base64.urlsafe_b64encode(DEEP.encode()).decode().rstrip("=")
    with pytest.raises(Refused):
        AssertionVerifier().read(f"{header}.e30.c2ln")


# strictjson-number-overflow-infinity: found by the strictjson target, fixed in
# gateway/strictjson.py (parse_float refuses +/-inf); kept as its regression test.
@pytest.mark.parametrize("body", [b'{"a": 1e999}', b'{"a": [-1e400]}', b'{"a": -0.5e1777}'])
def test_number_that_overflows_to_infinity_is_invalid_json(body):
    with pytest.raises(InvalidJsonError):
        loads(body)


# strictjson-quadratic-regex (issue 16): found by the strictjson_time target against the parser
# of f716d0b (crash file ``{\"fy``, pumped); fixed in gateway/strictjson.py. A 256 KiB body of
# this shape took minutes of one worker's GIL; linear, it takes milliseconds.
LIMIT = 256 * 1024


@pytest.mark.parametrize("body", [
    pytest.param(b'{"a": "' + b'\\"' * ((LIMIT - 7) // 2), id="unterminated-escaped-quotes"),
    pytest.param(b'{\\"fy' * (LIMIT // 5), id="pumped-crash-file"),
    pytest.param(b'\\"' * (LIMIT // 2), id="escaped-quotes-outside-a-string"),
])
def test_unterminated_escaped_quotes_are_refused_in_linear_time(body):
    assert len(body) <= LIMIT
    started = time.perf_counter()
    with pytest.raises(InvalidJsonError):
        loads(body)
    assert time.perf_counter() - started < 0.5


CLIENT = """organisations:
  - oin: "00000001001234567000"
    name: School
    type: school
    clients:
      - client_id: school-sis
        auth: private_key_jwt
{credentials}
        scopes: {scopes}
"""
JWKS = '        jwks: {keys: [{kty: OKP, crv: Ed25519, x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}'


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(DEEP, id="deep-nesting"),  # bootstrap-yaml-recursion
        pytest.param("d: \x18\n", id="control-character"),  # bootstrap-yaml-reader-error
        pytest.param("d: 2026-41-01\n", id="impossible-date"),  # bootstrap-yaml-bad-date
        pytest.param(CLIENT.format(credentials=JWKS, scopes="[{a: 1}]"),
                     id="scope-mapping"),  # bootstrap-unhashable-values
        pytest.param(CLIENT.format(credentials="        jwks: {keys: [{kty: EC, kid: [1]}]}",
                                   scopes="[exchange:send]"),
                     id="kid-list"),  # bootstrap-unhashable-values
        pytest.param(CLIENT.format(credentials='        jwks_file: "a\\0b"',
                                   scopes="[exchange:send]"),
                     id="jwks-file-nul"),  # bootstrap-jwks-file-nul
    ],
)
def test_bad_bootstrap_file_is_refused_with_problems(tmp_path, text):
    path = tmp_path / "bootstrap.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(BootstrapError) as refused:
        read_bootstrap(path, production=False)
    assert refused.value.problems
