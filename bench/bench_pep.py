"""Throughput of polymorphic pseudonymisation (PEP) on one core, against libpep's figure.

What is measured, each as operations per second in one single-threaded process (one core):

- ``encrypt``: ``bsn_element`` + ``encrypt`` under the master key (what a partner does);
- ``transcrypt``: ``reshuffle_rekey`` with precomputed ``TranscryptionFactors`` (what the
  gateway does per message), and ``transcrypt_rerandomised`` with a rerandomised output;
- ``decrypt``: a recipient opening its pseudonym with its key share;
- ``verify_link``: the gateway checking a partner's link proof.

The anchor: libpep publishes about 15,000 transcryptions per second per core (its Python
bindings, measured on Python 3.9); the goal is at least half of that, 7,500/s. Because machines
differ, the same run also measures one raw ``pysodium.crypto_scalarmult_ristretto255`` per
second: a transcryption is two scalar multiplications, so ``transcrypt_per_scalarmult`` is at
most about 0.5 on any machine, and how far below it shows the Python overhead around them.
``scalarmult_direct_per_s`` calls the libsodium function through ctypes without pysodium's
wrapper, to separate the wrapper's cost from libsodium's own.

``cpu_share`` is the process's CPU time over the wall time of the timed loops: well under 1.0
means something else ran on the same core and the figures are low. The process is not pinned
to a CPU, so that the scheduler can move it off a core another process keeps busy.
``steal_share`` is the share of the machine's CPU time a hypervisor took for other guests
during the run (``/proc/stat``); above a few per cent the figures are low too.

Prints one JSON object. ``--tiny`` (CI) runs a few hundred operations once and only shows that
everything works; its figures mean nothing.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import platform
import statistics
import time
from collections.abc import Callable

import pysodium

from pseudonymise import Bsn, generate_valid_bsns
from pseudonymise.pep import (
    KeyIssuer,
    TranscryptionFactors,
    bsn_element,
    decrypt,
    encrypt,
    group,
    link_tag,
    prove_link,
    reshuffle_rekey,
    transcrypt,
    verify_link,
)

DOMAIN = "pseudonym:00000001001234567000"
CONTEXT = b"00000001009876543000"
LIBPEP_TRANSCRYPT_PER_S = 15_000  # libpep's published figure per core (Python 3.9)
GOAL_TRANSCRYPT_PER_S = LIBPEP_TRANSCRYPT_PER_S // 2
TINY_SIZE, TINY_PROOF_SIZE = 300, 100


def _cpu_times() -> list[int] | None:
    """The machine's aggregate CPU times (Linux ``/proc/stat``), or None elsewhere."""
    try:
        with open("/proc/stat", encoding="ascii") as handle:
            return [int(v) for v in handle.readline().split()[1:]]
    except (OSError, ValueError):
        return None


def _steal_share(before: list[int] | None, after: list[int] | None) -> float | None:
    """Share of the machine's CPU time the hypervisor gave to others during the run."""
    if not before or not after or len(before) < 8:
        return None
    delta = [b - a for a, b in zip(before, after, strict=False)]
    total = sum(delta[:8])  # user nice system idle iowait irq softirq steal (guest is in user)
    return delta[7] / total if total else None


class Timer:
    """Rates of several loops, run round-robin so that a change in the machine's load during
    the run affects every figure alike (the ratios stay meaningful), and how much of the wall
    time this process was on a CPU."""

    def __init__(self) -> None:
        self.wall = self.cpu = 0.0

    def median_rates(
        self, loops: dict[str, tuple[Callable[[], object], int]], runs: int
    ) -> dict[str, tuple[float, float]]:
        """Per loop: median and spread (max/min - 1) of operations per second over ``runs``."""
        rates: dict[str, list[float]] = {name: [] for name in loops}
        for _ in range(runs):
            for name, (run, operations) in loops.items():
                cpu, start = time.process_time(), time.perf_counter()
                run()
                wall = time.perf_counter() - start
                self.wall, self.cpu = self.wall + wall, self.cpu + time.process_time() - cpu
                rates[name].append(operations / wall)
        return {
            name: (statistics.median(values), max(values) / min(values) - 1)
            for name, values in rates.items()
        }

    @property
    def cpu_share(self) -> float:
        """About 1.0 when nothing else competed for the core this single thread ran on."""
        return self.cpu / self.wall if self.wall else 0.0


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10_000, help="operations per run")
    parser.add_argument(
        "--proof-size", type=int, default=1_000, help="link proofs verified per run"
    )
    parser.add_argument("--runs", type=int, default=5, help="runs per measurement (median)")
    parser.add_argument(
        "--tiny",
        action="store_true",
        help=f"smoke run for CI: --size {TINY_SIZE} --proof-size {TINY_PROOF_SIZE} --runs 1",
    )
    args = parser.parse_args(argv)
    if args.tiny:
        size, proof_size, runs = TINY_SIZE, TINY_PROOF_SIZE, 1
    else:
        size, proof_size, runs = args.size, args.proof_size, args.runs
    if size < 1 or proof_size < 1 or runs < 1:
        parser.error("--size, --proof-size and --runs must be at least 1")
    load_before = os.getloadavg()[0]

    issuer = KeyIssuer.generate()
    master_public = issuer.master_public_key
    factors = issuer.factors(DOMAIN)
    to_domain = TranscryptionFactors.between(
        master_public, None, (factors.reshuffle, factors.rekey)
    )
    secret_key = issuer.key_share(DOMAIN).secret_key
    link_secret, link_public = issuer.secrets()["link"], issuer.link_public_key

    bsns = [Bsn(d) for d in generate_valid_bsns(size, seed=20240901)]
    polymorphic = [encrypt(bsn_element(b), master_public) for b in bsns]
    delivered = [transcrypt(c, to_domain, rerandomise_output=True) for c in polymorphic]
    proved = []
    for bsn in bsns[:proof_size] * (proof_size // len(bsns) + 1):
        message, randomness = bsn_element(bsn), group.random_scalar()
        ciphertext = encrypt(message, master_public, randomness)
        tag = link_tag(message, link_secret)
        proof = prove_link(ciphertext, randomness, link_secret, tag, CONTEXT)
        proved.append((ciphertext, tag, proof))
    proved = proved[:proof_size]
    for ciphertext, tag, proof in proved[:1]:  # the proofs are honest
        verify_link(ciphertext, link_public, tag, proof, CONTEXT)
    points = [c.b for c in polymorphic]
    factor = factors.reshuffle

    def scalarmult() -> None:
        mult = pysodium.crypto_scalarmult_ristretto255
        for point in points:
            mult(factor, point)

    def scalarmult_direct() -> None:
        mult = pysodium.sodium.crypto_scalarmult_ristretto255
        out = ctypes.create_string_buffer(32)
        for point in points:
            if mult(out, factor, point) != 0:
                raise RuntimeError("scalar multiplication failed")

    def encrypt_loop() -> None:
        for bsn in bsns:
            encrypt(bsn_element(bsn), master_public)

    def transcrypt_loop() -> None:
        for ciphertext in polymorphic:
            reshuffle_rekey(ciphertext, to_domain)

    def transcrypt_rerandomised_loop() -> None:
        for ciphertext in polymorphic:
            transcrypt(ciphertext, to_domain, rerandomise_output=True)

    def decrypt_loop() -> None:
        for ciphertext in delivered:
            decrypt(ciphertext, secret_key)

    def verify_loop() -> None:
        for ciphertext, tag, proof in proved:
            verify_link(ciphertext, link_public, tag, proof, CONTEXT)

    timer, cpu_before = Timer(), _cpu_times()
    measured = timer.median_rates(
        {
            "scalarmult": (scalarmult, size),
            "scalarmult_direct": (scalarmult_direct, size),
            "encrypt": (encrypt_loop, size),
            "transcrypt": (transcrypt_loop, size),
            "transcrypt_rerandomised": (transcrypt_rerandomised_loop, size),
            "decrypt": (decrypt_loop, size),
            "verify_link": (verify_loop, proof_size),
        },
        runs,
    )
    steal = _steal_share(cpu_before, _cpu_times())
    transcrypt_per_s = measured["transcrypt"][0]
    report: dict[str, object] = {
        "benchmark": "pep",
        "size": size,
        "proof_size": proof_size,
        "runs": runs,
        "cpu_count": os.cpu_count(),
        "processes": 1,
        "loadavg_before": round(load_before, 2),
        "cpu_share": round(timer.cpu_share, 3),
        "steal_share": None if steal is None else round(steal, 3),
        "python": platform.python_version(),
        "libsodium": pysodium.sodium.sodium_version_string().decode(),
        **{f"{name}_per_s": round(rate) for name, (rate, _) in measured.items()},
        "spread": {name: round(spread, 3) for name, (_, spread) in measured.items()},
        "transcrypt_per_scalarmult": round(transcrypt_per_s / measured["scalarmult"][0], 3),
        "libpep_transcrypt_per_s": LIBPEP_TRANSCRYPT_PER_S,
        "goal_transcrypt_per_s": GOAL_TRANSCRYPT_PER_S,
        "transcrypt_vs_libpep": round(transcrypt_per_s / LIBPEP_TRANSCRYPT_PER_S, 3),
        "goal_met": transcrypt_per_s >= GOAL_TRANSCRYPT_PER_S,
    }
    print(json.dumps(report))
    return report


if __name__ == "__main__":
    main()
