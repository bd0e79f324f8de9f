"""Push delivery (API.md section 4): the ``gateway worker`` process and the outbox it drains.

The stored ``messages`` row is the outbox entry (see migration ``0005_delivery``): a worker
claims due rows for recipients with a ``delivery_url`` (:mod:`.outbox`), POSTs the inbox-item
JSON with a detached-JWS ``Gateway-Signature`` (:mod:`.item`, :mod:`.signing`, :mod:`.push`),
and records the result with its audit event in one transaction. Failures are retried with
exponential backoff and jitter (:mod:`.backoff`) until the attempts run out; then the message
is dead-lettered, listable and replayable (:mod:`.replay`).
"""
