"""The PDF path against pdfplumber's floor, on the same generated born-digital PDFs, in one run.

    python bench/floor_bench.py [--n 105] [--repeat 2] [--workers 2] [--seed 0] [--profile FILE]

Writes N born-digital PDFs (tests/accuracy.py's PDF variants in turn, 3-6 pages each), then, R
times and alternating so that both sides see the same load on a shared machine:
- the floor: pdfplumber's `extract_tables()` on every page of every file, in one process;
- the pipeline: `nianbao ingest DIR --out WAREHOUSE --quiet --json` as a fresh process, end to end
  (Python start, imports, Prefect's temporary server started and stopped, publishing).
Prints the best of each, their ratio, the pipeline's seconds per stage in the flow (summed over
batches; the first batch's extraction begins before the flow, while Prefect's server starts), the
temporary server's start and stop, Prefect's share of the wall time (the command waiting for the
server, and its stop) and reports/s/core. `--profile FILE` writes cProfile's stats of extract + match over
the same PDFs in one process (read them with `python -m pstats FILE`). A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from itertools import cycle, islice
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

import accuracy  # noqa: E402

# born-digital: every PDF variant with a text layer that tells the truth
BORN_DIGITAL = [v for v, (f, _) in accuracy.VARIANTS.items() if f == "pdf" and not v.startswith("pdf/lie-")]


def generate(n: int, seed: int, folder: Path) -> list[Path]:
    paths = []
    for i, variant in enumerate(islice(cycle(BORN_DIGITAL), n)):
        path = folder / f"{variant.replace('/', '-')}-{i:04d}.pdf"
        path.write_bytes(accuracy.document(variant, i, seed).data)
        paths.append(path)
    return paths


def floor(paths: list[Path]) -> float:
    import pdfplumber

    start = time.perf_counter()
    for path in paths:
        with pdfplumber.open(path) as pdf:
            for page in pdf.pages:
                page.extract_tables()
    return time.perf_counter() - start


def pipeline(docs: Path, out: Path, workers: int) -> dict:
    """`nianbao ingest` in a fresh process; its summary's timings come back through a file."""
    timings = out.with_suffix(".json")
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, __file__, "--child", str(docs), str(out), str(timings), str(workers)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wall = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"nianbao ingest failed ({done.returncode}): {done.stderr[-2000:]}")
    return {"wall": wall, **json.loads(timings.read_text()), "summary": json.loads(done.stdout)}


def child(docs: str, out: str, timings: str, workers: str) -> None:
    """The command, as `nianbao ingest` runs it, keeping the flow's stage timings for the parent."""
    for name, value in (
        ("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120"),
        ("DO_NOT_TRACK", "1"),
        ("PREFECT_SERVER_ANALYTICS_ENABLED", "false"),
    ):  # as the command sets them, before
        os.environ.setdefault(name, value)  # Prefect reads its settings (on the import below)
    import flows.ingest
    from flows import command as cli
    from flows import server

    kept = {}
    summary_of = flows.ingest.summary_of

    def keep(state):
        summary = summary_of(state)
        kept.update(summary.timings if summary else {})
        return summary

    flows.ingest.summary_of = keep
    code = cli.main(["ingest", docs, "--out", out, "--workers", workers, "--quiet", "--json"])
    Path(timings).write_text(json.dumps({"stages": kept, "prefect": server.SECONDS}))
    cli.end(code)  # as the program ends


def prefect_alone() -> tuple[float, float]:
    """Prefect's temporary server on its own, as the command starts it, in a fresh process: (start
    until it answers, stop) seconds."""
    code = (
        "import time\nt = time.perf_counter()\nfrom flows.server import TemporaryServer\n"
        "with TemporaryServer().start().serving():\n    up = time.perf_counter() - t\n    t = time.perf_counter()\n"
        "print(up, time.perf_counter() - t)"
    )
    env = dict(
        os.environ,
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="120",
        DO_NOT_TRACK="1",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_LOGGING_LEVEL="WARNING",
    )
    env.pop("PREFECT_API_URL", None)
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True, check=True)
    start, stop = map(float, out.stdout.split())
    return start, stop


def profile(paths: list[Path], to: str) -> None:
    import cProfile

    from nianbao.interpret.reading import extract_and_match

    data = [p.read_bytes() for p in paths]
    with cProfile.Profile() as prof:
        for d in data:
            extract_and_match(d, "pdf")
    prof.dump_stats(to)
    import pstats

    pstats.Stats(to).sort_stats("cumulative").print_stats(25)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=105)
    p.add_argument("--repeat", type=int, default=2)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--profile", metavar="FILE")
    p.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        return child(*args.child)
    with tempfile.TemporaryDirectory(prefix="nianbao-floor-") as tmp:
        tmp = Path(tmp)
        docs = tmp / "docs"
        docs.mkdir()
        paths = generate(args.n, args.seed, docs)
        pages = 0
        import pdfplumber

        for path in paths:
            with pdfplumber.open(path) as pdf:
                pages += len(pdf.pages)
        print(
            f"{len(paths)} born-digital PDFs, {pages} pages, {sum(p.stat().st_size for p in paths) / 1e6:.1f} MB "
            f"({', '.join(BORN_DIGITAL)})"
        )
        if args.profile:
            profile(paths, args.profile)
            return 0
        floors, runs = [], []
        for i in range(args.repeat):
            floors.append(floor(paths))
            runs.append(pipeline(docs, tmp / f"wh-{i}", args.workers))
            print(
                f"  pass {i + 1}: floor {floors[-1]:.1f} s, nianbao ingest {runs[-1]['wall']:.1f} s "
                f"(ratio {runs[-1]['wall'] / floors[-1]:.2f})",
                flush=True,
            )
        alone = prefect_alone()
        best = min(runs, key=lambda r: r["wall"])
        stages = best["stages"]
        prefect = best["prefect"]
        reports = best["summary"]["reports"]
        print(f"floor (pdfplumber extract_tables, every page, 1 process): {min(floors):.1f} s")
        print(
            f"nianbao ingest ({args.workers} workers, Prefect's start included): {best['wall']:.1f} s "
            f"= {min(floors) and best['wall'] / min(floors):.2f} x the floor"
        )
        print("stages (s, summed over batches): " + ", ".join(f"{k} {v:.1f}" for k, v in stages.items()))
        print(
            f"Prefect: its temporary server alone, as the command starts it, answers in {alone[0]:.1f} s and stops in "
            f"{alone[1]:.1f} s; in the run it started in {prefect.get('start', 0):.1f} s beside the command's set-up "
            f"and the first batch's extraction, then the command waited {prefect.get('waited', 0):.1f} s for it: "
            f"waited + stop = {(prefect.get('waited', 0) + alone[1]) / best['wall'] * 100:.0f}% of the wall time"
        )
        print(
            f"pdf: {reports / best['wall'] / args.workers:.2f} reports/s/core end to end "
            f"({best['summary']['valid']} valid, {best['summary']['invalid']} invalid, "
            f"{best['summary']['unreadable']} unreadable)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
