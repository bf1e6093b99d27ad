"""Plain-text dumps copied out of pages and documents (see shared/seeds/ for the three styles).

- tab grid: one table row per line, cells separated by tabs;
- one cell per line: each cell on a line of its own that starts with a tab, rows separated by blank
  lines, a cell's text continuing on untabbed lines (headers printed one character a line);
- `|` separated: each cell ends with " |", a line with further pipes ends the row (one pipe per
  position merged cells left out of it: they are not cells, so a blank first value stays first).
- Markdown (and other pipe-table dumps): a line `| a | b |` is a table row of its own, the run of
  such lines one table, `|---|:---:|` lines left out; `#` heading marks and `**` around a line are
  markup, not text.
Lines of none of these kinds are paragraphs.
"""

from __future__ import annotations

import re

from nianbao.model.document import BOOKMARK, Block, Paragraph, Table

_CONTROL = re.compile(r"[\x01-\x08\x0e-\x1f\x7f]")  # no text holds these, bar a stray one
_MD_ROW = re.compile(r"^\s*\|.*\|\s*$")
_MD_RULE = re.compile(r"^:?-{3,}:?$")
_MD_MARKS = re.compile(r"^#{1,6}\s+|^\*\*(?=.+\*\*$)|\*\*$")


def _markdown_row(line: str) -> list[str] | None:
    """`| a | b |` as its cells; None for a line of no Markdown table (a `|` dump's "| |||" ends a
    row of empty cells: no cell of a Markdown row is printed there)."""
    if not _MD_ROW.match(line) or line.count("|") < 3:
        return None
    cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip()[1:-1])]
    return cells if any(cells) else None


def decode(data: bytes) -> str:
    """Text in UTF-16 with a BOM (Notepad's "Unicode"), UTF-8 or GB18030, without NUL characters
    (padding and stray NULs are no text, and they end strings in C libraries)."""
    return (_decode_strict(data) or data.decode("utf-8", errors="replace")).replace("\x00", "")


def is_text(data: bytes) -> bool:
    """Whether the bytes are text in an encoding we read: they decode, and hardly a character is a
    control character (random bytes and binaries of kinds we do not know fail one or the other)."""
    decoded = _decode_strict(data[:65536]) or _decode_strict(data)
    if decoded is None:
        return False
    decoded = decoded.replace("\x00", "")
    return bool(decoded.strip()) and len(_CONTROL.findall(decoded)) <= len(decoded) / 100


def _decode_strict(data: bytes) -> str | None:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings = ("utf-16",)
    else:
        encodings = ("utf-8-sig", "gb18030")
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def parse(text: str) -> list[Block]:
    blocks: list[Block] = []
    table: Table | None = None
    row: list[str] | None = None  # the row being built (cell-per-line and pipe styles)
    row_open_at = ""
    after_blank = True
    last_kind = None  # "cell", "para", "grid", "pipe"

    def close_row():
        nonlocal row
        if row is not None:
            table_().rows.append(row)
            table_().where.append(row_open_at)
            row = None

    def table_() -> Table:
        nonlocal table
        if table is None:
            table = Table()
            blocks.append(table)
        return table

    def close_table():
        nonlocal table
        close_row()
        table = None

    for n, raw in enumerate(text.splitlines(), 1):
        line = BOOKMARK.sub("", raw).rstrip("\r")
        where = f"line {n}"
        if line.startswith("\t") and not line.strip():  # an empty cell of its own
            if row is None:
                row, row_open_at = [], where
            row.append("")
            last_kind = "cell"
            after_blank = False
            continue
        if not line.strip():
            if last_kind == "cell":
                close_row()
            if last_kind == "markdown":
                close_table()
            after_blank = True
            continue
        if (cells := _markdown_row(line)) is not None:
            if last_kind != "markdown":
                close_table()
            if not all(_MD_RULE.match(c) or not c for c in cells):
                table_().rows.append(cells)
                table_().where.append(where)
            last_kind = "markdown"
        elif "|" in line:
            parts = line.split("|")
            if row is None:
                row, row_open_at = [], where
            row.append(parts[0].strip())
            more = [p.strip() for p in parts[1:-1]]
            if len(parts) > 2:  # "cell | |||": the row ends here; the further pipes stand for the
                while more and not more[-1]:  # row's merged-away positions, not for cells at its end
                    more.pop()
            row.extend(more)
            if len(parts) > 2:
                close_row()
            last_kind = "pipe"
        elif line.count("\t") > 1 or ("\t" in line and not line.startswith("\t")):
            close_row()
            table_().rows.append([c.strip() for c in line.split("\t")])
            table_().where.append(where)
            last_kind = "grid"
        elif line.startswith("\t"):
            if row is None:
                row, row_open_at = [], where
            row.append(line.strip())
            last_kind = "cell"
        elif last_kind == "cell" and not after_blank and row:
            row[-1] = row[-1] + "\n" + line.strip()  # a cell's text continued
        else:
            if last_kind in ("cell", "pipe", "grid", "markdown") and table is not None:
                close_table()
            text = _MD_MARKS.sub("", line.strip()).strip()
            if text:
                blocks.append(Paragraph(text, where))
            last_kind = "para"
        after_blank = False
    close_table()
    return blocks
