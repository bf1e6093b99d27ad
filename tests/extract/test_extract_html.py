"""HTML pages written from known values (tests/corpus.py), read back cell by cell through the matcher."""

import corpus
import pytest
from corpus import check, tables

from nianbao.extract import html
from nianbao.interpret.match import match
from nianbao.model.document import PAGE_TITLE, Paragraph, Table
from nianbao.model.errors import Unreadable


def paragraphs(blocks):
    """The text of the page (its <title> is metadata: a Paragraph at PAGE_TITLE)."""
    return [b.text for b in blocks if isinstance(b, Paragraph) and b.where != PAGE_TITLE]


def test_plain_tables_every_cell(rep, layout):
    blocks = html.parse(corpus.write_html(layout).encode("utf-8"))
    check(blocks, rep)
    # rowspan/colspan: text at the span's first position, "" wherever it reaches; thead rows first
    assert tables(blocks) == [corpus.grid(value) for kind, value in layout if kind == "table"]
    assert paragraphs(blocks) == [value for kind, value in layout if kind == "p"]


def test_word_save_as_html(rep, layout):
    page = corpus.write_html(layout, word=True)
    assert "MsoNormal" in page and "&nbsp;" in page and "\r\n" in page
    blocks = html.parse(page.encode("utf-8"))
    check(blocks, rep)
    apps = tables(blocks)[1]
    assert apps[1][3] == "自\n然\n人"  # a <p> a character
    assert apps[5][0].startswith("三、\n本\n年")  # a <br> a character
    assert apps[6][1] == "（二）部分公开（区分处理的，只计这一情形，不计其他情形）"  # wrapped source, no space


def test_table_split_into_several(rep, layout):
    for word in (False, True):
        blocks = html.parse(corpus.write_html(layout, split_at=10, word=word).encode("utf-8"))
        check(blocks, rep)
        assert len(tables(blocks)) == 4


def test_chrome_and_layout_tables_ignored(rep, layout):
    page = corpus.write_html(layout, chrome=True, nested=True, word=True)
    blocks = html.parse(page.encode("utf-8"))
    check(blocks, rep)
    assert len(tables(blocks)) == 3  # the layout table is not one; the one in a script string neither
    text = "".join(paragraphs(blocks))
    for chrome in ("首页", "人民政府门户网站", "版权所有", "统计", "var tpl", "p.MsoNormal"):
        assert chrome not in text
    assert paragraphs(blocks)[:2] == ["栏目导航", "政府信息公开"]  # a layout cell's text stays text


# ---------------------------------------------------------------- encodings


def test_gbk_page_declaring_utf8(rep, layout):
    data = corpus.write_html(layout, charset="utf-8").encode("gbk")
    check(html.parse(data), rep)
    check(html.parse(data, "text/html; charset=UTF-8"), rep)


def test_gbk_word_page_declaring_utf8_is_not_read_as_a_latin_codec(rep, layout):
    # regression (tests/accuracy.py): Word's markup is mostly ASCII, so charset-normalizer's best
    # guess for these bytes is mac_latin2 (or ptcp154), which decodes them without an error
    for chrome in (False, True):
        data = corpus.write_html(layout, word=True, chrome=chrome, charset="utf-8").encode("gbk")
        assert "年度报告" in html.decode(data)
        check(html.parse(data), rep)


def test_latin1_server_default_is_not_believed(rep, layout):
    data = corpus.write_html(layout, charset=None).encode("gbk")
    check(html.parse(data, "text/html;charset=ISO-8859-1"), rep)


def test_charset_from_content_type_and_meta(rep, layout):
    page = corpus.write_html(layout, charset=None)
    check(html.parse(page.encode("gb18030"), "text/html; charset=gb2312"), rep)
    page = corpus.write_html(layout, charset="GB2312")
    check(html.parse(page.encode("gb18030")), rep)


def test_no_declaration_detected(rep, layout):
    check(html.parse(corpus.write_html(layout, charset=None).encode("gbk")), rep)


def test_bom_and_utf8_win_over_declarations(rep, layout):
    page = corpus.write_html(layout, charset="gbk")
    check(html.parse(b"\xef\xbb\xbf" + page.encode("utf-8"), "text/html; charset=gbk"), rep)
    check(html.parse(page.encode("utf-8"), "text/html; charset=gbk"), rep)
    check(html.parse(page.encode("utf-16")), rep)


def test_detection_beyond_the_gb_family():
    # a Big5 page declaring UTF-8: neither the declaration nor the gb18030 fallback reads it
    page = (
        '<html><head><meta charset="utf-8"></head><body><p>臺北市政府資訊公開年度報告：本年度受理申請案件'
        "總計一百二十件，均已依規定處理完畢。</p><p>資料來源：臺北市政府秘書處</p></body></html>"
    )
    assert html.decode(page.encode("big5")) == page


def test_gb_labels_read_as_gb18030():
    # 𠮷 and 䶮 are not in GB2312/GBK; pages labelled gb2312 print them anyway
    text = "<p>𠮷䶮年度报告</p>"
    assert html.decode(text.encode("gb18030"), "text/html; charset=gb2312") == text
    assert html.decode(f'<meta charset="gbk">{text}'.encode("gb18030")).endswith(text)


# ---------------------------------------------------------------- structure


def test_spans_at_the_edges():
    page = """<table>
      <tr><td rowspan=0>a</td><td colspan="2x">b</td><td rowspan=9>c</td></tr>
      <tr><td colspan=99999>d</td></tr>
      <tr><th>e</th><td>&nbsp; 1,234 &nbsp;</td></tr></table>"""
    rows = tables(html.parse(page.encode()))[0]
    assert rows[0] == ["a", "b", "", "c"]
    assert rows[1][:4] == ["", "d", "", ""] and len(rows[1]) == 1001 and set(rows[1][2:]) == {""}
    assert rows[2][:3] == ["", "e", "1,234"]
    with pytest.raises(Unreadable, match="cells"):
        html.parse(("<table>" + "<tr><td colspan=1000 rowspan=1000>x</td></tr>" * 1000 + "</table>").encode())


def test_article_header_is_read_page_header_is_not():
    page = """<body><header>网站</header><article><header><h1>某局2021年政府信息公开工作年度报告</h1></header>
      <p>正文</p><footer>发布日期</footer></article><footer>版权</footer></body>"""
    assert paragraphs(html.parse(page.encode())) == ["某局2021年政府信息公开工作年度报告", "正文", "发布日期"]


def test_paragraphs_one_per_block():
    page = """<html><body><div>一、总体情况<p>第一段<b>加粗</b>续</p>尾<br>换行后</div>
      <ul><li>甲</li><li>乙</li></ul><table><caption>表题</caption><tr><td>x</td><td>y</td></tr></table></body></html>"""
    blocks = html.parse(page.encode())
    assert paragraphs(blocks) == ["一、总体情况", "第一段加粗续", "尾", "换行后", "甲", "乙", "表题"]
    assert isinstance(blocks[-1], Table) and blocks[-1].where == ["table 1 row 1"]


def test_empty_page_is_unreadable():
    for data in (b"", b"   \n", "\ufeff".encode("utf-8")):
        with pytest.raises(Unreadable):
            html.parse(data)
    with pytest.raises(Unreadable, match="no template tables"):
        match(html.parse("<html><body><p>页面不存在</p></body></html>".encode()))
