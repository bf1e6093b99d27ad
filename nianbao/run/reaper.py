"""Children die with the run: `nianbao ingest` killed with SIGKILL leaves no process behind.

SIGKILL cannot be caught, and Prefect's temporary server (a uvicorn subprocess Prefect starts)
takes no instruction to die with its parent, so a small watchdog process does it: it notes the
command's descendants twice a second and, once the command is gone (its end of a pipe closes),
kills the ones it saw and their own children (multiprocessing's forkserver, too, outlives its
parent; extraction workers die with it, isolate.die_with_parent, even if started after the
watchdog's last look). Linux only (/proc); elsewhere the watchdog is not started.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Timing:
    poll: float = 0.5  # seconds between looks at the command's descendants


TIMING = Timing()
_pipe: int | None = None  # the write end: never closed, so it closes when this process ends, however it ends


def start() -> None:
    """Start the watchdog for this process (once)."""
    global _pipe
    if _pipe is not None or not Path("/proc/self/stat").exists():
        return
    read, write = os.pipe()  # both not inheritable: only the watchdog gets `read`, explicitly
    subprocess.Popen(
        [sys.executable, "-m", "nianbao.run.reaper", str(os.getpid()), str(read)],
        pass_fds=(read,),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    os.close(read)
    _pipe = write


def _processes() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, start time) of every process. Every process on the machine, twice a second
    for the whole run: read with os calls, a third of pathlib's CPU (~5 ms a look for 200 processes)."""
    out = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                fd = os.open(f"/proc/{entry.name}/stat", os.O_RDONLY)
                try:
                    fields = os.read(fd, 4096).rsplit(b")", 1)[1].split()
                finally:
                    os.close(fd)
            except (OSError, IndexError):
                continue  # gone meanwhile
            out[int(entry.name)] = (int(fields[1]), fields[19].decode())
    return out


def _descendants(roots: set[int], table: dict[int, tuple[int, str]]) -> dict[int, str]:
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    out, todo = {}, list(roots)
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in out and child != os.getpid():
                out[child] = table[child][1]
                todo.append(child)
    return out


def watch(command: int, pipe: int) -> None:
    seen: dict[int, str] = {}  # pid -> start time (a pid reused by another process is not ours)
    while not select.select([pipe], [], [], TIMING.poll)[0]:
        seen.update(_descendants({command}, _processes()))
    table = _processes()
    alive = {pid for pid, start in seen.items() if pid in table and table[pid][1] == start}
    for pid in alive | set(_descendants(alive, table)):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    watch(int(sys.argv[1]), int(sys.argv[2]))
