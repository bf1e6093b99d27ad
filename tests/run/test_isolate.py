"""Extraction workers: a document past the time limit, or one that kills its process, costs only itself."""

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from nianbao.model.errors import Unreadable
from nianbao.run import isolate
from nianbao.run.stop import Stopped


def work(kind: str, n: int):
    if kind == "hang":
        time.sleep(60)
    if kind == "wait":  # a document waiting (a core, a pipe): the clock runs, its CPU does not
        time.sleep(n)
    if kind == "spin":
        while True:
            pass
    if kind == "die":
        os._exit(9)
    if kind in ("ctrl-c", "sigterm"):  # as a terminal or a supervisor signals the whole process group
        os.kill(os.getpid(), signal.SIGINT if kind == "ctrl-c" else signal.SIGTERM)
        time.sleep(0.2)  # a signal sent to oneself is handled at once: its effects, if any, come in this
    if kind == "bad":
        raise Unreadable("not a report")
    if kind == "bug":
        raise KeyError("oops")
    return n * 2


def test_time_limit_crash_and_errors_are_per_document():
    items = [("ok", 1), ("spin", 2), ("ok", 3), ("die", 4), ("bad", 5), ("bug", 6), ("ok", 7)]
    out = isolate.run(work, items, workers=2, time_limit=1)  # CPU seconds: the spinning one's alone
    assert [o if isinstance(o, int) else None for o in out] == [2, None, 6, None, None, None, 14]
    assert str(out[1]) == "extraction ran past the CPU time limit of 1 s"
    assert str(out[3]) == "the extractor's process died (out of memory?)"
    assert str(out[4]) == "not a report"
    assert str(out[5]) == "extraction failed: KeyError: 'oops'"


def test_the_time_limit_counts_the_workers_cpu_not_the_clock(monkeypatch):
    """Issue 24 item 7: on a busy machine 14 of 15 scans ran past a wall-clock limit and were blamed
    as unreadable. The limit counts the worker's CPU: a document that waits (here: sleeps) longer
    than it is read; one that spins is stopped, saying so; the clock is a backstop, told as such."""
    monkeypatch.setenv("NIANBAO_CPU_LIMIT_S", "0.5")
    monkeypatch.setenv("NIANBAO_WALL_LIMIT_S", "30")
    own = {"workers": 2, "memory_limit_mb": 1602}
    out = isolate.run(work, [("wait", 1), ("spin", 1)], **own)
    assert out[0] == 2  # 1 s of the clock, twice the CPU limit of 0.5 s, but hardly any CPU
    assert str(out[1]) == "extraction ran past the CPU time limit of 0.5 s"
    (out,) = isolate.run(work, [("hang", 1)], wall_limit=1, **own)
    assert str(out) == "extraction ran past the wall-clock limit of 1 s (0 s of CPU)"


def test_a_worker_stopped_from_outside_is_not_its_documents_death():
    """Ctrl-C reaches the workers too: they ignore it (the run decides). One killed by SIGTERM was stopped
    with its run or its pool, not by its document: nothing is recorded about the document."""
    own = {"workers": 1, "memory_limit_mb": 1600}
    assert isolate.run(work, [("ctrl-c", 1), ("ok", 2)], **own) == [2, 4]
    with pytest.raises(Stopped, match=r"an extraction worker was stopped \(exit -15\)"):
        isolate.run(work, [("ok", 1), ("sigterm", 2), ("ok", 3)], **own)
    assert isolate.run(work, [("ok", 4)], **own) == [8]  # the pool goes on


def test_a_stopping_run_abandons_its_documents_at_once():
    stopping = threading.Event()
    threading.Timer(1, stopping.set).start()
    started = time.monotonic()
    with pytest.raises(Stopped):
        isolate.run(
            work, [("hang", 1), ("hang", 2), ("ok", 3)], workers=2, memory_limit_mb=1601, stopping=stopping.is_set
        )
    assert time.monotonic() - started < 10  # not the hung documents' 60 s


def pid(n: int) -> int:
    return os.getpid()


def test_workers_serve_every_batch_of_the_run_and_are_replaced_after_recycle_after(monkeypatch):
    monkeypatch.setattr(isolate, "LIMITS", isolate.Limits(recycle_after=3))
    own = {"workers": 1, "memory_limit_mb": 1536}  # a pool of its own (one per memory limit)
    first = isolate.run(pid, [(0,), (1,)], **own)
    second = isolate.run(pid, [(2,), (3,)], **own)  # the next batch: the same process, warm
    assert first[0] == first[1] == second[0] != os.getpid()
    assert second[1] != second[0]  # its 4th document: a fresh worker (the 3rd was its predecessor's last)
    assert isolate.run(work, [("die", 1), ("ok", 2)], **own)[1] == 4  # a worker's death costs only its document


def logged(log: str, data: bytes):
    with open(log, "a") as f:
        f.write(data.decode() + "\n")
    if data == b"bad":
        raise Unreadable("not a report")
    return data.upper()


def test_items_begun_ahead_are_each_done_once_and_told_to_their_pending(tmp_path):
    log = str(tmp_path / "log")
    begun = isolate.ahead(logged, [(log, b"a"), (log, b"bad")])
    out = [p.result(lambda: False) for p in begun]
    assert out[0] == b"A" and str(out[1]) == "not a report"
    assert begun[0].result(lambda: False) is None  # handed over once: the pending holds it no longer
    assert sorted(open(log).read().split()) == ["a", "bad"]
    assert isolate.run(logged, [(log, b"a")]) == [b"A"]  # run() knows nothing of what was begun ahead
    assert sorted(open(log).read().split()) == ["a", "a", "bad"]


def test_a_worker_holds_the_extractors_not_the_rest_of_the_pipeline():
    """Workers import what reading a document needs (nianbao.interpret.reading), not polars, Prefect or GX:
    each would cost every worker its import time and memory."""
    heavy = "sorted({m.split('.')[0] for m in __import__('sys').modules} & {'polars', 'prefect', 'great_expectations'})"
    (imported,) = isolate.run(eval, [("sorted(__import__('sys').modules)",)], workers=1, memory_limit_mb=1792)
    (found,) = isolate.run(eval, [(heavy,)], workers=1, memory_limit_mb=1792)
    assert {"nianbao.interpret.reading", "pdfplumber", "nianbao.interpret.match"} <= set(imported)
    assert found == []


def test_a_worker_collects_its_garbage_seldom_and_never_walks_its_imports():
    """The collector as nianbao.run.heap sets it (15% of extraction's CPU otherwise), in the worker."""
    from nianbao.run import heap

    (threshold,) = isolate.run(eval, [("__import__('gc').get_threshold()",)], workers=1, memory_limit_mb=1792)
    (frozen,) = isolate.run(eval, [("__import__('gc').get_freeze_count()",)], workers=1, memory_limit_mb=1792)
    assert threshold == (heap.THRESHOLDS.young, 10, 10) and frozen > 10_000


# a worker's minor page faults over 50 pictures of 4 MiB, each freed before the next is made
FAULTS = (
    "(lambda r: (lambda a: [len(bytearray(1 << 22)) for _ in range(50)]"
    " and r.getrusage(r.RUSAGE_SELF).ru_minflt - a)(r.getrusage(r.RUSAGE_SELF).ru_minflt))(__import__('resource'))"
)


def test_a_worker_reuses_its_freed_pictures_whatever_malloc_setting_it_inherits():
    """A Dask nanny exports MALLOC_TRIM_THRESHOLD_=65536 (glibc's mmap threshold then fixed at 128 KiB:
    every picture mmapped afresh and faulted in, page by page, +10-13% of a scan's CPU): a worker's
    thresholds are pinned (nianbao.run.allocators.pin), so a picture freed is reused, not faulted in again."""
    program = f"from nianbao.run import isolate; print(isolate.run(eval, [({FAULTS!r},)], workers=1)[0])"
    env = dict(os.environ, MALLOC_TRIM_THRESHOLD_="65536")
    done = subprocess.run([sys.executable, "-c", program], env=env, capture_output=True, text=True, timeout=120)
    faults = int(done.stdout.split()[-1])
    assert faults < 5 * 1024  # 50 x 1,024 pages (4 KiB) when each is mmapped afresh; one picture's once pinned


def test_a_batch_on_a_dask_worker_extracts_in_one_process_per_thread_of_it():
    """A Dask worker is its share of the machine's cores (one per core, one thread each): sized by the
    machine's cores instead, every worker's batch started as many extraction processes as the machine
    has cores."""
    distributed = pytest.importorskip("distributed")
    cores = len(os.sched_getaffinity(0))
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=cores + 1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        assert client.submit(isolate._cores).result() == cores + 1
    assert isolate._cores() == cores  # elsewhere, the cores it may run on
