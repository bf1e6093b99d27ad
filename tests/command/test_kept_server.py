"""NIANBAO_KEEP_SERVER (issue 26): Prefect's temporary server kept for the next command, found by
the commands of the same settings (working folder included: each test has its own), never holding a
command's output, one for commands started together, stopping itself once idle and not before."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

USE = """
from prefect.settings import PREFECT_API_URL, temporary_settings
from flows import server
with temporary_settings(restore_defaults={PREFECT_API_URL}):
    s = server.TemporaryServer().start()
    with s.serving():
        print(s.url, (s._kept / "server.json").read_text())
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"


def _kill(folder: Path) -> None:
    try:
        pid = json.loads((folder / "server.json").read_text())["pid"]
    except OSError:
        return
    if _alive(pid):
        os.kill(pid, 9)


def test_commands_started_together_and_the_next_one_use_one_kept_server(tmp_path):
    """Their output is read to its end while the server lives on (a CI step would hang otherwise)."""
    env = {**os.environ, "NIANBAO_KEEP_SERVER": "600", "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "240"}
    run = [sys.executable, "-c", USE]
    kept = []
    try:
        together = [
            subprocess.Popen(run, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)
        ]
        said = [p.communicate(timeout=300) for p in together]
        kept += [json.loads(out.split(maxsplit=1)[1]) for out, _ in said if out]
        assert [p.returncode for p in together] == [0, 0], [err[-2000:] for _, err in said]
        then = subprocess.run(run, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
        assert then.returncode == 0, then.stderr[-2000:]
        kept.append(json.loads(then.stdout.split(maxsplit=1)[1]))
        assert len({out.split()[0] for out, _ in said} | {then.stdout.split()[0]}) == 1  # one URL
        assert len({k["pid"] for k in kept}) == 1
        pid = kept[0]["pid"]
        assert _alive(pid)
        fds = {os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")}
        assert not [fd for fd in fds if fd.startswith(("pipe:", "/dev/pts", "/dev/tty"))]  # none of theirs
    finally:
        for pid in {k["pid"] for k in kept}:
            if _alive(pid) and b"flows.kept" in Path(f"/proc/{pid}/cmdline").read_bytes():
                os.kill(pid, 9)


HOLD = """
import json, os, sys, time
from prefect.settings import PREFECT_API_URL, temporary_settings
from flows import server
with temporary_settings(restore_defaults={PREFECT_API_URL}):
    s = server.TemporaryServer().start()
    with s.serving():
        pid = json.loads((s._kept / "server.json").read_text())["pid"]
        try:
            time.sleep(float(sys.argv[1]))  # past the idle time, a few looks of the server's
            os.kill(pid, 0)  # in use: still there
        finally:
            print(s._kept, pid, flush=True)
"""


def test_a_kept_server_stops_once_idle_and_not_while_used(tmp_path):
    """In a process of its own: a test process's Prefect settings (a session's server) are not the
    environment's, and such a caller gets a server of its own, never the kept one."""
    idle = 0.5  # the server looks at its users every quarter of it
    env = {**os.environ, "NIANBAO_KEEP_SERVER": str(idle), "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "240"}
    held = subprocess.run(
        [sys.executable, "-c", HOLD, str(3 * idle + 2 * idle / 4)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    folder, pid = held.stdout.split() if held.stdout else (None, None)
    try:
        assert held.returncode == 0, held.stderr[-2000:]
    except BaseException:
        if folder:
            _kill(Path(folder))
        raise
    folder, pid = Path(folder), int(pid)
    deadline = time.monotonic() + 120
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid) and not (folder / "server.json").exists()
