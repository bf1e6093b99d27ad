"""The whole pipeline on N generated documents in a realistic format mix: a benchmark, not a test.

    python bench/pipeline_bench.py [--n 1000] [--workers 2] [--batch-size 100] [--seed 0]

Generates N reports (tests/accuracy.py's generator: PDF 55%, HTML 20%, DOCX 15%, text 10%), then runs
the Prefect flow `ingest` over them twice into fresh warehouses: extraction in worker processes
(the default) and in threads. Prints reports per second per core, seconds per stage (summed over
batches), Prefect's own share of the wall time (wall minus the stages' time per worker), and peak
memory of this process and of its children.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

import accuracy  # noqa: E402

MIX = (("pdf", 0.55), ("html", 0.20), ("docx", 0.15), ("txt", 0.10))


def generate(n: int, seed: int, folder: Path) -> dict[str, int]:
    counts = {}
    for fmt, share in MIX:
        variants = [v for v, (f, _) in accuracy.VARIANTS.items() if f == fmt]
        k = round(n * share)
        counts[fmt] = k
        for i in range(k):
            doc = accuracy.document(variants[i % len(variants)], i, seed)
            (folder / f"{fmt}-{i:05d}{accuracy.SUFFIX[fmt]}").write_bytes(doc.data)
    return counts


def run(docs: Path, out: Path, workers: int, batch_size: int, processes: bool) -> dict:
    from flows.ingest import ingest, summary_of, task_runner

    flow = ingest.with_options(task_runner=task_runner(workers))
    start = time.perf_counter()
    state = flow(sources=[str(docs)], out=str(out), batch_size=batch_size, processes=processes, return_state=True)
    wall = time.perf_counter() - start
    summary = summary_of(state)
    return {"wall": wall, "summary": summary}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=1000)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=100)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="nianbao-bench-") as tmp:
        tmp = Path(tmp)
        docs = tmp / "docs"
        docs.mkdir()
        t = time.perf_counter()
        counts = generate(args.n, args.seed, docs)
        print(f"generated {sum(counts.values())} documents {counts} in {time.perf_counter() - t:.1f} s")
        warm = tmp / "warm"
        warm.mkdir()
        (warm / "a.txt").write_text(
            (ROOT / "data" / "samples" / "sample_valid_2023.txt").read_text(encoding="utf-8"), encoding="utf-8"
        )
        run(warm, tmp / "warm-wh", 1, 1, True)  # starts the ephemeral Prefect server outside the timing
        print(
            f"{'mode':<10} {'reports':>7} {'wall s':>7} {'rep/s/core':>10} {'read':>6} {'extract':>8} "
            f"{'validate':>8} {'publish':>7} {'prefect%':>8}"
        )
        for mode, processes in (("processes", True), ("threads", False)):
            r = run(docs, tmp / f"wh-{mode}", args.workers, args.batch_size, processes)
            timings = r["summary"].timings
            stages = sum(timings.values()) / max(1, min(args.workers, -(-args.n // args.batch_size)))
            prefect = max(0.0, r["wall"] - stages) / r["wall"] * 100
            n = len(r["summary"])
            print(
                f"{mode:<10} {n:>7} {r['wall']:>7.1f} {n / r['wall'] / args.workers:>10.2f} "
                f"{timings.get('read', 0):>6.1f} {timings.get('extract', 0):>8.1f} {timings.get('validate', 0):>8.1f} "
                f"{timings.get('publish', 0):>7.1f} {prefect:>7.1f}%"
            )
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak memory: {own:.0f} MiB in this process, {children:.0f} MiB in the largest child process")
    return 0


if __name__ == "__main__":
    sys.exit(main())
