"""HTML pages (published reports, Word's "save as HTML"): tables and the text around them.

- Encoding: a BOM, else the bytes if they are valid UTF-8, else the declared charset (HTTP
  Content-Type, then <meta>; Latin-1 is a server default, not a declaration) if it decodes
  cleanly, else charset-normalizer's guess (its likeliest that reads as Chinese). GBK pages that
  declare UTF-8 are common; every GB charset is read as gb18030, their superset (pages labelled
  gb2312 print GBK-only characters).
- Chrome (script, style, nav, the page's header and footer, ...) is not read.
- Tables: rowspan/colspan expanded, a span's first position holds the text and the rest "".
  A table holding another table, or a single cell, is page layout (old CMS templates nest the
  report in them): its cells are read as text around tables, so the inner tables become Tables.
- Tables built of <div>s (CMS templates): a container whose role is table/grid, whose style is
  `display:table`, or whose class is `table`, with rows (role row, `display:table-row`, class
  tr/row) of cells (role cell/gridcell/columnheader/rowheader, `display:table-cell`, class
  td/th/cell); or a `display:grid` container of N columns (`grid-template-columns: repeat(N, …)`
  or N tracks) whose children are its cells, placed row by row. Spans: colspan/rowspan or
  data-colspan/data-rowspan attributes, or `grid-column`/`grid-row: span K` in their style.
- Pictures (<img>, lazy-loading CMS pages' data-src too): tables printed as pictures, read by OCR
  (nianbao.extract.pictures) where they stand. An inline `data:` URI is its own bytes; any other
  src is looked up in `linked` (what the reader brought from beside the page: nianbao.acquire.linked).
- Text outside tables: one Paragraph per block-level element; <br> also ends one.
- Cell text: block elements and <br> give line breaks; &nbsp; and other padding are spaces,
  collapsed and stripped. Word wraps long source lines anywhere, so a newline between two
  Chinese characters in the source is dropped rather than read as a space.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

import lxml.html
from lxml import etree

from nianbao.extract import pictures
from nianbao.extract.pictures import Picture
from nianbao.model.chinese import CJK, HAN
from nianbao.model.document import PAGE_TITLE, Block, Paragraph, Table
from nianbao.model.errors import Unreadable

_DROP = {
    "script",
    "style",
    "nav",
    "header",
    "footer",
    "noscript",
    "template",
    "head",
    "iframe",
    "object",
    "select",
    "button",
    "title",
    "meta",
    "link",
}
_BLOCK = {
    "address",
    "article",
    "aside",
    "blockquote",
    "body",
    "center",
    "dd",
    "details",
    "dialog",
    "dir",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "html",
    "li",
    "main",
    "menu",
    "ol",
    "p",
    "pre",
    "section",
    "summary",
    "ul",
    "caption",
    "td",
    "th",
    "tr",
    "tbody",
    "thead",
    "tfoot",
    "table",
}


@dataclass(frozen=True)
class Limits:
    span: int = 1000  # HTML caps colspan at 1000; a corrupt span must not blow a row up
    cells: int = 500_000  # grid positions in one table; the template has ~400


LIMITS = Limits()
_GB = {"gb2312", "gbk", "gb18030", "x-gbk", "cp936", "euc-cn"}
# Servers default to Latin-1 in Content-Type (Tomcat, old IIS); no Chinese report is written in it.
_NOT_TRUSTED = {"iso8859-1", "cp1252", "ascii"}
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([-\w.:]+)""", re.IGNORECASE)
_WRAP = re.compile(rf"(?<=[{CJK}])[ \t\r]*\n\s*(?=[{CJK}])")
_BREAK = "\ue000"  # a line break made by markup, kept apart from newlines in the source


def parse(data: bytes, content_type: str | None = None, linked: dict[str, bytes | str] | None = None) -> list[Block]:
    """`linked`: the bytes of the pictures the page shows by address (its <img> src as written), or
    why they could not be had."""
    text = decode(data, content_type).replace("\x00", "")  # a NUL makes libxml2 drop the tables after it
    if not text.strip():
        raise Unreadable("empty HTML document")
    # Re-encoded so lxml reads exactly the text decoded here, not whatever <meta> says.
    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True, no_network=True)
    try:
        root = lxml.html.document_fromstring(text.encode("utf-8"), parser=parser)
    except (etree.ParserError, ValueError) as e:
        raise Unreadable(f"not a readable HTML document: {e}") from e
    walker = _Walker(linked or {})
    walker.block(root)
    walker.flush()
    walker.blocks = pictures.read(walker.blocks)
    title = root.find("head/title")
    if title is not None and (text := _tidy(title.text_content())):  # chrome, but it may tell the year
        walker.blocks.insert(0, Paragraph(text, PAGE_TITLE))
    return walker.blocks


# ---------------------------------------------------------------- encoding


def _codec(name: str | bytes | None) -> str | None:
    """A Python codec for a charset label, GB labels as gb18030; None when unknown."""
    if not name:
        return None
    name = (name.decode("ascii", "ignore") if isinstance(name, bytes) else name).strip().strip("\"'").lower()
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        codec = None
    return "gb18030" if name in _GB or codec in _GB else codec


def _clean(data: bytes, codec: str | None) -> str | None:
    """`data` decoded with `codec`, or None when that fails or needs replacement characters."""
    if codec is None:
        return None
    try:
        text = data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None
    return None if "\ufffd" in text else text


def decode(data: bytes, content_type: str | None = None) -> str:
    for bom, codec in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            return data.decode(codec, errors="replace")
    # Non-ASCII text that is valid UTF-8 is UTF-8 whatever the page claims: GBK text almost never is.
    if (text := _clean(data, "utf-8")) is not None:
        return text
    declared = []
    if content_type and (m := re.search(r"charset\s*=\s*([-\w.:\"']+)", content_type, re.IGNORECASE)):
        declared.append(_codec(m.group(1)))
    declared += [_codec(m.group(1)) for m in _CHARSET.finditer(data[:4096])]
    for codec in declared:
        if codec not in (None, "utf-8", *_NOT_TRUSTED) and (text := _clean(data, codec)) is not None:
            return text
    from charset_normalizer import from_bytes  # only the pages whose declarations lie pay for it

    # The reports are Chinese: a Latin codec that decodes the bytes without an error (mac_latin2
    # reads anything) loses to the first candidate whose text holds Han characters.
    results = from_bytes(data)
    best = next((r for r in results if HAN.search(str(r))), None) or results.best()
    guess = _codec(best.encoding) if best is not None else None
    return _clean(data, guess) or data.decode(guess or "gb18030", errors="replace")


# ---------------------------------------------------------------- structure


def _in_article(el) -> bool:
    """An <article>'s own <header> carries its title (metadata reads it); the page's is chrome."""
    return el.tag in ("header", "footer") and next(el.iterancestors("article", "main"), None) is not None


def _tag(el) -> str:
    return el.tag.lower() if isinstance(el.tag, str) else ""


def srcs(data: bytes, content_type: str | None = None) -> list[str]:
    """The addresses (as written) of the pictures the page shows in its content, in order; inline
    data: URIs left out (they are their own bytes)."""
    walker = _Walker({})
    text = decode(data, content_type).replace("\x00", "")
    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True, no_network=True)
    try:
        walker.block(lxml.html.document_fromstring(text.encode("utf-8"), parser=parser))
    except (etree.ParserError, ValueError, Unreadable):
        return []
    return list(
        dict.fromkeys(b.name for b in walker.blocks if isinstance(b, Picture) and not b.name.startswith("data:"))
    )


def _src(el) -> str:
    """An <img>'s address; lazy-loading pages keep it in data-src / data-original until scrolled to."""
    for attr in ("data-src", "data-original", "src"):
        if value := (el.get(attr) or "").strip():
            return value
    return ""


def _length(value: str | None) -> float:
    """A width or height attribute in pixels; infinite when absent or relative (100%)."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(?:px)?\s*", value or "")
    return float(m.group(1)) if m else float("inf")


def _data_uri(uri: str) -> tuple[bytes | None, str | None]:
    """A data: URI's bytes, or why there are none."""
    head, comma, body = uri.partition(",")
    if not comma:
        return None, "a data: URI without data"
    try:
        if head.lower().endswith(";base64"):
            return base64.b64decode("".join(body.split()), validate=True), None
        return unquote_to_bytes(body), None
    except (binascii.Error, ValueError) as e:
        return None, f"a data: URI that does not decode ({e})"


class _Walker:
    def __init__(self, linked: dict[str, bytes | str]):
        self.linked = linked
        self.blocks: list[Block | Picture] = []
        self.buf: list[str] = []
        self.where = ""
        self.n_table = 0

    def add(self, text: str | None, el) -> None:
        if text:
            if not self.buf:
                self.where = f"line {el.sourceline or '?'}"
            self.buf.append(text)

    def flush(self) -> None:
        for line in _tidy("".join(self.buf)).split("\n"):
            if line:
                self.blocks.append(Paragraph(line, self.where))
        self.buf = []

    def block(self, el) -> None:
        """`el`'s content as text around tables."""
        self.add(el.text, el)
        for child in el:
            tag = _tag(child)
            if not tag or (tag in _DROP and not _in_article(child)):
                pass
            elif tag == "br":
                self.flush()
            elif tag == "img":
                self.flush()
                self.picture(child)
            elif tag == "table":
                self.flush()
                self.table(child)
            elif tag == "div" and (rows := _div_rows(child)) is not None:
                self.flush()
                self.add_table(_grid(rows))
            elif tag in _BLOCK:
                self.flush()
                self.block(child)
                self.flush()
            else:
                self.block(child)  # inline: its text runs on in the same paragraph
            self.add(child.tail, el)

    def picture(self, el) -> None:
        if not (src := _src(el)) or any(_length(el.get(a)) < pictures.LIMITS.min_side for a in ("width", "height")):
            return  # an icon, a bullet, a spacer: no table
        if src.startswith("data:"):
            data, missing = _data_uri(src)
        else:
            got = self.linked.get(src, "not brought with the page (only its own bytes were read)")
            data, missing = (got, None) if isinstance(got, bytes) else (None, got)
        self.blocks.append(Picture(src, data, missing))

    def table(self, el) -> None:
        rows = _rows(el)
        cells = [c for tr in rows for c in _cells(tr)]
        for caption in el.findall("caption"):  # often the section heading
            self.block(caption)
            self.flush()
        if len(cells) <= 1 or el.find(".//table") is not None:
            for cell in cells:  # layout: see the module docstring
                self.block(cell)
                self.flush()
            return
        self.add_table(_grid([_cells(tr) for tr in rows]))

    def add_table(self, rows: list[list[str]]) -> None:
        self.n_table += 1
        table = Table(rows=rows)
        table.where = [f"table {self.n_table} row {r}" for r in range(1, len(table.rows) + 1)]
        self.blocks.append(table)


def _rows(table) -> list:
    """The table's own rows (not a nested table's), in source order."""
    out = []
    for child in table:
        tag = _tag(child)
        if tag == "tr":
            out.append(child)
        elif tag in ("thead", "tbody", "tfoot"):
            out.extend(c for c in child if _tag(c) == "tr")
    return out


def _cells(tr) -> list:
    return [c for c in tr if _tag(c) in ("td", "th")]


def _span(cell, attr: str) -> int:
    """A cell's colspan or rowspan: its attribute (data-… on a <div>), else `grid-column` /
    `grid-row: span K` in its style."""
    value = cell.get(attr) or cell.get(f"data-{attr}")
    if value is None and _tag(cell) == "div":
        m = re.search(rf"grid-{'column' if attr == 'colspan' else 'row'}\s*:[^;]*span\s+(\d+)", cell.get("style", ""))
        value = m.group(1) if m else None
    try:
        return int(re.match(r"\s*(\d+)", value or "").group(1))
    except (AttributeError, ValueError):
        return 1


# ---------------------------------------------------------------- <div> grids

_ROLES = {"table": {"table", "grid"}, "row": {"row"}, "cell": {"cell", "gridcell", "columnheader", "rowheader"}}
_CLASSES = {"table": {"table"}, "row": {"tr", "row", "table-row"}, "cell": {"td", "th", "cell", "table-cell"}}


def _is(el, kind: str) -> bool:
    """Whether a <div> is a table, a row or a cell by its role, its CSS display or its class."""
    if (el.get("role") or "").strip().lower() in _ROLES[kind]:
        return True
    display = re.search(r"display\s*:\s*([-\w]+)", el.get("style", ""))
    if display and display.group(1).lower() == {"table": "table", "row": "table-row", "cell": "table-cell"}[kind]:
        return True
    return bool(set((el.get("class") or "").lower().split()) & _CLASSES[kind])


def _div_rows(el) -> list[list] | None:
    """A <div> grid's rows of cell elements, or None when `el` is no such grid (a page laid out in
    a grid holds blocks, not cells: see _cell_like)."""
    rows = _div_grid(el)
    return rows if rows is not None and all(_cell_like(c) for row in rows for c in row) else None


_NOT_IN_CELLS = ".//table|.//ul|.//ol|.//h1|.//h2|.//h3|.//h4|.//nav|.//article|.//section|.//header|.//footer"


def _cell_like(el) -> bool:
    return len(el.text_content()) <= 300 and not el.xpath(_NOT_IN_CELLS)


def _div_grid(el) -> list[list] | None:
    children = [c for c in el if _tag(c)]
    style = el.get("style", "")
    if re.search(r"display\s*:\s*(?:inline-)?grid", style):
        tracks = re.search(r"grid-template-columns\s*:\s*([^;]+)", style)
        if tracks is None:
            return None
        repeat = re.match(r"\s*repeat\(\s*(\d+)", tracks.group(1))
        n = int(repeat.group(1)) if repeat else len(re.findall(r"[^\s()]+(?:\([^)]*\))?", tracks.group(1)))
        return _auto_placed(children, n) if n >= 2 and len(children) > n else None
    if not _is(el, "table"):
        return None
    rows = [c for c in children if _is(c, "row")]
    grouped = [
        r for c in children if not _is(c, "row") for r in c if _tag(r) and _is(r, "row")
    ]  # thead/tbody-like groups
    rows = rows or grouped
    cells = [[c for c in row if _tag(c) and _is(c, "cell")] for row in rows]
    return cells if len(cells) >= 2 and sum(map(len, cells)) > 1 else None


def _auto_placed(cells: list, n: int) -> list[list]:
    """CSS grid auto-placement, row by row: each cell at the first free position that holds its
    span; the rows of cells (as <tr>s are), a rowspan's later rows leaving its position taken."""
    taken: set[tuple[int, int]] = set()
    rows: list[list[tuple[int, object]]] = []
    r = c = 0
    for cell in cells:
        span = min(max(1, _span(cell, "colspan")), n)
        while c + span > n or any((r, c + k) in taken for k in range(span)):
            c += 1
            if c + span > n:
                r, c = r + 1, 0
        while len(rows) <= r:
            rows.append([])
        rows[r].append((c, cell))
        taken |= {(r + dr, c + k) for dr in range(max(1, _span(cell, "rowspan"))) for k in range(span)}
        c += span
    return [[cell for _, cell in sorted(row, key=lambda x: x[0])] for row in rows]


def _grid(rows) -> list[list[str]]:
    """Rows of cell elements (a <tr>'s cells, a <div> grid's) as rows of text, spans expanded."""
    grid: list[list[str | None]] = [[] for _ in rows]
    filled = 0
    for r, row in enumerate(rows):
        c = 0
        for cell in row:
            while c < len(grid[r]) and grid[r][c] is not None:  # taken by a rowspan from above
                c += 1
            colspan = max(1, min(_span(cell, "colspan"), LIMITS.span))
            rowspan = _span(cell, "rowspan")
            rowspan = len(rows) - r if rowspan == 0 else max(1, min(rowspan, len(rows) - r))  # 0: to the end
            filled += rowspan * colspan
            if filled > LIMITS.cells:
                raise Unreadable(f"a table of more than {LIMITS.cells} cells (spans out of range?)")
            for dr in range(rowspan):
                line = grid[r + dr]
                line.extend([None] * (c + colspan - len(line)))
                for dc in range(colspan):
                    line[c + dc] = ""
            grid[r][c] = _cell_text(cell)
            c += colspan
    return [["" if v is None else v for v in line] for line in grid]


def _cell_text(cell) -> str:
    parts: list[str] = []

    def walk(el):
        if el.text:
            parts.append(el.text)
        for child in el:
            tag = _tag(child)
            if tag == "br":
                parts.append(_BREAK)
            elif tag and tag not in _DROP:
                block = tag in _BLOCK
                if block:
                    parts.append(_BREAK)
                walk(child)
                if block:
                    parts.append(_BREAK)
            if child.tail:
                parts.append(child.tail)

    walk(cell)
    return _tidy("".join(parts))


def _tidy(text: str) -> str:
    """Source whitespace (padding, &nbsp;, wrapping) collapsed; markup's line breaks kept as "\\n"."""
    text = re.sub(r"\s+", " ", _WRAP.sub("", text))  # \s covers nbsp and the ideographic space
    return "\n".join(line for part in text.split(_BREAK) if (line := part.strip()))
