"""Publish time per batch as the warehouse grows, on disk and on S3 (a local SeaweedFS): a benchmark.

    python bench/publish_bench.py [--batches 100] [--batch-size 100]

Validates one batch of distinct valid reports (text dumps of the valid sample), then makes
`--batches` batches of it with other report ids (the same rows: what publishing does is the same),
and publishes them in order into a fresh warehouse, as a 10,000-document run does; then publishes
the first 5 batches again (every row replaced, in the oldest files). On a folder and on a bucket it
prints seconds per batch at the start and at the end of the run, and their ratio (target: ≤ 1.5).
"""
from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from corpus import distinct_reports  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batches", type=int, default=100)
    p.add_argument("--batch-size", type=int, default=100)
    args = p.parse_args(argv)

    import polars as pl
    import seaweedfs
    from nianbao import publish
    from nianbao.pipeline import process_batch
    from nianbao.schema import CELL_DATASETS
    from nianbao.sources import Source

    with tempfile.TemporaryDirectory(prefix="nianbao-publish-bench-") as tmp:
        tmp = Path(tmp)
        start = time.perf_counter()
        one = process_batch([Source(str(p)) for p in distinct_reports(tmp / "docs", args.batch_size, digits=5)], "bench", processes=False)
        print(f"{args.batches} batches of {args.batch_size} reports ({one['applications'].height} application cells "
              f"a batch); one validated in {time.perf_counter() - start:.1f} s")

        def batch(k: int) -> dict[str, pl.DataFrame]:
            other = pl.col("report_id").map_elements(lambda r: hashlib.sha256(f"{r}:{k}".encode()).hexdigest(),
                                                     return_dtype=pl.String)
            return {d: one[d].with_columns(report_id=other) for d in ("reports", "findings", *CELL_DATASETS)}

        frames = [batch(k) for k in range(args.batches)]
        server = seaweedfs.start(tmp / "s3")
        try:
            os.environ.update(server.env)
            server.bucket("bench")
            for where, root in (("disk", str(tmp / "wh")), ("s3", "s3://bench/wh")):
                times = []
                for f in frames:
                    t = time.perf_counter()
                    publish.publish(root, f)
                    times.append(time.perf_counter() - t)
                again = []
                for f in frames[:5]:
                    t = time.perf_counter()
                    publish.publish(root, f)
                    again.append(time.perf_counter() - t)
                first, last = statistics.median(times[:10]), statistics.median(times[-10:])
                print(f"{where:5s} per batch: first 10 median {first:.3f} s, last 10 median {last:.3f} s "
                      f"(x{last / first:.2f}; target <= 1.5), all {sum(times):.0f} s; re-publishing the first "
                      f"5 at the end: median {statistics.median(again):.3f} s")
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
