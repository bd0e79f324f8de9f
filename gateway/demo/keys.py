"""Key pairs for the demo clients of ``deploy/demo-bootstrap.yaml``.

The bootstrap file refers to public JWKS files under ``instance/demo/``; the private JWKs beside
them let the example client and ``gateway demo`` sign client assertions. They are generated on
the machine that runs the sandbox and never committed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from joserfc.jwk import ECKey

DEMO_CLIENTS = (
    "regenboog-sis",
    "swv-groningen",
    "ggd-jgz",
    "wij-cases",
    "leerplicht-groningen",
    "operator-console",
)


def ensure_demo_keys(directory: Path) -> list[str]:
    """Create missing key pairs; return the client ids that got a new one."""
    directory.mkdir(parents=True, exist_ok=True)
    created = []
    for client_id in DEMO_CLIENTS:
        private_path = directory / f"{client_id}.private.jwk.json"
        public_path = directory / f"{client_id}.jwks.json"
        if private_path.exists() and public_path.exists():
            continue
        parameters = {"kid": f"{client_id}-1", "alg": "ES256", "use": "sig"}
        key = ECKey.generate_key("P-256", parameters=parameters)
        private = key.as_dict(private=True)
        public = key.as_dict(private=False)
        fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(private, handle, indent=2)
        public_path.write_text(json.dumps({"keys": [public]}, indent=2))
        created.append(client_id)
    return created
