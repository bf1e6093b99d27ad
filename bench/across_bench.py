"""The checks across years at national scale: a generated warehouse of N agencies x 3 years (rows
only, no documents), then a full re-check (every agency) and an incremental one (the agencies of one
run of `--touched` reports), each in a fresh process so that its peak memory is its own.

Rows generated per report: the cells the checks read (section 三's 上年结转 and 结转下年度 for the
seven applicant columns, section 二's 规章 and 行政规范性文件 制发/废止/现行有效) and sections 一 and 五
(boilerplate clauses that many agencies share, the agency's own, a tenth copied from the year before);
a twentieth of the chains are broken. Prints figures, asserts nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from nianbao.model.schema import schema  # noqa: E402
from nianbao.warehouse.publish import partition_dir, write_atomic  # noqa: E402

YEARS = (2022, 2023, 2024)
APPLICANTS = ["natural_person", "commercial", "research", "social_welfare", "legal_services", "other_org", "total"]
ALPHABET = "政务公开信息申请办理答复制度平台网站建设监督保障规范工作推进落实完善机制群众服务基层标准目录解读回应关切数据管理审核发布质量效率专栏培训考核"
BOILER = [
    "坚持以习近平新时代中国特色社会主义思想为指导",
    "认真贯彻落实政府信息公开条例",
    "持续推进决策执行管理服务结果公开",
    "全面提升政务公开质量和实效",
    "依申请公开答复规范性有待提高",
    "政策解读形式较为单一",
    "下一步将进一步完善公开目录",
    "加强政务公开队伍建设",
    "强化政府网站和政务新媒体管理",
    "做好政策文件发布和解读工作",
]


def own_clause(rng: random.Random) -> str:
    return "".join(rng.choices(ALPHABET, k=rng.randint(10, 18)))


def generate(root: Path, agencies: int, per_file: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    ids = [hashlib.sha256(f"agency{i}".encode()).hexdigest()[:20] for i in range(agencies)]
    carried = [rng.randint(0, 3) for _ in range(agencies)]
    in_force = [[rng.randint(0, 30), rng.randint(0, 60)] for _ in range(agencies)]
    texts = [[own_clause(rng) for _ in range(6)] for _ in range(agencies)]
    for year in YEARS:
        rids = [hashlib.sha256(f"{a}-{year}".encode()).hexdigest() for a in ids]
        reports, apps, ad, narr = [], [], [], []
        for i, rid in enumerate(rids):
            broken = rng.random() < 0.05
            forward = rng.randint(0, 3)
            reports.append((rid, f"某县某{i}局", ids[i], "320813"))
            for a in APPLICANTS:  # natural persons carry everything; a break adds one
                apps.append(
                    (
                        rid,
                        "carried_over",
                        a,
                        carried[i] + (1 if broken else 0) if a in ("natural_person", "total") else 0,
                    )
                )
                apps.append((rid, "carried_forward", a, forward if a in ("natural_person", "total") else 0))
            carried[i] = forward
            for k, item in enumerate(("regulations", "normative_documents")):
                issued, repealed = rng.randint(0, 5), rng.randint(0, 2)
                in_force[i][k] = max(0, in_force[i][k] + issued - repealed)
                ad += [
                    (rid, item, "issued", issued),
                    (rid, item, "repealed", repealed),
                    (rid, item, "in_force", in_force[i][k] + (2 if broken else 0)),
                ]
            if rng.random() >= 0.1:  # nine in ten write anew
                texts[i] = [own_clause(rng) for _ in range(6)]
            boiler = rng.sample(BOILER, 4)
            narr.append((rid, "overview", f"{year}年，" + "，".join(boiler[:2] + texts[i][:4]) + "。"))
            narr.append((rid, "problems", "，".join(boiler[2:] + texts[i][4:]) + "。"))
        frames = {
            "reports": pl.DataFrame(
                reports, schema=["report_id", "agency", "agency_id", "region_code"], orient="row"
            ).with_columns(
                status=pl.lit("valid"),
                source_uri=pl.lit("generated"),
                source_format=pl.lit("txt"),
                template_version=pl.lit("2021"),
                error_count=pl.lit(0),
                warning_count=pl.lit(0),
                run_id=pl.lit("bench"),
                pipeline_version=pl.lit("bench"),
            ),
            "applications": pl.DataFrame(apps, schema=["report_id", "row", "applicant", "value"], orient="row"),
            "active_disclosure": pl.DataFrame(
                ad, schema=["report_id", "item", "metric", "value"], orient="row"
            ).with_columns(pl.col("value").cast(pl.Int32)),
            "narratives": pl.DataFrame(narr, schema=["report_id", "section", "text"], orient="row"),
        }
        for dataset, df in frames.items():
            s = schema(dataset, with_partition=False)
            for col in s.names:
                if col not in df.columns:
                    df = df.with_columns(pl.lit(None).alias(col))
            table = df.select(s.names).to_arrow().cast(s)
            for n, start in enumerate(range(0, table.num_rows, per_file * len(df) // agencies)):
                part = table.slice(start, per_file * len(df) // agencies)
                write_atomic(part, partition_dir(root, dataset, year) / f"part-{n:05d}.parquet")


def measure(root: Path, touched: int | None) -> dict:
    from nianbao.check import across

    ids = None
    if touched is not None:
        reports = pl.scan_parquet(root / "reports" / f"year={YEARS[1]}" / "*.parquet").select("report_id").head(touched)
        ids = reports.collect()["report_id"].to_list()
    start = time.perf_counter()
    found = across.check(root, ids, "bench")
    seconds = time.perf_counter() - start
    rules = found.group_by("rule_id").len().sort("rule_id").rows()
    return {
        "seconds": round(seconds, 1),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        "findings": dict(rules),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--agencies", type=int, default=150_000)
    ap.add_argument("--touched", type=int, default=1_000, help="reports of one run, for the incremental re-check")
    ap.add_argument("--per-file", type=int, default=5_000, help="reports per Parquet file")
    ap.add_argument("--out", default="/tmp/nianbao-across-bench")
    ap.add_argument("--measure", choices=["full", "incremental"], help=argparse.SUPPRESS)
    a = ap.parse_args()
    root = Path(a.out)
    if a.measure:
        print(json.dumps(measure(root, None if a.measure == "full" else a.touched)))
        return
    import shutil

    shutil.rmtree(root, ignore_errors=True)
    start = time.perf_counter()
    generate(root, a.agencies, a.per_file)
    print(
        f"across years: generated {a.agencies:,} agencies x {len(YEARS)} years in {time.perf_counter() - start:.0f} s "
        f"({sum(p.stat().st_size for p in root.rglob('*.parquet')) / 2**20:.0f} MiB of Parquet)"
    )
    for mode in ("full", "incremental"):
        out = subprocess.run(
            [sys.executable, __file__, "--out", str(root), "--touched", str(a.touched), "--measure", mode],
            capture_output=True,
            text=True,
            check=True,
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        what = "every agency" if mode == "full" else f"the agencies of {a.touched:,} reports"
        print(
            f"across years, {mode} re-check ({what}): {r['seconds'] / 60:.1f} min, peak memory "
            f"{r['peak_rss_mb']:,} MiB, findings {r['findings']}"
        )
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
