"""Which lines of a scanned page's text outside its tables OCR reads (nianbao.extract.pdf.pagetext):
the title block, section headings, lines set off the text's edge (signature, date); never the
narrative's body, which nothing published from a scan uses."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path[:0] = [str(Path(__file__).parents[1]), str(Path(__file__).parents[1] / "fixtures")]
import typeset  # noqa: E402

from nianbao.extract.pdf import ocr  # noqa: E402

BODY = "本机关认真贯彻落实《中华人民共和国政府信息公开条例》，全年主动公开政府信息"


def _page(lines: list[tuple[float, float, str]]) -> np.ndarray:
    """A white page at OCR's resolution with `lines` (x, y in points, text) printed at 12 pt."""
    from PIL import Image, ImageDraw, ImageFont

    if not typeset.has_ttf():
        pytest.skip("no CJK TrueType font to typeset with (make fonts)")
    px = ocr.DPI / 72
    page = Image.new("L", (int(595 * px), int(842 * px)), 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(str(typeset.TTF), int(12 * px))
    for x, y, text in lines:
        draw.text((x * px, y * px), text, fill=0, font=font)
    return np.asarray(page)


def _read(monkeypatch, gray, first):
    widths = []
    recognise = ocr.recognise

    def counting(crops):
        widths.extend(c.shape[1] / c.shape[0] for c in crops)
        return recognise(crops)

    monkeypatch.setattr(ocr, "recognise", counting)
    return [text for _, text in ocr._text_lines(gray, first)], sum(widths)


def test_a_first_page_gives_its_title_block_and_headings_not_its_narrative(monkeypatch):
    gray = _page(
        [
            (230, 80, "某某市某某局"),
            (150, 110, "某某市某某局2021年政府信息公开工作年度报告"),
            (72, 160, "一、总体情况"),
            *((72, 190 + 22 * i, BODY[i:] + BODY[:i]) for i in range(8)),
            (72, 380, "二、主动公开政府信息情况"),
            *((72, 410 + 22 * i, BODY) for i in range(4)),
        ]
    )
    lines, cost = _read(monkeypatch, gray, True)
    assert [line.replace(" ", "") for line in lines] == [
        "某某市某某局",
        "某某市某某局2021年政府信息公开工作年度报告",
        "一、总体情况",
        "二、主动公开政府信息情况",
    ]
    everything, whole = _read(monkeypatch, gray, None)  # a picture's text: all of it
    assert len(everything) == 16 and cost < 0.45 * whole


def test_a_last_page_gives_its_headings_and_the_signature_set_right(monkeypatch):
    gray = _page(
        [
            *((72, 80 + 22 * i, BODY) for i in range(3)),
            (72, 160, "六、其他需要报告的事项"),
            (72, 190, "一、本年度未收取信息处理费"),  # numbered as a section, but no heading: not read
            *((72, 212 + 22 * i, BODY) for i in range(3)),
            (380, 300, "某某市某某局"),
            (380, 322, "2022年1月20日"),
        ]
    )
    lines, _ = _read(monkeypatch, gray, False)
    assert [line.replace(" ", "") for line in lines] == ["六、其他需要报告的事项", "某某市某某局", "2022年1月20日"]


def test_a_heading_its_probe_names_is_not_read_whole(monkeypatch):
    gray = _page(
        [
            *((72, 80 + 22 * i, BODY) for i in range(3)),
            (72, 160, "四、政府信息公开行政复议、行政诉讼情况"),
            *((72, 190 + 22 * i, BODY) for i in range(3)),
            (72, 270, "五、存在的主要问题及改进情况"),
            (72, 300, "六、加强队伍建设，全面提升政府信息公开工作人员的业务能力和水平"),  # numbered, too long
        ]
    )
    widths = []
    recognise = ocr.recognise

    def counting(crops):
        widths.append([c.shape[1] / c.shape[0] for c in crops])
        return recognise(crops)

    monkeypatch.setattr(ocr, "recognise", counting)
    lines = [text.replace(" ", "") for _, text in ocr._text_lines(gray, False)]
    assert lines == ["四、政府信息公开行政复议、行政诉讼情况", "五、存在的主要问题及改进情况"]
    probes, whole = widths  # the probes, then the one numbered line no heading's length fits, read whole
    assert len(probes) == 9 and max(probes) < 4 and len(whole) == 1 and whole[0] > 15


def test_a_probe_names_a_heading_only_by_its_number_first_character_and_length():
    from nianbao.extract.pdf.pagetext import placed_heading

    assert placed_heading("三、收至", 19.3) == "三、收到和处理政府信息公开申请情况"  # a half character misread
    assert placed_heading("3、收", 18) == "三、收到和处理政府信息公开申请情况"
    assert placed_heading("一总", 6.5) == "一、总体情况"  # the 、 lost
    assert placed_heading("四丶政", 20.6) == "四、政府信息公开行政复议、行政诉讼情况"
    assert placed_heading("三、收", 30) is None  # a line too long for the heading: read whole
    assert placed_heading("三、收", 12) is None  # too short
    assert placed_heading("二、本", 12) is None  # not the heading's first character
    assert placed_heading("十二、收", 18) is None  # not the heading's number
    assert placed_heading("本年度", 18) is None


def test_a_probe_of_a_headings_first_character_alone_counts_as_numbered_when_the_line_is_that_long():
    from nianbao.extract.pdf.pagetext import _unnumbered

    assert _unnumbered("总", lambda: 6.2)  # 一、总体情况, its 一、 lost by the recogniser
    assert _unnumbered("收", lambda: 17.5)  # 三、收到和处理政府信息公开申请情况
    assert not _unnumbered("总", lambda: 30)  # a sentence beginning 总: not the heading
    assert not _unnumbered("总", lambda: 3)
    assert not _unnumbered("本", lambda: 6)  # no heading begins so
    assert not _unnumbered("总体", lambda: 6)  # two characters: _numbered's to tell
