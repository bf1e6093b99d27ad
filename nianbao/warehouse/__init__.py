"""The warehouse: Hive-partitioned Parquet on a folder or S3 (storage), published atomically per batch
with one writer at a time (publish), the index of which files hold which reports, compaction, and
reading for downstream teams:

    from nianbao.warehouse import scan
    scan("reports", "data/warehouse").filter(...).collect()
"""


def __getattr__(name: str):
    # scan/files load polars; a worker that only needs storage should not pay for it
    if name in ("scan", "files"):
        from nianbao.warehouse import read

        return getattr(read, name)
    raise AttributeError(name)
