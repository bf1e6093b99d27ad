"""Tables a scan prints without rules (borderless, or a three-line table's three rules only),
read from where their text stands.

The page's text is detected and recognised piece by piece (OCR's boxes are its words), each
piece placed by its ink, in points, and made the words a text layer would give (OCR splits and
places text otherwise: see _words, _spaced, _heading, _wrapped); then the born-digital reader
of unruled tables (pdf._unruled: value columns from the numbers, rows from the lines they stand
on, wrapped labels and headers, a table going on over a page break) reads them exactly as it
reads a PDF's text. Every cell keeps the least confidence of the pieces it is made of (Readings
joined stay Readings), for nianbao.interpret.trust to judge as it judges a ruled table's cells.
"""

from __future__ import annotations

import difflib
import functools
import re
import statistics

import cv2
import numpy as np

from nianbao.extract import pdf
from nianbao.extract.pdf import digits, ocr, pagetext, prefixes, scanprep
from nianbao.model.document import Block, Paragraph, Reading, Table
from nianbao.model.template import squash, template

_DETECT_SCALE = 0.5  # text is found at half resolution, read at full
_CJK = re.compile(r"[\u3400-\u9fff]")
_INK = 0.97  # of its type size, the height a CJK character's ink has, told a little short (see _words)
_DIGIT_GAP = 0.7  # sizes: pieces of numbers closer than this on a line are one number spaced out
_WRAP = 1.4  # sizes: a wrapped line stands at most this far under the one it goes on
_OFF_PITCH = 0.35  # sizes: a wrapped line OCR saw this near the page's pitch of them stands at it (see _wrapped)
_WRAPPED = 2.0  # sizes: a line this close under another of its kind in its column goes on with it
_HEADING = 0.8  # a line this like a section's heading (difflib's ratio) is that heading
_HEADING_LIKE = 0.6  # this like it, a line numbered as the section and printing no number (see _heading)
_GLUED = 0.3  # sizes: a number closer than this after text on its line is of that text (see _spaced)
_TEXT_GAP = 0.5  # sizes: pieces of text closer than this on a line are one
_ROWS = 2.35  # sizes: a row of one line stands this far under the one before (see _by_pitch)
_STROKES = 0.07  # inches: marks one over another this near are strokes of one character (see _stacks)
_OPENING = "(（[［【〔"  # a bracket's ink starts well into its character
_SPLIT = 1.2  # of a line's ink height: a gap this wide inside a detected box parts two pieces of text
_MIN_LINES = 3  # lines of three pieces or more a page shows when it holds a table
_TALL_BAND = 2.5  # of the typical band of inked rows' height: a band this tall is lines run together
_CROSSED = 0.2  # of a short run of ink's length: ink right above or below it this long makes it text's (see _ruled)
_STACKED = (
    1.2  # of the page's typical box height: a piece whose middle stands this near under another's goes on with it
)
# a heading's characters between these shares of the characters a piece's ink is wide (measured:
# 0.91-0.99 on 48 headings of scans and photos; section 二's 第二十条 captions, 9 characters, 9.6-10.1
# wide) for its start to be probed (see _headings)
_HEADING_LENGTH = (0.85, 1.05)
_STACK = 3  # pieces a stack is named by its ends from (fewer: nothing saved)
_STACK_LENGTH = (0.6, 1.5)  # a template text's characters between these shares of a stack's ink's (see _named)


class _Words:
    """A page as pdf._unruled asks for it: its words, as pdfplumber's extract_words gives them."""

    def __init__(self, words: list[dict]):
        self.words = words

    def extract_words(self, **_) -> list[dict]:
        return self.words


def read(
    gray: np.ndarray, n: int, chain: pdf.TableChain, book: digits.Book | None = None, ink: np.ndarray | None = None
) -> list[Block] | None:
    """Page `n`'s blocks when it holds a template table set out in columns (None when it does not:
    a narrative or title page, read as text by the OCR reader), its unruled tables read, the
    text around them as paragraphs. `chain` carries a table over the page break, as the PDF
    reader's does; `book`, the report's digit shapes so far (digits.py); `ink`, the page's
    (ocr._ink), when known."""
    clean = scanprep.level(gray)  # straightening leans on rules; rows of text need it finer
    rules = _ruled(clean, ink if clean is gray else None)
    clean[cv2.dilate(rules, np.ones((5, 5), np.uint8)) > 0] = 255  # a three-line table's rules
    # after an open table a page may begin with its last row's tail (a row broken over the page
    # break) and show no table of its own
    if not chain.open and not _may_be_tabular(clean):
        return None  # (the detector at half scale costs as much as reading a table's page)
    spans = _split(clean, _detect(clean))
    if not _tabular(spans) and not chain.open:
        return None
    crops = [
        cv2.copyMakeBorder(clean[y0:y1, x0:x1], ocr._PAD, ocr._PAD, ocr._PAD, ocr._PAD, cv2.BORDER_CONSTANT, value=255)
        for x0, y0, x1, y1 in spans
    ]
    read = _recognised(clean, crops, spans, book or digits.Book())
    pieces = [(s, _slash(clean, s, t), p) for s, (t, p) in zip(spans, read) if t]
    # a box read as nothing is no box: its marks are read alone (a lone 0 the recogniser missed
    # beside its box's edge was a blank, and a blank is surely blank)
    pieces += _missed(clean, [s for s, _, _ in pieces])
    return layout(clean, pieces, n, chain)


def _recognised(
    clean: np.ndarray, crops: list[np.ndarray], spans: list[tuple[int, int, int, int]], book: digits.Book
) -> list:
    """Each piece's reading (text, confidence): a number's from its glyphs' shapes where `book`
    reads it surely (ocr._numbers, as a ruled table's number cells are read), the recogniser
    naming the shapes from a few pieces; a stack of pieces (`_stacks_of`: a label wrapped down a
    narrow column, a header a character a line) by its first and last when they name one of the
    template's texts (`_named`); every other piece as the recogniser reads it, padded as among all
    the page's pieces (a doubtful reading read again so: as if none had been read from its shapes
    or a stack's ends; among fewer, its reading swayed with their pad), but a section's heading by
    its start (`_headings`) and a text line as one read surely before in the report
    (ocr.recalled: 信息内容 over each of section 二's items)."""
    widths = ocr._buckets(crops)

    def recognised(_lines, which: list[int], read: list) -> None:
        for i, reading in zip(which, ocr.recalled([crops[i] for i in which], [widths[i] for i in which], book)):
            read[i] = reading

    read: list = [None] * len(crops)
    lines = [[crop] for crop in crops]
    unsure = ocr._numbers(lines, list(range(len(crops))), read, book, recognised)
    # a stack holding a number (read from its shapes, or by the recogniser naming them) is no label;
    # one holding pieces the Book took for lines of digits' glyphs and left unread may be (他法)
    number = lambda r: r is not None and bool(ocr._NUMBERISH.fullmatch(r[0]) or pdf._CELL_VALUE.fullmatch(r[0]))  # noqa: E731
    stacks = [s for s in _stacks_of(spans) if len(s) >= _STACK and not any(number(read[i]) for i in s)]
    middles = {i for s in stacks for i in s[1:-1]}
    _headings(clean, spans, [i for i, r in enumerate(read) if r is None and i not in middles], read)
    recognised(lines, [i for i, r in enumerate(read) if r is None and i not in middles], read)  # (the ends)
    for s in stacks:
        texts = _named(read[s[0]], read[s[-1]], [crops[i] for i in s])
        for i, text in zip(s, texts or []):
            read[i] = text
    recognised(lines, [i for i in sorted(middles) if read[i] is None], read)
    for i, cell in unsure.items():
        book.learn(cell, read[i])
    return read


def _headings(clean: np.ndarray, spans: list[tuple[int, int, int, int]], which: list[int], read: list) -> None:
    """Of pieces `which`, those alone on their line (a section's heading stands so) about as many
    characters long as a heading (_HEADING_LENGTH) whose start (pagetext.probe: 三、收) names one,
    as a text page's heading is named (pagetext.placed_heading): written into `read[i]` as the
    template prints it, with the start's confidence; the others left unread. A heading is some
    6-19 characters: read whole, its line cost the recogniser ~4 times its start's width."""
    alone = {line[0] for line in pagetext.lines(spans) if len(line) == 1}
    lo, hi = _HEADING_LENGTH
    lengths = [len(f"{num}、{head}") for num, head in template().sections.values()]
    chars = {i: pagetext._characters(clean, [spans[i]]) for i in which if spans[i] in alone}
    probed = [i for i, n in chars.items() if any(lo * n <= k <= hi * n for k in lengths)]
    starts = ocr.recognise([pagetext.probe(clean, spans[i], spans[i][3] - spans[i][1]) for i in probed])
    for i, (start, p) in zip(probed, starts):
        if heading := pagetext.placed_heading(start, chars[i]):
            read[i] = (heading, p)


def _stacks_of(spans: list[tuple[int, int, int, int]]) -> list[list[int]]:
    """The pieces (indexes into `spans`) one under another across one width, top to bottom: each
    piece goes on the one stack whose last piece it stands under, its middle within _STACKED of
    the page's typical box height below that one's (a wrapped line's pitch is ~0.9 of it, a row's
    1.5 or more), overlapping it across; else, or under two, it starts one."""
    if not spans:
        return []
    height = statistics.median(y1 - y0 for _, y0, _, y1 in spans)
    middle = lambda s: (s[1] + s[3]) / 2  # noqa: E731
    stacks: list[list[int]] = []
    for i in sorted(range(len(spans)), key=lambda i: middle(spans[i])):
        x0, _, x1, _ = spans[i]
        under = [
            s
            for s in stacks
            if min(x1, spans[s[-1]][2]) > max(x0, spans[s[-1]][0])
            and 0 < middle(spans[i]) - middle(spans[s[-1]]) <= _STACKED * height
        ]
        if len(under) == 1:
            under[0].append(i)
        else:
            stacks.append([i])
    return stacks


def _named(first: tuple[str, float], last: tuple[str, float], crops: list[np.ndarray]) -> list | None:
    """A stack of pieces' readings, one a piece, when its first and last pieces (read: `first`,
    `last`) begin and end exactly one of the template's table texts (prefixes.texts: section 三's
    rows, groups and columns, section 四's outcomes, section 二's items...) with a character or more
    for each piece between, and its ink is about as many characters wide (_STACK_LENGTH): the text
    as the template prints it, cut into the pieces by their ink's width, each with the lesser
    confidence of the two ends; else None (the stack is read whole). A label edited between its
    ends is the template's, as prefixes and rowlabels name a ruled cell; a stack that is no one
    text (two labels, a label and its row's number) begins and ends no one text."""
    (head, p), (tail, q) = first, last
    head, tail = squash(head), squash(tail)
    chars = prefixes.characters(crops)
    lo, hi = _STACK_LENGTH
    hits = {
        printed
        for text, printed in prefixes.texts().items()
        if text.startswith(head)
        and text.endswith(tail)
        and len(text) >= len(head) + len(tail) + len(crops) - 2
        and lo * chars <= len(text) <= hi * chars
    }
    if not head or not tail or len(hits) != 1:
        return None
    (printed,) = hits
    flat = squash(printed)
    if len(flat) != len(printed) or not (flat.startswith(head) and flat.endswith(tail)):
        return None  # printed otherwise than its ends read (a label's variant), or not a character for a character
    # the pieces between the ends share the characters between them by their ink's width
    widths = [prefixes.characters([c]) for c in crops[1:-1]]
    inner = len(printed) - len(head) - len(tail)
    cuts = [len(head)]
    for k in range(1, len(widths)):
        share = round(len(head) + inner * sum(widths[:k]) / max(sum(widths), 1e-9))
        cuts.append(min(max(share, cuts[-1] + 1), len(printed) - len(tail) - (len(widths) - k)))
    cuts.append(len(printed) - len(tail))
    pieces = [printed[: len(head)]] + [printed[a:b] for a, b in zip(cuts, cuts[1:])] + [printed[-len(tail) :]]
    # each piece text (no number's, nor 无: a value's) joined to the next with no space, as read
    if any(not _CJK.search(t) or pdf._CELL_VALUE.fullmatch(t) for t in pieces) or any(
        not (pdf._CJK_OR_WIDE.match(a[-1]) or pdf._CJK_OR_WIDE.match(b[0])) for a, b in zip(pieces, pieces[1:])
    ):
        return None
    return [(t, min(p, q)) for t in pieces]


def layout(clean: np.ndarray, pieces: list, n: int, chain: pdf.TableChain) -> list[Block] | None:
    """Page `n`'s blocks from its recognised pieces (box, text, confidence) on the picture `clean`;
    None when no table of the template's stands in them and none goes on from the page before (a
    title page whose lines of text were taken for columns: the OCR reader reads its text as text)."""
    words = _words(clean, pieces)
    found = pdf._unruled(_Words(words), chain.open, _own_columns(words, chain.grid) if chain.open else chain.grid)
    if not found and not chain.open:
        return None
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
    # every mark on the page is a word: a cell left blank is surely blank, but in a row whose
    # numbers and label came apart (_split_row)
    for t in {id(t): t for t in [*chain.parts, *(b for b in blocks if isinstance(b, Table))]}.values():
        apart = _split_rows(t.rows)
        t.rows = [[c if c else Reading("", 0.0 if i in apart else 1.0) for c in row] for i, row in enumerate(t.rows)]
        t.confidence = confidence(t)
    return blocks


def _own_columns(words: list[dict], grid: tuple | None) -> tuple | None:
    """The grid of the table the page before ended with (labels, columns, heads), its value columns
    where this page's numbers stand when they stand one to one in them, each nearer its own than
    its neighbours and all off as one page scaled and shifted from the other is: every page of a
    phone photo has a scale and a keystone of its own, and columns carried over as the page before
    printed them, some points off, took two numbers of a row for one column's (no table: the rest
    of section 三 was lost). Else as carried."""
    if not grid or not grid[1]:
        return grid
    labels, columns, spans = grid
    # the numbers above the page's first heading (the next section's table has columns of its
    # own); a number off the columns, a page number, makes a column of its own: as carried
    heads = {f"{num}、{head}" for num, head in template().sections.values()}
    end = min((w["top"] for w in words if str(w["text"]) in heads), default=float("inf"))
    values = [w for w in words if pdf._CELL_VALUE.fullmatch(str(w["text"]).strip()) and w["top"] < end]
    if not values:
        return grid
    own = pdf._value_columns(values)
    if len(own) != len(columns) or len(own) < 3:
        return grid
    pitch = statistics.median(b - a for a, b in columns)
    mine, theirs = (np.array([(a + b) / 2 for a, b in c]) for c in (own, columns))
    scale, shift = np.polyfit(mine, theirs, 1)
    # each nearer its own than its neighbours, and all off as a page scaled and shifted is
    if np.abs(mine - theirs).max() >= pitch / 2 or np.abs(scale * mine + shift - theirs).max() > pitch / 8:
        return grid
    return labels, own, spans


def _ruled(gray: np.ndarray, ink: np.ndarray | None = None) -> np.ndarray:
    """The page's rules (ocr._rules) that are rules, not text: a run of ink as long as a table is
    wide, or one with nothing right above and below it (a rule a photo broke in pieces). In a phone
    photo the horizontal strokes of a line of characters (年度继续办) run together into a run as
    long as a short rule; erased, its characters' strokes went with it, the label was misread (T4
    for 年度继续办) and its row, its numbers in the label column's place, was lost. `ink`: the
    page's ocr._ink, when known."""
    ink = ocr._ink(gray) if ink is None else ink
    h, v = ocr._rules(ink)
    count, labels, stats, _ = scanprep.components(h)
    keep = np.ones(count, bool)
    last = ink.shape[0] - 1
    for i in range(1, count):
        x, y, w, height = (int(s) for s in stats[i, :4])
        if w >= ocr._MIN_TABLE * gray.shape[1]:
            continue
        near = lambda a, b: ink[[min(max(a, 0), last), min(max(b, 0), last)], x : x + w].any(axis=0).mean()  # noqa: E731
        keep[i] = max(near(y - 4, y - 3), near(y + height + 2, y + height + 3)) < _CROSSED
    # (the runs that are text's taken out at once, not a pass over the page each)
    return (np.where(keep[labels], h, np.uint8(0)) if not keep.all() else h) | v


def _split_rows(rows: list[list[str]]) -> set[int]:
    """Rows that may be one printed row read as two: a line of numbers with no label, and the
    labelled rows of numbers beside it (a label set lower than its row's first line of numbers,
    their wrapped tails on the label's line). Their blanks may stand where the other line's
    numbers were printed: not surely blank."""
    value = lambda c: bool(pdf._CELL_VALUE.fullmatch(str(c).strip()))  # noqa: E731
    numbers = [any(c.strip() and value(c) for c in row) for row in rows]
    labelled = [n and any(c.strip() and not value(c) for c in row) for n, row in zip(numbers, rows)]
    out = set()
    for i, row in enumerate(rows):
        if numbers[i] and not labelled[i]:
            near = [j for j in (i - 1, i + 1) if 0 <= j < len(rows) and labelled[j]]
            out |= {i, *near} if near else set()
    return out


def confidence(table: Table) -> list[list[float]]:
    """Each cell's confidence: its Reading's; a blank is surely blank; text that lost its Reading
    on the way (joined with a space) is trusted with nothing."""
    return [[c.confidence if isinstance(c, Reading) else 0.0 if c.strip() else 1.0 for c in row] for row in table.rows]


def _detect(gray: np.ndarray) -> list[tuple[int, int, int, int]]:
    """The boxes (x0, y0, x1, y1, pixels) the detector finds text in, top to bottom."""
    small = cv2.resize(gray, None, fx=_DETECT_SCALE, fy=_DETECT_SCALE, interpolation=cv2.INTER_AREA)
    spans = []
    for box in ocr._boxes(small):
        x0, y0 = np.maximum((box.min(axis=0) / _DETECT_SCALE).astype(int), 0)
        x1, y1 = (box.max(axis=0) / _DETECT_SCALE).astype(int)
        if x1 - x0 > 2 and y1 - y0 > 2:
            spans.append((x0, y0, x1, y1))
    return sorted(spans, key=lambda s: (s[1], s[0]))


def _slash(gray: np.ndarray, span: tuple[int, int, int, int], text: str) -> str:
    """A full-width ／ printed for no number, which the recogniser reads as 1, told by its shape
    (ocr._placeholder: a thin stroke along its box's diagonal; a 1 is upright). A 1 taken for a
    slash would break its sums: the trust step flags it, never publishes a 0 for it."""
    if text not in ("1", "l", "I", "|"):
        return text
    x0, y0, x1, y1 = span
    piece = cv2.copyMakeBorder(gray[y0:y1, x0:x1], 6, 6, 6, 6, cv2.BORDER_CONSTANT, value=255)
    _, ink, marks = ocr._marks(piece)
    return "／" if ocr._placeholder(ink, marks) == "/" else text


def _split(gray: np.ndarray, spans: list[tuple[int, int, int, int]]) -> list[tuple[int, int, int, int]]:
    """Each box cut where its ink leaves a gap wider than _SPLIT of its characters' height: the
    detector, seeing the page at half resolution, runs the numbers of a row (and a label into
    them) into one box when a phone photo's blur or narrow columns close the gaps between them,
    and the recogniser then reads 531 15 — 0 0 546 as 53115—00546. Characters of a word, the
    digits of a number, stand far closer."""
    out = []
    for x0, y0, x1, y1 in spans:
        ink = gray[y0:y1, x0:x1] < 160
        count = ink.sum(axis=1)
        if not count.any():
            out.append((x0, y0, x1, y1))
            continue
        rows = np.flatnonzero(count >= 0.1 * count.max())  # its own line's ink, not a neighbour's stroke tips
        core = ink[rows[0] : rows[-1] + 1]
        gap = _SPLIT * (rows[-1] + 1 - rows[0])
        cols = np.flatnonzero(core.any(axis=0))
        start = cols[0] if len(cols) else 0
        for a, b in zip(cols, cols[1:]):
            if b - a - 1 >= gap:
                out.append((x0 + max(start - 2, 0), y0, x0 + a + 3, y1))
                start = b
        out.append((x0 + max(start - 2, 0), y0, x0 + cols[-1] + 3 if len(cols) else x1, y1))
    return out


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
    count, labels, stats, _ = scanprep.components(joined)
    found = []
    for i in range(1, count):
        x, y, w, h = stats[i, :4]
        if taken[y + h // 2, x + w // 2] or max(w - gap + 1, h) < ocr.DPI * 0.04:
            continue  # read already, or a speck of the scanner's noise (a hyphen is longer)
        box = (x + m - 2, y + m - 2, x + m + w + 2, y + m + h + 2)
        if any(min(box[2], x1) - max(box[0], x0) > w / 3 and y0 <= y + m + h // 2 <= y1 for x0, y0, x1, y1 in spans):
            continue  # the end of a piece's text its box cut (一 of 一、 read with it, never a dash of its own)
        found.append(box)
    out = []
    for box, stacked in _stacks(found, int(ocr.DPI * _STROKES)):
        piece = gray[box[1] : box[3], box[0] : box[2]]
        _, piece_ink, piece_marks = ocr._marks(cv2.copyMakeBorder(piece, 6, 6, 6, 6, cv2.BORDER_CONSTANT, value=255))
        shape = None if stacked else ocr._placeholder(piece_ink, piece_marks)
        if shape:
            out.append((box, shape, 1.0))
            continue
        ((text, p),) = ocr.recognise(
            [cv2.copyMakeBorder(piece, ocr._PAD, ocr._PAD, ocr._PAD, ocr._PAD, cv2.BORDER_CONSTANT, value=255)]
        )
        out.append((box, text or "?", p if text else 0.0))
    return out


def _stacks(boxes: list[tuple[int, int, int, int]], gap: int) -> list[tuple[tuple[int, int, int, int], bool]]:
    """Marks one over another less than `gap` apart, across the same width, as one (box, whether
    stacked): the two strokes of 二 a detector left out are a character, not two dashes printed
    for no number (the lower one a line of its own left of the label's wrapped line: the page
    was no table)."""
    out: list[list] = []
    for x0, y0, x1, y1 in sorted(boxes, key=lambda b: b[1]):
        on = lambda b: 0 <= y0 - b[3] <= gap and min(x1, b[2]) - max(x0, b[0]) > 0.5 * max(x1 - x0, b[2] - b[0])  # noqa: E731
        above = next((b for b in out if on(b[0])), None)
        if above is None:
            out.append([(x0, y0, x1, y1), False])
        else:
            bx0, by0, bx1, by1 = above[0]
            above[:] = [(min(x0, bx0), by0, max(x1, bx1), max(y1, by1)), True]
    return [(box, stacked) for box, stacked in out]


def _may_be_tabular(gray: np.ndarray) -> bool:
    """Whether the page's ink may show what _tabular asks of the detector's boxes: _MIN_LINES lines
    of three pieces or more. Told at the detector's scale from its bands of inked rows (a band
    taller than _TALL_BAND of the typical one, lines run together, is taken for lines enough) and
    each band's runs of inked columns parted by gaps of half its height (closer than the detector
    parts pieces: more pieces, never fewer). A page of a few lines (a report's last: its date and
    signature) is not shown the detector."""
    small = cv2.resize(gray, None, fx=_DETECT_SCALE, fy=_DETECT_SCALE, interpolation=cv2.INTER_AREA)
    ink = ocr._ink(small) > 0
    e = ocr._EDGE
    ink[:e], ink[-e:], ink[:, :e], ink[:, -e:] = False, False, False, False
    bands: list[list[int]] = []
    for y in np.flatnonzero(ink.sum(axis=1) >= 2):
        if bands and y - bands[-1][1] <= 1:
            bands[-1][1] = y
        else:
            bands.append([y, y])
    heights = [b - a + 1 for a, b in bands]
    typical = float(np.median([h for h in heights if h >= 4] or heights or [1]))
    lines = 0
    for (a, b), h in zip(bands, heights):
        cols = np.flatnonzero(ink[a : b + 1].any(axis=0))
        pieces = 1 + int(np.sum(np.diff(cols) - 1 >= max(1.0, 0.5 * typical)))
        lines += _MIN_LINES if h > _TALL_BAND * typical else pieces >= 3
    return lines >= _MIN_LINES


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
    type size, told by the pitch of its rows (_by_pitch), else by the height of its CJK
    characters' ink. A piece of text opening with a bracket starts in the column of a piece
    starting within a character left of it (a bracket's ink starts well into its character).
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
    starts: list[float] = []
    for w in sorted((w for w in placed if not pdf._CELL_VALUE.fullmatch(w["text"])), key=lambda w: w["x0"]):
        # (only a bracket's: a header a column's pitch from the next moved into it left a blank column unseen)
        if starts and w["text"][:1] in _OPENING and w["x0"] - starts[-1] <= size:
            w["x0"] = starts[-1]
        else:
            starts.append(w["x0"])
    lines = [
        (statistics.median(w["middle"] for w in [w for w in line if _CJK.search(w["text"])] or line), line)
        for line in _rows(placed, lambda w: w["middle"], 0.4 * size)
    ]  # a line's CJK sits where its type does; digits sit low in it
    size = _by_pitch(lines, size)
    words = []
    for middle, line in lines:
        for w in _heading(_spaced(line, size)):
            words.append(
                dict(text=w["text"], x0=w["x0"], x1=w["x1"], top=middle - size / 2, bottom=middle + size / 2, size=size)
            )
    return _wrapped(words, size)


def _by_pitch(lines: list[tuple[float, list]], size: float) -> float:
    """The type size told by the pitch of a table's rows rather than by the ink (a pixel of it is
    3% of a character's height): the rows of one line each stand _ROWS sizes apart, squarely
    between the reader of unruled tables' 2.2 (lines set as one table) and 2.5 (a row's gap). The
    pitch is the median step between neighbouring lines 1.8-3.2 sizes apart by the ink (a wrapped
    line stands closer); too few such steps, the ink's size."""
    middles = [middle for middle, _ in lines]
    steps = [b - a for a, b in zip(middles, middles[1:]) if 1.8 * size <= b - a <= 3.2 * size]
    return statistics.median(steps) / _ROWS if len(steps) >= 3 else size


def _heading(line: list[dict]) -> list[dict]:
    """A line read as a section's heading but for a character or two (三、收到和处理政府信息公开中请
    情况), or in two pieces (its tail read again in a box of its own), is that heading, one word:
    the reader of unruled tables ends a table at a heading, where a misread one, or one of two
    words (a line of a table), would carry the table on into the next section's. Garbled further
    (三、收到 理后府值息公开中请情况, 三N收到和?连联府信息公开中请情况, B收到和定理政府信公TT中开甲请请况), it
    is told by its structure: numbered as a section, no number
    printed on its line, and liker that section's heading than any label of the template's (a row's
    label numbered alike, 三、本年度办理结果, is its own label's)."""
    text = ""
    for w in line:
        text = pdf._join(text, w["text"])
    # its number and what follows its 、 (which OCR may read as another mark: 三N收到和…); a number
    # read as a mark (B收到和…) stands for the section the rest is likest, as long as its heading
    num, rest = str(text)[:1], str(text)[1:]
    rest = rest[1:] if rest[:1] == "、" or not _CJK.match(rest[:1] or "、") else rest
    heads = {num: head for num, head in template().sections.values()}
    if num not in heads and num and not _CJK.match(num) and num not in _OPENING:
        num = max(heads, key=lambda n: difflib.SequenceMatcher(None, rest, heads[n]).ratio())
        if abs(len(rest) - len(heads[num])) > 0.25 * len(heads[num]):
            return line
    if num not in heads or not rest:
        return line
    like = difflib.SequenceMatcher(None, rest, heads[num]).ratio()
    if like < _HEADING and (
        like < _HEADING_LIKE
        or any(pdf._CELL_VALUE.fullmatch(w["text"].strip()) for w in line)
        or like <= max(difflib.SequenceMatcher(None, rest, label).ratio() for label in _labels())
    ):
        return line
    return [dict(line[0], text=Reading(f"{num}、{heads[num]}", getattr(text, "confidence", 0.0)), x1=line[-1]["x1"])]


@functools.cache
def _labels() -> tuple[str, ...]:
    """Every label the template's tables print (rows, items, metrics, groups, outcomes)."""
    t = template()
    texts = {text for labels in (t.app_rows, t.ad_items, t.ad_metrics) for label in labels for text in label.texts}
    spec = t.spec
    texts |= {*spec.applications.groups, spec.applications.results_label, spec.reviews_litigation.header}
    texts |= {text for _, text in (*spec.reviews_litigation.outcomes, *spec.reviews_litigation.proceedings)}
    return tuple(sorted(texts))


def _spaced(line: list[dict], size: float) -> list[dict]:
    """A line's words as a text layer's words are: pieces the detector found apart joined where
    they stand closer than columns do. A number printed spaced out (full-width digits: ４７, a
    digit an em apart), pieces of numbers less than _DIGIT_GAP sizes apart; a line of text cut in
    two (a heading's tail read again in a box of its own), pieces of text less than _TEXT_GAP.
    Pieces over one another are one ink read twice."""
    out: list[dict] = []
    for w in sorted(line, key=lambda w: w["x0"]):
        last = out[-1] if out else None
        value = bool(pdf._CELL_VALUE.fullmatch(w["text"]))
        if last is not None and min(last["x1"], w["x1"]) - w["x0"] > 0.5 * min(
            w["x1"] - w["x0"], last["x1"] - last["x0"]
        ):
            # one ink read twice (a mark the detector left out of its box beside the box): the wider
            out[-1] = max(last, w, key=lambda w: w["x1"] - w["x0"])
        elif (
            last is not None
            and value == bool(pdf._CELL_VALUE.fullmatch(last["text"]))
            and w["x0"] - last["x1"] < (_DIGIT_GAP if value else _TEXT_GAP) * size
        ):
            text = last["text"] + w["text"] if value else pdf._join(last["text"], w["text"])
            out[-1] = dict(last, text=text, x1=max(last["x1"], w["x1"]))
        elif (
            last is not None
            and value
            and not pdf._CELL_VALUE.fullmatch(last["text"])
            and w["x0"] - last["x1"] < _GLUED * size
        ):
            # a number set against text, closer than a column's padding: its characters misread (四、结转卜 T4 1
            # for 四、结转下年度…), whose "1" left of the value columns made the page no table
            out[-1] = dict(last, text=pdf._join(last["text"], w["text"]), x1=max(last["x1"], w["x1"]))
        else:
            out.append(w)
    return out


def _wrapped(words: list[dict], size: float) -> list[dict]:
    """Each line right under another of its kind in its column (a wrapped label, a header printed
    a character a line, a number's wrapped tail), up to _WRAPPED sizes under it (a row stands
    _ROWS under), drawn up to _WRAP sizes under it: the reader of unruled tables joins such lines
    within 1.5 sizes (a text layer sets them 1.35 apart), and OCR places a line a point or so off.
    Kept lines, not one word: a label wrapped down a narrow column still shows the table going
    on beside its rows."""
    placed: list[tuple[dict, float, bool]] = []  # words, where OCR saw their tops, whether numbers
    under: list[tuple[dict, dict, float]] = []  # a wrapped line, the line it goes on, how far under it OCR saw it
    for w in sorted(words, key=lambda w: (w["top"], w["x0"])):
        seen, value = w["top"], bool(pdf._CELL_VALUE.fullmatch(w["text"].strip()))
        above = [
            (c, t)
            for c, t, v in placed
            if v == value and 0 < seen - t <= _WRAPPED * size and min(c["x1"], w["x1"]) > max(c["x0"], w["x0"])
        ]
        if above:  # (a number's wrapped tail too)
            c, t = max(above, key=lambda a: a[1])
            under.append((w, c, seen - t))
        placed.append((w, seen, value))
    # a text layer sets every wrapped line at one pitch: a line OCR saw within _OFF_PITCH of the
    # page's stands at it (a cell's last line seen 3 points high set the next row more than a row's
    # gap under it); one further off (a stray mark under a label) where it was seen
    pitch = min(statistics.median(step for _, _, step in under), _WRAP * size) if under else 0.0
    for w, c, step in under:  # (top to bottom: the line above is in place)
        w["top"] = c["top"] + (pitch if abs(step - pitch) <= _OFF_PITCH * size else min(step, _WRAP * size))
        w["bottom"] = w["top"] + size
    return words


def _lines(words: list[dict]) -> list[tuple[float, str]]:
    """Words outside tables as lines of text: (top, text)."""
    out = []
    for line in _rows(words, lambda w: w["top"], 0.1):
        text = ""
        for w in sorted(line, key=lambda w: w["x0"]):
            text = ocr._join(text, str(w["text"]))
        out.append((min(w["top"] for w in line), text))
    return out
