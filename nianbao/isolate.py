"""Extraction in worker processes, each document under a time limit and a memory limit.

pdfminer can spin for minutes on a hostile PDF and a parser can exhaust memory; in a worker
process such a document costs only itself: past the time limit its worker is killed, past the
memory limit its allocations fail; the document becomes `unreadable` with that reason, and the
rest of the batch goes on in a fresh pool. Workers die with their forkserver (see reaper.py).
"""
from __future__ import annotations

import ctypes
import multiprocessing
import os
import resource
import signal
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Callable

from nianbao.document import Unreadable
from nianbao.settings import settings

TIME_LIMIT = 120.0  # seconds of extraction per document


def _memory_limit_mb() -> int:
    return settings().memory_limit_mb


def run(fn: Callable[..., Any], items: list[tuple], workers: int = 1, time_limit: float = TIME_LIMIT,
        memory_limit_mb: int | None = None, on_done: Callable[[], None] | None = None) -> list[Any]:
    """fn(*item) for every item in worker processes; a failure is returned as Unreadable, never raised.
    `on_done()` is called as each item ends (progress)."""
    memory = memory_limit_mb or _memory_limit_mb()
    results: list[Any] = [None] * len(items)
    queue = deque(range(len(items)))
    running: dict = {}  # future -> (index, started)
    suspects: set[int] = set()  # running when a worker died; retried one at a time to find the culprit
    reported = 0  # items whose end on_done was told
    pool = None
    try:
        while queue or running:
            if pool is None:
                # forkserver: never fork a process that runs Prefect's and polars' threads
                pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("forkserver"),
                                           initializer=_worker_start, initargs=(memory,))
            while queue and len(running) < (1 if suspects else workers):
                if suspects and running:
                    break
                i = queue.popleft()
                running[pool.submit(_call, fn, memory, *items[i])] = (i, time.monotonic())
            done, _ = wait(running, timeout=0.1, return_when=FIRST_COMPLETED)
            broken = False
            for f in done:
                i, _ = running.pop(f)
                was_suspect = i in suspects
                suspects.discard(i)
                try:
                    results[i] = f.result()
                except Unreadable as e:
                    results[i] = e
                except BrokenProcessPool:
                    broken = True
                    if was_suspect or workers == 1:
                        results[i] = Unreadable("the extractor's process died (out of memory?)")
                    else:
                        suspects.add(i)
                        queue.appendleft(i)
                except Exception as e:  # an extractor's bug on hostile input
                    results[i] = Unreadable(f"extraction failed: {type(e).__name__}: {e}")
            now = time.monotonic()
            late = [f for f, (_, started) in running.items() if now - started > time_limit]
            for f in late:
                i, _ = running.pop(f)
                results[i] = Unreadable(f"extraction ran past the time limit of {time_limit:g} s")
                suspects.discard(i)
            if on_done is not None:
                for _ in range(sum(1 for r in results if r is not None) - reported):
                    on_done()
                reported = sum(1 for r in results if r is not None)
            if late or broken:
                queue.extendleft(i for i, _ in running.values())  # innocent bystanders start again
                running.clear()
                _kill(pool)
                pool = None
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
    return results


def _worker_start(memory_mb: int) -> None:
    """In each worker: its heap capped (RLIMIT_DATA counts what a process writes, unlike RLIMIT_AS,
    which counts every thread's reserved address space), and SIGKILL when its parent (the
    forkserver, which exits with our process) dies, so a killed run leaves no worker behind."""
    limit = memory_mb * 2**20
    _, hard = resource.getrlimit(resource.RLIMIT_DATA)
    resource.setrlimit(resource.RLIMIT_DATA, (limit if hard == resource.RLIM_INFINITY else min(limit, hard), hard))
    die_with_parent()


def die_with_parent() -> None:
    """SIGKILL this process when the thread that started it ends (Linux; elsewhere nothing)."""
    parent = os.getppid()
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before prctl
        os.kill(os.getpid(), signal.SIGKILL)


def _call(fn: Callable[..., Any], memory_mb: int, *args):
    """fn(*args); running out of memory anywhere in it (a parser may wrap the MemoryError) is
    told as the memory limit it is."""
    try:
        return fn(*args)
    except Exception as e:
        cause: BaseException | None = e
        while cause is not None and not isinstance(cause, MemoryError):
            cause = cause.__cause__ or cause.__context__
        if cause is not None:
            raise Unreadable(f"extraction exceeds the memory limit of {memory_mb} MiB") from None
        raise


def _kill(pool: ProcessPoolExecutor) -> None:
    for p in list((pool._processes or {}).values()):  # no public API kills a running worker
        p.kill()
    pool.shutdown(wait=False, cancel_futures=True)
