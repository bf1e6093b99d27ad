"""Indicators, peers and data quality (nianbao/check/indicators.py): generated text reports run through the
real pipeline into a real warehouse (folder and SeaweedFS), every indicator computed here by hand
and compared; peer ranks and Wilson intervals against values worked out by hand; read back by DuckDB."""

from __future__ import annotations

import math
from pathlib import Path

import duckdb
import polars as pl
import pytest
from conftest import ROOT

from nianbao.acquire.sources import resolve as sources
from nianbao.check import across, indicators
from nianbao.run import pipeline
from nianbao.warehouse import files, publish, scan, storage

SAMPLE = (ROOT / "data" / "samples" / "sample_valid_2023.txt").read_text(encoding="utf-8")
ROWS = [
    "new",
    "carried_over",
    "disclosed",
    "partly_disclosed",
    *(
        f"withheld_{c}"
        for c in (
            "state_secret",
            "prohibited",
            "security_stability",
            "third_party",
            "internal_affairs",
            "process_info",
            "enforcement_file",
            "admin_query",
        )
    ),
    "unavailable_not_held",
    "unavailable_needs_creation",
    "unavailable_still_unclear",
    *(f"rejected_{c}" for c in ("petition", "duplicate", "publication", "excessive", "confirmation")),
    "other_overdue_correction",
    "other_unpaid_fee",
    "other_other",
    "handled_total",
    "carried_forward",
]
OTHER = ["other_overdue_correction", "other_unpaid_fee", "other_other"]
PROCEEDINGS = ["review", "litigation_direct", "litigation_after_review"]


def report_text(
    agency: str,
    year: int,
    results: dict[str, tuple[int, int]],
    carried_over=(0, 0),
    carried_forward=(0, 0),
    reviews=None,
    edition: str = "2021",
) -> str:
    """The sample report as `agency`'s `year`, section 三 holding `results` (row -> natural persons,
    legal services), balanced: 新收 = handled + 结转下年度 - 上年结转. `reviews`: proceeding ->
    (upheld, corrected, other, pending). The 2019 edition prints （六）其他处理 as one row (`other`)."""
    handled = tuple(sum(v[i] for v in results.values()) for i in (0, 1))
    values = {r: results.get(r, (0, 0)) for r in ROWS} | {
        "carried_over": carried_over,
        "carried_forward": carried_forward,
        "handled_total": handled,
        "new": tuple(handled[i] + carried_forward[i] - carried_over[i] for i in (0, 1)),
    }
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
    return (
        text.replace("示例县青山镇人民政府", agency)
        .replace("2023年", f"{year}年")
        .replace("2024年1月15日", f"{year + 1}年1月15日")
    )


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
        "merits_disclosure_rate": div(
            r["disclosed"] + r["partly_disclosed"], r["disclosed"] + r["partly_disclosed"] + withheld
        ),
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
    return (
        {row: r.get(row, 0.0) for row in ROWS if row not in OTHER}
        | {k: v for k, v in r.items()}
        | {
            "handled_total": handled,
            "carried_over": float(sum(carried_over)),
            "carried_forward": float(sum(carried_forward)),
            "new": handled + sum(carried_forward) - sum(carried_over),
        }
    )


def values(root, **where) -> dict[tuple[str, str], float | None]:
    """(agency, indicator) -> value of the warehouse's `indicators`, read by DuckDB."""
    con = duckdb.connect()
    if storage.is_remote(root):
        con.register_filesystem(storage.filesystem())
    q = (
        f"select r.agency, i.indicator, i.value, i.definition_version from read_parquet({files('indicators', root)!r}, "
        f"hive_partitioning=true) i join read_parquet({files('reports', root)!r}, hive_partitioning=true) r using (report_id)"
    )
    return {(a, ind): v for a, ind, v, _ in con.sql(q).fetchall()}


A = {
    "disclosed": (8, 3),
    "partly_disclosed": (2, 0),
    "withheld_third_party": (1, 0),
    "withheld_process_info": (2, 1),
    "unavailable_not_held": (3, 0),
    "unavailable_needs_creation": (1, 0),
    "rejected_duplicate": (1, 0),
    "other_overdue_correction": (1, 0),
    "other_other": (0, 1),
}
B = {"disclosed": (4, 0), "partly_disclosed": (1, 0), "other": (2, 0), "rejected_petition": (3, 0)}  # 2019 edition
REVIEW_A = {"review": (2, 1, 0, 1), "litigation_direct": (1, 1, 0, 2), "litigation_after_review": (0, 1, 0, 0)}


@pytest.fixture(scope="module")
def ingested() -> dict[str, str | Path]:
    """The warehouses `generated` made so far in this module, a folder and a bucket: by kind."""
    return {}


@pytest.fixture
def generated(warehouse, ingested, tmp_path_factory, request):
    """Three bodies of 洪泽区: a 2021-edition report with reviews and suits partly pending, a
    2019-edition report with its single （六） row, and one that received nothing (every rate's
    denominator 0); all of 2023. Ingested once per module in each kind of warehouse (the tests'
    set-up, not what they are about), each test given a copy of its own."""
    kind = "bucket" if storage.is_remote(warehouse) else "folder"
    if kind not in ingested:
        docs = {
            "a": report_text(
                "淮安市洪泽区甲镇人民政府", 2023, A, carried_over=(2, 0), carried_forward=(3, 1), reviews=REVIEW_A
            ),
            "b": report_text("淮安市洪泽区乙镇人民政府", 2023, B, edition="2019"),
            "c": report_text("淮安市洪泽区丙镇人民政府", 2023, {}),
        }
        if kind == "folder":
            root = tmp_path_factory.mktemp("generated") / "wh"
        else:
            import uuid

            root = request.getfixturevalue("seaweedfs").bucket(f"indicators-generated-{uuid.uuid4().hex[:8]}") + "/wh"
        reports = ingest(root, docs, tmp_path_factory.mktemp("docs"))
        assert reports.sort("agency")["status"].to_list() == ["valid"] * 3, reports
        ingested[kind] = root
    if kind == "folder":
        import shutil

        shutil.copytree(ingested[kind], warehouse)
    else:
        fs = storage.filesystem()
        source, copy = str(ingested[kind])[5:], str(warehouse)[5:]
        keys = fs.find(source)
        fs.copy(keys, [copy + k[len(source) :] for k in keys])
    return warehouse


def test_every_indicator_equals_its_hand_computation(generated):
    got = values(generated)
    want = {
        "甲镇": by_hand(
            totals(A, (2, 0), (3, 1)),
            review=REVIEW_A["review"],
            direct=REVIEW_A["litigation_direct"],
            after=REVIEW_A["litigation_after_review"],
            legal_new=(3 + 1 + 1) + 1 - 0,
        ),  # handled + 结转 - 上年结转
        "乙镇": by_hand(totals(B)),
        "丙镇": by_hand(totals({})),
    }
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
    """A valid report whose section 三 lacks a row that both editions print, and holds a cell blank
    (an older pipeline, a hand edit): what needs them is null, the rest is computed."""
    root = tmp_path / "wh"
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text(report_text("淮安市洪泽区甲镇人民政府", 2023, A), encoding="utf-8")
    frames = dict(pipeline.process_batch(sources([str(folder / "a.txt")]), "r", processes=False))
    apps = frames["applications"].filter(pl.col("row") != "partly_disclosed")  # a row lacking
    blank = (pl.col("row") == "unavailable_needs_creation") & (pl.col("applicant") == "total")
    frames["applications"] = apps.with_columns(
        value=pl.when(blank).then(None).otherwise(pl.col("value"))
    )  # a cell blank
    publish.publish(root, frames)
    indicators.compute(root)
    got = {k[1]: v for k, v in values(root).items()}
    t = totals(A)
    assert got["disclosure_rate"] is None and got["merits_disclosure_rate"] is None
    assert got["unavailable_rate"] is None and got["not_held_rate"] == t["unavailable_not_held"] / t["handled_total"]
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
        "四、结转下年度继续办理\t\t0\t0\t0\t0\t0\t0\t0", "四、结转下年度继续办理\t\t5\t0\t0\t0\t0\t0\t5"
    )
    r = ingest(root, {"d": bad}, tmp_path, run="r2")
    assert r["status"].to_list() == ["invalid"]
    assert scan("indicators", root).collect().height == before["indicators"].height
    q = scan("quality", root).filter(pl.col("report_id") == r["report_id"][0]).collect().sort("problem")
    assert q.select("problem", "findings", "rule_ids").rows() == [
        ("arithmetic", 2, ["applications.balance"]),
        ("copied", 0, []),
        ("cross_year", 0, []),
        ("late", 0, []),
        ("text_mismatch", 0, []),
        ("unread_cells", 0, []),
    ]
    linked = scan("findings", root).filter(pl.col("report_id") == r["report_id"][0], rule_id="applications.balance")
    assert linked.collect().height == 2


def _objects(root) -> dict[str, object]:
    if storage.is_remote(root):
        fs = storage.filesystem()
        return {k: fs.info(k)["ETag"] for k in fs.find(str(root)[5:]) if "/year=" in k}
    return {str(p): p.stat().st_mtime_ns for p in Path(root).rglob("*.parquet")}


# ------------------------------------------------------------------ peers


def test_peer_ranks_medians_and_intervals_by_hand():
    """disclosure_rate (a rate, ranked from 10 handled) of seven reports of one year. Province 32's
    townships: r1 5/20, r2 15/20, r3 10/40 (盱眙县), r6 7/10 (another prefecture) are ranked; r4 3/4 is
    under the minimum and r5 0/0 has no value: shown, never ranked. r7 is a county: a group of one."""
    rows = pl.DataFrame(
        [
            ("r1", "a1", 5, 20),
            ("r2", "a2", 15, 20),
            ("r3", "a3", 10, 40),
            ("r4", "a4", 3, 4),
            ("r5", "a5", 0, 0),
            ("r6", "a6", 7, 10),
            ("r7", "a7", 6, 12),
        ],
        schema={"report_id": pl.String, "agency_id": pl.String, "numerator": pl.Float64, "denominator": pl.Float64},
        orient="row",
    ).with_columns(
        year=pl.lit(2023, pl.Int16),
        indicator=pl.lit("disclosure_rate"),
        definition_version=pl.lit(1, pl.Int32),
        value=pl.when(pl.col("denominator") > 0).then(pl.col("numerator") / pl.col("denominator")),
    )
    places = pl.DataFrame(
        {
            "agency_id": [f"a{i}" for i in range(1, 8)],
            "level": ["township"] * 6 + ["county"],
            "region_code": ["320813", "320813", "320830", "320813", "320813", "321002", "320813"],
        }
    )
    got = {
        (r["report_id"], r["peer_group"]): (r["peers"], r["rank_pct"], r["peer_median"], r["low"], r["high"])
        for r in indicators.peer_rows(rows, places).iter_rows(named=True)
    }
    province, prefecture = "province:32:township", "prefecture:3208:township"
    # province: .25 .25 .70 .75 -> average ranks 1.5 1.5 3 4 of 4; median (.25 + .70) / 2
    want = {
        ("r1", province): (4, 0.5 / 3, 0.475, 0.1119, 0.4687),
        ("r3", province): (4, 0.5 / 3, 0.475, 0.1419, 0.4019),
        ("r6", province): (4, 2 / 3, 0.475, 0.3968, 0.8922),
        ("r2", province): (4, 1.0, 0.475, 0.5313, 0.8881),
        ("r4", province): (4, None, 0.475, 0.3006, 0.9544),
        ("r5", province): (4, None, 0.475, None, None),
        # prefecture 3208: .25 .25 .75 -> ranks 1.5 1.5 3 of 3
        ("r1", prefecture): (3, 0.25, 0.25, 0.1119, 0.4687),
        ("r3", prefecture): (3, 0.25, 0.25, 0.1419, 0.4019),
        ("r2", prefecture): (3, 1.0, 0.25, 0.5313, 0.8881),
        ("r4", prefecture): (3, None, 0.25, 0.3006, 0.9544),
        ("r5", prefecture): (3, None, 0.25, None, None),
        # alone in its group: counted, its own median, not ranked against nobody
        ("r6", "prefecture:3210:township"): (1, None, 0.7, 0.3968, 0.8922),
        ("r7", "province:32:county"): (1, None, 0.5, 0.2538, 0.7462),
        ("r7", "prefecture:3208:county"): (1, None, 0.5, 0.2538, 0.7462),
    }
    assert set(got) == set(want)
    for key, (peers, rank, median, low, high) in want.items():
        g = got[key]
        assert g[0] == peers and g[2] == pytest.approx(median), key
        assert (g[1] is None and rank is None) or g[1] == pytest.approx(rank), key
        assert (g[3] is None and low is None) or (
            g[3] == pytest.approx(low, abs=5e-5) and g[4] == pytest.approx(high, abs=5e-5)
        ), key


def test_peers_of_generated_reports(generated):
    """full_disclosure_rate: 甲镇 11/24, 乙镇 4/10 (exactly the minimum: ranked), 丙镇 0/0; the three
    are townships of 洪泽区 (320813). Read back with DuckDB."""
    con = duckdb.connect()
    if storage.is_remote(generated):
        con.register_filesystem(storage.filesystem())
    rows = con.sql(f"""select r.agency, p.peer_group, p.peers, p.rank_pct, p.peer_median, p.low, p.high
        from read_parquet({files("peers", generated)!r}, hive_partitioning=true) p
        join read_parquet({files("reports", generated)!r}, hive_partitioning=true) r using (report_id)
        where p.indicator = 'full_disclosure_rate' order by 1, 2""").fetchall()
    wa, wb = indicators.wilson(11, 24), indicators.wilson(4, 10)
    median = (11 / 24 + 4 / 10) / 2
    assert [(a[6:8], *rest) for a, *rest in rows] == [
        ("丙镇", "prefecture:3208:township", 2, None, pytest.approx(median), None, None),
        ("丙镇", "province:32:township", 2, None, pytest.approx(median), None, None),
        ("乙镇", "prefecture:3208:township", 2, 0.0, pytest.approx(median), pytest.approx(wb[0]), pytest.approx(wb[1])),
        ("乙镇", "province:32:township", 2, 0.0, pytest.approx(median), pytest.approx(wb[0]), pytest.approx(wb[1])),
        ("甲镇", "prefecture:3208:township", 2, 1.0, pytest.approx(median), pytest.approx(wa[0]), pytest.approx(wa[1])),
        ("甲镇", "province:32:township", 2, 1.0, pytest.approx(median), pytest.approx(wa[0]), pytest.approx(wa[1])),
    ]


# ------------------------------------------------------------------ versions


def test_a_new_definition_version_keeps_the_old_values(generated, tmp_path, monkeypatch):
    """disclosure_rate's formula changes (version 2: full disclosures only). A run that touches one
    report recomputes every year whose values are of version 1, and version 1's values stay, as
    they were, in `indicators_previous`."""
    root = generated
    ingest(
        root,
        {"a22": report_text("淮安市洪泽区甲镇人民政府", 2022, {"disclosed": (3, 0), "partly_disclosed": (1, 0)})},
        tmp_path,
        run="r22",
    )
    v1 = scan("indicators", root).filter(indicator="disclosure_rate").collect().sort("report_id")
    assert v1["definition_version"].unique().to_list() == [1] and v1.height == 4
    assert sorted(v1["year"].unique().to_list()) == [2022, 2023]
    changed = [
        d.model_copy(update={"version": 2, "numerator": ("applications:disclosed",)})
        if d.id == "disclosure_rate"
        else d
        for d in indicators.definitions()
    ]
    monkeypatch.setattr(indicators, "definitions", lambda: changed)
    touched = scan("reports", root).filter(pl.col("agency").str.contains("乙镇")).collect()["report_id"].to_list()
    indicators.compute(root, touched)  # 乙镇's 2023 report only: 2022 is recomputed too
    v2 = scan("indicators", root).filter(indicator="disclosure_rate").collect().sort("report_id")
    full = scan("indicators", root).filter(indicator="full_disclosure_rate").collect().sort("report_id")
    assert v2["definition_version"].to_list() == [2] * 4
    assert v2["value"].to_list() == full["value"].to_list()
    kept = scan("indicators_previous", root).collect().sort("report_id")
    assert kept.equals(v1)
    listing = _objects(root)
    indicators.compute(root)  # nothing left to move, nothing to rewrite
    assert _objects(root) == listing and scan("indicators_previous", root).collect().sort("report_id").equals(v1)


def test_definitions_name_template_cells():
    import tomllib

    from nianbao.model.template import Spec

    for edit in (
        lambda d: d["indicators"][1].update(numerator=["applications:disclosed/everyone"]),
        lambda d: d["indicators"][1].update(denominator=[]),
        lambda d: d["indicators"][0].update(denominator=["applications:new"]),
        lambda d: d["quality"][0].update(rules=["applications.nonsense"]),
    ):
        data = tomllib.loads((ROOT / "nianbao" / "model" / "template.toml").read_text(encoding="utf-8"))
        edit(data)
        with pytest.raises(ValueError):
            Spec.model_validate(data)


@pytest.mark.parametrize("warehouse", ["folder"], indirect=True)  # the README's block reads data/warehouse
def test_the_readme_reads_indicators_with_three_engines_and_compares_peers(generated, tmp_path):
    """The README's block (polars, pandas, and the peer comparison in DuckDB) run as pasted in a
    folder whose data/warehouse is the generated one: it prints each body's rank among its peers."""
    import os
    import re
    import subprocess
    import sys

    block = next(
        b
        for b in re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S)
        if "peer_group" in b
    )
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "warehouse").symlink_to(generated)
    done = subprocess.run(
        [sys.executable, "-c", block + "\nprint(rates.height, len(quality))"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [ln for ln in done.stdout.splitlines() if "镇人" in ln]
    # 甲镇 13/24 and 乙镇 5/10 ranked (1 and 0 among the 2), 丙镇 0/0 shown unranked
    assert [re.search(r"[甲乙丙]镇", ln)[0] for ln in lines] == ["甲镇", "乙镇", "丙镇"], done.stdout
    assert (
        done.stdout.strip().splitlines()[-1] == f"{3 * len(indicators.definitions())} {3 * len(indicators.problems())}"
    )


def test_a_formula_never_changes_without_a_new_version():
    """tests/baseline/indicator_versions.txt lists every (indicator, version) ever defined with its
    formula: template.toml's must be one of them, unchanged; a new version is a new line."""
    held = {}
    for line in (ROOT / "tests" / "baseline" / "indicator_versions.txt").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            ident, version, *formula = line.split("\t")
            held[ident, int(version)] = formula
    for d in indicators.definitions():
        side = lambda n: " ".join(("-" if s < 0 else "+") + c for c, s in d.terms(n))  # noqa: E731
        formula = [d.unit, side("numerator"), side("denominator")]
        assert (d.id, d.version) in held, f"add {d.id} version {d.version} to tests/baseline/indicator_versions.txt"
        assert held[d.id, d.version] == formula, f"{d.id}'s formula changed: raise its version (a new line)"
