"""The pictures an HTML page shows by address, brought for its extraction (nianbao.extract.pictures
reads tables printed as pictures by OCR).

- A page read from a file: its pictures are the files beside it (a relative src, inside the page's
  folder; an absolute path or a web address is not followed: a page must not make us read
  /etc/shadow, nor fetch from a folder of files).
- A page fetched by URL: each src resolved against the page's final URL and fetched by the same
  polite Fetcher (nianbao.acquire.fetch: per-host limits, size and time limits, public addresses only).
At most LIMITS.pictures a page; a picture that cannot be had is passed on with why, for the report to
say so (`extraction.picture`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

from nianbao.acquire.sources import Read, Source
from nianbao.model.settings import settings


@dataclass(frozen=True)
class Limits:
    pictures: int = 20  # read a page: a report page shows a picture a table, a few more for its seal and logos


LIMITS = Limits()


def gather(source: Source, got: Read) -> tuple[tuple[str, bytes | str], ...]:
    """(src as written, its bytes or why there are none) for each picture the page shows by address."""
    from nianbao.extract import html  # lxml: loaded by the runs that read a page, not by every run

    srcs = html.srcs(got.data, got.content_type)
    out = [
        (src, _fetched(urljoin(got.name, src)) if source.is_url else _beside(Path(source.uri), src))
        for src in srcs[: LIMITS.pictures]
    ]
    out += [(src, f"not read: a page's first {LIMITS.pictures} pictures are") for src in srcs[LIMITS.pictures :]]
    return tuple(out)


def _fetched(url: str) -> bytes | str:
    from nianbao.acquire.fetch import fetch

    if urlsplit(url).scheme.lower() not in ("http", "https"):
        return "not an http(s) address"
    result = fetch(url)  # one shared Fetcher per process: the host's limits hold for its pictures too
    return result.data if result.ok and result.data is not None else f"fetch failed: {result.error}"


def _beside(page: Path, src: str) -> bytes | str:
    parts = urlsplit(src)
    if parts.scheme or parts.netloc or src.startswith(("/", "\\")):
        return "not beside the page (only a local page's relative pictures are read)"
    folder = os.path.realpath(page.parent)
    path = os.path.realpath(page.parent / unquote(parts.path))
    if os.path.commonpath([folder, path]) != folder:
        return "refused: outside the page's folder"
    try:
        size = os.stat(path).st_size
        if size > (limit := settings().max_document_bytes):
            return f"{size} bytes is over the size limit of {limit}"
        return Path(path).read_bytes()
    except OSError as e:
        return f"not found beside the page: {e.strerror or e}"
