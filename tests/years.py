"""A multi-year corpus of reports with known warnings, written as DOCX (python-docx), HTML and TXT.

`write_report()` prints one report in the 2021 template (tests/corpus.py's layout and writers) with
values that keep every error-level rule, and narratives made of paragraphs (a sub-heading on its own
line or in the same paragraph as the figure). `generate()` writes eight agencies × three years with
printed names that vary from year to year, a manifest giving each report's region code (what an
operator knows: the portal it came from), and the warnings injected: figures after headings that
differ from the table, late signatures in Chinese numerals, broken chains, sections 一 and 五 copied
with 1% (light) and 5% (heavy) of their characters changed. Beside them, controls that must stay
unflagged: figures about a sub-unit, 受理 N 件 = new + carried over, signatures on time, fresh text
that shares only the boilerplate, a town of the same name in another county.

    .venv/bin/python tests/years.py [--out DIR] [--seed N] [--as-is]

ingests the corpus with `nianbao ingest MANIFEST` (with --as-is: the files alone, no region codes)
and prints rules F1 and agency-link F1.
"""

from __future__ import annotations

import argparse
import csv
import random
import subprocess
import sys
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
import corpus  # noqa: E402

from nianbao.model.chinese import DIGITS, numeral  # noqa: E402
from nianbao.model.template import template  # noqa: E402

YEARS = (2022, 2023, 2024)
BOILERPLATE = [
    "{year}年，本机关坚持以习近平新时代中国特色社会主义思想为指导，认真贯彻落实《中华人民共和国政府信息公开条例》，"
    "持续推进决策、执行、管理、服务、结果公开。",
    "下一步，将进一步完善政务公开工作机制，加强政策解读和回应关切，不断提升政务公开质量。",
]
WORDS = (
    "水库 移民 搬迁 茶园 林下经济 渔港 码头 棚户区 改造 供水管网 老旧小区 加装电梯 农村公路 养护 河长制 巡河 "
    "垃圾分类 积分超市 网格员 调解 志愿者 驿站 夜市 摊位 冷链 物流 光伏 屋顶 秸秆 禁烧 候鸟 湿地 古村落 修缮 "
    "非遗 工坊 研学 基地 职业 技能 培训 返乡 创业 贷款 贴息 医保 参保 门诊 慢病 托育 学位 校车 食堂 消防 通道 "
    "燃气 管道 排查 整治 台账 销号 督办 回访 满意度 公示 栏目 专区 清单 认领 标注 归档 摘编 汇编 问答 图解 直播 "
    "热线 工单 办结 时限 流程 简化 材料 精简 跨省 通办 容缺 受理 帮办 代办 窗口 延时 预约 上门"
).split()


def sentence(rng: random.Random, n: int) -> str:
    """Own words: n of them, so that no two reports share a passage by chance."""
    return "".join(rng.choice(WORDS) for _ in range(n)) + "。"


def edit(text: str, share: float, rng: random.Random) -> str:
    """`text` with `share` of its Han characters replaced by others (a light or heavy edit)."""
    chars = list(text)
    han = [i for i, c in enumerate(chars) if "\u4e00" <= c <= "\u9fff"]
    for i in rng.sample(han, max(1, round(len(han) * share))):
        chars[i] = rng.choice("的了和与及在对并将把被从向为以")
    return "".join(chars)


@dataclass
class Values:
    """One report: what its tables hold and its text says. Natural persons make every request."""

    agency: str
    year: int
    new: int = 10
    carried_over: int = 0
    carried_forward: int = 1
    in_force: tuple[int, int] = (3, 20)  # regulations, normative documents
    issued: tuple[int, int] = (1, 2)
    repealed: tuple[int, int] = (0, 1)
    reviews: int = 2
    litigation: int = 1
    overview: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    signer: str | None = None
    signed: str | None = None
    title: str | None = None


def tables(v: Values) -> corpus.Report:
    t = template()
    rep = corpus.Report()
    for _, items, metrics in corpus.AD_GROUPS:
        for item in items:
            for metric in metrics:
                rep.active_disclosure[(item, metric)] = "5"
    for k, item in enumerate(("regulations", "normative_documents")):
        rep.active_disclosure.update(
            {
                (item, "issued"): str(v.issued[k]),
                (item, "repealed"): str(v.repealed[k]),
                (item, "in_force"): str(v.in_force[k]),
            }
        )
    handled = v.new + v.carried_over - v.carried_forward
    person = {
        "new": v.new,
        "carried_over": v.carried_over,
        "disclosed": handled,
        "handled_total": handled,
        "carried_forward": v.carried_forward,
    }
    for d in corpus.app_rows_2021():
        for col in t.applicants:
            n = person.get(d["code"], 0) if col in ("natural_person", "total") else 0
            rep.applications[(d["code"], col)] = str(n)
    for p in t.proceedings:
        n = {"review": v.reviews, "litigation_direct": v.litigation}.get(p, 0)
        for o in t.outcomes:
            rep.reviews_litigation[(p, o)] = str(n if o in ("upheld", "total") else 0)
    rep.narratives = {"overview": v.overview, "problems": v.problems, "other_matters": ["本年度未收取信息处理费。"]}
    return rep


def layout(v: Values) -> list[tuple[str, object]]:
    rep, sec = tables(v), template().spec.model_dump()["sections"]
    head = lambda code: ("p", f"{sec[code][0]}、{sec[code][1]}")  # noqa: E731
    out: list[tuple[str, object]] = [
        ("p", v.title or f"{v.agency}{v.year}年政府信息公开工作年度报告"),
        ("p", f"本报告中所列数据的统计期限自{v.year}年1月1日起至{v.year}年12月31日止。"),
        head("overview"),
    ]
    out += [("p", t) for t in rep.narratives["overview"]]
    out += [head("active_disclosure"), ("table", corpus.table_active(rep))]
    out += [head("applications"), ("table", corpus.table_applications(rep))]
    out += [head("reviews_litigation"), ("table", corpus.table_reviews(rep))]
    out += [head("problems")] + [("p", t) for t in rep.narratives["problems"]]
    out += [head("other_matters")] + [("p", t) for t in rep.narratives["other_matters"]]
    out += [("p", v.signer or v.agency), ("p", v.signed or f"{v.year + 1}年1月20日")]
    return out


def write_report(v: Values, path: Path) -> Path:
    blocks = layout(v)
    if path.suffix == ".docx":
        path.write_bytes(corpus.write_docx(blocks))
    elif path.suffix == ".html":
        path.write_text(corpus.write_html(blocks), encoding="utf-8")
    else:
        path.write_text(corpus.write_txt(blocks), encoding="utf-8")
    return path


def chinese_date(year: int, month: int, day: int) -> str:
    return "".join(DIGITS[int(c)] for c in str(year)) + f"年{numeral(month)}月{numeral(day)}日"


# ---------------------------------------------------------------------------- the corpus

# key: (printed name per year, region code the manifest gives). 青禾县/石门县 柳塘镇 are two towns.
AGENCIES = {
    "songshan": (["云溪市松山区人民政府", "松山区人民政府", "云溪市松山区人民政府"], "990102"),
    "liutang": (["青禾县柳塘镇人民政府", "柳塘镇人民政府", "云溪市青禾县柳塘镇人民政府"], "990321"),
    "gaoxin": (["云溪市高新区管理委员会", "高新区管委会", "云溪市高新区管委会"], "990100"),
    "huanjing": (["云溪市生态环境局", "生态环境局", "云溪市生态环境局"], "990100"),
    "hubin": (["湖滨县人民政府", "湖滨县政府", "湖滨县人民政府"], "990330"),
    "guihua": (["南岭市经开区桂花镇人民政府", "经开区桂花镇", "南岭市经开区桂花镇人民政府"], "990400"),
    "sheyang": (["江苏省盐城市射阳县人民政府", "射阳县人民政府", "盐城市射阳县人民政府"], "320924"),
    "shimen": (["石门县柳塘镇人民政府", "柳塘镇人民政府", "石门县柳塘镇人民政府"], "990322"),
}
FORMATS = (".docx", ".html", ".txt")
# (agency, year) -> the warnings injected there
INJECTED = {
    ("songshan", 2023): ["cross_year.carried_over"],
    ("songshan", 2024): ["narrative.table_mismatch"],
    ("liutang", 2023): ["narrative.copied"],  # light
    ("gaoxin", 2023): ["cross_year.in_force"],
    ("gaoxin", 2024): ["metadata.late"],
    ("huanjing", 2023): ["narrative.table_mismatch"],  # heading and figure in one paragraph
    ("huanjing", 2024): ["narrative.copied"],  # heavy
    ("hubin", 2022): ["narrative.table_mismatch"],
    ("hubin", 2023): ["metadata.late"],
    ("hubin", 2024): ["cross_year.carried_over"],
    ("guihua", 2023): ["narrative.copied"],  # heavy
    ("guihua", 2024): ["narrative.table_mismatch"],
    ("sheyang", 2024): ["narrative.copied", "cross_year.in_force"],  # light
    ("shimen", 2024): ["narrative.table_mismatch"],
}
HEAVY = {("huanjing", 2024), ("guihua", 2023)}


def generate(folder: Path, seed: int = 7) -> tuple[Path, dict[str, tuple[str, int]]]:
    """Write the corpus and its manifest; returns the manifest and {file name: (agency key, year)}."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    docs: dict[str, tuple[str, int]] = {}
    rows = []
    for a, (key, (names, region)) in enumerate(AGENCIES.items()):
        carried, in_force, own = 0, (3 + a, 20 + a), None
        for y, year in enumerate(YEARS):
            hurt = INJECTED.get((key, year), [])
            v = Values(
                names[y],
                year,
                new=8 + a + y,
                carried_over=carried,
                carried_forward=(a + y) % 3,
                reviews=a % 3,
                litigation=y % 2,
            )
            if "cross_year.carried_over" in hurt:
                v.carried_over += 2
            v.in_force = (in_force[0] + v.issued[0] - v.repealed[0], in_force[1] + v.issued[1] - v.repealed[1])
            if "cross_year.in_force" in hurt:
                v.in_force = (v.in_force[0], v.in_force[1] + 3)
            in_force = v.in_force  # next year goes on from what this one printed
            carried = v.carried_forward
            fresh = [sentence(rng, 14), sentence(rng, 12), sentence(rng, 16), sentence(rng, 12)]
            if "narrative.copied" in hurt:
                fresh = [edit(t, 0.05 if (key, year) in HEAVY else 0.01, rng) for t in own]
            own = fresh
            stated = v.new + (5 if "narrative.table_mismatch" in hurt else 0)
            apply_words = {
                0: f"全年共收到政府信息公开申请{stated}件",
                1: f"全年共受理政府信息公开申请{stated + v.carried_over}件"
                if "narrative.table_mismatch" not in hurt
                else f"全年新收政府信息公开申请{stated}件",
                2: f"本年度收到政府信息公开申请{stated}件",
            }[(a + y) % 3]
            figure = f"{apply_words}，全部按期答复，其中办公室受理政府信息公开申请{max(1, v.new - 3)}件。"
            fmt = FORMATS[(a + y) % 3]
            heading = "（二）依申请公开"
            paras = [
                BOILERPLATE[0].format(year=year),
                "（一）主动公开",
                own[0] + f"全年主动公开政府信息{40 + a}条。",
                heading,
                figure,
                own[1],
                "（三）监督保障",
                own[2] + f"发生行政复议{v.reviews}件。",
            ]
            if key == "huanjing" and year == 2023:  # the heading and the figure in one HTML paragraph
                paras[3:5] = [heading + "\u3000" + figure]
            v.overview, v.problems = paras, [own[3], BOILERPLATE[1]]
            if key in ("hubin", "gaoxin", "shimen"):  # signed in Chinese numerals, late or on time
                late = "metadata.late" in hurt
                v.signed = chinese_date(year + 1, 2 if late else 1, 28 if late else 26)
            if key == "hubin":
                v.title = f"# {names[y]}{year}年政府信息公开工作年度报告"
            if key == "guihua" and year == 2023:
                v.title = f"{names[y]}{''.join(DIGITS[int(c)] for c in str(year))}年政府信息公开工作年度报告"
            name = f"{key}-{year}{fmt}"
            write_report(v, folder / name)
            docs[name] = (key, year)
            rows.append({"uri": name, "region_code": region})
    manifest = folder / "manifest.csv"
    with open(manifest, "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["uri", "region_code"])
        w.writeheader()
        w.writerows(rows)
    return manifest, docs


RULES = (
    "narrative.table_mismatch",
    "narrative.copied",
    "metadata.late",
    "cross_year.carried_over",
    "cross_year.in_force",
)


def expected(docs: dict[str, tuple[str, int]]) -> tuple[set, set]:
    warnings = {(name, rule) for name, key in docs.items() for rule in INJECTED.get(key, [])}
    links = {tuple(sorted(p)) for p in combinations(docs, 2) if docs[p[0]][0] == docs[p[1]][0]}
    return warnings, links


def found(warehouse: Path) -> tuple[set, set, pl.DataFrame]:
    """(file name, rule_id) of every warning of RULES, the linked pairs, and the reports."""
    reports = pl.read_parquet(warehouse / "reports" / "**" / "*.parquet", hive_partitioning=True)
    reports = reports.with_columns(name=pl.col("source_uri").str.split("/").list.last())
    findings = pl.read_parquet(warehouse / "findings" / "**" / "*.parquet", hive_partitioning=True)
    f = findings.filter(pl.col("rule_id").is_in(RULES)).join(reports.select("report_id", "name"), on="report_id")
    warnings = set(f.select("name", "rule_id").unique().rows())
    by = reports.select("name", "agency_id").rows()
    links = {tuple(sorted((a, b))) for (a, x), (b, y) in combinations(by, 2) if x is not None and x == y}
    return warnings, links, reports


def f1(want: set, got: set) -> tuple[float, int, int]:
    hit = len(want & got)
    return (2 * hit / (len(want) + len(got)) if want or got else 1.0), hit, len(got - want)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="/tmp/nianbao-years")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--as-is", action="store_true", help="ingest the files without the manifest (no region codes)")
    a = ap.parse_args()
    import shutil

    root = Path(a.out)
    shutil.rmtree(root, ignore_errors=True)
    manifest, docs = generate(root / "docs", a.seed)
    wh = root / "wh"
    specs = [str(manifest.parent / name) for name in docs] if a.as_is else [str(manifest)]
    subprocess.run(
        [sys.executable, "-m", "flows", "ingest", *specs, "--out", str(wh)], check=False, stdout=subprocess.DEVNULL
    )
    want_w, want_l = expected(docs)
    got_w, got_l, reports = found(wh)
    (rf, rhit, rfalse), (lf, lhit, lfalse) = f1(want_w, got_w), f1(want_l, got_l)
    print(
        f"{len(docs)} reports of {len(AGENCIES)} agencies over {len(YEARS)} years, statuses "
        f"{dict(reports.group_by('status').len().rows())}"
    )
    print(f"rules F1 {rf:.2f}: {rhit} of {len(want_w)} injected warnings found, {rfalse} false")
    print(f"agency links F1 {lf:.2f}: {lhit} of {len(want_l)} pairs linked, {lfalse} false")
    for name, rule in sorted(want_w - got_w):
        print(f"  missed {rule} in {name}")
    for name, rule in sorted(got_w - want_w):
        print(f"  false {rule} in {name}")
    for pair in sorted(want_l - got_l):
        print(f"  not linked: {pair}")
    for pair in sorted(got_l - want_l):
        print(f"  falsely linked: {pair}")
    print("published names:", sorted(set(reports["agency"].to_list())))


if __name__ == "__main__":
    main()
