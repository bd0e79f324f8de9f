"""File-writing helpers shared by the CA and organisation modules.

Private keys must never be readable by other users, not even briefly: the file is created
with mode 0600 from the start (not chmod-ed afterwards) and replaced atomically so that a
crash never leaves a half-written key behind.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

SECRET_FILE_MODE = 0o600
PUBLIC_FILE_MODE = 0o644


def write_file(path: Path, data: bytes, mode: int) -> Path:
    """Atomically write ``data`` to ``path`` with permission bits ``mode``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # mkstemp creates the file with mode 0600 already, so secrets are never exposed.
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, mode)
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    return path
