"""The site of one province from a national warehouse: N agencies x 3 years generated as in
bench/indicators_bench.py (rows only: reports, section 三 and 四 cells, findings, agencies over 31
provinces), their indicators, peers and quality computed, then `nianbao site --region` of one
province timed in a fresh process, its peak memory its own (what the province's pages need, not
the country). Prints figures, asserts nothing."""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from indicators_bench import YEARS, generate  # noqa: E402


def measure(root: Path, out: Path, region: str) -> dict:
    from nianbao.report import site

    start, cpu = time.perf_counter(), time.process_time()
    built = site.build(root, out, region=region)
    return {
        "seconds": round(time.perf_counter() - start, 1),
        "cpu": round(time.process_time() - cpu, 1),
        "pages": built.pages,
        "agencies": built.agencies,
        "regions": built.regions,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        "mib": round(sum(p.stat().st_size for p in out.rglob("*.html")) / 2**20),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--agencies", type=int, default=150_000)
    ap.add_argument("--region", default="320000", help="the province built")
    ap.add_argument("--per-file", type=int, default=5_000, help="reports per Parquet file")
    ap.add_argument("--out", default="/tmp/nianbao-site-bench")
    ap.add_argument("--reuse", action="store_true", help="use the warehouse already in --out (generated before)")
    ap.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    root, pages = Path(a.out) / "warehouse", Path(a.out) / "site"
    if a.measure:
        print(json.dumps(measure(root, pages, a.region)))
        return
    if not (a.reuse and (root / "indicators").is_dir()):
        from nianbao.check import indicators

        shutil.rmtree(a.out, ignore_errors=True)
        start = time.perf_counter()
        generate(root, a.agencies, a.per_file)
        indicators.compute(root)
        print(
            f"site: generated {a.agencies:,} agencies x {len(YEARS)} years and their indicators in "
            f"{time.perf_counter() - start:.0f} s ({sum(p.stat().st_size for p in root.rglob('*.parquet')) / 2**20:.0f} "
            "MiB of Parquet)"
        )
    shutil.rmtree(pages, ignore_errors=True)
    done = subprocess.run(
        [sys.executable, __file__, "--out", a.out, "--region", a.region, "--measure"],
        capture_output=True,
        text=True,
        check=True,
    )
    r = json.loads(done.stdout.strip().splitlines()[-1])
    print(
        f"site of one province ({a.region}: {r['agencies']:,} agencies, {r['regions']} region pages, "
        f"{r['pages']:,} pages, {r['mib']} MiB) from a national warehouse of {a.agencies:,} agencies x {len(YEARS)} "
        f"years: {r['seconds']:.1f} s ({r['cpu']:.1f} s of CPU), peak memory {r['peak_rss_mb']:,} MiB"
    )
    if not a.reuse:
        shutil.rmtree(a.out, ignore_errors=True)


if __name__ == "__main__":
    main()
