"""Throughput check for the e-mail parser (not a test; run by hand).

    .venv/bin/python tests/intake/bench_mailparse.py [rounds]

Parses every parseable message of tests/intake/corpus ``rounds`` times (default 200) and
prints messages per second.
"""

from __future__ import annotations

import contextlib
import sys
import time
from pathlib import Path

from leitplanke.intake.mailparse import UnparseableMessage, parse_message


def main(rounds: int = 200) -> None:
    corpus = [p.read_bytes() for p in sorted((Path(__file__).parent / "corpus").glob("*.eml"))]
    count = 0
    total_bytes = 0
    started = time.perf_counter()
    for _ in range(rounds):
        for raw in corpus:
            with contextlib.suppress(UnparseableMessage):
                parse_message(raw)
            count += 1
            total_bytes += len(raw)
    elapsed = time.perf_counter() - started
    print(
        f"{count} messages ({len(corpus)} files x {rounds}) in {elapsed:.2f} s: "
        f"{count / elapsed:.0f} messages/s, {total_bytes / elapsed / 1e6:.1f} MB/s"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
