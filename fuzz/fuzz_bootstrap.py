"""Fuzz the bootstrap loader: ``read_bootstrap`` over a temporary file, and ``load_located``.

The input is the YAML file as written by an operator. Checks: ``load_located`` returns a
``LocatedDocument`` or raises ``YamlFileError``; ``read_bootstrap`` returns a ``BootstrapFile``
or raises ``BootstrapError`` (API.md section 12: "an invalid file is refused with line-precise
messages"), never a ``RecursionError``, ``TypeError`` or any other exception; every problem it
lists names the file, and a line that exists in the file; a file it accepts gives organisations
with 20-digit OINs and known types.

The loader reads the file that ``jwks_file`` names; here that read is confined to the work
directory (anything else, e.g. ``/dev/zero`` or a FIFO, gets ``PermissionError``, which the loader
reports like any unreadable file), so that the fuzzer cannot hang in a read the input asked for.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from harness import FuzzTarget, instrumented, main

with instrumented("gateway"):
    from gateway.bootstrap import BootstrapError, read_bootstrap
    from gateway.registry import rules
    from gateway.registry.yamlfile import LocatedDocument, YamlFileError, load_located

WORKDIR = Path(tempfile.mkdtemp(prefix="fuzz-bootstrap-"))
FILE = WORKDIR / "bootstrap.yaml"
(WORKDIR / "keys.json").write_text('{"keys": [{"kty": "OKP", "crv": "Ed25519", '
                                    '"x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}')
PROBLEM = re.compile(r"^(?:.*/)?bootstrap\.yaml(?::(\d+))?: ")
_read_text = Path.read_text


def _confined_read_text(self: Path, *args, **kwargs) -> str:
    if Path(self).parent != WORKDIR or not Path(self).is_file():
        raise PermissionError("the fuzz target reads only regular files of its work directory")
    return _read_text(self, *args, **kwargs)


Path.read_text = _confined_read_text


def check(data: bytes) -> None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None:
        try:
            document = load_located(text)
        except YamlFileError as refused:
            assert refused.line is None or refused.line >= 1
        else:
            assert isinstance(document, LocatedDocument)
    FILE.write_bytes(data)
    # YAML also breaks lines at \r, \x85, \u2028 and \u2029; splitlines() is a superset.
    lines = len(data.decode("utf-8", "replace").splitlines()) + 1
    try:
        plan = read_bootstrap(FILE, production=data[:1] == b"#")
    except BootstrapError as refused:
        assert refused.problems, "refused without a problem"
        for problem in refused.problems:
            match = PROBLEM.match(problem)
            assert match, f"problem does not name the file: {problem[:80]!r}"
            if match.group(1):
                assert 1 <= int(match.group(1)) <= lines + 1, "problem names a line not in the file"
        return
    for organisation in plan.organisations:
        assert rules.oin_problem(organisation.oin) is None
        assert organisation.type in rules.ORGANISATION_TYPES


TARGET = FuzzTarget("bootstrap", check, expected=(BootstrapError,), max_len=4096)

if __name__ == "__main__":
    main(TARGET)
