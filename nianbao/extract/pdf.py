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
"""
from __future__ import annotations

import io
import re
import statistics

import pdfplumber
from pdfminer.pdfdocument import PDFEncryptionError

from nianbao.document import Block, Paragraph, Table, Unreadable

# Words only the template's tables print; a page without any is not searched for tables.
_TABLE_WORDS = ("信息内容", "本年制发件数", "本年新收", "上年结转", "申请人情况", "不予公开", "无法提供",
                "不予处理", "结转下年度", "行政诉讼")
_CJK_OR_WIDE = re.compile(r"[^\x00-\x7f]")
_VALUE = re.compile(r"^[\d.,\s+-]+$")
_PAGE_NUMBER = re.compile(r"^[-—－\s]*\d+[-—－\s]*$")
_SNAP = 3  # points: rules this close count as the same line


def parse(data: bytes) -> list[Block]:
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            return _parse(pdf)
    except Unreadable:
        raise
    except Exception as e:  # pdfminer raises many kinds (PSEOF, PDFSyntaxError, ...), often wrapped
        raise Unreadable(_reason(e)) from e


def _reason(e: BaseException) -> str:
    seen: BaseException | None = e
    while seen is not None:  # pdfplumber wraps pdfminer's exception as PdfminerException(e)
        if isinstance(seen, PDFEncryptionError):
            return "encrypted PDF: it needs a password or an unsupported cipher"
        inner = seen.args[0] if seen.args and isinstance(seen.args[0], BaseException) else None
        seen = inner or seen.__cause__
    return f"corrupt PDF: {type(e).__name__}: {e}"[:300]


def _parse(pdf) -> list[Block]:
    texts = [page.extract_text() or "" for page in pdf.pages]
    chars = [c["text"] for page in pdf.pages for c in page.chars if not c["text"].isspace()]
    if not chars:
        raise Unreadable("no text layer: scanned PDF?")
    if sum(c.startswith("(cid:") for c in chars) > len(chars) / 2:
        raise Unreadable("text layer is mostly (cid:NNN) glyph ids: the fonts carry no Unicode map")
    blocks: list[Block] = []
    previous: Table | None = None  # the last table, while nothing but page furniture follows it
    for n, (page, text) in enumerate(zip(pdf.pages, texts), 1):
        squashed = re.sub(r"\s+", "", text)
        # a page that goes on with the table the page before ended with may name no table at all
        tables = _tables(page) if previous is not None or any(w in squashed for w in _TABLE_WORDS) else []
        items = [(t.bbox[1], t) for t in tables]
        boxes = [t.bbox for t in tables]
        rest = page.filter(lambda o: o.get("object_type") != "char" or not _inside(o, boxes))
        lines = [ln for ln in rest.extract_text_lines() if ln["text"].strip()]
        if n == 1:
            lines = _join_title(lines)
        items += [(ln["top"], ln) for ln in lines]
        items.sort(key=lambda item: item[0])
        carried, previous = previous, None  # a table the page before ended with may go on here
        for _, item in items:
            if isinstance(item, dict):
                if not _PAGE_NUMBER.match(item["text"]):  # page furniture, not the report's text
                    blocks.append(Paragraph(item["text"].strip(), f"page {n}"))
                    carried = previous = None
                continue
            rows = [[_cell(c) for c in row] for row in item.extract()]
            rows = [r for r in rows if any(c.strip() for c in r)]
            if carried is not None and rows and _continues(carried.rows[-1], rows[0]):
                carried.rows[-1] = [_join(a, b) for a, b in zip(carried.rows[-1], rows.pop(0))]
            carried = None
            if rows:
                previous = Table(rows, [f"page {n}"] * len(rows))
                blocks.append(previous)
    return blocks


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
                groups.setdefault(round(e[end] / _SNAP), []).append(e)
        for edges in groups.values():
            x0, x1 = min(e["x0"] for e in edges), max(e["x0"] for e in edges)
            if len(edges) > 1 and x1 - x0 > _SNAP:
                y = edges[0][end]
                closing.append({"object_type": "line", "x0": x0, "x1": x1, "top": y, "bottom": y,
                                "width": x1 - x0, "height": 0})
    return clean.find_tables({"explicit_horizontal_lines": closing})


def _inside(char: dict, boxes) -> bool:
    x = (char["x0"] + char["x1"]) / 2
    y = (char["top"] + char["bottom"]) / 2
    return any(x0 <= x <= x1 and top <= y <= bottom for x0, top, x1, bottom in boxes)


def _join(a: str, b: str) -> str:
    """Two pieces of one text: no space between CJK characters, one between Latin words."""
    if not a or not b:
        return a + b
    wide = _CJK_OR_WIDE.match(a[-1]) or _CJK_OR_WIDE.match(b[0])
    return a + b if wide else f"{a} {b}"


def _cell(text: str | None) -> str:
    """A cell's lines as one string (labels wrap; headers print a character a line)."""
    out = ""
    for line in (text or "").split("\n"):
        out = _join(out, line.strip())
    return out


def _continues(last: list[str], first: list[str]) -> bool:
    """`first` (top of a page) is the rest of `last` (bottom of the page before): same columns,
    text only, and blank where `last` printed its values."""
    if len(last) != len(first):
        return False
    values = [i for i, c in enumerate(last) if c.strip() and _VALUE.match(c)]
    return bool(values) and all(not first[i].strip() for i in values) and \
        not any(_VALUE.match(c) for c in first if c.strip())


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
