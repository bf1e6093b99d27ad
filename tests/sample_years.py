"""The sample report as other agencies' years, written as text reports and run through the real
pipeline and warehouse (the checks across years' tests, and those of versions and the site)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from conftest import REAL, ROOT

from nianbao.acquire.sources import resolve as sources
from nianbao.check import across
from nianbao.run import pipeline
from nianbao.warehouse import publish

SAMPLE = (ROOT / "data" / "samples" / "sample_valid_2023.txt").read_text(encoding="utf-8")
KIRO = REAL / "zxj6827111-blip__KIROGOVCOMPARE"
SZFGS2024 = REAL / "zxj6827111-blip__govnianbao" / "szfgs2024.pdf"

OWN_2023 = (
    "全镇围绕乡村振兴重点任务推进政务公开，在村务公开栏更新惠农补贴发放名单，"
    "组织村干部学习政府信息公开条例，编制镇级主动公开目录并逐项认领责任科室。"
)
OWN_2024 = (
    "本年度聚焦基层政务公开标准化建设，新设便民服务中心政务公开专区，"
    "对征地拆迁补偿信息实行全流程公开，开展群众满意度调查并逐条整改反馈意见。"
)
PROBLEMS = "一是主动公开的深度还不够；二是政策解读形式较单一。下一步将完善公开目录，丰富解读形式。"


def report_text(
    agency: str,
    year: int,
    *,
    carried_over: int = 1,
    carried_forward: int = 2,
    normative: tuple[int, int, int] = (1, 1, 14),
    overview: str = OWN_2023,
    signed: str | None = None,
) -> str:
    """The sample report as another agency's year, with the values the cross-year rules read;
    section 三 still balances (new natural persons = 11 + carried_forward - carried_over)."""
    np_new = 11 + carried_forward - carried_over
    text = SAMPLE.replace("示例县青山镇人民政府", agency).replace("2023年", f"{year}年")
    text = text.replace(
        "一、本年新收政府信息公开申请数量\t\t12\t3\t0\t1\t0\t0\t16",
        f"一、本年新收政府信息公开申请数量\t\t{np_new}\t3\t0\t1\t0\t0\t{np_new + 4}",
    )
    text = text.replace(
        "二、上年结转政府信息公开申请数量\t\t1\t0\t0\t0\t0\t0\t1",
        f"二、上年结转政府信息公开申请数量\t\t{carried_over}\t0\t0\t0\t0\t0\t{carried_over}",
    )
    text = text.replace(
        "四、结转下年度继续办理\t\t2\t0\t0\t0\t0\t0\t2",
        f"四、结转下年度继续办理\t\t{carried_forward}\t0\t0\t0\t0\t0\t{carried_forward}",
    )
    text = text.replace("行政规范性文件\t2\t1\t14", "行政规范性文件\t" + "\t".join(map(str, normative)))
    start, end = text.index("一、总体情况\n\n") + 8, text.index("\n\n二、主动公开")
    text = text[:start] + overview.format(year=year) + text[end:]
    return text.replace("2024年1月15日", signed or f"{year + 1}年1月15日")


def broken_chains() -> dict[str, str]:
    """乙镇's two years, breaking both chains across them: carried 2 -> 5, in force 14 -> 20 (18 due)."""
    return {
        "b23": report_text("盱眙县乙镇人民政府", 2023, carried_forward=2, normative=(2, 1, 14)),
        "b24": report_text("盱眙县乙镇", 2024, carried_over=5, normative=(3, 1, 20), overview=OWN_2024),
    }


def ingest(root: Path, docs: dict[str, str], run: str = "r") -> pl.DataFrame:
    """Write, ingest and publish the documents as one batch, then run the stage after publishing."""
    folder = root.parent / f"docs-{run}"
    folder.mkdir(exist_ok=True)
    for name, text in docs.items():
        (folder / f"{name}.txt").write_text(text, encoding="utf-8")
    frames = pipeline.process_batch(sources([str(folder / f"{n}.txt") for n in docs]), run, processes=False)
    publish.publish(root, frames)
    across.check(root, frames["reports"]["report_id"].to_list(), run)
    return frames["reports"]


def findings(root: Path, rule: str | None = None) -> set[tuple]:
    """(agency, year, rule_id, expected, observed) of every finding in the warehouse."""
    if not list((root / "findings").glob("*/*.parquet")):
        return set()
    f = pl.read_parquet(root / "findings" / "**" / "*.parquet", hive_partitioning=True)
    r = pl.read_parquet(root / "reports" / "**" / "*.parquet", hive_partitioning=True).select("report_id", "agency")
    f = f.join(r, on="report_id")
    if rule:
        f = f.filter(pl.col("rule_id") == rule)
    return {
        (a, y, rid, e, o) for a, y, rid, e, o in f.select("agency", "year", "rule_id", "expected", "observed").rows()
    }


def across_findings(root: Path) -> set[tuple]:
    return {f for f in findings(root) if f[2].startswith(("cross_year.", "narrative.copied"))}
