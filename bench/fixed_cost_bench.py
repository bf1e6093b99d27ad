"""The fixed cost of a run (issue 26, item 2): what a one-report run and the command's light paths cost.

    python bench/fixed_cost_bench.py [--runs 3] [--report data/samples/sample_valid_2023.txt] [--only light|temporary|kept|fresh] [--priority]

`nianbao ingest REPORT --out WAREHOUSE --quiet` in a fresh process, --runs times into a fresh
warehouse each: with Prefect's temporary server per command (the default), then with a kept server
(NIANBAO_KEEP_SERVER, flows/kept.py; a first run starts it, unmeasured), then with a temporary server
in a fresh PREFECT_HOME each (a new machine's first run: its database made, flows/database.py; the
migrated template in the cache made by an earlier run, unmeasured). For each run: wall time and
CPU-s (user+sys) of the command and every process it started (its temporary server included: this
process is their reaper), and for a kept server the CPU-s it spent on the run. Then `nianbao --version`,
`nianbao ingest --help` and a usage error, which import nothing heavy. The load average is printed
with the figures: on a shared machine wall times stretch, CPU times much less. A benchmark, not a
test: it asserts nothing. --priority (root, Linux): each measured run's processes at autogroup nice -20
(the command's, and those of its server and watchdog, which setsid puts in autogroups of their own:
plain nice does nothing across the autogroups of other sessions), so that on a shared machine the
run has the cores nearly as if they were idle, and its wall time means something.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
NIANBAO = [sys.executable, "-m", "flows"]
MEASURED = [sys.executable, str(Path(__file__).with_name("national_bench.py")), "--measured"]  # its reaper counts all
KEEP = "120"  # seconds the kept server outlives the last run


PRIORITY = False  # --priority


def run(argv: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """(wall, CPU-s, exit code) of `argv` and all it started."""
    start = time.perf_counter()
    with subprocess.Popen([*MEASURED, *argv], env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True) as measured:
        done = threading.Event()
        if PRIORITY:
            threading.Thread(target=_prioritised, args=(measured.pid, done), daemon=True).start()
        out = measured.communicate()[0]
        done.set()
    if measured.returncode:
        raise subprocess.CalledProcessError(measured.returncode, argv)
    result = json.loads(out.strip().splitlines()[-1])
    return time.perf_counter() - start, result["cpu"], result["code"]


def _prioritised(root: int, done: threading.Event) -> None:
    """Each session leader among `root`'s descendants (the server, the watchdog) to autogroup nice -20,
    looked for every 10 ms until the run ends or both are found (ours, which `root` inherits, is set in main)."""
    leaders: set[int] = set()
    while not done.is_set() and len(leaders) < 2:
        table = {}
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                try:
                    fields = Path(f"/proc/{entry.name}/stat").read_text().rsplit(")", 1)[1].split()
                    table[int(entry.name)] = (int(fields[1]), int(fields[3]))  # parent, session
                except (OSError, IndexError):
                    pass
        ours, grew = {root}, True
        while grew:
            grew = {pid for pid, (parent, _) in table.items() if parent in ours} - ours
            ours |= grew
        for pid in ours - leaders - {root}:
            if table[pid][1] == pid:
                leaders.add(pid)
                _nice(pid)
        time.sleep(0.01)


def _nice(pid: int | str) -> None:
    try:
        Path(f"/proc/{pid}/autogroup").write_text("-20")
    except OSError:  # gone, or not root
        pass


def kept_cpu(env: dict[str, str]) -> float:
    """The CPU-s the kept server of `env`'s settings has spent so far (0 if there is none)."""
    code = "from flows import server; print(server._kept_folder())"
    folder = Path(
        subprocess.run(
            [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    )
    try:
        pid = json.loads((folder / "server.json").read_text())["pid"]
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, ValueError, KeyError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def one_report(name: str, report: str, runs: int, env: dict[str, str], tmp: Path, fresh: bool = False) -> None:
    walls, cpus, served = [], [], []
    for n in range(runs):
        if fresh:
            env = {**env, "PREFECT_HOME": str(tmp / f"home-{n}")}
        before = kept_cpu(env) if env.get("NIANBAO_KEEP_SERVER", "0") != "0" else 0.0
        wall, cpu, code = run([*NIANBAO, "ingest", report, "--out", str(tmp / f"{name}-{n}"), "--quiet"], env)
        if code not in (0, 1):
            raise SystemExit(f"nianbao ingest failed ({code})")
        walls.append(wall)
        cpus.append(cpu)
        if before:
            served.append(kept_cpu(env) - before)
    line = f"one-report run, {name}: wall {_span(walls)} s, CPU-s {_span(cpus)} (the command and all it started)" + (
        f" + {_span(served)} the kept server's" if served else ""
    )
    print(line + f"  (load average {os.getloadavg()[0]:.1f})", flush=True)


def light(env: dict[str, str]) -> None:
    for what, argv in (
        ("nianbao --version", ["--version"]),
        ("nianbao ingest --help", ["ingest", "--help"]),
        ("a usage error", ["ingest", "--workers", "0", "x.txt"]),
    ):
        figures = [run([*NIANBAO, *argv], env)[:2] for _ in range(3)]
        print(f"{what}: wall {_span([w for w, _ in figures])} s, CPU-s {_span([c for _, c in figures])}", flush=True)


def _span(values: list[float]) -> str:
    return (
        f"{min(values):.2f}"
        if len(values) == 1
        else f"{min(values):.2f}-{max(values):.2f} (median {statistics.median(values):.2f})"
    )


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--report", default=str(ROOT / "data" / "samples" / "sample_valid_2023.txt"))
    p.add_argument("--only", choices=["light", "temporary", "kept", "fresh"])
    p.add_argument("--priority", action="store_true", help="each run at autogroup nice -20 (root, Linux)")
    args = p.parse_args(argv)
    if args.priority:
        global PRIORITY
        PRIORITY = True
        _nice("self")
    env = {
        **os.environ,
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "GX_ANALYTICS_ENABLED": "false",
        "NIANBAO_KEEP_SERVER": "0",
    }
    env.pop("PREFECT_API_URL", None)
    print(
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
        + (", each run at autogroup nice -20" if args.priority else ""),
        flush=True,
    )
    if args.only in (None, "light"):
        light(env)
    with tempfile.TemporaryDirectory(prefix="nianbao-fixed-") as tmp:
        if args.only in (None, "temporary"):
            one_report("temporary server", args.report, args.runs, env, Path(tmp))
        if args.only in (None, "kept"):
            kept = {**env, "NIANBAO_KEEP_SERVER": KEEP}
            # the kept server started by a run of its own, unmeasured (a measuring reaper would adopt it)
            subprocess.run(
                [*NIANBAO, "ingest", args.report, "--out", str(Path(tmp) / "start"), "--quiet"],
                env=kept,
                cwd=ROOT,
                capture_output=True,
                check=False,
            )
            one_report("kept server", args.report, args.runs, kept, Path(tmp))
        if args.only in (None, "fresh"):
            one_report("temporary server, fresh PREFECT_HOME", args.report, args.runs, env, Path(tmp), fresh=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
