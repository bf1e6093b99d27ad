"""Word (.docx) documents: body paragraphs and tables, in document order.

The zip is checked before python-docx sees it (size, ratio, DTDs), then the body XML is walked
directly: python-docx's own `Document.paragraphs` / `.tables` lose the interleaving and its cell
API repeats a merged cell's text in every position it spans, where the blocks want "" there.

Tables nested in a cell: the outer table is taken as layout (reports pasted into a one-cell frame,
a data table set inside a bordered box) and its cells' contents are walked as if they were body
text, so the nested table becomes a Table of its own and the outer cells' text Paragraphs. A
one-cell table is layout too: it can never be a template table.

Pictures (DrawingML's a:blip, VML's v:imagedata: tables pasted as pictures) are read by OCR where
their paragraph stands (nianbao.extract.pictures), from the media part they embed.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass

import docx as python_docx

from nianbao.extract import pictures
from nianbao.extract.pictures import Picture
from nianbao.model.document import Block, Paragraph, Table
from nianbao.model.errors import Unreadable


@dataclass(frozen=True)
class Limits:
    """Real reports are well under these; anything bigger is a bomb or not a report. zipfile stops
    decompressing an entry at the size its central directory declares, so checking the declared
    sizes bounds what python-docx can inflate."""

    total: int = 200 * 1024 * 1024  # declared uncompressed bytes, all entries
    ratio: int = 200  # uncompressed / compressed for one entry (Word XML rarely exceeds ~30)
    ratio_floor: int = 1024 * 1024  # small entries may compress as well as they like
    entries: int = 10_000


LIMITS = Limits()

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
_W = f"{{{W}}}"
_TEXT = {_W + "t": None, _W + "tab": "\t", _W + "br": "\n", _W + "cr": "\n", _W + "noBreakHyphen": "-"}
# Subtrees whose text is not printed (deleted revisions) or printed twice (mc:Fallback repeats
# mc:Choice for old readers).
_SKIP = {_W + "del", _W + "moveFrom", f"{{{MC}}}Fallback"}
# Wrappers whose children are body content (content controls, custom XML, tracked insertions).
_WRAPPERS = {_W + "sdt", _W + "sdtContent", _W + "customXml", _W + "ins", _W + "moveTo"}
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
# a picture's reference to its media part: DrawingML's blip (r:embed; r:link for a file outside) and VML's
_PICTURES = {
    "{http://schemas.openxmlformats.org/drawingml/2006/main}blip": f"{{{R}}}embed",
    "{urn:schemas-microsoft-com:vml}imagedata": f"{{{R}}}id",
}
_DTD = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)


def parse(data: bytes) -> list[Block]:
    _check_zip(data)
    try:
        document = python_docx.Document(io.BytesIO(data))
        body = document.element.body
    except Exception as e:  # python-docx raises KeyError, ValueError, XMLSyntaxError, ...
        raise Unreadable(f"not a readable DOCX: {type(e).__name__}: {e}") from e
    walker = _Walker(document.part)
    walker.content(body)
    return pictures.read(walker.blocks)


def _check_zip(data: bytes) -> None:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise Unreadable(f"not a DOCX: corrupt zip archive ({e})") from e
    if len(infos) > LIMITS.entries:
        raise Unreadable(f"DOCX refused: {len(infos)} zip entries")
    total = sum(i.file_size for i in infos)
    if total > LIMITS.total:
        raise Unreadable(f"DOCX refused: {total} bytes uncompressed (limit {LIMITS.total})")
    for i in infos:
        if i.file_size > LIMITS.ratio_floor and i.file_size > LIMITS.ratio * max(i.compress_size, 1):
            ratio = i.file_size // max(i.compress_size, 1)
            raise Unreadable(f"DOCX refused: {i.filename} inflates {ratio}x (zip bomb?)")
    if "[Content_Types].xml" not in zf.namelist():
        raise Unreadable("not a DOCX: a zip archive without [Content_Types].xml")
    # lxml is told not to resolve entities, but a DTD has no business in OOXML: refuse outright
    # rather than rely on every parser's settings.
    for i in infos:
        if i.filename.endswith((".xml", ".rels")):
            try:
                raw = zf.read(i)
            except Exception as e:  # bad CRC, unsupported compression, truncated
                raise Unreadable(f"not a DOCX: cannot read {i.filename} ({e})") from e
            if raw[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in raw[:4]:  # UTF-16 part
                raw = raw.decode("utf-16", errors="ignore").encode("utf-8")
            if _DTD.search(raw):
                raise Unreadable(f"DOCX refused: {i.filename} declares a DTD or entities")


class _Walker:
    def __init__(self, part):
        self.part = part  # the document part, whose relationships name the media
        self.blocks: list[Block | Picture] = []
        self.n_para = 0
        self.n_table = 0

    def content(self, parent) -> None:
        """Block-level children (body, cell, content control) in document order."""
        for child in parent:
            tag = child.tag
            if tag == _W + "p":
                self.n_para += 1
                # soft line breaks separate lines as paragraphs do (a heading, a break, its text)
                for line in _text(child).split("\n"):
                    if line.strip():
                        self.blocks.append(Paragraph(line.strip(), f"paragraph {self.n_para}"))
                self.blocks += [
                    self.picture(el)
                    for el in child.iter(*_PICTURES)
                    if not any(a.tag in _SKIP for a in el.iterancestors())
                ]
            elif tag == _W + "tbl":
                self.table(child)
            elif tag in _WRAPPERS:
                self.content(child)

    def picture(self, el) -> Picture:
        rid = el.get(_PICTURES[el.tag])
        part = self.part.related_parts.get(rid) if rid else None
        if part is None:
            linked = self.part.rels[link].target_ref if (link := el.get(f"{{{R}}}link")) in self.part.rels else None
            return Picture(
                linked or "a picture",
                None,
                "linked to a file outside the document" if linked else "its media part is missing",
            )
        return Picture(str(part.partname).lstrip("/"), part.blob)

    def table(self, tbl) -> None:
        rows = _children(tbl, _W + "tr")
        cells = [tc for tr in rows for tc in _children(tr, _W + "tc")]
        if len(cells) == 1 or any(tc.find(f".//{_W}tbl") is not None for tc in cells):
            for tc in cells:  # layout: see the module docstring
                self.content(tc)
            return
        self.n_table += 1
        table = Table()
        for r, tr in enumerate(rows, 1):
            table.rows.append(_expand(tr))
            table.where.append(f"table {self.n_table} row {r}")
        self.blocks.append(table)


def _children(parent, tag: str) -> list:
    """`parent`'s children with `tag`, looking through wrappers (content controls, insertions)."""
    out = []
    for child in parent:
        if child.tag == tag:
            out.append(child)
        elif child.tag in _WRAPPERS:
            out.extend(_children(child, tag))
    return out


def _val(el, path: str, default=None):
    found = el.find(path)
    return default if found is None else found.get(_W + "val", default)


def _int(value, default: int = 0) -> int:
    """A span or skip count; Word tables have at most 63 columns, so a corrupt one is capped."""
    try:
        return max(0, min(int(value), 64))
    except (TypeError, ValueError):
        return default


def _expand(tr) -> list[str]:
    """One row's cell texts, one per grid column: a span's first column holds the text."""
    row = [""] * _int(_val(tr, f"{_W}trPr/{_W}gridBefore"))
    for tc in _children(tr, _W + "tc"):
        span = max(1, _int(_val(tc, f"{_W}tcPr/{_W}gridSpan"), 1))
        # vMerge without a val (or "continue") continues the cell above: its text is printed there
        v_merge = tc.find(f"{_W}tcPr/{_W}vMerge")
        h_merge = tc.find(f"{_W}tcPr/{_W}hMerge")  # the pre-2007 way to span columns
        continued = (v_merge is not None and v_merge.get(_W + "val", "continue") == "continue") or (
            h_merge is not None and h_merge.get(_W + "val", "continue") == "continue"
        )
        text = "" if continued else "\n".join(t for p in _children(tc, _W + "p") if (t := _text(p).strip()))
        row.append(text)
        row.extend([""] * (span - 1))
    row.extend([""] * _int(_val(tr, f"{_W}trPr/{_W}gridAfter")))
    return row


def _text(p) -> str:
    """A paragraph's printed text: runs wherever they sit (hyperlinks, insertions, smart tags)."""
    out = []
    for el in p.iter(*_TEXT):
        if any(a.tag in _SKIP for a in el.iterancestors()):
            continue
        out.append(el.text or "" if el.tag == _W + "t" else _TEXT[el.tag])
    return "".join(out)
