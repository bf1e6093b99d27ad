"""A scanned table's number cells read from their glyphs' shapes, without the recogniser, when
that is sure.

A table's numbers are a handful of shapes in one font, some two hundred glyphs a page, and the
recogniser costs the width of every line it is given (a number cell's line is ~45% of its input).
A report's `Book` cuts each cell's lines into glyphs (their connected components, a glyph's
parts one above another merged; a number wrapped in a narrow cell goes on on its next line) and
keeps a cell only when every glyph stands as a digit does:
as tall as the others, top and foot level with theirs, narrower than tall, none touching (a
comma, a point, a sign, a CJK character's radical, a speck: the cell goes to the recogniser). Each
glyph, scaled to one size, joins the shape it correlates with best when that is close (`same`),
else starts a shape of its own. A shape is named by the recogniser: `plan` picks cells whose
glyphs fall in shapes not yet named (`votes` each, from different cells), they are read as today
and `learn` gives each glyph of a cell read as that many digits, surely (`sure`), its digit. A
shape is named when all its votes agree. A cell is then read from its shapes (`read`) only when
each glyph's own shape is named, close, as tall and as wide as its glyphs, and every shape named
otherwise (or not named) is far (`margin`); anything else is read by the recogniser as before.

Its confidence is the least of the recogniser's over the readings that named its glyphs' shapes:
each glyph is the shape the recogniser read that surely, twice, in this report. The template's sums
still judge it (nianbao.interpret.trust), and section 二's cells, in no sum, need 0.97, which every
reading that names a shape has.

A report's table texts repeat too (信息内容 over each of section 二's four items, 本年处理决定数量
twice), in one font at one size: the Book keeps each text line the recogniser read surely (0.97,
a CJK character in it) and a line read whole later of its size (a row, two columns) that
correlates with one of them 0.95 or more, and 0.05 more than with any line read as another text
(one text's lines: 0.907-0.99, 58 of 65 over 0.95; two labels of one length and four characters
of six alike, 本年废止件数 and 本年制发件数: 0.882), is that text (`recall`), not recognised again.
Of the lines of one table read together (信息内容 over each of the items, in one table), those
like a line before them (`echoes`) are read after it, so recalled by its reading.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

import cv2
import numpy as np

from nianbao.extract.pdf import scanprep
from nianbao.model.document import CONFIDENCE


@dataclass(frozen=True)
class Digits:
    size: tuple[int, int] = (16, 24)  # pixels (width, height) a glyph is compared at
    soft: float = 1.2  # pixels of blur at that size: a pixel's jitter of a glyph's box moves its correlation little
    same: float = 0.9  # least correlation of a glyph with its shape (digits of one font: ~0.98; 0 with 6 or 9: <= 0.74)
    margin: float = 0.05  # a shape named otherwise, or not named, correlates this much less
    votes: int = 2  # readings from different cells that name a shape, all agreeing
    sure: float = CONFIDENCE.alone  # least confidence of a reading that names shapes (section 二's)
    tall: float = 0.1  # a glyph's height off its shape's at most this share (or a pixel)
    level: float = 0.06  # its top and foot off its cell's highest and lowest at most this share (or 2 pixels)
    wide: float = 0.15  # its width over height off its shape's at most this share
    narrow: float = 0.95  # a digit is at most this wide over its height
    most: int = 12  # glyphs a cell is read from at most
    mark: float = 0.6  # a glyph at most this share of the digits' height is a separator's (a comma)


DIGITS = Digits()


@dataclass(frozen=True)
class Recall:
    same: float = 0.95  # least correlation of a line with one read before (one text: >= 0.907, 58 of 65 >= 0.95)
    margin: float = 0.05  # a line read before as another text correlates this much less (labels apart: <= 0.882)
    rows: int = 1  # pixels a line's height is off the one's read before at most
    columns: int = 2  # and its width
    soft: float = 1.0  # pixels of blur
    sure: float = CONFIDENCE.alone  # least confidence of a reading remembered


RECALL = Recall()
_CJK = re.compile(r"[\u3400-\u9fff]")
# what a cell read from its shapes may say: digits, thousands separated by commas or not
_NUMBER = re.compile(r"[0-9]+|[0-9]{1,3}(?:,[0-9]{3})+")


@dataclass
class _Shape:
    sum: np.ndarray  # its glyphs' normalised pictures added up
    height: float
    aspect: float
    holes: int
    count: int = 1
    votes: Counter = field(default_factory=Counter)
    least: float = 1.0  # the least confidence of a reading that voted

    def name(self) -> str | None:
        if len(self.votes) == 1:
            ((digit, n),) = self.votes.items()
            return digit if n >= DIGITS.votes else None
        return None


@dataclass
class _Glyph:
    picture: np.ndarray  # normalised: zero mean, unit norm
    height: int
    aspect: float
    holes: int  # the white its ink encloses (0, 6, 9 one; 8 two; 1, 2, 3, 5, 7 none)
    shape: int = -1


@dataclass
class Cell:
    """A number cell's glyphs, left to right, as a Book took them in."""

    glyphs: list[_Glyph]
    serial: int  # which cell of the book's it is (a shape's votes come from different cells)


class Book:
    """A report's digit shapes, named by the recogniser's readings of cells that hold them."""

    def __init__(self) -> None:
        self.shapes: list[_Shape] = []
        self.voters: list[set[int]] = []  # each shape's cells that voted
        self.taken = 0
        self.seen: list[tuple[np.ndarray, str, float]] = []  # text lines read surely: picture, text, confidence

    def recall(self, line: np.ndarray) -> tuple[str, float] | None:
        """A text line (as ocr._trimmed cuts it) read as one read before in this report (信息内容, four
        times a report; 本年处理决定数量, twice): the one text of the lines remembered of its size
        (`remember`) it correlates with (`RECALL.same`), every line read as another text `margin`
        less; else None."""
        fits: dict[str, tuple[float, float]] = {}
        for seen, text, p in self.seen:
            if (fit := _fit(line, seen)) is not None and fit > fits.get(text, (-1.0, 0.0))[0]:
                fits[text] = (fit, p)
        if not fits:
            return None
        best = max(fits, key=lambda t: fits[t][0])
        fit, p = fits[best]
        if fit < RECALL.same or any(f > fit - RECALL.margin for t, (f, _) in fits.items() if t != best):
            return None
        return best, p

    def remember(self, line: np.ndarray, reading: tuple[str, float]) -> None:
        """A text line (as ocr._trimmed cuts it) the recogniser read surely, kept for `recall`: one
        holding a CJK character (a number's lines are digits', read by their shapes, never so)."""
        text, p = reading
        if p >= RECALL.sure and _CJK.search(text) and not _NUMBER.fullmatch(text):
            self.seen.append((line, text, p))

    def add(self, lines: list[np.ndarray]) -> Cell | None:
        """A cell (its text lines) taken in when each line is glyphs as digits stand (a number
        wrapped in a narrow cell goes on on the next line, as ocr._join reads it): each glyph
        placed in its shape."""
        cut = [_glyphs(line) for line in lines]
        if not cut or not all(cut):
            return None
        glyphs = [g for line in cut for g in line]
        for g in glyphs:
            g.shape = self._place(g)
        self.taken += 1
        return Cell(glyphs, self.taken)

    def _place(self, g: _Glyph) -> int:
        if self.shapes:
            fits = self._fits(g)
            best = int(np.argmax(fits))
            if fits[best] >= DIGITS.same:
                s = self.shapes[best]
                s.sum += g.picture
                s.height += (g.height - s.height) / (s.count + 1)
                s.aspect += (g.aspect - s.aspect) / (s.count + 1)
                s.count += 1
                return best
        self.shapes.append(_Shape(g.picture.copy(), g.height, g.aspect, g.holes))
        self.voters.append(set())
        return len(self.shapes) - 1

    def _fits(self, g: _Glyph) -> np.ndarray:
        """The glyph's correlation with each shape; -1 with one of another height, width or
        number of holes."""
        sums = np.array([s.sum for s in self.shapes])
        fits = sums @ g.picture / np.linalg.norm(sums, axis=1)
        heights = np.array([s.height for s in self.shapes])
        aspects = np.array([s.aspect for s in self.shapes])
        fits[np.abs(g.height - heights) > np.maximum(DIGITS.tall * heights, 1)] = -1  # (a comma's: a pixel)
        fits[np.abs(g.aspect - aspects) > DIGITS.wide * aspects] = -1
        fits[np.array([s.holes for s in self.shapes]) != g.holes] = -1
        return fits

    def plan(self, cells: dict) -> list:
        """Of `cells` (Cells by key), the keys of those to read with the recogniser so that each
        of their shapes not yet named has `votes` readings: those covering the most such shapes
        first."""
        want = {i: DIGITS.votes - len(self.voters[i]) for i, s in enumerate(self.shapes) if s.name() is None}
        out = []
        left = list(cells)
        while left:
            gain = [len({g.shape for g in cells[k].glyphs if want.get(g.shape, 0) > 0}) for k in left]
            best = int(np.argmax(gain))
            if not gain[best]:
                break
            k = left.pop(best)
            out.append(k)
            for s in {g.shape for g in cells[k].glyphs}:
                if s in want:
                    want[s] -= 1
        return out

    def learn(self, cell: Cell, reading: tuple[str, float]) -> None:
        """`cell`'s reading by the recogniser: a sure one, as many digits as it has glyphs, names
        its glyphs' shapes (a vote each, once a cell)."""
        text, p = reading
        digits = unicodedata.normalize("NFKC", text)
        if p < DIGITS.sure or not _NUMBER.fullmatch(digits) or len(digits) != len(cell.glyphs):
            return
        for g, d in zip(cell.glyphs, digits):
            if cell.serial not in self.voters[g.shape]:
                self.voters[g.shape].add(cell.serial)
                s = self.shapes[g.shape]
                s.votes[d] += 1
                s.least = min(s.least, p)

    def read(self, cell: Cell) -> tuple[str, float] | None:
        """`cell` read from its glyphs' shapes (text, confidence), or None when that is not sure."""
        names = [s.name() for s in self.shapes]
        text, least = "", 1.0
        for g in cell.glyphs:
            fits = self._fits(g)
            best = int(np.argmax(fits))
            name = names[best]
            if name is None or fits[best] < DIGITS.same:
                return None
            others = fits[[n != name for n in names]]
            if others.size and others.max() > fits[best] - DIGITS.margin:
                return None
            text += name
            least = min(least, self.shapes[best].least)
        return (text, least) if _NUMBER.fullmatch(text) else None


def echoes(lines: list[np.ndarray]) -> list[int]:
    """Of text lines (as ocr._trimmed cuts them) to be read together, those like one before them
    (its size, correlating `RECALL.same`: 信息内容 over each of section 二's items, in one table):
    read after it, `Book.recall` may tell them by its reading."""
    return [k for k, line in enumerate(lines) if any((_fit(line, b) or 0.0) >= RECALL.same for b in lines[:k])]


def _fit(line: np.ndarray, seen: np.ndarray) -> float | None:
    """How a line correlates with one of its size (`RECALL.rows`, `RECALL.columns`), at that one's
    size; None for one of another size."""
    if abs(seen.shape[0] - line.shape[0]) > RECALL.rows or abs(seen.shape[1] - line.shape[1]) > RECALL.columns:
        return None
    return float(_picture(line, seen.shape) @ _picture(seen, seen.shape))


def _picture(line: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """A grey line image scaled to `shape` (rows, columns), blurred a little, normalised."""
    v = cv2.resize(255 - line.astype(np.float32), (shape[1], shape[0]), interpolation=cv2.INTER_AREA)
    v = cv2.GaussianBlur(v, (0, 0), RECALL.soft).ravel()
    v -= v.mean()
    return v / (float(np.linalg.norm(v)) or 1.0)


def numeric(lines: list[np.ndarray]) -> bool:
    """Whether a cell's text lines are glyphs as digits and their separators stand (what
    `Book.add` takes), a Book's shapes aside."""
    return bool(lines) and all(_glyphs(line) for line in lines)


def _glyphs(line: np.ndarray) -> list[_Glyph] | None:
    """A line image's glyphs, left to right, when each stands as a digit does, or as a thousands
    separator between digits (a glyph at most `mark` of the digits' height, in their lower half,
    at their foot); else None."""
    ink = scanprep.ink(line).astype(np.uint8)
    _, _, stats, _ = scanprep.components(ink)
    boxes: list[list[int]] = []
    for x, y, w, h, _ in sorted(stats[1:].tolist()):  # a speck too: a point may be one
        if boxes and x < boxes[-1][2]:  # over the glyph before: its part (a broken stroke)
            b = boxes[-1]
            boxes[-1] = [min(b[0], x), min(b[1], y), max(b[2], x + w), max(b[3], y + h)]
        else:
            boxes.append([x, y, x + w, y + h])
    if not boxes or len(boxes) > DIGITS.most:
        return None
    big = max(b[3] - b[1] for b in boxes)
    small = [b[3] - b[1] <= DIGITS.mark * big for b in boxes]
    top = min(b[1] for b, s in zip(boxes, small) if not s)
    foot = max(b[3] for b, s in zip(boxes, small) if not s)
    tall = foot - top
    slack = max(2.0, DIGITS.level * tall)  # digits stand within a pixel or two (5 beside 件: 3)
    out = []
    for (x0, y0, x1, y1), s in zip(boxes, small):
        h, w = y1 - y0, x1 - x0
        if w > DIGITS.narrow * h:
            return None
        if s and (y0 - top < 0.5 * tall or foot - y1 > slack or y1 - foot > 0.5 * tall):
            return None  # a mark not where a separator stands: a sign, a speck
        if not s and (y0 - top > slack or foot - y1 > slack):
            return None
        mask = ink[y0:y1, x0:x1]
        piece = 255 - line[y0:y1, x0:x1].astype(np.float32)
        v = cv2.resize(piece, DIGITS.size, interpolation=cv2.INTER_AREA)
        if DIGITS.soft:
            v = cv2.GaussianBlur(v, (0, 0), DIGITS.soft)
        v = v.ravel()
        v -= v.mean()
        norm = float(np.linalg.norm(v))
        if norm == 0:
            return None
        out.append(_Glyph(v / norm, h, w / h, _holes(mask)))
    return out


def _holes(mask: np.ndarray) -> int:
    """How many regions of paper a glyph's ink (0/1) encloses, specks of one or two pixels not."""
    paper = np.pad(1 - mask, 1, constant_values=1)
    _, _, stats, _ = scanprep.components(paper, 4)
    return int(np.sum(stats[2:, cv2.CC_STAT_AREA] >= 3))  # 0: ink; 1: the paper around it
