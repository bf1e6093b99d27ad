"""The validation report: per-rule counts, health per year, failed reports' tables with the offending
cells highlighted and sums written out in Chinese labels; opened in a real headless Chromium."""
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from conftest import ROOT
from nianbao import publish, validation_report
from nianbao.pipeline import process_batch
from nianbao.sources import resolve

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
    assert re.search(r"<code>applications.balance</code>.*?<td class=n>2<td class=n>1<td class=n class=invalid>1"
                     r"<td class=n>2", text)
    assert re.search(r"<code>document.unreadable</code>.*?<td class=n>3<td class=n>2<td class=n class=invalid>1", text)
    assert "<tr><td>2023<td class=n>1<td class=n>1<td class=n>0<td class=n>0<td class=n>100%" in text
    assert "<tr><td>unknown<td class=n>1<td class=n>0<td class=n>0<td class=n>1<td class=n>0%" in text
    # the broken sum in the template's words, with the printed values
    assert ("自然人: （七）总计 10 ≠ 11 = （一）予以公开 8 + （二）部分公开 2 + 1.本机关不掌握相关政府信息 1 "
            "+ 18 more at 0") in text
    assert ("总计: 一、本年新收政府信息公开申请数量 16 + 二、上年结转政府信息公开申请数量 1 = 17 ≠ 16 = （七）总计 14 "
            "+ 四、结转下年度继续办理 2") in text
    # the offending cell is highlighted where the table prints it; a cell no rule names is not
    assert '<td class="n bad" title="applications:handled_total/natural_person">10' in text
    assert '<td class="n" title="applications:handled_total/commercial">3' in text
    assert "not_a_report.txt" in text and "no template tables found" in text
    # the failing section opens, headed as the template prints it; the others stay folded
    assert "<details open><summary>三、收到和处理政府信息公开申请情况</summary>" in text
    assert "<details><summary>四、政府信息公开行政复议、行政诉讼情况</summary>" in text


def test_index_lists_runs_newest_first(warehouse):
    out, _, _ = warehouse
    index = (out / "validation" / "index.html").read_text(encoding="utf-8")
    assert index.index('href="run-b.html"') < index.index('href="run-a.html"')
    assert "<td class=n>3<td class=n>1<td class=n>1<td class=n>1" in index


def test_a_long_failure_is_cut_with_a_count():
    report = {"report_id": "f" * 64, "status": "invalid", "source_uri": "https://example.org/r.pdf", "agency": "某镇",
              "year": 2024, "source_format": "pdf", "error_count": 30}
    findings = [{"report_id": "f" * 64, "rule_id": "cells.complete", "severity": "error",
                 "message": f"applications:new/total is blank ({i})"} for i in range(30)]
    text = validation_report.render({"reports": [report], "findings": findings}, "run-x", Path(tempfile.mkdtemp()))
    assert text.count("<li><code>cells.complete</code>") == validation_report.FINDINGS_SHOWN
    assert f"… and {30 - validation_report.FINDINGS_SHOWN} more errors" in text
    assert '<a href="https://example.org/r.pdf">' in text  # http(s) sources are links, paths are not


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _chromium(*args: str) -> subprocess.CompletedProcess:
    profile = tempfile.mkdtemp()
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                           "--disable-background-networking", "--disable-component-update", "--disable-sync",
                           f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", *args],
                          capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (make test installs Debian's chromium where apt allows)")
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
            assert dom.stdout.count('class="n bad"') == 50  # every section 三 row (25) in 自然人 and 总计
            assert "（七）总计" in dom.stdout
        else:
            assert 'href="run-a.html"' in dom.stdout
