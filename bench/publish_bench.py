"""Publish time per batch as the warehouse grows, on disk and on S3 (a local SeaweedFS): a benchmark.

    python bench/publish_bench.py [--batches 100] [--batch-size 100]

Validates one batch of distinct valid reports (text dumps of the valid sample), then makes
`--batches` batches of it with other report ids and sources (the same rows: what publishing does is the same),
and publishes them in order into a fresh warehouse, as a 10,000-document run does; then publishes
the first 5 batches again (every row replaced, in the oldest files). On a folder and on a bucket it
prints seconds per batch at the start and at the end of the run, and their ratio (target: ≤ 1.5);
on the bucket also the S3 requests and the keys listed per batch (flat when no batch lists what
earlier batches wrote).
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

    from nianbao.acquire.sources import Source
    from nianbao.model.schema import CELL_DATASETS
    from nianbao.run.pipeline import process_batch
    from nianbao.warehouse import publish

    with tempfile.TemporaryDirectory(prefix="nianbao-publish-bench-") as tmp:
        tmp = Path(tmp)
        start = time.perf_counter()
        one = process_batch(
            [Source(str(p)) for p in distinct_reports(tmp / "docs", args.batch_size, digits=5)],
            "bench",
            processes=False,
        )
        print(
            f"{args.batches} batches of {args.batch_size} reports ({one['applications'].height} application cells "
            f"a batch); one validated in {time.perf_counter() - start:.1f} s"
        )

        def batch(k: int) -> dict[str, pl.DataFrame]:
            other = pl.col("report_id").map_elements(
                lambda r: hashlib.sha256(f"{r}:{k}".encode()).hexdigest(), return_dtype=pl.String
            )
            out = {d: one[d].with_columns(report_id=other) for d in ("reports", "findings", *CELL_DATASETS)}
            # other documents, so other sources too: the same source's new bytes would supersede the old
            out["reports"] = out["reports"].with_columns(source_uri=pl.col("source_uri") + f"#{k}")
            return out

        frames = [batch(k) for k in range(args.batches)]
        requests = _count_requests()
        server = seaweedfs.start(tmp / "s3")
        try:
            os.environ.update(server.env)
            server.bucket("bench")
            for where, root in (("disk", str(tmp / "wh")), ("s3", "s3://bench/wh")):
                times, asked = [], []
                for f in frames:
                    t, n = time.perf_counter(), list(requests)
                    publish.publish(root, f)
                    times.append(time.perf_counter() - t)
                    asked.append([now - before for now, before in zip(requests, n)])
                again = []
                for f in frames[:5]:
                    t = time.perf_counter()
                    publish.publish(root, f)
                    again.append(time.perf_counter() - t)
                first, last = statistics.median(times[:10]), statistics.median(times[-10:])
                print(
                    f"{where:5s} per batch: first 10 median {first:.3f} s, last 10 median {last:.3f} s "
                    f"(x{last / first:.2f}; target <= 1.5), all {sum(times):.0f} s; re-publishing the first "
                    f"5 at the end: median {statistics.median(again):.3f} s"
                )
                if where == "s3":
                    (r0, k0), (r1, k1) = (
                        [statistics.median(c) for c in zip(*part)] for part in (asked[:10], asked[-10:])
                    )
                    print(
                        f"s3    per batch: requests first 10 median {r0:.0f}, last 10 {r1:.0f}; keys listed "
                        f"first 10 {k0:.0f}, last 10 {k1:.0f}"
                    )
        finally:
            server.stop()
    return 0


def _count_requests() -> list[int]:
    """[requests, keys listed] made to S3 since (every call of the client s3fs drives)."""
    import aiobotocore.client

    count, real = [0, 0], aiobotocore.client.AioBaseClient._make_api_call

    async def counted(self, operation, *args, **kwargs):
        answer = await real(self, operation, *args, **kwargs)
        count[0] += 1
        count[1] += len(answer.get("Contents", [])) if operation == "ListObjectsV2" else 0
        return answer

    aiobotocore.client.AioBaseClient._make_api_call = counted
    return count


if __name__ == "__main__":
    sys.exit(main())
