"""A national year, scaled down: N documents in a real year's mix through the command, locally and on Dask.

    python bench/national_bench.py [--n 1000] [--workers 2] [--seed 0] [--sample 4] [--only local|dask]
                                   [--cache DIR] [--exclude KIND ...] [--blanks] [--warehouse DIR]

The mix (issue 26): born-digital PDFs of every variant tests/accuracy.py writes, in turn (67%); scans
(15%: a report laid out by LibreOffice and scanned as each of tests/fixtures/scan.py's variants in
turn, as tests/accuracy_scans.py makes them); DOCX (8%), HTML (6%) and text dumps (4%) of every
variant. Each document is cached in DIR (default: nianbao-national in the temp folder) under the
hash of what makes it (the generators' source, its variant, index and seed): a second run, or a
larger N, generates only what is new. --exclude leaves kinds out of the run (`--exclude scan`: the
born-digital part of the mix alone, its share of the CPU measured apart from the OCR's). Every report
prints a number in each cell of sections 三 and 四, so nearly all are valid and published, as most of
a real year's are (the quarantine path costs the same, measured, but the checks across years and
the indicators see the reports); --blanks prints some of those zeros blank or as a placeholder, as
the accuracy's corpus does: every report then invalid. --warehouse DIR: each run ingests into a copy
of DIR (a warehouse already holding reports: an earlier year, or a year's earlier batches).

Two runs of `nianbao ingest DOCS --out WAREHOUSE --json` in a fresh process, Prefect's temporary
server included: on the local runner (--workers batches at once, extraction in worker processes),
and with --dask on a 2-worker Dask cluster (distributed.LocalCluster, one thread per worker, set as dask.yaml
says, as a deployment's workers are). For
each: wall time and CPU time of every process that worked (the command and all it started; the
cluster's workers and all they started), reports/s/core (reports / wall / cores: the cores the run
used, --workers or the cluster's workers), reports per CPU-second (what a core kept busy does, the
machine's other load aside), peak memory (all its processes together, and the largest), Prefect's
share (its temporary server's CPU of the run's CPU; the wall time the command waited for it). Then
CPU-s per page by path, measured in this process over --sample documents of each path: the text
layer (born-digital PDFs) and OCR (scans). Last, the extrapolation to 150,000 reports on 16 cores.
The machine's load average is printed with the figures: on a shared machine wall times stretch,
CPU times much less. With NATIONAL_PROFILE=DIR, where each run's CPU went is printed too: the command's
process, the Dask workers and the extraction workers sampled across all their threads
(bench/profiling.py; the sampler costs ~10% of a sampled process's CPU). A benchmark, not a test: it
asserts nothing.
"""

from __future__ import annotations

import argparse
import ctypes
import hashlib
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for _p in (ROOT / "tests", ROOT / "tests" / "fixtures", ROOT):
    sys.path.insert(0, str(_p))

PROFILE = "NATIONAL_PROFILE"  # a folder: where the CPU goes, sampled (bench/profiling.py)
YEAR, CORES = 150_000, 16  # the national year and the machine it should take an hour on
SHARES = {"pdf": 0.67, "scan": 0.15, "docx": 0.08, "html": 0.06, "txt": 0.04}
GENERATORS = [
    ROOT / "tests" / "corpus.py",
    ROOT / "tests" / "accuracy.py",
    ROOT / "tests" / "accuracy_scans.py",
    *sorted((ROOT / "tests" / "fixtures").glob("*.py")),
]


# ---------------------------------------------------------------- the corpus


def plan(n: int) -> list[tuple[str, str, int]]:
    """(kind, variant, index) of the N documents: each kind's share, its variants in turn."""
    import accuracy
    import scan

    variants = {
        kind: [v for v, (f, _) in accuracy.VARIANTS.items() if f == kind] for kind in ("pdf", "docx", "html", "txt")
    }
    variants["scan"] = list(scan.VARIANTS)
    counts = {kind: round(n * share) for kind, share in SHARES.items()}
    counts["pdf"] += n - sum(counts.values())
    return [(kind, variants[kind][i % len(variants[kind])], i) for kind, k in counts.items() for i in range(k)]


def _make(kind: str, variant: str, index: int, seed: int, blanks: bool) -> bytes:
    import accuracy

    if kind != "scan":
        return accuracy.document(variant, index, seed, complete=not blanks).data
    import corpus
    import scan

    rng = random.Random(f"{seed}:national-scan:{index}")
    rep = accuracy.random_report(rng, complete=not blanks)
    return scan.scan(scan.from_docx(corpus.write_docx(corpus.layout(rep)), scan.rules(variant)), variant, rng)


def generate(n: int, seed: int, cache: Path, folder: Path, exclude=(), blanks: bool = False) -> dict[str, list[Path]]:
    """The N documents linked into `folder` from the cache (made where missing), but those of the
    kinds in `exclude`: paths by kind. Their reports print every cell (valid, as most of a real year's
    are: the costs of publishing them, the checks across years and the indicators counted) unless
    `blanks` (zeros blank or a placeholder in sections 三 and 四, as the generators print them for the
    accuracy's sake: every report invalid, quarantined)."""
    import scan

    source = hashlib.sha256(b"".join(p.read_bytes() for p in GENERATORS)).hexdigest()
    cache.mkdir(parents=True, exist_ok=True)
    folder.mkdir(parents=True)
    made, paths = 0, {}
    for kind, variant, index in plan(n):
        if kind in exclude:
            continue
        suffix = ".pdf" if kind == "scan" else {"pdf": ".pdf", "docx": ".docx", "html": ".html", "txt": ".txt"}[kind]
        what = f"{source}:{kind}:{variant}:{index}:{seed}" + (":blanks" if blanks else "")
        what += f":{scan.rules(variant)}" if kind == "scan" else ""  # _make rules the PDF as the variant says
        key = hashlib.sha256(what.encode()).hexdigest()[:24]
        cached = cache / f"{key}{suffix}"
        if not cached.exists():
            for attempt in range(3):  # LibreOffice times out on a machine loaded enough: again
                try:
                    data = _make(kind, variant, index, seed, blanks)
                    break
                except subprocess.TimeoutExpired:
                    if attempt == 2:
                        raise
            tmp = cached.with_suffix(".part")
            tmp.write_bytes(data)
            tmp.replace(cached)
            made += 1
        path = folder / f"{kind}-{variant.replace('/', '_')}-{index:05d}{suffix}"
        os.link(cached, path) if os.stat(cache).st_dev == os.stat(folder).st_dev else path.write_bytes(
            cached.read_bytes()
        )
        paths.setdefault(kind, []).append(path)
    total = sum(map(len, paths.values()))
    without = f"; of {n}, without {', '.join(exclude)}" if exclude else ""
    print(
        f"{total} documents ({', '.join(f'{len(v)} {k}' for k, v in paths.items())}{without}); {made} generated, "
        f"{total - made} from the cache {cache}",
        flush=True,
    )
    return paths


# ---------------------------------------------------------------- measuring a run


class Tree(threading.Thread):
    """Polls the processes under `roots` (psutil): peak RSS of them all together and of the largest,
    and the CPU time each was last seen with."""

    def __init__(self, roots: list[int]):
        super().__init__(daemon=True)
        self.roots, self.done = roots, threading.Event()
        self.peak_total = self.peak_one = 0
        self.cpu: dict[tuple[int, float], float] = {}
        self.kind: dict[tuple[int, float], str] = {}

    def processes(self):
        import psutil

        for pid in self.roots:
            try:
                root = psutil.Process(pid)
                yield root
                yield from root.children(recursive=True)
            except psutil.Error:
                continue

    def sample(self) -> None:
        import psutil

        total = 0
        for p in self.processes():
            try:
                with p.oneshot():
                    rss, t = p.memory_info().rss, p.cpu_times()
                    key = (p.pid, p.create_time())
                    self.cpu[key] = t.user + t.system
                    kind = _kind(p)  # as it is last seen: one just forked has its parent's line
                    if kind != "?" or key not in self.kind:  # (one ending cannot tell)
                        self.kind[key] = kind
            except psutil.Error:
                continue
            total += rss
            self.peak_one = max(self.peak_one, rss)
        self.peak_total = max(self.peak_total, total)

    def run(self):
        while not self.done.wait(0.25):
            self.sample()


def _kind(p) -> str:
    """What a process of the run is, by its command line and its parent's."""
    import psutil

    try:
        line = " ".join(p.cmdline())
        parent = " ".join(p.parent().cmdline()) if p.parent() else ""
    except psutil.Error:
        return "?"
    for word, kind in (
        ("--measured", "bench"),
        ("--child", "command"),
        ("nianbao.run.reaper", "reaper"),
        ("prefect.server", "server"),
        ("forkserver", "forkserver"),
        ("distributed", "dask worker"),
    ):
        if word in line:
            return kind
    return "extraction worker" if "forkserver" in parent else line[:40]


def measured(argv: list[str]) -> None:
    """Run `argv` as a child, this process the reaper of all it starts (PR_SET_CHILD_SUBREAPER), so
    that the CPU time of every process of the run, however it ends, is counted: printed as JSON."""
    ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)
    code = subprocess.call(argv)
    while True:  # what the command left behind (its server, its extraction workers) ends with it
        try:
            os.wait()
        except ChildProcessError:
            break
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({"code": code, "cpu": usage.ru_utime + usage.ru_stime}))


def child(docs: str, out: str, result: str, workers: str, dask: str) -> None:
    """The command, as `nianbao ingest` runs it, keeping for the parent the flow's stage timings and
    its temporary server's start, wait and CPU time."""
    for name, value in (
        ("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120"),
        ("DO_NOT_TRACK", "1"),
        ("PREFECT_SERVER_ANALYTICS_ENABLED", "false"),
    ):  # as the command sets them, before
        os.environ.setdefault(name, value)  # Prefect reads its settings (on the import below)
    os.environ["NIANBAO_KEEP_SERVER"] = "0"  # a server per run, its start measured (and none outlives the run)
    import flows.ingest
    from flows import command as cli
    from flows import server

    kept, summary_of, stop = {}, flows.ingest.summary_of, server.TemporaryServer.stop

    def keep(state):
        summary = summary_of(state)
        kept.update(summary.timings if summary else {})
        return summary

    def stopped(self):
        if self.process is not None and self.process.poll() is None:
            with open(f"/proc/{self.process.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            server.SECONDS["cpu"] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        stop(self)

    flows.ingest.summary_of, server.TemporaryServer.stop = keep, stopped
    sampler = _profiled()
    code = cli.main(
        ["ingest", docs, "--out", out, "--workers", workers, "--quiet", "--json", *(["--dask", dask] if dask else [])]
    )
    if sampler is not None:
        sampler.done.set()
        sampler.join()
        sampler.dump(Path(os.environ[PROFILE]) / "command.json")
    Path(result).write_text(json.dumps({"stages": kept, "prefect": server.SECONDS}))
    cli.end(code)


def _profiled():
    """With NATIONAL_PROFILE=DIR, the command's process and its extraction workers sampled
    (bench/profiling.py): a Sampler running here, the workers' extraction wrapped."""
    if not os.environ.get(PROFILE):
        return None
    import profiling

    from nianbao.run import pipeline

    pipeline.extract_and_match, profiling.COMMAND = profiling.extract_and_match, True
    sampler = profiling.Sampler()
    sampler.start()
    return sampler


def _profile_report(name: str) -> None:
    import profiling

    folder = Path(os.environ[PROFILE]) / name
    print(f"  profile of the command's process ({folder}):")
    print(profiling.summary(profiling.merged([folder / "command.json"])))
    dask = sorted(folder.glob("dask-worker-*.json"))
    if dask:
        print(f"  profile of the cluster's {len(dask)} Dask workers, together (since the run began):")
        print(profiling.summary(profiling.merged(dask)))
    workers = sorted(folder.glob("worker-*.json"))
    if workers:
        print(f"  profile of its {len(workers)} extraction workers, together:")
        print(profiling.summary(profiling.merged(workers)), flush=True)


def ingest(docs: Path, out: Path, workers: int, dask=None, name: str = "run", held: Path | None = None) -> dict:
    """One run of the command, measured: the Dask cluster's processes count as the run's."""
    result = out.with_suffix(".json")
    if held is not None:  # the run starts from a copy of it, its index file as current as the original's
        from nianbao.warehouse.publish import settle

        shutil.copytree(held, out)
        settle(out)  # (the copies' identities, inodes, are new: the index records them, as for a warehouse of its own)
    argv = [
        sys.executable,
        __file__,
        "--measured",
        sys.executable,
        __file__,
        "--child",
        str(docs),
        str(out),
        str(result),
        str(workers),
        dask.scheduler_address if dask else "",
    ]
    cluster = _worker_pids(dask) if dask else []
    before = _cpu(cluster)
    start = time.perf_counter()
    env = dict(os.environ)
    if os.environ.get(PROFILE):
        env[PROFILE] = str(Path(os.environ[PROFILE]) / name)
        Path(env[PROFILE]).mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, cwd=ROOT, env=env)
    tree = Tree([proc.pid, *cluster])
    tree.start()
    out_text, _ = proc.communicate()
    wall = time.perf_counter() - start
    tree.done.set()
    tree.join()
    lines = out_text.strip().splitlines()
    run = json.loads(lines[-1])
    if run["code"] not in (0, 1):
        raise SystemExit(f"nianbao ingest failed ({run['code']})")
    summary = json.loads("\n".join(lines[:-1]))
    return {
        "wall": wall,
        "cpu": run["cpu"] + _cpu(cluster) - before,
        "summary": summary,
        "peak_total": tree.peak_total,
        "peak_one": tree.peak_one,
        "polled": _by_kind(tree),
        **json.loads(result.read_text()),
    }


def _by_kind(tree: Tree) -> dict[str, list[float]]:
    """[CPU-s as last polled, processes] by kind of process: a cross-check of the run's CPU (a process's
    last 0.25 s may go unseen) and where it went."""
    out: dict[str, list[float]] = {}
    for key, cpu in tree.cpu.items():
        entry = out.setdefault(tree.kind.get(key, "?"), [0.0, 0])
        entry[0] += cpu
        entry[1] += 1
    return out


def _worker_pids(cluster) -> list[int]:
    import distributed

    with distributed.Client(cluster) as client:
        return list(client.run(os.getpid).values())


def _cpu(pids: list[int]) -> float:
    """CPU seconds of these long-lived processes and all under them now."""
    import psutil

    total = 0.0
    for pid in pids:
        try:
            root = psutil.Process(pid)
            for p in [root, *root.children(recursive=True)]:
                t = p.cpu_times()
                total += t.user + t.system + t.children_user + t.children_system
        except psutil.Error:
            continue
    return total


# ---------------------------------------------------------------- CPU per page by path


def per_page(paths: list[Path], sample: int) -> tuple[float, int]:
    """(CPU-s, pages) of extraction and matching over the first `sample` of `paths`, in this process."""
    import pypdfium2 as pdfium

    from nianbao.interpret.reading import extract_and_match

    cpu, pages = 0.0, 0
    for path in paths[:sample]:
        data = path.read_bytes()
        doc = pdfium.PdfDocument(data)
        pages += len(doc)
        doc.close()
        start = time.process_time()
        try:
            extract_and_match(data, "pdf")
        except Exception:  # noqa: BLE001 (an unreadable document costs what it cost)
            pass
        cpu += time.process_time() - start
    return cpu, pages


# ---------------------------------------------------------------- the report


def report(name: str, r: dict, cores: int) -> dict:
    s, prefect = r["summary"], r["prefect"]
    n = s["reports"]
    figures = {"per_core": n / r["wall"] / cores, "per_cpu_s": n / r["cpu"], "cpu_per_report": r["cpu"] / n}
    server = prefect.get("cpu")
    polled = ", ".join(f"{k} {v[0]:.1f} ({v[1]})" for k, v in sorted(r["polled"].items(), key=lambda kv: -kv[1][0]))
    print(
        f"{name}: {n} reports ({s['valid']} valid, {s['invalid']} invalid, {s['unreadable']} unreadable) in "
        f"{r['wall']:.0f} s wall, {r['cpu']:.0f} CPU-s on {cores} cores: {figures['per_core']:.2f} reports/s/core, "
        f"{figures['per_cpu_s']:.2f} reports per CPU-s ({figures['cpu_per_report']:.2f} CPU-s a report)"
    )
    unreadable = Counter(
        f["errors"][0][:90] if f["errors"] else "?" for f in s["failed"] if f["status"] == "unreadable"
    )
    for why, k in unreadable.most_common():
        print(f"  unreadable ({k}): {why}")
    print(
        f"  peak memory: {r['peak_total'] / 2**20:.0f} MiB all processes together, {r['peak_one'] / 2**20:.0f} MiB "
        f"the largest; stages (s, summed over batches): " + ", ".join(f"{k} {v:.0f}" for k, v in r["stages"].items())
    )
    print(f"  CPU-s by process, as last polled (processes): {polled}")
    print(
        f"  Prefect: its temporary server {server or 0:.1f} CPU-s = {100 * (server or 0) / r['cpu']:.1f}% of the "
        f"run's CPU; started in {prefect.get('start', 0):.1f} s beside the command's set-up, which then waited "
        f"{prefect.get('waited', 0):.1f} s for it ({100 * prefect.get('waited', 0) / r['wall']:.1f}% of the wall)"
    )
    print(
        f"  extrapolated: {YEAR:,} reports on {CORES} cores take {YEAR / figures['per_core'] / CORES / 3600:.1f} h at "
        f"this run's reports/s/core, {YEAR * figures['cpu_per_report'] / CORES / 3600:.1f} h with every core busy "
        f"(target: 1 h, >= {YEAR / CORES / 3600:.1f} reports/s/core)",
        flush=True,
    )
    return figures


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=1000)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--sample", type=int, default=4, help="documents per path timed for CPU-s per page")
    p.add_argument("--only", choices=["local", "dask"])
    p.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "nianbao-national")
    p.add_argument("--exclude", nargs="+", default=[], choices=list(SHARES), help="kinds left out of the run")
    p.add_argument(
        "--warehouse", type=Path, help="each run starts from a copy of this warehouse (reports already held)"
    )
    p.add_argument(
        "--blanks",
        action="store_true",
        help="zeros of sections 三 and 四 sometimes blank or a placeholder: every report invalid",
    )
    p.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    p.add_argument("--measured", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.measured:
        return measured(args.measured)
    if args.child:
        return child(*args.child)
    from nianbao.extract import office

    if not office.soffice():
        print("LibreOffice is not installed (make office): the scans cannot be made", file=sys.stderr)
        return 2
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
    with tempfile.TemporaryDirectory(prefix="nianbao-national-") as tmp:
        tmp = Path(tmp)
        paths = generate(args.n, args.seed, args.cache, tmp / "docs", args.exclude, args.blanks)
        results = {}
        if args.only in (None, "local"):
            results["local"] = report(
                "local runner",
                ingest(tmp / "docs", tmp / "wh-local", args.workers, name="local", held=args.warehouse),
                args.workers,
            )
            if os.environ.get(PROFILE):
                _profile_report("local")
            print(f"  (load average {os.getloadavg()[0]:.1f})", flush=True)
        if args.only in (None, "dask"):
            import dask
            import distributed

            for settings in dask.config.collect_yaml([str(ROOT / "dask.yaml")]):  # the workers' as deployed
                dask.config.update(dask.config.config, settings)
            with distributed.LocalCluster(
                n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
            ) as cluster:
                if os.environ.get(PROFILE):
                    import profiling

                    folder = Path(os.environ[PROFILE]) / "dask"
                    folder.mkdir(parents=True, exist_ok=True)
                    with distributed.Client(cluster) as client:
                        client.run(profiling.start_in_dask_worker, str(folder))
                results["dask"] = report(
                    "Dask, 2 workers",
                    ingest(tmp / "docs", tmp / "wh-dask", args.workers, cluster, "dask", args.warehouse),
                    2,
                )
                if os.environ.get(PROFILE):
                    with distributed.Client(cluster) as client:
                        client.run(profiling.stop_in_dask_worker)
            if os.environ.get(PROFILE):
                _profile_report("dask")
            print(f"  (load average {os.getloadavg()[0]:.1f})", flush=True)
        for kind, path in (("pdf", "text layer"), ("scan", "OCR")):  # after the runs: they are the figure
            cpu, pages = per_page(paths.get(kind, []), args.sample)
            if pages:
                print(
                    f"CPU-s per page, {path}: {cpu / pages:.2f} ({cpu:.1f} CPU-s over {pages} pages of "
                    f"{min(args.sample, len(paths[kind]))} {kind} documents, in one process)"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
