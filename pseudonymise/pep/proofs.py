"""Non-interactive zero-knowledge proofs that bind what a partner sends to what it encrypted.

Why: in polymorphic mode the gateway never learns who a child is, yet it must check consent,
match signals and reference the child in the audit log. It does so on a *link tag*
``t*M``: ``M`` the child's element, ``t`` the link secret that partners hold and the gateway
does not (so it cannot try candidate BSNs against a tag). A sender could attach the tag of
another child than the one it encrypted, and so slip past a consent check; the proofs make
that impossible:

- :func:`prove_link` / :func:`verify_link`: the ciphertext ``(b, c)`` under the master key
  ``Y`` encrypts ``M`` and ``tag = t*M`` for the ``t`` with ``T = t*G`` (a proof of linear
  relations, Maurer 2009, made non-interactive with Fiat-Shamir). Witnesses ``r`` (the
  encryption randomness), ``t`` and ``u = t*r``::

      b = r*G     T = t*G     tag = t*c - u*Y     O = u*G - t*b

- :func:`prove_equal` / :func:`verify_equal`: two ciphertexts under the recipient key
  ``Y_R = y_R*G`` encrypt the same element (Chaum-Pedersen on their difference): a partner
  replying "by its pseudonym" proves it means the child of an exchange it received.

Both hash a context string, the statement and the commitments (SHA-512, reduced), so a proof
cannot be moved to another statement. Proofs are the challenge followed by the responses.
"""

from __future__ import annotations

from pseudonymise.pep import group
from pseudonymise.pep.elgamal import ElGamal
from pseudonymise.pep.errors import EncodingError, ProofError

LINK_PROOF_BYTES = 4 * group.SCALAR_BYTES
EQUALITY_PROOF_BYTES = 2 * group.SCALAR_BYTES
_LINK_LABEL = b"thuiszitterspact/pep/link-proof/v1"
_EQUAL_LABEL = b"thuiszitterspact/pep/equality-proof/v1"


def _split(proof: bytes, count: int) -> list[bytes]:
    if type(proof) is not bytes or len(proof) != count * group.SCALAR_BYTES:
        raise ProofError()
    try:
        return [group.scalar(proof[i : i + 32]) for i in range(0, len(proof), 32)]
    except EncodingError:
        raise ProofError() from None


def link_tag(message: bytes, link_secret: bytes) -> bytes:
    """``t*M``: the child's tag, the same for every encryption of the same child."""
    return group.mul(link_secret, message)


def prove_link(
    ciphertext: ElGamal, randomness: bytes, link_secret: bytes, tag: bytes, context: bytes
) -> bytes:
    """Prove that ``tag`` is ``t*M`` for the ``M`` that ``ciphertext`` (made with ``randomness``)
    encrypts. ``context`` binds the proof to its use (e.g. the sender's OIN)."""
    r, t = randomness, link_secret
    u = group.scalar_mul(t, r)
    link_public = group.mul_base(t)
    a_r, a_t, a_u = group.random_scalar(), group.random_scalar(), group.random_scalar()
    commitments = (
        group.mul_base(a_r),
        group.mul_base(a_t),
        group.sub(group.mul(a_t, ciphertext.c), group.mul(a_u, ciphertext.y)),
        group.sub(group.mul_base(a_u), group.mul(a_t, ciphertext.b)),
    )
    e = _link_challenge(ciphertext, link_public, tag, commitments, context)
    z_r = group.scalar_add(a_r, group.scalar_mul(e, r))
    z_t = group.scalar_add(a_t, group.scalar_mul(e, t))
    z_u = group.scalar_add(a_u, group.scalar_mul(e, u))
    return e + z_r + z_t + z_u


def verify_link(
    ciphertext: ElGamal, link_public: bytes, tag: bytes, proof: bytes, context: bytes
) -> None:
    """Raise ``ProofError`` unless ``proof`` shows ``tag = t*M`` (``T = t*G``) for this ``M``."""
    e, z_r, z_t, z_u = _split(proof, 4)
    try:
        group.element(tag)  # one spelling per tag: the gateway keys decisions on its bytes
        commitments = (
            group.sub(group.mul_base(z_r), group.mul(e, ciphertext.b)),
            group.sub(group.mul_base(z_t), group.mul(e, link_public)),
            group.sub(
                group.sub(group.mul(z_t, ciphertext.c), group.mul(z_u, ciphertext.y)),
                group.mul(e, tag),
            ),
            group.sub(group.mul_base(z_u), group.mul(z_t, ciphertext.b)),
        )
    except EncodingError:
        raise ProofError() from None
    if _link_challenge(ciphertext, link_public, tag, commitments, context) != e:
        raise ProofError()


def _link_challenge(
    ciphertext: ElGamal, link_public: bytes, tag: bytes, commitments: tuple, context: bytes
) -> bytes:
    return group.hash_to_scalar(
        _LINK_LABEL, context, ciphertext.to_bytes(), link_public, tag, *commitments
    )


def _difference(new: ElGamal, old: ElGamal) -> tuple[bytes, bytes]:
    if new.y != old.y:
        raise ProofError()
    return group.sub(new.b, old.b), group.sub(new.c, old.c)


def prove_equal(new: ElGamal, old: ElGamal, secret_key: bytes, context: bytes) -> bytes:
    """Prove, with the recipient's secret key, that ``new`` and ``old`` encrypt the same element."""
    delta_b, delta_c = _difference(new, old)
    if delta_b == group.IDENTITY:
        raise ProofError("Rerandomise the ciphertext before proving equality.")
    a = group.random_scalar()
    commitments = (group.mul_base(a), group.mul(a, delta_b))
    e = group.hash_to_scalar(_EQUAL_LABEL, context, new.to_bytes(), old.to_bytes(), *commitments)
    return e + group.scalar_add(a, group.scalar_mul(e, secret_key))


def verify_equal(new: ElGamal, old: ElGamal, proof: bytes, context: bytes) -> None:
    """Raise ``ProofError`` unless ``proof`` shows both ciphertexts hold the same element."""
    e, z = _split(proof, 2)
    delta_b, delta_c = _difference(new, old)
    if delta_b == group.IDENTITY or delta_c == group.IDENTITY:
        raise ProofError()
    try:
        commitments = (
            group.sub(group.mul_base(z), group.mul(e, new.y)),
            group.sub(group.mul(z, delta_b), group.mul(e, delta_c)),
        )
    except EncodingError:
        raise ProofError() from None
    challenge = group.hash_to_scalar(
        _EQUAL_LABEL, context, new.to_bytes(), old.to_bytes(), *commitments
    )
    if challenge != e:
        raise ProofError()
