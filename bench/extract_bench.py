"""Extraction throughput per format: extract + match on generated reports.

    python bench/extract_bench.py [--n N] [--seed S] [--repeat R]

Writes N documents per format (txt, docx, html, pdf; the format's variants in turn) with the
accuracy generator (tests/accuracy.py), then times nianbao.interpret.match.match(nianbao.extract.extract())
over the whole set of each format with time.perf_counter, generation outside the timing. Prints
documents per second and mean ms per document (the best of R passes). A benchmark, not a test:
nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import sys
import time
from itertools import cycle, islice
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import accuracy  # noqa: E402

from nianbao.extract import extract  # noqa: E402
from nianbao.interpret.match import match  # noqa: E402

FORMATS = ("txt", "docx", "html", "pdf")


def documents(fmt: str, n: int, seed: int) -> list[accuracy.Document]:
    variants = [v for v, (f, _) in accuracy.VARIANTS.items() if f == fmt]
    return [accuracy.document(v, i, seed) for i, v in enumerate(islice(cycle(variants), n))]


def time_set(docs: list[accuracy.Document]) -> float:
    start = time.perf_counter()
    for d in docs:
        match(extract(d.data, d.fmt))
    return time.perf_counter() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=40, help="documents per format (default 40)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=1, help="timed passes per format; the best is shown")
    args = parser.parse_args(argv)
    print(f"{args.n} documents per format, seed {args.seed}, best of {args.repeat}; extract + match only\n")
    print(f"{'format':<7} {'documents':>9} {'MB':>7} {'seconds':>8} {'docs/s':>8} {'ms/doc':>8}")
    for fmt in FORMATS:
        docs = documents(fmt, args.n, args.seed)
        size = sum(len(d.data) for d in docs) / 1e6
        seconds = min(time_set(docs) for _ in range(max(1, args.repeat)))
        print(
            f"{fmt:<7} {len(docs):>9} {size:>7.2f} {seconds:>8.2f} {len(docs) / seconds:>8.1f} "
            f"{1000 * seconds / len(docs):>8.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
