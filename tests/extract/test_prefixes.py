"""prefixes.py against an agency's edited label: a cell named from its ends, never from its start alone."""

from __future__ import annotations

import numpy as np
import pytest

FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"


def _cell(text: str) -> list[np.ndarray]:
    """A table cell printing `text` on one line (11.5 pt at 200 dpi, as a report's table prints a
    label), as ocr._table cuts its text lines."""
    from PIL import Image, ImageDraw, ImageFont

    from nianbao.extract.pdf import ocr

    font = ImageFont.truetype(FONT, 32)
    im = Image.new("L", (40 * len(text) + 60, 80), 255)
    ImageDraw.Draw(im).text((20, 20), text, font=font, fill=0)
    crop, ink, _ = ocr._marks(np.asarray(im))
    return ocr._cell_lines(crop, ink)


@pytest.mark.parametrize(
    "printed",
    [
        "一、本年新收政府信息公开申请总件数",  # the end edited, the length the template's or so
        "二、上年结转政府信息公开申请情况",
    ],
)
def test_a_label_edited_at_its_end_is_read_whole_never_named_by_its_start(printed):
    """An agency's label beginning as a template text and ending otherwise: its start alone named
    one candidate of its length (一、本年新收政府信息公开申请数量), which the matcher would have
    placed as exactly the template's row, where the text path matches no label (or flags one
    approximately). Its end tells it is not that text: read whole."""
    from nianbao.extract.pdf import ocr, prefixes

    lines = _cell(printed)
    assert prefixes.plan(lines) is not None  # long enough to be probed
    read = [None]
    ocr._text([lines], [0], read)
    assert read[0][0] == printed


def test_a_template_label_is_named_by_its_two_ends():
    from nianbao.extract.pdf import ocr, prefixes

    lines = _cell("一、本年新收政府信息公开申请数量")
    (start, end), k = prefixes.plan(lines)
    assert start.shape[1] < lines[0].shape[1] / 3 and end.shape[1] < lines[0].shape[1] / 3
    (head, _), (tail, _) = ocr.recognise([start, end])
    assert prefixes.name(head, tail, k, lines) == "一、本年新收政府信息公开申请数量"


def test_a_cells_ends_name_a_template_text_only_when_one_of_its_length_begins_and_ends_so():
    from nianbao.extract.pdf.prefixes import name

    def line(characters: float) -> np.ndarray:  # a line's ink as wide as so many characters 30 pixels high
        img = np.full((42, int(30 * characters) + 8), 255, np.uint8)
        img[6:36, 4:-4] = 0
        return img

    assert name("一、本年", "申请数量", 4, [line(18)]) == "一、本年新收政府信息公开申请数量"
    assert name("四结转", "继续办理", 4, [line(12)]) == "四、结转下年度继续办理"  # the 、 lost
    assert name("一、本年", "请总件数", 4, [line(18)]) is None  # the end edited
    assert name("一、本年", "申请数", 4, [line(18)]) is None  # a character cut: too little read
    assert name("一、本年", "x申请数量", 4, [line(18)]) == "一、本年新收政府信息公开申请数量"  # a half character before
    assert name("本年制发", "制发件数", 4, [line(6.5)]) == "本年制发件数"
    assert name("（一）予", "予以公开", 4, [line(7.5)]) == "（一）予以公开"
    assert name("本年制发", "制发件数", 4, [line(12)]) is None  # a longer text than the template's: read whole
    assert name("第二十条", "(一)项", 4, [line(10.5)]) == "第二十条第(一)项"  # six begin so: the end tells
    assert name("本年新", "数量", 4, [line(8)]) is None  # 本年新制作数量 and 本年新公开数量: too little read
    assert name("本年制x", "制发件数", 4, [line(6.5)]) is None  # a character misread
    # an amount with the note the template gives it (template.toml: note), as reports print it
    assert name("本年收费", "：万元）", 4, [line(13)]) == "本年收费金额（单位：万元）"
