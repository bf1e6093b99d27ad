"""The warehouse: read back by DuckDB, idempotent, atomic, quarantine, moves between partitions;
each test against a local folder and against an S3 bucket (SeaweedFS), the `warehouse` fixture."""

from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.compute  # noqa: F401  pa.compute
import pyarrow.parquet as pq
import pytest
from conftest import ROOT
from corpus import distinct_reports

from nianbao.acquire.sources import Source, resolve
from nianbao.model.schema import CELL_DATASETS, DATASETS, schema
from nianbao.run.pipeline import process_batch
from nianbao.warehouse import files, publish, scan, storage

SAMPLES = ROOT / "data" / "samples"


@pytest.fixture(scope="module")
def frames():
    return process_batch(resolve([str(SAMPLES)]), "run-1")


def read(root, dataset, quarantine=False):
    """DuckDB over the files (on S3 through s3fs, as the README shows)."""
    con = duckdb.connect()
    if storage.is_remote(root):
        con.register_filesystem(storage.filesystem())
    return con.sql(f"select * from read_parquet({files(dataset, root, quarantine)!r}, hive_partitioning=true)").pl()


def objects(root) -> dict[str, bytes]:
    """Every object or file under the warehouse, with its bytes."""
    if storage.is_remote(root):
        fs = storage.filesystem()
        return {k: fs.cat_file(k) for k in fs.find(str(root)[5:])}
    return {str(p): p.read_bytes() for p in root.rglob("*") if p.is_file() and p.name != ".lock"}


def test_duckdb_reads_every_dataset_as_published(warehouse, frames):
    tmp_path = warehouse
    publish.publish(tmp_path, frames)
    valid = frames["reports"].filter(status="valid")["report_id"].to_list()
    for dataset in DATASETS:
        got = read(tmp_path, dataset)
        want = frames[dataset]
        if dataset in CELL_DATASETS:
            want = want.filter(pl.col("report_id").is_in(valid))
        cols = [c for c in schema(dataset).names if c not in ("year", "ingested_at", "fetched_at")]
        key = [c for c in cols if c != "cells"][:3]
        assert got.select(cols).sort(key).to_dicts() == want.select(cols).sort(key).to_dicts(), dataset
        unknown_is_0 = {0 if y is None else y for y in want["year"].to_list()}  # the folder year=0
        assert got["year"].to_list() and set(got["year"].to_list()) <= unknown_is_0
    # invalid reports' cells are in quarantine, with the same schema
    invalid = frames["reports"].filter(status="invalid")["report_id"].to_list()
    q = read(tmp_path, "applications", quarantine=True)
    assert set(q["report_id"]) == set(invalid) and q.height == 7 * 25
    d = pl.from_arrow(storage.read_table(storage.path(tmp_path) / "dictionary" / "dictionary.parquet"))
    assert d.filter(code="withheld_prohibited")["label"][0] == "2.其他法律行政法规禁止公开"


def test_files_hold_the_contract_types_without_the_partition_column(warehouse, frames):
    publish.publish(warehouse, frames)
    fs = storage.filesystem() if storage.is_remote(warehouse) else None
    for dataset in DATASETS:
        assert files(dataset, warehouse)
        for f in files(dataset, warehouse):
            with fs.open(f) if fs else open(f, "rb") as fh:
                assert pq.read_schema(fh).remove_metadata() == schema(dataset, with_partition=False), f


def test_republishing_never_duplicates(warehouse, frames):
    tmp_path = warehouse
    publish.publish(tmp_path, frames)
    before = {d: read(tmp_path, d).sort(schema(d).names[0]).height for d in DATASETS}
    publish.publish(tmp_path, frames)
    after = {d: read(tmp_path, d).height for d in DATASETS}
    assert before == after and before["applications"] == 7 * 25


# The batches a test publishes in a folder and in a bucket (its set-up, not what it is about) are
# validated once per module, each from documents of its own.


@pytest.fixture(scope="module")
def seed_000():
    """Seed 000 without its year (invalid: the folder year=0), then with it (valid)."""
    from conftest import seed

    s = seed("000")
    return process_batch([Source(str(s))], "run-1"), process_batch([Source(str(s), {"year": 2024})], "run-2")


def test_a_report_that_becomes_valid_leaves_quarantine_and_its_old_partition(warehouse, seed_000):
    tmp_path = warehouse
    publish.publish(tmp_path, seed_000[0])
    assert read(tmp_path, "applications", quarantine=True).height == 175
    assert read(tmp_path, "reports")["year"].to_list() == [0]  # the folder year=0: scan() reads null
    assert scan("reports", tmp_path).collect()["year"].to_list() == [None]
    publish.publish(tmp_path, seed_000[1])
    reports = read(tmp_path, "reports")
    assert reports.select("year", "status", "run_id").to_dicts() == [
        {"year": 2024, "status": "valid", "run_id": "run-2"}
    ]
    assert read(tmp_path, "applications").height == 175
    assert not files("applications", tmp_path, quarantine=True)
    assert set(read(tmp_path, "findings")["rule_id"]) == {"active_disclosure.complete"}


def test_a_crash_during_a_write_leaves_the_previous_partition(warehouse, frames, monkeypatch):
    tmp_path = warehouse
    publish.publish(tmp_path, frames)
    before = objects(tmp_path)
    changed = frames["reports"].with_columns(agency=pl.lit("changed"))

    def crash(table, where, **kw):  # the last file, `reports`: every other file was written
        if table.schema.names != schema("reports", with_partition=False).names:
            return real(table, where, **kw)
        if isinstance(where, (str, Path)):
            open(where, "wb").write(b"PAR1 half a file")
        else:  # a buffer, to be PUT whole: a half-written object never exists
            where.write(b"PAR1 half a file")
        raise OSError("disk full")

    real = publish.pq.write_table
    monkeypatch.setattr(publish.pq, "write_table", crash)
    with pytest.raises(OSError):
        publish.publish(tmp_path, {**frames, "reports": changed})
    after = objects(tmp_path)
    assert after == before  # no half-written file visible, nothing lost, no temporary left
    monkeypatch.undo()
    assert set(read(tmp_path, "reports")["agency"]) != {"changed"}


@pytest.fixture(scope="module")
def concurrent_batches(tmp_path_factory):
    docs = [Source(str(p)) for p in distinct_reports(tmp_path_factory.mktemp("docs"), 8)]
    batches = [process_batch(docs[i::4], f"run-{i}") for i in range(4)]
    return batches + [process_batch(docs[:3], "run-again")]  # the same reports again, concurrently


def test_concurrent_publishers_never_lose_or_duplicate(warehouse, concurrent_batches):
    """Two runs writing one warehouse at once (the lock or lease serialises them): every report once."""
    import threading

    batches = concurrent_batches
    threads = [threading.Thread(target=publish.publish, args=(warehouse, b)) for b in batches]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    reports = read(warehouse, "reports")
    assert reports["report_id"].n_unique() == reports.height == 8
    assert read(warehouse, "applications").height == 8 * 7 * 25


def test_published_index_knows_each_report_and_its_year(warehouse, frames):
    publish.publish(warehouse, frames)
    index = publish.published(warehouse)
    assert {rid: row["year"] for rid, row in index.items()} == dict(
        zip(frames["reports"]["report_id"], frames["reports"]["year"])
    )


@pytest.fixture(scope="module")
def crash_batches(tmp_path_factory):
    """Two of three reports, then all three in another batch."""
    docs = [Source(str(p)) for p in distinct_reports(tmp_path_factory.mktemp("docs"), 3)]
    return process_batch(docs[:2], "run-1"), process_batch(docs, "run-2")


def test_a_crash_before_the_reports_file_leaves_nothing_listed_and_no_duplicates_after(
    warehouse, crash_batches, monkeypatch
):
    """Cells are put in place before `reports`: a crash in between (SystemExit, which nothing
    catches) lists no half-published report, and republishing the same reports in another batch
    removes the orphaned rows."""
    import os

    if storage.is_remote(warehouse):
        write = storage.S3Path.write_table

        def crash_at_reports(self, table, **kw):
            if self.parent.parent.name == "reports":
                raise SystemExit("killed")
            return write(self, table, **kw)

        monkeypatch.setattr(storage.S3Path, "write_table", crash_at_reports)
    else:
        replace = os.replace

        def crash_at_reports(tmp, path):
            if path.parent.parent.name == "reports":
                raise SystemExit("killed")
            replace(tmp, path)

        monkeypatch.setattr(publish.os, "replace", crash_at_reports)
    with pytest.raises(SystemExit):
        publish.publish(warehouse, crash_batches[0])
    monkeypatch.undo()
    assert publish.published(warehouse) == {}  # nothing listed, so a resumed run redoes both
    assert read(warehouse, "applications").height == 2 * 7 * 25  # the crash left these behind
    publish.publish(warehouse, crash_batches[1])  # a different batch: other file names
    assert read(warehouse, "reports").height == 3
    apps = read(warehouse, "applications")
    assert apps.height == 3 * 7 * 25 and apps.select("report_id", "row", "applicant").is_unique().all()


@pytest.fixture(scope="module")
def small_batches(tmp_path_factory):
    """Four batches of two distinct reports each, validated once for the index tests."""
    docs = [Source(str(p)) for p in distinct_reports(tmp_path_factory.mktemp("docs"), 8)]
    return [process_batch(docs[i : i + 2], f"run-{i}") for i in range(0, 8, 2)]


def test_a_new_batch_reads_no_file_of_earlier_batches(warehouse, small_batches, monkeypatch):
    """The index says where reports are: publishing new reports reads no published file (O(batch)),
    and re-publishing reads only the files of the batch that held them."""
    from nianbao.warehouse import index

    for batch in small_batches[:3]:
        publish.publish(warehouse, batch)
    reads = []
    real = index.read_file
    monkeypatch.setattr(index, "read_file", lambda root, rel, *a, **kw: reads.append(rel) or real(root, rel, *a, **kw))
    publish.publish(warehouse, small_batches[3])
    assert reads == []
    publish.publish(warehouse, small_batches[1])  # the same reports again: only their own files
    held = index.load(storage.path(warehouse))
    own = {rel for rel in held.files if index.location(rel) in held.holding(small_batches[1]["reports"]["report_id"])}
    assert reads and set(reads) == own and len(own) == 5  # reports and the 4 cell datasets (no findings)
    assert held.reread == 0
    assert read(warehouse, "reports").height == 8


def test_a_batch_looks_up_its_own_reports_in_the_files_that_hold_them(warehouse, small_batches, monkeypatch):
    """published(root, ids), a Dask batch's look at its own documents: the rows reading every file
    gives, from the `reports` files of the index's locations holding those ids alone (O(batch), not
    O(warehouse)); where the index file does not record a file as it is (here: no index file), that
    file is read too."""
    from nianbao.warehouse import index

    for batch in small_batches:
        publish.publish(warehouse, batch)
    publish.settle(warehouse)  # the index file records every location
    everything = publish.published(warehouse)
    assert len(everything) == 8
    reads = []
    real = index.read_file
    monkeypatch.setattr(index, "read_file", lambda root, rel, *a, **kw: reads.append(rel) or real(root, rel, *a, **kw))
    ids = {small_batches[1]["reports"]["report_id"][0], small_batches[3]["reports"]["report_id"][1], "not-published"}
    assert publish.published(warehouse, ids) == {i: everything[i] for i in ids - {"not-published"}}
    held = index.load(storage.path(warehouse))
    own = {rel for rel in held.files if rel.startswith("reports/") and index.location(rel) in held.holding(ids)}
    assert sorted(reads) == sorted(own) and len(own) == 2
    assert publish.published(warehouse, set()) == {} and len(reads) == 2
    (storage.path(warehouse) / index.INDEX).unlink()
    reads.clear()
    assert publish.published(warehouse, ids) == {i: everything[i] for i in ids - {"not-published"}}
    assert len(reads) == 4  # every reports file


def test_a_missing_or_stale_index_is_read_again_from_the_data(warehouse, small_batches):
    """Never trusted over the data: a removed index is rebuilt from the files, and a file changed
    behind its back (here a report copied into another batch's file) is read again, so
    re-publishing that report removes it there too."""
    from nianbao.warehouse import index

    root = storage.path(warehouse)
    for batch in small_batches[:2]:
        publish.publish(warehouse, batch)
    assert index.load(root).reread == 0
    (root / index.INDEX).unlink()
    rebuilt = index.load(root)
    assert rebuilt.reread == 2 and len(rebuilt.ids) == 2 and not rebuilt.kept  # both batches' locations
    publish.publish(warehouse, small_batches[1])  # writes the index again
    assert index.load(root).reread == 0
    stray = small_batches[0]["reports"]["report_id"][0]
    (first,) = {f for f in files("reports", warehouse) if stray in set(read_one(f))}
    (other,) = set(files("reports", warehouse)) - {first}
    table = pq.read_table(storage.filesystem().open(other) if storage.is_remote(warehouse) else other)
    doubled = pq.read_table(storage.filesystem().open(first) if storage.is_remote(warehouse) else first)
    publish.write_atomic(
        pa.concat_tables([table, doubled.filter(pa.compute.equal(doubled["report_id"], stray))]),
        storage.path(other.split(".v")[0] + ".parquet") if storage.is_remote(warehouse) else Path(other),
    )
    assert read(warehouse, "reports")["report_id"].to_list().count(stray) == 2
    assert index.load(root).reread == 1
    publish.publish(warehouse, small_batches[0])
    assert read(warehouse, "reports")["report_id"].to_list().count(stray) == 1
    assert read(warehouse, "reports").height == 4


def read_one(f) -> list[str]:
    fh = storage.filesystem().open(f) if f.startswith("s3://") else open(f, "rb")
    with fh:
        return pq.read_table(fh, columns=["report_id"])["report_id"].to_pylist()
