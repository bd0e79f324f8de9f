"""Fuzz the SAML response intake: ``gateway.saml.hardening.inspect_response``.

``inspect_response`` is what ``POST /saml/acs`` runs on the ``SAMLResponse`` form field before
pysaml2 and xmlsec1 see it: base64, size, defusedxml parsing (no DTD, entities or external
references), and the structural rules against signature wrapping, comment injection,
unsolicited and misdirected responses. Input layout: if the first byte is even, the rest is
the XML and the target base64-encodes it (so the fuzzer mutates XML, not base64); if odd, the
rest is the raw form field (UTF-8; invalid bytes become lone surrogates).

Checks: it returns ``ResponseFacts`` or raises a ``SamlError`` (``MalformedMessage``,
``RefusedResponse``), never ``ParseError``, ``UnicodeError``, ``RecursionError`` or anything
else (a 500 on an unauthenticated endpoint); what it accepts is a ``samlp:Response`` to our ACS
with an ``InResponseTo``, one assertion, and the XML it reports is the XML it was given.

Not fuzzed here: pysaml2's own parsing and xmlsec1's signature check after these checks (each
input would cost an xmlsec1 process); the security corpus in ``tests/security`` covers them.
"""

from __future__ import annotations

import base64

from harness import FuzzTarget, instrumented, main

with instrumented("gateway"):
    from gateway.saml.errors import SamlError
    from gateway.saml.hardening import SAML, SAMLP, inspect_response, parse

ACS_URL = "https://gateway.example.nl/saml/acs"


def check(data: bytes) -> None:
    if not data:
        return
    if data[0] % 2 == 0:
        xml = data[1:]
        field = base64.b64encode(xml).decode("ascii")
    else:
        xml = None
        field = data[1:].decode("utf-8", "surrogateescape")
    facts = inspect_response(field, ACS_URL)
    if xml is not None:
        assert facts.xml == xml, "the facts describe other XML than was posted"
    root = parse(facts.xml)
    assert root.tag == f"{SAMLP}Response" and root.get("Destination") == ACS_URL
    assert facts.in_response_to and facts.in_response_to == root.get("InResponseTo")
    assertions = root.findall(f"{SAML}Assertion")
    assert len(assertions) == 1 and facts.assertion_id == (assertions[0].get("ID") or "")


TARGET = FuzzTarget("saml", check, expected=(SamlError,), max_len=16384)

if __name__ == "__main__":
    main(TARGET)
