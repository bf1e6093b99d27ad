"""Peak memory at N and 10·N documents, end to end through the Prefect flow: a benchmark, not a test.

    python bench/memory_bench.py [--n 1000] [--factor 10] [--workers 2] [--batch-size 100]

Generates 10·N reports (tests/accuracy.py's generator: text dumps, with one in ten HTML so that
extraction workers run), then ingests the first N, and all 10·N, each in a fresh process (so each
peak is its own), into a fresh warehouse. Prints, per run, the peak RSS of the process running the
flow, of the largest extraction worker, and of Prefect's temporary server (sampled every 0.2 s), the
wall time, and the ratio of the 10·N peaks to the N peaks (the target: the flow's within 1.2×).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")  # a loaded machine

MIX = (("txt/grid", 3), ("txt/cells", 3), ("txt/pipe", 3), ("html/plain", 1))  # 9 text dumps, 1 HTML


def generate(n: int, folder: Path, start: int = 0) -> None:
    import accuracy

    cycle = [v for v, k in MIX for _ in range(k)]
    folder.mkdir(parents=True)
    for i in range(start, start + n):
        variant = cycle[i % len(cycle)]
        (folder / f"d{i:06d}{accuracy.SUFFIX[variant.split('/')[0]]}").write_bytes(
            accuracy.document(variant, i, 0).data
        )


class Sampler(threading.Thread):
    """Peak RSS of this process's descendants: extraction workers and Prefect's server apart."""

    def __init__(self):
        super().__init__(daemon=True)
        self.peaks = {"worker": 0, "server": 0}
        self.stop = threading.Event()

    def run(self):
        import psutil

        me = psutil.Process()
        while not self.stop.wait(0.2):
            for child in me.children(recursive=True):
                try:
                    kind = (
                        "server"
                        if "uvicorn" in " ".join(child.cmdline()) or "prefect" in " ".join(child.cmdline())
                        else "worker"
                    )
                    self.peaks[kind] = max(self.peaks[kind], child.memory_info().rss)
                except psutil.Error:
                    pass


def one_run(docs: list[str], out: str, workers: int, batch_size: int) -> dict:
    from flows.ingest import ingest, summary_of, task_runner

    sampler = Sampler()
    sampler.start()
    start = time.perf_counter()
    flow = ingest.with_options(task_runner=task_runner(workers))
    state = flow(sources=docs, out=out, batch_size=batch_size, return_state=True)
    wall = time.perf_counter() - start
    sampler.stop.set()
    summary = summary_of(state)
    return {
        "reports": len(summary) if summary else None,
        "wall": wall,
        "flow_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "worker_mib": sampler.peaks["worker"] / 2**20,
        "server_mib": sampler.peaks["server"] / 2**20,
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=1000)
    p.add_argument("--factor", type=int, default=10)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=100)
    p.add_argument("--run", nargs="+", metavar="PATH", help=argparse.SUPPRESS)  # one run, in a child: OUT DOCS...
    args = p.parse_args(argv)
    if args.run:
        print(json.dumps(one_run(args.run[1:], args.run[0], args.workers, args.batch_size)))
        return 0
    with tempfile.TemporaryDirectory(prefix="nianbao-memory-bench-") as tmp:
        tmp = Path(tmp)
        t = time.perf_counter()
        generate(args.n, tmp / "first")
        generate(args.n * (args.factor - 1), tmp / "rest", start=args.n)
        print(f"generated {args.n * args.factor} documents in {time.perf_counter() - t:.0f} s")
        results = {}
        for n, docs in ((args.n, ["first"]), (args.n * args.factor, ["first", "rest"])):
            out = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--workers",
                    str(args.workers),
                    "--batch-size",
                    str(args.batch_size),
                    "--run",
                    str(tmp / f"wh-{n}"),
                    *(str(tmp / d) for d in docs),
                ],
                capture_output=True,
                text=True,
            )
            if out.returncode:
                print(out.stderr[-3000:])
                return 1
            results[n] = json.loads(out.stdout.strip().splitlines()[-1])
            r = results[n]
            print(
                f"{n:>7} documents: {r['wall']:7.0f} s  peak RSS: flow {r['flow_mib']:6.0f} MiB, largest "
                f"extraction worker {r['worker_mib']:5.0f} MiB, Prefect's server {r['server_mib']:5.0f} MiB"
            )
        small, big = results[args.n], results[args.n * args.factor]
        print(
            f"{args.factor}x the documents: flow {big['flow_mib'] / small['flow_mib']:.2f}x the memory, "
            f"largest worker {big['worker_mib'] / max(small['worker_mib'], 1):.2f}x (target: within 1.2x)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
