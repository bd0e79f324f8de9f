"""``gateway keys rotate-master``: add a new version of the master secret.

The new version (``master/v<N>.key``) becomes the current one for everything derived from the
master secret from then on: new pseudonyms (recipients see a new string for the same child),
sealing of new payloads and consents, audit subject references. Older versions stay in the
ring, so pseudonyms, sealed payloads and consents made under them keep working.

Processes read the master ring when they start; they do not watch ``master/`` (unlike the
signing keys). So after this command, reload every process, and the delivery workers first,
because a process that does not know the new version cannot open payloads sealed with it:
``gateway worker`` (SIGTERM, start again; it stops gracefully), then the API processes
(``kill -HUP`` of the gunicorn master replaces its workers gracefully; or a rolling restart of
the replicas). Until every API process has reloaded, a message sealed by a reloaded process may
reach an inbox pull served by one that has not; keep the reload window short. See
docs/drills.md (rotation drill).
"""

from __future__ import annotations

import click

from . import context
from .keys import keys_group


@keys_group.command("rotate-master")
def keys_rotate_master() -> None:
    """Add master secret version N+1 (older versions stay readable); then reload processes."""
    store = context.keystore(context.settings())
    previous = store.keyring.current_version
    version = store.rotate_master()
    click.echo(
        f"new master secret version {version} (versions {previous} and older stay readable); "
        "reload every process now: `gateway worker` first (SIGTERM + start), then the API "
        "(kill -HUP the gunicorn master, or restart replicas one by one)"
    )
