"""What the recogniser's batching costs and changes: its CPU and the lines read otherwise.

    python bench/ocr_batching.py [--variant V] [--seed S]

First what a run of ONNX Runtime costs (CPU) by its input's width and lines: per run and per
column, so what batching more lines per run could save (a run's fixed cost, ~1 ms) is known beside
what padding wastes (every column of pad costs as a column of ink, ~95 us).

Then scans one generated report (as bench/ocr_bench.py makes them) as variant V, keeps every list
of line images the reader hands nianbao.extract.pdf.ocr.recognise, and recognises them again as
today (recognise: each line cut to its ink with a fixed margin, given ocr._TAIL columns of grey
past its own width up to a whole output step of 8 columns, a doubtful reading read again as
before) and otherwise (ocr._run with other widths): as before (ocr._buckets: 16 lines at a time in
order of width, each padded to the widest of its 16: a third of the columns pad); a tail but the
lines as given (a detector's slack box shrinks its type: seed 0 lost 4 cells exact on
scan/150-borderless); cut and a tail, none read again; each line alone (no pad: its last
character doubtful); each padded on its own up to the next multiple of 24 (1 to 24 columns of pad:
seed 0 lost 1-3 cells exact on four variants); a tenth of its height of grey past each. For each:
the recogniser's CPU seconds (this process), its input columns, the number lines (read as digits
today) read at section 二's confidence, and the lines whose text or confidence differ from
today's. What it shows: a line's reading depends on the pad it is given and its ink's scale, not
on the lines it runs with, and its last character needs some columns of grey past it. A benchmark: nothing is asserted.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
for _p in (ROOT / "tests", ROOT / "tests" / "fixtures"):
    sys.path.insert(0, str(_p))

import accuracy  # noqa: E402
import corpus  # noqa: E402
import scan  # noqa: E402

from nianbao.extract import extract, office  # noqa: E402
from nianbao.extract.pdf import ocr  # noqa: E402
from nianbao.interpret import trust  # noqa: E402

_NUMBER = re.compile(r"[\d,.]+")


def _uncut(crops):
    """recognise's readings but of the lines as given, not cut to their ink first."""
    out = ocr._run(crops, ocr._tails(crops))
    doubtful = [
        k
        for k, (t, p) in enumerate(out)
        if p < (trust.CONFIDENCE.alone if ocr._NUMBERISH.fullmatch(t) else trust.CONFIDENCE.summed)
    ]
    for k, reading in zip(doubtful, ocr._run([crops[k] for k in doubtful], [ocr._buckets(crops)[k] for k in doubtful])):
        out[k] = reading
    return out


def _alone(crops):
    return [c.shape[1] / c.shape[0] for c in crops]


def _quantum(crops):
    return [(24 * (int(48 * c.shape[1] / c.shape[0]) // 24 + 1) + 0.5) / 48 for c in crops]


def _tenth(crops):
    return [c.shape[1] / c.shape[0] + 0.1 for c in crops]


def overhead() -> None:
    """CPU of one run of the recogniser's session by its input's width (columns) and lines."""
    session = ocr._engine().text_rec.session
    rng = np.random.default_rng(0)
    print(
        f"\none run of the recogniser: CPU by input width and lines\n{'width':>6} {'lines':>6} {'ms/run':>7} {'us/column':>10}"
    )
    for width in (48, 96, 192, 384, 768):
        for n in (1, 2, 4, 8, 16):
            if width * n > 3072:
                continue
            x = rng.random((n, 3, 48, width), dtype=np.float32)
            reps = max(3, 200 * 48 // (width * n))
            session(x)
            start = time.process_time()
            for _ in range(reps):
                session(x)
            run = (time.process_time() - start) / reps
            print(f"{width:>6} {n:>6} {1e3 * run:>7.2f} {1e6 * run / (width * n):>10.1f}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", default="scan/200", choices=sorted(scan.VARIANTS))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if not office.soffice():
        print("OCR: LibreOffice is not installed, no scans to make")
        return 0
    rng = random.Random(f"{args.seed}:bench:0")
    docx = corpus.write_docx(corpus.layout(accuracy.random_report(rng)))
    data = scan.scan(scan.from_docx(docx, scan.rules(args.variant)), args.variant, rng)
    calls: list[list[np.ndarray]] = []
    recognise = ocr.recognise
    ocr.recognise = lambda crops, *more: calls.append(list(crops)) or recognise(crops, *more)
    try:
        extract(data, "pdf")
    finally:
        ocr.recognise = recognise
    rec = ocr._engine().text_rec
    session = rec.session
    width = [0]

    def counted(x):
        width[0] += x.shape[0] * x.shape[3]
        return session(x)

    def read(widths=None, reader=None):
        """Every call's lines recognised as today, padded to `widths(crops)`, or by `reader`."""
        rec.session = counted
        width[0] = 0
        try:
            start = time.process_time()
            out = [
                r
                for crops in calls
                for r in (reader or (lambda c: ocr._run(c, widths(c)) if widths else recognise(c)))(crops)
            ]
            return out, time.process_time() - start, width[0]
        finally:
            rec.session = session

    overhead()
    read()  # once to warm the session's arena for every shape
    today, cpu, cols = read()
    numbers = [i for i, (t, _) in enumerate(today) if _NUMBER.fullmatch(t)]
    sure = lambda out: sum(out[i][1] >= trust.CONFIDENCE.alone for i in numbers)  # noqa: E731
    given = sum(bool(c) for c in calls)
    print(f"\n{args.variant}: {len(today)} lines in {given} calls of recognise given lines ({len(calls)} in all)")
    print(
        f"{len(numbers)} lines read as numbers today; 'sure': of them, read at confidence >= {trust.CONFIDENCE.alone}\n"
    )
    print(
        f"{'padding':<44} {'rec cpu s':>9} {'columns':>8} {'sure':>5} {'text differs':>13} {'confidence differs':>19}"
    )
    print(f"{'today (recognise: cut, a tail, doubt again)':<44} {cpu:>9.2f} {cols:>8} {sure(today):>5}")
    for name, kwargs in [
        ("before (16 by width, to the widest)", dict(widths=ocr._buckets)),
        ("a tail, not cut to the ink", dict(reader=_uncut)),
        (
            "cut to the ink, a tail, none read again",
            dict(reader=lambda c: ocr._run(l := [ocr._trimmed(x) for x in c], ocr._tails(l))),
        ),
        ("each line alone (no pad)", dict(widths=_alone)),
        ("each up to a multiple of 24", dict(widths=_quantum)),
        ("a tenth of its height past each", dict(widths=_tenth)),
    ]:
        other, cpu, cols = read(**kwargs)
        text = sum(a[0] != b[0] for a, b in zip(today, other))
        conf = sum(a[1] != b[1] for a, b in zip(today, other))
        print(f"{name:<44} {cpu:>9.2f} {cols:>8} {sure(other):>5} {text:>13} {conf:>19}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
