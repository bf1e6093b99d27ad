"""The warehouse: read back by DuckDB, idempotent, atomic, quarantine, moves between partitions."""
import duckdb
import polars as pl
import pyarrow.parquet as pq
import pytest

from nianbao import publish
from nianbao.pipeline import process_batch
from nianbao.schema import CELL_DATASETS, DATASETS, schema
from nianbao.sources import Source, resolve
from conftest import ROOT, distinct_reports

SAMPLES = ROOT / "data" / "samples"


@pytest.fixture(scope="module")
def frames():
    return process_batch(resolve([str(SAMPLES)]), "run-1")


def read(root, dataset, quarantine=False):
    base = root / "quarantine" / dataset if quarantine else root / dataset
    return duckdb.sql(f"select * from read_parquet('{base}/*/*.parquet', hive_partitioning=true)").pl()


def test_duckdb_reads_every_dataset_as_published(tmp_path, frames):
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
        assert got["year"].to_list() and set(got["year"].to_list()) <= set(want["year"].to_list())
    # invalid reports' cells are in quarantine, with the same schema
    invalid = frames["reports"].filter(status="invalid")["report_id"].to_list()
    q = read(tmp_path, "applications", quarantine=True)
    assert set(q["report_id"]) == set(invalid) and q.height == 7 * 25
    d = pl.read_parquet(tmp_path / "dictionary" / "dictionary.parquet")
    assert d.filter(code="withheld_prohibited")["label"][0] == "2.其他法律行政法规禁止公开"


def test_files_hold_the_contract_types_without_the_partition_column(tmp_path, frames):
    publish.publish(tmp_path, frames)
    for dataset in DATASETS:
        for f in (tmp_path / dataset).glob("year=*/*.parquet"):
            assert pq.read_schema(f).remove_metadata() == schema(dataset, with_partition=False), f


def test_republishing_never_duplicates(tmp_path, frames):
    publish.publish(tmp_path, frames)
    before = {d: read(tmp_path, d).sort(schema(d).names[0]).height for d in DATASETS}
    publish.publish(tmp_path, frames)
    after = {d: read(tmp_path, d).height for d in DATASETS}
    assert before == after and before["applications"] == 7 * 25


def test_a_report_that_becomes_valid_leaves_quarantine_and_its_old_partition(tmp_path):
    from conftest import seed

    s = seed("000")
    publish.publish(tmp_path, process_batch([Source(str(s))], "run-1"))
    assert read(tmp_path, "applications", quarantine=True).height == 175
    assert read(tmp_path, "reports")["year"].to_list() == [None]
    publish.publish(tmp_path, process_batch([Source(str(s), {"year": 2024})], "run-2"))
    reports = read(tmp_path, "reports")
    assert reports.select("year", "status", "run_id").to_dicts() == [{"year": 2024, "status": "valid", "run_id": "run-2"}]
    assert read(tmp_path, "applications").height == 175
    assert not list((tmp_path / "quarantine" / "applications").glob("*/*.parquet"))
    assert set(read(tmp_path, "findings")["rule_id"]) == {"active_disclosure.complete"}


def test_a_crash_during_a_write_leaves_the_previous_partition(tmp_path, frames, monkeypatch):
    publish.publish(tmp_path, frames)
    before = {p: p.read_bytes() for p in tmp_path.rglob("*.parquet")}
    changed = frames["reports"].with_columns(agency=pl.lit("changed"))

    def crash(table, where, **kw):
        open(where, "wb").write(b"PAR1 half a file")
        raise OSError("disk full")

    monkeypatch.setattr(publish.pq, "write_table", crash)
    with pytest.raises(OSError):
        publish.publish(tmp_path, {**frames, "reports": changed})
    after = {p: p.read_bytes() for p in tmp_path.rglob("*.parquet")}
    assert after == before  # no half-written file visible, nothing lost
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]
    monkeypatch.undo()
    assert set(read(tmp_path, "reports")["agency"]) != {"changed"}


def test_concurrent_publishers_never_lose_or_duplicate(tmp_path):
    """Two runs writing one warehouse at once (the lock serialises them): every report once."""
    import threading

    docs = [Source(str(p)) for p in distinct_reports(tmp_path / "docs", 8)]
    batches = [process_batch(docs[i::4], f"run-{i}") for i in range(4)]
    batches.append(process_batch(docs[:3], "run-again"))  # the same reports again, concurrently
    threads = [threading.Thread(target=publish.publish, args=(tmp_path / "wh", b)) for b in batches]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    reports = read(tmp_path / "wh", "reports")
    assert reports["report_id"].n_unique() == reports.height == 8
    assert read(tmp_path / "wh", "applications").height == 8 * 7 * 25


def test_published_index_knows_each_report_and_its_year(tmp_path, frames):
    publish.publish(tmp_path, frames)
    index = publish.published(tmp_path)
    assert {rid: row["year"] for rid, row in index.items()} == dict(
        zip(frames["reports"]["report_id"], frames["reports"]["year"]))


def test_a_crash_before_the_reports_file_leaves_nothing_listed_and_no_duplicates_after(tmp_path, monkeypatch):
    """Cells are put in place before `reports`: a crash in between lists no half-published report,
    and republishing the same reports in another batch removes the orphaned rows."""
    import os

    docs = [Source(str(p)) for p in distinct_reports(tmp_path / "docs", 3)]
    real = os.replace

    def crash_at_reports(tmp, path):
        if path.parent.parent.name == "reports":
            raise OSError("killed")
        real(tmp, path)

    monkeypatch.setattr(publish.os, "replace", crash_at_reports)
    with pytest.raises(OSError):
        publish.publish(tmp_path / "wh", process_batch(docs[:2], "run-1"))
    monkeypatch.undo()
    assert publish.published(tmp_path / "wh") == {}  # nothing listed, so a resumed run redoes both
    publish.publish(tmp_path / "wh", process_batch(docs, "run-2"))  # a different batch: other file names
    assert read(tmp_path / "wh", "reports").height == 3
    apps = read(tmp_path / "wh", "applications")
    assert apps.height == 3 * 7 * 25 and apps.select("report_id", "row", "applicant").is_unique().all()
