"""The audit log: an append-only, hash-chained record of every decision, and a verifiable log
on top of it (API.md section 8).

Modules: ``log`` (appending: the chain), ``merkle`` (RFC 9162 hashing and proofs), ``tree``
(the stored tree nodes), ``note`` (C2SP signed notes and checkpoints), ``checkpoints`` (when
and how checkpoints are signed), ``verify`` (the streaming verifier), ``proofs``, ``search``
and ``export`` (reading), ``service`` (the readers' service, audited), ``views``/``openapi``/
``area`` (HTTP).
"""
