"""A writer trusts the index it holds without listing the data (nianbao/warehouse/index.py) only when
nothing can have changed since: another process that crashed or was interrupted after writing data,
another process that published, `nianbao compact` run in between, each make the next publish check
against a full listing, so no report is ever lost or doubled. Each case on a folder and on a bucket;
the other writer is a real process of its own."""

import os
import pickle
import select
import subprocess
import sys
import time
from collections.abc import Mapping

import polars as pl
import pytest
from clock import FakeClock
from conftest import ROOT
from corpus import distinct_reports

from nianbao.acquire.sources import Source
from nianbao.model.settings import settings
from nianbao.run.pipeline import process_batch
from nianbao.warehouse import files, index, publish, scan, storage

# Another writer: publishes the pickled frames, or compacts; `kill`/`interrupt` stop it once every
# data file of its batch is written, as the index is about to be (SIGKILL-like, or Ctrl-C). Given its
# job as arguments it does that one (killed: its process dies); else it does the jobs it reads, one a
# line, answering each "done" or "interrupted" (a Ctrl-C's KeyboardInterrupt out of the job).
WRITER = """
import json, os, pickle, sys
from nianbao.warehouse import compact, publish, storage
stop = "none"
def stopped():
    if stop == "kill":
        os._exit(9)
    raise KeyboardInterrupt
replace, write = os.replace, storage.S3Path.write_table
def os_replace(tmp, path):
    if str(path).endswith("report_ids.parquet") and stop != "none":
        stopped()
    replace(tmp, path)
def write_table(self, table, **kw):
    if self.key.endswith("report_ids.parquet") and stop != "none":
        stopped()
    return write(self, table, **kw)
os.replace, storage.S3Path.write_table = os_replace, write_table
def job(root, what):
    if what == "compact":
        compact.compact(root)
    else:
        publish.publish(root, pickle.load(open(what, "rb")))
if sys.argv[1:]:
    root, what, stop = sys.argv[1:4]
    job(root, what)
else:
    for line in sys.stdin:
        root, what, stop = json.loads(line)
        try:
            job(root, what)
            print("done", flush=True)
        except KeyboardInterrupt:
            print("interrupted", flush=True)
"""


@pytest.fixture(scope="module")
def other_writer(seaweedfs, tmp_path_factory):
    """other_writer(root, what, stop) runs the other writer: in a process of its own (its lease as long
    as the product's: renewed in time however loaded the machine), killed or not. One that is not
    killed is the module's one other process, which does one job after another (its imports paid
    once: ~0.7 CPU-s a process, more on a bucket); an interrupted job leaves it as a Ctrl-C leaves a
    program, its lock and lease released (it takes the next jobs)."""
    import json

    folder = tmp_path_factory.mktemp("writer")
    env = {**os.environ, **seaweedfs.env, "PYTHONPATH": str(ROOT)}  # the s3 fixture's variables
    with open(folder / "stderr", "w+") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-c", WRITER],
            env=env,
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )

        def run(root, what, stop="none") -> None:
            if isinstance(what, Mapping):
                path = folder / f"batch-{time.monotonic_ns()}.pickle"
                with open(path, "wb") as f:
                    pickle.dump(what, f)
                what = str(path)
            if stop == "kill":
                done = subprocess.run(
                    [sys.executable, "-c", WRITER, str(root), what, stop],
                    env=env,
                    cwd=ROOT,
                    capture_output=True,
                    text=True,
                    timeout=120,
                )
                assert done.returncode == 9, done.stderr
                return
            process.stdin.write(json.dumps([str(root), what, stop]) + "\n")
            process.stdin.flush()
            answered = select.select([process.stdout], [], [], 120)[0]  # one line a job: none read ahead
            answer = process.stdout.readline().strip() if answered else "no answer in 120 s"
            stderr.seek(0)
            assert answer == {"none": "done", "interrupt": "interrupted"}[stop], stderr.read()

        yield run
        process.stdin.close()
        assert process.wait(timeout=60) == 0


@pytest.fixture(scope="module")
def docs(tmp_path_factory):
    """Four distinct valid reports (2023) and batches of them, validated once."""
    paths = [Source(str(p)) for p in distinct_reports(tmp_path_factory.mktemp("docs"), 4)]
    return {
        name: process_batch([paths[i] for i in ids], f"run-{name}")
        for name, ids in {"01": [0, 1], "12": [1, 2], "23": [2, 3], "1": [1]}.items()
    }


def reports(root) -> list[str]:
    return sorted(scan("reports", root).collect()["report_id"].to_list())


def applications(root) -> pl.DataFrame:
    return scan("applications", root).collect()


def ids(batch) -> list[str]:
    return batch["reports"]["report_id"].to_list()


@pytest.fixture
def listings(monkeypatch):
    """The listings of every data file index.load makes (readers list one dataset: not counted)."""
    calls = []
    real = index.listing

    def listing(root, bases=None, keys=None):
        calls.extend([1] if bases is None else [])
        return real(root, bases, keys)

    monkeypatch.setattr(index, "listing", listing)
    return calls


def test_a_writer_trusts_its_own_index_on_s3_and_it_is_what_a_listing_shows(warehouse, docs, listings):
    root = storage.path(warehouse)
    publish.publish(warehouse, docs["01"])
    listings.clear()
    publish.publish(warehouse, docs["23"])
    publish.publish(warehouse, docs["12"])  # moves reports 1 and 2: found without a listing
    assert listings == []
    trusted = index.load(root)
    index._trusted.clear()  # as a new process would: list everything and read what is not known
    checked = index.load(root)
    assert checked.reread == 0 and checked.files == trusted.files
    assert sorted(checked.table().to_pylist(), key=str) == sorted(trusted.table().to_pylist(), key=str)
    want = sorted(ids(docs["01"]) + ids(docs["23"]))
    assert reports(warehouse) == want and applications(warehouse).height == 4 * 7 * 25
    assert not storage.is_remote(warehouse) or not (root / index.WRITING).exists()


@pytest.mark.parametrize("stop", ["kill", "interrupt"])
def test_another_process_stopped_before_its_index_makes_the_next_publish_list(
    warehouse, docs, other_writer, listings, stop, monkeypatch
):
    """It wrote every file of batch 12 (report 1 moved out of batch 01's files into its own) but
    not the index: the index this process trusts still says report 1 is in batch 01. Killed, it
    left its lease to expire; interrupted, it released it. Either way its WRITING stays."""
    publish.publish(warehouse, docs["01"])
    other_writer(warehouse, docs["12"], stop)
    if storage.is_remote(warehouse):
        assert (storage.path(warehouse) / index.WRITING).exists()
        # the lease a killed writer left is taken over once it has expired: by this process's
        # clock, past its time now (by a clock of its own, the writer could not renew it after)
        monkeypatch.setattr(storage, "CLOCK", FakeClock(time.time() + settings().s3_lease + 1))
    listings.clear()
    publish.publish(warehouse, docs["1"])  # report 1 again, alone: every copy of it must go
    assert reports(warehouse) == sorted(ids(docs["01"]) + ids(docs["23"])[:1])
    apps = applications(warehouse)
    assert apps.height == 3 * 7 * 25 and apps.select("report_id", "row", "applicant").is_unique().all()
    assert listings == [1]
    listings.clear()
    publish.publish(warehouse, docs["23"])  # checked and settled: trusted again
    assert listings == []


def test_another_process_publishing_in_between_makes_the_next_publish_list(warehouse, docs, other_writer, listings):
    publish.publish(warehouse, docs["01"])
    other_writer(warehouse, docs["12"])
    listings.clear()
    publish.publish(warehouse, docs["1"])
    assert reports(warehouse) == sorted(ids(docs["01"]) + ids(docs["23"])[:1])
    assert applications(warehouse).height == 3 * 7 * 25 and listings == [1]


def test_compacting_in_between_makes_the_next_publish_list(warehouse, docs, other_writer, listings):
    publish.publish(warehouse, docs["01"])
    publish.publish(warehouse, docs["23"])
    other_writer(warehouse, "compact")
    assert len(files("reports", warehouse)) == 1  # batches 01 and 23 merged into one file
    listings.clear()
    publish.publish(warehouse, docs["1"])  # out of the compacted file, none of the merged ones back
    assert reports(warehouse) == sorted(ids(docs["01"]) + ids(docs["23"]))
    assert applications(warehouse).height == 4 * 7 * 25 and len(files("reports", warehouse)) == 2
    assert listings == [1]


def test_versions_a_trusting_writer_superseded_are_swept_without_a_listing(s3, docs, monkeypatch, listings):
    """Re-publishing supersedes versions no listing will show it: they go once due (the grace 0
    here), while tombstones wait for a listing, which shows nothing is left behind them."""
    root = storage.path(s3 + "/wh")
    publish.publish(root, docs["01"])
    publish.publish(root, docs["12"])  # report 1's rows leave batch 01's files: new versions
    publish.publish(root, docs["01"])  # and come back: batch 12's files new versions again
    monkeypatch.setenv("NIANBAO_S3_GRACE", "0")
    listings.clear()
    publish.publish(root, docs["23"])  # report 2 leaves batch 12, whose files are left empty: tombstones
    publish.publish(root, docs["1"])  # trusted: sweeps what the publishes before superseded
    assert listings == []
    data = [k for k in storage.filesystem().find(f"{root.bucket}/wh") if "year=" in k]
    versions = {}
    for k in data:
        versions.setdefault(k.split(".v")[0], []).append(k.rsplit(".", 1)[1])
    # batches 01, 23 and 1: their newest version alone; batch 12 (left empty): its tombstone alone
    assert sorted(map(tuple, versions.values())) == sorted([("parquet",)] * 15 + [("gone",)] * 5)
    assert reports(root) == sorted(ids(docs["01"]) + ids(docs["23"]))


def test_a_run_on_a_folder_neither_lists_nor_rewrites_the_index_at_every_batch(tmp_path, listings, monkeypatch):
    """Issue 24 (load): a run's publishes on a folder list the data once and write the index file
    only when a tenth of it is behind (every batch while it has up to 11 locations, then ever more
    seldom); a process killed meanwhile leaves only that to be read again, and the run's end
    (publish.settle) writes it whole and removes WRITING: the next process reads nothing again."""
    root = tmp_path / "wh"
    written = []
    real = publish._write_temporary
    monkeypatch.setattr(
        publish,
        "_write_temporary",
        lambda table, path, **kw: (written.append(path) if path.name == "report_ids.parquet" else None)
        or real(table, path, **kw),
    )
    batches = [process_batch([Source(str(tmp_path / f"gone-{n}.pdf"))], "run") for n in range(40)]  # unreadable
    for batch in batches:
        publish.publish(root, batch)
    assert listings == [1] and len(written) == 21
    assert (root / index.WRITING).exists()
    held = index.load(root)
    index._trusted.clear()  # a process killed now: the next reads again what the file does not tell
    behind = index.load(root)
    assert behind.reread == 2 and behind.files == held.files
    assert sorted(behind.table().to_pylist(), key=str) == sorted(held.table().to_pylist(), key=str)
    assert reports(root) == sorted(r for b in batches for r in ids(b))
    publish.settle(root)
    assert not (root / index.WRITING).exists()
    index._trusted.clear()
    assert index.load(root).reread == 0


def test_the_runs_end_checks_the_index_it_holds_against_the_data_without_reading_the_file(tmp_path, monkeypatch):
    """Issue 24 (load): the checks across years rewrite data files and mark it (WRITING anew), so
    publish.settle no longer trusts the index this process holds; it checks it against a listing as
    it would the file, and reads again only the location rewritten, not the index file (a
    100,000-report run's: +30 MiB at its end). What it writes is what a new process rebuilds."""
    root = tmp_path / "wh"
    batches = [process_batch([Source(str(tmp_path / f"gone-{n}.pdf"))], "run") for n in range(15)]  # unreadable
    for batch in batches:
        publish.publish(root, batch)
    rewritten = sorted((root / "reports").glob("*/*.parquet"))[3]
    where = index.location(rewritten.relative_to(root).as_posix())
    there = sorted(rel for rel in index.listing(root) if index.location(rel) == where)  # `reports`, `findings`
    gone = storage.read_table(rewritten)["report_id"][0].as_py()
    for rel in there:  # its report's rows gone, as only a listing can tell
        publish.write_atomic(storage.read_table(root / rel).slice(0, 0), root / rel)
    index.writing(root)  # as the checks across years mark their rewrite
    reads = []
    real_file, real_table = index.read_file, storage.read_table
    monkeypatch.setattr(
        index, "read_file", lambda root, rel, *a, **k: reads.append(rel) or real_file(root, rel, *a, **k)
    )
    monkeypatch.setattr(storage, "read_table", lambda where, **k: reads.append(str(where)) or real_table(where, **k))
    publish.settle(root)
    monkeypatch.undo()
    assert sorted(reads) == there and len(there) == 2  # read again: the files rewritten, not the index
    assert not (root / index.WRITING).exists()
    index._trusted.clear()  # a new process: the index file as settle wrote it, checked, nothing read again
    settled = index.load(root)
    assert settled.reread == 0
    (root / index.INDEX).unlink()
    index._trusted.clear()
    rebuilt = index.load(root)  # from the data alone
    assert rebuilt.reread == 15
    assert sorted(settled.table().to_pylist(), key=str) == sorted(rebuilt.table().to_pylist(), key=str)
    held = set(pl.from_arrow(settled.table()["report_ids"]).explode().drop_nulls().to_list())
    assert gone not in held and len(held) == 14
