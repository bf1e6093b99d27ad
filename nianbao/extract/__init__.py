"""Per-format extraction to the shared block representation (nianbao.model.document)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath

from nianbao.extract import runtogether, text
from nianbao.model.document import Block
from nianbao.model.errors import Unreadable


def _by(module: str, *args: str) -> Callable[[bytes], list[Block]]:
    """A format's parser, imported at its first document with the libraries it needs (pdfplumber,
    lxml, python-docx): a run of text dumps, or a process whose workers extract, never loads them."""

    def parse(data: bytes) -> list[Block]:
        return importlib.import_module(f"nianbao.extract.{module}").parse(data, *args)

    return parse


@dataclass(frozen=True)
class Format:
    magic: tuple[bytes, ...]  # how its bytes start; none for text formats
    suffixes: tuple[str, ...]
    mime: tuple[str, ...]  # the first is the one we record
    parse: Callable[[bytes], list[Block]]
    attachment: bool = False  # a report page links to it as the report itself (discover)


def _text(data: bytes) -> list[Block]:
    decoded = text.decode(data)
    if runtogether.looks_run_together(decoded):  # crawler text with every table cell run together
        return runtogether.recover(decoded)
    return text.parse(decoded)


# What we read, how each is told and who reads it. The bytes decide where they have a signature;
# names and Content-Type only settle what the bytes cannot (DOC or WPS, HTML or a text dump).
REGISTRY = {
    "pdf": Format((b"%PDF",), (".pdf",), ("application/pdf",), _by("pdf"), attachment=True),
    "docx": Format(
        (b"PK\x03\x04",),
        (".docx",),
        ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",),
        _by("docx"),
        attachment=True,
    ),
    "doc": Format(
        (b"\xd0\xcf\x11\xe0",),
        (".doc",),
        ("application/msword",),  # OLE2, as .wps
        _by("office", "doc"),
        attachment=True,
    ),
    "wps": Format(
        (b"\xd0\xcf\x11\xe0",),
        (".wps",),
        ("application/vnd.ms-works", "application/kswps"),
        _by("office", "wps"),
        attachment=True,
    ),
    "rtf": Format((b"{\\rtf",), (".rtf",), ("application/rtf", "text/rtf"), _by("office", "rtf")),
    "html": Format((), (".html", ".htm", ".shtml", ".xhtml"), ("text/html", "application/xhtml+xml"), _by("html")),
    "txt": Format((), (".txt", ".text"), ("text/plain",), _text),
}
MIME = {name: f.mime[0] for name, f in REGISTRY.items()}
SUFFIXES = {suffix for f in REGISTRY.values() for suffix in f.suffixes}
ATTACHMENTS = {suffix for f in REGISTRY.values() if f.attachment for suffix in f.suffixes}
_MARKUP = ("<!doctype html", "<html", "<?xml")


def magic(data: bytes) -> str | None:
    """The format the bytes' signature tells (OLE2 as "doc"); None for text and unknown bytes."""
    head = data[:1024].lstrip()
    for name, f in REGISTRY.items():
        if f.magic and head.startswith(f.magic):
            return name
    lower = text.decode(head).lstrip("\ufeff \t\r\n").lower()  # UTF-16 pages too
    if lower.startswith(_MARKUP) or "<html" in lower[:200]:
        return "html"
    return None


def _hint(name: str, content_type: str | None, declared: str | None) -> list[str]:
    """Formats named by a manifest, the name's suffix and the Content-Type, in that order."""
    hints = [declared] if declared else []
    suffix = PurePosixPath(name.split("?")[0].split("#")[0]).suffix.lower()
    mime = (content_type or "").split(";")[0].strip().lower()
    hints += [f for f, spec in REGISTRY.items() if suffix in spec.suffixes]
    hints += [f for f, spec in REGISTRY.items() if mime in spec.mime]
    return hints


def sniff(data: bytes, name: str = "", content_type: str | None = None, declared: str | None = None) -> str | None:
    """The format: from the bytes (magic numbers); text is HTML or a text dump as the markup, the
    manifest (`declared`), the name (a path, or the final URL) or the Content-Type says, else a
    text dump. None when the bytes are of no kind we read (random, or a binary we do not know)."""
    found, hints = magic(data), _hint(name, content_type, declared)
    if found == "doc":
        return next((h for h in hints if h in ("doc", "wps")), "doc")
    if found is not None:
        return found
    if not text.is_text(data):
        return None
    return next((h for h in hints if h in ("html", "txt")), "txt")


def not_a_document(data: bytes, name: str = "") -> str:
    """Why bytes sniff() gives up on are no document we read, naming what they look like."""
    suffix = PurePosixPath(name.split("?")[0]).suffix.lower()
    said = f" (though named {suffix})" if suffix else ""
    return (
        f"not a document we read{said}: the bytes are no PDF, DOCX, DOC/WPS, RTF, HTML or text "
        f"(they begin {data[:8].hex(' ')})"
    )


def extract(data: bytes, fmt: str, linked: tuple[tuple[str, bytes | str], ...] = ()) -> list[Block]:
    """`linked`: the pictures an HTML page shows by address, as nianbao.acquire.linked brought them
    (address, bytes or why there are none)."""
    if fmt not in REGISTRY:
        raise Unreadable(f"no extractor for {fmt} documents yet")
    if fmt == "html" and linked:
        return importlib.import_module("nianbao.extract.html").parse(data, linked=dict(linked))
    return REGISTRY[fmt].parse(data)
