"""What the recogniser's batching costs and changes: its CPU and the lines read otherwise.

    python bench/ocr_batching.py [--variant V] [--seed S]

First what a run of ONNX Runtime costs (CPU) by its input's width and lines: per run and per
column, so what batching more lines per run could save (a run's fixed cost, ~1 ms) is known beside
what padding wastes (every column of pad costs as a column of ink, ~95 us).

Then scans one generated report (as bench/ocr_bench.py makes them) as variant V, keeps every list
of line images the reader hands nianbao.extract.pdf.ocr.recognise, and recognises them again as
today (ocr._buckets: 16 lines at a time in order of width, each padded to its batch's widest, run
in runs of at most _BATCH_COLUMNS) and otherwise: today's padding in runs of one line; each line
alone (no pad); today's batches padded with white instead of the normalised 0 (grey) RapidOCR pads
with; lines batched by width (the widest at most 1.25x the narrowest) each padded a tenth of its
height of grey past its batch's widest (a quarter fewer columns; `make accuracy`: 1-5 fewer cells
exact of 600 on six variants, so not taken); each line padded on its own up to the next multiple of
24 (48) columns, lines of one width run together (a fifth (a tenth) fewer columns, number lines
surer; `make accuracy` with 24: seed 1 at its figures or above, seed 0 1-3 cells fewer exact on four
variants, so not taken). For each: the recogniser's CPU seconds (this process), its input columns,
the number lines (read as digits today) read at section 二's confidence, and the lines whose text or
confidence differ from today's. What it shows: a line's reading depends on the width it is padded
to, not on the lines it runs with. A benchmark: nothing is asserted.
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


def _white_pad(resize_norm_img):
    """RapidOCR's resize_norm_img with its pad white (1.0 once normalised) instead of grey (0)."""

    def padded(img, ratio):
        out = resize_norm_img(img, ratio)
        h, w = img.shape[:2]
        out[:, :, min(out.shape[2], int(np.ceil(out.shape[1] * w / h))) :] = 1.0
        return out

    return padded


def _by_width(ratios):
    """ocr._buckets batching lines of about one width: the widest at most 1.25x the narrowest."""

    def buckets(order):
        out: list[list[int]] = []
        for i in order:
            if out and len(out[-1]) < 16 and ratios[i] <= 1.25 * ratios[out[-1][0]]:
                out[-1].append(i)
            else:
                out.append([i])
        return [np.array(b) for b in out]

    return buckets


def _quantised(q: int):
    """Each line padded on its own up to the next multiple of `q` columns (at the recogniser's
    height 48), lines of one width batched together: (ocr._buckets, resize_norm_img's pad) for it."""

    def width(ratio: float) -> int:
        return q * (int(48 * ratio) // q + 1)

    def batching(ratios):
        def buckets(order):
            out: dict[int, list[int]] = {}
            for i in order:
                out.setdefault(width(ratios[i]), []).append(i)
            return [np.array(b) for b in out.values()]

        return buckets

    return batching, lambda norm: lambda img, r: norm(img, (width(r) + 0.5) / 48)


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
    data = scan.scan(scan.from_docx(corpus.write_docx(corpus.layout(accuracy.random_report(rng)))), args.variant, rng)
    calls: list[list[np.ndarray]] = []
    recognise = ocr.recognise
    ocr.recognise = lambda crops: calls.append(list(crops)) or recognise(crops)
    try:
        extract(data, "pdf")
    finally:
        ocr.recognise = recognise
    rec = ocr._engine().text_rec
    columns, norm, buckets, session = ocr._BATCH_COLUMNS, rec.resize_norm_img, ocr._buckets, rec.session
    width = [0]

    def counted(x):
        width[0] += x.shape[0] * x.shape[3]
        return session(x)

    def read(alone=False, runs=columns, pad=norm, by_width=False, quantum=None):
        ocr._BATCH_COLUMNS, rec.resize_norm_img, rec.session = runs, pad, counted
        width[0] = 0
        try:
            start = time.process_time()
            out = []
            for crops in calls:
                if by_width:
                    ocr._buckets = _by_width([c.shape[1] / c.shape[0] for c in crops])
                if quantum:
                    batching, padded = _quantised(quantum)
                    ocr._buckets = batching([c.shape[1] / c.shape[0] for c in crops])
                    rec.resize_norm_img = padded(norm)
                out += [recognise([c])[0] for c in crops] if alone else recognise(crops)
            return out, time.process_time() - start, width[0]
        finally:
            ocr._BATCH_COLUMNS, rec.resize_norm_img, ocr._buckets, rec.session = columns, norm, buckets, session

    overhead()
    today, _, _ = read()  # once to warm the session's arena for every shape
    today, cpu, cols = read()
    lines = len(today)
    given = sum(bool(c) for c in calls)
    numbers = [i for i, (t, _) in enumerate(today) if _NUMBER.fullmatch(t)]
    sure = lambda out: sum(out[i][1] >= trust.CONFIDENCE.alone for i in numbers)  # noqa: E731
    print(f"\n{args.variant}: {lines} lines in {given} calls of recognise given lines ({len(calls)} in all)")
    print(
        f"{len(numbers)} lines read as numbers today; 'sure': of them, read at confidence >= {trust.CONFIDENCE.alone}\n"
    )
    print(
        f"{'batching':<44} {'rec cpu s':>9} {'columns':>8} {'sure':>5} {'text differs':>13} {'confidence differs':>19}"
    )
    print(f"{'today (16 by width, runs <= columns)':<44} {cpu:>9.2f} {cols:>8} {sure(today):>5} {'':>13} {'':>19}")
    for name, kwargs in [
        ("today's pad, runs of one line", dict(runs=1)),
        ("each line alone (no pad)", dict(alone=True)),
        ("today's batches, white pad", dict(pad=_white_pad(norm))),
        ("by width, a tenth of grey past", dict(by_width=True, pad=lambda img, r: norm(img, r + 0.1))),
        ("each its own, up to a multiple of 24", dict(quantum=24)),
        ("each its own, up to a multiple of 48", dict(quantum=48)),
    ]:
        other, cpu, cols = read(**kwargs)
        text = sum(a[0] != b[0] for a, b in zip(today, other))
        conf = sum(a[1] != b[1] for a, b in zip(today, other))
        print(f"{name:<44} {cpu:>9.2f} {cols:>8} {sure(other):>5} {text:>13} {conf:>19}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
