"""What a run's flow process holds more of as its batches go by: a probe, not a test.

    python bench/growth_probe.py [--rows 4000] [--batch-size 20] [--at 10 40 160]

One run of the command, in this process (its allocators tuned as the command's are), over a
load bench manifest (bench/load_bench.py: a row in a hundred a report, the rest files not there).
As batch N of `--at` is added to the run's summary: RSS and its anonymous part, the objects the
collector tracks by type, and (from the first N on) tracemalloc's snapshot; then what grew from
each N to the next, per batch: MiB, objects by type, and the lines that allocated what is still held.
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import tracemalloc
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=4000)
    p.add_argument("--batch-size", type=int, default=20)
    p.add_argument("--at", type=int, nargs="+", default=[10, 40, 160])
    p.add_argument("--frames", type=int, default=6, help="tracemalloc's frames per allocation")
    args = p.parse_args(argv)
    from nianbao.run import allocators

    allocators.tune()
    import load_bench
    import psutil

    from flows.command import main as command
    from nianbao.report import summary

    me = psutil.Process()
    seen = {}
    add, count = summary.RunSummary.add, [0]

    def add_seen(self, part):
        add(self, part)
        count[0] += 1
        if count[0] in args.at:
            gc.collect()
            m = me.memory_info()
            types = Counter(type(o).__name__ for o in gc.get_objects())
            if not tracemalloc.is_tracing():
                tracemalloc.start(args.frames)
            seen[count[0]] = (m.rss, m.rss - m.shared, types, tracemalloc.take_snapshot())
            if count[0] == max(args.at):
                tracemalloc.stop()  # the run's end untraced (slow)

    summary.RunSummary.add = add_seen
    with tempfile.TemporaryDirectory(prefix="nianbao-growth-") as tmp:
        tmp = Path(tmp)
        source = load_bench.manifest(tmp, args.rows)
        command(["ingest", str(source), "--out", str(tmp / "wh"), "--batch-size", str(args.batch_size), "--quiet"])
    tracemalloc.stop()
    marks = sorted(seen)
    for a, b in zip(marks, marks[1:]):
        (rss0, anon0, types0, snap0), (rss1, anon1, types1, snap1) = seen[a], seen[b]
        n = b - a
        print(
            f"batches {a} -> {b}: RSS {(rss1 - rss0) / n / 1024:+.1f} KiB a batch, anonymous "
            f"{(anon1 - anon0) / n / 1024:+.1f} KiB a batch"
        )
        grew = Counter({t: types1[t] - types0[t] for t in types1 | types0 if types1[t] != types0[t]})
        print("  objects (a batch):", ", ".join(f"{t} {k / n:+.1f}" for t, k in grew.most_common(12)))
        diff = snap1.compare_to(snap0, "traceback")
        total = sum(d.size_diff for d in diff)
        print(f"  Python's allocations: {total / n / 1024:+.1f} KiB a batch; the largest:")
        for d in diff[:8]:
            print(f"    {d.size_diff / n:+8.0f} B/batch {d.count_diff / n:+6.1f} blocks/batch")
            for line in d.traceback.format()[-2 * min(args.frames, 4) :]:
                print("      " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
