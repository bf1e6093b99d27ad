"""Sources (files, directories, manifests, URLs) resolved to the documents a run ingests."""
from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

from nianbao.document import Unreadable

DOCUMENT_SUFFIXES = {".pdf", ".docx", ".doc", ".wps", ".html", ".htm", ".txt"}
MANIFEST_SUFFIXES = {".csv", ".jsonl"}
MANIFEST_COLUMNS = ("agency", "region_code", "year", "format", "title", "published_on")
MAX_BYTES = 50 * 1024 * 1024


class UsageError(ValueError):
    """A source that cannot be a source at all (the command line exits 2)."""


@dataclass(frozen=True)
class Source:
    uri: str  # as given (a manifest's relative path resolved against the manifest)
    overrides: dict = field(default_factory=dict, hash=False)  # manifest values, which win over the document's

    @property
    def is_url(self) -> bool:
        return self.uri.startswith(("http://", "https://"))


def resolve(specs: list[str]) -> list[Source]:
    out: list[Source] = []
    for spec in specs:
        if spec.startswith(("http://", "https://")):
            out.append(Source(spec))
            continue
        path = Path(spec)
        if path.is_dir():
            out += [Source(str(p)) for p in sorted(path.rglob("*")) if p.is_file() and p.suffix.lower() in DOCUMENT_SUFFIXES]
        elif path.suffix.lower() in MANIFEST_SUFFIXES:
            out += _manifest(path)
        elif path.is_file():
            out.append(Source(spec))
        else:
            raise UsageError(f"{spec}: no such file, directory or manifest")
    seen, unique = set(), []
    for s in out:  # the same document named twice is ingested once
        if s.uri not in seen:
            seen.add(s.uri)
            unique.append(s)
    return unique


def _manifest(path: Path) -> list[Source]:
    if not path.is_file():
        raise UsageError(f"{path}: no such manifest")
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".csv":
        rows = list(csv.DictReader(text.splitlines()))
    else:
        try:
            rows = [json.loads(line) for line in text.splitlines() if line.strip()]
        except json.JSONDecodeError as e:
            raise UsageError(f"{path}: not JSON lines ({e})") from e
    out = []
    for n, row in enumerate(rows, 2 if path.suffix.lower() == ".csv" else 1):
        uri = (row.get("uri") or "").strip()
        if not uri:
            raise UsageError(f"{path}:{n}: the column `uri` is required")
        if not uri.startswith(("http://", "https://")) and not Path(uri).is_absolute():
            uri = str(path.parent / uri)
        overrides = {k: str(row[k]).strip() for k in MANIFEST_COLUMNS if row.get(k) not in (None, "")}
        if "year" in overrides:
            try:
                overrides["year"] = int(overrides["year"])
            except ValueError as e:
                raise UsageError(f"{path}:{n}: year {row['year']!r} is not a year") from e
        out.append(Source(uri, overrides))
    return out


def read(source: Source, max_bytes: int = MAX_BYTES, store=None) -> bytes:
    """The document's bytes, or Unreadable with the reason. URLs go through the polite fetcher
    (nianbao.fetch), keeping their bytes and a record of each attempt in `store` when given."""
    if source.is_url:
        from nianbao.fetch import fetch

        result = fetch(source.uri, store)  # one shared Fetcher per process: per-host limits hold
        if not result.ok:
            raise Unreadable(f"fetch failed: {result.error}")
        data = result.data
    else:
        path = Path(source.uri)
        try:
            size = path.stat().st_size
            if size > max_bytes:
                raise Unreadable(f"{size} bytes is over the size limit of {max_bytes}")
            data = path.read_bytes()
        except OSError as e:
            raise Unreadable(f"cannot read the file: {e.strerror or e}") from e
    if len(data) > max_bytes:
        raise Unreadable(f"{len(data)} bytes is over the size limit of {max_bytes}")
    if not data.strip():
        raise Unreadable("the document is empty")
    return data
