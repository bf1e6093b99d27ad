"""A kept temporary server: Prefect's temporary server (as flows/server.py starts it) left running
for the next command, which then pays nothing for its start, and stopping itself once no command
has used it for NIANBAO_KEEP_SERVER seconds.

    python -m flows.kept FOLDER IDLE_SECONDS PORT

It detaches at once (its parent prints its pid and exits: it is no command's child, holds none of a
command's files, pipes or terminal, so that a caller reading the command's output to its end is
never kept waiting) and serves until idle. FOLDER holds its locks (flock, released by the kernel
however a process ends):

- `lock`: taken by a command that looks for the server or starts one, and by the server to stop;
- `users`: shared by every command the server serves, from finding it to its end; the server stops
  only when it can take it alone, under `lock`, and nothing used it for IDLE_SECONDS (a command
  touches the file as it leaves);
- `server.json`: the pid and port of the server, written by the command that started it, removed
  by the server as it stops.
"""

from __future__ import annotations

import fcntl
import os
import sys
import threading
import time
from pathlib import Path

POLL = 1.0  # seconds between the server's looks at its users (a quarter of a shorter idle time)


def detach() -> None:
    """Continue in a grandchild that no one waits for: the parent prints its pid and exits."""
    child = os.fork()
    if child:
        print(child, flush=True)
        os._exit(0)
    os.dup2(2, 1)  # stdout, the pipe to the command that started us, now goes to the log (stderr)


def stop_when_idle(folder: Path, seconds: float) -> list | None:
    """If no command uses the server and none did for `seconds`: `lock` and `users` taken (to be
    held until the process ends) and server.json removed, so that the next command starts another."""
    if time.time() - (folder / "users").stat().st_mtime < seconds:
        return None
    held = [open(folder / name, "a+") for name in ("lock", "users")]  # noqa: SIM115
    try:
        for f in held:  # no command looking for the server, none using it
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        for f in held:
            f.close()
        return None
    (folder / "server.json").unlink(missing_ok=True)
    return held


def main(folder: str, seconds: str, port: str) -> None:
    detach()
    from nianbao.run import heap

    heap.tune()
    heap.pause()  # until the app is made (flows/server.py settles it)
    from flows.server import APP, uvicorn_server

    server = uvicorn_server(APP, int(port))
    locks = []  # taken to stop, held until the process ends

    def watch():
        while (held := stop_when_idle(Path(folder), float(seconds))) is None:
            time.sleep(min(POLL, float(seconds) / 4))
        locks.append(held)
        server.should_exit = True

    threading.Thread(target=watch, daemon=True).start()
    from flows import database

    with database.prepared():  # a new database copied from the migrated template (flows/database.py)
        server.run()


if __name__ == "__main__":
    main(*sys.argv[1:4])
