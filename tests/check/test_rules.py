"""One report that breaks exactly one rule, and one that keeps it, per rule of the contract."""

import datetime as dt
import re
from pathlib import Path

import pytest

from nianbao.interpret import normalise
from nianbao.interpret.match import Cell, Matched
from nianbao.model.findings import Finding
from nianbao.model.records import ReportRow
from nianbao.model.template import template
from nianbao.run.pipeline import Report, validate_batch

T = template()
RESULT = T.result_rows


def consistent() -> dict:
    """A small report whose arithmetic holds: 3 natural-person requests, 1 from a company."""
    apps = {r.code: [0] * 6 for r in T.app_rows if r.code != "other"}
    apps["new"] = [2, 1, 0, 0, 0, 0]
    apps["carried_over"] = [1, 0, 0, 0, 0, 0]
    apps["disclosed"] = [2, 0, 0, 0, 0, 0]
    apps["unavailable_not_held"] = [0, 1, 0, 0, 0, 0]
    apps["handled_total"] = [2, 1, 0, 0, 0, 0]
    apps["carried_forward"] = [1, 0, 0, 0, 0, 0]
    grid = {row: [str(v) for v in vals] + [str(sum(vals))] for row, vals in apps.items()}
    rl = {p: ["1", "0", "0", "1", "2"] if p == "review" else ["0"] * 5 for p in T.proceedings}
    ad = {
        ("regulations", "issued"): "1",
        ("regulations", "repealed"): "0",
        ("regulations", "in_force"): "4",
        ("fees", "amount_10k_yuan"): "12.5",
    }
    return {"apps": grid, "rl": rl, "ad": ad, "year": 2023, "agency": "某县人民政府"}


def report(spec: dict, n: int = 0) -> Report:
    m = Matched(
        applications=[
            Cell((row, a), raw, "t") for row, vals in spec["apps"].items() for a, raw in zip(T.applicants, vals)
        ],
        reviews_litigation=[
            Cell((p, o), raw, "t") for p, vals in spec["rl"].items() for o, raw in zip(T.outcomes, vals)
        ],
        active_disclosure=[Cell(k, raw, "t") for k, raw in spec["ad"].items()],
    )
    rid = f"{n:064d}"
    row = {
        "report_id": rid,
        "year": spec["year"],
        "agency": spec["agency"],
        "region_code": None,
        "title": None,
        "source_uri": "t",
        "source_format": "txt",
        "template_version": "2021",
        "status": "valid",
        "error_count": 0,
        "warning_count": 0,
        "published_on": None,
        "fetched_at": None,
        "ingested_at": dt.datetime.now(dt.timezone.utc),
        "run_id": "r",
        "pipeline_version": "t",
    }
    return Report(ReportRow(**row), normalise.cell_rows(rid, spec["year"], m), [])


def judge(spec: dict) -> tuple[str, set]:
    r = report(spec)
    validate_batch([r], "r")
    return r.row.status, {(f.rule_id, tuple(f.cells), f.expected, f.observed) for f in r.findings}


def test_consistent_report_keeps_every_rule():
    assert judge(consistent()) == ("valid", set())


def test_applications_balance():
    s = consistent()
    s["apps"]["carried_over"] = ["2", "0", "0", "0", "0", "0", "2"]  # 2 + 2 != 2 + 1
    status, found = judge(s)
    assert status == "invalid"
    # per column: expected = handled_total + carried_forward, observed = new + carried_over
    assert {(f[0], f[1][0], f[2], f[3]) for f in found} == {
        ("applications.balance", "applications:new/natural_person", "3", "4"),
        ("applications.balance", "applications:new/total", "4", "5"),
    }


def test_applications_row_total():
    s = consistent()
    # totals that still balance down the column but not across their rows
    s["apps"]["new"][6] = "4"
    s["apps"]["carried_forward"][6] = "2"
    status, found = judge(s)
    assert status == "invalid"
    assert found == {
        (
            "applications.row_total",
            ("applications:new/total", *(f"applications:new/{a}" for a in T.applicants[:6])),
            "3",
            "4",
        ),
        (
            "applications.row_total",
            ("applications:carried_forward/total", *(f"applications:carried_forward/{a}" for a in T.applicants[:6])),
            "1",
            "2",
        ),
    }


def test_applications_handled_total():
    s = consistent()
    s["apps"]["rejected_duplicate"] = ["1", "0", "0", "0", "0", "0", "1"]  # a result row the total leaves out
    s["apps"]["new"] = ["3", "1", "0", "0", "0", "0", "4"]  # keeps the balance and the row totals
    s["apps"]["carried_forward"] = ["2", "0", "0", "0", "0", "0", "2"]
    status, found = judge(s)
    assert {(f[0], f[2], f[3]) for f in found} == {
        ("applications.handled_total", "3", "2"),
        ("applications.handled_total", "4", "3"),
    }


def test_reviews_litigation_total():
    s = consistent()
    s["rl"]["review"] = ["10", "1", "0", "0", "0"]  # 洪泽区 2023 prints 总计 0 beside non-zero parts
    status, found = judge(s)
    assert status == "invalid"
    assert found == {
        (
            "reviews_litigation.total",
            (
                "reviews_litigation:review/total",
                "reviews_litigation:review/upheld",
                "reviews_litigation:review/corrected",
                "reviews_litigation:review/other",
                "reviews_litigation:review/pending",
            ),
            "11",
            "0",
        )
    }


@pytest.mark.parametrize("blank", ["", "—", None])
def test_cells_complete(blank):
    s = consistent()
    s["rl"]["litigation_direct"] = ["0", "0", blank, "0", "0"]
    status, found = judge(s)
    assert status == "invalid"
    assert found == {
        (
            "cells.complete",
            ("reviews_litigation:litigation_direct/other",),
            "a number",
            "no cell printed" if blank is None else blank,
        )
    }


@pytest.mark.parametrize("raw,ok", [("-1", False), ("1.5", False), ("2", True)])
def test_cells_non_negative_integer_counts(raw, ok):
    s = consistent()
    s["ad"][("penalty", "decisions")] = raw
    status, found = judge(s)
    assert status == ("valid" if ok else "invalid")
    assert found == (
        set()
        if ok
        else {("cells.non_negative_integer", ("active_disclosure:penalty/decisions",), "an integer >= 0", raw)}
    )


def test_cells_non_negative_integer_amounts_and_signed_change():
    s = consistent()
    s["ad"][("fees", "amount_10k_yuan")] = "0.5"
    s["ad"][("licensing", "items_change")] = "-3"  # 2019's 本年增/减 may be negative
    assert judge(s) == ("valid", set())
    s["ad"][("fees", "amount_10k_yuan")] = "-0.5"
    status, found = judge(s)
    assert found == {
        ("cells.non_negative_integer", ("active_disclosure:fees/amount_10k_yuan",), "a number >= 0", "-0.5")
    }


@pytest.mark.parametrize(
    "year,ok",
    [(None, False), (2007, False), (dt.date.today().year + 1, False), (2008, True), (dt.date.today().year, True)],
)
def test_metadata_year(year, ok):
    s = consistent()
    s["year"] = year
    status, found = judge(s)
    assert status == ("valid" if ok else "invalid")
    assert {f[0] for f in found} == (set() if ok else {"metadata.year"})


def test_active_disclosure_complete_is_a_warning():
    s = consistent()
    s["ad"][("regulations", "in_force")] = ""
    status, found = judge(s)
    assert status == "valid"
    assert found == {("active_disclosure.complete", ("active_disclosure:regulations/in_force",), "a number", "")}


def test_metadata_agency_is_a_warning():
    s = consistent()
    s["agency"] = None
    status, found = judge(s)
    assert status == "valid"
    assert found == {("metadata.agency", ("reports:agency",), "a known agency", None)}


def test_findings_go_to_the_right_report_in_a_batch():
    good, bad = consistent(), consistent()
    bad["rl"]["review"] = ["1", "0", "0", "0", "0"]
    reports = [report(good, 1), report(bad, 2)]
    validate_batch(reports, "r")
    assert [r.row.status for r in reports] == ["valid", "invalid"]
    assert [f.rule_id for f in reports[1].findings] == ["reviews_litigation.total"]


def test_findings_read_in_the_template_words():
    s = consistent()
    s["apps"]["rejected_duplicate"] = ["1", "0", "0", "0", "0", "0", "1"]
    s["rl"]["litigation_direct"] = ["0", "0", "", "0", "0"]
    r = report(s)
    validate_batch([r], "r")
    messages = {f.message for f in r.findings}
    assert "自然人: （七）总计 = 2 ≠ 3 = 三、本年度办理结果（一）至（六）" in messages
    assert "总计·（五）不予处理 2.重复申请" not in messages  # the row label is the template's, not a guess
    assert "未经复议直接起诉·其他结果 (reviews_litigation:litigation_direct/other) is blank or not a number" in messages
    assert not any("@result" in m or "handled_total =" in m for m in messages)  # no internal tokens


def test_a_blank_template_is_not_a_report():
    from nianbao.run.pipeline import process_document_bytes

    text = (Path(__file__).parents[2] / "data" / "samples" / "sample_valid_2023.txt").read_text(encoding="utf-8")
    head, rest = text.split("三、收到和处理政府信息公开申请情况")
    tables, tail = rest.split("五、存在的主要问题及改进情况")
    blank = re.sub(r"(?<![^\t\n])\d+(?![^\t\n])", "", tables)  # every figure of sections 三 and 四 gone
    assert blank != tables
    row = {
        "report_id": "b" * 64,
        "year": 2023,
        "agency": None,
        "region_code": None,
        "title": None,
        "source_uri": "t",
        "source_format": "txt",
        "template_version": "unknown",
        "status": "unreadable",
        "error_count": 0,
        "warning_count": 0,
        "published_on": None,
        "fetched_at": None,
        "ingested_at": None,
        "run_id": "r",
        "pipeline_version": "t",
    }
    doc = head + "三、收到和处理政府信息公开申请情况" + blank + "五、存在的主要问题及改进情况" + tail
    r = process_document_bytes(ReportRow(**row), doc.encode(), {})
    assert r.row.status == "unreadable"
    assert [(f.rule_id, f.message) for f in r.findings] == [
        ("document.unreadable", "a blank template, not a report: sections 三 and 四 print no figures")
    ]
    assert process_document_bytes(ReportRow(**row), text.encode(), {}).row.status == "valid"


def test_a_scan_whose_every_figure_trust_empties_is_invalid_not_a_blank_template():
    """A scan read confidently but every figure of 三 and 四 one more than printed (every sum
    broken: nianbao.interpret.trust empties them all) prints its figures: `invalid`, each cell an
    `extraction.unread_cell` (ours), not `unreadable` as "a blank template" (that was the verdict)."""
    from nianbao.extract import extract
    from nianbao.interpret import trust
    from nianbao.interpret.match import match
    from nianbao.model.document import Reading, Table
    from nianbao.run.pipeline import _finish

    text = (Path(__file__).parents[2] / "data" / "samples" / "sample_valid_2023.txt").read_bytes()
    blocks = extract(text, "txt")
    for t in (b for b in blocks if isinstance(b, Table)):  # as OCR gives them: Readings, confident
        t.rows = [[Reading(str(int(c) + 1) if c.strip().isdigit() else c, 0.99) for c in row] for row in t.rows]
        t.confidence = [[0.99] * len(row) for row in t.rows]
    matched = trust.check(blocks, match(blocks))
    assert not any(c.raw for c in [*matched.applications, *matched.reviews_litigation])  # all emptied
    row = ReportRow(
        report_id="c" * 64,
        year=2023,
        agency=None,
        region_code=None,
        title=None,
        source_uri="t",
        source_format="pdf",
        template_version="unknown",
        status="unreadable",
        error_count=0,
        warning_count=0,
        published_on=None,
        fetched_at=None,
        ingested_at=None,
        run_id="r",
        pipeline_version="t",
    )
    r = _finish(row, matched, {})
    validate_batch([r], "r")
    assert r.row.status == "invalid"
    unread = {n for f in r.findings if f.rule_id == "extraction.unread_cell" for n in f.cells}
    assert len([n for n in unread if not n.startswith("active_disclosure:")]) == len(matched.applications) + len(
        matched.reviews_litigation
    )
    assert not [f for f in r.findings if f.rule_id in ("document.unreadable", "cells.complete")]


def test_an_unread_cell_is_not_the_reports_blank():
    s = consistent()
    m_cells = report(s)
    for row in m_cells.cells["reviews_litigation"]:
        if (row["proceeding"], row["outcome"]) == ("review", "upheld"):
            row.update(raw=None, value=None, number=None, unread=True)
    m_cells.findings.append(Finding("extraction.unread_cell", "error", "t", ["reviews_litigation:review/upheld"]))
    validate_batch([m_cells], "r")
    assert m_cells.row.status == "invalid"  # quarantined: it cannot be checked
    assert [f.rule_id for f in m_cells.findings] == ["extraction.unread_cell"]  # not cells.complete, no sum
