"""The warehouse on a real S3 server (SeaweedFS): the lease, immutable versions, the reader."""

import json
import random
import threading
import time

import polars as pl
import pyarrow as pa
import pytest
from clock import FakeClock, until
from conftest import ROOT

from nianbao.acquire.sources import Source, resolve
from nianbao.model.errors import LeaseLost
from nianbao.run.pipeline import process_batch
from nianbao.warehouse import files, publish, scan, storage


@pytest.fixture(scope="module")
def frames():
    return process_batch(resolve([str(ROOT / "data" / "samples")]), "run-1")


def _lease_object(bucket, key, expires):
    storage.put_object(bucket, key, json.dumps({"owner": "someone", "expires": expires}).encode())


def test_one_lease_holder_at_a_time_and_released_after(s3):
    bucket = s3[5:]
    with storage.Lease(bucket, "wh/.lease"):
        assert storage.Lease(bucket, "wh/.lease")._try() is False  # If-None-Match: * lost: 412
        with pytest.raises(storage.PreconditionFailed):
            storage.put_object(bucket, "wh/.lease", b"{}", IfNoneMatch="*")
    assert not storage.filesystem().exists(f"{bucket}/wh/.lease")
    assert storage.Lease(bucket, "wh/.lease")._try() is True


def test_a_dead_holders_lease_expires_and_is_taken_over_but_a_live_one_is_not(s3):
    bucket = s3[5:]
    _lease_object(bucket, "live/.lease", time.time() + 60)
    assert storage.Lease(bucket, "live/.lease")._try() is False
    _lease_object(bucket, "dead/.lease", time.time() - 1)  # its writer died a while ago
    start = time.monotonic()
    with storage.Lease(bucket, "dead/.lease") as lease:
        assert time.monotonic() - start < 5
        held = json.loads(storage.filesystem().cat_file(f"{bucket}/dead/.lease"))
        assert held["owner"] == lease.owner


def _expires(bucket, key="wh/.lease") -> float:
    return json.loads(storage.filesystem().cat_file(f"{bucket}/{key}"))["expires"]


def test_a_held_lease_is_renewed_past_its_time(s3):
    """Renewed every third of its time, by its clock: past the time it was first taken for, it is
    still held, and no one else can take it."""
    bucket, clock = s3[5:], FakeClock()
    with storage.Lease(bucket, "wh/.lease", seconds=60, clock=clock) as lease:
        first = _expires(bucket)
        for n in (1, 2, 3, 4):
            until(lambda: clock.waits == n)  # the renewer waits for its time
            clock.advance(20)
            until(lambda: abs(_expires(bucket) - (first + 20 * n)) < 1e-3)  # renewed: 60 s from the clock's now
        assert clock.time() > first and not lease.lost
        assert storage.Lease(bucket, "wh/.lease", clock=clock)._try() is False


def test_a_lease_is_renewed_in_real_time(s3):
    """The real clock (storage.CLOCK, what the product runs on) renews it too, unasked."""
    bucket = s3[5:]
    with storage.Lease(bucket, "wh/.lease", seconds=1.5) as lease:
        assert lease.clock is storage.CLOCK
        first = _expires(bucket)
        until(lambda: _expires(bucket) > first)


def test_a_writer_whose_lease_was_taken_over_stops_writing(s3):
    bucket, clock = s3[5:], FakeClock()
    root = storage.path(f"{s3}/wh")
    with storage.Lease(bucket, "wh/.lease", seconds=60, clock=clock) as lease:
        _lease_object(bucket, "wh/.lease", clock.time() + 60)  # someone took it (we stalled)
        assert not lease.lost
        until(lambda: clock.waits == 1)
        clock.advance(20)  # its next renewal finds the lease changed
        until(lambda: lease.lost)
        with pytest.raises(LeaseLost, match="lost the warehouse lease"):
            publish.write_atomic(pa.table({"a": [1]}), root / "reports" / "year=2020" / "part-1.parquet")
    assert not root.glob("reports/*/*.parquet")


def test_a_writer_whose_lease_expired_unrenewed_stops_writing(s3):
    """Its renewals failed (a stall, the network): once past the expiry it wrote, another writer
    may take the lease over at any moment, so it writes nothing more, though no one has yet."""
    bucket, clock = s3[5:], FakeClock()
    root = storage.path(f"{s3}/wh")
    with storage.Lease(bucket, "wh/.lease", seconds=60, clock=clock) as lease:
        lease._stop.set()  # renewing stops, as if each renewal failed
        lease._renewer.join()
        publish.write_atomic(pa.table({"a": [1]}), root / "reports" / "year=2020" / "part-1.parquet")
        clock.advance(59.9)
        publish.write_atomic(pa.table({"a": [2]}), root / "reports" / "year=2020" / "part-1.parquet")
        clock.advance(0.1)
        assert not lease.lost
        with pytest.raises(LeaseLost, match="expired unrenewed"):
            publish.write_atomic(pa.table({"a": [3]}), root / "reports" / "year=2020" / "part-1.parquet")
    assert storage.read_table(root / "reports" / "year=2020" / "part-1.parquet")["a"].to_pylist() == [2]


def test_releasing_never_deletes_a_lease_taken_over_meanwhile(s3):
    bucket = s3[5:]
    with storage.Lease(bucket, "wh/.lease", seconds=60) as lease:
        _lease_object(bucket, "wh/.lease", time.time() + 60)  # taken over before we noticed
        assert not lease.lost
    assert json.loads(storage.filesystem().cat_file(f"{bucket}/wh/.lease"))["owner"] == "someone"


def test_a_rewrite_is_a_new_object_and_the_old_one_goes_after_the_grace(s3, frames):
    wh = f"{s3}/wh"
    publish.publish(wh, frames)
    publish.publish(wh, frames)
    fs = storage.filesystem()
    keys = fs.find(f"{s3[5:]}/wh/reports")
    assert len(keys) == 6 and len(files("reports", wh)) == 3  # 3 partitions, 2 versions each
    assert all(k.split("/")[-1].startswith("part-") and ".v" in k for k in keys)
    assert storage.path(wh).sweep(["reports"], grace=0) == 3
    assert sorted(fs.find(f"{s3[5:]}/wh/reports")) == sorted(f[5:] for f in files("reports", wh))


def test_a_removed_file_leaves_a_tombstone_readers_ignore(s3):
    f = storage.path(f"{s3}/wh/reports/year=2020/part-1.parquet")
    f.write_table(pa.table({"a": [1]}))
    f.unlink()
    assert not f.exists() and not f.parent.glob("*.parquet")
    keys = storage.filesystem().find(f"{s3[5:]}/wh")
    assert [k.rsplit(".", 1)[1] for k in sorted(keys)] == ["parquet", "gone"]
    assert storage.path(f"{s3}/wh").sweep(["reports"], grace=0) == 2


def test_scan_reads_the_same_from_a_folder_and_a_bucket(s3, tmp_path, frames):
    publish.publish(tmp_path / "wh", frames)
    publish.publish(f"{s3}/wh", frames)
    for dataset, quarantine in (
        ("reports", False),
        ("applications", False),
        ("applications", True),
        ("findings", False),
    ):
        local = scan(dataset, tmp_path / "wh", quarantine).collect()
        remote = scan(dataset, f"{s3}/wh", quarantine).collect()
        assert local.sort(local.columns[:3]).equals(remote.sort(remote.columns[:3])), dataset
    reports = scan("reports", f"{s3}/wh").collect()
    assert reports.schema["year"] == pl.Int16
    assert sorted(reports["year"].to_list(), key=str) == [2023, 2024, None]  # the unknown year is null
    assert scan("applications", f"{s3}/wh", quarantine=True).collect().height == 7 * 25
    empty = scan("narratives", f"{s3}/nothing").collect()
    assert empty.height == 0 and empty.columns == scan("narratives", tmp_path / "wh").collect().columns


def test_a_reader_racing_republishing_on_s3_never_fails(s3, frames, monkeypatch):
    """Readers fetch a footer and row groups in separate requests: a publisher rewriting the same
    files (and sweeping superseded versions) must never make one fail or see a report twice."""
    monkeypatch.setenv("NIANBAO_S3_GRACE", "2")
    wh = f"{s3}/wh"
    publish.publish(wh, frames)
    want = {"reports": 3, "applications": 25 * 7, "findings": scan("findings", wh).collect().height}
    stop, errors, reads = threading.Event(), [], [0]

    def republish():
        while not stop.is_set():
            publish.publish(wh, frames)

    def read():
        while not stop.is_set():
            try:
                lazy = {d: scan(d, wh) for d in want}  # listed now, fetched a moment later
                time.sleep(random.uniform(0, 0.5))
                got = {d: frame.collect().height for d, frame in lazy.items()}
                assert got == want, got
                reads[0] += 1
            except Exception as e:  # noqa: BLE001
                errors.append(repr(e))
                return

    threads = [threading.Thread(target=republish), threading.Thread(target=read), threading.Thread(target=read)]
    before = set(storage.filesystem().find(f"{s3[5:]}/wh/applications"))
    for t in threads:
        t.start()
    swept = lambda: before - set(storage.filesystem().find(f"{s3[5:]}/wh/applications"))
    try:  # the race made real: versions readers had listed deleted, then ten reads more
        until(lambda: errors or swept(), timeout=300, every=0.5)
        racing = reads[0]
        until(lambda: errors or reads[0] >= racing + 10, timeout=300)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not errors and swept()


def test_concurrent_runs_in_separate_processes_take_turns_on_the_lease(s3, tmp_path):
    """Three processes publishing to one bucket at once: only the lease (If-None-Match) keeps them apart."""
    import subprocess
    import sys

    from corpus import distinct_reports

    docs = [Source(str(p)) for p in distinct_reports(tmp_path / "docs", 8)]
    runs = []
    for run, part in (("a", docs[:4]), ("b", docs[4:]), ("again", docs[:3])):
        (tmp_path / run).mkdir()
        for name, frame in process_batch(part, run).items():
            frame.write_ipc(tmp_path / run / f"{name}.arrow")
        runs.append(tmp_path / run)
    script = (
        "import sys, pathlib, polars as pl; from nianbao.warehouse import publish; "
        "publish.publish(sys.argv[1], {p.stem: pl.read_ipc(p) for p in pathlib.Path(sys.argv[2]).iterdir()})"
    )
    wh = f"{s3}/wh"
    children = [subprocess.Popen([sys.executable, "-c", script, wh, str(run)]) for run in runs]
    assert [c.wait(timeout=300) for c in children] == [0, 0, 0]
    reports = scan("reports", wh).collect()
    assert reports["report_id"].n_unique() == reports.height == 8
    apps = scan("applications", wh).collect()
    assert apps.height == 8 * 7 * 25 and apps.select("report_id", "row", "applicant").is_unique().all()
    assert not storage.filesystem().exists(f"{s3[5:]}/wh/.lease")  # each released it


def test_an_unchanged_dictionary_is_not_written_again(s3, frames):
    publish.publish(f"{s3}/wh", frames)
    publish.publish(f"{s3}/wh", frames)
    assert len(storage.filesystem().find(f"{s3[5:]}/wh/dictionary")) == 1  # one version, not one per publish


def test_probe_says_whether_the_bucket_takes_writes(s3, monkeypatch):
    storage.path(f"{s3}/wh").probe()
    assert not storage.filesystem().find(s3[5:])  # the probe object is gone again
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wrong")  # SeaweedFS enforces credentials
    with pytest.raises(PermissionError):
        storage.path(f"{s3}/wh").probe()
