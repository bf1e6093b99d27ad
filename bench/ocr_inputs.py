"""What OCR's recogniser is given per page: line images and columns of input, by what they are.

    python bench/ocr_inputs.py [--n N] [--seed S] [--variant V ...]

Scans N generated reports (as bench/ocr_bench.py makes them) as each variant and reads them with
the PDF extractor, counting every line image nianbao.extract.pdf.ocr.recognise is given by where
it comes from: a table's cells read whole (split into number cells and text cells by what they
read as), a tall header's or label's first and last lines, the lines outside tables (probes,
lines read whole), an unruled table's pieces. Columns are the recogniser's input width at its
height of 48 pixels, cut and padded as recognise first reads them (ocr._trimmed, ocr._tails: a
line's ink and 12 columns of grey): what its CPU grows with. A benchmark: nothing is asserted.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for _p in (ROOT / "tests", ROOT / "tests" / "fixtures", ROOT / "bench"):
    sys.path.insert(0, str(_p))

import scan  # noqa: E402
from ocr_bench import pages_of, scans  # noqa: E402

from nianbao.extract import extract, office  # noqa: E402
from nianbao.extract.pdf import _CELL_VALUE, ocr  # noqa: E402

lines: Counter = Counter()
columns: Counter = Counter()
calls: Counter = Counter()  # calls of recognise given lines, by what they read
_kind: list[str] = []  # what the recognise call under way reads (set by the wrappers)


def _columns(crops) -> list[int]:
    """Each line's input width to the recogniser, cut and padded as recognise first reads it (the
    few doubtful lines it reads again are not counted)."""
    return [int(48 * w) for w in ocr._tails([ocr._trimmed(c) for c in crops])]


def _install() -> None:
    recognise, read = ocr.recognise, ocr._read

    def counted(crops, pads=None):
        out = recognise(crops, pads)
        caller = sys._getframe(1)
        kind = _kind[-1] if _kind else f"{Path(caller.f_code.co_filename).stem}.{caller.f_code.co_name}"
        calls[kind] += bool(crops)
        for width, (text, _) in zip(_columns(crops), out):
            k = kind
            if kind == "cells":  # split by what each line read as
                k = "cells: number lines" if _CELL_VALUE.fullmatch(text.strip() or "0") else "cells: text lines"
            lines[k] += 1
            columns[k] += width
        return out

    def read_cells(cell_lines, which, into):
        _kind.append("cells")
        try:
            return read(cell_lines, which, into)
        finally:
            _kind.pop()

    ocr.recognise, ocr._read = counted, read_cells


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--variant", action="append", choices=sorted(scan.VARIANTS))
    args = parser.parse_args(argv)
    if not office.soffice():
        print("OCR: LibreOffice is not installed, no scans to make")
        return 0
    variants = args.variant or ["scan/200", "photo/200"]
    datas = scans(args.n, args.seed, variants)
    _install()
    pages = 0
    for data in datas:
        extract(data, "pdf")
        pages += pages_of(data)
    print(f"\nrecogniser input, {len(datas)} scans ({', '.join(variants)}), {pages} pages\n")
    print(f"{'from':<34} {'lines/page':>10} {'columns/page':>13} {'share':>6}")
    total = sum(columns.values())
    for kind, cols in columns.most_common():
        print(f"{kind:<34} {lines[kind] / pages:>10.1f} {cols / pages:>13.0f} {100 * cols / total:>5.0f}%")
    print(f"{'all':<34} {sum(lines.values()) / pages:>10.1f} {total / pages:>13.0f}")
    print(f"\ncalls of recognise given lines: {sum(calls.values()) / pages:.1f}/page")
    return 0


if __name__ == "__main__":
    sys.exit(main())
