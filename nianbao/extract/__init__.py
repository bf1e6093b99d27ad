"""Per-format extraction to the shared block representation (nianbao.document)."""
from __future__ import annotations

from pathlib import PurePosixPath

from nianbao.document import Block, Unreadable
from nianbao.extract import docx, html, office, pdf, runtogether, text

FORMATS = ("pdf", "docx", "doc", "wps", "html", "txt")
_SUFFIX = {".htm": "html", ".html": "html", ".shtml": "html", ".text": "txt"}


def sniff(data: bytes, name: str = "") -> str | None:
    """The format from the bytes (magic numbers), else from the name; None when neither tells."""
    head = data[:512].lstrip()
    if head.startswith(b"%PDF"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return "docx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):  # OLE2: .doc and .wps share it
        return "wps" if name.lower().endswith(".wps") else "doc"
    lower = head[:200].lower()
    if lower.startswith((b"<!doctype html", b"<html", b"<?xml")) or b"<html" in lower:
        return "html"
    suffix = PurePosixPath(name.split("?")[0]).suffix.lower()
    fmt = _SUFFIX.get(suffix, suffix.lstrip("."))
    return fmt if fmt in FORMATS else None


def extract(data: bytes, fmt: str) -> list[Block]:
    if fmt == "txt":
        decoded = text.decode(data)
        if runtogether.looks_run_together(decoded):  # crawler text with every table cell run together
            return runtogether.recover(decoded)
        return text.parse(decoded)
    if fmt == "pdf":
        return pdf.parse(data)
    if fmt == "docx":
        return docx.parse(data)
    if fmt == "html":
        return html.parse(data)
    if fmt in ("doc", "wps"):
        return office.parse(data)
    raise Unreadable(f"no extractor for {fmt} documents yet")
