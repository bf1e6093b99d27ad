"""Load: a run of many documents and a run of a huge manifest, through the command: a benchmark, not a test.

    python bench/load_bench.py [--docs 2000] [--rows 100000] [--workers 2] [--batch-size 100] [--only documents|manifest]
        [--logs DIR] [--keep DIR]

Two loads, each one run of the command (`nianbao ingest`, its own temporary Prefect server) into a
fresh warehouse: `documents`, a folder of text dumps (three in four valid, one in four invalid:
distinct reports made from the samples); `manifest`, a manifest whose rows name one such document
in a hundred and, for the rest, files that are not there (each an unreadable report: the summary
must stay readable with nearly every report failed). "Flat" is read inside the run, from the
flow's log of each batch published and the command's memory sampled every 0.2 s: seconds per batch
in the run's second half against its first, and the flow's peak RSS once a tenth of the batches
were published against its peak until the last batch was, and over the run (its end, the checks
across years, artifacts and validation page, included) (targets: within 1.2x). Each RSS also as its anonymous
part (RSS less the pages mapped from files, psutil's `shared`: the libraries' code and read-only data
paged in as new code paths first run, which is not the run's data growing). Prints the wall time (the
server's start included), the summary's length in lines and its first and last lines.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data" / "samples"


def reports(folder: Path, n: int) -> list[Path]:
    """n distinct reports (distinct bytes and agencies): three in four valid, one in four invalid."""
    folder.mkdir(parents=True, exist_ok=True)
    valid = (SAMPLES / "sample_valid_2023.txt").read_text(encoding="utf-8")
    invalid = (SAMPLES / "sample_invalid_2024.txt").read_text(encoding="utf-8")
    paths = []
    for i in range(n):
        text, town = (invalid, "示例市绿水街道") if i % 4 == 3 else (valid, "示例县青山镇")
        assert town in text
        path = folder / f"r{i:06d}.txt"
        path.write_text(text.replace(town, f"示例县{i:06d}镇"), encoding="utf-8")
        paths.append(path)
    return paths


def manifest(folder: Path, rows: int) -> Path:
    """A manifest of `rows` rows: one in a hundred names a report, the others files not there."""
    docs = reports(folder / "docs", -(-rows // 100))
    path = folder / "manifest.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["uri", "agency"])
        for i in range(rows):
            w.writerow([f"docs/{docs[i // 100].name}" if i % 100 == 0 else f"missing/m{i:07d}.pdf", ""])
    return path


class Peak(threading.Thread):
    """RSS of a process (the command: the flow runs in it) over time, and the peak of its Prefect
    server child."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.samples, self.server, self.stop = pid, [], 0, threading.Event()

    def run(self):
        import psutil

        try:
            me = psutil.Process(self.pid)
        except psutil.Error:
            return
        while not self.stop.wait(0.2):
            try:
                cpu, mem = me.cpu_times(), me.memory_info()
                self.samples.append((time.time(), mem.rss, cpu.user + cpu.system, mem.rss - mem.shared))
                for child in me.children(recursive=True):
                    if "prefect" in " ".join(child.cmdline()) or "uvicorn" in " ".join(child.cmdline()):
                        self.server = max(self.server, child.memory_info().rss)
            except psutil.Error:
                pass


_CLOCK = r"^(\d\d):(\d\d):(\d\d\.\d+) "
_BATCH = re.compile(_CLOCK + r".*batch (\d+)/(\d+) published")
# the run's end, each stage told by the line its task (or the flow) logs when it finishes
_END = re.compile(
    _CLOCK
    + r".*(?:Task run '(check-across-years|compute-indicators|report-artifacts)-\w+'|(Flow run)) .*Finished in state"
)
STAGES = {
    "check-across-years": "checks across years",
    "compute-indicators": "indicators",
    "report-artifacts": "index, artifacts and validation page",
    "Flow run": "the flow's end",
}


def _clock(day: float, h: str, m: str, s: str) -> float:
    return day + int(h) * 3600 + int(m) * 60 + float(s)


def ingest(
    sources: list[str], out: Path, workers: int, cwd: Path, log: Path | None = None, batch_size: int | None = None
) -> dict:
    env = dict(os.environ, PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1", PREFECT_LOGGING_LEVEL="INFO")
    env.pop("PREFECT_API_URL", None)  # the command's own temporary server, as a user's first run
    start = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "flows", "ingest", *sources, "--out", str(out), "--workers", str(workers)]
        + (["--batch-size", str(batch_size)] if batch_size else []),
        cwd=cwd,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    peak = Peak(child.pid)
    peak.start()
    stdout, stderr = child.communicate()
    ended = time.time()
    wall = time.perf_counter() - start
    peak.stop.set()
    if log:  # the log, and the RSS samples beside it (time, bytes, CPU seconds, anonymous bytes)
        log.write_text(stderr, encoding="utf-8")
        log.with_suffix(".rss").write_text(
            "".join(f"{t:.2f} {rss} {cpu:.2f} {anon}\n" for t, rss, cpu, anon in peak.samples)
        )
    if child.returncode not in (0, 1):
        raise SystemExit(f"the run failed (exit {child.returncode}):\n{stderr[-3000:]}")
    # when each batch was published (the log's UTC clock, as time.time()'s day)
    day = time.time() - time.time() % 86400
    published = [_clock(day, *mt.groups()[:3]) for mt in map(_BATCH.match, stderr.splitlines()) if mt]
    n = len(published)
    half, tenth_n = n // 2, max(n // 10, 1)
    first = (published[half] - published[0]) / max(half, 1) if n > 2 else float("nan")
    second = (published[-1] - published[half]) / max(n - 1 - half, 1) if n > 2 else float("nan")
    # the first tenth of the batches against the last (the first batch's own start left out: the run's start)
    head = (published[tenth_n] - published[0]) / tenth_n if n > tenth_n else float("nan")
    tail = (published[-1] - published[-1 - tenth_n]) / tenth_n if n > tenth_n else float("nan")
    # the flow process's CPU seconds per batch (the machine's load moves wall time, hardly this)
    cpu = lambda when: max((c for t, _, c, _ in peak.samples if t <= when), default=0.0)  # noqa: E731
    head_cpu = (cpu(published[tenth_n]) - cpu(published[0])) / tenth_n if n > tenth_n else float("nan")
    tail_cpu = (cpu(published[-1]) - cpu(published[-1 - tenth_n])) / tenth_n if n > tenth_n else float("nan")
    tenth = published[max(n // 10 - 1, 0)] if n else float("inf")
    early = max((rss for t, rss, _, _ in peak.samples if t <= tenth), default=0)
    early_anon = max((anon for t, _, _, anon in peak.samples if t <= tenth), default=0)
    # the batches' share of the peak, apart from the run's end (across years, artifacts, validation page)
    batches = max((rss for t, rss, _, _ in peak.samples if t <= published[-1]), default=0) if n else 0
    batches_anon = max((anon for t, _, _, anon in peak.samples if t <= published[-1]), default=0) if n else 0
    # RSS and its anonymous part as the first batch and each tenth of the batches were published
    at = lambda when: max(((t, rss, anon) for t, rss, _, anon in peak.samples if t <= when), default=(0, 0, 0))  # noqa: E731
    marks = sorted({0, *(max(n * k // 10 - 1, 0) for k in range(1, 11))}) if n else []
    per_batch = [(i + 1, at(published[i])[1] / 2**20, at(published[i])[2] / 2**20) for i in marks]
    # each stage of the run's end: its seconds, the RSS it started at and its peak
    stages, since = [], published[-1] if n else start
    ends = [
        (mt.group(4) or mt.group(5), _clock(day, *mt.groups()[:3])) for mt in map(_END.match, stderr.splitlines()) if mt
    ]
    for name, until in [*ends, ("command", ended)]:
        inside = [(rss, anon) for t, rss, _, anon in peak.samples if since <= t <= until]
        before = [(rss, anon) for t, rss, _, anon in peak.samples if t <= since]
        stages.append(
            (
                STAGES.get(name, "the command's summary (and the server's stop)"),
                until - since,
                (before[-1][0] if before else 0) / 2**20,
                max((r for r, _ in inside), default=0) / 2**20,
                (before[-1][1] if before else 0) / 2**20,
                max((a for _, a in inside), default=0) / 2**20,
            )
        )
        since = until
    return {
        "wall": wall,
        "batches": n,
        "first_s": first,
        "second_s": second,
        "head_s": head,
        "head_cpu": head_cpu,
        "tail_cpu": tail_cpu,
        "tail_s": tail,
        "flow_mib": max((rss for _, rss, _, _ in peak.samples), default=0) / 2**20,
        "flow_anon_mib": max((anon for *_, anon in peak.samples), default=0) / 2**20,
        "early_anon_mib": early_anon / 2**20,
        "batches_anon_mib": batches_anon / 2**20,
        "early_mib": early / 2**20,
        "batches_mib": batches / 2**20,
        "server_mib": peak.server / 2**20,
        "stages": stages,
        "per_batch": per_batch,
        "flow_cpu": max((c for _, _, c, _ in peak.samples), default=0.0),
        "summary": stdout.rstrip("\n").splitlines(),
        "code": child.returncode,
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--docs", type=int, default=2000, help="documents in the `documents` run")
    p.add_argument("--rows", type=int, default=100_000, help="rows of the `manifest` run's manifest")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--batch-size", type=int, help="documents per batch (default: the command's)")
    p.add_argument("--only", choices=("documents", "manifest"), help="one load only")
    p.add_argument("--logs", type=Path, help="a folder to keep each run's log in (LOAD.log)")
    p.add_argument("--keep", type=Path, help="a folder to keep each run's warehouse in (LOAD), for bench/end_stages.py")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="nianbao-load-bench-") as tmp:
        tmp = Path(tmp)
        for load, n in (("documents", args.docs), ("manifest", args.rows)):
            if args.only not in (None, load):
                continue
            case = tmp / load
            t = time.perf_counter()
            sources = [str(manifest(case, n))] if load == "manifest" else [str(case / "docs")]
            if load == "documents":
                reports(case / "docs", n)
            made = time.perf_counter() - t
            out = args.keep / load if args.keep else case / "wh"
            r = ingest(sources, out, args.workers, case, args.logs and args.logs / f"{load}.log", args.batch_size)
            print(
                f"{load}: {n} documents (made in {made:.0f} s), exit {r['code']}, {r['wall']:.0f} s "
                f"({1000 * r['wall'] / n:.1f} ms/document, the server's start included)\n"
                f"  time: {r['batches']} batches, {r['first_s']:.2f} s/batch in the first half, {r['second_s']:.2f} "
                f"in the second ({r['second_s'] / r['first_s']:.2f}x); {r['head_s']:.2f} s/batch in the first tenth, "
                f"{r['tail_s']:.2f} in the last ({r['tail_s'] / r['head_s']:.2f}x); the flow's CPU "
                f"{r['head_cpu']:.2f} s/batch in the first tenth, {r['tail_cpu']:.2f} in the last "
                f"({r['tail_cpu'] / r['head_cpu']:.2f}x)\n"
                f"  memory: the flow's peak RSS {r['flow_mib']:.0f} MiB, {r['early_mib']:.0f} MiB once a tenth of the "
                f"batches were published ({r['flow_mib'] / max(r['early_mib'], 1):.2f}x), {r['batches_mib']:.0f} MiB "
                f"until the last batch was ({r['batches_mib'] / max(r['early_mib'], 1):.2f}x); anonymous: "
                f"{r['flow_anon_mib']:.0f}, {r['early_anon_mib']:.0f} ("
                f"{r['flow_anon_mib'] / max(r['early_anon_mib'], 1):.2f}x), {r['batches_anon_mib']:.0f} "
                f"({r['batches_anon_mib'] / max(r['early_anon_mib'], 1):.2f}x); Prefect's server "
                f"{r['server_mib']:.0f} MiB\n  RSS/anonymous MiB as batch N was published: "
                + ", ".join(f"{b}: {rss:.0f}/{anon:.0f}" for b, rss, anon in r["per_batch"])
                + f"\n  the flow's process: {r['flow_cpu']:.0f} CPU s (user+sys)\n  the run's end:"
            )
            for stage, seconds, before, top, anon, anon_top in r["stages"]:
                print(
                    f"    {stage}: {seconds:.1f} s, RSS {before:.0f} MiB before, peak {top:.0f} MiB ({top - before:+.0f});"
                    f" anonymous {anon:.0f}, peak {anon_top:.0f} ({anon_top - anon:+.0f})"
                )
            print(f"  summary: {len(r['summary'])} lines:")
            print("\n".join(f"    | {line}" for line in r["summary"][:3] + ["…"] + r["summary"][-3:]), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
