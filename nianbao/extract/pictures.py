"""Tables printed as pictures: an HTML page's <img>s, a Word document's pasted pictures.

The extractors put a `Picture` where one stands among their blocks; `read` replaces each by what
OCR reads in it (ocr.read_picture: its ruled tables and the text around them, as a scanned page
is read), so its tables come in document order with the paragraphs. Their cells carry their
confidence to nianbao.interpret.trust like a scan's (and then the document's own tables theirs, certain),
so a number read from a picture is published only when confident and confirmed by the sums.
Pictures following one another are pages of one scan: a table broken over two goes on.

A picture that cannot be read (no ruled table in it, not decodable, too large, not found beside
the page) is said once, as an `extraction.picture` warning naming it and why; a section the
document then lacks is ours to have missed (extraction.unread_cell), not the report's to have
left out (match._Said). Pictures too small to hold a table (icons, bullets, spacers) are passed by.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from nianbao.model.document import Block, Reading, Table
from nianbao.model.errors import Unreadable


@dataclass(frozen=True)
class Limits:
    min_side: int = 64  # pixels: a picture narrower or lower holds no table (an icon, a bullet, a spacer)


LIMITS = Limits()


@dataclass
class Picture:
    """Where a document shows a picture: its bytes, or why there are none."""

    name: str  # as the document names it: an <img>'s src, a DOCX's media part
    data: bytes | None = None
    missing: str | None = None  # why there are no bytes to read


def read(items: list[Block | Picture]) -> list[Block]:
    """`items` with each Picture replaced by the blocks OCR reads in it (where: "picture N")."""
    if not any(isinstance(b, Picture) for b in items):
        return items  # type: ignore[return-value]
    from nianbao.extract.pdf import ocr  # OpenCV and ONNX Runtime load only for pictures

    out: list[Block] = []
    unread: list[Block] = []
    n = 0
    after_picture = False  # the last block was a picture's: a table it ends may go on in the next
    for item in items:
        if not isinstance(item, Picture):
            out.append(item)
            after_picture = False
            continue
        if item.data is not None and _too_small(item.data):
            continue
        n += 1
        where = f"picture {n}"
        try:
            if item.data is None:
                raise Unreadable(item.missing or "no bytes")
            page = ocr.read_picture(item.data, n)
        except Unreadable as e:
            unread.append(Table(notes=[("picture", f"{where} ({_short(item.name)}) could not be read: {e}", [])]))
            continue
        for b in page:
            if isinstance(b, Table):
                b.where = [where] * len(b.rows)
            else:
                b.where = where
        if after_picture:
            ocr._go_on(out, page)  # a table's row broken between two pictures joined back
        else:
            out += [b for b in page if not (isinstance(b, Table) and not b.rows)]
        after_picture = True
    if any(isinstance(b, Table) and b.confidence is not None for b in out):
        for b in out:  # trust judges every cell of a document read in part by OCR: its own text's are certain
            if isinstance(b, Table) and b.confidence is None:
                b.rows = [[Reading(c, 1.0) for c in row] for row in b.rows]
    return out + unread


def _too_small(data: bytes) -> bool:
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as im:
            return min(im.size) < LIMITS.min_side
    except Exception:  # noqa: BLE001 (undecodable: read_picture says so)
        return False


def _short(name: str) -> str:
    """A data: URI named by its media type, not its bytes."""
    if name.startswith("data:"):
        return name.split(",", 1)[0][:60] + ",…"
    return name if len(name) <= 120 else name[:117] + "…"
