"""Hive-partitioned Parquet: stable file names, atomic partition writes, no duplicate reports.

Layout: WAREHOUSE/<dataset>/year=<YYYY>/part-<batch>.parquet (`year=0`: the year unknown), one
file per published batch and partition, named after the batch's report ids (the same documents
always land in the same file); invalid reports' cells under WAREHOUSE/quarantine/<dataset>/...;
the dictionary in WAREHOUSE/dictionary/dictionary.parquet. Publishing a batch first removes every row its reports
had anywhere (a year or status may have changed), then writes the new files: all of them as
hidden temporary files first, then renames (which need no space), so a failed write (disk full)
leaves the warehouse as it was and a crash leaves each file either previous or new. In the same
plan, the older version of each source the batch brings new bytes of (supersede) loses its cells,
its `reports` row marked `superseded_by`; `nianbao forget` (retire) is that plan alone. Which files
hold a batch's reports comes from the index (nianbao/warehouse/index.py), written last: O(batch), not O(files).
WAREHOUSE may also be `s3://bucket/prefix` (nianbao/warehouse/storage.py): there each write is a new object
version (removed again if a later write of the batch fails) and a lease replaces the lock file.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from nianbao.model.errors import LeaseLost, WarehouseError
from nianbao.model.schema import (
    CELL_DATASETS,
    DICTIONARY,
    KEYS,
    OLDER_UNKNOWN,
    PARTITION,
    partition,
    partition_year,
    schema,
)
from nianbao.model.settings import settings
from nianbao.model.template import template
from nianbao.warehouse import index, storage

_TEMPORARY = re.compile(r"^\..+\.(\d+)\.tmp$")  # .<file>.<pid of its writer>.tmp


def probe(root: Path | str) -> None:
    """Before any work: the warehouse is writable and has room, and temporaries a killed run left
    are removed. Raises WarehouseError saying which."""
    if storage.is_remote(root):
        try:
            storage.path(root).probe()
        except Exception as e:  # noqa: BLE001  no bucket, no credentials, no network
            raise WarehouseError(f"the warehouse {root} is not writable: {e}") from None
        return
    root = Path(root)
    try:
        root.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(root)
        test = root / f".probe.{os.getpid()}.tmp"
        test.write_bytes(b"nianbao")
        test.unlink()
    except OSError as e:
        raise WarehouseError(f"the warehouse {root} is not writable: {e.strerror or e}") from None
    need = settings().min_free_mb
    free = shutil.disk_usage(root).free // 2**20
    if free < need:
        raise WarehouseError(
            f"the warehouse {root} has {free} MiB free, less than the {need} MiB a run needs (NIANBAO_MIN_FREE_MB)"
        )


def remove_stale_temporaries(root: Path) -> list[Path]:
    """Temporary files whose writer is no longer running (a run killed mid-write left them)."""
    removed = []
    for folder in (d for d in root.iterdir() if d.is_dir() and d.name != "raw"):
        for path in folder.rglob(".*.tmp"):
            match = _TEMPORARY.match(path.name)
            if match and not _running(int(match.group(1))):
                path.unlink(missing_ok=True)
                removed.append(path)
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def partition_dir(root: Path | storage.S3Path, dataset: str, year: int | None, quarantine: bool = False) -> Path:
    base = root / "quarantine" / dataset if quarantine else root / dataset
    return base / partition(year)


@contextmanager
def locked(root: Path) -> Iterator[None]:
    """One writer per warehouse at a time: a second run waits rather than interleaving writes."""
    if storage.is_remote(root):
        with storage.path(root).lease():
            yield
        return
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            _adopt_older_unknown_year(root)
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _adopt_older_unknown_year(root: Path) -> None:
    """An older nianbao put the unknown year in `year=__HIVE_DEFAULT_PARTITION__`: under the lock,
    its files move to `year=0` (schema.UNKNOWN_YEAR), where the index finds them as files it does
    not know yet and reads them again. (On S3, where nothing is renamed, scan() reads both.)"""
    for old in [*root.glob(f"*/{OLDER_UNKNOWN}"), *root.glob(f"quarantine/*/{OLDER_UNKNOWN}")]:
        new = old.with_name(partition(None))
        new.mkdir(exist_ok=True)
        for file in old.iterdir():
            if (new / file.name).exists():
                file.unlink()  # written since by this nianbao: the newer
            else:
                os.replace(file, new / file.name)
        old.rmdir()


def write_atomic(table: pa.Table, path: Path | storage.S3Path, **options) -> None:
    """`options`: pyarrow.parquet.write_table's (default: zstd)."""
    options = {"compression": "zstd", **options}
    if storage.is_remote(path):
        path.write_table(table, **options)  # a new object: never replaced in place
        return
    storage.write_atomic(path, lambda tmp: pq.write_table(table, tmp, **options))


def _write_temporary(table: pa.Table, path: Path, **options) -> Path:
    """`table` in a hidden file beside `path`, which a rename makes `path`; nothing left if it fails."""
    tmp = storage.temporary(path)
    try:
        pq.write_table(table, tmp, **{"compression": "zstd", **options})
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def _arrow(dataset: str, df: pl.DataFrame) -> pa.Table:
    return df.to_arrow().select(schema(dataset).names).cast(schema(dataset))


def publish(root: Path, frames: dict[str, pl.DataFrame]) -> dict[str, int]:
    """Merge one set of frames (as validate_batch returns them) into the warehouse; the reports
    they hold supersede the older versions of their sources (see supersede)."""
    root = storage.path(root)
    reports = frames["reports"]
    ids = pa.array(reports["report_id"].to_list(), pa.string())
    file = f"part-{hashlib.sha256(chr(10).join(sorted(ids.to_pylist())).encode()).hexdigest()[:16]}.parquet"
    valid = set(reports.filter(pl.col("status") == "valid")["report_id"].to_list())
    targets: dict[Path, list[pa.Table]] = {}

    def add(dataset: str, df: pl.DataFrame, quarantine: bool = False):
        table = _arrow(dataset, df)
        for year in pc.unique(table[PARTITION]).to_pylist():
            part = table.filter(pc.is_null(table[PARTITION]) if year is None else pc.equal(table[PARTITION], year))
            targets.setdefault(partition_dir(root, dataset, year, quarantine) / file, []).append(
                part.drop_columns([PARTITION])
            )

    add("findings", frames["findings"])
    for dataset in CELL_DATASETS:
        df = frames[dataset]
        add(dataset, df.filter(pl.col("report_id").is_in(list(valid))))
        add(dataset, df.filter(~pl.col("report_id").is_in(list(valid))), quarantine=True)
    placed: dict[index.Location, set[str]] = {}  # where each report of the batch now lives
    for rid, year in zip(reports["report_id"].to_list(), reports[PARTITION].to_list()):
        placed.setdefault((partition_dir(root, "reports", year).name, file), set()).add(rid)
    with locked(root):
        held = index.load(root)
        reports, retired = supersede(held, reports)
        add("reports", reports)
        current = {
            rid: None if by else source
            for rid, source, by in zip(*(reports[c].to_list() for c in ("report_id", "source_uri", "superseded_by")))
        }
        return _commit(root, held, targets, set(ids.to_pylist()), placed, retired, current | dict.fromkeys(retired))


def supersede(held: index.Index, reports: pl.DataFrame) -> tuple[pl.DataFrame, dict[str, str]]:
    """Versions of a report: a source's (`source_uri`'s) new bytes supersede the report that is
    current for it. Returns the batch's `reports` rows with `superseded_by` set, and the older
    reports retired: report_id -> the report_id superseding it. A read that got no bytes (a file
    gone, a fetch that failed: no `fetched_at`) is no version: where its source has one, that stays
    current and the failed read is recorded superseded by it. A report is the same bytes wherever
    they are found: its row names the source it was last published from."""
    batch = set(reports["report_id"].to_list())
    now = held.current(set(reports["source_uri"].to_list()))
    retired: dict[str, str] = {}
    by: list[str | None] = []
    for rid, source, fetched in zip(*(reports[c].to_list() for c in ("report_id", "source_uri", "fetched_at"))):
        older = sorted(now.get(source, set()) - batch)
        if older and fetched is None:
            by.append(older[0])
        else:
            retired.update((old, rid) for old in older)
            by.append(None)
    return reports.with_columns(superseded_by=pl.Series(by, dtype=pl.String)), retired


def retire(root: Path | storage.S3Path, held: index.Index, retired: dict[str, str]) -> dict[str, int]:
    """Under the lock: the `retired` reports (id -> superseded_by) out of the cell datasets and
    quarantine, their `reports` rows marked (as a newer version does to them; `nianbao forget`)."""
    return _commit(root, held, {}, set(), {}, retired, dict.fromkeys(retired))


def _commit(
    root: Path | storage.S3Path,
    held: index.Index,
    targets: dict[Path, list[pa.Table]],
    ids: set[str],
    placed: dict[index.Location, set[str]],
    retired: dict[str, str],
    current: dict[str, str | None],
) -> dict[str, int]:
    """Under the lock: `targets` (path -> new rows) written, the rows of the reports `ids` removed
    wherever they were, and the `retired` reports (id -> superseded_by) out of the cell datasets
    and quarantine, their `reports` rows marked. `placed` and `current` as Index.after takes them."""
    # Every file holding one of these reports is rewritten without them. A report's rows all
    # live in files of one name and partition (its batch's): the index says which.
    files_at = held.by_location
    touched = held.holding(ids | set(retired))
    for loc in touched:
        for rel in files_at[loc]:
            targets.setdefault(root / rel, [])
    plan: list[tuple[Path, pa.Table | None]] = [  # None: the file is left empty, removed
        (root / "dictionary" / "dictionary.parquet", _dictionary())
    ]
    # `reports` last: a report is listed only once all its rows are written, so a crash mid-way
    # never leaves a listed report with missing cells (resuming skips listed reports).
    for path, parts in sorted(targets.items(), key=lambda kv: (kv[0].parent.parent.name == "reports", kv[0])):
        dataset = path.parent.parent.name
        file_schema = schema(dataset, with_partition=False)
        rel = index.relative(root, path)
        old = (
            index.read_file(root, rel, held.files[rel], schema=file_schema)
            if rel in held.files
            else file_schema.empty_table()
        )
        kept = _without(dataset, old, ids, retired)
        if not parts and kept.equals(old):
            continue  # untouched
        new = pa.concat_tables([kept, *parts]).sort_by([(k, "ascending") for k in _sort_keys(dataset)])
        plan.append((path, new if new.num_rows else None))

    def indexed(files: dict[str, str]) -> index.Index:  # the index once `files` is the listing
        return held.after(files, ids, placed, current).folded()

    if storage.is_remote(root):
        return _publish_objects(root, plan, held, indexed)
    temporaries: dict[Path, Path] = {}
    files = dict(held.files)
    where = root / index.INDEX
    changed = len(touched | set(placed))
    write_index = index.due(held, changed)  # else left behind the data, this process holding it (index.keep)
    try:
        for path, table in plan:
            if table is not None:
                try:
                    temporaries[path] = _write_temporary(table, path)
                except (OSError, pa.ArrowException) as e:
                    raise WarehouseError(
                        f"writing {path} failed ({getattr(e, 'strerror', None) or e}); the "
                        "batch was not published, the warehouse is as it was"
                    ) from e
            rel = index.relative(root, path)
            if table is None:
                files.pop(rel, None)
            elif path != plan[0][0]:  # not the dictionary
                files[rel] = index.identity(root, temporaries[path])
        try:  # renamed last, after `reports`: a crash before it leaves the index stale, and stale is re-read
            new_index = indexed(files)
            if write_index:
                temporaries[where] = _write_temporary(new_index.kept, where, **index.WRITTEN)
        except (OSError, pa.ArrowException) as e:
            raise WarehouseError(
                f"writing {where} failed ({getattr(e, 'strerror', None) or e}); the "
                "batch was not published, the warehouse is as it was"
            ) from e
        index.writing(root)  # from the first rename until the index tells the data
        for path, table in [*plan, *([(where, True)] if write_index else [])]:
            if table is None:
                path.unlink(missing_ok=True)
            else:
                os.replace(temporaries[path], path)
    finally:
        for tmp in temporaries.values():
            tmp.unlink(missing_ok=True)
    new_index.behind = 0 if write_index else held.behind + changed
    index.keep(root, new_index)
    return {"files_written": len(temporaries) - 1 - write_index}  # besides the dictionary and the index


def settle(root: Path | str) -> None:
    """After a run's publishes (or `forget`), on a folder: the index file written where a publish
    left it behind the data (index.due) or anything else did (WRITING there), so that the next
    process reads none of the data again."""
    root = storage.path(root)
    if storage.is_remote(root):
        return
    with locked(root):
        held = index.load(root)
        if held.behind or (root / index.WRITING).exists():
            table = held.table()
            write_atomic(table, root / index.INDEX, **index.WRITTEN)
            index.settled(root, None, held.files, table)


def _publish_objects(
    root: storage.S3Path, plan: list[tuple[storage.S3Path, pa.Table | None]], held: index.Index, indexed
) -> dict[str, int]:
    """The plan on object storage: each file a new version, in the plan's order (`reports` last,
    then the index); if a write fails, the versions already written are deleted, so the warehouse
    is as it was. An unchanged dictionary is not written again (a glob would see every version of it).
    The index marks the change from before the first write until all is in place (index.writing)."""
    (dictionary, table), *plan = plan
    files = dict(held.files)
    if not (dictionary.exists() and storage.read_table(dictionary).equals(table)):
        plan.insert(0, (dictionary, table))
    written: list[storage.S3Path] = []
    path = dictionary
    index.writing(root)
    try:
        for path, table in plan:
            if table is not None:
                written.append(path.write_table(table, compression="zstd"))
                if path != dictionary:
                    files[index.relative(root, path)] = written[-1].key
            else:
                files.pop(index.relative(root, path), None)
        path = root / index.INDEX
        written.append(path.write_table(new_index := indexed(files).kept, listed=held.keys["_index"], **index.WRITTEN))
    except Exception as e:
        try:
            for version in written:
                version.delete()
            index.unchanged(root, held)
        except LeaseLost:
            pass  # another writer holds the warehouse: ours stays as a killed writer's would (WRITING tells)
        raise WarehouseError(
            f"writing {path} failed ({e}); the batch was not published, the warehouse is as it was"
        ) from e
    # the versions this batch superseded, the index's newest at load among them: swept when due,
    # though no listing shows them
    indexes = storage.group(held.keys["_index"]).get((root / index.INDEX).key, [])
    retired = [(storage.version(written[-1].key), indexes[-1][1])] if indexes else []
    for path, table in plan:
        rel = index.relative(root, path)
        successor = (
            path.unlink(missing_ok=True) if table is None else files.get(rel)
        )  # its key: a tombstone's or a version's
        if rel in held.files and successor:
            retired.append((storage.version(successor), held.files[rel]))
    # versions superseded long enough ago: those listed at the start (every dataset's when the index
    # was checked against a listing, else only the index's), and those retired since
    retired += held.retired
    try:
        root.sweep(["dictionary", *held.keys], listed=held.keys, retired=retired)
        index.settled(root, written[-1], files, new_index, retired)
    except LeaseLost:
        pass  # published; the housekeeping is left to the writer holding the lease now (WRITING tells)
    return {"files_written": sum(p != dictionary and t is not None for p, t in plan)}


def published(root: Path, report_ids: set[str] | None = None) -> dict[str, dict]:
    """What the warehouse holds: report_id -> its reports row, year included (for resuming). Of
    `report_ids` alone when given, from the files that may hold them (index.may_hold): a batch on a
    Dask worker looks up its own documents in O(batch), where reading every file is O(warehouse) a
    batch (a 150,000-report year's last batches: ~9 CPU-s each, measured on 85,000)."""
    out = {}
    root = storage.path(root)
    files = index.listing(root, ["reports"])
    if report_ids is not None:
        if not report_ids:
            return out
        wanted = pa.array(sorted(report_ids), pa.string())
        files = {rel: files[rel] for rel in index.may_hold(root, files, set(report_ids))}
    for rel, ident in sorted(files.items()):
        year = partition_year(index.location(rel)[0])
        table = index.read_file(root, rel, ident, schema=schema("reports", with_partition=False))
        if report_ids is not None:
            table = table.filter(pc.is_in(table["report_id"], value_set=wanted))
        for row in table.to_pylist():
            out[row["report_id"]] = row | {PARTITION: year}
    return out


def _without(dataset: str, old: pa.Table, ids: set[str], retired: dict[str, str]) -> pa.Table:
    """A file's rows without those of the reports `ids` (republished); a retired report keeps its
    `reports` row, marked superseded, and its findings (the catalogue and the audit trail), and
    loses its cells (the cell datasets and quarantine hold current reports only)."""
    gone = ids if dataset in ("reports", "findings") else ids | set(retired)
    kept = old.filter(pc.invert(pc.is_in(old["report_id"], value_set=pa.array(sorted(gone), pa.string()))))
    if dataset == "reports" and retired:
        at = kept.schema.get_field_index("superseded_by")
        by = [retired.get(r, b) for r, b in zip(kept["report_id"].to_pylist(), kept[at].to_pylist())]
        kept = kept.set_column(at, "superseded_by", pa.array(by, pa.string()))
    return kept


def _sort_keys(dataset: str) -> list[str]:
    return [k for k in KEYS[dataset] if k != "cells"]


def _dictionary() -> pa.Table:
    return pa.Table.from_pylist(template().dictionary_rows(), schema=DICTIONARY)
