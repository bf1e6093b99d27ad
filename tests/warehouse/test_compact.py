"""`nianbao compact`: a partition's files merged into one per dataset, rows unchanged, readers never
seeing a report twice or not at all, under the warehouse's lock; on a folder and on a bucket."""

import os
import threading

import duckdb
import polars as pl
import pytest
from clock import until
from corpus import distinct_reports

from flows import command as cli
from nianbao.acquire.sources import Source
from nianbao.model.schema import DATASETS, schema
from nianbao.run.pipeline import process_batch
from nianbao.warehouse import compact, files, index, publish, scan, storage


@pytest.fixture(scope="module")
def batches(tmp_path_factory):
    """Six batches: five of two valid reports, one with the invalid sample (quarantine and findings)."""
    from conftest import ROOT

    docs = [Source(str(p)) for p in distinct_reports(tmp_path_factory.mktemp("docs"), 10)]
    out = [process_batch(docs[i : i + 2], f"run-{i}") for i in range(0, 10, 2)]
    return out + [process_batch([Source(str(ROOT / "data" / "samples" / "sample_invalid_2024.txt"))], "run-x")]


def duck(root, dataset, quarantine=False) -> pl.DataFrame:
    con = duckdb.connect()
    if storage.is_remote(root):
        con.register_filesystem(storage.filesystem())
    paths = files(dataset, root, quarantine)
    if not paths:
        return pl.DataFrame()
    cols = [c for c in schema(dataset).names if c != "cells"]
    return con.sql(f"select {', '.join(cols)} from read_parquet({paths!r}, hive_partitioning=true)").pl().sort(cols)


def everything(root) -> dict:
    return {(d, q): duck(root, d, q) for d in DATASETS for q in (False, True)}


def test_compacting_merges_each_partition_into_one_file_and_keeps_every_row(warehouse, batches):
    for b in batches:
        publish.publish(warehouse, b)
    before = everything(warehouse)
    assert len(files("applications", warehouse)) == 5 and before["reports", False].height == 11
    done = compact.compact(warehouse)
    assert done == [{"partition": "year=2023", "reports": 10, "files_before": 25, "files_after": 5}]
    after = everything(warehouse)
    assert {k: v.to_dicts() for k, v in after.items()} == {k: v.to_dicts() for k, v in before.items()}
    assert [f.rsplit("/", 1)[1].split(".")[0][:10] for f in files("applications", warehouse)] == ["compacted-"]
    assert len(files("reports", warehouse)) == 2  # 2023 compacted, 2024's single batch left as it was
    assert index.load(storage.path(warehouse)).reread == 0  # the index follows
    # publishing after it: new reports beside the compacted file; a re-published one leaves it
    publish.publish(warehouse, batches[0])
    reports = duck(warehouse, "reports")
    assert reports.height == 11 and reports["report_id"].n_unique() == 11
    assert compact.compact(warehouse) and len(files("reports", warehouse)) == 2
    assert duck(warehouse, "applications").height == 10 * 7 * 25


def test_a_reader_racing_compactions_sees_every_report_exactly_once(warehouse, batches):
    want = sorted(id for b in batches[:5] for id in b["reports"]["report_id"])
    seen, errors = [], []

    def reader(stop):
        while not stop.is_set():
            try:
                ids = scan("applications", warehouse).select("report_id").collect()["report_id"].to_list()
                seen.append(len(ids) == 10 * 7 * 25 and sorted(set(ids)) == want)
            except (FileNotFoundError, pl.exceptions.ComputeError, OSError) as e:
                errors.append(e)  # on a folder: a file merged away between listing and opening

    for n in range(3):  # small files (re-publishing makes new ones), then a compaction racing the reader
        for b in batches[n:5]:
            publish.publish(warehouse, b)
        stop = threading.Event()
        t = threading.Thread(target=reader, args=(stop,))
        before = len(seen)
        t.start()
        try:
            until(lambda: len(seen) > before or not t.is_alive())  # a read of the small files
            assert compact.compact(warehouse)
            after = len(seen)
            until(lambda: len(seen) >= after + 2 or not t.is_alive())  # and one begun after the compaction
        finally:
            stop.set()
            t.join()
    assert len(seen) >= 5 and all(seen), f"{seen.count(False)} of {len(seen)} reads saw a report twice or not at all"
    assert len(errors) <= len(seen) // 4  # rare on a folder, never on a bucket (versions stay for the grace)
    if storage.is_remote(warehouse):
        assert not errors


def test_a_killed_compaction_is_finished_by_the_next_writer(warehouse, batches, monkeypatch):
    for b in batches[:3]:
        publish.publish(warehouse, b)
    unlink = type(storage.path(warehouse)).unlink

    def killed(self, *a, **kw):
        raise SystemExit("killed")

    monkeypatch.setattr(type(storage.path(warehouse)), "unlink", killed)
    with pytest.raises(SystemExit):
        compact.compact(warehouse)  # merged files written, none of the files they replace deleted
    monkeypatch.setattr(type(storage.path(warehouse)), "unlink", unlink)
    assert duck(warehouse, "applications").height == 6 * 7 * 25  # the claims hide what was merged
    root = storage.path(warehouse)
    assert len(index.listing(root, ["applications"])) == 4
    publish.publish(warehouse, batches[3])  # the next writer deletes what the merged files replaced
    assert len(index.listing(root, ["applications"])) == 2
    assert duck(warehouse, "applications").height == 8 * 7 * 25


def waiting_on(lock) -> bool:
    """Whether a process or thread is blocked taking the flock of `lock` (Linux lists each waiter in
    /proc/locks as `->`, with the file's device and inode)."""
    st = lock.stat()
    file = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    return any(line.split()[1:3] == ["->", "FLOCK"] and file in line.split() for line in open("/proc/locks"))


def test_compact_waits_for_the_lock_of_an_ingest(tmp_path, batches):
    wh = tmp_path / "wh"
    for b in batches[:2]:
        publish.publish(wh, b)
    held, done = threading.Event(), []

    def ingest_batch():
        with publish.locked(wh):
            held.set()
            until(lambda: waiting_on(wh / ".lock"))  # the compaction blocked on the lock: let it go
            done.append("publish")

    t = threading.Thread(target=ingest_batch)
    t.start()
    held.wait()
    compact.compact(wh)
    done.append("compact")
    t.join()
    assert done == ["publish", "compact"]


def test_the_command(tmp_path, batches, capsys):
    wh = tmp_path / "wh"
    assert cli.main(["compact", str(tmp_path / "nowhere")]) == 2
    assert "not a warehouse folder" in capsys.readouterr().err
    for b in batches[:2]:
        publish.publish(wh, b)
    assert cli.main(["compact", str(wh), "--year", "2024"]) == 2  # only 2023 is published
    assert capsys.readouterr().err.strip() == f"nianbao: {wh} has no 2024 partition: nothing written"
    assert cli.main(["compact", str(wh), "--year", "1900"]) == 2
    stranger = tmp_path / "photos"  # a folder that is no warehouse: exit 2, nothing written into it
    stranger.mkdir()
    (stranger / "a.jpg").write_bytes(b"\xff\xd8")
    assert cli.main(["compact", str(stranger)]) == 2
    assert "is not a warehouse" in capsys.readouterr().err
    assert sorted(p.name for p in stranger.iterdir()) == ["a.jpg"]
    assert cli.main(["compact", str(wh)]) == 0
    assert capsys.readouterr().out.strip() == "year=2023: 4 reports, 10 files merged into 5"
    assert pl.read_parquet(files("applications", wh)).height == 4 * 7 * 25
