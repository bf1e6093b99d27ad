"""Word files written from known values (tests/corpus.py), read back cell by cell through the matcher."""

import io
import zipfile
from dataclasses import replace

import corpus
import pytest
from corpus import check, tables

from nianbao.extract import docx
from nianbao.model.document import Paragraph, Table
from nianbao.model.errors import Unreadable


@pytest.fixture(scope="module")
def plain(layout):
    return corpus.write_docx(layout)


def test_template_layout_every_cell(rep, layout, plain):
    blocks = docx.parse(plain)
    check(blocks, rep)
    # merged cells: text at the span's first position, "" in every position it covers
    expected = [corpus.grid(value) for kind, value in layout if kind == "table"]
    assert tables(blocks) == expected
    apps = tables(blocks)[1]
    assert apps[1][3] == "自\n然\n人" and apps[2][3] == ""  # one character a paragraph, vMerge continued
    assert apps[5][0].startswith("三、\n本\n年")  # ... and a character a line (w:br)
    assert [b.text for b in blocks if isinstance(b, Paragraph)][:2] == [
        "某某市某某局2021年政府信息公开工作年度报告",
        "一、总体情况",
    ]


def test_blocks_in_document_order(plain):
    blocks = docx.parse(plain)
    kinds = ["table" if isinstance(b, Table) else b.text for b in blocks]
    assert (
        kinds.index("二、主动公开政府信息情况")
        < kinds.index("table")
        < kinds.index("三、收到和处理政府信息公开申请情况")
    )
    assert blocks[-1].text == "本年度未收取信息处理费。"


def test_table_split_in_two(rep, layout):
    # cut inside 三、本年度办理结果 and （三）不予公开: the second part opens on vMerge continuations
    blocks = docx.parse(corpus.write_docx(layout, split_at=10))
    check(blocks, rep)
    first, second = tables(blocks)[1:3]
    assert len(first) == 10 and second[0][:2] == ["", ""]


def test_report_nested_in_a_layout_table(rep, layout):
    blocks = docx.parse(corpus.write_docx(layout, nested=True))
    check(blocks, rep)
    assert len(tables(blocks)) == 3


def test_awkward_markup():
    # gridBefore/gridAfter, hMerge and vMerge continuations holding stale text, a content control
    # around a row, tracked changes, a hyperlink, a text box given twice (mc:Choice, mc:Fallback)
    body = """
    <w:p><w:r><w:t>前</w:t></w:r><w:ins><w:r><w:t>插入</w:t></w:r></w:ins><w:del><w:r><w:delText>删除</w:delText></w:r></w:del>
      <w:hyperlink><w:r><w:t>链接</w:t></w:r></w:hyperlink><w:r><w:br/><w:t>二行</w:t></w:r></w:p>
    <w:tbl>
      <w:tr><w:trPr><w:gridBefore w:val="1"/><w:gridAfter w:val="1"/></w:trPr><w:tc><w:p><w:r><w:t>a</w:t></w:r></w:p></w:tc></w:tr>
      <w:sdt><w:sdtContent><w:tr>
        <w:tc><w:tcPr><w:hMerge w:val="restart"/></w:tcPr><w:p><w:r><w:t>b</w:t></w:r></w:p></w:tc>
        <w:tc><w:tcPr><w:hMerge/></w:tcPr><w:p><w:r><w:t>stale</w:t></w:r></w:p></w:tc>
        <w:tc><w:p><w:r><mc:AlternateContent><mc:Choice><w:t>框</w:t></mc:Choice>
          <mc:Fallback><w:t>框</w:t></mc:Fallback></mc:AlternateContent></w:r></w:p></w:tc>
      </w:tr></w:sdtContent></w:sdt>
      <w:tr><w:tc><w:tcPr><w:vMerge/></w:tcPr><w:p><w:r><w:t>stale</w:t></w:r></w:p></w:tc>
        <w:tc><w:tcPr><w:vMerge w:val="continue"/></w:tcPr><w:p><w:r><w:t>stale</w:t></w:r></w:p></w:tc>
        <w:tc><w:tcPr><w:vMerge w:val="restart"/></w:tcPr><w:p><w:r><w:t>c</w:t></w:r></w:p></w:tc></w:tr>
    </w:tbl>"""
    blocks = docx.parse(corpus.docx_with_body(body))
    assert blocks[:2] == [Paragraph("前插入链接", "paragraph 1"), Paragraph("二行", "paragraph 1")]
    assert tables(blocks) == [[["", "a", ""], ["b", "", "框"], ["", "", "c"]]]  # vMerge continuations: ""
    assert blocks[2].where == ["table 1 row 1", "table 1 row 2", "table 1 row 3"]


def test_blank_cells_keep_their_position():
    body = """<w:tbl><w:tr>
      <w:tc><w:tcPr><w:gridSpan w:val="2"/></w:tcPr><w:p><w:r><w:t>x</w:t></w:r></w:p></w:tc>
      <w:tc><w:p/></w:tc><w:tc><w:p><w:r><w:t xml:space="preserve">  7 </w:t></w:r></w:p></w:tc></w:tr></w:tbl>"""
    assert tables(docx.parse(corpus.docx_with_body(body))) == [[["x", "", "", "7"]]]


# ---------------------------------------------------------------- refusals


def test_not_a_zip():
    for data in (b"", b"PK\x03\x04garbage", b"%PDF-1.4 not word"):
        with pytest.raises(Unreadable, match="corrupt zip"):
            docx.parse(data)


def test_truncated_docx(plain):
    data = plain
    with pytest.raises(Unreadable):
        docx.parse(data[: len(data) // 2])


def test_zip_that_is_not_a_docx():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("hello.txt", "你好")
    with pytest.raises(Unreadable, match="Content_Types"):
        docx.parse(out.getvalue())
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:  # an OOXML package, but no Word document in it
        z.writestr(
            "[Content_Types].xml", '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'
        )
    with pytest.raises(Unreadable, match="not a readable DOCX"):
        docx.parse(out.getvalue())


def test_zip_bomb_ratio():
    data = _with_extra_part(corpus.docx_with_body("<w:p/>"), "word/media/zeros.bin", b"\0" * (8 * 1024 * 1024))
    with pytest.raises(Unreadable, match="zip bomb"):
        docx.parse(data)


def test_zip_bomb_total_size(plain, monkeypatch):
    monkeypatch.setattr(docx, "LIMITS", replace(docx.LIMITS, total=10_000))
    with pytest.raises(Unreadable, match="uncompressed"):
        docx.parse(plain)


@pytest.mark.parametrize("part", ["word/document.xml", "word/styles.xml", "[Content_Types].xml"])
def test_dtd_and_entities_refused(part):
    data = corpus.docx_with_body("<w:p><w:r><w:t>&xxe;</w:t></w:r></w:p>")
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        xml = z.read(part)
    evil = xml.replace(b"?>", b'?>\n<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>', 1)
    with pytest.raises(Unreadable, match="DTD"):
        docx.parse(corpus.replace_part(data, part, evil))


def test_dtd_in_utf16_part_refused():
    xml = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE w:document [<!ENTITY a "b">]><w:document/>'
    data = corpus.replace_part(corpus.docx_with_body("<w:p/>"), "word/document.xml", xml.encode("utf-16"))
    with pytest.raises(Unreadable, match="DTD"):
        docx.parse(data)


def _with_extra_part(data: bytes, name: str, content: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info))
        dst.writestr(name, content)
    return out.getvalue()
