"""digits.py: number cells read from their glyphs' shapes, which the recogniser's sure readings
name; anything unsure is left to the recogniser. Cells are rendered in the machine's fonts as a
200-dpi scan prints a table's numbers (blurred, grey), and cut as ocr._table cuts them."""

from __future__ import annotations

import functools
import glob
import random

import numpy as np
import pytest

CJK = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"  # the generated reports' digits
TIMES = "/usr/share/fonts/opentype/urw-base35/NimbusRoman-Regular.otf"
# digits of the families reports print numbers in (Song/Hei's Latin digits, Times, Arial, Courier)
# and of every shape the machine has: a bold narrow sans's 6 and 8 are the closest of any
FONTS = [CJK] + sorted(
    glob.glob("/usr/share/fonts/opentype/urw-base35/*.otf") + glob.glob("/usr/share/fonts/truetype/dejavu/*.ttf")
)


def _cell(text: str, font: str = CJK, size: int = 32, blur: float = 0.6, seed: int = 0) -> list[np.ndarray]:
    """A table cell printing `text`, blurred and speckled as a scan, as ocr._table cuts its lines."""
    return list(_rendered(text, font, size, blur, seed))


@functools.lru_cache(maxsize=256)
def _rendered(text: str, font: str, size: int, blur: float, seed: int) -> tuple[np.ndarray, ...]:
    """_cell's lines, made once: each font's test reads the same CJK and Times cells (80 of its 128),
    rendered alike every time (kept: each font's test uses them again before 256 others are made).
    Read-only, so that no Book can change what the next reads."""
    import cv2
    from PIL import Image, ImageDraw

    from nianbao.extract.pdf import ocr

    im = Image.new("L", (size * len(text) + 60, 2 * size + 20), 255)
    ImageDraw.Draw(im).text((20, 20), text, font=_font(font, size), fill=0)
    gray = cv2.GaussianBlur(np.asarray(im).astype(np.float32), (0, 0), blur)
    gray += np.random.default_rng(seed).normal(0, 6, gray.shape)
    crop, ink, _ = ocr._marks(np.clip(gray, 0, 255).astype(np.uint8))
    lines = tuple(ocr._cell_lines(crop, ink))
    for line in lines:
        line.flags.writeable = False
    return lines


@functools.cache
def _font(path: str, size: int):
    from PIL import ImageFont

    return ImageFont.truetype(path, size)


def _numbers(rng: random.Random, n: int) -> list[str]:
    return [str(rng.choice([rng.randint(0, 30), rng.randint(31, 999), rng.randint(1000, 99999)])) for _ in range(n)]


def _named(book, texts: list[str], **render) -> list:
    """`texts`' cells taken into `book`, those it asks for read as the recogniser reads them surely."""
    cells = [book.add(_cell(t, seed=k, **render)) for k, t in enumerate(texts)]
    for k in book.plan({k: c for k, c in enumerate(cells) if c is not None}):
        book.learn(cells[k], (texts[k], 0.99))
    return cells


def test_a_pages_numbers_are_read_from_the_shapes_a_few_cells_named():
    from nianbao.extract.pdf import digits

    texts = _numbers(random.Random(1), 80)
    book = digits.Book()
    cells = _named(book, texts)
    asked = {k for k, c in enumerate(cells) if any(c.serial in v for v in book.voters)}
    read = [book.read(c) for c in cells]
    assert len(asked) <= 20  # ten digits, each named by two cells: most cells cost no model run
    assert all(r == (t, 0.99) for k, (r, t) in enumerate(zip(read, texts)) if k not in asked)
    # the same shapes on the report's next page: little more to name (a glyph the noise moved
    # off its shape starts one), every other cell read from its shapes
    more = _numbers(random.Random(2), 20)
    cells = [book.add(_cell(t, seed=100 + k)) for k, t in enumerate(more)]
    asked = book.plan(dict(enumerate(cells)))
    assert len(asked) <= 2
    assert [book.read(c) for k, c in enumerate(cells) if k not in asked] == [
        (t, 0.99) for k, t in enumerate(more) if k not in asked
    ]


def test_a_shape_is_named_only_by_two_sure_readings_that_agree():
    from nianbao.extract.pdf import digits

    def book_named(*readings):
        book = digits.Book()
        for k, (text, p) in enumerate(readings):
            book.learn(book.add(_cell("37", seed=k)), (text, p))
        return book, book.add(_cell("73", seed=9))

    book, cell = book_named(("37", 0.99), ("37", 0.98))
    assert book.read(cell) == ("73", 0.98)  # the least confidence that named its shapes
    book, cell = book_named(("37", 0.99))
    assert book.read(cell) is None  # named once
    book, cell = book_named(("37", 0.99), ("87", 0.99), ("37", 0.99))
    assert book.read(cell) is None  # the 3's shape named two ways: never named
    book, cell = book_named(("37", 0.99), ("37", 0.96))
    assert book.read(cell) is None  # under section 二's 0.97: no vote
    book, cell = book_named(("37", 0.99), ("377", 0.99))
    assert book.read(cell) is None  # a reading of another length names nothing


@pytest.mark.parametrize("text", ["12.5", "1.234", "+5", "3%", "本年", "5件"])
def test_a_cell_holding_anything_but_digits_and_separators_is_left_to_the_recogniser(text):
    """A point, a sign, a CJK character: not a line of digit-high glyphs and the marks between
    them at their foot (a point read as a comma, or dropped, would change the value)."""
    from nianbao.extract.pdf import digits

    assert digits.Book().add(_cell(text)) is None


def test_a_thousands_separator_is_read_once_named_and_only_where_it_separates_thousands():
    """A comma is a glyph of its own shape, named as a digit's is (two sure readings that agree);
    a cell read from its shapes says a number as printed (1,234), never a comma out of place."""
    from nianbao.extract.pdf import digits

    book = digits.Book()
    _named(book, ["10", "23", "45", "12", "34", "50", "6789", "9876"])
    assert book.read(book.add(_cell("12,345"))) is None  # the comma's shape not named
    _named(book, ["1,234", "5,678"])
    assert book.read(book.add(_cell("12,345"))) == ("12,345", 0.99)
    assert book.read(book.add(_cell("98,765,432"))) == ("98,765,432", 0.99)
    assert book.read(book.add(_cell("1,23"))) is None  # not thousands: the recogniser's
    assert book.read(book.add(_cell("12,34") + _cell("5"))) == ("12,345", 0.99)  # wrapped


def test_touching_digits_are_left_to_the_recogniser_a_wrapped_number_is_read_whole():
    """A number wrapped in a narrow cell goes on on its next line, as ocr._join reads it; a cell
    with a line of anything else, or digits run together, is the recogniser's."""
    from nianbao.extract.pdf import digits

    book = digits.Book()
    _named(book, ["10", "23", "45", "12", "34", "50"])
    assert book.read(book.add(_cell("1234") + _cell("50"))) == ("123450", 0.99)
    assert book.add(_cell("12") + _cell("件")) is None
    assert digits.Book().add(_cell("00", blur=3.5)) is None  # run together: wider than a digit


def test_a_glyph_of_a_shape_not_named_is_not_read():
    from nianbao.extract.pdf import digits

    book = digits.Book()
    _named(book, ["10", "23", "45", "12", "34", "50"])
    assert book.read(book.add(_cell("14"))) == ("14", 0.99)
    assert book.read(book.add(_cell("16"))) is None  # no 6 named: its shape is not a 0, 5 or 8's


@pytest.mark.parametrize("font", FONTS, ids=lambda f: f.split("/")[-1])
def test_no_digit_of_any_font_is_read_as_another(font):
    """A book named in one font reads every font's digits (each digit alone, in the sizes a scan
    prints a table at, blurred lightly and heavily) as printed or not at all: a 6 is never an 8.
    An italic's digits lean into each other's columns: its cells are not taken, nothing named."""
    from nianbao.extract.pdf import digits

    book = digits.Book()
    named = ["01234", "56789", "12345", "67890", "23456", "78901", "34567", "89012"]  # each digit 4 times
    taken = _named(book, named, font=font, size=28)
    read = 0
    for other in {font, CJK, TIMES}:
        for size, blur in ((22, 0.6), (28, 0.6), (28, 1.2), (34, 0.8)):
            for d in "0123456789":
                cell = book.add(_cell(d, font=other, size=size, blur=blur, seed=ord(d)))
                got = book.read(cell) if cell else None
                assert got is None or got[0] == d, (other, size, blur, d, got)
                read += got is not None and (other, size, blur) == (font, 28, 0.6)
    if sum(c is not None for c in taken) >= 6 and not any(x in font for x in ("Italic", "Oblique", "Z003")):
        # in its own upright font and size, the book reads most of its digits (a serif's hairlines
        # at 19 pixels break a 0's ring now and then: its hole leaks, so it is no 0's shape)
        assert read >= 7


def test_number_cells_read_through_the_book_cost_fewer_model_runs_and_read_the_same(monkeypatch):
    """ocr._numbers with the recogniser: the cells it asks for are read as ocr._read reads them,
    the others from their shapes, the same texts."""
    from nianbao.extract.pdf import digits, ocr

    texts = _numbers(random.Random(4), 40)
    lines = [_cell(t, seed=k) for k, t in enumerate(texts)]
    asked = []
    read_cells = ocr._read
    monkeypatch.setattr(ocr, "_read", lambda lines, which, read: (asked.extend(which), read_cells(lines, which, read)))
    read: list = [None] * len(texts)
    unsure = ocr._numbers(lines, list(range(len(texts))), read, digits.Book())
    shapes = [k for k, r in enumerate(read) if r is not None and k not in asked]
    assert len(asked) <= 20 and len(shapes) >= 20 and not set(unsure) & set(shapes)
    assert all(read[k][0] == texts[k] for k in asked + shapes)
    assert all(read[k][1] >= 0.97 for k in shapes)


def test_a_number_wrapped_over_lines_is_numeric_a_label_is_not():
    """digits.numeric: what tells ocr._table that a cell as long as a label is a number wrapped in
    a narrow cell (read with its row's numbers, by its shapes), not a label that may wait."""
    from nianbao.extract.pdf import digits

    assert digits.numeric(_cell("16,6") + _cell("8") + _cell("5"))
    assert not digits.numeric(_cell("1.申") + _cell("请人"))
    assert not digits.numeric(_cell("16") + _cell("件"))
    assert not digits.numeric([])


def test_a_text_line_read_surely_before_is_recalled_another_text_of_its_size_is_not():
    """A report's table prints 信息内容 four times in one font: read once, the others are that
    text without the recogniser; a label of its length printing other characters (本年废止件数
    beside 本年制发件数: two of six apart) is not, nor a number, nor anything read doubtfully."""
    from nianbao.extract.pdf import ocr
    from nianbao.extract.pdf.digits import Book

    def line(text, seed=0):
        return ocr._trimmed(_cell(text, seed=seed)[0])

    book = Book()
    book.remember(line("信息内容"), ("信息内容", 0.99))
    book.remember(line("本年制发件数"), ("本年制发件数", 0.995))
    assert book.recall(line("信息内容", seed=1)) == ("信息内容", 0.99)  # other specks: the same text
    assert book.recall(line("本年制发件数", seed=2)) == ("本年制发件数", 0.995)
    assert book.recall(line("本年废止件数")) is None
    assert book.recall(line("行政许可")) is None  # its size, other characters
    book.remember(line("行政处罚"), ("行政处罚", 0.9))  # read doubtfully: not kept
    assert book.recall(line("行政处罚", seed=1)) is None
    book.remember(line("1,234"), ("1,234", 0.99))  # a number: its glyphs' shapes read it, never so
    assert book.recall(line("1,234", seed=1)) is None


def test_a_text_line_like_one_before_it_in_the_same_call_is_recalled_after_it_is_read(monkeypatch):
    """ocr._read of one table's cells: 信息内容 printed over each of section 二's items is given to
    the recogniser once; its repeats wait for that reading and are recalled by it (digits.echoes),
    another text of its size is read."""
    from nianbao.extract.pdf import digits, ocr

    texts = ["信息内容", "本年制发件数", "信息内容", "行政许可", "信息内容"]
    cells = [_cell(t, seed=k) for k, t in enumerate(texts)]
    assert digits.echoes([ocr._trimmed(c[0]) for c in cells]) == [2, 4]
    given = []
    recognise = ocr.recognise

    def counted(crops, pads=None):
        given.append(len(crops))
        return recognise(crops, pads)

    monkeypatch.setattr(ocr, "recognise", counted)
    read = [None] * len(cells)
    ocr._read(cells, list(range(len(cells))), read, digits.Book())
    assert [r[0] for r in read] == texts
    assert given[0] == sum(given) == 3  # 信息内容, 本年制发件数, 行政许可: the repeats recalled
