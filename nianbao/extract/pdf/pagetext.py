"""Which lines of a scanned page's text outside its tables OCR reads: those metadata and matching use.

The recogniser's cost is the width of the lines it is given, and a report's narrative is most of
its text (on the two real reports scanned, some half of the recogniser's time). What is used of a
scan's text outside its tables:
- metadata (nianbao.interpret.metadata): the title and the body it names among the first lines, the
  reporting period's sentence (the year when the title has none), the body signing and the date;
- matching (nianbao.interpret.match): the sections' headings (一、总体情况 …): a section printed but not
  read is ours (`_Said`), and the narratives start at them.
So a line is read whole when it is one of the first page's first five above its first section
heading (the title block; the rest of that block too when those print no year), or set off the
text's left edge (centred or to the right: a title, the signing body, a date, a page number), or
when its start read alone (a probe, `Lines.probe` of its heights wide: two characters and a half)
is a section's numbering (or, alone, a heading's first character on a line as long as that
heading: the recogniser lost 一、), and then kept only when it reads as a heading. A numbered line is not
read whole when its probe already tells which heading it is (`placed`): the section's number, the
heading's first character after it, and a line as long as that heading prints (its ink's width over
its height, a CJK character being about square); it is given the heading as the template prints it.
The narrative is not
read: the pages between the first and the last never were, and a scan publishes no narratives
(ocr.parse marks its blocks NARRATIVE_UNREAD) rather than pieces of them.
"""

from __future__ import annotations

import difflib
import functools
import re
from dataclasses import dataclass

import numpy as np

from nianbao.extract.pdf import prefixes, scanprep
from nianbao.model.chinese import YEAR_NUMERALS, numeral_value
from nianbao.model.template import split_numbering, squash, template


@dataclass(frozen=True)
class Lines:
    probe: float = 2.5  # of a line's height: the width of its start read alone (三、 and a little)
    indent: float = 4.0  # of a line's height: a line starting further right than this of the text's edge is set off
    title: int = 5  # the first page's lines read before its first heading (metadata looks for its title in five)
    title_block: int = 12  # and at most these when those print no year (the reporting period's sentence)
    heading: float = 0.6  # a line this like a section's heading (difflib's ratio) is one
    beyond: int = 12  # characters a heading may print past its words (as the matcher's _heading allows)


LINES = Lines()
_YEAR = re.compile(rf"(?:20\d\d|[{YEAR_NUMERALS}]{{4}})年")


def read(gray: np.ndarray, spans: list[tuple[int, int, int, int]], first: bool, left: int | None = None):
    """Of the detector's boxes `spans` (x0, y0, x1, y1) on the page `gray`, those of the lines to
    read, each with its reading: [(span, (text, confidence))]. `left`: where the page's tables
    start (the text's edge, when the lines outside them are all set off)."""
    from nianbao.extract.pdf import ocr

    rows = lines(spans)
    if not rows:
        return []
    edge = min([min(s[0] for s in line) for line in rows] + ([left] if left is not None else []))
    height = [float(np.median([s[3] - s[1] for s in line])) for line in rows]
    whole = {i for i, line in enumerate(rows) if min(s[0] for s in line) - edge > LINES.indent * height[i]}
    probes = []  # (line, its start's crop)
    for i, line in enumerate(rows):
        if i in whole:
            continue
        probes.append((i, probe(gray, min(line), height[i])))
    starts = {i: reading for (i, _), reading in zip(probes, ocr.recognise([c for _, c in probes]))}
    numbered = {
        i for i, (text, _) in starts.items() if _numbered(text) or _unnumbered(text, lambda: _characters(gray, rows[i]))
    }
    top = min(numbered, default=len(rows)) if first else 0
    whole |= set(range(min(top, LINES.title)))
    placed = {i: h for i in numbered - whole if (h := placed_heading(starts[i][0], _characters(gray, rows[i])))}
    out = _whole(gray, rows, sorted(whole | numbered - set(placed)), whole)
    out += [(_box(rows[i]), (h, starts[i][1])) for i, h in placed.items()]
    if top > LINES.title and not any(_YEAR.search(squash(t)) for _, (t, _) in out):
        # the title printed no year: the rest of the title block, where the reporting period is
        rest = [i for i in range(LINES.title, min(top, LINES.title_block)) if i not in whole | numbered]
        out += _whole(gray, rows, rest, set(rest))
    return out


def _whole(gray: np.ndarray, lines: list, wanted: list[int], kept: set[int]) -> list:
    """Lines `wanted` read whole, their boxes with their readings; of those not `kept`, only the
    ones that read as a section's heading."""
    from nianbao.extract.pdf import ocr

    spans = [s for i in wanted for s in lines[i]]
    readings = ocr.recognise([ocr._crop(gray, s) for s in spans])
    out, k = [], 0
    for i in wanted:
        mine = list(zip(lines[i], readings[k : k + len(lines[i])]))
        k += len(lines[i])
        if i in kept or _heading("".join(t for _, (t, _) in sorted(mine))):
            out += mine
    return out


def probe(gray: np.ndarray, span: tuple[int, int, int, int], height: float) -> np.ndarray:
    """The start of the line whose (first) box is `span`, LINES.probe of its `height` wide, cut as
    the recogniser is given a line: what tells a section's heading (三、收)."""
    from nianbao.extract.pdf import ocr

    x0, y0, x1, y1 = span
    return ocr._crop(gray, (x0, y0, min(x1, x0 + int(LINES.probe * height)), y1))


def placed_heading(start: str, characters: float) -> str | None:
    """The section heading, as the template prints it (三、收到和处理政府信息公开申请情况), of a line
    whose start reads `start` (its probe: 三、收) and whose ink is about `characters` characters
    wide: the one whose number the start prints, followed (after 、 or its misreadings, or nothing)
    by the heading's first character, and whose length is as the line's (prefixes.PREFIXES.length); else None."""
    m = _numbering().match(start.strip())
    if not m:
        return None
    numeral = re.match(r"[一二三四五六七八九十]+|\d+", m.group(0)).group(0)
    after = (m.group(0)[-1] if m.group(0)[-1] in _heading_starts() else start.strip()[m.end() :])[:1]
    lo, hi = prefixes.PREFIXES.length  # a line's characters told from its ink, as a table cell's are
    hits = [
        f"{n}、{head}"
        for n, head in template().sections.values()
        if numeral_value(n) == numeral_value(numeral)
        and after == head[0]
        and lo <= len(f"{n}、{head}") / max(characters, 1e-9) <= hi
    ]
    return hits[0] if len(hits) == 1 else None


def _characters(gray: np.ndarray, line: list) -> float:
    """About how many characters the line prints: its ink's width over its height."""
    x0, y0, x1, y1 = _box(line)
    crop = gray[y0:y1, x0:x1]
    if crop.size == 0:
        return 0.0
    ink = scanprep.ink(crop)
    rows, cols = np.flatnonzero(ink.sum(axis=1) >= 2), np.flatnonzero(ink.any(axis=0))
    return (cols[-1] - cols[0] + 1) / (rows[-1] - rows[0] + 1) if len(rows) and len(cols) else 0.0


def _box(line: list) -> tuple[int, int, int, int]:
    return min(s[0] for s in line), min(s[1] for s in line), max(s[2] for s in line), max(s[3] for s in line)


def lines(items: list, box=lambda item: item) -> list[list]:
    """Boxes (x0, y0, x1, y1), or items whose `box` is one, as lines, top to bottom, each left to
    right: boxes overlapping in height by half the lower's are of one line."""
    out: list[list] = []
    for item in sorted(items, key=lambda i: box(i)[1]):
        _, y0, _, y1 = box(item)
        for line in out:
            _, ly0, _, ly1 = box(line[0])
            if min(y1, ly1) - max(y0, ly0) > 0.5 * min(y1 - y0, ly1 - ly0):
                line.append(item)
                break
        else:
            out.append([item])
    return [sorted(line, key=lambda i: box(i)[0]) for line in out]


@functools.cache
def _heading_starts() -> str:
    return "".join(sorted({head[0] for _, head in template().sections.values()}))


@functools.cache
def _numbering() -> re.Pattern:
    """A line's start that numbers a section: 三、 (or 3、, 、 misread as 丶 or a comma, or lost
    before the heading's first character)."""
    starts = _heading_starts()
    return re.compile(rf"^(?:[一二三四五六七八九十]{{1,2}}|\d{{1,2}})\s*(?:[、丶，,.．:：]|[{starts}])")


def _numbered(text: str) -> bool:
    return bool(_numbering().match(text.strip()))


def _unnumbered(text: str, characters) -> bool:
    """Whether a probe that read one character alone is a heading's start whose numbering the
    recogniser lost (一、 is a stroke and a dot: 一、总 read 总): the first character of a
    section's heading, on a line as long as that heading (`characters()`: its characters). Read
    whole then, and kept only as a heading, as a numbered line is."""
    text = text.strip()
    if len(text) != 1 or text not in _heading_starts():
        return False
    lo, hi = prefixes.PREFIXES.length
    n = max(characters(), 1e-9)
    return any(head[0] == text and lo <= len(f"{num}、{head}") / n <= hi for num, head in template().sections.values())


def _heading(text: str) -> bool:
    """Whether a line read whole reads as a section's heading (its numbering aside)."""
    rest = split_numbering(text)[1]
    heads = [squash(head) for _, head in template().sections.values()]
    return any(
        (h in rest and len(rest) <= len(h) + LINES.beyond)
        or difflib.SequenceMatcher(None, rest, h).ratio() >= LINES.heading
        for h in heads
    )
