"""The small harness every ``fuzz/fuzz_<name>.py`` target shares.

A target is a function of one ``bytes`` input. It may raise only the errors its module
documents (``InvalidJsonError``, ``InvalidBsnError``, ``BootstrapError``, ...); anything else
is a crash: libFuzzer (through atheris) stops, prints the traceback and writes the input to a
``crash-<sha1>`` file that reproduces it (``python fuzz/fuzz_<name>.py crash-<sha1>``).

Why a harness: the same target runs three ways and should behave alike in each:

- coverage-guided with atheris/libFuzzer: ``python fuzz/fuzz_<name>.py [libFuzzer flags]
  [corpus dirs]`` (``make fuzz``, and the short CI run in ``tests/fuzz``);
- with Hypothesis, when atheris cannot be imported (no wheel for the platform): the same
  command line, ``-runs=N`` and ``-max_total_time=S`` are honoured, inputs come from
  ``hypothesis.strategies.binary()`` plus the seed corpus (``FUZZ_FORCE_HYPOTHESIS=1`` forces
  this mode where atheris is installed);
- as a plain function from a test (``target.one_input(data)``).

Known bugs: a bug that another area has to fix would stop every run at once and hide anything
found after it. A target lists such bugs as :class:`KnownBug` (a precise signature of the
exception, and what is wrong). When ``FUZZ_KNOWN_BUGS_LOG`` names a file, a matching exception
is appended to that file and the run goes on (the CI test then marks itself xfail with the
description); without it, a known bug crashes like any other, so that it stays visible.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FUZZ_DIR = Path(__file__).resolve().parent
CORPUS_DIR = FUZZ_DIR / "corpus"
DICT_DIR = FUZZ_DIR / "dicts"
KNOWN_BUGS_ENV = "FUZZ_KNOWN_BUGS_LOG"
INSTRUMENTED_PACKAGES = ("gateway", "pseudonymise", "consent", "certs", "schemas")

if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

try:  # pragma: no cover - depends on the platform's wheel
    import atheris
except ImportError:  # pragma: no cover
    atheris = None
if os.environ.get("FUZZ_FORCE_HYPOTHESIS"):  # to try the fallback where atheris is installed
    atheris = None


@dataclass(frozen=True)
class KnownBug:
    """An uncaught exception that is a reported bug in code outside ``fuzz/``.

    ``matches`` gets the exception and the formatted traceback and must be precise (exception
    type and the frame it comes from), so that a new bug of the same type is not swallowed.
    """

    bug_id: str
    description: str
    matches: Callable[[BaseException, str], bool]


def raised_in(exc_type: type[BaseException], function: str | None, module_file: str):
    """A ``KnownBug.matches`` for: ``exc_type`` escaping through ``function`` of ``module_file``
    (any function of it when ``function`` is None)."""

    def matches(exc: BaseException, formatted: str) -> bool:
        if not isinstance(exc, exc_type):
            return False
        frames = traceback.extract_tb(exc.__traceback__)
        return any(
            function in (None, frame.name) and frame.filename.endswith(module_file)
            for frame in frames
        )

    return matches


@dataclass
class FuzzTarget:
    """One fuzz target: the function, the errors it may raise, and its known bugs."""

    name: str
    function: Callable[[bytes], None]
    expected: tuple[type[BaseException], ...]
    known_bugs: tuple[KnownBug, ...] = ()
    max_len: int = 4096
    _reported: set[str] = field(default_factory=set)

    def one_input(self, data: bytes) -> None:
        """Run the target on ``data``; documented errors are fine, anything else escapes."""
        try:
            self.function(data)
        except self.expected:
            return
        except Exception as exc:  # noqa: BLE001 - deciding what is a crash is the point
            self._known_or_raise(exc, data)

    def _known_or_raise(self, exc: BaseException, data: bytes) -> None:
        log = os.environ.get(KNOWN_BUGS_ENV)
        formatted = "".join(traceback.format_exception(exc))
        for bug in self.known_bugs:
            if log and bug.matches(exc, formatted):
                if bug.bug_id not in self._reported:
                    self._reported.add(bug.bug_id)
                    record = {
                        "target": self.name,
                        "bug": bug.bug_id,
                        "description": bug.description,
                        "exception": f"{type(exc).__name__}: {str(exc)[:200]}",
                        "input_sha1": hashlib.sha1(data, usedforsecurity=False).hexdigest(),
                        "input_prefix_hex": data[:64].hex(),
                    }
                    with open(log, "a", encoding="utf-8") as handle:
                        handle.write(json.dumps(record) + "\n")
                return
        raise exc


@contextlib.contextmanager
def instrumented(*packages: str) -> Iterator[None]:
    """Import the code under test inside this block so that atheris can see its coverage."""
    if atheris is None:
        yield
        return
    with atheris.instrument_imports(include=list(packages or INSTRUMENTED_PACKAGES)):
        yield


def seeds(name: str) -> list[bytes]:
    directory = CORPUS_DIR / name
    if not directory.is_dir():
        return []
    return [path.read_bytes() for path in sorted(directory.iterdir()) if path.is_file()]


def _flags(argv: Iterable[str]) -> tuple[dict[str, str], list[str]]:
    flags, positional = {}, []
    for arg in argv:
        if arg.startswith("-") and "=" in arg:
            key, _, value = arg.lstrip("-").partition("=")
            flags[key] = value
        else:
            positional.append(arg)
    return flags, positional


def _run_files(target: FuzzTarget, paths: list[str]) -> None:
    """Replay the given files (a crash reproducer, or a whole corpus directory)."""
    for name in paths:
        path = Path(name)
        files = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
        for file in files:
            target.one_input(file.read_bytes())
    print(f"replayed {len(paths)} path(s) without a crash")


def _run_with_hypothesis(target: FuzzTarget, argv: list[str]) -> None:
    """The fallback when atheris is not installed: Hypothesis generates the inputs."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import strategies as st

    flags, positional = _flags(argv[1:])
    if positional and all(Path(p).is_file() for p in positional):
        _run_files(target, positional)
        return
    runs = int(flags.get("runs", "-1"))
    runs = runs if runs > 0 else 1_000_000
    budget = float(flags.get("max_total_time", "0") or 0)
    deadline = time.monotonic() + budget if budget > 0 else None
    corpus = seeds(target.name)
    for directory in positional:
        if Path(directory).is_dir():
            corpus += [p.read_bytes() for p in Path(directory).iterdir() if p.is_file()]
    for data in corpus:
        target.one_input(data)
    inputs = st.binary(max_size=target.max_len)
    if corpus:
        inputs = inputs | st.sampled_from(corpus) | st.builds(
            lambda seed, cut, extra: seed[:cut] + extra + seed[cut:],
            st.sampled_from(corpus), st.integers(0, target.max_len), st.binary(max_size=64),
        )

    @settings(max_examples=runs, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(inputs)
    def fuzz(data: bytes) -> None:
        if deadline is None or time.monotonic() < deadline:
            target.one_input(data)

    fuzz()
    print(f"hypothesis fallback: {target.name}: no crash in up to {runs} inputs")


def main(target: FuzzTarget, argv: list[str] | None = None) -> None:
    """Entry point of ``python fuzz/fuzz_<name>.py [libFuzzer args] [corpus dirs]``."""
    argv = list(sys.argv if argv is None else argv)
    if atheris is None:
        _run_with_hypothesis(target, argv)
        return
    flags, _ = _flags(argv[1:])
    if "max_len" not in flags:
        argv.append(f"-max_len={target.max_len}")
    dictionary = DICT_DIR / f"{target.name}.dict"
    if "dict" not in flags and dictionary.is_file():
        argv.append(f"-dict={dictionary}")
    atheris.Setup(argv, target.one_input)
    atheris.Fuzz()
