"""Indicators, peers and data quality at national scale: a generated warehouse of N agencies x 3
years (rows only, no documents), then every indicator computed for every report (all three
years; a full year is a third of it) and incrementally for the agencies of one run of
`--touched` reports (each of their three years, peers ranked again over every year), each in a
fresh process so that its peak memory is its own.

Rows generated per report: every cell of section 三 (26 rows x 7 applicant columns, balanced; a
tenth of the bodies received nothing) and 四 (3 x 5), a `reports` row (2% invalid) and its agency
in `agencies` (31 provinces x 10 prefectures x 10 counties; townships, departments, counties,
cities, provinces), and a finding of a data-quality rule for one report in ten.
Prints figures, asserts nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from nianbao.interpret.agencies import AGENCIES_SCHEMA  # noqa: E402
from nianbao.model.schema import schema  # noqa: E402
from nianbao.model.template import template  # noqa: E402
from nianbao.warehouse.publish import partition_dir, write_atomic  # noqa: E402

YEARS = (2022, 2023, 2024)
APPLICANTS = [c for c, _ in template().spec.applications.columns]  # the six, then total
PROCEEDINGS = [c for c, _ in template().spec.reviews_litigation.proceedings]
OUTCOMES = [c for c, _ in template().spec.reviews_litigation.outcomes]
RESULTS = [r for r in template().result_rows if r != "other"]  # the 2021 edition's 23
ROWS = ["new", "carried_over", *RESULTS, "handled_total", "carried_forward"]
# requests a year per result row (natural persons; the other applicants a share of it)
LAM = np.array(
    [6.0 if r == "disclosed" else 1.5 if r in ("partly_disclosed", "unavailable_not_held") else 0.15 for r in RESULTS]
)
SHARE = np.array([1.0, 0.2, 0.02, 0.02, 0.1, 0.05])
QUALITY_RULES = [r for p in template().problems for r in p.rules]


def generate(root: Path, agencies: int, per_file: int, seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    ids = [hashlib.sha256(f"agency{i}".encode()).hexdigest()[:20] for i in range(agencies)]
    kind = rng.choice(
        ["township", "department", "county", "city", "province"], size=agencies, p=[0.6, 0.25, 0.1, 0.04, 0.01]
    )
    province, prefecture, county = (
        rng.integers(11, 42, agencies),
        rng.integers(1, 11, agencies),
        rng.integers(1, 11, agencies),
    )
    codes = [
        f"{p:02d}0000" if k == "province" else f"{p:02d}{c:02d}00" if k == "city" else f"{p:02d}{c:02d}{n:02d}"
        for k, p, c, n in zip(kind, province, prefecture, county)
    ]
    names = [f"某机关{i}" for i in range(agencies)]
    agencies_table = (
        pl.DataFrame(
            {"agency_id": ids, "name": names, "names": [[n] for n in names], "region_code": codes, "level": kind}
        )
        .to_arrow()
        .cast(AGENCIES_SCHEMA)
    )
    write_atomic(agencies_table, root / "agencies" / "agencies.parquet")
    idle = rng.random(agencies) < 0.1  # bodies that received nothing
    for year in YEARS:
        rids = [hashlib.sha256(f"{a}-{year}".encode()).hexdigest() for a in ids]
        for n, start in enumerate(range(0, agencies, per_file)):
            chunk = slice(start, min(start + per_file, agencies))
            r = rids[chunk]
            k = len(r)
            results = rng.poisson(LAM[None, :, None] * SHARE[None, None, :], size=(k, len(RESULTS), 6))
            results[idle[chunk]] = 0
            handled = results.sum(axis=1)
            forward = rng.poisson(0.5, size=(k, 6)) * (~idle[chunk])[:, None]
            over = np.minimum(rng.poisson(0.5, size=(k, 6)), handled + forward) * (~idle[chunk])[:, None]
            cells = np.concatenate(
                [(handled + forward - over)[:, None], over[:, None], results, handled[:, None], forward[:, None]],
                axis=1,
            )  # (k, 26, 6)
            cells = np.concatenate([cells, cells.sum(axis=2, keepdims=True)], axis=2)  # the total column
            rl = rng.poisson(0.08, size=(k, 3, 4))
            rl = np.concatenate([rl, rl.sum(axis=2, keepdims=True)], axis=2)
            status = np.where(rng.random(k) < 0.02, "invalid", "valid")
            flagged = rng.random(k) < 0.1
            ids_of = lambda each: pl.Series(r).gather(np.repeat(np.arange(k), each))  # noqa: E731
            frames = {
                "reports": pl.DataFrame(
                    {
                        "report_id": r,
                        "agency": names[chunk],
                        "agency_id": ids[chunk],
                        "region_code": codes[chunk],
                        "status": status,
                    }
                ).with_columns(
                    source_uri=pl.lit("generated"),
                    source_format=pl.lit("txt"),
                    template_version=pl.lit("2021"),
                    read_by=pl.lit("text"),
                    error_count=pl.lit(0),
                    warning_count=pl.lit(0),
                    run_id=pl.lit("bench"),
                    pipeline_version=pl.lit("bench"),
                ),
                "applications": pl.DataFrame(
                    {
                        "report_id": ids_of(len(ROWS) * 7),
                        "row": pl.Series(ROWS).gather(np.tile(np.repeat(np.arange(len(ROWS)), 7), k)),
                        "applicant": pl.Series(APPLICANTS).gather(np.tile(np.arange(7), len(ROWS) * k)),
                        "value": cells.reshape(-1),
                    }
                ),
                "reviews_litigation": pl.DataFrame(
                    {
                        "report_id": ids_of(15),
                        "proceeding": pl.Series(PROCEEDINGS).gather(np.tile(np.repeat(np.arange(3), 5), k)),
                        "outcome": pl.Series(OUTCOMES).gather(np.tile(np.arange(5), 3 * k)),
                        "value": rl.reshape(-1),
                    }
                ),
                "findings": pl.DataFrame(
                    {
                        "report_id": pl.Series(r).filter(flagged),
                        "rule_id": rng.choice(QUALITY_RULES, size=int(flagged.sum())),
                    }
                ).with_columns(
                    severity=pl.lit("warning"), message=pl.lit("generated"), cells=pl.lit([], pl.List(pl.String))
                ),
            }
            for dataset, df in frames.items():
                s = schema(dataset, with_partition=False)
                df = df.with_columns(pl.lit(None).alias(c) for c in s.names if c not in df.columns)
                write_atomic(
                    df.select(s.names).to_arrow().cast(s), partition_dir(root, dataset, year) / f"part-{n:05d}.parquet"
                )


def measure(root: Path, touched: int | None) -> dict:
    from nianbao.check import indicators

    ids = None
    if touched is not None:
        reports = pl.scan_parquet(root / "reports" / f"year={YEARS[1]}" / "*.parquet").select("report_id")
        ids = reports.collect().sample(touched, seed=2)["report_id"].to_list()
    start, cpu = time.perf_counter(), time.process_time()
    written = indicators.compute(root, ids)
    return {
        "seconds": round(time.perf_counter() - start, 1),
        "cpu_seconds": round(time.process_time() - cpu, 1),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        "written": written,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--agencies", type=int, default=150_000)
    ap.add_argument("--touched", type=int, default=1_000, help="reports of one run, for the incremental computation")
    ap.add_argument("--per-file", type=int, default=5_000, help="reports per Parquet file")
    ap.add_argument("--out", default="/tmp/nianbao-indicators-bench")
    ap.add_argument("--keep", action="store_true", help="leave the generated warehouse in --out (and reuse it)")
    ap.add_argument("--measure", choices=["full", "incremental"], help=argparse.SUPPRESS)
    a = ap.parse_args()
    root = Path(a.out)
    if a.measure:
        print(json.dumps(measure(root, None if a.measure == "full" else a.touched)))
        return
    import shutil

    made = root / f"generated-{a.agencies}-{a.per_file}"
    if not (a.keep and made.exists()):
        shutil.rmtree(root, ignore_errors=True)
        start = time.perf_counter()
        generate(root, a.agencies, a.per_file)
        made.touch()
        print(
            f"indicators: generated {a.agencies:,} agencies x {len(YEARS)} years in {time.perf_counter() - start:.0f} s "
            f"({sum(p.stat().st_size for p in root.rglob('*.parquet')) / 2**20:.0f} MiB of Parquet)"
        )
    for derived in ("indicators", "indicators_previous", "peers", "quality"):
        shutil.rmtree(root / derived, ignore_errors=True)
    for mode in ("full", "incremental"):
        out = subprocess.run(
            [sys.executable, __file__, "--out", str(root), "--touched", str(a.touched), "--measure", mode],
            capture_output=True,
            text=True,
            check=True,
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        w = r["written"]
        what = (
            f"every report of {len(YEARS)} years, {r['seconds'] / 60 / len(YEARS):.1f} min a year"
            if mode == "full"
            else f"the agencies of {a.touched:,} reports, peers of {w['years']} years ranked again"
        )
        print(
            f"indicators, {mode} ({what}): {r['seconds'] / 60:.1f} min ({r['cpu_seconds'] / 60:.1f} min of CPU), "
            f"peak memory {r['peak_rss_mb']:,} MiB; "
            f"rows now: indicators {w['indicators']:,}, peers {w['peers']:,}, quality {w['quality']:,}"
        )
    if not a.keep:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
