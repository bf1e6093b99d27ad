"""Text dumps: the three styles of ../shared/seeds, on small inputs of our own."""

from nianbao.extract.text import decode, parse
from nianbao.model.document import Paragraph, Table


def tables(blocks):
    return [b.rows for b in blocks if isinstance(b, Table)]


def test_tab_grid():
    blocks = parse("标题\n\n规章\t1\t0\t1\n行政许可\t5\t\t\n")
    assert isinstance(blocks[0], Paragraph) and blocks[0].text == "标题"
    assert tables(blocks) == [[["规章", "1", "0", "1"], ["行政许可", "5", "", ""]]]
    assert blocks[1].where == ["line 3", "line 4"]


def test_one_cell_per_line_with_vertical_header_and_empty_cells():
    text = "\t\n\t自\n然\n人\n\t总计\n\n\t一、本年新收\n\t3\n\t\n"
    assert tables(parse(text)) == [[["", "自\n然\n人", "总计"], ["一、本年新收", "3", ""]]]


def test_pipe_separated_rows_end_on_extra_pipes():
    # the further pipes end the row; they are not blank cells at its end
    text = "信息内容 |\n本年新 制作数量 |\n对外公开总数量 | |\n规章 |\n0 |\n7 | ||\n"
    assert tables(parse(text)) == [[["信息内容", "本年新 制作数量", "对外公开总数量"], ["规章", "0", "7"]]]


def test_pipe_row_with_blank_first_value_keeps_its_columns():
    # regression (tests/accuracy.py): the padding pipes read as trailing blank cells made the
    # matcher drop the blank natural-person cell instead, shifting every value one column left
    lines = ["（二）部分公开 |", "|"] + [f"{v} |" for v in (2, 0, 0, 1, 0)] + ["3 | ||"]
    rows = tables(parse("\n".join(lines) + "\n"))[0]
    assert rows == [["（二）部分公开", "", "2", "0", "0", "1", "0", "3"]]
    assert tables(parse("| |\n")) == [[[""]]]  # a blank last cell is still a cell


def test_bookmarks_are_dropped_and_gbk_decodes():
    assert parse("[bookmark: _GoBack]标题")[0].text == "标题"
    assert decode("年度报告".encode("gb18030")) == "年度报告"
    assert decode("\ufeff年度报告".encode("utf-8")) == "年度报告"
