"""Tables a scan prints without rules (borderless, or a three-line table's three rules only),
read from where their text stands.

The page's text is detected and recognised piece by piece (OCR's boxes are its words), each
piece placed by its ink, in points, as a text layer would place it; then the born-digital reader
of unruled tables (pdf._unruled: value columns from the numbers, rows from the lines they stand
on, wrapped labels and headers, a table going on over a page break) reads them exactly as it
reads a PDF's text. Every cell keeps the least confidence of the pieces it is made of (Readings
joined stay Readings), for nianbao.interpret.trust to judge as it judges a ruled table's cells.
"""

from __future__ import annotations

import re
import statistics

import cv2
import numpy as np

from nianbao.extract import pdf
from nianbao.extract.pdf import ocr, scanprep
from nianbao.model.document import Block, Paragraph, Reading, Table

_DETECT_SCALE = 0.5  # text is found at half resolution, read at full
_CJK = re.compile(r"[\u3400-\u9fff]")
_INK = 0.97  # of its type size, the height a CJK character's ink has, told a little short (see _words)
_MIN_LINES = 3  # lines of three pieces or more a page shows when it holds a table


class _Words:
    """A page as pdf._unruled asks for it: its words, as pdfplumber's extract_words gives them."""

    def __init__(self, words: list[dict]):
        self.words = words

    def extract_words(self, **_) -> list[dict]:
        return self.words


def read(gray: np.ndarray, n: int, chain: pdf.TableChain) -> list[Block] | None:
    """Page `n`'s blocks when it holds pieces of text set out in columns (None when it does not:
    a narrative page), its unruled tables read, the text around them as paragraphs. `chain`
    carries a table over the page break, as the PDF reader's does."""
    clean = scanprep.level(gray)  # straightening leans on rules; rows of text need it finer
    h, v = ocr._rules(ocr._ink(clean))
    clean[cv2.dilate(h | v, np.ones((5, 5), np.uint8)) > 0] = 255  # a three-line table's rules
    spans = _detect(clean)
    if not _tabular(spans):
        return None
    read = ocr.recognise(
        [
            cv2.copyMakeBorder(
                clean[y0:y1, x0:x1], ocr._PAD, ocr._PAD, ocr._PAD, ocr._PAD, cv2.BORDER_CONSTANT, value=255
            )
            for x0, y0, x1, y1 in spans
        ]
    )
    pieces = [(s, t, p) for s, (t, p) in zip(spans, read) if t] + _missed(clean, spans)
    words = _words(clean, pieces)
    found = pdf._unruled(_Words(words), chain.open, chain.grid)
    chain.turn_page()
    items: list[tuple[float, object]] = [(top, (rows, columns)) for top, _, rows, columns in found]
    rest = [
        w
        for w in words
        if not any(
            top - pdf.TOL.slack <= (w["top"] + w["bottom"]) / 2 <= bottom + pdf.TOL.slack for top, bottom, _, _ in found
        )
    ]
    items += _lines(rest)
    blocks: list[Block] = []
    for _, item in sorted(items, key=lambda i: i[0]):
        if isinstance(item, str):
            if not pdf._PAGE_NUMBER.match(item):
                blocks.append(Paragraph(item, f"page {n}"))
                chain.close()
            continue
        table = chain.add(*item, f"page {n}")
        if table is not None:
            blocks.append(table)
    # every mark on the page is a word: a cell left blank is surely blank
    for t in {id(t): t for t in [*chain.parts, *(b for b in blocks if isinstance(b, Table))]}.values():
        t.rows = [[c if c else Reading("", 1.0) for c in row] for row in t.rows]
        t.confidence = confidence(t)
    return blocks


def confidence(table: Table) -> list[list[float]]:
    """Each cell's confidence: its Reading's; a blank is surely blank; text that lost its Reading
    on the way (joined with a space) is trusted with nothing."""
    return [[c.confidence if isinstance(c, Reading) else 0.0 if c.strip() else 1.0 for c in row] for row in table.rows]


def _detect(gray: np.ndarray) -> list[tuple[int, int, int, int]]:
    """The boxes (x0, y0, x1, y1, pixels) the detector finds text in, top to bottom."""
    small = cv2.resize(gray, None, fx=_DETECT_SCALE, fy=_DETECT_SCALE, interpolation=cv2.INTER_AREA)
    boxes, _ = ocr._engine().text_det(cv2.cvtColor(small, cv2.COLOR_GRAY2BGR))
    spans = []
    for box in boxes if boxes is not None else []:
        x0, y0 = np.maximum((box.min(axis=0) / _DETECT_SCALE).astype(int), 0)
        x1, y1 = (box.max(axis=0) / _DETECT_SCALE).astype(int)
        if x1 - x0 > 2 and y1 - y0 > 2:
            spans.append((x0, y0, x1, y1))
    return sorted(spans, key=lambda s: (s[1], s[0]))


def _missed(gray: np.ndarray, spans: list[tuple[int, int, int, int]]) -> list:
    """The marks the detector found no text in, as pieces (box, text, confidence): a dash or a
    slash by its shape (what reports print for no number; too small for the detector), anything
    else as the recogniser reads it alone, or as '?' with no confidence (something printed that
    was not read: never a blank)."""
    crop, ink, marks = ocr._marks(gray)
    m = (gray.shape[1] - crop.shape[1]) // 2  # _marks trims a margin
    taken = np.zeros(ink.shape, bool)
    for x0, y0, x1, y1 in spans:
        taken[max(y0 - m, 0) : y1 - m, max(x0 - m, 0) : x1 - m] = True
    # a mark's pieces (the two strokes of ——, a digit's broken stroke) a third of a character apart are one
    gap = int(ocr.DPI * 0.05)
    joined = cv2.dilate(ink.astype(np.uint8), np.ones((1, gap), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(joined)
    out = []
    for i in range(1, count):
        x, y, w, h = stats[i, :4]
        if taken[y + h // 2, x + w // 2] or max(w - gap + 1, h) < ocr.DPI * 0.04:
            continue  # read already, or a speck of the scanner's noise (a hyphen is longer)
        box = (x + m - 2, y + m - 2, x + m + w + 2, y + m + h + 2)
        piece = gray[box[1] : box[3], box[0] : box[2]]
        _, piece_ink, piece_marks = ocr._marks(cv2.copyMakeBorder(piece, 6, 6, 6, 6, cv2.BORDER_CONSTANT, value=255))
        shape = ocr._placeholder(piece_ink, piece_marks)
        if shape:
            out.append((box, shape, 1.0))
            continue
        ((text, p),) = ocr.recognise(
            [cv2.copyMakeBorder(piece, ocr._PAD, ocr._PAD, ocr._PAD, ocr._PAD, cv2.BORDER_CONSTANT, value=255)]
        )
        out.append((box, text or "?", p if text else 0.0))
    return out


def _tabular(spans: list[tuple[int, int, int, int]]) -> bool:
    """Pieces of text set apart on one line, on several lines: a table, not running text."""
    lines = 0
    if not spans:
        return False
    reach = statistics.median(s[3] - s[1] for s in spans) / 2
    for line in _rows(spans, lambda s: (s[1] + s[3]) / 2, reach):
        lines += len(line) >= 3
    return lines >= _MIN_LINES


def _rows(items: list, middle, reach: float) -> list[list]:
    """`items` in lines, top to bottom: those whose middles (`middle(item)`) stand within `reach`
    of the mean of the line's so far."""
    out: list[list] = []
    for item in sorted(items, key=middle):
        if out and middle(item) - sum(map(middle, out[-1])) / len(out[-1]) <= reach:
            out[-1].append(item)
        else:
            out.append([item])
    return out


def _words(gray: np.ndarray, pieces: list) -> list[dict]:
    """The recognised pieces as words placed by their ink, in points, as a text layer places them:
    a line's words (their ink's middles within 0.4 sizes) share its top, and all have the page's
    type size, told by the height of its CJK characters' ink (some 0.93 of it), a little short: OCR's places are a point or so less
    exact than a text layer's, and the reader's tolerances are in sizes, which this keeps apart
    (a wrapped line, 1.35 sizes under the one it goes on, and a paragraph, 2.25 sizes under the
    one before, for LibreOffice's spacing). Pieces of text starting within a
    character of each other start in one column (a bracket's ink starts well into its character).
    Letters read for digits in a number are digits, as in a ruled cell."""
    pt = 72 / ocr.DPI  # points a pixel
    placed = []
    for (x0, y0, x1, y1), text, p in pieces:
        ink = gray[y0:y1, x0:x1] < 160
        count = ink.sum(axis=1)
        # the rows of the piece's own ink: a neighbouring line's stroke tips in its box are few
        rows, cols = np.flatnonzero(count >= 0.1 * count.max()), np.flatnonzero(ink.any(axis=0))
        if not count.any():
            continue
        if ocr._NUMBERISH.fullmatch(text):
            text = text.translate(ocr._DIGIT_FOR)  # the sums still have to confirm the number
        placed.append(
            dict(
                text=Reading(text, p),
                x0=(x0 + cols[0]) * pt,
                x1=(x0 + cols[-1] + 1) * pt,
                ink_top=(y0 + rows[0]) * pt,
                ink_bottom=(y0 + rows[-1] + 1) * pt,
                middle=(y0 + (rows[0] + rows[-1] + 1) / 2) * pt,
            )
        )
    if not placed:
        return []
    heights = [w["ink_bottom"] - w["ink_top"] for w in placed if _CJK.search(w["text"])]
    # the upper quartile: words of short glyphs (一, 三, 、) are fewer than full-height ones
    size = float(np.percentile(heights or [w["ink_bottom"] - w["ink_top"] for w in placed], 75)) / _INK
    starts: list[dict] = []
    for w in sorted((w for w in placed if not pdf._CELL_VALUE.fullmatch(w["text"])), key=lambda w: w["x0"]):
        if starts and w["x0"] - starts[-1]["x0"] <= size:
            w["x0"] = starts[-1]["x0"]
        else:
            starts.append(w)
    words = []
    for line in _rows(placed, lambda w: w["middle"], 0.4 * size):
        # a line's CJK sits where its type does; digits sit low in it
        middle = statistics.median(w["middle"] for w in [w for w in line if _CJK.search(w["text"])] or line)
        for w in line:
            words.append(
                dict(text=w["text"], x0=w["x0"], x1=w["x1"], top=middle - size / 2, bottom=middle + size / 2, size=size)
            )
    return _wrapped(words, size)


def _wrapped(words: list[dict], size: float) -> list[dict]:
    """Each line of text right under another in its column (a wrapped label, a header printed a
    character a line) joined to it, as the reader of unruled tables joins them, but within 1.75
    sizes rather than 1.5: OCR places a line a point or so off, a text layer never (rows stand
    2.2 sizes apart and more)."""
    out: list[dict] = []
    for w in sorted(words, key=lambda w: (w["top"], w["x0"])):
        text = not pdf._CELL_VALUE.fullmatch(w["text"].strip())
        above = [
            c
            for c in out
            if text
            and c["text_"]
            and 0 < w["top"] - c["last"] <= 1.75 * size
            and min(c["x1"], w["x1"]) > max(c["x0"], w["x0"])
        ]
        if above:
            c = max(above, key=lambda c: c["last"])
            c.update(
                text=pdf._join(c["text"], w["text"].strip()),
                last=w["top"],
                x0=min(c["x0"], w["x0"]),
                x1=max(c["x1"], w["x1"]),
            )
        else:
            out.append(dict(w, last=w["top"], text_=text))
    for c in out:
        del c["last"], c["text_"]
    return out


def _lines(words: list[dict]) -> list[tuple[float, str]]:
    """Words outside tables as lines of text: (top, text)."""
    out = []
    for line in _rows(words, lambda w: w["top"], 0.1):
        text = ""
        for w in sorted(line, key=lambda w: w["x0"]):
            text = ocr._join(text, str(w["text"]))
        out.append((min(w["top"] for w in line), text))
    return out
