"""One RunSummary counts a run for the flow, the command, the artifacts and the validation page."""

from flows import command
from nianbao.report import validation_report
from nianbao.report.summary import RunSummary

REPORTS = [
    {
        "report_id": "a" * 64,
        "status": "valid",
        "source_format": "pdf",
        "year": 2023,
        "skipped": False,
        "source_uri": "a.pdf",
        "agency": "甲镇",
        "error_count": 0,
        "warning_count": 1,
    },
    {
        "report_id": "b" * 64,
        "status": "invalid",
        "source_format": "docx",
        "year": 2023,
        "skipped": True,
        "source_uri": "b.docx",
        "agency": "乙镇",
        "error_count": 2,
        "warning_count": 0,
    },
    {
        "report_id": "c" * 64,
        "status": "unreadable",
        "source_format": None,
        "year": None,
        "skipped": False,
        "source_uri": "https://x.gov.cn/c",
        "agency": None,
        "error_count": 1,
        "warning_count": 0,
    },
]
FINDINGS = [
    {"report_id": "b" * 64, "rule_id": "applications.balance", "severity": "error", "message": "13 ≠ 12"},
    {"report_id": "b" * 64, "rule_id": "cells.complete", "severity": "error", "message": "blank"},
    {"report_id": "a" * 64, "rule_id": "metadata.agency", "severity": "warning", "message": "no agency"},
    {"report_id": "c" * 64, "rule_id": "document.unreadable", "severity": "error", "message": "fetch failed: HTTP 404"},
]


def test_counts():
    run = RunSummary()
    run.add({"reports": REPORTS[:1], "findings": FINDINGS[2:3], "timings": {"extract": 1.5}})
    run.add(
        {"reports": REPORTS[1:], "findings": FINDINGS[:2] + FINDINGS[3:], "timings": {"extract": 2.0, "publish": 1}}
    )
    assert run.statuses == {"valid": 1, "invalid": 1, "unreadable": 1} and run.failed_count == 2
    assert run.counts_text() == "1 valid, 1 invalid, 1 unreadable"
    assert run.already_published == 1 and run.fetch_failures() == 1
    assert run.timings == {"extract": 3.5, "publish": 1}
    assert run.formats() == {"pdf": 1, "docx": 1, "unknown": 1}
    assert {k: dict(v) for k, v in run.years().items()} == {2023: {"valid": 1, "invalid": 1}, None: {"unreadable": 1}}
    assert run.affected() == {
        ("applications.balance", "error"): 1,
        ("cells.complete", "error"): 1,
        ("metadata.agency", "warning"): 1,
        ("document.unreadable", "error"): 1,
    }
    assert run.errors()["b" * 64] == ["applications.balance: 13 ≠ 12", "cells.complete: blank"]
    assert run.failed()["source_uri"].to_list() == ["b.docx", "https://x.gov.cn/c"]
    assert run.ids.to_list() == [r["report_id"] for r in REPORTS]


def test_every_reader_tells_the_same_counts(tmp_path):
    summary = {"reports": REPORTS, "findings": FINDINGS, "timings": {}}
    text = command.render_summary(summary, "wh")
    assert text.splitlines()[0] == "3 reports: 1 valid, 1 invalid, 1 unreadable (1 already published, not redone)"
    assert "             applications.balance: 13 ≠ 12" in text
    got = command.summary_json(summary, "wh", None, {}, 1)
    assert (got["reports"], got["valid"], got["invalid"], got["unreadable"], got["already_published"]) == (
        3,
        1,
        1,
        1,
        1,
    )
    page = validation_report.render(summary, "run-1", tmp_path).split("\n")
    assert (
        "<p><span class=valid>1 valid</span>, <span class=invalid>1 invalid</span>, "
        "<span class=unreadable>1 unreadable</span> of 3 reports.</p>" in page
    )
    assert "<tr><td>2023<td class=n>2<td class=n>1<td class=n>1<td class=n>0<td class=n>50%" in page


def test_the_runs_summary_keeps_counts_and_only_the_failures_it_prints(monkeypatch):
    """Memory flat in the number of documents (issues 11 and 24): the summary keeps counts, and in
    full only the first CAPS.kept failed reports in the run's order and in the validation page's order
    (with their findings); the tasks handed the whole run's summary don't hash it for a cache key
    (Prefect's default serialises every input to hash it)."""
    import polars as pl
    from prefect.cache_policies import NO_CACHE

    from nianbao.report import summary
    from tasks.across import check_across_years
    from tasks.ingest import report_artifacts

    monkeypatch.setattr(summary, "CAPS", summary.Caps(kept=3))
    run, every = RunSummary(), []
    for batch in range(20):  # 20 batches of 5: a valid report and 4 failed ones, their errors 0..19
        rows = [
            {
                "report_id": f"{batch:02d}{i}".ljust(64, "0"),
                "status": "valid" if i == 0 else ("invalid" if i % 2 else "unreadable"),
                "source_uri": f"s/{batch:02d}{i}",
                "error_count": 0 if i == 0 else (batch * 7 + i) % 20,
            }
            for i in range(5)
        ]
        found = [{"report_id": r["report_id"], "rule_id": "r", "severity": "error", "message": "m"} for r in rows]
        run.add(RunSummary(rows, found))
        every += rows
    every = summary._frame(every, summary.REPORT_SCHEMA).filter(pl.col("status") != "valid")
    assert (len(run), run.failed_count, run.affected()) == (100, 80, {("r", "error"): 100})
    assert run.failed()["source_uri"].to_list() == ["s/001", "s/002", "s/003"]
    assert run.page_failed().equals(every.sort(**summary.PAGE_ORDER).head(3))
    kept = set(run.failed()["report_id"]) | set(run.page_failed()["report_id"])
    assert set(run.findings["report_id"]) == kept and run.findings.height == len(kept)
    assert run.ids.len() == 100
    assert check_across_years.cache_policy is NO_CACHE and report_artifacts.cache_policy is NO_CACHE


def test_the_json_summary_is_written_as_json_dumps_writes_it():
    import io
    import json

    for summary in ({"reports": REPORTS, "findings": FINDINGS}, {"reports": REPORTS[:1], "findings": []}):
        written = io.StringIO()
        command.write_json(summary, "wh", None, {"x.xls": "not a report format"}, 1, written)
        whole = json.dumps(
            command.summary_json(summary, "wh", None, {"x.xls": "not a report format"}, 1), ensure_ascii=False, indent=1
        )
        assert written.getvalue() == whole
    assert [f["errors"] for f in json.loads(whole)["failed"]] == []
    run = RunSummary(REPORTS, FINDINGS)
    failed = command.summary_json(run, "wh", None, {}, 1)["failed"]
    assert [len(f["errors"]) for f in failed] == [2, 1] and list(command._failed_json(run, "wh", chunk=1)) == failed


def test_wording_counts_one_and_advises_only_what_applies():
    """Issue 25 item 6 and 9: '1 report', not '1 reports'; no quarantine advice without an invalid
    report; skipped files grouped by why; an s3:// warehouse keeps its two slashes."""
    unreadable = [r for r in REPORTS if r["status"] == "unreadable"]
    text = command.render_summary(
        {"reports": unreadable, "findings": FINDINGS},
        "s3://bucket/wh",
        "s3://bucket/wh/validation/r.html",
        {"d/m.csv": "a manifest: pass it by name", "d/a.xls": "not a report format"},
    )
    lines = text.splitlines()
    assert lines[0] == "1 report: 0 valid, 0 invalid, 1 unreadable"
    assert lines[2] == "validation report: s3://bucket/wh/validation/r.html"
    assert "skipped, a manifest: pass it by name (1 file): d/m.csv" in lines
    assert "skipped, not a report format (1 file): d/a.xls" in lines
    assert lines[-1] == (
        "next: open the validation report for the tables and sums; fix a source or its manifest "
        "row and run again (the rest is skipped)."
    )
    invalid = [r for r in REPORTS if r["status"] != "unreadable"]
    assert command.next_step(RunSummary(invalid, FINDINGS), "s3://bucket/wh") == (
        "open the validation report for the tables and sums; invalid reports' cells are in s3://bucket/wh/quarantine; "
        "fix a source or its manifest row and run again (the rest is skipped)."
    )
    valid = [r for r in REPORTS if r["status"] == "valid"]
    assert command.next_step(RunSummary(valid, []), "wh") is None
    got = command.summary_json(
        {"reports": valid, "findings": []}, "wh", None, {"d/m.csv": "a manifest: pass it by name"}, 0
    )
    assert (got["error"], got["next"], got["skipped_files"]) == (
        None,
        None,
        [{"path": "d/m.csv", "why": "a manifest: pass it by name"}],
    )


def test_failures_past_the_kept_ones_are_read_back_from_the_warehouse(tmp_path, monkeypatch):
    """The JSON summary lists every failed report: those the summary did not keep come from the
    warehouse, in the run's order with the same errors as the kept ones."""
    import shutil
    from pathlib import Path

    from nianbao.report import summary
    from nianbao.report.summary import summarise
    from nianbao.run import pipeline
    from nianbao.run.plan import Plan

    samples = Path(__file__).parents[2] / "data" / "samples"

    docs = tmp_path / "docs"
    docs.mkdir()
    for name in ("b.txt", "a.txt"):
        shutil.copy(samples / "not_a_report.txt", docs / name)
    (docs / "a.txt").write_text("另一份不是报告的文件", encoding="utf-8")
    shutil.copy(samples / "sample_invalid_2024.txt", docs / "c.txt")
    shutil.copy(samples / "sample_valid_2023.txt", docs / "d.txt")
    out = str(tmp_path / "wh")
    run = RunSummary()
    for batch in Plan.of([str(docs)]).holding(published={}).batches(2):
        run.add(summarise(pipeline.ingest_batch(batch, "run-1", out, processes=False), out))
    kept = list(command._failed_json(run, out))
    assert [f["source_uri"].rsplit("/", 1)[1] for f in kept] == ["a.txt", "b.txt", "c.txt"]
    assert all(f["errors"] for f in kept)
    monkeypatch.setattr(summary, "CAPS", summary.Caps(kept=1))
    fewer = RunSummary()
    for batch in Plan.of([str(docs)]).holding(published=None).batches(2):
        fewer.add(summarise(pipeline.ingest_batch(batch, "run-2", out, processes=False), out))
    assert fewer.failed().height == 1 and fewer.already_published == 4
    assert list(command._failed_json(fewer, out, chunk=2)) == kept
