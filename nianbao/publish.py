"""Hive-partitioned Parquet: stable file names, atomic partition writes, no duplicate reports.

Layout: WAREHOUSE/<dataset>/year=<YYYY>/part-<batch>.parquet, one file per published batch and
partition, named after the batch's report ids (the same documents always land in the same file);
invalid reports' cells under WAREHOUSE/quarantine/<dataset>/...; the dictionary in
WAREHOUSE/dictionary/dictionary.parquet. Publishing a batch first removes every row its reports
had anywhere (a year or status may have changed), then writes the new files; every file is
replaced atomically (a hidden temporary file, then a rename), so a crash leaves the previous
file as it was. WAREHOUSE may also be `s3://bucket/prefix` (nianbao/storage.py: new objects
instead of renames, a lease instead of the lock file).
"""
from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from nianbao import storage
from nianbao.schema import CELL_DATASETS, DATASETS, DICTIONARY, KEYS, PARTITION, schema
from nianbao.template import template

NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"


def partition_dir(root: Path | storage.S3Path, dataset: str, year: int | None, quarantine: bool = False) -> Path:
    base = root / "quarantine" / dataset if quarantine else root / dataset
    return base / f"{PARTITION}={NULL_PARTITION if year is None else int(year)}"


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
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def write_atomic(table: pa.Table, path: Path | storage.S3Path) -> None:
    if storage.is_remote(path):
        path.write_table(table, compression="zstd")  # a new object: never replaced in place
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{os.getpid()}.tmp"
    try:
        pq.write_table(table, tmp, compression="zstd")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _arrow(dataset: str, df: pl.DataFrame) -> pa.Table:
    return df.to_arrow().select(schema(dataset).names).cast(schema(dataset))


def publish(root: Path, frames: dict[str, pl.DataFrame]) -> dict[str, int]:
    """Merge one set of frames (as validate_batch returns them) into the warehouse."""
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
                part.drop_columns([PARTITION]))

    for dataset in ("reports", "findings"):
        add(dataset, frames[dataset])
    for dataset in CELL_DATASETS:
        df = frames[dataset]
        add(dataset, df.filter(pl.col("report_id").is_in(list(valid))))
        add(dataset, df.filter(~pl.col("report_id").is_in(list(valid))), quarantine=True)
    with locked(root):
        # Every file holding one of these reports is rewritten without them. A report's rows all
        # live in files of one name and partition (its batch's), so the `reports` files say where.
        for part, name in _locations(root, ids):
            for dataset in ("reports", "findings", *CELL_DATASETS):
                for base in (root / dataset, root / "quarantine" / dataset):
                    if (base / part / name).exists():
                        targets.setdefault(base / part / name, [])
        written = 0
        # `reports` last: a report is listed only once all its rows are written, so a crash mid-way
        # never leaves a listed report with missing cells (resuming skips listed reports).
        for path, parts in sorted(targets.items(), key=lambda kv: (kv[0].parent.parent.name == "reports", kv[0])):
            dataset = path.parent.parent.name
            file_schema = schema(dataset, with_partition=False)
            old = storage.read_table(path, schema=file_schema) if path.exists() else file_schema.empty_table()
            kept = old.filter(pc.invert(pc.is_in(old["report_id"], value_set=ids)))
            if not parts and kept.num_rows == old.num_rows:
                continue  # untouched
            new = pa.concat_tables([kept, *parts]).sort_by([(k, "ascending") for k in _sort_keys(dataset)])
            if new.num_rows == 0:
                path.unlink(missing_ok=True)
                continue
            write_atomic(new, path)
            written += 1
        write_dictionary(root)
        if storage.is_remote(root):  # versions this and earlier publishes superseded, once old enough
            root.sweep(["dictionary", "quarantine", *DATASETS])
    return {"files_written": written}


def _locations(root: Path, ids: pa.Array) -> set[tuple[str, str]]:
    """(partition folder, file name) of the files that hold any of `ids`. A report's rows all live
    in files of one name and partition (its batch's), so the `reports` files say where; files no
    `reports` file names (left by a publish that crashed before its `reports` file) are read too."""
    def holds(path: Path) -> bool:
        return pc.any(pc.is_in(storage.read_table(path, columns=["report_id"])["report_id"], value_set=ids)).as_py()

    listed, found = set(), set()
    for path in (root / "reports").glob(f"{PARTITION}=*/*.parquet"):
        listed.add((path.parent.name, path.name))
        if holds(path):
            found.add((path.parent.name, path.name))
    for dataset in ("findings", *CELL_DATASETS):
        for base in (root / dataset, root / "quarantine" / dataset):
            for path in base.glob(f"{PARTITION}=*/*.parquet"):
                key = (path.parent.name, path.name)
                if key not in listed and key not in found and holds(path):
                    found.add(key)
    return found


def published(root: Path) -> dict[str, dict]:
    """What the warehouse holds: report_id -> its reports row, year included (for resuming)."""
    out = {}
    for path in sorted((storage.path(root) / "reports").glob(f"{PARTITION}=*/*.parquet")):
        value = path.parent.name.split("=", 1)[1]
        year = None if value == NULL_PARTITION else int(value)
        for row in storage.read_table(path, schema=schema("reports", with_partition=False)).to_pylist():
            out[row["report_id"]] = row | {PARTITION: year}
    return out


def _sort_keys(dataset: str) -> list[str]:
    return [k for k in KEYS[dataset] if k != "cells"]


def write_dictionary(root: Path | storage.S3Path) -> None:
    table = pa.Table.from_pylist(template().dictionary_rows(), schema=DICTIONARY)
    path = root / "dictionary" / "dictionary.parquet"
    if not (path.exists() and storage.read_table(path).equals(table)):  # unchanged: no new version
        write_atomic(table, path)
