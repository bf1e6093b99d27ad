"""What the recogniser's batching costs and changes: its CPU and the lines read otherwise.

    python bench/ocr_batching.py [--variant V] [--seed S]

Scans one generated report (as bench/ocr_bench.py makes them) as variant V, keeps every list of line
images the reader hands nianbao.extract.pdf.ocr.recognise, and recognises them again as today
(lines of about one width in groups of 16, each padded to its group's widest, run in runs of at most
_BATCH_COLUMNS) and otherwise: today's padding in runs of one line; each line alone (no pad); today's
groups padded with white instead of the normalised 0 (grey) RapidOCR pads with. For each: the
recogniser's CPU seconds (this process) and the lines whose text or confidence differ from today's.
What it shows: a line's reading depends on the width it is padded to, not on the lines it runs with.
A benchmark: nothing is asserted.
"""

from __future__ import annotations

import argparse
import random
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


def _white_pad(resize_norm_img):
    """RapidOCR's resize_norm_img with its pad white (1.0 once normalised) instead of grey (0)."""

    def padded(img, ratio):
        out = resize_norm_img(img, ratio)
        h, w = img.shape[:2]
        out[:, :, min(out.shape[2], int(np.ceil(out.shape[1] * w / h))) :] = 1.0
        return out

    return padded


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
    columns, norm = ocr._BATCH_COLUMNS, rec.resize_norm_img

    def read(alone=False, runs=columns, pad=norm):
        ocr._BATCH_COLUMNS, rec.resize_norm_img = runs, pad
        try:
            start = time.process_time()
            out = [r for crops in calls for r in ([recognise([c])[0] for c in crops] if alone else recognise(crops))]
            return out, time.process_time() - start
        finally:
            ocr._BATCH_COLUMNS, rec.resize_norm_img = columns, norm

    today, _ = read()  # once to warm the session's arena for every shape
    today, cpu = read()
    lines = len(today)
    print(f"\n{args.variant}: {lines} lines in {len(calls)} calls of recognise\n")
    print(f"{'batching':<40} {'rec cpu s':>9} {'text differs':>13} {'confidence differs':>19}")
    print(f"{'today (groups of 16, runs <= columns)':<40} {cpu:>9.2f} {'':>13} {'':>19}")
    for name, kwargs in [
        ("today's pad, runs of one line", dict(runs=1)),
        ("each line alone (no pad)", dict(alone=True)),
        ("today's groups, white pad", dict(pad=_white_pad(norm))),
    ]:
        other, cpu = read(**kwargs)
        text = sum(a[0] != b[0] for a, b in zip(today, other))
        conf = sum(a[1] != b[1] for a, b in zip(today, other))
        print(f"{name:<40} {cpu:>9.2f} {text:>13} {conf:>19}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
