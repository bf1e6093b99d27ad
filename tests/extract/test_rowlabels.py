"""Section 三's row labels a scan's OCR leaves unread (nianbao.extract.pdf.rowlabels): placed by
the template's order only where the rows read around them leave no doubt; read otherwise.

Grids are given as the table reader sees them after its first pass: a cell's grid span and its
text, None for a long label left unread. No OCR needed."""

from __future__ import annotations

from nianbao.extract.pdf.rowlabels import Cell, header, settle

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
