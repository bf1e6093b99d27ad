"""Born-digital PDFs (WPS, Word, LibreOffice prints) to blocks, with pdfplumber.

Ruled tables are found from their drawn lines, and only on pages whose text names a template
table or that open by going on with the table the page before ended with (section 四's values
alone, say): other pages (and the text around tables) give one Paragraph per text line.
Quirks handled:
- WPS paints a white, unstroked rectangle behind every text line and table cell. Their edges
  would make each narrative line a one-column "table", so invisible rectangles are dropped.
- A table running over a page break has no bottom rule on the first page and no top rule on the
  next, so its first/last row would merge with the one beside it or vanish. Each run of vertical
  rules that starts (or ends) at the same height gets the missing rule drawn in.
- A row split by the page break continues on the next page as a row of label text with empty
  value cells; it is joined back into the row it continues.
- Some reports print their tables with no rules at all, or only a three-line table's. On such
  pages (and where template words are left outside the ruled tables) tables are read from where
  the text stands (_unruled): value columns from the numbers, however aligned; a run whose columns
  cannot be made out stays paragraphs (the matcher then blames itself, not the report).
  LibreOffice prints a DOCX's borderless tables at the body's type size, rows as far apart as
  paragraphs, numbers too wide for their column wrapped (13962 as 1396 over 2), a label's or a
  number's tail even atop the next page: lines between table lines are rows printed blank unless
  they head a section (or, a template row's label alone, end the table), and tails atop a page
  (a number's, its row's and group's labels'; every number's of a row; a line of them that reads
  like a page number, — ５) join the row they end. A number joined from its pieces is a guess
  (Joined) that nianbao.interpret.trust holds against the template's sums; pieces left apart
  make the row they may end unread (nianbao.interpret.match), never dropped unsaid.
- Some text layers lie: a broken ToUnicode map sends every glyph to a handful of characters or to
  private-use code points while the page renders fine. Told page by page: the text is then taken
  from the /ActualText the producer may have kept, else the rendered page is read by OCR.
- Some born-digital reports print their tables as pictures (scanned pages among text pages), or
  draw their glyphs as outlines (filled paths, no text): those pages, and only those, are read by
  OCR. The document's cells then all go through nianbao.interpret.trust, the text layer's with full confidence.
- Landscape table pages printed on portrait paper draw their text and rules turned by 90° (or carry
  a /Rotate their content was not turned for): each direction of text is read in a view of the page
  turned to make it upright (_views).
"""

from __future__ import annotations

import io
import math
import re
import statistics
from collections import Counter
from dataclasses import dataclass, field

import pdfplumber
from pdfminer.pdfdocument import PDFEncryptionError

from nianbao.extract.pdf import contentstream, plumbing
from nianbao.extract.pdf.rows import PAGE_NUMBER as _PAGE_NUMBER
from nianbao.extract.pdf.rows import VALUE as _VALUE
from nianbao.extract.pdf.rows import continues as _continues
from nianbao.model.chinese import UNITS
from nianbao.model.document import Block, Joined, Paragraph, Reading, Table, column_numbers
from nianbao.model.errors import Unreadable
from nianbao.model.template import find, template

# A page without any of template().table_words is not searched for tables.
_CJK_OR_WIDE = re.compile(r"[^\x00-\x7f]")
# numbers (thousands apart: 1 234; with their unit: 13件, 2 件) and placeholders, as cells print them
_CELL_VALUE = re.compile(rf"[\d０-９,，.．+\-—－/／]+(?: [\d０-９]{{3}})*(?: ?(?:{UNITS}))?|无")
_TAIL = re.compile(r"[\d,，]+")  # a number's wrapped tail; a page number is often set in dashes (- 3 -)
_DASH = re.compile(r"[—－-]")  # a placeholder's wrapped tail (—— printed — | —)


@dataclass(frozen=True)
class Tolerances:
    """How far apart things may stand and still count as one: points, or type sizes (`size`) where
    the distance grows with the text."""

    rule: float = 3  # points: rules this close are one line
    line: float = 2  # points: words whose tops are this close stand on one line
    size: float = 0.5  # points: type sizes this close are one size
    start: float = 2  # points: labels starting this close stand in one column
    edge: float = 3  # points: a column reaches this far past the edge its numbers line up on
    slack: float = 1  # points: text this far past a column's or a table's edge is still in it
    row_size: float = 0.4  # sizes: numbers whose tops are this close stand in one row
    wrap_size: float = 1.5  # sizes: a line this close under another goes on with it (a wrapped cell)
    near_size: float = 2.2  # sizes: lines this close, one right after the other, are set as one table
    gap_size: float = 2.5  # sizes: lines across an unruled table's row gap (LibreOffice's), at most
    word_size: float = 0.4  # sizes: characters this close on a line are one word (pdfplumber's x_tolerance_ratio)


TOL = Tolerances()


@dataclass(frozen=True)
class Thresholds:
    """How many of a thing a page shows for it to be read one way or another."""

    view_chars: int = 10  # characters of one direction (turned by 90° or 180°) read in a view of their own
    outline_paths: int = 100  # filled paths on a page without text: its glyphs are drawn as outlines
    text_chars: int = 10  # characters (bar spaces) fewer than this on a page or a picture: no text layer


THRESHOLDS = Thresholds()


class _Scanned(Unreadable):
    """No text layer: pictures of pages, or glyphs drawn as outlines."""

    def __init__(self, outlines: bool):
        super().__init__("glyphs drawn as outlines (no text layer)" if outlines else "no text layer: scanned PDF?")
        self.outlines = outlines


def parse(data: bytes) -> list[Block]:
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            plumbing.use(pdf)  # its objects' dicts made with less work
            contentstream.lay_out(pdf)  # content streams read in bulk, not by pdfminer's tokeniser
            return _parse(pdf, data)
    except _Scanned as e:
        scanned = e
    except Unreadable:
        raise
    except Exception as e:  # pdfminer raises many kinds (PSEOF, PDFSyntaxError, ...), often wrapped
        raise Unreadable(_reason(e)) from e
    from nianbao.extract.pdf import ocr  # OpenCV and ONNX Runtime load only for scans

    try:
        return ocr.parse(data)  # outlines are rendered and read as a scan is
    except Unreadable as e:
        if scanned.outlines:
            raise Unreadable(f"{scanned}, read as a scan: {e}") from e
        raise


def _reason(e: BaseException) -> str:
    seen: BaseException | None = e
    while seen is not None:  # pdfplumber wraps pdfminer's exception as PdfminerException(e)
        if isinstance(seen, PDFEncryptionError):
            return "encrypted PDF: it needs a password or an unsupported cipher"
        inner = seen.args[0] if seen.args and isinstance(seen.args[0], BaseException) else None
        seen = inner or seen.__cause__
    return f"corrupt PDF: {type(e).__name__}: {e}"[:300]


def _parse(pdf, data: bytes) -> list[Block]:
    told = [[c["text"] for c in page.chars if not c["text"].isspace()] for page in pdf.pages]
    chars = [c for page in told for c in page]
    if not chars:
        raise _Scanned(any(_outlined(page, []) for page in pdf.pages))
    if sum(c.startswith("(cid:") for c in chars) > len(chars) / 2:
        raise Unreadable("text layer is mostly (cid:NNN) glyph ids: the fonts carry no Unicode map")
    pages = list(pdf.pages)
    # a page lies by itself, or (too little text to tell) with the document
    lying = {i for i, t in enumerate(told) if _lies(t) or (t and len(t) < 100 and _lies(chars))}
    if lying:  # the real text may be kept in /ActualText
        for i, page in enumerate(_retold(pdf)):
            if i in lying and not _lies([c["text"] for c in page.chars if not c["text"].isspace()]):
                pages[i] = page
                lying.discard(i)
    # pages only the rendered picture tells: a lying text layer, a picture of a table printed among
    # text pages, or glyphs drawn as outlines; read by OCR, each run of them as one scan
    pictures = sorted(lying | {i for i, page in enumerate(pages) if _pictured(page) or _outlined(page, told[i])})
    read = _read_pictures(data, pictures) if pictures else {}
    if len(pictures) == len(pages) and not read:
        raise Unreadable(
            f"the text layer lies: its {len(chars)} characters decode to {len(set(chars))} "
            f"distinct or private-use ones (a broken ToUnicode map), and OCR of the rendered "
            f"pages found no ruled table"
            if lying
            else "scanned PDF: OCR found no table on any page"
        )
    blocks: list[Block] = []
    chain = TableChain()
    views = [(n, view) for n, page in enumerate(pages, 1) for view in ([page] if n - 1 in pictures else _views(page))]
    for n, page in views:
        if n - 1 in pictures:
            blocks += read.get(n - 1, [])
            chain.close()
            continue
        text = page.extract_text() or ""
        squashed = re.sub(r"\s+", "", text)
        # a page that goes on with the table the page before ended with may name no table at all
        searched = chain.open or any(w in squashed for w in template().table_words)
        tables = _tables(page) if searched else []
        items: list = [(t.bbox[1], ([[_cell(c) for c in row] for row in plumbing.extract(t)], None)) for t in tables]
        boxes = [t.bbox for t in tables]
        # with no ruled table the rest is the page, whose text map extract_text made (pdfplumber keeps it)
        rest = page.filter(lambda o: o.get("object_type") != "char" or not _inside(o, boxes)) if boxes else page
        lines = [ln for ln in rest.extract_text_lines() if ln["text"].strip()]
        outside = re.sub(r"\s+", "", "".join(ln["text"] for ln in lines))
        if searched and (not tables or any(w in outside for w in template().table_words)):
            # no rules drawn (or template rows outside them): tables from text positions
            for top, bottom, rows, columns in _unruled(rest, chain.open, chain.grid):
                items.append((top, (rows, columns)))
                lines = [
                    ln for ln in lines if not top - TOL.slack <= (ln["top"] + ln["bottom"]) / 2 <= bottom + TOL.slack
                ]
        if n == 1:
            lines = _join_title(lines)
        items += [(ln["top"], ln) for ln in lines]
        items.sort(key=lambda item: item[0])
        chain.turn_page()
        for _, item in items:
            if isinstance(item, dict):
                if not _PAGE_NUMBER.match(item["text"]):  # page furniture, not the report's text
                    blocks.append(Paragraph(item["text"].strip(), f"page {n}"))
                    chain.close()
                continue
            table = chain.add(item[0], item[1], f"page {n}")
            if table is not None:
                blocks.append(table)
    if read:  # trust judges every cell of a document read in part by OCR: the text layer's are certain
        for b in blocks:
            if isinstance(b, Table) and b.confidence is None:
                b.rows = [[Reading(c, 1.0) for c in row] for row in b.rows]
    return blocks


def _views(page) -> list:
    """The page as its reader turns it to read. A landscape page printed on portrait paper draws its
    text and rules turned by 90° (so does a /Rotate page whose content was not turned for it, or a
    table drawn turned on a portrait page): the characters of each direction (up, down, upside
    down) that holds a good part of the page's text are read in a view of the page turned to make
    them upright, with the page's rules; a few characters of another direction (a page number) go
    with the most."""
    if all(c["upright"] for c in page.chars):
        return [page]
    turns = Counter(_turn(c["matrix"]) for c in page.chars if not c["text"].isspace())
    most = turns.most_common(1)[0][0]
    kept = [t for t, n in sorted(turns.items()) if n >= THRESHOLDS.view_chars or t == most]
    if kept == [0]:
        return [page]
    mine = lambda c, t: (d := _turn(c["matrix"])) == t or (d not in kept and t == most)  # noqa: E731
    out = []
    for t in kept:
        view = page.filter(lambda o, t=t: o["object_type"] != "char" or mine(o, t)) if len(kept) > 1 else page
        out.append(_turned(view, t) if t else view)
    return out


def _turned(page, turn: int):
    """The page as seen turned `turn` quarters clockwise (text turned so many counter-clockwise
    then reads upright): a page of its own, (0, 0) at its top left, every object placed anew."""
    x0, top, x1, bottom = page.bbox
    w, h = x1 - x0, bottom - top
    width, height = (h, w) if turn % 2 else (w, h)
    point = [
        None,
        lambda x, t: (h - t + top, x - x0),
        lambda x, t: (w - x + x0, h - t + top),
        lambda x, t: (t - top, w - x + x0),
    ][turn]

    def placed(o: dict) -> dict:
        o = dict(o)
        (a, b), (c, d) = point(o["x0"], o["top"]), point(o["x1"], o["bottom"])
        o.update(x0=min(a, c), x1=max(a, c), top=min(b, d), bottom=max(b, d), doctop=o["doctop"] - o["top"] + min(b, d))
        o.update(width=o["x1"] - o["x0"], height=o["bottom"] - o["top"], y0=height - o["bottom"], y1=height - o["top"])
        if o["object_type"] == "char":
            o.update(upright=_turn(o["matrix"]) == turn, size=o["height"])
        if "pts" in o:
            o["pts"] = [point(*p) for p in o["pts"]]
            o["path"] = [(cmd, *(point(*p) for p in pts)) for cmd, *pts in o["path"]]
        return o

    view = page.filter(lambda o: True)
    view._objects = {kind: [placed(o) for o in objects] for kind, objects in page.objects.items()}
    view.bbox = (0, 0, width, height)
    return view


def _turn(matrix) -> int:
    """How many quarter turns counter-clockwise a character's text direction is turned."""
    return round(math.degrees(math.atan2(matrix[1], matrix[0])) / 90) % 4


def _pictured(page) -> bool:
    """A page showing its text as a picture: an image over a quarter of the page with (almost) no
    text layer on it (a searchable scan's invisible text is read as text)."""
    area = page.width * page.height
    for im in page.images:
        if (im["x1"] - im["x0"]) * (im["bottom"] - im["top"]) > area / 4 and sum(
            im["x0"] <= c["x0"] and c["x1"] <= im["x1"] and im["top"] <= c["top"] and c["bottom"] <= im["bottom"]
            for c in page.chars
            if not c["text"].isspace()
        ) < THRESHOLDS.text_chars:
            return True
    return False


def _outlined(page, told: list[str]) -> bool:
    """A page whose glyphs are drawn as outlines (filled paths, as Ghostscript's -dNoOutputFonts or
    a designer's "convert text to outlines" leave them): no text (`told`: its characters), and more
    filled shapes than a page's rules and charts draw."""
    return len(told) < THRESHOLDS.text_chars and sum(bool(o.get("fill")) for o in page.curves + page.rects) >= (
        THRESHOLDS.outline_paths
    )


def _read_pictures(data: bytes, indexes: list[int]) -> dict[int, list[Block]]:
    """The blocks OCR reads from the pages at `indexes` (0-based), by page: each run of
    consecutive pages read as one scan, so a table going on over them is joined back."""
    import pypdfium2 as pdfium

    from nianbao.extract.pdf import ocr  # OpenCV and ONNX Runtime load only for pictures

    runs: list[list[int]] = []
    for i in indexes:
        if runs and i == runs[-1][-1] + 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    out: dict[int, list[Block]] = {}
    source = pdfium.PdfDocument(data)
    try:
        for run in runs:
            part = pdfium.PdfDocument.new()
            part.import_pages(source, run)
            buffer = io.BytesIO()
            part.save(buffer)
            part.close()
            try:
                blocks = ocr.parse(buffer.getvalue(), every_line=True)  # among text pages: all of it
            except Unreadable:  # no ruled table in the picture: nothing of the template to read
                continue
            at = lambda where: run[int(where.split()[-1]) - 1]  # pages counted in the document, not the run
            for b in blocks:
                first = at(b.where[0] if isinstance(b, Table) else b.where)
                b.where = [f"page {at(w) + 1}" for w in b.where] if isinstance(b, Table) else f"page {first + 1}"
                out.setdefault(first, []).append(b)
    finally:
        source.close()
    return out


@dataclass
class TableChain:
    """The table the pages so far ended with, part by part (one a page), for the next page to go
    on with."""

    parts: list[Table] = field(default_factory=list)
    last: Table | None = None  # the last table, while nothing but page furniture follows it
    grid: tuple | None = None  # the columns of `last` when it was read from text positions (no rules)
    carried: Table | None = None  # on this page, before its first table: the table it may go on from

    @property
    def open(self) -> bool:
        return self.last is not None

    def turn_page(self) -> None:
        self.carried, self.last = self.last, None

    def close(self) -> None:  # text comes between: the next table is a table of its own
        self.carried = self.last = None

    def add(self, rows: list[list[str]], columns, where: str) -> Table | None:
        """A table read on the page, its first row joined to the table it goes on from where it
        ends that table's last row: the new part, if any rows are left."""
        rows = [r for r in rows if any(c.strip() for c in r)]
        carried = self.carried
        if carried is None:
            self.parts = []
        elif columns and self.grid and self.grid[1] and columns[0] != self.grid[0]:
            for t in self.parts:  # this part shows label columns the parts before had none in
                t.rows = [_regrid(r, self.grid[0], columns[0]) for r in t.rows]
        if (
            carried is not None
            and rows
            and (_continues(carried.rows[-1], rows[0]) or _tails(carried.rows[-1], rows[0]))
        ):
            carried.rows[-1] = [_join_tail(a, b) for a, b in zip(carried.rows[-1], rows.pop(0))]
        self.carried, self.grid = None, columns
        if not rows:
            return None
        self.last = Table(rows, [where] * len(rows))
        self.parts.append(self.last)
        return self.last


def _lies(chars: list[str]) -> bool:
    """A text layer that decodes to garbage: mostly private-use code points, or a handful of
    characters standing for every glyph (a report's text uses hundreds)."""
    private = sum(len(c) == 1 and 0xE000 <= ord(c) <= 0xF8FF for c in chars)
    return private > len(chars) / 4 or (len(chars) >= 100 and len(set(chars)) < 20)


def _retold(pdf) -> list:
    """The pages with each glyph's text taken from the /ActualText of the marked-content span it
    is drawn in (pdfminer reads the span but not its text): a span's text is spread over its
    glyphs one character each, or given whole to its first glyph when the counts differ."""
    from pdfminer.converter import PDFPageAggregator
    from pdfminer.utils import decode_text

    class Spans(PDFPageAggregator):  # the ActualText span of every glyph, in drawing order
        def __init__(self, rsrcmgr):
            super().__init__(rsrcmgr)
            self.stack: list = []
            self.glyphs: list = []
            self.spans = 0

        def begin_tag(self, tag, props=None):
            text = props.get("ActualText") if isinstance(props, dict) else None
            if isinstance(text, bytes):
                text = decode_text(text)
            self.spans += 1  # (a span is told from the next by its number)
            self.stack.append((self.spans, text) if isinstance(text, str) else (self.stack[-1] if self.stack else None))

        def end_tag(self):
            if self.stack:
                self.stack.pop()

        def render_char(self, *args, **kwargs):
            self.glyphs.append(self.stack[-1] if self.stack and self.stack[-1] else None)
            return super().render_char(*args, **kwargs)

    out = []
    for page in pdf.pages:
        device = Spans(pdf.rsrcmgr)
        contentstream.Interpreter(pdf.rsrcmgr, device).process_page(page.page_obj)
        if len(device.glyphs) != len(page.chars):
            return list(pdf.pages)  # not the same glyphs: nothing is retold
        chars, i = [], 0
        while i < len(page.chars):
            span = device.glyphs[i]
            j = i + 1
            while span is not None and j < len(page.chars) and device.glyphs[j] is span:
                j += 1
            run = page.chars[i:j]
            if span is None:
                chars += run
            elif len(span[1]) == len(run):
                chars += [dict(c, text=t) for c, t in zip(run, span[1])]
            elif span[1]:
                chars.append(dict(run[0], text=span[1], x1=run[-1]["x1"], width=run[-1]["x1"] - run[0]["x0"]))
            i = j
        retold = page.filter(lambda o: o.get("object_type") != "char")
        retold._objects = {**retold.objects, "char": chars}
        out.append(retold)
    return out


def _tables(page):
    """The page's ruled tables, from visible rules plus the rules a page break left out."""

    def visible(o):
        # WPS's white backgrounds: filled, not stroked, white (gray 1, RGB 1 1 1 or CMYK 0 0 0 0).
        if o.get("object_type") == "rect" and o.get("fill") and not o.get("stroke"):
            colour = o.get("non_stroking_color")
            colour = tuple(colour) if isinstance(colour, (tuple, list)) else (colour,)
            if all(isinstance(v, (int, float)) for v in colour):
                return colour not in ((1,), (1, 1, 1), (0, 0, 0, 0))
        return True

    clean = page.filter(visible)
    closing = []
    for end in ("top", "bottom"):
        groups: dict[int, list[dict]] = {}
        for e in clean.edges:
            if e["orientation"] == "v":
                groups.setdefault(round(e[end] / TOL.rule), []).append(e)
        for edges in groups.values():
            x0, x1 = min(e["x0"] for e in edges), max(e["x0"] for e in edges)
            if len(edges) > 1 and x1 - x0 > TOL.rule:
                y = edges[0][end]
                closing.append(
                    {"object_type": "line", "x0": x0, "x1": x1, "top": y, "bottom": y, "width": x1 - x0, "height": 0}
                )
    return plumbing.find_tables(clean, {"explicit_horizontal_lines": closing})


def _unruled(page, goes_on: bool, carried=None) -> list[tuple[float, float, list[list[str]], tuple]]:
    """Tables printed without rules, from where their text stands: (top, bottom, rows, columns)
    per table. A line of several pieces of text set apart is a table line; lines of the same type
    size right above or below one belong to it too (heading rows, wrapped labels, blank rows).
    Only runs naming a template table (or, `goes_on`, opening the page after a table: then
    `carried` are that table's columns when it was read this way) count. A run whose columns are ambiguous is left as text."""
    words = page.extract_words(
        x_tolerance_ratio=TOL.word_size, y_tolerance=TOL.line, keep_blank_chars=True, extra_attrs=["size"]
    )
    lines: list[list[dict]] = []
    for w in sorted((w for w in words if w["text"].strip()), key=lambda w: (w["top"], w["x0"])):
        if lines and w["top"] - lines[-1][0]["top"] <= TOL.line:
            lines[-1].append(w)
        else:
            lines.append([w])

    # page numbers stand apart; a lone number right under a line is a number's wrapped tail, and so
    # is one atop a page going on with a table, in one of its value columns, a row's gap above it
    def tail(i, ln):
        if i:
            return ln[0]["top"] - lines[i - 1][0]["top"] <= TOL.wrap_size * ln[0]["size"]
        # (alone on its page, where a section break follows the table: in the page's upper half); so
        # is a text layer's placeholder's tail alone (— of ——); with a placeholder's tail beside it
        # (— 5, of —— and 35), a text layer's line of them, each in a column (OCR's pieces of a page
        # number may stand so)
        return (
            goes_on
            and bool(carried)
            and (
                _TAIL.fullmatch(t := ln[0]["text"]) is not None
                or (_DASH.fullmatch(t) is not None and not isinstance(t, Reading))
                if len(ln) == 1
                else all(_CELL_VALUE.fullmatch(w["text"].strip()) and not isinstance(w["text"], Reading) for w in ln)
            )
            and (
                lines[1][0]["top"] - ln[0]["top"] <= TOL.gap_size * ln[0]["size"]
                if len(lines) > 1
                else ln[0]["bottom"] < page.height / 2
            )
            and all(any(x0 <= (w["x0"] + w["x1"]) / 2 <= x1 for x0, x1 in carried[1]) for w in ln)
        )

    atop = lines[0] if lines and len(lines[0]) == 1 and tail(0, lines[0]) else None  # a lone tail atop the page
    lines = [ln for i, ln in enumerate(lines) if not _PAGE_NUMBER.match(" ".join(w["text"] for w in ln)) or tail(i, ln)]
    size = [max(w["size"] for w in ln) for ln in lines]
    heads = [head for _, head in template().sections.values()]
    heading = lambda ln: any(h in re.sub(r"\s+", "", "".join(w["text"] for w in ln)) for h in heads)  # noqa: E731
    # a section's heading is in no table, however close the lines around it (a scan's stray mark beside it)
    headed = [heading(ln) for ln in lines]
    inside = [not headed[i] and (len(ln) > 1 or ln is atop) for i, ln in enumerate(lines)]

    def near(i, j):  # lines i and j, one right after the other, set like one table
        return (
            not headed[i]
            and abs(size[i] - size[j]) < TOL.size
            and abs(lines[i][0]["top"] - lines[j][0]["top"]) <= TOL.near_size * size[j]
        )

    for i in range(1, len(lines)):
        inside[i] = inside[i] or (inside[i - 1] and near(i, i - 1))
    for i in range(len(lines) - 2, -1, -1):
        inside[i] = inside[i] or (inside[i + 1] and near(i, i + 1))
    # lines set a row's gap apart between table lines are its rows printed blank, unless they head a section
    gap = (
        lambda i: abs(size[i] - size[i + 1]) < TOL.size
        and lines[i + 1][0]["top"] - lines[i][0]["top"] <= TOL.gap_size * size[i]
    )
    i = 0
    while i < len(lines):
        j = i
        while j < len(lines) and not inside[j]:
            j += 1
        if 0 < i < j < len(lines) and all(gap(k) for k in range(i - 1, j)) and not any(map(heading, lines[i:j])):
            inside[i:j] = [True] * (j - i)
        else:  # a table's last rows printed blank (section 二's fees, a heading next): template rows' labels
            k = i
            while 0 < k < j and inside[k - 1] and gap(k - 1) and not headed[k] and _row_label(lines[k]):
                inside[k] = True
                k += 1
        i = j + 1
    first = next((i for i, v in enumerate(inside) if v), 0)
    # (a page opening with a section's heading, a landscape section's first page, goes on with nothing)
    if (
        goes_on
        and not any(map(heading, lines[:first]))
        and all(
            abs(size[i] - size[first]) < TOL.size
            and lines[i + 1][0]["top"] - lines[i][0]["top"] <= TOL.gap_size * size[first]
            for i in range(first)
        )
    ):
        inside[:first] = [True] * first  # the tail of a label the page break cut, a row's gap above the next row
    out = []
    i = 0
    while i < len(lines):
        if not inside[i]:
            i += 1
            continue
        j = i
        while j < len(lines) and inside[j]:
            j += 1
        run = [w for ln in lines[i:j] for w in ln]
        text = re.sub(r"\s+", "", "".join(w["text"] for w in run))
        if (goes_on and i == 0) or any(w in text for w in template().table_words):
            table = _text_table(run, carried if goes_on and i == 0 else None)
            if table is not None:
                rows, columns = table
                out.append((min(w["top"] for w in run), max(w["bottom"] for w in run), rows, columns))
        i = j
    return out


def _text_table(words: list[dict], carried=None):
    """Rows of cells from the words of a table printed without rules, or None when its columns
    cannot be made out. A cell is a piece of text with the lines right below it in the same column
    (a wrapped label, a header printed a character a line). Value columns are found from the
    numbers: those whose x-ranges overlap stand in one column, and how they line up in it (left,
    right or centre: the edge that varies least) and the columns' pitch give each column its
    extent, so that a header starting at a column's edge finds the column its numbers are centred
    or right-aligned in; a header in no column's extent marks a blank column. Label columns are
    where labels start, left of the values. Rows are the lines the numbers stand on: a wrapped or
    merged label (centred vertically, say) joins the first value line its lines span; text on no
    value line makes rows of its own (headers, rows printed blank). `carried`: (label starts,
    column extents, header spans) of the part on the page before, whose columns this part keeps."""
    cells: list[dict] = []
    for w in sorted(words, key=lambda w: (w["top"], w["x0"])):
        value = bool(_CELL_VALUE.fullmatch(w["text"].strip()))
        above = [
            c
            for c in cells
            if not c["value"]
            and not value
            and 0 < w["top"] - c["last"] <= TOL.wrap_size * w["size"]
            and min(c["x1"], w["x1"]) - max(c["x0"], w["x0"]) > 0
        ]
        if above:  # a further line of the cell above
            c = max(above, key=lambda c: c["last"])
            c.update(
                text=_join(c["text"], w["text"].strip()),
                last=w["top"],
                x0=min(c["x0"], w["x0"]),
                x1=max(c["x1"], w["x1"]),
            )
        else:
            cells.append(
                {
                    "text": w["text"].strip(),
                    "top": w["top"],
                    "last": w["top"],
                    "x0": w["x0"],
                    "x1": w["x1"],
                    "value": value,
                    "size": w["size"],
                }
            )
    cells = _join_wrapped_numbers(cells)
    labels, columns, heads = carried or ([], [], [])
    values = [c for c in cells if c["value"]]
    texts = [c for c in cells if not c["value"]]
    numbered = bool(values or columns)
    if not columns and values:
        columns = _value_columns(values)
        left = columns[0][0]
        # a header in no column marks a blank column; left of the numbers only a header carried from
        # the page before can (a section 四 whose first column is blank), where this part prints no label
        for h0, h1 in sorted([(c["x0"], c["x1"]) for c in texts if c["x0"] >= left] + list(heads)):
            if h0 + TOL.slack < left and any(c["x0"] < h1 and h0 < c["x1"] for c in texts if c["x0"] < left):
                continue
            if not any(x0 <= h0 + TOL.slack <= x1 for x0, x1 in columns):
                columns = sorted(columns + [(h0 - TOL.slack, h1)])
    elif not columns:  # no number on the page (a table broken right after its headers): headers place them
        for c in sorted(texts, key=lambda c: c["x0"]):
            if not any(x0 < c["x1"] and c["x0"] < x1 for x0, x1 in columns):
                columns.append((c["x0"] - TOL.slack, c["x1"]))
    if not columns:
        return None
    left = columns[0][0] if numbered else float("-inf")
    starts = sorted([c["x0"] for c in cells if c["x0"] < left] + list(labels))
    labels = []
    for x in starts:  # labels starting within a couple of points stand in one column
        if not labels or x > labels[-1] + TOL.start:
            labels.append(x)

    def column(c) -> int:
        if c["x0"] < left:
            return (
                max(i for i, x in enumerate(labels) if x <= c["x0"] + TOL.start)
                if labels[0] <= c["x0"] + TOL.start
                else 0
            )
        at = (
            (c["x0"] + c["x1"]) / 2 if c["value"] else c["x0"] + TOL.slack
        )  # numbers by their middle, text by its start
        distance = [max(x0 - at, at - x1, 0) for x0, x1 in columns]
        return len(labels) + distance.index(min(distance))

    lines: list[float] = []  # the tops of the value lines
    for c in sorted(values, key=lambda c: c["top"]):
        if not lines or c["top"] - lines[-1] > TOL.row_size * c["size"]:
            lines.append(c["top"])
    for c in texts:  # a label spanning a value line stands on it; others start rows of their own
        c["line"] = next(
            (t for t in lines if c["top"] - TOL.row_size * c["size"] <= t <= c["last"] + TOL.row_size * c["size"]), None
        )
    rows: dict[float, list[str]] = {}
    row_top = None
    for c in sorted(cells, key=lambda c: c["top"]):
        if c["value"] or c["line"] is not None:
            key = c["line"] if not c["value"] else max(t for t in lines if t <= c["top"])
        else:
            if row_top is None or c["top"] - row_top > TOL.row_size * c["size"] or row_top in lines:
                row_top = c["top"]
            key = row_top
        row = rows.setdefault(key, [""] * (len(labels) + len(columns)))
        col = column(c)
        if row[col] and c["value"]:
            return None  # two numbers in one column: not a table to guess at
        row[col] = _join(row[col], c["text"])
    # a part without numbers passes on its headers only: spanning headers make no column grid
    grid = (labels, columns, []) if numbered else ([], [], [(c["x0"], c["x1"]) for c in texts])
    return [rows[k] for k in sorted(rows)], grid


def _join_wrapped_numbers(cells: list[dict]) -> list[dict]:
    """Numbers too wide for their narrow columns wrap (13962 as 1396 over 2). A line of numbers
    only, right below a line of numbers, each under one number of it, with no text starting on it
    (a row starts with its label) holds their tails."""
    lines: list[list[dict]] = []
    for c in sorted(cells, key=lambda c: c["top"]):
        if lines and c["top"] - lines[-1][0]["top"] <= TOL.row_size * c["size"]:
            lines[-1].append(c)
        else:
            lines.append([c])
    head_of: dict[int, dict] = {}  # a tail's number (a tail of a tail: the number it ends)
    for above, line in zip(lines, lines[1:]):
        if not all(c["value"] for c in line) or line[0]["top"] - above[0]["top"] > TOL.wrap_size * line[0]["size"]:
            continue
        heads = [[h for h in above if h["value"] and min(h["x1"], c["x1"]) > max(h["x0"], c["x0"])] for c in line]
        if all(len(h) == 1 for h in heads) and len({id(h[0]) for h in heads}) == len(line):
            for c, (h,) in zip(line, heads):
                h = head_of.get(id(h), h)
                h.update(text=_guessed(h["text"] + c["text"]), x0=min(h["x0"], c["x0"]), x1=max(h["x1"], c["x1"]))
                head_of[id(c)] = h
    return [c for c in cells if id(c) not in head_of]


def _value_columns(values: list[dict]) -> list[tuple[float, float]]:
    """The x-extents of the value columns: numbers whose x-ranges overlap stand in one column;
    the edge the numbers line up on (left, right or middle) and the columns' pitch (the median
    distance between neighbours) give each column its full width."""
    ranges: list[list] = []
    for c in sorted(values, key=lambda c: c["x0"]):
        if ranges and c["x0"] <= ranges[-1][1]:
            ranges[-1][1] = max(ranges[-1][1], c["x1"])
            ranges[-1][2].append(c)
        else:
            ranges.append([c["x0"], c["x1"], [c]])
    edges = {"left": lambda c: c["x0"], "right": lambda c: c["x1"], "middle": lambda c: (c["x0"] + c["x1"]) / 2}

    def fit(edge):  # how far the numbers are from lining up on `edge`, in a column and across columns
        anchors = [statistics.median(map(edge, r[2])) for r in ranges]
        steps = [b - a for a, b in zip(anchors, anchors[1:])]
        pitch = statistics.median(steps) if len(steps) >= 2 else None
        spread = sum(max(map(edge, r[2])) - min(map(edge, r[2])) for r in ranges)
        if pitch:  # a blank column between two makes a step of two pitches
            spread += sum(min(abs(s - m * pitch) for m in (1, 2, 3)) for s in steps)
        return spread, anchors, pitch

    fits = {k: fit(f) for k, f in edges.items()}
    # numbers all of one width tell no edge: the middle then errs least either way
    align = min(fits, key=lambda k: (round(fits[k][0], 1), ["middle", "left", "right"].index(k)))
    _, anchors, pitch = fits[align]
    out = []
    for (x0, x1, _), a in zip(ranges, anchors):
        if pitch is None or pitch < x1 - x0:
            out.append((x0 - TOL.slack, x1))
        elif align == "left":
            out.append((a - TOL.edge, a - TOL.edge + pitch))
        elif align == "right":
            out.append((a + TOL.edge - pitch, a + TOL.edge))
        else:
            out.append((a - pitch / 2, a + pitch / 2))
    return out


def _regrid(row: list[str], old: list[float], new: list[float]) -> list[str]:
    """A row read with label columns starting at `old`, widened to the columns starting at `new`."""
    out = [""] * len(new)
    for x, text in zip(old, row):
        out[min(range(len(new)), key=lambda i: abs(new[i] - x))] = text
    return out + row[len(old) :]


def _inside(char: dict, boxes) -> bool:
    x = (char["x0"] + char["x1"]) / 2
    y = (char["top"] + char["bottom"]) / 2
    return any(x0 <= x <= x1 and top <= y <= bottom for x0, top, x1, bottom in boxes)


def _join(a: str, b: str) -> str:
    """Two pieces of one text: no space between CJK characters, nor inside a number wrapped in a
    narrow cell (13962 printed 1396 / 2), one between Latin words."""
    if not a or not b:
        return a + b
    wide = _CJK_OR_WIDE.match(a[-1]) or _CJK_OR_WIDE.match(b[0])
    number = _VALUE.match(a[-1]) and _VALUE.match(b[0]) and not a[-1].isspace()
    return a + b if wide or number else f"{a} {b}"


def _join_tail(a: str, b: str) -> str:
    """A cell of a row the page break split and the next page's piece of it: a number and its tail
    joined is a guess (Joined) the template's sums must not refute."""
    number = a.strip() and b.strip() and _VALUE.match(a) and _VALUE.match(b)
    return _guessed(a + b) if number else _join(a, b)


def _guessed(text: str) -> str:
    """A number joined from its pieces: a guess (Joined) in a text layer's table; read by OCR, a
    Reading keeps its confidence (trust holds every OCR cell against the sums already)."""
    return text if isinstance(text, Reading) else Joined(text)


def _cell(text: str | None) -> str:
    """A cell's lines as one string (labels wrap; headers print a character a line)."""
    out = ""
    for line in (text or "").split("\n"):
        out = _join(out, line.strip())
    return out


def _tails(last: list[str], first: list[str]) -> bool:
    """`first` (top of a page) holds the tails of numbers `last` (bottom of the page before) wrapped
    in their narrow columns: numbers, each under a number; and with them perhaps the tails of its
    labels (a row's, its group's), each under a label that only joined to it is a template one.
    A whole row of numbers is tails too (every number of the row wrapped): a row of its own prints
    its label, and the one that prints none, section 四's values, follows its header or the row
    numbering its columns (1 2 3 …), under which numbers are no tails. A label under a blank
    starts a row of its own, whatever numbers follow it (a row printed with a blank cell)."""
    if len(last) != len(first):
        return False
    value = lambda c: _CELL_VALUE.fullmatch(c.strip()) is not None  # noqa: E731 (a placeholder too: —— as — | —)
    numbers = {i for i, c in enumerate(last) if c.strip() and value(c)}
    tails = {i for i, c in enumerate(first) if c.strip() and value(c)}
    texts = [i for i, c in enumerate(first) if c.strip() and not value(c)]
    if not tails or not tails <= numbers or column_numbers(last):
        return False
    if not texts and tails == numbers and any(isinstance(c, Reading) for c in first):
        return False  # (OCR's: a row whose label was not read looks so too; match places it by order)
    names = template().names_row
    return all(
        last[i].strip() and i not in numbers and names(_join(last[i], first[i])) and not names(last[i]) for i in texts
    )


def _row_label(line: list[dict]) -> bool:
    """A line of words that is a template row's label alone (a row printed blank)."""
    return bool(find(template().app_rows + template().ad_items, "".join(w["text"] for w in line)))


def _join_title(lines: list[dict]) -> list[dict]:
    """The title often prints over two lines (body, then year and 年度报告) in a larger size than
    the text: one paragraph, so the metadata reader sees the whole title."""
    sizes = [c["size"] for ln in lines for c in ln["chars"]]
    if not sizes:
        return lines
    body = statistics.median(sizes)
    big = 0
    while big < len(lines) and min(c["size"] for c in lines[big]["chars"]) > body * 1.2:
        big += 1
    if big < 2:
        return lines
    title = dict(lines[0], text="")
    for ln in lines[:big]:
        title["text"] = _join(title["text"], ln["text"].strip())
    return [title] + lines[big:]
