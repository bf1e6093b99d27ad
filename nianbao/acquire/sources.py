"""Sources (files, directories, manifests, URLs) resolved to the documents a run ingests."""

from __future__ import annotations

import csv
import errno
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from nianbao.extract import SUFFIXES
from nianbao.model.errors import Unreadable, UsageError
from nianbao.model.settings import settings

MANIFEST_SUFFIXES = {".csv", ".jsonl"}
MANIFEST_COLUMNS = ("agency", "region_code", "year", "format", "title", "published_on")


def allow_outside_default() -> bool:
    return settings().allow_outside


@dataclass(frozen=True)
class Source:
    uri: str  # as given (a manifest's relative path resolved against the manifest)
    overrides: dict = field(default_factory=dict, hash=False)  # manifest values, which win over the document's
    refused: str | None = None  # why it must not be read (a manifest path outside the manifest's folder)

    @property
    def is_url(self) -> bool:
        return self.uri.startswith(("http://", "https://"))


def resolve(specs: list[str], allow_outside: bool | None = None) -> list[Source]:
    """`allow_outside`: read a manifest's local paths outside the manifest's folder (default: no,
    unless NIANBAO_ALLOW_OUTSIDE=1): a manifest from elsewhere must not make us read /etc/shadow."""
    allow_outside = allow_outside_default() if allow_outside is None else allow_outside
    out: list[Source] = []
    for spec in specs:
        if spec.startswith(("http://", "https://")):
            out.append(Source(spec))
            continue
        path = Path(spec)
        if path.is_dir():
            # links too, even dangling or looping ones: they get a row that says so, not silence
            out += [
                Source(str(p))
                for p in sorted(path.rglob("*"))
                if (p.is_file() or p.is_symlink()) and p.suffix.lower() in SUFFIXES
            ]
        elif path.suffix.lower() in MANIFEST_SUFFIXES:
            out += _manifest(path, allow_outside)
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


def unsupported(specs: list[str]) -> dict[str, str]:
    """Files inside the directories named that are not documents a run reads (a .md, an .xls, a
    manifest lying among the reports), each with why: the summary names them rather than skipping
    them silently."""
    out = {}
    for spec in specs:
        path = Path(spec)
        if not spec.startswith(("http://", "https://")) and path.is_dir():
            out |= {
                str(p): "a manifest: pass it by name"
                if p.suffix.lower() in MANIFEST_SUFFIXES
                else "not a report format"
                for p in sorted(path.rglob("*"))
                if p.is_file() and not p.name.startswith(".") and p.suffix.lower() not in SUFFIXES
            }
    return out


def _manifest(path: Path, allow_outside: bool = False) -> list[Source]:
    if not path.is_file():
        raise UsageError(f"{path}: no such manifest")
    text = _decode_manifest(path, path.read_bytes())
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(text.splitlines())
        try:
            rows = [(reader.line_num, row) for row in reader]
        except csv.Error as e:
            raise UsageError(f"{path}:{reader.line_num}: not CSV ({e})") from e
    else:
        rows = []
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                rows.append((n, json.loads(line)))
            except json.JSONDecodeError as e:
                raise UsageError(f"{path}:{n}: not JSON lines ({e})") from e
            if not isinstance(rows[-1][1], dict):
                raise UsageError(f"{path}:{n}: a line must be a JSON object with a `uri`")
    out = []
    folder = os.path.realpath(path.parent)
    for n, row in rows:
        uri = str(row.get("uri") or "").strip()
        if not uri:
            raise UsageError(f"{path}:{n}: the column `uri` is required")
        refused = None
        if not uri.startswith(("http://", "https://")):
            uri = str(path.parent / uri)  # an absolute path stays itself
            if not allow_outside and os.path.commonpath([folder, os.path.realpath(uri)]) != folder:
                refused = (
                    f"refused: the path is outside the manifest's folder {path.parent} "
                    f"(--allow-outside or NIANBAO_ALLOW_OUTSIDE=1 allows it)"
                )
        overrides = {k: str(row[k]).strip() for k in MANIFEST_COLUMNS if row.get(k) not in (None, "")}
        if "year" in overrides:
            try:
                overrides["year"] = int(overrides["year"])
            except ValueError:
                overrides["year"] = None
            # any four digits are a year (one the contract does not cover is the report's
            # metadata.year finding); 99999 is a typo, and no int16 holds 99999
            if not 1000 <= (overrides["year"] or 0) <= 9999:
                raise UsageError(f"{path}:{n}: year {row['year']!r} is not a year (four digits)")
        out.append(Source(uri, overrides, refused))
    return out


def _decode_manifest(path: Path, data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, or GB18030 (what Excel saves on Chinese Windows)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as e:
            raise UsageError(f"{path}: not UTF-16 after its UTF-16 byte order mark ({e.reason})") from e
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        bad = e
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        line = data[: bad.start].count(b"\n") + 1
        raise UsageError(
            f"{path}:{line}: the manifest is neither UTF-8 nor GB18030 "
            f"(byte {data[bad.start]:#04x} at offset {bad.start})"
        ) from None


@dataclass(frozen=True)
class Read:
    """A document's bytes and what else tells its format: the name it ended under (the final URL
    after redirects, or the path) and the Content-Type the server sent."""

    data: bytes
    name: str
    content_type: str | None = None
    sha256: str | None = None  # the bytes' digest, when the fetch made it already


def read(source: Source, max_bytes: int | None = None, store=None, allow_private: bool | None = None) -> Read:
    """The document's bytes, or Unreadable with the reason. URLs go through the polite fetcher
    (nianbao.acquire.fetch), keeping their bytes and a record of each attempt in `store` when given;
    `allow_private` is the fetch's (default: NIANBAO_ALLOW_PRIVATE); `max_bytes` the size limit's
    (default: NIANBAO_MAX_DOCUMENT_MB)."""
    max_bytes = settings().max_document_bytes if max_bytes is None else max_bytes
    if source.refused:
        raise Unreadable(source.refused)
    if source.is_url:
        from nianbao.acquire.fetch import fetch

        result = fetch(
            source.uri, store, allow_private=allow_private
        )  # one shared Fetcher per process: per-host limits hold
        if not result.ok:
            raise Unreadable(f"fetch failed: {result.error}")
        got = Read(result.data, result.final_url or result.url, result.declared_type, result.sha256)
    else:
        path = Path(source.uri)
        try:
            size = path.stat().st_size
            if size > max_bytes:
                raise Unreadable(f"{size} bytes is over the size limit of {max_bytes}")
            got = Read(path.read_bytes(), source.uri)
        except OSError as e:
            raise Unreadable(_os_reason(path, e)) from e
    if len(got.data) > max_bytes:
        raise Unreadable(f"{len(got.data)} bytes is over the size limit of {max_bytes}")
    if not got.data.strip(b" \t\r\n\x0b\x0c\x00"):  # a download never filled in is all NULs
        raise Unreadable("the document is empty")
    return got


def _os_reason(path: Path, e: OSError) -> str:
    if e.errno == errno.ELOOP:
        return "a symbolic link that loops (it never reaches a file)"
    if path.is_symlink() and e.errno == errno.ENOENT:
        return "a dangling symbolic link (the file it points to does not exist)"
    return f"cannot read the file: {e.strerror or e}"
