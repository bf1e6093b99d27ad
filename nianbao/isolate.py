"""Extraction in worker processes, each document under a time limit.

pdfminer can spin for minutes on a hostile PDF and a parser can exhaust memory; in a worker
process such a document costs only itself: past the limit its worker is killed, the document
becomes `unreadable` with that reason, and the rest of the batch goes on in a fresh pool.
"""
from __future__ import annotations

import multiprocessing
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Callable

from nianbao.document import Unreadable

TIME_LIMIT = 120.0  # seconds of extraction per document


def run(fn: Callable[..., Any], items: list[tuple], workers: int = 1, time_limit: float = TIME_LIMIT) -> list[Any]:
    """fn(*item) for every item in worker processes; a failure is returned as Unreadable, never raised."""
    results: list[Any] = [None] * len(items)
    queue = deque(range(len(items)))
    running: dict = {}  # future -> (index, started)
    suspects: set[int] = set()  # running when a worker died; retried one at a time to find the culprit
    pool = None
    try:
        while queue or running:
            if pool is None:
                # forkserver: never fork a process that runs Prefect's and polars' threads
                pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("forkserver"))
            while queue and len(running) < (1 if suspects else workers):
                if suspects and running:
                    break
                i = queue.popleft()
                running[pool.submit(fn, *items[i])] = (i, time.monotonic())
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
            if late or broken:
                queue.extendleft(i for i, _ in running.values())  # innocent bystanders start again
                running.clear()
                _kill(pool)
                pool = None
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
    return results


def _kill(pool: ProcessPoolExecutor) -> None:
    for p in list((pool._processes or {}).values()):  # no public API kills a running worker
        p.kill()
    pool.shutdown(wait=False, cancel_futures=True)
