"""OCR seconds per page: scanned reports read by nianbao.extract.pdf.ocr, per scan variant.

    python bench/ocr_bench.py [--n N] [--seed S]

Scans N generated reports (LibreOffice-exported, see tests/accuracy_scans.py) as every variant of
tests/fixtures/scan.py, then times the PDF extractor on each scan (which hands a scan to OCR):
CPU seconds of this process (OCR runs one thread, so this is one core's time whatever else the
machine is doing) and wall seconds, per page read. A benchmark: nothing is asserted.
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for _p in (ROOT / "tests", ROOT / "tests" / "fixtures"):
    sys.path.insert(0, str(_p))

import accuracy  # noqa: E402
import corpus  # noqa: E402
import scan  # noqa: E402

from nianbao.extract import extract, office  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1, help="reports scanned per variant (default 1)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if not office.soffice():
        print("OCR: LibreOffice is not installed, no scans to make")
        return 0
    pdfs = []
    for i in range(args.n):
        rng = random.Random(f"{args.seed}:bench:{i}")
        pdfs.append((scan.from_docx(corpus.write_docx(corpus.layout(accuracy.random_report(rng)))), rng))
    extract(scan.rasterise(pdfs[0][0], dpi=72), "pdf")  # load the models outside the timing
    print(f"\nOCR of scans, {args.n} report(s) per variant; one thread\n")
    print(f"{'variant':<16} {'pages':>6} {'cpu s/page':>11} {'wall s/page':>12}")
    for variant in scan.VARIANTS:
        cpu = wall = 0.0
        pages = 0
        for pdf, rng in pdfs:
            data = scan.scan(pdf, variant, rng)
            c, w = time.process_time(), time.perf_counter()
            blocks = extract(data, "pdf")
            cpu += time.process_time() - c
            wall += time.perf_counter() - w
            pages += len({b.where if isinstance(b.where, str) else b.where[0] for b in blocks if b.where})
        print(f"{variant:<16} {pages:>6} {cpu / pages:>11.2f} {wall / pages:>12.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
