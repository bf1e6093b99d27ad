"""Agencies and the checks across years and inside the text: one report that breaks each rule and
one that keeps it, written as text reports and run through the real pipeline, Parquet warehouse
and Great Expectations suites."""

from __future__ import annotations

import polars as pl
from conftest import missing
from sample_years import (
    KIRO,
    OWN_2023,
    OWN_2024,
    SZFGS2024,
    across_findings,
    broken_chains,
    findings,
    ingest,
    report_text,
)

from nianbao.acquire.sources import resolve as sources
from nianbao.check import across
from nianbao.interpret.agencies import resolve
from nianbao.interpret.narrative import stated_figures
from nianbao.run import pipeline
from nianbao.warehouse import publish

# ------------------------------------------------------------------ agencies


def test_names_printed_differently_are_one_agency_and_same_named_towns_are_not():
    a = resolve("洪泽区人民政府")
    assert a == resolve("淮安市洪泽区人民政府") == resolve("江苏省淮安市洪泽区政府")
    assert (a.region_code, a.level) == ("320813", "county")
    town = resolve("盱眙县白杨镇人民政府")
    assert town.agency_id == resolve("淮安市盱眙县白杨镇").agency_id
    assert (town.region_code, town.level) == ("320830", "township")
    assert town.agency_id != resolve("洪泽区白杨镇人民政府").agency_id  # the same town name, another county
    assert resolve("大安市彭后街道办事处").agency_id == resolve("吉林省大安市彭后街道").agency_id
    assert resolve("某开发区管委会", "320813").agency_id == resolve("某开发区管理委员会", "320813").agency_id


def test_the_manifest_region_code_wins_and_an_unresolvable_name_is_its_own_agency():
    assert resolve("白杨镇人民政府", "320830").agency_id == resolve("盱眙县白杨镇人民政府").agency_id
    # no county printed and none given: two reports of 白杨镇 are never linked by guess
    one, two = resolve("白杨镇人民政府", report_id="a"), resolve("白杨镇人民政府", report_id="b")
    assert one.region_code is None and one.agency_id != two.agency_id
    # 朝阳区 is a district of Beijing and of Changchun: not certain, so not placed
    assert resolve("朝阳区人民政府").region_code is None
    assert resolve("北京市朝阳区人民政府").region_code == "110105"
    # a city's short form counts only before a place inside it: 南京路街道 is not in 南京市
    assert resolve("南京路街道办事处").region_code is None
    assert resolve("江苏淮安洪泽区政府").region_code == "320813"
    assert resolve(None).agency_id is None


def test_the_two_real_honze_reports_share_an_agency_and_keep_every_rule_across_years(tmp_path):
    paths = [KIRO / "hzq2023_working.pdf", KIRO / "hzq2024_working.pdf", SZFGS2024]
    if not all(p.exists() for p in paths):
        missing("the real reports")
    root = tmp_path / "wh"
    frames = pipeline.process_batch(sources([str(p) for p in paths]), "r", processes=False)
    publish.publish(root, frames)
    across.check(root, frames["reports"]["report_id"].to_list(), "r")
    reports = {r["agency"]: r for r in frames["reports"].to_dicts()}
    assert reports["洪泽区人民政府"]["agency_id"] == reports["淮安市洪泽区人民政府"]["agency_id"]
    assert reports["淮安市人民政府"]["agency_id"] != reports["洪泽区人民政府"]["agency_id"]
    agencies = pl.read_parquet(root / "agencies" / "agencies.parquet").sort("name")
    assert agencies.select("name", "names", "region_code", "level").rows() == [
        ("淮安市人民政府", ["淮安市人民政府"], "320800", "city"),
        ("淮安市洪泽区人民政府", ["洪泽区人民政府", "淮安市洪泽区人民政府"], "320813", "county"),
    ]
    # 5 + 3 - 0 = 8 normative documents, 结转 0 -> 上年结转 0, a third of the text copied (under half);
    # the 2024 text's 17 requests are the district office's, not the district's 95: never compared
    found = {(a, y, rule) for a, y, rule, _, _ in findings(root) if rule.startswith(("cross_year", "narrative"))}
    assert found == set()


def test_the_real_szfgs_text_states_its_tables_figures():
    if not SZFGS2024.exists():
        missing("the real report")
    import pdfplumber

    with pdfplumber.open(SZFGS2024) as pdf:
        page = pdf.pages[1].extract_text()
    stated = [(code, n, cells) for code, n, cells, _ in stated_figures(page)]
    assert stated == [  # its tables: new 3119 (受理: or with those carried over); 复议 总计 351; 诉讼 26 + 20
        (
            "applications_accepted",
            3119,
            [["applications:new/total"], ["applications:new/total", "applications:carried_over/total"]],
        ),
        ("reviews", 351, [["reviews_litigation:review/total"]]),
        (
            "litigation",
            46,
            [["reviews_litigation:litigation_direct/total", "reviews_litigation:litigation_after_review/total"]],
        ),
    ]


# ------------------------------------------------------------------ inside the text


def test_narrative_table_mismatch(tmp_path):
    root = tmp_path / "wh"
    ingest(
        root,
        {
            "wrong": report_text(
                "盱眙县甲镇人民政府", 2023, overview="2023年，全镇共收到政府信息公开申请20件，行政复议3件。"
            ),
            "right": report_text(
                "盱眙县乙镇人民政府", 2023, overview="2023年，全镇共收到政府信息公开申请16件，行政复议3件。"
            ),
            "part": report_text(
                "盱眙县丙镇人民政府",
                2023,
                overview="2023年，镇党政办代表镇政府受理政府信息公开申请9件；其中镇政府办公室受理申请7件。",
            ),
            # 16 new + 1 carried over: a figure that says it includes last year's is compared with both
            "with": report_text(
                "盱眙县丁镇人民政府", 2023, overview="全年共受理政府信息公开申请17件（含上年结转申请1件）。"
            ),
            "with_wrong": report_text(
                "盱眙县戊镇人民政府", 2023, overview="全年共受理政府信息公开申请16件（含上年结转申请1件）。"
            ),
        },
    )
    assert findings(root, "narrative.table_mismatch") == {
        ("盱眙县甲镇人民政府", 2023, "narrative.table_mismatch", "16", "20"),
        ("盱眙县戊镇人民政府", 2023, "narrative.table_mismatch", "17", "16"),
    }


def test_metadata_late(tmp_path):
    root = tmp_path / "wh"
    ingest(
        root,
        {
            "late": report_text("盱眙县甲镇人民政府", 2023, signed="2024年3月2日"),
            "on_time": report_text("盱眙县乙镇人民政府", 2023, signed="2024年1月31日"),
        },
    )
    assert findings(root, "metadata.late") == {
        ("盱眙县甲镇人民政府", 2023, "metadata.late", "on or before 2024-01-31", "2024-03-02")
    }


# ------------------------------------------------------------------ across years


def test_cross_year_carried_over_and_in_force(tmp_path):
    root = tmp_path / "wh"
    ingest(
        root,
        {
            "a23": report_text("盱眙县甲镇人民政府", 2023, carried_forward=2, normative=(2, 1, 14)),
            "b23": report_text("盱眙县乙镇人民政府", 2023, carried_forward=2, normative=(2, 1, 14)),
            # 甲镇 keeps both chains: 2 -> 2, 14 + 3 - 1 = 16
            "a24": report_text("淮安市盱眙县甲镇", 2024, carried_over=2, normative=(3, 1, 16), overview=OWN_2024),
            # 乙镇 breaks both: carried 2 -> 5, 14 + 3 - 1 = 16 but prints 20
            "b24": report_text("盱眙县乙镇", 2024, carried_over=5, normative=(3, 1, 20), overview=OWN_2024),
        },
    )
    assert across_findings(root) == {
        ("盱眙县乙镇", 2024, "cross_year.carried_over", "2", "5"),  # natural persons
        ("盱眙县乙镇", 2024, "cross_year.carried_over", "2", "5"),  # total (same values, one row per column)
        ("盱眙县乙镇", 2024, "cross_year.in_force", "14", "18"),
    }  # 20 - 3 + 1 = 18 against last year's 14
    counts = pl.read_parquet(root / "reports" / "**" / "*.parquet", hive_partitioning=True)
    assert sorted(counts.filter(pl.col("year") == 2024).select("agency", "warning_count").rows()) == [
        ("淮安市盱眙县甲镇", 0),
        ("盱眙县乙镇", 3),
    ]  # the report's counts of findings include these
    f = pl.read_parquet(root / "findings" / "**" / FILE_GLOB, hive_partitioning=True)
    assert sorted(f.filter(pl.col("rule_id") == "cross_year.carried_over")["cells"].to_list()) == [
        ["applications:carried_over/natural_person"],
        ["applications:carried_over/total"],
    ]


FILE_GLOB = across.FILE


def test_no_cross_year_finding_across_a_missing_year(tmp_path):
    root = tmp_path / "wh"
    ingest(
        root,
        {
            "a22": report_text("盱眙县甲镇人民政府", 2022, carried_forward=2, normative=(2, 1, 14)),
            "a24": report_text("盱眙县甲镇人民政府", 2024, carried_over=7, normative=(0, 0, 99)),
        },
    )
    assert across_findings(root) == set()


def test_narrative_copied_with_numbers_changed_but_not_boilerplate(tmp_path):
    root = tmp_path / "wh"
    boiler = (
        "{year}年，本镇坚持以习近平新时代中国特色社会主义思想为指导，认真贯彻落实政府信息公开条例，"
        "持续推进决策、执行、管理、服务、结果公开，全年主动公开政府信息{year}条。"
    )
    docs = {
        f"{c}{y % 100}": report_text(f"盱眙县{c}镇人民政府", y, overview=boiler + text)
        for c, text23, text24 in (
            ("甲", OWN_2023, OWN_2023.replace("乡村振兴", "乡村振兴和共同富裕")),
            ("乙", OWN_2023.replace("全镇", "全乡"), OWN_2024),
            ("丙", "", ""),
        )
        for y, text in ((2023, text23), (2024, text24))
    }
    ingest(root, docs)
    # 甲 prints its 2023 text again (one clause changed); 乙 writes anew; 丙 prints only the
    # boilerplate that all three share (and the shared 五), so has too little of its own to judge
    (found,) = findings(root, "narrative.copied")
    assert found[:3] == ("盱眙县甲镇人民政府", 2024, "narrative.copied")
    assert found[4] == "86% (12 of 14 passages)"  # passages of 5 characters, one in 4 sampled


def test_order_of_ingestion_and_reruns_give_the_same_findings(tmp_path):
    docs = {
        "a23": report_text("盱眙县甲镇人民政府", 2023, carried_forward=2),
        "a24": report_text("盱眙县甲镇人民政府", 2024, carried_over=3),
        "a25": report_text("盱眙县甲镇人民政府", 2025, carried_over=2, overview=OWN_2024),
    }
    forward, backward = tmp_path / "forward", tmp_path / "backward"
    for name in ("a23", "a24", "a25"):
        ingest(forward, {name: docs[name]}, run=f"f{name}")
    for name in ("a25", "a24", "a23"):
        ingest(backward, {name: docs[name]}, run=f"b{name}")
    expected = {
        ("盱眙县甲镇人民政府", 2024, "cross_year.carried_over", "2", "3"),
        (
            "盱眙县甲镇人民政府",
            2024,
            "narrative.copied",
            "at most 50% of the text as the year before",
            "100% (22 of 22 passages)",
        ),
    }
    assert across_findings(forward) == across_findings(backward) == expected
    ingest(backward, {"a24": docs["a24"]}, run="again")  # a re-run replaces, never duplicates
    f = pl.read_parquet(backward / "findings" / "**" / "*.parquet", hive_partitioning=True)
    assert f.filter(pl.col("rule_id").str.starts_with("cross_year")).height == 2
    assert across_findings(backward) == expected
    for root in (forward, backward):  # 2 carried over + 1 copied, counted once however often re-checked
        counts = pl.read_parquet(root / "reports" / "**" / "*.parquet", hive_partitioning=True).sort("year")
        assert counts["warning_count"].to_list() == [0, 3, 0]


def test_the_flow_checks_across_years_after_publishing_in_either_order(prefect_harness, tmp_path):
    """A year ingested after its successor re-checks the successor; the run's page and artifacts say so."""
    from flows.ingest import ingest as flow

    (tmp_path / "d").mkdir()
    paths = {}
    for year, kw in ((2023, {"carried_forward": 2}), (2024, {"carried_over": 4, "overview": OWN_2024})):
        paths[year] = tmp_path / "d" / f"{year}.txt"
        paths[year].write_text(report_text("盱眙县甲镇人民政府", year, **kw), encoding="utf-8")
    out = tmp_path / "wh"
    first = flow(sources=[str(paths[2024])], out=str(out), return_state=True)
    assert first.is_completed() and across_findings(out) == set()
    second = flow(sources=[str(paths[2023])], out=str(out), return_state=True)
    assert across_findings(out) == {("盱眙县甲镇人民政府", 2024, "cross_year.carried_over", "2", "4")}
    summary = second.result()  # what the artifacts and the validation page are made from
    assert summary.affected() == {("cross_year.carried_over", "warning"): 1}
    assert summary.rules() == (
        {"cross_year.carried_over": 1},
        {"cross_year.carried_over": 2},
    )  # natural persons and total, of the 2024 report
    (page,) = [p for p in (out / "validation").glob("*.html") if str(second.state_details.flow_run_id) in p.name]
    assert "cross_year.carried_over" in page.read_text(encoding="utf-8")


def test_a_manifest_links_an_unplaced_town_across_years_and_dates_its_report(tmp_path):
    """白杨镇 printed without its county is linked only where the manifest gives the region code;
    the manifest's published_on is the date metadata.late reads."""
    folder = tmp_path / "d"
    folder.mkdir()
    for year, kw in ((2023, {"carried_forward": 2}), (2024, {"carried_over": 3, "overview": OWN_2024})):
        (folder / f"{year}.txt").write_text(report_text("白杨镇人民政府", year, **kw), encoding="utf-8")
    (folder / "m.csv").write_text(
        "uri,region_code,published_on\n2023.txt,320830,2024-01-20\n2024.txt,320830,2025-02-15\n", encoding="utf-8"
    )
    linked, unlinked = tmp_path / "linked", tmp_path / "unlinked"
    for root, spec in ((linked, folder / "m.csv"), (unlinked, folder)):
        frames = pipeline.process_batch(sources([str(spec)]), "r", processes=False)
        publish.publish(root, frames)
        across.check(root, frames["reports"]["report_id"].to_list(), "r")
    assert across_findings(linked) == {("白杨镇人民政府", 2024, "cross_year.carried_over", "2", "3")}
    assert findings(linked, "metadata.late") == {
        ("白杨镇人民政府", 2024, "metadata.late", "on or before 2025-01-31", "2025-02-15")
    }
    assert across_findings(unlinked) == set()  # no county printed, none given: never linked by guess
    agencies = pl.read_parquet(linked / "agencies" / "agencies.parquet")
    assert agencies.select("name", "region_code", "level").rows() == [("白杨镇人民政府", "320830", "township")]


def test_the_run_s_ids_are_looked_up_never_copied(tmp_path, monkeypatch):
    """A run names every report it read (a 100,000-row manifest: 100,000 ids, nearly all unreadable, with no
    agency): the stage only looks them up. It made a unique, sorted Arrow copy of them (and of the reports
    it re-checked), +16 MiB at 100,000 ids, to find the few across-years findings to replace."""
    root = tmp_path / "wh"
    ingest(root, broken_chains())
    before = across_findings(root)
    assert {f[2] for f in before} == {"cross_year.carried_over", "cross_year.in_force"}
    ran = pl.read_parquet(root / "reports" / "**" / "*.parquet")["report_id"]
    unread = pl.Series("report_id", [f"{i:064x}" for i in range(50_000)])  # ids that hold no row
    copied = []
    for name in ("unique", "sort", "to_arrow", "to_list"):
        method = getattr(pl.Series, name)

        def seen(self, *args, _method=method, **kwargs):
            copied.append(len(self))
            return _method(self, *args, **kwargs)

        monkeypatch.setattr(pl.Series, name, seen)
    across.check(root, pl.concat([ran, unread]), "run")
    assert max(copied, default=0) < 50_000
    assert across_findings(root) == before
