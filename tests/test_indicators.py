"""Indicators, peers and data quality (nianbao/indicators.py): generated text reports run through the
real pipeline into a real warehouse (folder and SeaweedFS), every indicator computed here by hand
and compared; peer ranks and Wilson intervals against values worked out by hand; read back by DuckDB."""
from __future__ import annotations

import math
from pathlib import Path

import duckdb
import polars as pl
import pytest

from conftest import ROOT
from nianbao import across, indicators, pipeline, publish, storage
from nianbao.sources import resolve as sources
from nianbao.warehouse import files, scan

SAMPLE = (ROOT / "data" / "samples" / "sample_valid_2023.txt").read_text(encoding="utf-8")
ROWS = ["new", "carried_over", "disclosed", "partly_disclosed",
        *(f"withheld_{c}" for c in ("state_secret", "prohibited", "security_stability", "third_party",
                                    "internal_affairs", "process_info", "enforcement_file", "admin_query")),
        "unavailable_not_held", "unavailable_needs_creation", "unavailable_still_unclear",
        *(f"rejected_{c}" for c in ("petition", "duplicate", "publication", "excessive", "confirmation")),
        "other_overdue_correction", "other_unpaid_fee", "other_other", "handled_total", "carried_forward"]
OTHER = ["other_overdue_correction", "other_unpaid_fee", "other_other"]
PROCEEDINGS = ["review", "litigation_direct", "litigation_after_review"]


def report_text(agency: str, year: int, results: dict[str, tuple[int, int]], carried_over=(0, 0),
                carried_forward=(0, 0), reviews=None, edition: str = "2021") -> str:
    """The sample report as `agency`'s `year`, section 三 holding `results` (row -> natural persons,
    legal services), balanced: 新收 = handled + 结转下年度 - 上年结转. `reviews`: proceeding ->
    (upheld, corrected, other, pending). The 2019 edition prints （六）其他处理 as one row (`other`)."""
    handled = tuple(sum(v[i] for v in results.values()) for i in (0, 1))
    values = {r: results.get(r, (0, 0)) for r in ROWS} | {
        "carried_over": carried_over, "carried_forward": carried_forward, "handled_total": handled,
        "new": tuple(handled[i] + carried_forward[i] - carried_over[i] for i in (0, 1))}
    assert min(values["new"]) >= 0
    head, rest = SAMPLE.split("三、收到和处理政府信息公开申请情况", 1)
    table, tail = rest.split("\n\n四、政府信息公开行政复议", 1)
    lines, n = [], 0
    for line in table.split("\n"):
        fields = line.split("\t")
        if len(fields) > 7 and all(f.isdigit() for f in fields[-7:]):
            np_, legal = values[ROWS[n]]
            fields[-7:] = map(str, (np_, 0, 0, 0, legal, 0, np_ + legal))
            if edition == "2019" and ROWS[n] in OTHER:
                if ROWS[n] == "other_overdue_correction":
                    np_, legal = (sum(results.get(r, (0, 0))[i] for r in [*OTHER, "other"]) for i in (0, 1))
                    lines.append("\t".join(["（六）其他处理", "", *map(str, (np_, 0, 0, 0, legal, 0, np_ + legal))]))
            else:
                lines.append("\t".join(fields))
            n += 1
        else:
            lines.append(line)
    reviews = reviews or {}
    cells = []
    for p in PROCEEDINGS:
        up, corr, oth, pend = reviews.get(p, (0, 0, 0, 0))
        cells += [up, corr, oth, pend, up + corr + oth + pend]
    tail = tail.replace("2\t1\t0\t0\t3\t1\t0\t0\t1\t2\t0\t0\t0\t0\t0", "\t".join(map(str, cells)))
    text = head + "三、收到和处理政府信息公开申请情况" + "\n".join(lines) + "\n\n四、政府信息公开行政复议" + tail
    return text.replace("示例县青山镇人民政府", agency).replace("2023年", f"{year}年").replace("2024年1月15日", f"{year + 1}年1月15日")


def ingest(root, docs: dict[str, str], tmp: Path, run: str = "r") -> pl.DataFrame:
    """Write, ingest and publish the documents as one batch, then the stages after publishing."""
    folder = tmp / f"docs-{run}"
    folder.mkdir(exist_ok=True)
    for name, text in docs.items():
        (folder / f"{name}.txt").write_text(text, encoding="utf-8")
    frames = pipeline.process_batch(sources([str(folder / f"{n}.txt") for n in docs]), run, processes=False)
    publish.publish(root, frames)
    ids = frames["reports"]["report_id"].to_list()
    if not storage.is_remote(root):
        across.check(Path(root), ids, run)
    indicators.compute(root, ids)
    return frames["reports"]


def by_hand(r: dict[str, float], review=(0, 0, 0, 0), direct=(0, 0, 0, 0), after=(0, 0, 0, 0), legal_new=0.0) -> dict:
    """Every indicator of a report worked out from its totals, as the contract words them."""
    div = lambda a, b: None if b == 0 else a / b  # noqa: E731
    withheld = sum(v for k, v in r.items() if k.startswith("withheld_"))
    handled, caseload = r["handled_total"], r["new"] + r["carried_over"]
    return {
        "applications_received": r["new"],
        "disclosure_rate": div(r["disclosed"] + r["partly_disclosed"], handled),
        "full_disclosure_rate": div(r["disclosed"], handled),
        "merits_disclosure_rate": div(r["disclosed"] + r["partly_disclosed"], r["disclosed"] + r["partly_disclosed"] + withheld),
        "withheld_rate": div(withheld, handled),
        "unavailable_rate": div(sum(v for k, v in r.items() if k.startswith("unavailable_")), handled),
        "rejected_rate": div(sum(v for k, v in r.items() if k.startswith("rejected_")), handled),
        "other_closure_rate": div(sum(v for k, v in r.items() if k == "other" or k.startswith("other_")), handled),
        "not_held_rate": div(r["unavailable_not_held"], handled),
        "backlog_ratio": div(r["carried_forward"], caseload),
        "clearance_rate": div(handled, caseload),
        "dispute_rate": div(sum(review) + sum(direct), handled),
        "review_correction_rate": div(review[1], sum(review) - review[3]),
        "litigation_loss_rate": div(direct[1] + after[1], sum(direct) + sum(after) - direct[3] - after[3]),
        "legal_services_share": div(legal_new, r["new"]),
    }


def totals(results: dict[str, tuple[int, int]], carried_over=(0, 0), carried_forward=(0, 0)) -> dict[str, float]:
    r = {k: float(sum(v)) for k, v in results.items()}
    handled = sum(r.values())
    return {row: r.get(row, 0.0) for row in ROWS if row not in OTHER} | {k: v for k, v in r.items()} | {
        "handled_total": handled, "carried_over": float(sum(carried_over)),
        "carried_forward": float(sum(carried_forward)),
        "new": handled + sum(carried_forward) - sum(carried_over)}


def values(root, **where) -> dict[tuple[str, str], float | None]:
    """(agency, indicator) -> value of the warehouse's `indicators`, read by DuckDB."""
    con = duckdb.connect()
    if storage.is_remote(root):
        con.register_filesystem(storage.filesystem())
    q = (f"select r.agency, i.indicator, i.value, i.definition_version from read_parquet({files('indicators', root)!r}, "
         f"hive_partitioning=true) i join read_parquet({files('reports', root)!r}, hive_partitioning=true) r using (report_id)")
    return {(a, ind): v for a, ind, v, _ in con.sql(q).fetchall()}


A = {"disclosed": (8, 3), "partly_disclosed": (2, 0), "withheld_third_party": (1, 0), "withheld_process_info": (2, 1),
     "unavailable_not_held": (3, 0), "unavailable_needs_creation": (1, 0), "rejected_duplicate": (1, 0),
     "other_overdue_correction": (1, 0), "other_other": (0, 1)}
B = {"disclosed": (4, 0), "partly_disclosed": (1, 0), "other": (2, 0), "rejected_petition": (3, 0)}  # 2019 edition
REVIEW_A = {"review": (2, 1, 0, 1), "litigation_direct": (1, 1, 0, 2), "litigation_after_review": (0, 1, 0, 0)}


@pytest.fixture
def generated(warehouse, tmp_path):
    """Three bodies of 洪泽区: a 2021-edition report with reviews and suits partly pending, a
    2019-edition report with its single （六） row, and one that received nothing (every rate's
    denominator 0); all of 2023."""
    docs = {"a": report_text("淮安市洪泽区甲镇人民政府", 2023, A, carried_over=(2, 0), carried_forward=(3, 1), reviews=REVIEW_A),
            "b": report_text("淮安市洪泽区乙镇人民政府", 2023, B, edition="2019"),
            "c": report_text("淮安市洪泽区丙镇人民政府", 2023, {})}
    reports = ingest(warehouse, docs, tmp_path)
    assert reports.sort("agency")["status"].to_list() == ["valid"] * 3, reports
    return warehouse


def test_every_indicator_equals_its_hand_computation(generated):
    got = values(generated)
    want = {"甲镇": by_hand(totals(A, (2, 0), (3, 1)), review=REVIEW_A["review"], direct=REVIEW_A["litigation_direct"],
                           after=REVIEW_A["litigation_after_review"], legal_new=(3 + 1 + 1) + 1 - 0),  # handled + 结转 - 上年结转
            "乙镇": by_hand(totals(B)),
            "丙镇": by_hand(totals({}))}
    assert len(got) == 3 * len(indicators.definitions())
    for town, expected in want.items():
        for ind, v in expected.items():
            g = got[f"淮安市洪泽区{town}人民政府", ind]
            assert (g is None and v is None) or math.isclose(g, v), (town, ind, g, v)
    # the ones the cases are about, spelled out
    assert got["淮安市洪泽区甲镇人民政府", "review_correction_rate"] == 1 / 3  # one of four still pending
    assert got["淮安市洪泽区甲镇人民政府", "litigation_loss_rate"] == 2 / 3  # two of five direct suits pending
    assert got["淮安市洪泽区乙镇人民政府", "other_closure_rate"] == 2 / 10  # 2019's single （六）其他处理
    assert got["淮安市洪泽区丙镇人民政府", "disclosure_rate"] is None  # 0 handled: null, never 0
    assert got["淮安市洪泽区丙镇人民政府", "applications_received"] == 0.0  # a count of nothing is 0


def test_a_missing_cell_leaves_its_indicators_null(tmp_path):
    """A valid report whose section 三 lacks a row that both editions print (an older pipeline, a
    hand edit): what needs the row is null, the rest is computed."""
    root = tmp_path / "wh"
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text(report_text("淮安市洪泽区甲镇人民政府", 2023, A), encoding="utf-8")
    frames = pipeline.process_batch(sources([str(folder / "a.txt")]), "r", processes=False)
    frames["applications"] = frames["applications"].filter(pl.col("row") != "partly_disclosed")
    publish.publish(root, frames)
    indicators.compute(root)
    got = {k[1]: v for k, v in values(root).items()}
    t = totals(A)
    assert got["disclosure_rate"] is None and got["merits_disclosure_rate"] is None
    assert got["full_disclosure_rate"] == t["disclosed"] / t["handled_total"]
    rows = scan("indicators", root).filter(indicator="disclosure_rate").collect()
    assert rows.select("numerator", "denominator").row(0) == (None, t["handled_total"])


def test_reruns_change_nothing_and_invalid_reports_count_only_in_quality(generated, tmp_path):
    root = generated
    before = {d: scan(d, root).collect() for d in indicators.OUTPUTS}
    listing = _objects(root)
    assert indicators.compute(root)["indicators"] == 3 * len(indicators.definitions())
    assert _objects(root) == listing  # nothing rewritten
    for d in indicators.OUTPUTS:
        assert scan(d, root).collect().equals(before[d]), d
    # an invalid report of a fourth body (结转下年度 5 breaks the balance of two columns): counted
    # in `quality`, with the rule that links its findings; absent from `indicators`
    bad = report_text("淮安市洪泽区丁镇人民政府", 2023, A).replace(
        "四、结转下年度继续办理\t\t0\t0\t0\t0\t0\t0\t0", "四、结转下年度继续办理\t\t5\t0\t0\t0\t0\t0\t5")
    r = ingest(root, {"d": bad}, tmp_path, run="r2")
    assert r["status"].to_list() == ["invalid"]
    assert scan("indicators", root).collect().height == before["indicators"].height
    q = scan("quality", root).filter(pl.col("report_id") == r["report_id"][0]).collect().sort("problem")
    assert q.select("problem", "findings", "rule_ids").rows() == [
        ("arithmetic", 2, ["applications.balance"]), ("copied", 0, []), ("cross_year", 0, []), ("late", 0, []),
        ("text_mismatch", 0, []), ("unread_cells", 0, [])]
    linked = scan("findings", root).filter(pl.col("report_id") == r["report_id"][0], rule_id="applications.balance")
    assert linked.collect().height == 2


def _objects(root) -> dict[str, object]:
    if storage.is_remote(root):
        fs = storage.filesystem()
        return {k: fs.info(k)["ETag"] for k in fs.find(str(root)[5:]) if "/year=" in k}
    return {str(p): p.stat().st_mtime_ns for p in Path(root).rglob("*.parquet")}
