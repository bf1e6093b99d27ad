"""The validation report: per-rule counts, health per year, failed reports' tables with the offending
cells highlighted and sums written out in Chinese labels; opened in a real headless Chromium."""

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import polars as pl
import pytest
from conftest import ROOT

from nianbao.acquire.sources import resolve
from nianbao.model.template import template
from nianbao.report import validation_report
from nianbao.report.summary import RunSummary
from nianbao.run.pipeline import process_batch
from nianbao.warehouse import publish

SAMPLES = ROOT / "data" / "samples"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    out = tmp_path_factory.mktemp("wh")
    frames = process_batch(resolve([str(SAMPLES)]), "run-a")
    publish.publish(out, frames)
    summary = {"reports": frames["reports"].to_dicts(), "findings": frames["findings"].to_dicts()}
    first = validation_report.write(summary, "run-a", out)
    second = validation_report.write(summary, "run-b", out)
    return out, first, second


def test_run_page_counts_rules_years_and_failed_reports(warehouse):
    out, page, _ = warehouse
    text = page.read_text(encoding="utf-8")
    assert "<script" not in text and "<link" not in text and "src=" not in text and "@import" not in text
    # per rule: checked, passed, failed, findings (2 readable reports; the invalid sample breaks the
    # balance in two columns and handled_total in two)
    assert re.search(
        r"<code>applications.balance</code>.*?<td class=n>2<td class=n>1<td class=\"n invalid\">1"
        r"<td class=n>2",
        text,
    )
    assert re.search(r"<code>document.unreadable</code>.*?<td class=n>3<td class=n>2<td class=\"n invalid\">1", text)
    assert "<tr><td>2023<td class=n>1<td class=n>1<td class=n>0<td class=n>0<td class=n>100%" in text
    assert "<tr><td>unknown<td class=n>1<td class=n>0<td class=n>0<td class=n>1<td class=n>0%" in text
    # the broken sum in the template's words, with the printed values
    assert (
        "自然人: （七）总计 10 ≠ 11 = （一）予以公开 8 + （二）部分公开 2 + 1.本机关不掌握相关政府信息 1 + 18 more at 0"
    ) in text
    assert (
        "总计: 一、本年新收政府信息公开申请数量 16 + 二、上年结转政府信息公开申请数量 1 = 17 ≠ 16 = （七）总计 14 "
        "+ 四、结转下年度继续办理 2"
    ) in text
    # the total a broken sum fails is marked where the table prints it, the sum's other cells lighter;
    # a cell no rule names is not
    assert '<td class="n bad total" title="applications:handled_total/natural_person">10' in text
    assert '<td class="n part" title="applications:disclosed/natural_person">8' in text
    assert '<td class="n" title="applications:handled_total/commercial">3' in text
    # the table as printed: its group labels in their own columns, spanning their rows
    assert (
        "<tr><th rowspan=22>三、本年度办理结果<th colspan=2>（一）予以公开<td" in text
        and "<tr><th rowspan=8>（三）不予公开<th>1.属于国家秘密<td" in text
        and "<tr><th rowspan=3>（四）无法提供<th>1.本机关不掌握相关政府信息<td" in text
        and "<tr><th colspan=3>四、结转下年度继续办理<td" in text
    )
    assert "not_a_report.txt" in text and "no template tables found" in text
    # the failing section opens, headed as the template prints it; the others stay folded
    assert "<details open><summary>三、收到和处理政府信息公开申请情况</summary>" in text
    assert "<details><summary>四、政府信息公开行政复议、行政诉讼情况</summary>" in text


def test_a_2019_table_keeps_its_single_other_row_in_place():
    """2019 prints （六）其他处理 as one row, within 三、本年度办理结果 (the code `other` is also a
    section 四 outcome: its place is the applications row's)."""
    rows = ["new", "carried_over", "disclosed", "partly_disclosed", "other", "handled_total", "carried_forward"]
    frame = pl.DataFrame({"row": rows, "applicant": ["total"] * len(rows), "raw": [str(i) for i in range(len(rows))]})
    text = "\n".join(validation_report._grid(template(), "applications", frame, {}))
    heads = re.findall(r"<tr>((?:<th[^>]*>[^<]+)+)<td", text)
    assert heads == [
        "<th colspan=2>一、本年新收政府信息公开申请数量",
        "<th colspan=2>二、上年结转政府信息公开申请数量",
        "<th rowspan=4>三、本年度办理结果<th>（一）予以公开",
        "<th>（二）部分公开",
        "<th>（六）其他处理",
        "<th>（七）总计",
        "<th colspan=2>四、结转下年度继续办理",
    ]


def test_index_lists_runs_newest_first(warehouse):
    out, _, _ = warehouse
    index = (out / "validation" / "index.html").read_text(encoding="utf-8")
    assert index.index('href="run-b.html"') < index.index('href="run-a.html"')
    assert "<td class=n>3<td class=n>1<td class=n>1<td class=n>1" in index


def test_a_long_failure_is_cut_with_a_count():
    report = {
        "report_id": "f" * 64,
        "status": "invalid",
        "source_uri": "https://example.org/r.pdf",
        "agency": "某镇",
        "year": 2024,
        "source_format": "pdf",
        "error_count": 30,
    }
    findings = [
        {
            "report_id": "f" * 64,
            "rule_id": "cells.complete",
            "severity": "error",
            "message": f"applications:new/total is blank ({i})",
        }
        for i in range(30)
    ]
    text = validation_report.render({"reports": [report], "findings": findings}, "run-x", Path(tempfile.mkdtemp()))
    assert text.count("<li><code>cells.complete</code>") == validation_report.CAPS.findings
    assert f"… and {30 - validation_report.CAPS.findings} more errors" in text
    assert '<a href="https://example.org/r.pdf">' in text  # http(s) sources are links, paths are not


def test_a_page_of_thousands_of_failures_lists_the_first_and_counts_the_rest(tmp_path):
    """A 100,000-row manifest of files not there fails nearly every report: the page details the
    first, names the next by their source, and counts the rest by status (listing them all made
    a page of 7 MiB)."""
    n = validation_report.CAPS.listed + 250
    status = ["invalid" if i < 150 else "unreadable" for i in range(n)]
    reports = pl.DataFrame(
        {
            "report_id": [f"{i:064d}" for i in range(n)],
            "source_uri": [f"missing/m{i:07d}.pdf" for i in range(n)],
            "status": status,
            "error_count": [1] * n,
        }
    )
    findings = reports.select(
        "report_id", rule_id=pl.lit("document.unreadable"), severity=pl.lit("error"), message=pl.lit("no such file")
    )
    text = validation_report.render(RunSummary(reports, findings), "run-x", tmp_path)
    sections = re.findall(r"<p>Source: <code>missing/m(\d+)\.pdf</code>", text)
    listed = re.findall(r"<tr><td class=(\w+)>\1<td><code>missing/m(\d+)\.pdf</code>", text)
    assert [int(i) for i in sections] == list(range(validation_report.CAPS.detailed))
    assert [int(i) for _, i in listed] == list(range(validation_report.CAPS.detailed, validation_report.CAPS.listed))
    assert {s for s, i in listed if int(i) < 150} == {"invalid"} and {s for s, i in listed if int(i) >= 150} == {
        "unreadable"
    }
    assert f"<h2>Reports that failed ({n})</h2>" in text
    assert "<p>… and 250 more failed reports (250 unreadable), not listed: the <code>reports</code> and " in text
    assert text.count("missing/m") == validation_report.CAPS.listed


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _chromium(*args: str) -> subprocess.CompletedProcess:
    profile = tempfile.mkdtemp()
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--enable-logging=stderr",
            "--v=0",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed (make test installs Debian's chromium where apt allows)"
)
def test_pages_open_in_a_browser(warehouse, tmp_path):
    out, page, _ = warehouse
    for name in ("run-a.html", "index.html"):
        url = (out / "validation" / name).as_uri()
        shot = tmp_path / name.replace(".html", ".png")
        done = _chromium("--window-size=1400,2000", f"--screenshot={shot}", url)
        assert shot.stat().st_size > 10_000, done.stderr[-2000:]
        dom = _chromium("--dump-dom", url)
        assert ":CONSOLE" not in dom.stderr, [l for l in dom.stderr.splitlines() if ":CONSOLE" in l]
        if name == "run-a.html":  # what the browser built holds the highlighted cells
            # the failing totals marked (（七）总计 in 自然人 and 总计), the rest of their sums lighter
            assert re.findall(r'<td class="n bad total" title="([^"]+)">', dom.stdout) == [
                "applications:handled_total/natural_person",
                "applications:handled_total/total",
            ]
            assert dom.stdout.count('class="n part"') == 48
            # the group column as printed: 1.属于国家秘密 under （三）不予公开, under 三、本年度办理结果
            assert '<th rowspan="22">三、本年度办理结果</th><th colspan="2">（一）予以公开</th>' in dom.stdout
            assert '<th rowspan="8">（三）不予公开</th><th>1.属于国家秘密</th>' in dom.stdout
            assert '<td class="n invalid">1</td>' in dom.stdout  # a failed rule's count is coloured
        else:
            assert 'href="run-a.html"' in dom.stdout
