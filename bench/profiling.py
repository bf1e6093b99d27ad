"""Where a benchmark's CPU goes, in every thread of a process: a sampler for bench/national_bench.py.

cProfile sees one thread (a run's batches, Prefect's event and log senders run in others) and
inflates small calls; this samples every thread's stack ~100 times a second and charges each the
CPU its thread used since the last look (its thread CPU clock), so threads that wait cost nothing.
Figures: CPU-s by function (self: the frame running, C calls counted to it; cumulative: anywhere
in the stack), by package of the frame running, and by thread name.
"""

from __future__ import annotations

import json
import os
import re
import sys
import threading
import time
from collections import Counter
from pathlib import Path

INTERVAL = 0.01
DUMP = 1.0


def _where(code) -> str:
    path = code.co_filename
    for marker in ("/site-packages/", "/lib/python3.11/", "/nat8/", "/wt/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{path}:{code.co_firstlineno}:{code.co_name}"


def _package(code) -> str:
    path = code.co_filename
    if "/site-packages/" in path:
        return path.split("/site-packages/", 1)[1].split("/", 1)[0]
    if "/lib/python3" in path:
        return "stdlib"
    for top in ("nianbao", "flows", "tasks", "bench"):
        if f"/{top}/" in path:
            return top
    return path


class Sampler(threading.Thread):
    """`path`: where it dumps what it saw, every DUMP seconds (a process that may be killed)."""

    def __init__(self, path: Path | None = None):
        super().__init__(daemon=True, name="bench-sampler")
        self.path = path
        self.done = threading.Event()
        self.self_cpu: Counter = Counter()
        self.cumulative: Counter = Counter()
        self.packages: Counter = Counter()
        self.threads: Counter = Counter()
        self.callers: Counter = Counter()  # "function <- its caller", self CPU
        self.by_thread: Counter = Counter()  # "thread: function", cumulative CPU (functions of nianbao, flows, tasks)
        self.own = 0.0  # the sampler's own CPU
        self._last: dict[int, float] = {}

    def run(self):
        me = threading.get_ident()
        start, dumped = time.thread_time(), time.monotonic()
        while not self.done.wait(INTERVAL):
            self.sample(me)
            self.own = time.thread_time() - start
            if self.path is not None and time.monotonic() - dumped > DUMP:
                self.dump(self.path)
                dumped = time.monotonic()

    def sample(self, me: int) -> None:
        names = {t.ident: t.name for t in threading.enumerate()}
        for ident, frame in sys._current_frames().items():
            if ident == me:
                continue
            try:
                cpu = time.clock_gettime(time.pthread_getcpuclockid(ident))
            except (OSError, ProcessLookupError):
                continue
            used, self._last[ident] = cpu - self._last.get(ident, cpu), cpu
            if used <= 0:
                continue
            name = re.sub(r"[0-9]+", "N", names.get(ident, "?"))
            self.threads[name] += used
            leaf = _where(frame.f_code)
            self.self_cpu[leaf] += used
            self.packages[_package(frame.f_code)] += used
            if frame.f_back is not None:
                self.callers[f"{leaf} <- {_where(frame.f_back.f_code)}"] += used
            seen = set()
            while frame is not None:
                key = _where(frame.f_code)
                if key not in seen:
                    seen.add(key)
                    self.cumulative[key] += used
                    if _package(frame.f_code) in ("nianbao", "flows", "tasks"):
                        self.by_thread[f"{name}: {key}"] += used
                frame = frame.f_back

    def dump(self, path: Path) -> None:
        path.write_text(
            json.dumps(
                {
                    "process_cpu": time.process_time(),
                    "own": self.own,
                    "self": self.self_cpu,
                    "cumulative": self.cumulative,
                    "packages": self.packages,
                    "threads": self.threads,
                    "callers": self.callers,
                    "by_thread": self.by_thread,
                }
            )
        )


def merged(paths) -> dict:
    out = {"process_cpu": 0.0, "own": 0.0}
    out.update({k: Counter() for k in ("self", "cumulative", "packages", "threads", "callers", "by_thread")})
    for p in paths:
        d = json.loads(Path(p).read_text())
        for k, v in d.items():
            if isinstance(v, dict):
                out[k].update(v)
            else:
                out[k] += v
    return out


def summary(d: dict, top: int = 25) -> str:
    sampled = sum(d["self"].values())
    lines = [f"sampled {sampled:.1f} CPU-s of {d['process_cpu']:.1f} (the process's; sampler's own {d['own']:.1f})"]
    for title, key in (("threads", "threads"), ("packages (self)", "packages")):
        lines.append(f"  by {title}: " + ", ".join(f"{k} {v:.1f}" for k, v in d[key].most_common(12)))
    for title, key in (
        ("self", "self"),
        ("self, by caller", "callers"),
        ("cumulative", "cumulative"),
        ("cumulative, our functions by thread", "by_thread"),
    ):
        lines.append(f"  top {top} by {title} CPU-s:")
        lines += [f"    {v:7.2f}  {k}" for k, v in d[key].most_common(top)]
    return "\n".join(lines)


# ---------------------------------------------------------------- in the extraction workers

_worker: Sampler | None = None
COMMAND = False  # set in the command's process (a Dask worker's), whose own sampler sees its text dumps' extraction


def extract_and_match(*args):
    """nianbao.interpret.reading.extract_and_match, sampled: the command's workers run this one when
    the bench profiles (its stacks dumped every DUMP seconds, a worker being killed at the end)."""
    global _worker
    from nianbao.interpret.reading import extract_and_match as real

    if COMMAND:
        return real(*args)
    if _worker is None:
        _worker = Sampler(Path(os.environ["NATIONAL_PROFILE"]) / f"worker-{os.getpid()}.json")
        # the worker's start-up (imports, warm-up) before its first document
        _worker.self_cpu["(start-up before the first document)"] = time.process_time()
        _worker.start()
    return real(*args)


# ---------------------------------------------------------------- in a Dask cluster's workers (client.run)

_dask: Sampler | None = None


def start_in_dask_worker(folder: str) -> None:
    """A Dask worker sampled (its batches), its extraction workers' extraction wrapped, as in the command."""
    global _dask, COMMAND
    from nianbao.run import pipeline

    os.environ["NATIONAL_PROFILE"] = folder  # before the worker's forkserver starts: its workers inherit it
    pipeline.extract_and_match, COMMAND = extract_and_match, True
    _dask = Sampler()
    _dask.start()


def stop_in_dask_worker() -> None:
    _dask.done.set()
    _dask.join()
    _dask.dump(Path(os.environ["NATIONAL_PROFILE"]) / f"dask-worker-{os.getpid()}.json")
