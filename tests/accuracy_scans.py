"""Scanned reports: cells exact, flagged and wrong per scan variant (dpi and defects).

    python tests/accuracy_scans.py [--n N] [--seed S] [--jobs J] [--variant V]

Each document is a random, template-consistent report (tests/accuracy.py's generator) written as
DOCX, its tables ruled as the variant says (every cell, a three-line table's rules, none), laid out
and exported to PDF by LibreOffice, then scanned as each variant of tests/fixtures/scan.py says
(office scanners at 150-300 dpi: a lean of up to 2 degrees, blur, noise, JPEG; phone photos at
150/200 dpi: keystone, uneven light, a dark desk around the page, JPEG quality 35-60; red seals over
a table and the signature), and read back as the pipeline does: extract (OCR), match, trust. A cell is *exact* when the value
published equals the value printed (a placeholder or blank printed: none published), *flagged*
when it is an `extraction.unread_cell` (no value published, the fault named as ours), and *wrong*
otherwise: a wrong number, or a number lost without a flag. Under each variant, why its cells were
flagged (misread, not confident, no sum confirms it, ...). Exits 1 when any cell is wrong or a
variant has fewer than 95% of its cells exact. --variant V (repeatable) scans only V, each report
as it is scanned among all the variants (the same draws as a run of all). Needs LibreOffice.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
for _p in (HERE, HERE / "fixtures"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

import accuracy  # noqa: E402
import corpus  # noqa: E402
import scan  # noqa: E402

from nianbao.extract import extract, office  # noqa: E402
from nianbao.interpret import trust  # noqa: E402
from nianbao.interpret.match import match  # noqa: E402
from nianbao.interpret.normalise import number  # noqa: E402


def check(
    index: int, seed: int, variants: list[str], only: set[str] | None = None
) -> list[tuple[str, int, int, int, list, float, int, Counter]]:
    """Per variant: (variant, exact, flagged, wrong, the wrong cells, OCR seconds, pages, why flagged).
    `only`: of `variants`, these alone, scanned as they are among all of them."""
    rng = random.Random(f"{seed}:scan:{index}")
    rep = accuracy.random_report(rng)
    docx = corpus.write_docx(corpus.layout(rep))
    pdfs = {}  # by how the tables are ruled
    out = []
    for variant in variants:
        settings = scan.settings(variant, rng)  # drawn for every variant: each scanned the same either way
        if only is not None and variant not in only:
            continue
        rules = scan.rules(variant)
        if rules not in pdfs:
            pdfs[rules] = scan.from_docx(docx, rules)
        data = scan.rasterise(pdfs[rules], **settings)
        start = time.process_time()
        try:
            blocks = extract(data, "pdf")
            m = match(blocks)
            read = {f"{d}:{c.key[0]}/{c.key[1]}": c.raw for d in accuracy.DATASETS for c in getattr(m, d)}
            m = trust.check(blocks, m)
        except Exception as e:  # unreadable: every cell lost, none flagged
            out.append((variant, 0, 0, len(_expected(rep)), [("(document)", "readable", str(e))], 0.0, 0, Counter()))
            continue
        seconds = time.process_time() - start
        pages = len({w for b in blocks if getattr(b, "confidence", None) is not None for w in b.where})
        unread = {f.cells[0] for f in m.findings if f.rule_id == "extraction.unread_cell"}
        got = {f"{d}:{c.key[0]}/{c.key[1]}": c.raw for d in accuracy.DATASETS for c in getattr(m, d)}
        exact = flagged = 0
        wrong = []
        why = Counter()
        for name, printed in _expected(rep).items():
            if name in unread:
                flagged += 1
                why[_why(name, printed, read.get(name))] += 1
            elif name in got and number(got[name]) == number(printed):
                exact += 1
            else:
                wrong.append((name, printed, got.get(name, "<absent>")))
        wrong += [(name, "<absent>", v) for name, v in got.items() if name not in _expected(rep) and v is not None]
        out.append((variant, exact, flagged, len(wrong), wrong, seconds, pages, why))
    return out


def _why(name: str, printed: str, reading) -> str:
    """Why a cell was flagged: what OCR and the matcher gave the trust step."""
    if reading is None:
        return "not placed by the matcher"
    if not str(reading).strip() and getattr(reading, "confidence", 0.0) == 0.0:
        return "ink read as nothing"
    if trust._number(reading) != trust._number(printed):
        return "misread (caught)" if trust._number(reading) is not None else "read as no number"
    if getattr(reading, "confidence", 0.0) < trust.CONFIDENCE.summed:
        return "read right, not confident"
    if name.startswith("active_disclosure:"):
        return "section 二, not confident enough alone"
    return "read right and confident, no sum confirms it"


def _expected(rep) -> dict[str, str]:
    return {f"{d}:{k[0]}/{k[1]}": v for d in accuracy.DATASETS for k, v in getattr(rep, d).items()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=3, help="reports, each scanned as every variant (default 3)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--variant", action="append", choices=sorted(scan.VARIANTS))
    parser.add_argument("--show", type=int, default=15, help="wrong cells to list")
    args = parser.parse_args(argv)
    if not office.soffice():
        print("LibreOffice is not installed: no scans to make")
        return 0
    variants = args.variant or list(scan.VARIANTS)
    start = time.perf_counter()
    # a variant named alone is scanned as it is among all (the same draws as `make accuracy`'s)
    every, only = list(scan.VARIANTS), set(variants)
    with ProcessPoolExecutor(args.jobs) as pool:
        done = [
            r
            for rs in pool.map(check, range(args.n), [args.seed] * args.n, [every] * args.n, [only] * args.n)
            for r in rs
        ]
    print(
        f"seed {args.seed}, {args.n} reports scanned as {len(variants)} variants in "
        f"{time.perf_counter() - start:.0f} s ({args.jobs} jobs)\n"
    )
    head = f"{'variant':<16} {'documents':>9} {'cells':>6} {'exact':>8} {'flagged':>8} {'wrong':>6} {'s/page':>7}"
    print(head + "\n" + "-" * len(head))
    failed = False
    for v in variants:
        rows = [r for r in done if r[0] == v]
        exact, flagged, wrong = (sum(r[i] for r in rows) for i in (1, 2, 3))
        cells = exact + flagged + wrong
        pages = sum(r[6] for r in rows)
        per_page = sum(r[5] for r in rows) / pages if pages else float("nan")
        print(
            f"{v:<16} {len(rows):>9} {cells:>6} {100 * exact / cells:>7.1f}% {100 * flagged / cells:>7.1f}% "
            f"{wrong:>6} {per_page:>7.1f}"
        )
        failed |= wrong > 0 or exact < 0.95 * cells
        why = sum((r[7] for r in rows), Counter())
        print(" " * 17 + "flagged: " + ", ".join(f"{n} {w}" for w, n in why.most_common()))
    wrong = [(r[0], *w) for r in done for w in r[4]]
    for variant, name, printed, got in wrong[: args.show]:
        print(f"  {variant:<16} {name:<52} printed {printed!r:<10} published {got!r}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
