"""Where OCR's CPU goes: CPU seconds per page by stage, and the profile's top entries.

    python bench/ocr_profile.py [--n N] [--variant V ...] [--top K]

Scans N generated reports (as bench/ocr_bench.py makes them) as each variant, reads them with the
PDF extractor under cProfile timed by process CPU (OCR runs one thread, so what other processes do
to the wall clock does not count), and prints each stage's cumulative CPU seconds per page (a stage
inside another counts in both: recognition within the table's and the text's) and the K functions
that cost most of their own. A benchmark: nothing is asserted.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for _p in (ROOT / "tests", ROOT / "tests" / "fixtures", ROOT / "bench"):
    sys.path.insert(0, str(_p))

import scan  # noqa: E402
from ocr_bench import pages_of, scans  # noqa: E402

from nianbao.extract import extract, office  # noqa: E402

# (stage, file, function): cumulative CPU of these calls
STAGES = [
    ("glance (holds_table, 72 dpi)", "ocr.py", "holds_table"),
    ("render at 200 dpi + scanprep", "ocr.py", "render"),
    ("  of which scanprep.prepare", "scanprep.py", "prepare"),
    ("straighten", "ocr.py", "straighten"),
    ("find_tables", "ocr.py", "find_tables"),
    ("unruled (aligned.read)", "aligned.py", "read"),
    ("  of which level", "scanprep.py", "level"),
    ("  of which its rules erased", "aligned.py", "_ruled"),
    ("  of which detector (det)", "aligned.py", "_detect"),
    ("  of which missed marks", "aligned.py", "_missed"),
    ("tables: cells cut + read", "ocr.py", "_table"),
    ("text outside tables", "ocr.py", "_text_lines"),
    ("  of which detector (det)", "ocr.py", "_detect"),
    ("recogniser (rec), all calls", "ocr.py", "recognise"),
    ("ONNX Runtime run (det + rec)", "~", "<built-in method onnxruntime.capi.onnxruntime_pybind11_state.run>"),
]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1, help="reports scanned per variant (default 1)")
    parser.add_argument("--variant", action="append", choices=sorted(scan.VARIANTS))
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if not office.soffice():
        print("OCR: LibreOffice is not installed, no scans to make")
        return 0
    variants = args.variant or ["scan/200", "photo/200"]
    datas = scans(args.n, args.seed, variants)
    extract(scan.rasterise(datas[0], dpi=72), "pdf")  # load the models outside the profile
    pages = sum(pages_of(d) for d in datas)
    profile = cProfile.Profile(time.process_time)
    profile.enable()
    for data in datas:
        extract(data, "pdf")
    profile.disable()
    stats = pstats.Stats(profile).stats  # {(file, line, name): (calls, primitive, own, cumulative, callers)}
    total = sum(own for _, _, own, _, _ in stats.values())
    print(f"\n{len(datas)} scans ({', '.join(variants)}), {pages} pages: {total / pages:.3f} CPU-s/page\n")
    print(f"{'stage':<32} {'calls':>6} {'cpu s/page':>11} {'share':>6}")
    for label, file, name in STAGES:
        hits = [v for (f, _, n), v in stats.items() if n == name and f.endswith(file)]
        calls, cum = sum(v[1] for v in hits), sum(v[3] for v in hits)
        print(f"{label:<32} {calls:>6} {cum / pages:>11.3f} {100 * cum / total:>5.0f}%")
    print(f"\ntop {args.top} by own CPU\n{'own s/page':>10} {'calls':>7}  function")
    top = sorted(stats.items(), key=lambda kv: -kv[1][2])[: args.top]
    for (file, line, name), (_, calls, own, _, _) in top:
        where = f"{Path(file).name}:{line} {name}" if file != "~" else name
        print(f"{own / pages:>10.3f} {calls:>7}  {where}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
