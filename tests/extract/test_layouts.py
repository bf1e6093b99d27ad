"""Layouts real reports are printed in, each made the way such documents are made, read cell-exact:
Markdown dumps (pipe tables, section 三 in small tables with generic column names, section 四 a
proceeding at a time), PDFs without rules whose cells carry units or spaced digits or whose
section 四 headers wrap in their narrow columns, HTML tables built of <div>s, and PDFs whose table
pages are landscape (a landscape page, a page drawn turned, /Rotate)."""

import sys
from pathlib import Path

import corpus
import lxml.html
import pytest
from lxml.builder import E

from nianbao.extract import extract, office
from nianbao.extract.text import parse
from nianbao.interpret.match import match
from nianbao.model.document import Table
from nianbao.model.template import template

sys.path.insert(0, str(Path(__file__).parents[1] / "fixtures"))
import landscape  # noqa: E402
import make_pdf  # noqa: E402
import markdown  # noqa: E402
import typeset  # noqa: E402
from cms import div_page  # noqa: E402

T = template()


def exact(blocks, rep: corpus.Report):
    """Every cell as printed (blank cells as the blanks they are), and no finding."""
    m = match(blocks)
    for dataset in ("active_disclosure", "applications", "reviews_litigation"):
        assert {c.key: c.raw for c in getattr(m, dataset)} == getattr(rep, dataset), dataset
    assert [(f.rule_id, f.message) for f in m.findings] == []


# ---------------------------------------------------------------- Markdown dumps


@pytest.mark.parametrize("style", ["grid", "split", "rows"])
def test_markdown_dumps(rep, style):
    text = markdown.write(rep, style)
    assert "| --- |" not in text and "|---|" in text  # as the tools write them
    exact(parse(text), rep)


def test_markdown_headings_and_rules_are_markup():
    blocks = parse(
        "# 某县2025年政府信息公开工作年度报告\n\n## 一、总体情况\n\n**正文**\n\n| a | b |\n|:---:|---|\n| 1 | 2 |\n"
    )
    assert [getattr(b, "text", None) or b.rows for b in blocks] == [
        "某县2025年政府信息公开工作年度报告",
        "一、总体情况",
        "正文",
        [["a", "b"], ["1", "2"]],
    ]


def test_a_row_numbering_the_columns_is_never_read_as_values(rep):
    """Under section 四's one header, a row 1 2 3 … 15 (forms number their columns) is no row of values."""
    table = next(v for k, v in corpus.layout(rep) if k == "table" and v[0].cell.text == "行政复议")
    rows = corpus.grid(table)
    rows.insert(3, [str(i) for i in range(1, 16)])
    m = match([Table(rows, [f"row {i}" for i in range(len(rows))])])
    assert {c.key: c.raw for c in m.reviews_litigation} == rep.reviews_litigation


# ---------------------------------------------------------------- PDFs without rules


def with_units(rep: corpus.Report) -> corpus.Report:
    """Counts printed with a unit (13 2件 3件 …: the first without) and the other forms numbers take."""
    out = corpus.Report(
        dict(rep.active_disclosure), dict(rep.applications), dict(rep.reviews_litigation), rep.narratives
    )
    for i, (k, v) in enumerate(out.reviews_litigation.items()):
        out.reviews_litigation[k] = v + "件" if i and v[:1].isdigit() else v
    for i, (k, v) in enumerate(list(out.applications.items())[:30]):
        out.applications[k] = v + "件" if i % 3 and v[:1].isdigit() else v
    out.applications.update(
        {
            ("carried_over", "natural_person"): "1 234",
            ("carried_over", "commercial"): "１，２３４",
            ("withheld_third_party", "total"): "12 345",
        }
    )
    out.reviews_litigation.update(
        {
            ("review", "upheld"): "13",
            ("litigation_direct", "total"): "1 234",
            ("litigation_after_review", "upheld"): "１，２３４",
        }
    )
    return out


@pytest.mark.parametrize("rules", ["none", "three"])
@pytest.mark.parametrize("align", ["left", "centre", "right"])
def test_borderless_cells_with_units_and_spaced_digits(rep, rules, align):
    printed = with_units(rep)
    exact(extract(typeset.from_layout(corpus.layout(printed), kind="cid", rules=rules, align=align), "pdf"), printed)


def narrow(n: int) -> list[float]:
    """Section 四's fifteen columns too narrow for 结果维持 (it wraps: 结果维 / 持)."""
    return [26] * 15 if n == 15 else make_pdf._column_widths(n)


@pytest.mark.parametrize("gap", [2, 5, 6])
@pytest.mark.parametrize("align", ["left", "right"])
def test_borderless_section_four_whose_headers_wrap(rep, gap, align):
    pdf = typeset.from_layout(
        corpus.layout(rep), kind="cid", rules="none", align=align, valign="middle", column_widths=narrow, line_gap=gap
    )
    exact(extract(pdf, "pdf"), rep)


def test_a_long_label_cut_where_it_wrapped_names_its_row_not_its_group(rep):
    """Lines 1.5 apart: the reader keeps only the first line of 1.申请人无正当理由逾期不补正、行政机关不
    再处理… beside its numbers, after the group label （六）其他处理 — which is also 2019's one row
    `other`. The row is the one its first line begins, never the group's."""
    pdf = typeset.from_layout(
        corpus.layout(rep), kind="cid", rules="none", align="left", valign="top", column_widths=narrow, line_gap=4
    )
    m = match(extract(pdf, "pdf"))
    assert {c.key: c.raw for c in m.applications} == rep.applications
    assert [(f.rule_id, f.cells) for f in m.findings] == [
        ("extraction.label_approximate", ["applications:other_overdue_correction/total"]),
        ("extraction.label_approximate", ["applications:other_unpaid_fee/total"]),
    ]


def test_headers_wrapped_a_line_a_row_place_their_columns(rep):
    """A narrow section 四 read without rules: each header line a row of its own (结果维 over 持), and a
    blank column the reader made between two of them. The values go under the headers, not by count."""
    outcomes = [label for _, label in T.spec.reviews_litigation.outcomes]
    first = [o[:3] if len(o) > 3 else o for o in outcomes]
    second = [o[3:] for o in outcomes]
    gap = lambda row: row[:7] + [""] + row[7:]  # noqa: E731
    values = [rep.reviews_litigation[(p, o)] or "0" for p in T.proceedings for o in T.outcomes]
    rows = [
        gap(["行政复议", "", "", "", "", "行政诉讼"] + [""] * 9),
        gap(first + ["未经复议直接起诉", "", "", "", "", "复议后起诉", "", "", "", ""]),
        gap(second + first * 2),
        gap([""] * 5 + second * 2),
        gap(values),
    ]
    m = match([Table(rows, [f"row {i}" for i in range(len(rows))])])
    assert [c.raw for c in m.reviews_litigation] == values
    assert m.findings == []


# ---------------------------------------------------------------- HTML tables of <div>s


@pytest.mark.parametrize("style", ["css", "grid", "aria"])
def test_html_tables_built_of_divs(rep, layout, style):
    blocks = extract(div_page(layout, style), "html")
    assert sum(isinstance(b, Table) for b in blocks) == 3
    exact(blocks, rep)


def test_a_page_laid_out_in_a_css_grid_is_no_table(rep, layout):
    """A CMS page in a two-column CSS grid (menu, article): its blocks are no cells."""
    page = lxml.html.document_fromstring(div_page(layout, "css"))
    main = page.find(".//div[@class='main']")
    main.set("style", "display: grid; grid-template-columns: 200px 1fr; gap: 12px")
    main.insert(0, E.div(E.ul(E.li("政务公开"), E.li("年度报告"))))
    main.append(E.div("主办单位：某某市人民政府办公室"))
    main.append(E.div("联系我们"))
    blocks = extract(lxml.html.tostring(page, encoding="utf-8"), "html")
    exact(blocks, rep)


# ---------------------------------------------------------------- landscape table pages


@pytest.mark.parametrize("rules", ["grid", "none"])
@pytest.mark.parametrize("turn", landscape.TURNS)
def test_landscape_table_pages(rep, turn, rules):
    """Sections 三 and 四 on landscape pages: a landscape page, one drawn turned on portrait paper
    (its text reading up or down), that page with /Rotate to show it upright, a landscape page
    turned to portrait by /Rotate. Read upright, ruled or not."""
    exact(extract(landscape.from_layout(corpus.layout(rep), turn, rules=rules), "pdf"), rep)


@pytest.mark.parametrize("rules", ["grid", "none"])
def test_a_table_turned_under_its_upright_heading(rep, rules):
    """One page, two directions: section 四's heading upright, its table turned below it."""
    exact(extract(landscape.table_turned_under_its_heading(corpus.layout(rep), rules=rules), "pdf"), rep)


@pytest.mark.skipif(office.soffice() is None, reason="LibreOffice is not installed (make office)")
@pytest.mark.parametrize("ruled", [True, False])
def test_a_landscape_section_printed_by_libreoffice(rep, ruled):
    """A DOCX whose sections 三 and 四 are a landscape section, printed to PDF: the landscape page opens
    with section 三's heading, which goes on with no table of the page before (section 二's, borderless)."""
    exact(extract(typeset.from_docx(corpus.write_docx(corpus.layout(rep), ruled=ruled, landscape=True)), "pdf"), rep)
