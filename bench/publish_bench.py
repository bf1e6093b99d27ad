"""Publish time per batch, on disk and on S3 (a local SeaweedFS): a benchmark, not a test.

    python bench/publish_bench.py [--batches 5] [--batch-size 100]

Makes distinct valid reports (text dumps of the valid sample), validates them once in batches,
then publishes every batch into a fresh warehouse (first publish), then again (re-publish:
every row replaced), on a local folder and on a bucket. Prints seconds per batch.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batches", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=100)
    args = p.parse_args(argv)

    import seaweedfs
    from nianbao import publish
    from nianbao.pipeline import process_batch
    from nianbao.sources import Source

    tmp = Path(tempfile.mkdtemp(prefix="nianbao-publish-bench-"))
    n = args.batches * args.batch_size
    docs = [Source(str(p)) for p in _reports(tmp / "docs", n)]
    start = time.perf_counter()
    frames = [process_batch(docs[i:i + args.batch_size], "bench", processes=False)
              for i in range(0, n, args.batch_size)]
    print(f"{n} reports in {args.batches} batches of {args.batch_size} "
          f"({frames[0]['applications'].height} application cells a batch), validated in {time.perf_counter() - start:.1f} s")
    server = seaweedfs.start(tmp / "s3")
    try:
        os.environ.update(server.env)
        server.bucket("bench")
        for where, root in (("disk", str(tmp / "wh")), ("s3", "s3://bench/wh")):
            for phase in ("first publish", "re-publish"):
                times = []
                for f in frames:
                    t = time.perf_counter()
                    publish.publish(root, f)
                    times.append(time.perf_counter() - t)
                print(f"{where:5s} {phase:14s} per batch: median {statistics.median(times):.2f} s, "
                      f"min {min(times):.2f}, max {max(times):.2f} (batches in order: "
                      + " ".join(f"{x:.2f}" for x in times) + ")")
    finally:
        server.stop()
    return 0


def _reports(folder: Path, n: int) -> list[Path]:
    """n valid reports with distinct bytes (distinct report ids), from the valid sample."""
    folder.mkdir(parents=True)
    text = (ROOT / "data" / "samples" / "sample_valid_2023.txt").read_text(encoding="utf-8")
    paths = [folder / f"r{i:05d}.txt" for i in range(n)]
    for i, path in enumerate(paths):
        path.write_text(text.replace("示例县青山镇", f"示例县{i:05d}镇"), encoding="utf-8")
    return paths


if __name__ == "__main__":
    sys.exit(main())
