"""OCR seconds per page: scanned reports read by nianbao.extract.pdf.ocr, per scan variant.

    python bench/ocr_bench.py [--n N] [--seed S] [--variant V ...] [--scans FILE]

Scans N generated reports (LibreOffice-exported, see tests/accuracy_scans.py) as every variant of
tests/fixtures/scan.py, and the real reports in ../shared scanned at 200 dpi (their narrative
pages too), then times the PDF extractor on each scan (which hands a scan to OCR): CPU seconds of
this process and its children (OCR runs one thread; CPU time is one core's whatever else the
machine is doing, wall time is not) per page of the document, and per page read (a page holding
no table, neither first nor last, is only glanced at). --scans FILE reads the scans bench/ocr_cells.py
made (`make`: tests/accuracy_scans.py's draws) instead, made once: before and after run alternately
read the same pictures. A benchmark: nothing is asserted.
"""

from __future__ import annotations

import argparse
import random
import resource
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

REAL = ROOT.parent / "shared" / "corpus" / "real"  # as tests/conftest.py finds it
REPORTS = ["zxj6827111-blip__KIROGOVCOMPARE/hzq2023_working.pdf", "zxj6827111-blip__govnianbao/szfgs2024.pdf"]


def cpu() -> float:
    """CPU seconds of this process and its children so far."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def pages_of(data: bytes) -> int:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(data)
    try:
        return len(doc)
    finally:
        doc.close()


def scans(n: int, seed: int, variants: list[str]) -> list[bytes]:
    """N generated reports scanned as each of `variants`, report by report (as main makes them)."""
    datas = []
    for i in range(n):
        rng = random.Random(f"{seed}:bench:{i}")
        pdfs = Ruled(corpus.write_docx(corpus.layout(accuracy.random_report(rng))))
        datas += [scan.scan(pdfs[v], v, rng) for v in variants]
    return datas


class Ruled(dict):
    """A report's PDF ruled as each variant says (scan.from_docx: every cell, a three-line table's
    rules, none), made once per kind of rules: a borderless variant is scanned from a PDF with no
    rules, as tests/accuracy_scans.py scans it."""

    def __init__(self, docx: bytes):
        super().__init__()
        self.docx = docx

    def __missing__(self, variant: str) -> bytes:
        rules = scan.rules(variant)
        made = next((pdf for v, pdf in self.items() if scan.rules(v) == rules), None)
        self[variant] = made if made is not None else scan.from_docx(self.docx, rules)
        return self[variant]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1, help="reports scanned per variant (default 1)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--variant", action="append", choices=sorted(scan.VARIANTS), help="these alone, no real report")
    parser.add_argument("--scans", help="bench/ocr_cells.py's scans (a .pkl) instead of scanning anew")
    args = parser.parse_args(argv)
    if args.scans:
        import pickle

        made = pickle.loads(Path(args.scans).read_bytes())
        wanted = args.variant or list(scan.VARIANTS)
        return _report(len(made), 0, [(v, [d for doc in made for w, d, _ in doc if w == v]) for v in wanted])
    if not office.soffice():
        print("OCR: LibreOffice is not installed, no scans to make")
        return 0
    pdfs = []
    for i in range(args.n):
        rng = random.Random(f"{args.seed}:bench:{i}")
        pdfs.append((Ruled(corpus.write_docx(corpus.layout(accuracy.random_report(rng)))), rng))
    scans = [
        (variant, [scan.scan(pdf[variant], variant, rng) for pdf, rng in pdfs])
        for variant in args.variant or scan.VARIANTS
    ]
    real = [p for p in (REAL / r for r in REPORTS) if p.exists() and not args.variant]
    if real:
        scans.append(
            (
                "real/200",
                [scan.rasterise(p.read_bytes(), dpi=200, angle=-0.8, blur=0.5, noise=6, jpeg=75, seed=1) for p in real],
            )
        )
    return _report(args.n, len(real), scans)


def _report(n: int, real: int, scans: list[tuple[str, list[bytes]]]) -> int:
    extract(scans[0][1][0], "pdf")  # load the models outside the timing
    print(f"\nOCR of scans, {n} generated report(s) per variant, {real} real; one thread\n")
    print(f"{'variant':<16} {'pages':>6} {'read':>5} {'cpu s/page':>11} {'cpu s/read':>11} {'wall s/page':>12}")
    for variant, datas in scans:
        used = wall = 0.0
        pages = read = 0
        for data in datas:
            c, w = cpu(), time.perf_counter()
            blocks = extract(data, "pdf")
            used += cpu() - c
            wall += time.perf_counter() - w
            pages += pages_of(data)
            read += len({b.where if isinstance(b.where, str) else b.where[0] for b in blocks if b.where})
        print(f"{variant:<16} {pages:>6} {read:>5} {used / pages:>11.2f} {used / read:>11.2f} {wall / pages:>12.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
