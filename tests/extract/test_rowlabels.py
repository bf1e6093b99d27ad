"""Section 三's row labels a scan's OCR leaves unread (nianbao.extract.pdf.rowlabels): placed by
the template's order only where the rows read around them leave no doubt; read otherwise.

Grids are given as the table reader sees them after its first pass: a cell's grid span and its
text, None for a long label left unread. No OCR needed."""

from __future__ import annotations

from nianbao.extract.pdf.rowlabels import Cell, header, piece, row_label, settle

VALUES = ["0", "3", "—", "1", "0", "0", "4"]


def _rows(labels: list[str | None], group: str | None = None, group_at: int = 0) -> list[Cell]:
    """One row per label (None: unread) with seven values right of it, in columns 2..8; `group`
    a label over rows group_at.. to the end, in column 0."""
    cells = []
    if group is not None:
        cells.append(Cell((group_at, len(labels)), (0, 1), group))
    for r, label in enumerate(labels):
        cells.append(Cell((r, r + 1), (1, 2), label))
        cells += [Cell((r, r + 1), (2 + k, 3 + k), v) for k, v in enumerate(VALUES)]
    return cells


def _label_cells(cells):
    return [i for i, c in enumerate(cells) if c.cols == (1, 2)]


def test_a_run_between_two_rows_read_takes_the_template_rows_between_them_as_printed():
    cells = _rows(["3.补正后申请内容仍不明确", None, None, None, None, "5.要求行政机关确认或重新出具已获取信息"])
    want, _, placed = settle(cells)
    assert want == []
    assert [placed[i] for i in _label_cells(cells)[1:5]] == [
        "1.信访举报投诉类申请",
        "2.重复申请",
        "3.要求提供公开出版物",
        "4.无正当理由大量反复申请",
    ]


def test_a_run_of_another_length_than_the_templates_is_read():
    cells = _rows(["3.补正后申请内容仍不明确", None, None, None, "5.要求行政机关确认或重新出具已获取信息"])
    want, _, placed = settle(cells)
    assert want == _label_cells(cells)[1:4] and placed == {}


def test_the_tables_end_rows_are_read_first_then_those_between_placed():
    cells = _rows([None, None, None, None])
    first, *_, last = _label_cells(cells)
    cells[last].lines = 3  # wrapped: its first and last lines are read
    want, ends, placed = settle(cells)
    assert want == [first, last] and ends == [last] and placed == {}
    cells[first].text, cells[last].text = "一、本年新收政府信息公开申请数量", "（二）部分公开"
    want, _, placed = settle(cells)
    assert want == [] and list(placed.values()) == ["二、上年结转政府信息公开申请数量", "（一）予以公开"]


def test_a_row_read_that_names_no_template_row_is_no_anchor_the_row_beside_it_is_read():
    cells = _rows(["一、本年新收政府信息公开申请数量", None, None, "（二）部分公"])  # cut by the page break
    want, _, _ = settle(cells)
    assert want == [_label_cells(cells)[2]]


def test_a_group_label_spanning_the_run_that_is_not_its_rows_own_has_the_run_read():
    labels = ["3.补正后申请内容仍不明确", None, None, None, None, "5.要求行政机关确认或重新出具已获取信息"]
    assert settle(_rows(labels, "（五）不予处理", 1))[0] == []
    cells = _rows(labels, "（四）无法提供", 1)
    assert settle(cells)[0] == _label_cells(cells)[1:5]
    cells = _rows(labels, None, 1)
    cells.insert(0, Cell((1, 6), (0, 1), None))  # a group label not read: nothing confirms the run
    assert settle(cells)[0][-4:] == _label_cells(cells)[1:5]


def test_a_group_label_the_page_break_cut_to_the_tables_edge_row_leaves_that_rows_label_a_label():
    """A page ending inside a group (（六）其他处理 over one row, the rest of its rows on the next
    page): its last row's label is still a row's, told by its ends (a label wrapped over many
    lines), not read whole; a one-row cell left of a label inside the table still says the row
    is no row of values."""
    labels = ["5.要求行政机关确认或重新出具已获取信息", None, None]
    cells = _rows(labels)
    cells.append(Cell((2, 3), (0, 1), None, lines=4))  # the group, cut to the last row
    last = _label_cells(cells)[-1]
    cells[last].lines = 14
    want, ends, _ = settle(cells)
    assert ends == [last] and last in want
    middle = _label_cells(cells)[1]
    cells[-1].rows, cells[middle].lines = (1, 2), 14  # inside the table: no group, the row no row of values
    want, ends, _ = settle(cells)
    assert middle in want and middle not in ends


def test_a_long_cell_with_text_right_of_it_is_read_not_placed():
    cells = _rows(["3.补正后申请内容仍不明确", None, "2.重复申请"])
    label = _label_cells(cells)[1]
    cells[label + 3].text = "申请"  # not a value: the row is no row of values
    want, _, placed = settle(cells)
    assert label in want and placed == {}


def test_rows_an_edition_has_between_two_anchors_are_placed_only_when_one_editions_count_fits():
    # between 5.要求行政机关确认 and （七）总计: 2021 prints three rows of （六）其他处理, 2019 one
    top, bottom = "5.要求行政机关确认或重新出具已获取信息", "（七）总计"
    cells = _rows([top, None, bottom])
    assert settle(cells) == ([], [], {_label_cells(cells)[1]: "（六）其他处理"})
    cells = _rows([top, None, None, None, bottom])
    assert list(settle(cells)[2].values()) == [
        "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
        "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
        "3.其他",
    ]
    cells = _rows([top, None, None, bottom])
    assert settle(cells)[0] == _label_cells(cells)[1:3]


def test_a_label_wrapped_over_many_lines_is_told_by_its_first_and_last_lines_and_its_length():
    cells = _rows(["一、本年新收政府信息公开申请数量", None, None, None, None])
    last = _label_cells(cells)[-1]
    cells[last].lines = 4
    cells[last].glimpse = ("1.属于国", "秘密")  # 1.属于国家秘密 as four lines of four: too short
    assert settle(cells)[0] == [last]
    cells[last].lines = 3
    cells[last].glimpse = ("(三)不予公开1", "秘密")  # not how any row begins
    assert settle(cells)[0] == [last]
    cells[last].glimpse = ("1.属于", "秘密")
    want, ends, placed = settle(cells)
    assert (
        want == []
        and ends == []
        and [placed[i] for i in _label_cells(cells)[1:]]
        == [
            "二、上年结转政府信息公开申请数量",
            "（一）予以公开",
            "（二）部分公开",
            "1.属于国家秘密",
        ]
    )


def test_a_header_or_group_cell_of_many_lines_is_told_by_its_ends_when_one_template_text_fits():
    assert header("结", "持", 4) == "结果维持"  # section 四's outcome, a character a line
    assert header("结", "正", 4) == "结果纠正"
    assert header("三、", "果", 8) == "三、本年度办理结果"
    assert header("(三", "开", 4) == "（三）不予公开"  # as the template prints it
    assert header("结", "持", 6) is None  # six lines: not 结果维持, whatever it prints
    assert header("结", "果", 4) is None  # 结果…果: no header
    assert header("结", "持", 2) is None  # two lines: both read, nothing to tell
    assert header("其", "他", 3) is None  # 其他 is two characters, not three lines
    assert header("三", "果", 8) == "三、本年度办理结果"  # 三、 read alone loses its 、


def test_a_row_label_wrapped_in_a_narrow_column_is_told_by_its_ends_and_its_length():
    assert row_label("1.本", "息", 7) == "1.本机关不掌握相关政府信息"  # two characters a line
    assert row_label("1.本", "息", 3) is None  # too long for three lines
    assert row_label("1.本", "开", 7) is None  # not how it ends


def test_a_label_the_page_break_cut_is_told_by_its_ends_as_a_piece_of_one_rows_label():
    # its start at a page's foot, two characters a line: the one row it begins, cut where it stops
    assert piece("1.申", "府信", 14, head=True) == (
        "other_overdue_correction",
        "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信",
    )
    assert piece("2.没", "行制", 6, head=True) == ("unavailable_needs_creation", "2.没有现成信息需要另行制")
    assert piece("1.申", "府信", 5, head=True) is None  # five lines cannot hold so much
    assert piece("1.属", "密", 4, head=True) is None  # the whole label, not a piece (its ends name it)
    assert piece("2.申", "政府信", 14, head=False) is None  # an end's piece ends as a label ends
    # its end atop the next page: one text, whichever row's (息公开申请 ends two rows' labels)
    assert piece("息公", "请", 3, head=False)[1] == "息公开申请"
    assert piece("他法", "开", 6, head=False)[1] == "他法律行政法规禁止公开"  # the row's first label's
    assert piece("政府", "请", 3, head=False) is None  # 政府信息公开申请 is longer than three lines of two
    assert piece("息公", "量", 3, head=False) is None  # …息公开申请数量: no end fits three lines
    assert piece("政", "请", 3, head=False) is None  # a character alone tells no place in a label


def test_a_label_cut_at_the_tables_last_row_named_by_its_start_anchors_the_run_above():
    """The last row's label, cut by the page break, is named as its row's start by its ends, so the
    rows between it and the rows read above are placed, not read."""
    cells = _rows(["3.补正后申请内容仍不明确", None, None, None, None, None, None])
    last = _label_cells(cells)[-1]
    cells[last].lines = 14
    cells[last].glimpse = ("1.申", "府信")
    want, ends, placed = settle(cells)
    assert want == [] and placed[last] == "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信"
    assert [placed[i] for i in _label_cells(cells)[1:-1]] == [
        "1.信访举报投诉类申请",
        "2.重复申请",
        "3.要求提供公开出版物",
        "4.无正当理由大量反复申请",
        "5.要求行政机关确认或重新出具已获取信息",
    ]
    cells[last].glimpse = ("1.申", "府言")  # its end not as the label prints it (信 misread): read whole
    assert settle(cells)[0] == [last]


def _reviews(header: list[str | None], groups=((0, 5), (5, 15))) -> list[Cell]:
    """Section 四's table as the national template prints it: proceedings over outcomes (`header`,
    fifteen leaves, None: not read) over one row of fifteen values; `groups`: the cells over the
    leaves (columns)."""
    cells = [Cell((0, 1), g, "行政复议" if g[0] == 0 else "行政诉讼") for g in groups]
    cells += [Cell((1, 2), (5, 10), "未经复议直接起诉"), Cell((1, 2), (10, 15), "复议后起诉")]
    cells += [Cell((1, 3) if k < 5 else (2, 3), (k, k + 1), text) for k, text in enumerate(header)]
    cells += [Cell((3, 4), (k, k + 1), str(k)) for k in range(15)]
    return cells


OUTCOMES = ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"]


def test_a_headers_leaves_between_its_first_and_last_read_are_placed_by_the_templates_order():
    from nianbao.extract.pdf.rowlabels import leaves, place_leaves

    cells = _reviews(["结果维持"] + [None] * 13 + ["总计"])
    ((run, top),) = leaves(cells)
    assert [cells[i].cols for i in run] == [(k, k + 1) for k in range(15)] and top == 0
    placed = place_leaves(cells, run, top)
    assert [placed.get(i, cells[i].text) for i in run] == OUTCOMES * 3


def test_over_section_fours_outcomes_the_proceedings_past_the_first_are_not_read():
    """The matcher places section 四's values by position, finding the table by 行政复议 over the
    first proceeding's outcomes: that is read, the cells over the other two are not (""); over one
    proceeding's outcomes alone, its heading names it: read."""
    from nianbao.extract.pdf.rowlabels import leaves, place_leaves

    cells = _reviews(["结果维持"] + [None] * 13 + ["总计"])
    over = [i for i, c in enumerate(cells) if c.rows[0] < 2 and c.cols[1] - c.cols[0] > 1]
    for i in over:
        cells[i].text = None
    ((run, top),) = leaves(cells)
    placed = place_leaves(cells, run, top)
    # 行政复议 read; 行政诉讼, 未经复议直接起诉, 复议后起诉 not
    assert [placed.get(i) for i in over] == [None, "", "", ""]
    one = [Cell((0, 1), (0, 5), None)] + [Cell((1, 2), (k, k + 1), t) for k, t in enumerate(OUTCOMES)]
    one += [Cell((2, 3), (k, k + 1), str(k)) for k in range(5)]
    ((run, top),) = leaves(one)
    assert place_leaves(one, run, top) == {}  # the proceeding's heading over its outcomes: read


def test_header_leaves_are_read_when_an_end_or_a_leaf_read_or_the_count_or_a_group_disagrees():
    from nianbao.extract.pdf.rowlabels import leaves, place_leaves

    def placed(cells):
        return {k: v for run, top in leaves(cells) for k, v in place_leaves(cells, run, top).items()}

    assert placed(_reviews(["结果维持"] + [None] * 13 + ["总计"])) != {}
    assert placed(_reviews([None] * 14 + ["总计"])) == {}  # its first not read
    assert placed(_reviews(["结果维持"] + [None] * 13 + ["其他结果"])) == {}  # not the template's last
    assert placed(_reviews(["结果维持", "其他结果"] + [None] * 12 + ["总计"])) == {}  # a leaf read otherwise
    assert placed(_reviews(["结果维持", "结果纠正(件)"] + [None] * 12 + ["总计"])) == {}  # one not the template's
    assert placed(_reviews(["结果维持"] + [None] * 13 + ["总计"], groups=((0, 7), (7, 15)))) == {}  # a group astride
    cells = _reviews(["结果维持"] + [None] * 13 + ["总计"])
    cells = [c for c in cells if c.cols[0] < 14 or c.rows[0] == 0]  # fourteen columns: no sequence that long
    assert placed(cells) == {}


def test_section_three_applicants_between_the_first_and_last_read_are_placed_under_their_groups():
    from nianbao.extract.pdf.rowlabels import leaves, place_leaves

    cells = [Cell((0, 3), (0, 1), "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）")]
    cells += [Cell((0, 1), (1, 8), "申请人情况"), Cell((1, 3), (1, 2), "自然人"), Cell((1, 2), (2, 7), None)]
    cells += [Cell((1, 3), (7, 8), "总计")] + [Cell((2, 3), (k, k + 1), None) for k in range(2, 7)]
    for r, label in enumerate(["一、本年新收政府信息公开申请数量", "二、上年结转政府信息公开申请数量"], 3):
        cells += [Cell((r, r + 1), (0, 1), label)] + [Cell((r, r + 1), (k, k + 1), "1") for k in range(1, 8)]
    ((run, top),) = leaves(cells)
    # and the group over them not read (法人或其他组织: the template's note, nothing the matcher reads)
    assert place_leaves(cells, run, top) == dict(
        zip(run[1:-1], ["商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他"])
    ) | {3: ""}
    cells[0].text = cells[1].text = None  # the corner's note and 申请人情况 not read yet: not read at all
    assert place_leaves(cells, run, top)[0] == place_leaves(cells, run, top)[1] == ""
    cells[0], cells[1] = Cell((1, 3), (0, 1), ""), Cell((0, 1), (0, 8), "申请人情况")  # over the labels too
    assert place_leaves(cells, run, top) == {}


def _section_two(caption: str | None = None, header: str = "信息内容") -> list[Cell]:
    """Section 二's first sub-table as the 2021 template prints it: its caption across the table
    (`caption`: None, not read), the header (本年废止件数 not read yet), 规章 and 行政规范性文件."""
    cells = [Cell((0, 1), (0, 4), caption), Cell((1, 2), (0, 1), header)]
    cells += [Cell((1, 2), (k, k + 1), m) for k, m in enumerate(["本年制发件数", None, "现行有效件数"], 1)]
    for r, item in enumerate(["规章", "行政规范性文件"], 2):
        cells += [Cell((r, r + 1), (0, 1), item)] + [Cell((r, r + 1), (k, k + 1), str(k)) for k in range(1, 4)]
    return cells


def test_section_twos_caption_is_told_by_the_header_row_under_it_and_heads_no_leaf():
    from nianbao.extract.pdf.rowlabels import captions, leaves, place_leaves

    cells = _section_two()
    assert captions(cells) == [0]  # across the table, right above 信息内容: 第二十条第（一）项, not read
    ((run, top),) = leaves(cells)
    assert place_leaves(cells, run, top) == {run[1]: "本年废止件数"}  # the caption is not over the leaves
    assert captions(_section_two(header="项目")) == []  # not the template's header under it: read
    cells = _section_two()
    cells[0] = Cell((0, 1), (0, 3), None)  # not across the whole table
    assert captions(cells) == []
    cells = _section_two()
    cells.insert(1, Cell((1, 2), (0, 4), None))  # a row between it and the header
    cells = [
        c if c.rows[0] < 1 or c is cells[1] else Cell((c.rows[0] + 1, c.rows[1] + 1), c.cols, c.text) for c in cells
    ]
    assert captions(cells) == [1]  # the one right above the header only
