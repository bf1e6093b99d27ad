"""tests/accuracy_scans.py's figures from scans made once: for trying OCR changes in minutes.

    python bench/ocr_cells.py make --seed S --n N            # scans to /tmp/ocr_cells/S-N.pkl
    python bench/ocr_cells.py read --seed S --n N [--save F] [--against F] [--variant V ...]

`make` scans N generated reports as every variant, as tests/accuracy_scans.py does (the same
draws: the same pictures). `read` reads them back as it does (extract, match, trust) and prints
per variant the cells exact, flagged and wrong and the CPU seconds per page read; `--save` keeps
every cell's reading (text, confidence, published or flagged), `--against` lists the cells whose
outcome or reading differs from a saved run's. tests/accuracy_scans.py stays the judge; this is
its quicker proxy while trying. A benchmark: nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import random
import resource
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for _p in (ROOT / "tests", ROOT / "tests" / "fixtures"):
    sys.path.insert(0, str(_p))

import accuracy  # noqa: E402
import accuracy_scans  # noqa: E402
import corpus  # noqa: E402
import scan  # noqa: E402

from nianbao.extract import extract  # noqa: E402
from nianbao.interpret import trust  # noqa: E402
from nianbao.interpret.match import match  # noqa: E402
from nianbao.interpret.normalise import number  # noqa: E402

CACHE = Path("/tmp/ocr_cells")


def _make(index: int, seed: int) -> list[tuple[str, bytes, dict]]:
    rng = random.Random(f"{seed}:scan:{index}")
    rep = accuracy.random_report(rng)
    docx = corpus.write_docx(corpus.layout(rep))
    pdfs, out = {}, []
    for variant in scan.VARIANTS:
        settings = scan.settings(variant, rng)
        rules = scan.rules(variant)
        if rules not in pdfs:
            pdfs[rules] = scan.from_docx(docx, rules)
        out.append((variant, scan.rasterise(pdfs[rules], **settings), accuracy_scans._expected(rep)))
    return out


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _read(item: tuple[int, str, bytes, dict]) -> tuple[str, int, dict, float, int]:
    index, variant, data, expected = item
    start = _cpu()
    blocks = extract(data, "pdf")
    m = match(blocks)
    read = {f"{d}:{c.key[0]}/{c.key[1]}": c.raw for d in accuracy.DATASETS for c in getattr(m, d)}
    m = trust.check(blocks, m)
    seconds = _cpu() - start
    pages = len({w for b in blocks if getattr(b, "confidence", None) is not None for w in b.where})
    unread = {f.cells[0] for f in m.findings if f.rule_id == "extraction.unread_cell"}
    got = {f"{d}:{c.key[0]}/{c.key[1]}": c.raw for d in accuracy.DATASETS for c in getattr(m, d)}
    cells = {}
    for name, printed in expected.items():
        r = read.get(name)
        seen = (str(r) if r is not None else None, round(float(getattr(r, "confidence", 0.0)), 4))
        if name in unread:
            outcome = "flagged"
        elif name in got and number(got[name]) == number(printed):
            outcome = "exact"
        else:
            outcome = "wrong"
        cells[name] = (outcome, *seen)
    cells.update({n: ("wrong", str(v), 0.0) for n, v in got.items() if n not in expected and v is not None})
    return variant, index, cells, seconds, pages


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["make", "read"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--variant", action="append", choices=sorted(scan.VARIANTS))
    parser.add_argument("--save")
    parser.add_argument("--against")
    args = parser.parse_args(argv)
    path = CACHE / f"{args.seed}-{args.n}.pkl"
    if args.what == "make":
        CACHE.mkdir(exist_ok=True)
        with ProcessPoolExecutor(args.jobs) as pool:
            made = list(pool.map(_make, range(args.n), [args.seed] * args.n))
        path.write_bytes(pickle.dumps(made))
        print(f"{sum(map(len, made))} scans in {path}")
        return 0
    made = pickle.loads(path.read_bytes())
    items = [(i, v, d, e) for i, doc in enumerate(made) for v, d, e in doc if not args.variant or v in args.variant]
    start = time.perf_counter()
    with ProcessPoolExecutor(args.jobs) as pool:
        done = list(pool.map(_read, items))
    print(f"seed {args.seed}, n {args.n}: {len(items)} scans in {time.perf_counter() - start:.0f} s\n")
    print(f"{'variant':<22} {'cells':>6} {'exact':>6} {'flagged':>8} {'wrong':>6} {'cpu s/page':>11}")
    for v in [v for v in scan.VARIANTS if any(r[0] == v for r in done)]:
        rows = [r for r in done if r[0] == v]
        outcomes = Counter(o for r in rows for o, *_ in r[2].values())
        cpu = sum(r[3] for r in rows) / max(1, sum(r[4] for r in rows))
        print(
            f"{v:<22} {sum(outcomes.values()):>6} {outcomes['exact']:>6} {outcomes['flagged']:>8} "
            f"{outcomes['wrong']:>6} {cpu:>11.2f}"
        )
    total = sum(r[3] for r in done) / max(1, sum(r[4] for r in done))
    print(f"{'all':<22} {'':>6} {'':>6} {'':>8} {'':>6} {total:>11.2f}")
    cells = {f"{v} {i} {n}": c for v, i, cs, _, _ in done for n, c in cs.items()}
    if args.save:
        Path(args.save).write_text(json.dumps(cells))
    if args.against:
        before = json.loads(Path(args.against).read_text())
        differ = [k for k in cells if k in before and tuple(before[k]) != tuple(cells[k])]
        print(f"\n{len(differ)} cells differ from {args.against}")
        for k in sorted(differ):
            print(f"  {k:<60} {tuple(before[k])} -> {tuple(cells[k])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
