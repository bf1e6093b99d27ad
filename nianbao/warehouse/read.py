"""Reading the warehouse, for downstream teams: `scan(dataset, warehouse)` -> a polars LazyFrame.

    from nianbao.warehouse import scan
    scan("applications", "s3://bucket/nianbao").filter(pl.col("year") == 2023).collect()

Local folder or `s3://bucket/prefix` (AWS_* variables). The `year` partition comes from the path
(Int16; the unknown year's folder, `year=0`, is null). On S3 it reads each file's
newest version only, so a scan racing a publish never sees a report twice nor a file half replaced;
and a scan racing `nianbao compact` leaves out the files a compacted file has just replaced.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import polars as pl

from nianbao.model.schema import DATASETS, DERIVED, PARTITION, partition_year, schema
from nianbao.warehouse import index, storage


def files(dataset: str, warehouse: str | Path, quarantine: bool = False) -> list[str]:
    """The dataset's Parquet files now: local paths, or the s3:// URLs of their newest versions;
    without those a compaction has just merged into one (nianbao/warehouse/compact.py), so none is read twice."""
    if dataset not in DATASETS and dataset not in DERIVED:
        raise ValueError(f"unknown dataset {dataset!r}; one of {', '.join([*DATASETS, *DERIVED])}")
    root = storage.path(warehouse)
    listed = index.listing(root, [f"quarantine/{dataset}" if quarantine else dataset])
    merged = index.replaced(root, listed)
    if storage.is_remote(root):
        return sorted(f"s3://{root.bucket}/{key}" for rel, key in listed.items() if rel not in merged)
    return sorted(str(root / rel) for rel in listed if rel not in merged)


def scan(dataset: str, warehouse: str | Path, quarantine: bool = False) -> pl.LazyFrame:
    """One dataset (or its quarantine) as a LazyFrame with the contract's columns and `year`."""
    want = pl.Schema(pl.from_arrow(schema(dataset).empty_table()).schema)
    paths = files(dataset, warehouse, quarantine)
    if not paths:
        return pl.LazyFrame(schema=want)
    file_schema = pl.Schema({k: v for k, v in want.items() if k != PARTITION})
    options = storage.options() if storage.is_remote(warehouse) else None
    unknown = {p for p in paths if partition_year(PurePosixPath(p).parent.name) is None}
    known = [p for p in paths if p not in unknown]
    # the unknown year read apart, as null: a filter on `year` still skips the other years' files
    frames = (
        [
            pl.scan_parquet(
                known,
                schema=file_schema,
                missing_columns="insert",  # an older file: null
                hive_partitioning=True,
                hive_schema=pl.Schema({PARTITION: want[PARTITION]}),
                storage_options=options,
            )
        ]
        if known
        else []
    )
    frames += (
        [
            pl.scan_parquet(
                sorted(unknown),
                schema=file_schema,
                missing_columns="insert",
                hive_partitioning=False,
                storage_options=options,
            ).with_columns(pl.lit(None, want[PARTITION]).alias(PARTITION))
        ]
        if unknown
        else []
    )
    return pl.concat([f.select(list(want)) for f in frames])
