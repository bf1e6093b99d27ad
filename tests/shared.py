"""One server for all the suite's processes (pytest-xdist's workers): the first process that needs it
starts it, under a file lock (the others wait for it there), and owns it; the others use it, their
PIDs written beside it; the owner stops it at its end, once no other process uses it (a worker that
finished first waits, idle, for the last one: xdist waits for every worker anyway).

Each start of the harness's Prefect server costs ~15 CPU-s (its database's migrations, its imports)
and it then spends ~1 CPU-s a minute on its services, idle or not: one server for the suite instead
of one per worker. What the servers hold is shared then, so a test reads only its own runs and
artifacts (by flow run id, or by its own `out`), never "the latest"."""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from pathlib import Path


def folder(tmp_path_factory) -> Path:
    """Where the suite's processes meet: the run's base temporary folder, which xdist's workers share
    (each has its own popen-gwN under it); without xdist, this process's own."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@contextmanager
def _locked(lock: Path) -> Iterator[None]:
    with open(lock, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def one(where: Path, name: str, start: Callable[[], AbstractContextManager[dict]]) -> Iterator[tuple[dict, bool]]:
    """The suite's one `name` server: yields (what start() described of it, JSON; whether this process
    owns it). start() is a context manager that runs the server while it is open."""
    lock, state = where / f"{name}.lock", where / f"{name}.json"
    me = os.getpid()
    with ExitStack() as owned:
        with _locked(lock):
            found = json.loads(state.read_text()) if state.exists() else None
            if found is not None and _alive(found["owner"]):
                found["users"].append(me)
                state.write_text(json.dumps(found))
            else:  # none yet, or its owner is gone (its server with it): ours
                found = {"owner": me, "users": [], "server": owned.enter_context(start())}
                state.write_text(json.dumps(found))
        owner = found["owner"] == me
        try:
            yield found["server"], owner
        finally:
            while True:
                with _locked(lock):
                    now = json.loads(state.read_text())
                    if not owner:
                        now["users"] = [p for p in now["users"] if p != me]
                        state.write_text(json.dumps(now))
                        break
                    if not [p for p in now["users"] if _alive(p)]:
                        state.unlink()  # the next process to ask starts another
                        break
                time.sleep(0.5)
        # the owner's server stops here, when `owned` closes
