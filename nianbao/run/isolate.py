"""Extraction in worker processes, each document under a time limit and a memory limit.

pdfminer can spin for minutes on a hostile PDF and a parser can exhaust memory; in a worker
process such a document costs only itself: past the time limit its worker is killed, past the
memory limit its allocations fail; the document becomes `unreadable` with that reason, and the
rest goes on. The time limit counts the worker's CPU seconds (the programs it runs, a converter,
included), not the clock: on a busy machine a document waits for a core and that is not its fault.
A much larger wall-clock limit stays as a backstop, for a document that waits on nothing.

One pool of workers (one per core; on a Dask worker, one per thread of it) serves every batch of the run: a worker is
started once, imports the extractors once, and is handed one document at a time over its own
pipe, so we always know which document a worker that dies or runs late was reading (the culprit,
never a bystander). A worker is replaced after LIMITS.recycle_after documents (parsers' caches and a
fragmented heap grow) and after running out of memory. Workers die with their forkserver (see
reaper.py).

A worker's death is its document's only when the document can have caused it (a crash, the kernel's
out-of-memory killer): one stopped by a signal a terminal, a supervisor or a dying pool sends (SIGTERM,
SIGHUP), or any death while the run is stopping, is the run's: run() raises stop.Stopped and
the document is not recorded (see nianbao/run/stop.py). Workers ignore Ctrl-C: the run decides.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import multiprocessing.forkserver
import os
import resource
import signal
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import wait
from typing import Any, Callable

from nianbao.model.errors import Unreadable
from nianbao.model.settings import settings
from nianbao.run import allocators, heap, stop


@dataclass(frozen=True)
class Limits:
    """A pool's own limits (a document's are settings: NIANBAO_CPU_LIMIT_S, NIANBAO_WALL_LIMIT_S)."""

    start: float = 120.0  # seconds a new worker may take to start and import, before its first document's time
    recycle_after: int = 200  # documents a worker reads before a fresh one takes its place
    poll: float = 0.1  # seconds between looks at the workers, the stop flag and the lock


LIMITS = Limits()
_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
# Imported once by the forkserver, so every worker starts with them (single-threaded modules only:
# the forkserver must stay safe to fork), and by each worker as it starts (the rest of what it runs:
# pyarrow, for one, starts threads as it is imported). The parsers too: nianbao.extract imports each
# at its format's first document.
PRELOAD = [
    "nianbao.extract",
    "nianbao.extract.pdf",
    "nianbao.extract.office",
    "nianbao.extract.html",
    "nianbao.interpret.match",
]
WARM = ["nianbao.interpret.reading"]
_DIED = "the extractor's process died (out of memory?)"
# how a worker stopped from outside ends: by the signals sent to a whole process group (a terminal's
# hangup, a supervisor's or Prefect's SIGTERM; it ignores Ctrl-C) and the one it dies with its pool by
_STOPPED = {-signal.SIGTERM, -signal.SIGHUP}
_READY = "ready"  # a worker's first word, once warm


def _memory_limit_mb() -> int:
    return settings().memory_limit_mb


def _cores() -> int:
    """The cores this process's extraction may use: on a Dask worker, one per thread of it (its share of
    the machine, one worker per core: every worker sized by the machine's cores put 2 processes on each
    core of the 2-core bench, and would put 16 on each of a 16-core machine), else those it may run on."""
    distributed = sys.modules.get("distributed")
    if distributed is not None:
        try:
            return distributed.get_worker().state.nthreads
        except ValueError:  # not a Dask worker's task
            pass
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def run(
    fn: Callable[..., Any],
    items: list[tuple],
    workers: int | None = None,
    time_limit: float | None = None,
    memory_limit_mb: int | None = None,
    on_done: Callable[[], None] | None = None,
    stopping: Callable[[], bool] = lambda: False,
    wall_limit: float | None = None,
) -> list[Any]:
    """fn(*item) for every item in the run's worker processes, at most `workers` at once (default:
    one per core, shared with the other batches running); a failure is returned as Unreadable,
    never raised. An item past `time_limit` CPU seconds (default NIANBAO_CPU_LIMIT_S) or
    `wall_limit` seconds of the clock (NIANBAO_WALL_LIMIT_S) is unreadable, saying which.
    `on_done()` is called as each item ends (progress). Once `stopping()`, or when a
    worker is stopped from outside, raises Stopped: the items are nobody's. Thread-safe."""
    if not items:  # no pool started for nothing (a batch of text dumps, on a daemonic Dask worker too)
        return []
    time_limit = time_limit or settings().cpu_limit_s
    wall_limit = wall_limit or settings().wall_limit_s
    memory = memory_limit_mb or _memory_limit_mb()
    pool = _pool(memory, workers or _cores())
    results: list[Any] = [None] * len(items)
    queue = deque(range(len(items)))
    # worker -> (item, when it started, its CPU seconds then: None until it is warm)
    running: dict[_Worker, tuple[int, float, float | None]] = {}

    def finish(i: int, result: Any) -> None:
        results[i] = result
        if on_done is not None:
            on_done()

    try:
        while queue or running:
            if stopping():
                raise stop.Stopped("the run is stopping")
            while queue and len(running) < (workers or pool.size):
                worker = pool.acquire(wait=not running)
                if worker is None:
                    break
                i = queue.popleft()
                try:
                    worker.conn.send((fn, items[i]))
                except (OSError, ValueError):  # it died idle: the item waits for another worker
                    queue.appendleft(i)
                    pool.release(worker, healthy=False)
                    continue
                except Exception as e:  # the item cannot be pickled
                    pool.release(worker)
                    finish(i, Unreadable(f"extraction failed: {type(e).__name__}: {e}"))
                    continue
                # a new worker's time starts once it is warm (below), within LIMITS.start
                if worker.ready:
                    running[worker] = (i, time.monotonic(), _cpu_seconds(worker.process.pid))
                else:
                    running[worker] = (i, time.monotonic() + LIMITS.start, None)
            ready = wait([w.conn for w in running] + [w.process.sentinel for w in running], timeout=LIMITS.poll)
            for worker in [w for w in running if w.conn in ready or w.process.sentinel in ready]:
                i, _, _ = running.pop(worker)
                try:
                    answer = worker.conn.recv()
                except (EOFError, OSError):
                    pool.release(worker, healthy=False)
                    if stopping() or worker.process.exitcode in _STOPPED:  # not the document's doing
                        raise stop.Stopped(
                            f"an extraction worker was stopped (exit {worker.process.exitcode})"
                        ) from None
                    finish(i, Unreadable(_DIED))
                    continue
                if answer == _READY:  # a new worker has its imports done: the item's time starts now
                    worker.ready = True
                    running[worker] = (i, time.monotonic(), _cpu_seconds(worker.process.pid))
                    continue
                result, last = answer
                pool.release(worker, healthy=not last)
                finish(i, result)
            now = time.monotonic()
            for worker, (i, started, cpu) in list(running.items()):
                used = None if cpu is None else _cpu_seconds(worker.process.pid)
                if used is not None:
                    used -= cpu
                elif cpu is not None:  # no /proc (not Linux): the clock stands in for the CPU
                    used = now - started
                if used is not None and used > time_limit:
                    reason = f"extraction ran past the CPU time limit of {time_limit:g} s"
                elif now - started > wall_limit:
                    reason = f"extraction ran past the wall-clock limit of {wall_limit:g} s" + (
                        f" ({used:.0f} s of CPU)" if used is not None else " (its worker never started)"
                    )
                else:
                    continue
                del running[worker]
                pool.release(worker, healthy=False)
                finish(i, Unreadable(reason))
    finally:
        for worker in running:  # interrupted: what they are reading is nobody's now
            pool.release(worker, healthy=False)
    return results


def ahead(fn: Callable[..., Any], items: list[tuple], time_limit: float | None = None) -> list[Pending]:
    """Begin fn(*item) for these items now, in a thread, as run() would do them; each one's result
    is its Pending's. The command begins the run's first documents while Prefect's server starts,
    and hands the pendings to the flow with the documents (nianbao/run/plan.py)."""
    pending = [Pending() for _ in items]

    def work():
        try:
            results = run(fn, items, time_limit=time_limit, stopping=stop.requested)
        except stop.Stopped as e:  # the process is stopping: raised to whoever waits, never a document's
            results = [e] * len(items)
        except BaseException as e:  # noqa: BLE001 (told to whoever waits)
            results = [Unreadable(f"extraction failed: {type(e).__name__}: {e}")] * len(items)
        for p, result in zip(pending, results):
            p.set(result)

    threading.Thread(target=work, name="nianbao-ahead", daemon=True).start()
    return pending


def _cpu_seconds(pid: int) -> float | None:
    """CPU seconds (user and system) of a process, of the children it has waited for, and of its
    live descendants (a converter it runs), from /proc; None where there is no /proc."""
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()  # after the name, which may hold spaces
            total += sum(int(x) for x in fields[11:15]) / _TICK  # utime stime cutime cstime
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children", "rb") as f:
                    todo += [int(c) for c in f.read().split()]
        except (OSError, ValueError, IndexError):
            if p == pid:
                return None
    return total


class Pending:
    """The result of an item begun ahead, once it is done."""

    def __init__(self):
        self._done = threading.Event()
        self._result: Any = None

    def set(self, result: Any) -> None:
        self._result = result
        self._done.set()

    def result(self, stopping: Callable[[], bool]) -> Any:
        """Waits for it and hands it over, once (the pending lets go of it: a plan holding pendings
        lives as long as its run); raises Stopped once `stopping()` (or when the work was stopped)."""
        while not self._done.wait(LIMITS.poll):
            if stopping():
                raise stop.Stopped("the run is stopping")
        if isinstance(self._result, stop.Stopped):
            raise self._result
        result, self._result = self._result, None
        return result


def start(workers: int | None = None) -> None:
    """Start the run's workers now (they import the extractors meanwhile), not at the first document."""
    pool = _pool(_memory_limit_mb(), workers or _cores())
    started = []
    while (worker := pool.acquire(wait=False)) is not None:
        started.append(worker)
    for worker in started:
        pool.release(worker, served=False)


class _Worker:
    """A process that reads one document at a time, sent over its own pipe."""

    def __init__(self, ctx, memory_mb: int):
        self.conn, theirs = ctx.Pipe()
        self.process = ctx.Process(target=_serve, args=(theirs, memory_mb), daemon=True, name="nianbao-extract")
        self.process.start()
        theirs.close()
        self.served = 0
        self.ready = False  # told _READY

    def stop(self, kill: bool) -> None:
        if kill:
            self.process.kill()
        else:
            try:
                self.conn.send(None)
            except (OSError, ValueError):
                self.process.kill()
        self.process.join(5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()


class _Pool:
    """Workers shared by every batch of the run (batches run in threads)."""

    def __init__(self, size: int, memory_mb: int):
        self.size, self.memory = size, memory_mb
        ctx = multiprocessing.get_context("forkserver")  # never fork a process that runs Prefect's and polars' threads
        if not getattr(multiprocessing.forkserver._forkserver, "_forkserver_pid", None):
            ctx.set_forkserver_preload(PRELOAD)
        self.ctx = ctx
        self.idle: list[_Worker] = []
        self.busy = 0
        self.lock = threading.Condition()

    def acquire(self, wait: bool) -> _Worker | None:
        """An idle worker, a new one while fewer than `size` live, else None (wait: until one is free)."""
        with self.lock:
            while True:
                while self.idle:
                    worker = self.idle.pop()
                    if worker.process.is_alive():
                        self.busy += 1
                        return worker
                    worker.conn.close()
                if self.busy < self.size:
                    self.busy += 1
                    break
                if not wait:
                    return None
                self.lock.wait(LIMITS.poll)
        try:
            return _Worker(self.ctx, self.memory)
        except BaseException:
            with self.lock:
                self.busy -= 1
            raise

    def release(self, worker: _Worker, healthy: bool = True, served: bool = True) -> None:
        worker.served += served
        keep = healthy and worker.served < LIMITS.recycle_after
        with self.lock:
            self.busy -= 1
            if keep:
                self.idle.append(worker)
            self.lock.notify()
        if not keep:
            worker.stop(kill=not healthy)


_pools: dict[int, _Pool] = {}  # one per memory limit
_pools_lock = threading.Lock()


def _pool(memory_mb: int, size: int) -> _Pool:
    with _pools_lock:
        pool = _pools.get(memory_mb)
        if pool is None:
            if multiprocessing.current_process().daemon:  # multiprocessing would refuse, and not say why
                raise RuntimeError(
                    "a daemonic process cannot start extraction workers: run Dask's workers not "
                    "daemonic (DASK_CONFIG=dask.yaml, or DASK_DISTRIBUTED__WORKER__DAEMON=False)"
                )
            pool = _pools[memory_mb] = _Pool(size, memory_mb)
        pool.size = max(pool.size, size)
        return pool


def _serve(conn, memory_mb: int) -> None:
    """A worker's life: capped, warmed, then one document after another until told to stop. Each
    answer is (result, last): `last` when the worker ran out of memory and must not serve again.
    Ctrl-C on a terminal reaches every process of its group: a worker ignores it (the command stops
    it), else each would print its KeyboardInterrupt's traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _worker_start(memory_mb)
    heap.tune()
    heap.pause()
    for module in WARM:
        __import__(module)
    heap.settle()
    conn.send(_READY)
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        fn, args = job
        last = False
        try:
            result = fn(*args)
        except Exception as e:
            result = _unreadable(e, memory_mb)
            last = "memory limit" in str(result)
        try:
            conn.send((result, last))
        except Exception as e:  # a result that cannot be pickled
            conn.send((Unreadable(f"extraction failed: {type(e).__name__}: {e}"), last))


def _worker_start(memory_mb: int) -> None:
    """In each worker: its heap capped (RLIMIT_DATA counts what a process writes, unlike RLIMIT_AS,
    which counts every thread's reserved address space), its malloc's thresholds pinned
    (allocators.pin: the same wherever it runs, a Dask worker's batch too), and SIGTERM when its parent (the
    forkserver, which exits with our process) dies, so a killed run leaves no worker behind."""
    limit = memory_mb * 2**20
    _, hard = resource.getrlimit(resource.RLIMIT_DATA)
    resource.setrlimit(resource.RLIMIT_DATA, (limit if hard == resource.RLIM_INFINITY else min(limit, hard), hard))
    allocators.pin()
    die_with_parent()


def die_with_parent() -> None:
    """SIGTERM this process when the thread that started it ends (Linux; elsewhere nothing): a worker
    has no handler for it, so it dies as surely as by SIGKILL, and its death reads as its pool's, not
    as its document's (SIGKILL is also the out-of-memory killer's)."""
    parent = os.getppid()
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before prctl
        os.kill(os.getpid(), signal.SIGTERM)


def _unreadable(e: BaseException, memory_mb: int) -> Unreadable:
    """What a failure is told as: running out of memory anywhere (a parser may wrap the
    MemoryError) as the memory limit it is; an Unreadable as itself; anything else as a failure
    of ours on this input."""
    cause: BaseException | None = e
    while cause is not None and not isinstance(cause, MemoryError):
        cause = cause.__cause__ or cause.__context__
    if cause is not None:
        return Unreadable(f"extraction exceeds the memory limit of {memory_mb} MiB")
    if isinstance(e, Unreadable):
        return e
    return Unreadable(f"extraction failed: {type(e).__name__}: {e}")
