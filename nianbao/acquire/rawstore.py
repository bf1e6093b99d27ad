"""The raw store: every document fetched, by its sha256, and the `fetches` record of every attempt.

- Documents under ROOT/raw/<ab>/<sha256>, written once whoever fetched them.
- `fetches` under ROOT/fetches/fetched_on=YYYY-MM-DD/<unique>.parquet (schema.FETCHES; append-only:
  one new file per flush, once per batch).
- The last good fetch of a URL gives its ETag / Last-Modified for a conditional GET (a 304 reuses
  the stored bytes, so a re-run downloads nothing unchanged). Those validators are kept per URL
  beside the bytes (ROOT/raw/urls/), written the moment the bytes are: a run killed before its
  `fetches` are flushed must not cost a download next time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from nianbao.model.schema import FETCHES
from nianbao.warehouse import storage

if TYPE_CHECKING:
    from nianbao.acquire.fetch import FetchResult


class RawStore:
    """Documents by sha256 and the `fetches` record, under ROOT (the warehouse, or a configured path)."""

    _shared: dict[Path, RawStore] = {}
    _shared_lock = threading.Lock()

    @classmethod
    def open(cls, root: str | Path) -> RawStore:
        """One store per ROOT per process (its records are flushed together)."""
        key = storage.path(root).resolve()
        with cls._shared_lock:
            return cls._shared.setdefault(key, cls(key))

    def __init__(self, root: str | Path):
        self.root = storage.path(root)  # a folder or s3://bucket/prefix
        self._pending: list[dict] = []
        self._lock = threading.Lock()

    def path(self, sha256: str) -> Path:
        return self.root / "raw" / sha256[:2] / sha256

    def has(self, sha256: str | None) -> bool:
        return bool(sha256) and self.path(sha256).is_file()

    def get(self, sha256: str) -> bytes | None:
        try:
            return self.path(sha256).read_bytes()
        except OSError:
            return None

    def put(self, data: bytes) -> str:
        sha = hashlib.sha256(data).hexdigest()
        path = self.path(sha)
        if storage.is_remote(path):  # one PUT is atomic
            if not path.is_file():
                path.write_bytes(data)
        elif not path.is_file():  # same bytes, same name: written once, whoever fetched them
            storage.write_atomic(path, lambda tmp: tmp.write_bytes(data))
        return sha

    def _validators(self, url: str) -> Path:
        key = hashlib.sha256(url.encode()).hexdigest()
        return self.root / "raw" / "urls" / key[:2] / f"{key}.json"

    def last(self, url: str) -> dict | None:
        """The newest good fetch of `url` whose bytes are still stored (what a conditional GET needs)."""
        try:
            row = json.loads(self._validators(url).read_bytes())
        except (OSError, ValueError):
            return None
        return row if self.has(row.get("sha256")) else None

    def record(self, result: FetchResult) -> None:
        row = result.row()
        if row["error"] is None and row["sha256"]:
            validators = json.dumps({k: row[k] for k in ("url", "sha256", "etag", "last_modified")}).encode()
            path = self._validators(row["url"])
            if storage.is_remote(path):  # one PUT is atomic
                path.write_bytes(validators)
            else:
                storage.write_atomic(path, lambda tmp: tmp.write_bytes(validators))
        with self._lock:
            self._pending.append(row)

    def flush(self) -> list[Path]:
        """Append the attempts recorded since the last flush to the `fetches` dataset."""
        with self._lock:
            rows, self._pending = self._pending, []
        return write_fetches(self.root, rows)


def write_fetches(root: str | Path, rows: list[dict | FetchResult]) -> list[Path]:
    """One new file per fetch date (fetched_on=YYYY-MM-DD, UTC); never rewrites an existing file."""
    from nianbao.warehouse.publish import write_atomic

    by_day: dict[dt.date, list[dict]] = {}
    for row in rows:
        row = row if isinstance(row, dict) else row.row()
        by_day.setdefault(row["fetched_at"].astimezone(dt.timezone.utc).date(), []).append(row)
    paths = []
    for day, day_rows in sorted(by_day.items()):
        path = storage.path(root) / "fetches" / f"fetched_on={day.isoformat()}" / f"{uuid.uuid4().hex}.parquet"
        write_atomic(pa.Table.from_pylist(day_rows, schema=FETCHES), path)
        paths.append(path)
    return paths


def read_fetches(root: str | Path) -> pa.Table:
    """Every recorded attempt (without the partition column), oldest file first."""
    files = sorted(storage.path(root).glob("fetches/fetched_on=*/*.parquet"))
    tables = [storage.read_table(f, schema=FETCHES) for f in files]
    return pa.concat_tables(tables) if tables else FETCHES.empty_table()
