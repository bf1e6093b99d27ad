"""Where the warehouse lives: a local folder (pathlib.Path, as always) or `s3://bucket/prefix`.

`path(location)` gives a Path for a folder and an S3Path for a bucket; S3Path does the few things
publishing, the raw store and `fetches` ask of a Path (`/`, parent, name, glob, exists, unlink,
read/write) with object storage's rules instead of a file system's:

- A Parquet object is never overwritten: each write of WAREHOUSE/x/part-1.parquet is a new object
  x/part-1.v<version>.parquet (version: nanoseconds since the epoch, and always above the last
  one), because readers fetch a Parquet footer and its row groups in separate requests and an
  object replaced in between breaks them. The newest version is the file; removing it writes a
  tombstone x/part-1.v<version>.gone, which Parquet readers ignore.
- A superseded version stays readable for NIANBAO_S3_GRACE seconds after its successor landed (a reader that
  listed it can still fetch it), then the next publish deletes it (`sweep`: from a listing, or from
  the versions a writer remembers having superseded, when it lists nothing).
- Other objects (raw documents, named by their sha256; leases) are plain keys.
- One writer at a time: `lease()` takes WAREHOUSE/.lease with `If-None-Match: *`, renews it with
  `If-Match` while held, and takes over one left to expire by a writer that died. Every change,
  deletes included, is fenced by it: a writer that lost it (frozen past it, then resumed) changes
  nothing more, and what it had written stays, as a killed writer's would.

Credentials and endpoint come from the usual AWS_* variables (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, AWS_REGION).
"""

from __future__ import annotations

import fnmatch
import io
import json
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from nianbao.model.errors import LeaseLost
from nianbao.model.schema import PARTITION
from nianbao.model.settings import settings

VERSIONED = re.compile(r"^(?P<stem>.+)\.v(?P<version>\d{20})\.(?P<kind>parquet|gone)$")
Retired = tuple[int, str]  # a superseded version: (its successor's version, its key)
_changes: dict[str, int] = {}  # bucket ("" for local folders) -> data files this process has written or removed there


def changes(bucket: str) -> int:
    """How many times this process has changed a data file (an object of a partition folder) in
    `bucket` ("": on local folders), by any means: an index this process trusts without listing
    must not have missed one."""
    return _changes.get(bucket, 0)


def is_remote(location) -> bool:
    return isinstance(location, S3Path) or str(location).startswith("s3://")


def path(location: str | Path | S3Path) -> Path | S3Path:
    if isinstance(location, (Path, S3Path)):
        return location
    if str(location).startswith("s3://"):
        bucket, _, key = str(location)[5:].partition("/")
        return S3Path(bucket, key.strip("/"))
    return Path(location)


def temporary(path: Path) -> Path:
    """A hidden name beside `path` to write it under: this writer's own (threads never share one),
    ending in its pid (publish.remove_stale_temporaries removes those whose writer is gone)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.parent / f".{path.name}.{uuid.uuid4().hex[:8]}.{os.getpid()}.tmp"


def write_atomic(path: Path, write: Callable[[Path], object]) -> None:
    """A local file written whole or not at all: `write(tmp)`, then tmp renamed over `path` (a
    reader sees the old file or the new one); nothing is left behind if writing fails. A data file
    (in a partition folder) is counted as a change (see `changes`)."""
    if path.parent.name.startswith(f"{PARTITION}="):
        _changes[""] = changes("") + 1
    tmp = temporary(path)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def read_table(where: Path | S3Path, **kwargs) -> pa.Table:
    return where.read_table(**kwargs) if isinstance(where, S3Path) else pq.read_table(where, **kwargs)


def options() -> dict[str, str]:
    """The AWS_* settings as polars' `storage_options` (http endpoints allowed: local servers)."""
    s3 = settings().s3
    given = {
        "aws_endpoint_url": s3.endpoint_url,
        "aws_access_key_id": s3.access_key_id,
        "aws_secret_access_key": s3.secret_access_key,
        "aws_session_token": s3.session_token,
        "aws_region": s3.region,
    }
    out = {k: v for k, v in given.items() if v}
    out.setdefault("aws_region", s3.default_region or "us-east-1")
    if out.get("aws_endpoint_url", "").startswith("http://"):
        out["aws_allow_http"] = "true"
    return out


def filesystem():
    """An s3fs filesystem from the AWS_* variables (for pyarrow, pandas and DuckDB as well)."""
    s3 = settings().s3
    return _filesystem(
        s3.endpoint_url, s3.access_key_id, s3.secret_access_key, s3.region, s3.default_region, os.getpid()
    )


@lru_cache(maxsize=8)
def _filesystem(endpoint, key, secret, region, default_region, pid):
    import s3fs

    return s3fs.S3FileSystem(
        endpoint_url=endpoint,
        key=key,
        secret=secret,
        use_listings_cache=False,
        skip_instance_cache=True,
        client_kwargs={"region_name": region or default_region or "us-east-1"},
    )


class PreconditionFailed(Exception):
    """A conditional write lost: the object exists (If-None-Match) or changed (If-Match)."""


class S3Path:
    def __init__(self, bucket: str, key: str):
        self.bucket, self.key = bucket, key.strip("/")

    # -- the Path subset ----------------------------------------------------------------------
    def __truediv__(self, part: str) -> S3Path:
        return S3Path(self.bucket, f"{self.key}/{part}" if self.key else str(part))

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    def __repr__(self) -> str:
        return f"S3Path({str(self)!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, S3Path) and str(self) == str(other)

    def __lt__(self, other: S3Path) -> bool:
        return str(self) < str(other)

    def __hash__(self) -> int:
        return hash(str(self))

    @property
    def name(self) -> str:
        return self.key.rsplit("/", 1)[-1]

    @property
    def parent(self) -> S3Path:
        return S3Path(self.bucket, self.key.rsplit("/", 1)[0] if "/" in self.key else "")

    def resolve(self) -> S3Path:
        return self

    def mkdir(self, *args, **kwargs) -> None:
        pass  # object stores have no folders

    def glob(self, pattern: str) -> list[S3Path]:
        """Files (tombstoned ones excepted) whose key below this one matches `pattern`."""
        return sorted(S3Path(self.bucket, logical) for logical in self._matching(pattern))

    def urls(self, pattern: str) -> list[str]:
        """The s3:// URLs of the newest versions of glob(pattern)'s files, from one listing."""
        return sorted(f"s3://{self.bucket}/{key}" for key in self._matching(pattern).values())

    def _matching(self, pattern: str) -> dict[str, str]:
        depth, found = pattern.count("/") + 1, {}
        keys = _list(self.bucket, self._below)
        now = {k: versions[-1][1] for k, versions in group(keys).items() if versions[-1][2] != "gone"}
        now.update((k, k) for k in keys if not VERSIONED.match(k))  # plain objects
        for logical, key in now.items():
            rel = logical[len(self._below) :]
            if rel.count("/") + 1 == depth and fnmatch.fnmatchcase(rel, pattern):
                found[logical] = key
        return found

    def exists(self) -> bool:
        return self.newest() is not None

    is_file = exists

    def unlink(self, missing_ok: bool = False) -> str | None:
        """Removed: a tombstone for a versioned file (its key returned), else the object deleted."""
        if not self._versioned:
            self._mutating()
            filesystem().rm_file(self._full)
            return None
        versions = self._versions()
        if not versions or versions[-1][2] == "gone":
            if not missing_ok:
                raise FileNotFoundError(str(self))
            return None
        tombstone = f"{self._stem}.v{self._next(versions):020d}.gone"
        self._put(tombstone, b"")
        return tombstone

    def read_bytes(self) -> bytes:
        key = self.newest()
        if key is None:
            raise FileNotFoundError(str(self))
        return filesystem().cat_file(f"{self.bucket}/{key}")

    def write_bytes(self, data: bytes) -> None:
        """Plain keys only (raw documents: same name, same bytes); Parquet goes by write_table."""
        self._put(self.key, data)

    # -- Parquet, versioned ---------------------------------------------------------------------
    def read_table(self, **kwargs) -> pa.Table:
        return pq.read_table(pa.BufferReader(self.read_bytes()), **kwargs)  # one GET: one version

    def write_table(self, table: pa.Table, listed: list[str] | None = None, **kwargs) -> S3Path:
        """A new version: readers see the old one or this one, never a mix. Returns the object.
        `listed`: keys listed under the lease holding its versions, so as not to list them again."""
        buf = io.BytesIO()
        pq.write_table(table, buf, **kwargs)
        return self.write_parquet(buf.getvalue(), listed)

    def write_parquet(self, data: bytes, listed: list[str] | None = None) -> S3Path:
        """A Parquet file's bytes as a new version (see write_table)."""
        versions = self._versions() if listed is None else group(listed).get(self.key, [])
        key = f"{self._stem}.v{self._next(versions):020d}.parquet"
        self._put(key, data)
        return S3Path(self.bucket, key)

    def newest(self) -> str | None:
        """The key of the object this path names now (None if absent or removed)."""
        if not self._versioned:
            return self.key if filesystem().exists(self._full) else None
        versions = self._versions()
        return versions[-1][1] if versions and versions[-1][2] != "gone" else None

    @property
    def _below(self) -> str:
        return f"{self.key}/" if self.key else ""

    @property
    def _versioned(self) -> bool:
        return self.key.endswith(".parquet")

    @property
    def _stem(self) -> str:
        return self.key[: -len(".parquet")]

    @property
    def _full(self) -> str:
        return f"{self.bucket}/{self.key}"

    def _versions(self) -> list[tuple[int, str, str]]:
        return group(_list(self.bucket, self._stem + ".v")).get(self.key, [])

    @staticmethod
    def _next(versions) -> int:
        return max(time.time_ns(), versions[-1][0] + 1 if versions else 0)

    def _put(self, key: str, data: bytes, **conditions) -> str:
        self._mutating()
        return put_object(self.bucket, key, data, **conditions)

    def _mutating(self) -> None:
        """Before every change, a delete as much as a write: fenced by the lease this process holds
        (a writer that lost it changes nothing more), and counted before the request, since a
        change that may have happened is a change (see `changes`)."""
        _check_lease(self.bucket)
        if self.parent.name.startswith(f"{PARTITION}="):
            _changes[self.bucket] = changes(self.bucket) + 1

    def delete(self) -> None:
        """This exact object, e.g. a version written by a publish that then failed."""
        self._mutating()
        filesystem().rm_file(self._full)

    def probe(self) -> None:
        """A write and a delete below this prefix: the bucket exists and the credentials may write."""
        probe = self / f".probe.{uuid.uuid4().hex}"
        put_object(self.bucket, probe.key, b"nianbao")
        probe.delete()

    # -- housekeeping and the lease --------------------------------------------------------------
    def keys(self, after: str | None = None) -> list[str]:
        """Every object key below this prefix (all versions and tombstones), from one listing;
        only those sorting after the key `after`, if given."""
        return _list(self.bucket, self._below, after)

    def sweep(
        self,
        prefixes: list[str],
        grace: float | None = None,
        listed: dict[str, list[str]] | None = None,
        retired: list[Retired] | None = None,
    ) -> int:
        """Delete versions superseded more than `grace` seconds ago, and tombstones as old with
        nothing left behind them. Returns the number of objects deleted. `listed`: prefix -> its
        keys as listed already (a publish's own listing), to list no prefix twice. `retired`:
        superseded versions known without a listing (a writer's own), left holding those not yet
        due, listed or retired, to sweep later without listing. Tombstones are deleted only from a
        listing, which shows that nothing is left behind them."""
        limit = time.time_ns() - int((settings().s3_grace if grace is None else grace) * 1e9)
        superseded, tombstones = {key: when for when, key in retired or ()}, []
        for prefix in prefixes:
            keys = (listed or {}).get(prefix)
            for versions in group(_list(self.bucket, f"{self._below}{prefix}/") if keys is None else keys).values():
                superseded.update((key, succ) for (_, key, _), (succ, _, _) in zip(versions, versions[1:]))
                if versions[-1][2] == "gone" and versions[-1][0] < limit:
                    tombstones.append(versions[-1][1])
        due = [key for key, when in superseded.items() if when < limit]
        # tombstones last: a sweep cut short must not bring back what they hide
        for doomed in (due, tombstones):
            if doomed:
                _check_lease(self.bucket)
                filesystem().rm([f"{self.bucket}/{k}" for k in doomed])
        if retired is not None:
            retired[:] = [(when, key) for key, when in superseded.items() if when >= limit]
        return len(due) + len(tombstones)

    @contextmanager
    def lease(self) -> Iterator[None]:
        with Lease(self.bucket, f"{self._below}.lease"):
            yield


def put_object(bucket: str, key: str, data: bytes, **conditions) -> str:
    """One PUT (atomic); `IfNoneMatch="*"` or `IfMatch=etag` make it conditional. Returns the ETag."""
    try:
        return filesystem().call_s3("put_object", Bucket=bucket, Key=key, Body=data, **conditions)["ETag"]
    except Exception as e:
        if _lost(e):
            raise PreconditionFailed(key) from e
        raise


def _lost(e: BaseException) -> bool:
    """Did a conditional request lose (HTTP 412)? s3fs turns botocore's error into an OSError."""
    for err in (e, e.__cause__, e.__context__):
        code = (getattr(err, "response", None) or {}).get("Error", {}).get("Code")
        if code in ("PreconditionFailed", "412"):
            return True
    return "pre-condition" in str(e).lower() or "precondition" in str(e).lower()


def _list(bucket: str, prefix: str, after: str | None = None) -> list[str]:
    keys, token = [], None
    while True:
        page = filesystem().call_s3(
            "list_objects_v2",
            Bucket=bucket,
            Prefix=prefix,
            **({"ContinuationToken": token} if token else {}),
            **({"StartAfter": after} if after else {}),
        )
        keys += [o["Key"] for o in page.get("Contents", [])]
        token = page.get("NextContinuationToken")
        if not token:
            return keys


def version(key: str) -> int:
    """The version of a versioned object's key (its write's nanoseconds)."""
    return int(VERSIONED.match(key)["version"])


def group(keys: list[str]) -> dict[str, list[tuple[int, str, str]]]:
    """logical name (….parquet) -> its versions (version, key, kind) oldest first."""
    out: dict[str, list[tuple[int, str, str]]] = {}
    for key in keys:
        m = VERSIONED.match(key)
        if m:
            out.setdefault(m["stem"] + ".parquet", []).append((int(m["version"]), key, m["kind"]))
    for versions in out.values():
        versions.sort()
    return out


_held: dict[str, Lease] = {}  # bucket -> a lease this process holds there (checked before writes)


class Clock:
    """The time a lease is judged by and renewed on: real time (tests advance one of their own)."""

    def time(self) -> float:
        return time.time()

    def wait(self, stop: threading.Event, seconds: float) -> bool:
        """Wait `seconds`, or until `stop` is set: whether it was."""
        return stop.wait(seconds)


CLOCK = Clock()  # leases made without a clock of their own use this one


@dataclass(frozen=True)
class Timing:
    lease_poll: float = 0.2  # seconds between tries to take a lease another writer holds


TIMING = Timing()


def _check_lease(bucket: str) -> None:
    lease = _held.get(bucket)
    if lease is not None and lease.lost:
        raise LeaseLost(f"lost the warehouse lease s3://{bucket}/{lease.key}: another writer took it over")
    if lease is not None and lease.clock.time() >= lease.expires:  # renewals failed: another may take it over now
        raise LeaseLost(f"lost the warehouse lease s3://{bucket}/{lease.key}: it expired unrenewed")


class Lease:
    """WAREHOUSE/.lease: {owner, expires}. Taken with If-None-Match: * (one winner), renewed with
    If-Match, taken over with If-Match once expired (its holder died), deleted on release."""

    def __init__(self, bucket: str, key: str, seconds: float | None = None, clock: Clock | None = None):
        self.bucket, self.key = bucket, key
        self.clock = CLOCK if clock is None else clock
        self.seconds = settings().s3_lease if seconds is None else seconds  # renewed every third of it
        self.owner = uuid.uuid4().hex
        self.lost = False
        self.expires = 0.0  # as last written, by this writer's clock (as a taker judges it, by its own)
        self._etag: str | None = None
        self._stop = threading.Event()

    def _write(self, **conditions) -> None:
        expires = self.clock.time() + self.seconds
        self._etag = put_object(
            self.bucket, self.key, json.dumps({"owner": self.owner, "expires": expires}).encode(), **conditions
        )
        self.expires = expires

    def __enter__(self) -> Lease:
        _process_lock(self.bucket, self.key).acquire()
        try:
            while not self._try():
                time.sleep(TIMING.lease_poll)
        except BaseException:
            _process_lock(self.bucket, self.key).release()
            raise
        _held[self.bucket] = self
        self._renewer = threading.Thread(target=self._renew, daemon=True)
        self._renewer.start()
        return self

    def _try(self) -> bool:
        try:
            self._write(IfNoneMatch="*")
            return True
        except PreconditionFailed:
            pass
        try:
            head = filesystem().call_s3("get_object", Bucket=self.bucket, Key=self.key)
            current = json.loads(_sync_read(head["Body"]))
        except FileNotFoundError:
            return False  # released meanwhile: try again
        except Exception as e:  # noqa: BLE001  a garbled lease is treated as expired
            if "NoSuchKey" in repr(e):
                return False
            current = {"expires": 0}
        if current.get("expires", 0) >= self.clock.time():
            return False
        try:  # its holder died: take it over, unless someone else just did
            self._write(IfMatch=head["ETag"])
            return True
        except PreconditionFailed:
            return False

    def _renew(self) -> None:
        while not self.clock.wait(self._stop, self.seconds / 3):
            try:
                self._write(IfMatch=self._etag)
            except PreconditionFailed:
                self.lost = True
                return
            except Exception:  # noqa: BLE001  a network blip: try again before it expires
                continue

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._renewer.join()
        _held.pop(self.bucket, None)
        try:
            if not self.lost:  # only if still ours: If-Match, as a takeover changes the ETag
                filesystem().call_s3("delete_object", Bucket=self.bucket, Key=self.key, IfMatch=self._etag)
        except OSError as e:
            if not _lost(e):
                raise
        finally:
            _process_lock(self.bucket, self.key).release()


@lru_cache(maxsize=None)
def _process_lock(bucket: str, key: str) -> threading.Lock:
    return threading.Lock()


def _sync_read(body) -> bytes:
    """Read an aiobotocore streaming body on s3fs's event loop."""
    from fsspec.asyn import sync

    async def read():
        async with body as stream:
            return await stream.read()

    return sync(filesystem().loop, read)
