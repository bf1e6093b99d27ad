"""The run's end stages one at a time over a kept warehouse, each stage's RSS and peak: a probe, not a test.

    python bench/end_stages.py WAREHOUSE [--trace] [--only across|indicators|index|page]

Over a warehouse a run made (bench/load_bench.py --keep, or `nianbao ingest`), in one process set
up as the command's (its allocators and collector): the run's summary as the warehouse holds it (every
report, its findings), then the checks across years, the indicators, the index (publish.settle)
and the validation page, as the flow calls them (each idempotent: it rewrites what it wrote). Per
stage: its CPU seconds, RSS and its anonymous part before, the peak while it ran (sampled every
20 ms), after, and once given back as the flow gives it back (allocators.give_back); `--trace`: also
tracemalloc's peak of Python's allocations in the stage and its largest lines at that peak.
"""

from __future__ import annotations

import argparse
import gc
import resource
import sys
import threading
import time
import tracemalloc
from pathlib import Path

from nianbao.run import allocators


class Sampler(threading.Thread):
    def __init__(self):
        super().__init__(daemon=True)
        import psutil

        self.me, self.peak, self.peak_anon, self.stop = psutil.Process(), 0, 0, threading.Event()
        self.main, self.where = threading.main_thread().ident, []

    def now(self) -> tuple[int, int]:
        m = self.me.memory_info()
        return m.rss, m.rss - m.shared

    def run(self):
        while not self.stop.wait(0.02):
            rss, anon = self.now()
            if anon > self.peak_anon:  # where the stage's code was at its anonymous peak
                frame, self.where = sys._current_frames().get(self.main), []
                while frame is not None:
                    if "/nianbao/" in frame.f_code.co_filename:
                        self.where.append(f"{Path(frame.f_code.co_filename).name}:{frame.f_lineno}")
                    frame = frame.f_back
            self.peak, self.peak_anon = max(self.peak, rss), max(self.peak_anon, anon)


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def stage(name: str, trace: bool, fn):
    gc.collect()
    s = Sampler()
    rss0, anon0 = s.now()
    s.peak, s.peak_anon = rss0, anon0
    if trace:
        tracemalloc.start(3)
    s.start()
    c = cpu()
    result = fn()
    c = cpu() - c
    snap = None
    if trace:
        _, traced = tracemalloc.get_traced_memory()
        snap = tracemalloc.take_snapshot()
        tracemalloc.stop()
    s.stop.set()
    s.join()
    gc.collect()
    rss1, anon1 = s.now()
    given = cpu()
    allocators.give_back()
    given = cpu() - given
    rss2, anon2 = s.now()
    mib = 2**20
    print(
        f"{name}: {c:.1f} CPU-s (user+sys); RSS {rss0 / mib:.0f} -> peak {s.peak / mib:.0f} ({(s.peak - rss0) / mib:+.0f})"
        f" -> {rss1 / mib:.0f} MiB; anonymous {anon0 / mib:.0f} -> {s.peak_anon / mib:.0f} "
        f"({(s.peak_anon - anon0) / mib:+.0f}) -> {anon1 / mib:.0f}, given back -> {anon2 / mib:.0f} "
        f"({1000 * given:.0f} CPU-ms)",
        flush=True,
    )
    print("  at its anonymous peak:", " < ".join(s.where))
    if trace:
        print(f"  tracemalloc peak {traced / mib:.1f} MiB; at the end the largest:")
        for st in snap.statistics("lineno")[:8]:
            print(f"    {st.size / mib:6.1f} MiB {st.count:8d} {st.traceback}")
    return result


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("warehouse", type=Path)
    p.add_argument("--trace", action="store_true")
    p.add_argument("--only", choices=("across", "indicators", "index", "page"))
    # the page is left in the warehouse: validation/probe.html (and .json, in its index)
    args = p.parse_args(argv)
    from nianbao.run import heap

    allocators.tune()
    heap.tune()
    import polars as pl

    from nianbao import warehouse
    from nianbao.check import across, indicators
    from nianbao.report import artifacts
    from nianbao.report.summary import FINDING_SCHEMA, REPORT_SCHEMA, RunSummary
    from nianbao.warehouse import publish

    out = str(args.warehouse)
    reports = warehouse.scan("reports", out).with_columns(pl.col("year").cast(pl.Int64)).collect()
    found = pl.concat([warehouse.scan("findings", out), warehouse.scan("findings", out, quarantine=True)])
    found = found.select(list(FINDING_SCHEMA)).collect().sort("report_id")
    run = RunSummary()
    for start in range(0, reports.height, 100):  # a batch at a time, as the flow adds them
        part = reports.slice(start, 100)
        mine = found.filter(pl.col("report_id").is_in(part["report_id"].implode()))
        run.add(RunSummary(part.select([c for c in REPORT_SCHEMA if c in part.columns]), mine))
    del reports, part, found, mine
    heap.settle()
    print(f"{len(run)} reports: {run.counts_text()}", flush=True)
    if args.only in (None, "across"):
        f = stage("checks across years", args.trace, lambda: across.check(out, run.ids, "probe"))
        run.replace([r.id for r in across.rules()], f.select(list(FINDING_SCHEMA)))
        del f
    if args.only in (None, "indicators"):
        stage("indicators", args.trace, lambda: indicators.compute(out, run.ids))
    if args.only in (None, "index"):  # written when a stage before left it behind the data (across does)
        stage("index", args.trace, lambda: publish.settle(out))
    if args.only in (None, "page"):
        stage("validation page", args.trace, lambda: artifacts.validation_page(run, "probe", out))
    return 0


if __name__ == "__main__":
    t = time.perf_counter()
    code = main()
    print(f"{time.perf_counter() - t:.0f} s wall", file=sys.stderr)
    sys.exit(code)
