"""Fuzz the pseudonym decoder: ``DomainPseudonymiser.reveal`` (and ``version_of``, ``translate``).

Input layout: the first byte picks the domain, the rest (UTF-8; invalid bytes become lone
surrogates) is the pseudonym. The seed corpus holds genuine pseudonyms of this key ring, so
the fuzzer starts from strings that decrypt and mutates them.

Checks: ``reveal`` returns a ``Bsn`` or raises ``UnknownPseudonymError`` (``UnknownKeyVersionError``
is one) with its fixed message, never quoting the input, and without a chained cause; a revealed
pseudonym is the one canonical string for that BSN, domain and key version (re-issuing it gives
the same string back, so no second spelling of a pseudonym decrypts); it does not reveal in
another domain; ``translate`` to another domain and back returns the same BSN; ``version_of``
agrees with ``reveal`` about which strings are well-formed.
"""

from __future__ import annotations

from harness import FuzzTarget, instrumented, main

with instrumented("pseudonymise"):
    from pseudonymise.errors import UnknownKeyVersionError, UnknownPseudonymError
    from pseudonymise.keys import KeyRing
    from pseudonymise.pseudonym import DomainPseudonymiser

# Fixed, public test secrets: the fuzzer needs a ring to decrypt its seed corpus with.
KEYRING = KeyRing({1: b"fuzz-master-secret-version-1-xxxxxxxx", 2: b"fuzz-master-secret-v2-" * 2})
PSEUDONYMISER = DomainPseudonymiser(KEYRING)
DOMAINS = (
    "pseudonym:00000001001234567000",
    "pseudonym:00000001002345678000",
    "audit",
    "consent",
    "match",
)
MESSAGES = {UnknownPseudonymError.default_message, UnknownKeyVersionError.default_message}


def split(data: bytes) -> tuple[str, str]:
    domain = DOMAINS[data[0] % len(DOMAINS)] if data else DOMAINS[0]
    return domain, data[1:].decode("utf-8", "surrogateescape")


def check(data: bytes) -> None:
    domain, pseudonym = split(data)
    other = DOMAINS[(DOMAINS.index(domain) + 1) % len(DOMAINS)]
    try:
        version = PSEUDONYMISER.version_of(pseudonym)
    except UnknownPseudonymError:
        version = None
    try:
        bsn = PSEUDONYMISER.reveal(pseudonym, domain)
    except UnknownPseudonymError as refused:
        assert str(refused) in MESSAGES, "the refusal carries more than its fixed message"
        assert refused.__suppress_context__ or refused.__context__ is None, (
            "the refusal chains the underlying error (and with it the input)"
        )
        return
    assert version is not None, "version_of refused a pseudonym that reveal accepted"
    assert PSEUDONYMISER.pseudonymise(bsn, domain, version) == pseudonym, "not canonical"
    try:
        PSEUDONYMISER.reveal(pseudonym, other)
    except UnknownPseudonymError:
        pass
    else:
        raise AssertionError("a pseudonym revealed in a domain it was not issued in")
    translated = PSEUDONYMISER.translate(pseudonym, domain, other)
    assert PSEUDONYMISER.reveal(translated, other) == bsn, "translate lost the subject"


def seed_inputs() -> list[bytes]:
    """Genuine pseudonyms, one per domain and key version (used to write the seed corpus)."""
    from pseudonymise.bsn import Bsn

    inputs = []
    for index, domain in enumerate(DOMAINS):
        for version in KEYRING.versions:
            pseudonym = PSEUDONYMISER.pseudonymise(Bsn("111222333"), domain, version)
            inputs.append(bytes([index]) + pseudonym.encode("ascii"))
    return inputs


TARGET = FuzzTarget("pseudonym", check, expected=(UnknownPseudonymError,), max_len=256)

if __name__ == "__main__":
    main(TARGET)
