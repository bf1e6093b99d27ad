"""Reports with known values, written as DOCX and HTML in the 2021 template's layout.

`report()` holds the values (awkward ones included); `layout()` turns them into the printed
document as blocks of ("p", text) and ("table", [Placed]), with the template's merged cells; the
writers render that layout. Labels come from nianbao/model/template.toml, so tests follow the template.
"""

from __future__ import annotations

import copy
import html as html_lib
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import docx
from docx.oxml import OxmlElement
from docx.table import Table, _Cell

from nianbao.interpret.match import match
from nianbao.model.document import Table as BlockTable
from nianbao.model.template import template

BR = "\n"


@dataclass
class C:
    text: str
    rowspan: int = 1
    colspan: int = 1
    br: bool = False  # several lines written with line breaks (w:br, <br>) rather than paragraphs


@dataclass
class Placed:
    row: int
    col: int
    cell: C


@dataclass
class Report:
    active_disclosure: dict[tuple[str, str], str] = field(default_factory=dict)
    applications: dict[tuple[str, str], str] = field(default_factory=dict)
    reviews_litigation: dict[tuple[str, str], str] = field(default_factory=dict)
    narratives: dict[str, list[str]] = field(default_factory=dict)


# Section 二 of the 2021 template: (heading row, items, metrics) per sub-table.
AD_GROUPS = [
    ("第二十条第（一）项", ["regulations", "normative_documents"], ["issued", "repealed", "in_force"]),
    ("第二十条第（五）项", ["licensing"], ["decisions"]),
    ("第二十条第（六）项", ["penalty", "coercion"], ["decisions"]),
    ("第二十条第（八）项", ["fees"], ["amount_10k_yuan"]),
]
# Section 二 of the 2019 template (what the 2019 and 2020 reports print; mixed with the 2021
# template's sections 三 and 四 by many later ones).
AD_GROUPS_2019 = [
    (
        "第二十条第（一）项",
        ["regulations", "normative_documents"],
        ["newly_made", "newly_published", "published_total"],
    ),
    ("第二十条第（五）项", ["licensing", "other_services"], ["items_prev_year", "items_change", "decisions"]),
    ("第二十条第（六）项", ["penalty", "coercion"], ["items_prev_year", "items_change", "decisions"]),
    ("第二十条第（八）项", ["fees"], ["items_prev_year", "items_change"]),
    ("第二十条第（九）项", ["procurement"], ["procurement_items", "procurement_amount"]),
]
# Section 三: the group a row prints under (2021), by code prefix.
APP_GROUPS = {
    "withheld": "（三）不予公开",
    "unavailable": "（四）无法提供",
    "rejected": "（五）不予处理",
    "other": "（六）其他处理",
}


def _data():
    return template().spec.model_dump()


def app_rows_2021() -> list[dict]:
    return [d for d in _data()["applications"]["rows"] if "2021" in d["versions"]]


def report() -> Report:
    """Known values: counting numbers, with thousands separators, full-width digits, dashes and blanks."""
    t = template()
    rep = Report()
    n = iter(range(1, 10_000))
    for _, items, metrics in AD_GROUPS:
        for item in items:
            for metric in metrics:
                rep.active_disclosure[(item, metric)] = str(next(n))
    for d in app_rows_2021():
        for col in t.applicants:
            rep.applications[(d["code"], col)] = str(next(n))
    for p in t.proceedings:
        for o in t.outcomes:
            rep.reviews_litigation[(p, o)] = str(next(n))
    rep.active_disclosure.update(
        {
            ("regulations", "issued"): "３",
            ("coercion", "decisions"): "",
            ("fees", "amount_10k_yuan"): "1,234.5",
            ("licensing", "decisions"): "—",
        }
    )
    rep.applications.update(
        {
            ("new", "natural_person"): "1,234",
            ("new", "commercial"): "１２",
            ("disclosed", "natural_person"): "",
            ("withheld_state_secret", "research"): "—",
            ("carried_forward", "total"): "",
            ("handled_total", "total"): "12,345",
        }
    )
    rep.reviews_litigation.update(
        {("review", "upheld"): "—", ("litigation_direct", "total"): "１０", ("litigation_after_review", "pending"): ""}
    )
    rep.narratives = {
        "overview": [
            "本机关认真贯彻落实《中华人民共和国政府信息公开条例》，全年主动公开信息1,234条。",
            "（一）主动公开情况。全年通过门户网站发布信息。",
        ],
        "problems": ["公开内容不够全面，下一步将加强培训。"],
        "other_matters": ["本年度未收取信息处理费。"],
    }
    return rep


def _place(rows: list[list[C]]) -> list[Placed]:
    """Grid positions of cells given row by row, as HTML places them around rowspans."""
    taken: set[tuple[int, int]] = set()
    out = []
    for r, row in enumerate(rows):
        c = 0
        for cell in row:
            while (r, c) in taken:
                c += 1
            out.append(Placed(r, c, cell))
            taken |= {(r + dr, c + dc) for dr in range(cell.rowspan) for dc in range(cell.colspan)}
            c += cell.colspan
    return out


def _label(section: str, key: str, code: str) -> str:
    return next(d["labels"][0] for d in _data()[section][key] if d["code"] == code)


def table_active(rep: Report, groups=AD_GROUPS) -> list[Placed]:
    rows = []
    for heading, items, metrics in groups:
        spans = {1: [3], 2: [1, 2], 3: [1, 1, 1]}[len(metrics)]
        rows.append([C(heading, colspan=4)])
        names = [_label("active_disclosure", "metrics", m) for m in metrics]
        names = [m + "（单位：万元）" if m in ("本年收费金额", "采购总金额") else m for m in names]
        rows.append([C("信息内容")] + [C(m, colspan=span) for m, span in zip(names, spans)])
        for item in items:
            rows.append(
                [C(_label("active_disclosure", "items", item))]
                + [C(rep.active_disclosure[(item, m)], colspan=span) for m, span in zip(metrics, spans)]
            )
    return _place(rows)


def table_applications(rep: Report) -> list[Placed]:
    cols = _data()["applications"]["columns"]
    values = lambda code: [C(rep.applications[(code, col)]) for col, _ in cols]  # noqa: E731
    rows = [
        [
            C("（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", rowspan=3, colspan=3),
            C("申请人情况", colspan=7),
        ],
        [C(BR.join("自然人"), rowspan=2), C("法人或其他组织", colspan=5), C("总计", rowspan=2)],
        [C(label) for _, label in cols[1:6]],
    ]
    app_rows = app_rows_2021()
    results = [d for d in app_rows if d.get("result") or d["code"] == "handled_total"]
    for d in app_rows:
        code, label = d["code"], d["number"] + d["labels"][0]
        if code == "partly_disclosed":
            label += "（区分处理的，只计这一情形，不计其他情形）"
        group = APP_GROUPS.get(code.split("_")[0])
        if d not in results:
            rows.append([C(label, colspan=3)] + values(code))
            continue
        row = []
        if d is results[0]:  # 三、本年度办理结果 spans every result row, printed a character a line
            row.append(C("三、" + BR + BR.join("本年度办理结果"), rowspan=len(results), br=True))
        if group is None:
            row.append(C(label, colspan=2))
        else:
            members = [r for r in results if APP_GROUPS.get(r["code"].split("_")[0]) == group]
            if d is members[0]:
                row.append(C(group, rowspan=len(members)))
            row.append(C(label))
        rows.append(row + values(code))
    return _place(rows)


def table_reviews(rep: Report) -> list[Placed]:
    t = _data()["reviews_litigation"]
    outcomes = [label for _, label in t["outcomes"]]
    (_, review), (_, direct), (_, after) = t["proceedings"]
    rows = [
        [C(review, colspan=5), C("行政诉讼", colspan=10)],
        [C(o, rowspan=2) for o in outcomes] + [C(direct, colspan=5), C(after, colspan=5)],
        [C(o) for o in outcomes * 2],
        [C(rep.reviews_litigation[(p, o)]) for p, _ in t["proceedings"] for o, _ in t["outcomes"]],
    ]
    return _place(rows)


def layout(rep: Report, ad_groups=AD_GROUPS) -> list[tuple[str, object]]:
    sec = _data()["sections"]
    head = lambda code: ("p", f"{sec[code][0]}、{sec[code][1]}")  # noqa: E731
    out: list[tuple[str, object]] = [("p", "某某市某某局2021年政府信息公开工作年度报告"), head("overview")]
    out += [("p", t) for t in rep.narratives["overview"]]
    out += [head("active_disclosure"), ("table", table_active(rep, ad_groups))]
    out += [head("applications"), ("table", table_applications(rep))]
    out += [head("reviews_litigation"), ("table", table_reviews(rep))]
    out += [head("problems")] + [("p", t) for t in rep.narratives["problems"]]
    out += [head("other_matters")] + [("p", t) for t in rep.narratives["other_matters"]]
    return out


def size(cells: list[Placed]) -> tuple[int, int]:
    return (max(p.row + p.cell.rowspan for p in cells), max(p.col + p.cell.colspan for p in cells))


def grid(cells: list[Placed]) -> list[list[str]]:
    """The rows an extractor should give: text at a span's first position, "" elsewhere."""
    n_rows, n_cols = size(cells)
    out = [[""] * n_cols for _ in range(n_rows)]
    for p in cells:
        out[p.row][p.col] = p.cell.text
    return out


# ---------------------------------------------------------------- DOCX


def _fill_docx_cell(cell, c: C) -> None:
    lines = c.text.split(BR)
    if c.br:
        cell.text = c.text  # python-docx writes "\n" as <w:br/>
        return
    cell.text = lines[0]
    for line in lines[1:]:
        cell.add_paragraph(line)


_MERGED: dict[tuple, object] = {}  # empty, merged w:tbl by the cells' grid positions and spans


def _docx_table(container, cells: list[Placed]):
    n_rows, n_cols = size(cells)
    table = container.add_table(rows=n_rows, cols=n_cols)
    # (a table's columns are as wide as its page's text: a landscape section's are wider)
    shape = (
        tuple((p.row, p.col, p.cell.rowspan, p.cell.colspan) for p in cells),
        getattr(container, "_block_width", None),
    )
    if shape in _MERGED:  # python-docx's merges are slow; a layout's merged table is reused
        tbl = copy.deepcopy(_MERGED[shape])
        table._tbl.addprevious(tbl)
        table._tbl.getparent().remove(table._tbl)
        table = Table(tbl, container)
        merged = True
    else:
        merged = False

    def at(r: int, c: int) -> _Cell:  # table.cell() walks the whole table each call: too slow here
        offset = 0
        for tc in table._tbl.tr_lst[r].tc_lst:
            if offset == c:
                return _Cell(tc, table)
            offset += tc.grid_span
        raise IndexError((r, c))

    if not merged:
        for p in cells:
            if p.cell.rowspan > 1 or p.cell.colspan > 1:
                at(p.row, p.col).merge(at(p.row + p.cell.rowspan - 1, p.col + p.cell.colspan - 1))
        _MERGED[shape] = copy.deepcopy(table._tbl)
    for p in cells:
        _fill_docx_cell(at(p.row, p.col), p.cell)
    return table


def write_docx(
    blocks, split_at: int | None = None, nested: bool = False, ruled: bool = False, landscape: bool = False
) -> bytes:
    """The layout as a Word file. split_at: the applications table is cut before that row (as a
    page break leaves it: the second part starts with vMerge continuations). nested: everything
    sits in the one cell of a layout table. ruled: tables in Word's "Table Grid" style (else
    python-docx's default, which prints no rules). landscape: sections 三 and 四 (headings and
    tables) in a landscape section of their own."""
    document = docx.Document()
    container = document.add_table(rows=1, cols=1).cell(0, 0) if nested else document
    tables = [i for i, (kind, _) in enumerate(blocks) if kind == "table"]
    turns = {tables[1] - 1: True, tables[2] + 1: False} if landscape else {}
    for i, (kind, value) in enumerate(blocks):
        if i in turns:
            _section(document, turns[i])
        if kind == "p":
            container.add_paragraph(value)
            continue
        table = _docx_table(container, value)
        if ruled:
            table.style = document.styles["Table Grid"]
        if split_at is not None and value is blocks[_index_of_applications(blocks)][1]:
            second = copy.deepcopy(table._tbl)
            for tr in table._tbl.tr_lst[split_at:]:
                table._tbl.remove(tr)
            for tr in second.tr_lst[:split_at]:
                second.remove(tr)
            gap = OxmlElement("w:p")  # Word keeps two tables apart with a paragraph
            table._tbl.addnext(gap)
            gap.addnext(second)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _section(document, landscape: bool) -> None:
    """A new section, on a new page, landscape or portrait (A4)."""
    from docx.enum.section import WD_ORIENT
    from docx.shared import Mm

    section = document.add_section()
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = (Mm(297), Mm(210)) if landscape else (Mm(210), Mm(297))


def _index_of_applications(blocks) -> int:
    return [i for i, (kind, _) in enumerate(blocks) if kind == "table"][1]


def replace_part(data: bytes, name: str, content: bytes) -> bytes:
    """A copy of the zip `data` with part `name` replaced."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, content if info.filename == name else src.read(info))
    return out.getvalue()


def docx_with_body(body_xml: str) -> bytes:
    """A Word file whose body is `body_xml` (w: and mc: prefixes bound)."""
    document = docx.Document()
    out = io.BytesIO()
    document.save(out)
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    mc = "http://schemas.openxmlformats.org/markup-compatibility/2006"
    xml = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document xmlns:w="{w}" '
        f'xmlns:mc="{mc}"><w:body>{body_xml}</w:body></w:document>'
    )
    return replace_part(out.getvalue(), "word/document.xml", xml.encode("utf-8"))


# ---------------------------------------------------------------- HTML


def _esc(text: str) -> str:
    return html_lib.escape(text, quote=False)


def _html_cell(c: C, word: bool) -> str:
    attrs = (f' rowspan="{c.rowspan}"' if c.rowspan > 1 else "") + (f' colspan="{c.colspan}"' if c.colspan > 1 else "")
    lines = c.text.split(BR)
    if not word:
        inner = "<br>".join(_esc(x) for x in lines) if c.br else "".join(f"<p>{_esc(x)}</p>" for x in lines)
        return f"<td{attrs}>{inner if len(lines) > 1 else _esc(c.text)}</td>"

    # Word's save-as-HTML: every cell a MsoNormal paragraph of spans, &nbsp; padding, <o:p>, and
    # long lines wrapped in the source wherever Word liked.
    def para(x: str) -> str:
        x = _esc(x)
        if len(x) > 12:
            x = x[:7] + "\r\n" + x[7:]
        return (
            f"<p class=MsoNormal align=center style='text-align:center'><span lang=EN-US "
            f"style='font-size:10.5pt;font-family:仿宋_GB2312'>&nbsp;{x}&nbsp;<o:p></o:p></span></p>"
        )

    if c.br:
        inner = "<p class=MsoNormal>" + "<br>\r\n".join(f"<span>{_esc(x)}</span>" for x in lines) + "</p>"
    else:
        blank = "<p class=MsoNormal><span>&nbsp;<o:p></o:p></span></p>"
        inner = "\r\n".join(para(x) for x in lines) if c.text else blank
    return f"<td width=56 valign=top style='border:solid windowtext 1.0pt;padding:0cm 5.4pt'{attrs}>\r\n{inner}</td>"


def _split(cells: list[Placed], at: int) -> tuple[list[Placed], list[Placed]]:
    """The table cut before row `at`: spans across the cut end, and restart empty below it."""
    first, second = [], []
    for p in cells:
        end = p.row + p.cell.rowspan
        if p.row >= at:
            second.append(Placed(p.row - at, p.col, p.cell))
        elif end > at:
            first.append(Placed(p.row, p.col, C(p.cell.text, at - p.row, p.cell.colspan, p.cell.br)))
            second.append(Placed(0, p.col, C("", end - at, p.cell.colspan)))
        else:
            first.append(p)
    return first, second


def _html_table(cells: list[Placed], word: bool, header_rows: int = 0) -> str:
    n_rows, _ = size(cells)
    trs = []
    for r in range(n_rows):
        row = sorted((p for p in cells if p.row == r), key=lambda p: p.col)
        trs.append("<tr>" + "".join(_html_cell(p.cell, word) for p in row) + "</tr>")
    cls = " class=MsoNormalTable border=1 cellspacing=0 cellpadding=0" if word else ' border="1"'
    if header_rows:
        return (
            f"<table{cls}><thead>"
            + "\n".join(trs[:header_rows])
            + "</thead><tbody>"
            + "\n".join(trs[header_rows:])
            + "</tbody></table>"
        )
    return f"<table{cls}>" + "\n".join(trs) + "</table>"


def write_html(
    blocks,
    *,
    word: bool = False,
    split_at: int | None = None,
    chrome: bool = False,
    nested: bool = False,
    charset: str | None = "utf-8",
) -> str:
    body = []
    apps = _index_of_applications(blocks)
    for i, (kind, value) in enumerate(blocks):
        if kind == "p":
            text = _esc(value)
            if word:
                if len(text) > 20:
                    text = text[:15] + "\r\n" + text[15:]
                body.append(
                    f"<p class=MsoNormal style='text-indent:32.0pt'><span style='font-family:仿宋'>"
                    f"{text}<o:p></o:p></span></p>"
                )
            else:
                body.append(f"<p>{text}</p>")
        elif split_at is not None and i == apps:
            for part in _split(value, split_at):
                body.append(_html_table(part, word))
                body.append("<p class=MsoNormal><o:p>&nbsp;</o:p></p>" if word else "")
        else:
            body.append(_html_table(value, word, header_rows=0 if word else (3 if i == apps else 0)))
    content = "\n".join(body)
    if word:
        content = (
            "<!--[if gte mso 9]><xml><w:WordDocument><w:View>Print</w:View></w:WordDocument></xml><![endif]-->\n"
            "<div class=WordSection1 style='layout-grid:15.6pt'>\n" + content + "\n</div>"
        )
    if nested:
        content = (
            "<table width='100%' cellpadding=0><tr><td class=left>栏目导航<br>政府信息公开</td></tr>\n"
            f"<tr><td class=main>{content}</td></tr></table>"
        )
    if chrome:
        content = (
            "<header><div class=logo>某某市人民政府门户网站</div></header>\n"
            "<nav><ul><li><a href='/'>首页</a></li><li>政务公开</li><li>一、总体情况</li></ul></nav>\n"
            "<script>var tpl = '<table><tr><td>规章</td></tr></table>';</script>\n"
            + content
            + "\n<footer>主办单位：某某市人民政府办公室 版权所有</footer>"
            "<script type='text/javascript'>document.write('<p>统计</p>');</script>"
        )
    meta = f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">' if charset else ""
    return (
        f'<!DOCTYPE html>\n<html xmlns:o="urn:schemas-microsoft-com:office:office"><head>{meta}'
        "<title>2021年政府信息公开工作年度报告</title><style>p.MsoNormal{margin:0cm}</style></head>\n"
        f"<body>\n{content}\n</body></html>"
    )


# ---------------------------------------------------------------- plain text (the three dump styles)


def _row_cells(cells: list[Placed], continuations: bool) -> list[list[C]]:
    """The cells each row prints, left to right, colspans as one cell; with `continuations`, a
    rowspan also prints an empty cell in each row below its first (as Word's text dump does)."""
    n_rows, _ = size(cells)
    rows: list[list[tuple[int, C]]] = [[] for _ in range(n_rows)]
    for p in cells:
        rows[p.row].append((p.col, p.cell))
        if continuations:
            for r in range(p.row + 1, p.row + p.cell.rowspan):
                rows[r].append((p.col, C("", colspan=p.cell.colspan)))
    return [[c for _, c in sorted(row, key=lambda x: x[0])] for row in rows]


def _one_line(text: str) -> str:
    return "".join(part.strip() for part in text.split(BR))


def write_txt(blocks, style: str = "grid", trailing_tabs: int = 0) -> str:
    """The layout as a plain-text dump in one of the styles text.parse reads (see its docstring):
    "grid" (a line a row, tab-separated grid positions, `trailing_tabs` extra tabs ending each
    row), "cells" (a line a cell starting with a tab, continuation lines untabbed, a blank line
    after each row) or "pipe" (a line a cell ending " |", the row's last line with as many
    further pipes as the row's merged-away positions)."""
    out: list[str] = []
    for kind, value in blocks:
        if kind == "p":
            out.append(value)
            continue
        out.append("")
        if style == "grid":
            for row in grid(value):
                out.append("\t".join(_one_line(t) for t in row) + "\t" * trailing_tabs)
        elif style == "cells":
            for row in _row_cells(value, continuations=True):
                for c in row:
                    first, *rest = c.text.split(BR) if c.text else [""]
                    out.append("\t" + first)
                    out.extend(rest)
                out.append("")
        elif style == "pipe":
            _, n_cols = size(value)
            for row in _row_cells(value, continuations=False):
                lines = [f"{_one_line(c.text)} |" for c in row]
                lines[-1] += " " + "|" * max(1, n_cols - len(row))
                out.extend(lines)
        else:
            raise ValueError(f"unknown text style {style!r}")
        out.append("")
    return "\n".join(out) + "\n"


def tables(blocks):
    return [b.rows for b in blocks if isinstance(b, BlockTable)]


def check(blocks, rep: Report):
    """Every cell of the three sections as printed, no extraction findings, the narratives."""
    m = match(blocks)
    assert {c.key: c.raw for c in m.active_disclosure} == rep.active_disclosure
    assert {c.key: c.raw for c in m.applications} == rep.applications
    assert {c.key: c.raw for c in m.reviews_litigation} == rep.reviews_litigation
    assert m.findings == []
    assert m.template_version == "2021"
    assert m.narratives == {k: "\n".join(v) for k, v in rep.narratives.items()}


def to_doc(docx_bytes: bytes) -> bytes:
    """A DOCX saved as a Word 97 .doc by LibreOffice (the caller checks soffice)."""
    return libreoffice(docx_bytes, "doc:MS Word 97", "doc")


def libreoffice(docx_bytes: bytes, convert_to: str, suffix: str) -> bytes:
    """A DOCX converted by LibreOffice headless (`--convert-to convert_to`; tests/soffice.py)."""
    import soffice

    return soffice.convert(docx_bytes, convert_to, suffix)


def distinct_reports(folder: Path, n: int, digits: int = 2) -> list[Path]:
    """n valid reports with distinct bytes (so distinct report ids), from the valid sample."""
    folder.mkdir(parents=True, exist_ok=True)
    text = (Path(__file__).resolve().parents[1] / "data" / "samples" / "sample_valid_2023.txt").read_text(
        encoding="utf-8"
    )
    paths = [folder / f"r{i:0{digits}d}.txt" for i in range(n)]
    for i, p in enumerate(paths):
        p.write_text(text.replace("示例县青山镇", f"示例县{i:0{digits}d}镇"), encoding="utf-8")
    return paths
