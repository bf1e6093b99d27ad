"""Which files hold which reports, kept in the warehouse so a batch is published in O(batch).

A report's rows all live in files of one partition folder and one name (its batch's file, under
every dataset and quarantine): a *location*, ("year=2023", "part-….parquet"). The index,
WAREHOUSE/_index/report_ids.parquet, holds one row per location: the report ids its files hold, the
source of each that is current (see Versions of a report in publish.py) and the identity of each of
those files (a local file's inode, mtime and size; an object's version key).

It is a cache of the data, never trusted over it: every load lists the data files (a listing, no
reads) and any location whose files differ from what the index recorded (new, rewritten, removed:
a crash, the checks across years, a hand edit, an older nianbao) has its ids read again from its
files. A missing or unreadable index is rebuilt that way. Publishing writes it last, after the
batch's `reports` files, as part of the same all-or-nothing plan.

On S3 that listing costs requests that grow with the warehouse, so a writer keeps the index it
wrote (`settled`) and its next load in this process skips the listing when the data cannot have
changed since, that is when all hold:
- the index object it wrote is still the newest: no other writer (publish, compact, in any
  process: they write an index last) has finished a change since;
- WRITING is absent: every writer puts it before its first change to the data (`writing`) and
  deletes it only once its index is written, so one that crashed, was killed or interrupted, or
  failed half way (whether or not it released the lease) leaves it behind;
- this process has changed no data file since by other means (storage.changes).
The first two are one request, listing `_index/` after the index object it wrote (a newer version
or WRITING would sort there), so it stays one however many versions the grace keeps.
Otherwise it lists everything. So what is skipped is provably nothing but a listing that would
show what the index holds. (A file rewritten by a program that is not nianbao while a process
publishes is read again by the next process: a process's first load always lists.)

On a folder a publish leaves its WRITING there (`keep`) and the index it holds is trusted by this
process's next load while WRITING is still that very one (each writer's is unique; another
writer, finished or not, replaced or removed it), the index file is the one it left, and this
process has changed no data file since by other means. And since rewriting the whole index file
at every batch costs a run O(batches²), a publish leaves the file behind the data until what it
does not tell reaches a tenth of it (`due`); the run's end writes it and removes WRITING
(publish.settle). A process killed meanwhile leaves at most that tenth to be read again. Once
WRITING is another (the checks across years rewrite files and mark it), the next load still starts
from the index this process holds, while the index file is the one it left: that index is checked
against the listing as the file would be, and the file is not read (a 100,000-report run's end:
+30 MiB to read it, beside the index held).
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from nianbao.model.errors import WarehouseError
from nianbao.model.schema import DATASETS, PARTITION, schema
from nianbao.model.settings import settings
from nianbao.warehouse import storage

INDEX = "_index/report_ids.parquet"  # below the warehouse root; `_` keeps it out of Hive readers' way
WRITING = "_index/writing"  # there while a writer changes the data, or the index file is behind it (on S3 it
# sorts after INDEX's versions)
SCHEMA = pa.schema(
    [
        ("partition", pa.string()),
        ("file", pa.string()),
        ("report_ids", pa.list_(pa.string())),
        ("paths", pa.list_(pa.string())),
        ("identities", pa.list_(pa.string())),
        # beside report_ids: the source_uri of each report current there (superseded_by
        # null in its `reports` row), else null; how a new version finds the one it supersedes
        ("sources", pa.list_(pa.string())),
    ]
)
# how the index file is written: its writer encodes a row group at a time (one of every location: a
# 100,000-report run's 13.5 MiB index took +8-9 MiB to write, in row groups of 64 locations +2-3)
WRITTEN = {"compression": "zstd", "row_group_size": 64}
Location = tuple[str, str]  # (partition folder, file name)
COMPACTED = "compacted-"  # the name of a file `nianbao compact` merged a partition's files into
CLAIM = b"nianbao.replaces"  # its footer's key: {path below root: identity} of the files it replaced


def location(rel: str) -> Location:
    """`dataset/year=Y/name` or `quarantine/dataset/year=Y/name` -> ("year=Y", name)."""
    *_, partition, name = rel.split("/")
    return partition, name


def listing(
    root: Path | storage.S3Path, bases: list[str] | None = None, keys: dict[str, list[str]] | None = None
) -> dict[str, str]:
    """Data files now, of `bases` (e.g. "reports", "quarantine/applications"; by default every
    dataset and its quarantine): path below root -> identity. A listing: nothing is read. On S3,
    `keys` (a dict) receives each base's raw keys, for sweeping without listing again."""
    if storage.is_remote(root):
        out = {}
        skip = len(root.key) + 1 if root.key else 0
        for base in bases or (*DATASETS, "quarantine"):
            raw = (root / base).keys()
            if keys is not None:
                keys[base] = raw
            for logical, versions in storage.group(raw).items():
                rel = logical[skip:]
                if versions[-1][2] != "gone" and rel.count("/") == (3 if rel.startswith("quarantine/") else 2):
                    out[rel] = versions[-1][1]
        return out
    out = {}
    for base in bases or [*DATASETS, *(f"quarantine/{d}" for d in DATASETS)]:
        try:
            partitions = [e for e in os.scandir(root / base) if e.is_dir() and e.name.startswith(f"{PARTITION}=")]
        except FileNotFoundError:
            continue
        for part in partitions:
            for e in os.scandir(part.path):
                if e.name.endswith(".parquet") and not e.name.startswith("."):
                    st = e.stat()
                    out[f"{base}/{part.name}/{e.name}"] = f"{st.st_ino}-{st.st_mtime_ns}-{st.st_size}"
    return out


def replaced(root: Path | storage.S3Path, files: dict[str, str], among=None) -> set[str]:
    """The files of `files` that a compacted file replaced (nianbao/warehouse/compact.py), as they were then:
    a compacted file names them, with their identities, in its footer (CLAIM); they are deleted
    right after it lands, so this is only ever not empty while (or if killed while) compacting."""
    out = set()
    for rel in files if among is None else among:
        ident = files[rel]
        if rel.rsplit("/", 1)[-1].startswith(COMPACTED):
            meta = _footer(root, rel, ident).metadata or {}
            claims = json.loads(meta.get(CLAIM, b"{}"))
            out |= {r for r, i in claims.items() if files.get(r) == i}
    return out


def _footer(root, rel: str, ident: str) -> pq.FileMetaData:
    if storage.is_remote(root):
        with storage.filesystem().open(f"{root.bucket}/{ident}") as f:
            return pq.read_metadata(f)
    return pq.read_metadata(root / rel)


def relative(root: Path | storage.S3Path, path: Path | storage.S3Path) -> str:
    if storage.is_remote(root):
        return path.key[len(root.key) + 1 :] if root.key else path.key
    return path.relative_to(root).as_posix()


def identity(root: Path | storage.S3Path, written: Path | storage.S3Path) -> str:
    """The identity a just-written file will be listed with (a local temporary keeps it when renamed)."""
    if storage.is_remote(root):
        return written.key
    st = os.stat(written)
    return f"{st.st_ino}-{st.st_mtime_ns}-{st.st_size}"


def read_file(root: Path | storage.S3Path, rel: str, ident: str, **kwargs) -> pa.Table:
    """The listed file `rel` as listed (on S3 its exact version: one GET), once its columns are
    known to be its dataset's (a file of an older nianbao may lack some: they read as null)."""
    source = (
        pa.BufferReader(storage.filesystem().cat_file(f"{root.bucket}/{ident}"))
        if storage.is_remote(root)
        else root / rel
    )
    _check_columns(root, rel, pq.read_schema(source))
    return pq.read_table(source, **kwargs)


def _check_columns(root: Path | storage.S3Path, rel: str, found: pa.Schema) -> None:
    """A file another program left in a partition cannot be merged with: it stops the run, in one
    line naming it and what to do (rather than Arrow's schema dump)."""
    dataset = rel.split("/")[1 if rel.startswith("quarantine/") else 0]
    want = {f.name: f.type for f in schema(dataset, with_partition=False)}
    why = next(
        (
            f"its column {f.name} is none of the dataset's"
            if f.name not in want
            else f"its column {f.name} is {f.type}, not {want[f.name]}"
            for f in found
            if f.name not in want or not f.type.equals(want[f.name])
        ),
        None if "report_id" in found.names else "it has no column report_id",
    )
    if why:
        raise WarehouseError(
            f"{root / rel} is not a file of the warehouse's `{dataset}` dataset ({why}): "
            "move it out of the warehouse, then run again"
        )


@dataclass
class Index:
    root: Path | storage.S3Path
    files: dict[str, str]  # the listing: path below root -> identity
    keys: dict[str, list[str]] = field(default_factory=dict)  # on S3: prefix -> every key, as listed
    ids: dict[Location, set[str]] = field(default_factory=dict)  # locations read or changed since loaded
    sources: dict[Location, dict[str, str]] = field(default_factory=dict)  # of `ids`' locations: current id -> source
    kept: pa.Table = field(default_factory=SCHEMA.empty_table)  # the index file's rows of all the others
    reread: int = 0  # locations whose ids were read from their files at load (stale or new)
    retired: list[storage.Retired] = field(default_factory=list)  # on S3: versions to sweep when due, unlisted
    writing: bool = False  # on S3: WRITING was there at load, or the load itself changed the data
    behind: int = 0  # on a folder: locations changed since the index file was written (or that it has wrong)

    # The rows kept stay Arrow: a batch's work on them is in Arrow's loops, not Python's.
    @cached_property
    def by_location(self) -> dict[Location, dict[str, str]]:
        out: dict[Location, dict[str, str]] = {}
        for rel, ident in self.files.items():
            out.setdefault(location(rel), {})[rel] = ident
        return out

    def ids_at(self, loc: Location) -> set[str]:
        if loc in self.ids:
            return self.ids[loc]
        rows = self.kept.filter(self._among({loc}))
        return set(pc.list_flatten(rows["report_ids"]).to_pylist())

    def sources_at(self, loc: Location) -> dict[str, str]:
        """The reports current at `loc`: id -> source."""
        if loc in self.ids:
            return self.sources.get(loc, {})
        rows = self.kept.filter(self._among({loc}))
        ids, srcs = pc.list_flatten(rows["report_ids"]).to_pylist(), pc.list_flatten(rows["sources"]).to_pylist()
        return {i: s for i, s in zip(ids, srcs) if s is not None}

    def current(self, sources) -> dict[str, set[str]]:
        """source -> the ids of its reports that are current (normally one)."""
        wanted, out = set(sources), {}
        for held in self.sources.values():
            for rid, src in held.items():
                if src in wanted:
                    out.setdefault(src, set()).add(rid)
        if self.kept.num_rows and wanted:
            srcs = pc.list_flatten(self.kept["sources"])
            hit = pc.is_in(srcs, value_set=pa.array(sorted(wanted), pa.string()))
            for rid, src in zip(
                pc.filter(pc.list_flatten(self.kept["report_ids"]), hit).to_pylist(), pc.filter(srcs, hit).to_pylist()
            ):
                out.setdefault(src, set()).add(rid)
        return out

    def holding(self, report_ids) -> set[Location]:
        wanted = set(report_ids)
        out = {loc for loc, ids in self.ids.items() if not wanted.isdisjoint(ids)}
        if self.kept.num_rows:
            lists = self.kept["report_ids"]
            hit = pc.is_in(pc.list_flatten(lists), value_set=pa.array(sorted(wanted), pa.string()))
            for i in pc.unique(pc.filter(pc.list_parent_indices(lists), hit)).to_pylist():
                out.add((self.kept["partition"][i].as_py(), self.kept["file"][i].as_py()))
        return out

    def after(
        self,
        files: dict[str, str],
        moved: set[str],
        placed: dict[Location, set[str]],
        current: dict[str, str | None] | None = None,
    ) -> Index:
        """The index once `files` is the listing: the `moved` reports left every location they were
        in and are now where `placed` says (a publish removes a report's rows everywhere first),
        each current for the source it was before unless `current` (id -> source, or None: not
        current, e.g. superseded) says otherwise."""
        current = current or {}
        touched = self.holding(set(moved) | set(current)) | set(placed)
        ids = {**self.ids, **{loc: self.ids_at(loc) - moved for loc in touched}}
        before = {loc: self.sources_at(loc) for loc in touched}
        was = {r: s for held in before.values() for r, s in held.items() if r in moved}
        now = lambda r, s: current[r] if r in current else s  # noqa: E731
        sources = {
            **self.sources,
            **{
                loc: {r: now(r, s) for r, s in held.items() if r not in moved and now(r, s)}
                for loc, held in before.items()
            },
        }
        for loc, new in placed.items():
            ids[loc] |= new
            sources[loc].update((r, now(r, was.get(r))) for r in new if now(r, was.get(r)))
        gone = self._among(touched)  # most often none: the kept rows shared, not copied (a batch copied them all)
        new = Index(self.root, files, kept=self.kept.filter(pc.invert(gone)) if pc.any(gone).as_py() else self.kept)
        new.ids = {loc: held for loc, held in ids.items() if loc in new.by_location}
        new.sources = {loc: sources.get(loc, {}) for loc in new.ids}
        return new

    def table(self) -> pa.Table:
        files_at = self.by_location
        rows = [
            {
                "partition": p,
                "file": f,
                "report_ids": sorted(ids),
                "paths": sorted(files_at[p, f]),
                "identities": [files_at[p, f][r] for r in sorted(files_at[p, f])],
                "sources": [self.sources.get((p, f), {}).get(r) for r in sorted(ids)],
            }
            for (p, f), ids in sorted(self.ids.items())
        ]
        return _appended(self.kept, pa.Table.from_pylist(rows, schema=SCHEMA))

    def folded(self) -> Index:
        """This index with every location among the rows `kept`, as the index file would hold them:
        what a writer keeps for its next batch (its Python sets would grow with the run)."""
        self.kept, self.ids, self.sources = self.table(), {}, {}
        self.__dict__.pop("_keys", None)
        return self

    @cached_property
    def _keys(self) -> pa.ChunkedArray:
        return pc.binary_join_element_wise(self.kept["partition"], self.kept["file"], "/")

    def _among(self, locs: set[Location]) -> pa.Array:
        return pc.is_in(self._keys, value_set=pa.array(sorted(f"{p}/{f}" for p, f in locs), pa.string()))


def _appended(kept: pa.Table, rows: pa.Table) -> pa.Table:
    """`kept` and then `rows`, their chunks shared, not copied. A writer that keeps its index adds a chunk
    per batch: the newest are merged while one is as long as the one before it, so that filters see at
    most log2(rows) chunks and a row is copied log2(rows) times in all (merging them all every 16
    batches copied the whole index each time: a 100,000-report run's 12 MiB)."""
    chunks = [b for b in (*kept.to_batches(), *rows.to_batches()) if b.num_rows]
    while len(chunks) > 1 and chunks[-1].num_rows >= chunks[-2].num_rows:
        last = chunks.pop()
        chunks[-1] = pa.concat_batches([chunks[-1], last])
    return pa.Table.from_batches(chunks, schema=SCHEMA)


def load(root: Path | storage.S3Path) -> Index:
    """The index checked against a listing of the data; stale or missing locations read again. On
    S3 the index this process wrote last, unlisted, when the data cannot have changed since."""
    keys: dict[str, list[str]] = {}
    marked = False
    if storage.is_remote(root):
        written, changes, trusted = _trusted.pop(_where(root), (None, None, None))
        if written and changes == storage.changes(root.bucket) and not (root / "_index").keys(after=written):
            _trusted[_where(root)] = written, changes, trusted
            return replace(trusted, keys={"_index": [written]})
        keys["_index"] = (root / "_index").keys()
        marked = (root / WRITING).key in keys["_index"]
        trusted = None
    else:
        stamp, changes, trusted = _trusted.pop(_where(root), (None, None, None))
        now = _stamp(root)
        if trusted is not None and stamp == now and changes == storage.changes(""):
            _trusted[_where(root)] = stamp, changes, trusted
            return trusted
        if trusted is not None and stamp[1] != now[1]:
            trusted = None  # the index file is not the one this process left
        marked = (root / WRITING).exists()
    index = Index(root, listing(root, keys=keys), keys, writing=marked)
    if trusted is not None:  # the file this process left and what it knows past it: checked, not read
        table, index.behind = trusted.table(), trusted.behind  # (a run's end, 100,000 reports: +30 MiB read)
        trusted = None
    else:
        try:
            table = storage.read_table(root / INDEX)
            table = table.select(SCHEMA.names).cast(SCHEMA)  # an older nianbao's, without `sources`: rebuilt
        except (FileNotFoundError, OSError, KeyError, pa.ArrowException):
            table = SCHEMA.empty_table()  # missing or unreadable: every location is read from its files
    recorded = [
        ((p, f), dict(zip(paths, idents)))
        for p, f, paths, idents in zip(*(table[c].to_pylist() for c in ("partition", "file", "paths", "identities")))
    ]

    def fresh() -> list[bool]:  # the rows whose location has exactly the files recorded
        files_at = index.by_location
        return [files_at.get(loc) == files for loc, files in recorded]

    known = {loc for (loc, _), ok in zip(recorded, fresh()) if ok}
    stale = [rel for rel in index.files if location(rel) not in known]
    unfinished = replaced(root, index.files, stale)
    if unfinished:  # a compaction was killed before it deleted the files it replaced: finish it
        writing(root)
        for rel in unfinished:
            (root / rel).unlink(missing_ok=True)
        index = Index(root, {r: i for r, i in index.files.items() if r not in unfinished}, keys, writing=True)
    ok = fresh()
    # its rows copied only when some are stale (at a run's end most often none are)
    index.kept = table if all(ok) else table.filter(pa.array(ok, pa.bool_()))
    del table
    known = {loc for (loc, _), good in zip(recorded, ok) if good}
    index.behind += len(ok) - sum(ok)
    for loc, files in index.by_location.items():
        if loc not in known:
            index.reread += 1
            index.behind += 1
            index.ids[loc], index.sources[loc] = set(), {}
            for rel, ident in files.items():
                if rel.startswith("reports/"):
                    rows = read_file(root, rel, ident, schema=_CURRENT, columns=_CURRENT.names)
                    index.sources[loc] = {
                        r: s for r, s, by in zip(*(rows[c].to_pylist() for c in _CURRENT.names)) if by is None
                    }
                else:
                    rows = read_file(root, rel, ident, columns=["report_id"])
                index.ids[loc].update(rows["report_id"].to_pylist())
    return index


def may_hold(root: Path | storage.S3Path, files: dict[str, str], report_ids: set[str]) -> set[str]:
    """Of `files` (a listing), those that may hold any of `report_ids`: the files of the index file's
    locations that hold one, and every file it does not record as it is now (written or rewritten
    since). The index file alone is read; nothing is loaded or changed (a reader's look, outside
    the lock: a batch's lookup of its own documents, publish.published)."""
    try:
        table = storage.read_table(root / INDEX, columns=["report_ids", "paths", "identities"])
    except (FileNotFoundError, OSError, KeyError, pa.ArrowException):
        return set(files)  # none, or unreadable: every file may
    lists = table["report_ids"]
    hit = pc.is_in(pc.list_flatten(lists), value_set=pa.array(sorted(report_ids), pa.string()))
    holding = set(pc.unique(pc.filter(pc.list_parent_indices(lists), hit)).to_pylist())
    recorded = {
        rel: (ident, i in holding)
        for i, (paths, idents) in enumerate(zip(table["paths"].to_pylist(), table["identities"].to_pylist()))
        for rel, ident in zip(paths, idents)
    }
    return {rel for rel, ident in files.items() if recorded.get(rel, (None, True)) != (ident, False)}


# what a `reports` file tells of a report's version (a file without superseded_by: every one current)


@dataclass(frozen=True)
class Thresholds:
    behind: int = 10  # a folder's index file is written once what it does not tell reaches 1/behind of it


THRESHOLDS = Thresholds()
_CURRENT = pa.schema([("report_id", pa.string()), ("source_uri", pa.string()), ("superseded_by", pa.string())])

# where (endpoint, s3://bucket/prefix) -> (the index object this process wrote there last, storage.changes
# then, that index as an Index); for a folder (None, its path) -> (_stamp then, storage.changes("") then,
# the Index of the data): see the module's docstring
_trusted: dict[tuple[str | None, str], tuple[str | tuple, int, Index]] = {}


def _where(root: Path | storage.S3Path) -> tuple[str | None, str]:
    if not storage.is_remote(root):
        return None, os.path.abspath(root)
    return settings().s3.endpoint_url, str(root)


def _stamp(root: Path) -> tuple[bytes | None, str | None]:
    """On a folder: WRITING's content (each writer puts its own, unique) and the index file's
    identity (None: absent). Another writer, finished, crashed or interrupted, changed WRITING."""
    try:
        mark = (root / WRITING).read_bytes()
    except FileNotFoundError:
        mark = None
    try:
        st = os.stat(root / INDEX)
        return mark, f"{st.st_ino}-{st.st_mtime_ns}-{st.st_size}"
    except FileNotFoundError:
        return mark, None


def writing(root: Path | storage.S3Path) -> None:
    """Before a writer's first change to the data: until `settled`, no load trusts an index (but
    the one this process `keep`s on a folder)."""
    mark = json.dumps(
        {"host": socket.gethostname(), "pid": os.getpid(), "since": time.time(), "writer": uuid.uuid4().hex}
    ).encode()
    if not storage.is_remote(root):
        (root / WRITING).parent.mkdir(parents=True, exist_ok=True)
    (root / WRITING).write_bytes(mark)  # a reader meeting it half written only sees it is not its own


def due(held: Index, changed: int) -> bool:
    """Whether a writer that changed `changed` more locations of `held` writes the index file now:
    on S3 always; on a folder when what the file does not tell reaches a tenth of it, so that a
    run writes it O(log batches) times, O(batches) rows in all."""
    return storage.is_remote(held.root) or THRESHOLDS.behind * (held.behind + changed) >= len(held.by_location)


def keep(root: Path, new: Index) -> None:
    """On a folder, after a publish: its WRITING stays until the run's end (publish.settle), and
    `new`, the index of the data now (written to the file or not: index.due), is kept for this
    process's next load, trusted while WRITING is that very one."""
    _trusted[_where(root)] = _stamp(root), storage.changes(""), new


def unchanged(root: Path | storage.S3Path, held: Index) -> None:
    """On S3, after a writer undid every change it made (and there was no other since `held` was
    loaded): the data is as the index tells again."""
    if storage.is_remote(root) and not held.writing:
        (root / WRITING).unlink(missing_ok=True)


def settled(
    root: Path | storage.S3Path,
    written: storage.S3Path | None,
    files: dict[str, str],
    table: pa.Table,
    retired: list[storage.Retired] = (),
) -> None:
    """Once a writer's changes are all in place and the index it wrote last (on S3 the object
    `written`), holding `table` (`files` the listing now), tells them: WRITING removed, and on S3
    that index kept for this process's next load."""
    (root / WRITING).unlink(missing_ok=True)
    if not storage.is_remote(root):  # without WRITING, nothing would tell another writer's change
        _trusted.pop(_where(root), None)
        return
    _trusted[_where(root)] = (
        written.key,
        storage.changes(root.bucket),
        Index(root, files, kept=table, retired=list(retired)),
    )
