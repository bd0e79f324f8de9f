"""A SoftHSM token for the tests (Debian's softhsm2, installed by ``make test``).

One token per test process: SoftHSM reads ``SOFTHSM2_CONF`` once, when the PKCS#11 library
is initialised, so every test of the process shares one token directory and one token, and
each test keeps its keys apart with its own label prefix (``GATEWAY_PKCS11_LABEL_PREFIX``).
Server processes started by e2e tests get the same ``SOFTHSM2_CONF`` in their environment.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from gateway.config import Pkcs11Settings

MODULE = Path("/usr/lib/softhsm/libsofthsm2.so")
LABEL = "gateway-tests"
USER_PIN = "264531"
SO_PIN = "918273"  # the security officer's PIN: initialises the token, never used by the gateway


@dataclass(frozen=True)
class SoftToken:
    conf: Path
    label: str
    pin_file: Path

    def env(self, prefix: str) -> dict[str, str]:
        """The settings a gateway process needs to keep its keys on this token."""
        return {
            "SOFTHSM2_CONF": str(self.conf),
            "GATEWAY_PKCS11_MODULE": str(MODULE),
            "GATEWAY_PKCS11_TOKEN": self.label,
            "GATEWAY_PKCS11_PIN_FILE": str(self.pin_file),
            "GATEWAY_PKCS11_LABEL_PREFIX": prefix,
        }

    def settings(self, prefix: str, purposes=("token", "push", "receipt", "audit")):
        return Pkcs11Settings(MODULE, self.label, USER_PIN, tuple(purposes), prefix)


def new_prefix() -> str:
    return f"t{uuid.uuid4().hex[:8]}/"


@cache
def soft_token() -> SoftToken:
    """Initialise the process's token (once) and point SoftHSM at it."""
    if not MODULE.exists() or shutil.which("softhsm2-util") is None:
        raise RuntimeError("SoftHSM is missing: apt-get install softhsm2 (make test does)")
    directory = Path(tempfile.mkdtemp(prefix="softhsm-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    (directory / "tokens").mkdir()
    conf = directory / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {directory / 'tokens'}\n"
        "objectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n"
    )
    pin_file = directory / "user.pin"
    pin_file.write_text(USER_PIN + "\n")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    subprocess.run(
        ["softhsm2-util", "--init-token", "--free", "--label", LABEL,
         "--pin", USER_PIN, "--so-pin", SO_PIN],
        env={**os.environ, "SOFTHSM2_CONF": str(conf)},
        check=True,
        capture_output=True,
    )
    return SoftToken(conf, LABEL, pin_file)
