"""The matcher on small tables of our own: missing rows, editions, misprinted labels."""

from nianbao.interpret.match import NOT_PRINTED, _narratives, match
from nianbao.model.document import NARRATIVE_UNREAD, Paragraph, Table
from nianbao.model.template import template

T = template()


def section_three(codes, skip=(), label=lambda row: row.number + row.texts[0]):
    rows = [[label(r), *["0"] * 7] for r in T.app_rows if r.code in codes and r.code not in skip]
    return Table(rows, [f"line {i}" for i in range(len(rows))])


def test_a_row_not_printed_is_left_to_sections_complete_and_one_printed_unread_is_ours():
    codes = [r.code for r in T.app_rows if r.code != "other"]
    m = match([section_three(codes, skip={"rejected_duplicate"})])
    assert m.findings == []  # not printed at all: the rule sections.complete reports it, not the matcher
    assert {(c.raw, c.where) for c in m.applications if c.key[0] == "rejected_duplicate"} == {(None, NOT_PRINTED)}
    assert m.template_version == "2021"
    # sections 二 and 四 are not printed either: every cell of theirs is there, not printed
    assert len(m.active_disclosure) == 10 and len(m.reviews_litigation) == 15
    assert {c.where for c in [*m.active_disclosure, *m.reviews_litigation]} == {NOT_PRINTED}
    # the same row printed as a line of text beside the table: printed, so unread and ours
    m = match([section_three(codes, skip={"rejected_duplicate"}), Paragraph("2.重复申请 0 0 0 0 0 0 0", "line 40")])
    (f,) = m.findings
    assert (f.rule_id, f.observed) == ("extraction.unread_cell", "2.重复申请 0 0 0 0 0 0 0")
    assert f.cells == [f"applications:rejected_duplicate/{a}" for a in T.applicants]
    assert {(c.raw, c.unread) for c in m.applications if c.key[0] == "rejected_duplicate"} == {(None, True)}


def test_the_2019_single_other_row_expects_no_2021_sub_rows():
    codes = [r.code for r in T.app_rows if not r.code.startswith("other_")]
    m = match([section_three(codes)])
    assert m.findings == [] and m.template_version == "2019"
    assert {c.key[0] for c in m.applications} == set(codes)


def test_a_misprinted_label_is_read_approximately_and_said():
    codes = [r.code for r in T.app_rows if r.code != "other"]
    misprint = {"unavailable_needs_creation": "2.没有现成信息需另行制作"}
    m = match([section_three(codes, label=lambda r: misprint.get(r.code, r.number + r.texts[0]))])
    assert [(f.rule_id, f.observed) for f in m.findings] == [
        ("extraction.label_approximate", "2.没有现成信息需另行制作")
    ]
    assert [c.raw for c in m.applications if c.key[0] == "unavailable_needs_creation"] == ["0"] * 7


def test_a_row_whose_cells_cannot_be_placed_is_our_failure_not_the_reports():
    # six numbers under seven columns: which one is missing cannot be told, so none is guessed
    codes = [r.code for r in T.app_rows if r.code != "other"]
    table = section_three(codes)
    row = next(r for r in table.rows if r[0].endswith("予以公开"))
    row[1:] = ["1", "2", "3", "4", "5", "15"]
    m = match([table])
    (f,) = m.findings
    assert (f.rule_id, f.severity, f.observed) == ("extraction.unread_cell", "error", "1 | 2 | 3 | 4 | 5 | 15")
    assert f.cells == [f"applications:disclosed/{a}" for a in T.applicants]
    cells = [c for c in m.applications if c.key[0] == "disclosed"]
    assert [(c.raw, c.unread) for c in cells] == [(None, True)] * 7


def test_cells_an_extractor_could_not_read_are_named_by_its_note():
    codes = [r.code for r in T.app_rows if r.code != "other"]
    table = section_three(codes)
    table.notes.append(("unread_cell", "page 2: a number outside every column", ["applications:new/total"], "12 3"))
    m = match([table])
    assert [(f.rule_id, f.severity, f.cells, f.observed) for f in m.findings] == [
        ("extraction.unread_cell", "error", ["applications:new/total"], "12 3")
    ]
    assert [(c.raw, c.unread) for c in m.applications if c.key == ("new", "total")] == [(None, True)]


def test_a_row_narrower_than_the_header_is_not_aligned_to_it():
    # section 三 broken over a page: the part below lacks the merged first label column, so its
    # rows are a cell narrower than the header's grid; aligning them would shift every value
    header = ["", "", "", "自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计"]
    codes = [r.code for r in T.app_rows if r.code != "other"]
    rows = [header] + [
        ["", r.number + r.texts[0], "", *[str(i) for i in range(7)]] for r in T.app_rows if r.code in codes
    ]
    rows[-1] = [rows[-1][1], "", "", "1", "2", "3", "4", "5", "6"]  # 9 cells, the first value blank
    m = match([Table(rows, ["t"] * len(rows))])
    assert [c.raw for c in m.applications if c.key[0] == "carried_forward"] == ["", "1", "2", "3", "4", "5", "6"]


def test_a_row_printed_as_text_beside_the_table_is_our_failure():
    # the extractor could not make the row out as table cells: its label and numbers are a text line
    from nianbao.model.document import Paragraph

    codes = [r.code for r in T.app_rows if r.code != "other"]
    m = match(
        [
            section_three(codes, skip={"rejected_duplicate"}),
            Paragraph("2.重复申请 26 0 — 0 27 0 53", "page 2"),
            Paragraph("五、存在的主要问题及改进情况", "page 3"),
            Paragraph("重复申请 3 件", "page 3"),
        ]
    )
    (f,) = m.findings
    assert (f.rule_id, f.severity, f.observed) == ("extraction.unread_cell", "error", "2.重复申请 26 0 — 0 27 0 53")
    assert [(c.raw, c.unread) for c in m.applications if c.key[0] == "rejected_duplicate"] == [(None, True)] * 7


def test_a_group_label_does_not_name_a_row_whose_own_label_is_misread():
    # an OCR dropped the 、 of 2021's first （六） row; its group label （六）其他处理 in the same row is
    # 2019's single row's label, read exactly: the row's own label, read approximately, must win
    codes = [r.code for r in T.app_rows if r.code != "other"]
    misread = "1.申请人无正当理由逾期不补正行政机关不再处理其政府信息公开申请"
    table = section_three(
        codes, label=lambda r: misread if r.code == "other_overdue_correction" else r.number + r.texts[0]
    )
    i = next(n for n, row in enumerate(table.rows) if row[0] == misread)
    table.rows[i] = ["（六）其他处理", misread, "1", "0", "0", "0", "0", "0", "1"]
    m = match([table])
    assert {c.key[0] for c in m.applications} == set(codes)  # no 2019 `other` row
    assert [c.raw for c in m.applications if c.key[0] == "other_overdue_correction"] == [
        "1",
        "0",
        "0",
        "0",
        "0",
        "0",
        "1",
    ]
    assert [(f.rule_id, f.observed) for f in m.findings] == [("extraction.label_approximate", misread)]
    assert m.template_version == "2021"


def test_stray_and_unplaced_cells_are_told_one_way_in_every_section():
    codes = [r.code for r in T.app_rows if r.code != "other"]
    apps = section_three(codes)
    next(r for r in apps.rows if r[0].endswith("予以公开"))[1:1] = ["9"]  # eight numbers for seven columns
    ad = Table(
        [
            ["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"],
            ["规章", "9", "1", "2", "3"],
            ["行政规范性文件", "4", "5"],
        ],
        ["p1", "p1", "p1"],
    )
    rl = Table([["行政复议"], ["9", *["0"] * 15]], ["p2", "p2"])
    m = match([ad, apps, rl])
    assert [(f.rule_id, f.severity, f.message, f.cells) for f in m.findings] == [
        (
            "extraction.stray_cell",
            "warning",
            "section 二 row regulations (p1) printed 4 cells for 3 columns; kept the right-most 3, dropped ['9']",
            ["active_disclosure:regulations/issued"],
        ),
        (
            "extraction.unread_cell",
            "error",
            "section 二 row normative_documents (p1): 2 cells for 3 columns could not be placed in their columns",
            [f"active_disclosure:normative_documents/{m}" for m in ("issued", "repealed", "in_force")],
        ),
        (
            "extraction.stray_cell",
            "warning",
            "section 三 row disclosed (line 2) printed 8 cells for 7 columns; kept the right-most 7, dropped ['9']",
            ["applications:disclosed/natural_person"],
        ),
        (
            "extraction.stray_cell",
            "warning",
            "section 四 (p2) printed 16 cells for 15 columns; kept the right-most 15, dropped ['9']",
            ["reviews_litigation:review/upheld"],
        ),
    ]
    # a short row is unread in every section: which column lacks its cell cannot be told
    assert [(c.key, c.raw, c.unread) for c in m.active_disclosure if c.key[0] == "normative_documents"] == [
        (("normative_documents", m_), None, True) for m_ in ("issued", "repealed", "in_force")
    ]
    short = match([apps, Table([["行政复议"], ["1", "0", "0", "1"]], ["p3", "p3"])])
    (f,) = [f for f in short.findings if f.rule_id == "extraction.unread_cell"]
    assert (f.message, f.observed, len(f.cells)) == (
        "section 四 (p3): 4 cells for 15 columns could not be placed in their columns",
        "1 | 0 | 0 | 1",
        15,
    )


def test_a_section_two_row_printing_fewer_values_than_its_header_is_unread_not_guessed():
    """A dump's 规章 | 22 | 235 under three metrics: which one is missing cannot be told (the same
    Markdown a PDF converter wrote for a real report); a row printing no value is the report's blank."""
    header = ["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"]
    m = match(
        [
            Table([header], ["line 1"]),
            Table([["规章", "22", "235"]], ["line 3"]),
            Table([["行政规范性文件"]], ["line 5"]),
            section_three([r.code for r in T.app_rows if r.code != "other"]),
        ]
    )
    cells = {
        c.key: (c.raw, c.unread) for c in m.active_disclosure if c.key[0] in ("regulations", "normative_documents")
    }
    assert cells == {
        **{("regulations", m_): (None, True) for m_ in ("issued", "repealed", "in_force")},
        **{("normative_documents", m_): (None, False) for m_ in ("issued", "repealed", "in_force")},
    }
    unread = [f for f in m.findings if f.rule_id == "extraction.unread_cell" and "regulations" in f.message]
    assert [(f.cells, f.observed) for f in unread] == [
        ([f"active_disclosure:regulations/{m_}" for m_ in ("issued", "repealed", "in_force")], "22 | 235")
    ]


def test_a_label_ocr_misread_twice_is_placed_and_a_text_layers_is_not():
    """OCR reads 申 as 中 in every 申请 at 150 dpi: with one more slip (收 as 些) a label is no
    longer 0.86 like its row's. Read by OCR (a Reading), 0.8 is enough: a row placed wrongly
    breaks the sums nianbao.interpret.trust confirms every number with. A text layer's label
    keeps the strict cutoff (its misprints are the agency's)."""
    from nianbao.model.document import Reading

    codes = [r.code for r in T.app_rows if r.code != "other"]

    def misread(row):
        text = row.number + row.texts[0]
        return Reading("一、本年新些政府信息公开中请数量", 0.9) if row.code == "new" else text

    m = match([section_three(codes, label=misread)])
    assert {c.raw for c in m.applications if c.key[0] == "new"} == {"0"}
    plain = lambda row: str(misread(row))  # noqa: E731
    m = match([section_three(codes, label=plain)])
    assert {c.raw for c in m.applications if c.key[0] == "new"} == {None}


def test_a_section_two_header_and_label_ocr_misread_are_placed():
    """本年废止件数 read 本年座止件数 and 行政规范性文件 read 行政规范件文件 at 150 dpi: placed when
    read by OCR (trust still asks a section 二 reading to be confident enough alone)."""
    from nianbao.model.document import Reading

    rows = [
        ["信息内容", "本年制发件数", Reading("本年座止件数", 0.99), "现行有效件数"],
        ["规章", "1", "2", "3"],
        [Reading("行政规范件文件", 0.99), "4", "5", "6"],
    ]
    codes = [r.code for r in T.app_rows if r.code != "other"]
    m = match([Table(rows, ["page 1"] * 3), section_three(codes)])
    got = {c.key: c.raw for c in m.active_disclosure if c.raw is not None}
    assert got == {
        ("regulations", "issued"): "1",
        ("regulations", "repealed"): "2",
        ("regulations", "in_force"): "3",
        ("normative_documents", "issued"): "4",
        ("normative_documents", "repealed"): "5",
        ("normative_documents", "in_force"): "6",
    }


def _ocr(table: Table, header: bool = False) -> Table:
    """`table` as OCR gives it: every cell a Reading; `header`: under section 三's header row."""
    from nianbao.model.document import Reading

    if header:
        table.rows.insert(0, ["", *(label for _, label in T.spec.applications.columns)])
        table.where.insert(0, "header")
    table.rows = [[Reading(c, 0.99) for c in row] for row in table.rows]
    return table


def test_a_row_whose_label_ocr_garbled_is_placed_between_its_neighbours_when_only_one_fits():
    """At 150 dpi OCR reads 四、结转下年度继续办理 as 四、结转卜牛ZI822:办理 and 上年结转… as —H年…:
    no label is like it, but the template's rows come in a fixed order: a row of seven numbers
    between two rows placed by their labels, where the template has exactly one row, is that
    row (so is one after 总计, the last but one, or before the first row placed). Where the gap
    holds more rows than were read, none is guessed; a text layer's labels are as printed."""
    codes = [r.code for r in T.app_rows if r.code != "other"]
    garbled = {"new": "一HZ政府亻言", "disclosed": "（一)子l乂公卄", "carried_forward": "四、结转卜牛ZI822:办理"}

    def label(row):
        return garbled.get(row.code, row.number + row.texts[0])

    m = match([_ocr(section_three(codes, label=label), header=True)])
    assert {c.key[0] for c in m.applications if c.raw is not None} == set(codes)
    assert [f.cells[0] for f in m.findings if f.rule_id == "extraction.label_approximate"] == [
        f"applications:{code}/total" for code in ("new", "disclosed", "carried_forward")
    ]
    # rejected_duplicate garbled, rejected_publication not printed: two rows of the template, one read
    garbled = {"rejected_duplicate": "2.重夏中i青"}
    m = match([_ocr(section_three(codes, skip={"rejected_publication"}, label=label), header=True)])
    unplaced = {c.key[0] for c in m.applications if c.raw is None}
    assert unplaced == {"rejected_duplicate", "rejected_publication"}
    m = match([section_three(codes, label=label)])  # a text layer's
    assert {c.key[0] for c in m.applications if c.raw is None} == {"rejected_duplicate"}


def test_a_section_two_item_and_header_ocr_garbled_are_told_by_the_template_order():
    """行政规范性文件 read 行政螺范件文件 (too unlike to match) between 规章 and 行政许可: the only item
    between them. 本年处理决定数量 read 本年处理决正教量 over 行政许可: of the item's metrics in either
    edition, only 2021's one column fits a header of one column."""
    rows = [
        ["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"],
        ["规章", "1", "2", "3"],
        ["行政螺范件文件", "4", "5", "6"],
        ["信息内容", "本年处理决正教量"],
        ["行政许可", "7"],
    ]
    codes = [r.code for r in T.app_rows if r.code != "other"]
    m = match([_ocr(Table(rows, ["page 1"] * 5)), section_three(codes)])
    got = {c.key: c.raw for c in m.active_disclosure if c.raw is not None}
    assert got == {
        **{("regulations", k): v for k, v in zip(("issued", "repealed", "in_force"), "123")},
        **{("normative_documents", k): v for k, v in zip(("issued", "repealed", "in_force"), "456")},
        ("licensing", "decisions"): "7",
    }
    m = match([Table(rows, ["page 1"] * 5), section_three(codes)])  # a text layer's: as printed
    assert {c.key[0] for c in m.active_disclosure if c.raw is not None} == {"regulations"}


def test_a_garbled_row_with_a_misread_number_or_a_group_label_beside_it_is_still_placed_by_order():
    """(五)不予处1.信访举报投理诉类申请 with a 0 read as D: the row is placed by the template's order,
    and D left to the trust step (read as no number). 2021's group label （六）其他处理 read exactly
    beside its first row's garbled label names no row: before, the row was taken for 2019's single
    （六）其他处理 (a row the report's edition does not have)."""
    from nianbao.model.document import Reading

    codes = [r.code for r in T.app_rows if r.code != "other"]
    table = _ocr(section_three(codes), header=True)
    petition = next(r for r in table.rows if "信访" in r[0])
    petition[0], petition[3] = Reading("(五)不予处1.信访举报投理诉类申请", 0.9), Reading("D", 0.4)
    for row in table.rows:  # a column of group labels
        row.insert(0, Reading("", 1.0))
    overdue = next(r for r in table.rows if "逾期不补正" in r[1])
    overdue[0:2] = [Reading("（六）其他处理", 0.99), Reading("1.申请人不理) ?、行政机关下再八开申请", 0.9)]
    m = match([table])
    got = {c.key: c.raw for c in m.applications}
    assert got[("rejected_petition", "research")] == "D" and got[("rejected_petition", "total")] == "0"
    assert got[("other_overdue_correction", "total")] == "0" and ("other", "total") not in got


def test_a_blank_in_an_ocr_row_wider_than_its_columns_is_not_surely_blank():
    """A part of an unruled scan over a page break set out one column off its header: the row's
    right-most seven kept, a 0 dropped left of them, and a blank where that 0 belonged. Published
    as a printed blank (confident, and 0 in every sum) it was a wrong value; fitted so, a blank of
    OCR's is not sure (the trust step flags it)."""
    from nianbao.interpret import trust
    from nianbao.model.document import Reading

    codes = [r.code for r in T.app_rows if r.code != "other"]
    table = _ocr(section_three(codes))
    row = next(r for r in table.rows if "上年结转" in r[0])
    row[1:] = [Reading(v, 0.99) for v in ["0", "", "0", "0", "0", "0", "0", "0"]]
    table.confidence = [[getattr(c, "confidence", 1.0) for c in r] for r in table.rows]
    m = match([table])
    (blank,) = [c for c in m.applications if c.key == ("carried_over", "natural_person")]
    assert (str(blank.raw), blank.raw.confidence) == ("", 0.0)
    m = trust.check([table], m)
    assert "applications:carried_over/natural_person" in {
        f.cells[0] for f in m.findings if f.rule_id == "extraction.unread_cell"
    }


def test_a_scan_whose_narrative_was_not_read_has_no_narratives():
    blocks = [
        Paragraph("一、总体情况", "page 1"),
        Paragraph("本机关坚持以公开为常态。", "page 1"),
        Paragraph("五、存在的主要问题及改进情况", "page 3"),
        Paragraph("- 3 -", "page 3"),  # a line set off the text's edge, read for metadata
        Paragraph("六、其他需要报告的事项", "page 3"),
    ]
    assert _narratives(blocks) == {"overview": "本机关坚持以公开为常态。", "problems": "- 3 -", "other_matters": ""}
    # a scan's (ocr.parse): its headings and a few lines read, not its narrative (pagetext.py)
    assert _narratives([*blocks, Paragraph("", NARRATIVE_UNREAD)]) == {}


def test_a_number_joined_from_two_lines_that_no_sum_confirms_is_ours_not_the_reports():
    """A number an unruled table printed in pieces (a tail wrapped in its narrow column, or atop the
    next page) is joined from where the pieces stand: a guess. A joined 总计 that breaks every sum
    it is in (its row's total and its column's results) may be two cells run together: unread and
    ours, the report not blamed for sums we may have read wrong. One a sum confirms is kept, and
    so is a printed (not joined) number that breaks its sums: that is the report's to answer for."""
    from nianbao.interpret import trust
    from nianbao.model.document import Joined

    codes = [r.code for r in T.app_rows if r.code != "other"]
    table = section_three(codes)
    row = lambda code: next(r for r in table.rows if r[0] == _label(code))  # noqa: E731
    row("handled_total")[1] = Joined("0" + "5")  # breaks 总计's row total and 自然人's results
    row("disclosed")[7] = Joined("0" + "0")  # 00: every sum holds
    row("new")[2] = "3"  # printed so: its sums break, the report's fault
    m = trust.check([table], match([table]))
    cells = {c.key: c for c in m.applications}
    assert (cells["handled_total", "natural_person"].raw, cells["handled_total", "natural_person"].unread) == (
        None,
        True,
    )
    (f,) = m.findings
    assert (f.rule_id, f.cells, f.observed) == (
        "extraction.unread_cell",
        ["applications:handled_total/natural_person"],
        "05",
    )
    assert (cells["disclosed", "total"].raw, cells["new", "commercial"].raw) == ("00", "3")
    # a joined number one of its sums confirms is kept (the row's total holds; the column breaks)
    table = section_three(codes)
    row("handled_total")[1] = Joined("0" + "5")
    row("handled_total")[7] = "5"
    m = trust.check([table], match([table]))
    assert m.findings == [] and {c.key: c.raw for c in m.applications}["handled_total", "natural_person"] == "05"


def _label(code: str) -> str:
    r = next(r for r in T.app_rows if r.code == code)
    return r.number + r.texts[0]


def test_a_row_whose_label_a_page_break_cut_to_its_number_and_first_characters_is_printed_unread():
    """A narrow column wraps 1.信访举报投诉类申请 a few characters a line; a page break then leaves
    "1.信访举报投" where the row's cells stand. Had it not been joined, the row is printed but not
    read: ours (extraction.unread_cell), not sections.complete's "not printed" blaming the report.
    Without its number the first characters are not enough (a narrative's words may begin so)."""
    codes = [r.code for r in T.app_rows if r.code != "other"]
    for label, where in (("1.信访举报投", "printed, not read"), ("信访举报投", NOT_PRINTED)):
        table = section_three(codes, label=lambda r: label if r.code == "rejected_petition" else _label(r.code))
        m = match([table])
        assert {(c.raw, c.where) for c in m.applications if c.key[0] == "rejected_petition"} == {(None, where)}
        assert [f.rule_id for f in m.findings] == (["extraction.unread_cell"] if where != NOT_PRINTED else [])


def test_a_row_of_numbers_no_label_names_right_under_a_row_placed_makes_that_row_ours():
    """A text layer's row of numbers alone right under a row placed is what a page break leaves
    of numbers wrapped in narrow columns when the extractor could not join them: the cells they
    stand under are unread (ours) with the numbers observed, never published as read (1396 for
    13962) nor the numbers dropped unsaid; the whole row where those cells cannot be told surely
    (a number under a value the row prints twice: 三's 0s). In every section; a row numbering the
    columns is no such row."""
    codes = [r.code for r in T.app_rows if r.code != "other"]
    apps = section_three(codes)
    at = next(i for i, r in enumerate(apps.rows) if r[0] == _label("handled_total")) + 1
    apps.rows.insert(at, ["", "", "5", "", "", "", "", "5"])
    apps.where.insert(at, "page 3")
    ad = Table(
        [
            ["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"],
            ["规章", "1", "2", "3"],
            ["行政规范性文件", "139", "7", "12"],
            ["", "6", "", "5"],
        ],
        ["p1", "p1", "p1", "p2"],
    )
    rl = Table(
        [["行政复议"], [str(i) for i in range(1, 16)], ["15", *["0"] * 14], ["8", *[""] * 14]], ["p4"] * 3 + ["p5"]
    )
    m = match([ad, apps, rl])
    assert [(f.rule_id, f.message, f.observed, len(f.cells)) for f in m.findings] == [
        (
            "extraction.unread_cell",
            "section 二 row normative_documents (p1): a row of numbers no label names stands right under it (p2), "
            "perhaps the ends of its numbers: not published",
            "6 | 5",
            2,
        ),
        (
            "extraction.unread_cell",
            "section 三 row handled_total (line 23): a row of numbers no label names stands right under it "
            "(page 3), perhaps the ends of its numbers: not published",
            "5 | 5",
            7,
        ),
        (
            "extraction.unread_cell",
            "section 四 (p4): a row of numbers no label names stands right under it (p5), perhaps the ends of its "
            "numbers: not published",
            "8",
            1,
        ),
    ]
    unread = {
        (d, c.key)
        for d in ("active_disclosure", "applications", "reviews_litigation")
        for c in getattr(m, d)
        if c.unread
    }
    assert unread == {
        *(("active_disclosure", ("normative_documents", k)) for k in ("issued", "in_force")),
        *(("applications", ("handled_total", a)) for a in T.applicants),
        ("reviews_litigation", (T.proceedings[0], T.outcomes[0])),
    }
    assert all(
        c.raw is None
        for d in ("active_disclosure", "applications", "reviews_litigation")
        for c in getattr(m, d)
        if c.unread
    )


def test_section_four_values_set_a_column_right_of_their_labels_are_fitted_not_shifted():
    """A table read without rules may give section 四's values columns a column right of their
    outcome labels (tests/accuracy.py's pdf/cid-unruled #25 and #36 of seed 2, complete): aligned
    under the labels, every value went a column left and the last (printed) was dropped unsaid, the
    report blamed for sums it never broke. A value outside the labelled columns: fitted by position."""
    outcomes = [label for _, label in T.spec.reviews_litigation.outcomes]
    values = ["0", "0", "1", "0", "1", *["0"] * 10]
    rl = Table([["行政复议", *[""] * 4, "行政诉讼", *[""] * 10], [*outcomes * 3, ""], ["", *values]], ["p2"] * 3)
    m = match([rl])
    assert [c.raw for c in m.reviews_litigation] == values and m.findings == []


def test_a_row_of_number_tails_beside_a_cut_labels_tail_that_joins_no_label_makes_the_row_above_ours():
    """The ends of a row a page break cut: its label's tail, which joined to the label above names
    no template row (a report's own wording: 申请书 for 申请), and its numbers' tails, each under a
    number of that row. Left apart by the extractor, the matcher dropped them unsaid and published
    the row's heads (13 for 132): now that row is unread (ours). A sub-row's label (其中…) under a
    whole label, its numbers under numbers, is a row of the report's own and says nothing."""
    codes = [r.code for r in T.app_rows if r.code != "other"]
    apps = section_three(codes)
    at = next(i for i, r in enumerate(apps.rows) if r[0] == _label("other_overdue_correction"))
    apps.rows[at] = ["1.申请人无正当理由逾期不补正、行政机关不再处理其政府信", "13", "0", "0", "0", "0", "0", "13"]
    apps.rows.insert(at + 1, ["息公开申请书", "2", "", "", "", "", "", "2"])
    apps.where.insert(at + 1, "page 4")
    disclosed = next(i for i, r in enumerate(apps.rows) if r[0] == _label("disclosed"))
    apps.rows.insert(disclosed + 1, ["其中：网上申请", "0", "0", "0", "0", "0", "0", "0"])
    apps.where.insert(disclosed + 1, "page 2")
    m = match([apps])
    assert [(f.rule_id, f.observed, len(f.cells)) for f in m.findings if f.rule_id == "extraction.unread_cell"] == [
        ("extraction.unread_cell", "息公开申请书 | 2 | 2", 7)
    ]
    assert {c.key[0] for c in m.applications if c.unread} == {"other_overdue_correction"}
    assert all(c.raw is None for c in m.applications if c.unread)


def test_a_leftover_row_of_another_grid_makes_the_whole_row_above_ours():
    """Which cells a row's numbers stand under is told only where both rows share a grid: a row of
    three cells under a row of four could stand a column off, so every cell of the row is unread."""
    rows = [["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"], ["行政规范性文件", "139", "7", "12"]]
    apps = section_three([r.code for r in T.app_rows if r.code != "other"])
    m = match([Table([*rows, ["", "6", "5"]], ["p1", "p1", "p2"]), apps])
    assert {c.key[1] for c in m.active_disclosure if c.unread} == {"issued", "repealed", "in_force"}
