"""The command starts Prefect's temporary server itself, in a thread, without importing Prefect's
server package into its own process, and none when a server is configured."""

import json
import os
import subprocess
import sys

import pytest
from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_LOGGING_LEVEL, temporary_settings

from flows import server

# The command's start in a fresh interpreter, read by three tests (a server's start costs seconds of
# CPU): what it imported, the temporary server it spawns, read while it serves, a flow that logs
# through it, and the interpreter's exit after the block.
STARTED = """
import json, os, sys, urllib.error, urllib.request
from flows import command
import flows.ingest
imported = sorted(m for m in sys.modules if m.startswith("prefect.server"))
from prefect import flow, get_run_logger
from prefect.settings import PREFECT_API_URL, PREFECT_UI_URL, temporary_settings
from flows import server

def status(url):
    try:
        with urllib.request.urlopen(urllib.request.Request(url, b"{}", {"Content-Type": "application/json"})) as a:
            return a.status
    except urllib.error.HTTPError as e:
        return e.code

@flow
def chatty():
    for i in range(50):
        get_run_logger().info("line %d", i)

with temporary_settings(restore_defaults={PREFECT_API_URL}):
    s = server.TemporaryServer().start()
    seen = dict(imported=imported, spawned=s.process is not None)  # when start() returns
    with s.serving():
        process = s.process
        seen.update(listening=os.read(s._ready, 1).decode())  # its word, not a poll, told the command
        with urllib.request.urlopen(s.url + "/health", timeout=10) as answer:
            seen.update(health=answer.status)
        with urllib.request.urlopen(s.url + "/admin/settings", timeout=10) as answer:
            seen.update(served=json.load(answer)["server"])
        with open(f"/proc/{process.pid}/environ", "rb") as f:
            seen.update(environment=f.read().decode().split("\\0"))
        filters = ("flow_runs", "task_runs", "logs", "artifacts", "block_documents", "deployments", "work_pools", "variables")
        seen.update(routes={f: status(f"{s.url}/{f}/filter") for f in filters})
        seen.update(url=s.url, api_url=PREFECT_API_URL.value(), ui_url=PREFECT_UI_URL.value())
        chatty()
    seen.update(stopped=process.poll() is not None, seconds=sorted(server.SECONDS))
print(json.dumps(seen))
print("done")
"""


@pytest.fixture(scope="module")
def started() -> tuple[dict, str]:
    """What the fresh interpreter saw, and what it logged (stderr)."""
    done = subprocess.run(
        [sys.executable, "-c", STARTED],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PREFECT_LOGGING_LEVEL": "INFO"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    seen, last = done.stdout.splitlines()
    assert last == "done", done.stdout
    return json.loads(seen), done.stderr


def test_no_server_is_started_when_one_is_configured():
    with temporary_settings(updates={PREFECT_API_URL: "http://127.0.0.1:9/api"}):
        s = server.TemporaryServer().start()
        with s.serving():
            assert s.process is None and s.url is None
            assert PREFECT_API_URL.value() == "http://127.0.0.1:9/api"


def test_the_temporary_server_is_spawned_at_once_serves_the_block_and_stops_after_it(started):
    """Spawned before Prefect's settings are read (they take seconds to import), with the
    environment's settings."""
    seen, _ = started
    assert seen["spawned"]  # when start() returns
    assert seen["api_url"] == seen["url"] and seen["url"].startswith("http://127.0.0.1:")
    assert seen["ui_url"] == ""  # no UI is served: no "View at" link that cannot open
    assert seen["health"] == 200
    assert seen["listening"] == "\n"  # written by the server once it listens (flows/server.py, uvicorn_server)
    assert "PREFECT_SERVER_LOGGING_LEVEL=WARNING" not in seen["environment"]
    # what a run does not use is off: block registration, automations' services
    assert (
        seen["served"]["register_blocks_on_start"] is False
        and seen["served"]["services"]["triggers"]["enabled"] is False
    )
    assert seen["stopped"]  # with the block
    assert {"start", "waited"} <= set(seen["seconds"])  # what `make bench` reports


def test_a_setting_of_the_callers_context_reaches_the_server(monkeypatch):
    """A setting of the caller's context the environment does not hold still reaches the server
    (it is spawned again). What it is spawned with is read, not its answers (the test above waits
    for a server's start): it counts as healthy at once, and is stopped before it has started."""
    spawned = []

    def healthy(url, process, deadline, ready=None):
        # read as soon as it is spawned: a server that exits meanwhile (its port taken by a test
        # beside) shows an empty environment once it has exited
        spawned.append(_environment(process.pid))
        return True

    monkeypatch.setattr(server, "_healthy", healthy)
    with temporary_settings(restore_defaults={PREFECT_API_URL}, updates={PREFECT_SERVER_LOGGING_LEVEL: "WARNING"}):
        with server.TemporaryServer().start().serving():
            pass
    assert len(spawned) == 1 and "PREFECT_SERVER_LOGGING_LEVEL=WARNING" in spawned[0]


def _environment(pid: int) -> list[str]:
    with open(f"/proc/{pid}/environ", "rb") as f:
        return f.read().decode().split("\0")


def test_a_server_that_cannot_start_is_told_when_the_command_waits(monkeypatch):
    monkeypatch.setattr(
        server, "_healthy", lambda url, process, deadline, ready=None: process.kill() or process.wait() and False
    )
    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        s = server.TemporaryServer().start()
        try:
            with s.serving():
                raise AssertionError("the block must not run")
        except RuntimeError as e:
            assert "ephemeral Prefect API server" in str(e) and "exited with code -9" in str(e)


def test_the_commands_server_serves_what_a_run_calls_and_not_deployments_work_pools_variables(started):
    """Its app leaves out the routers no run of the command calls (flows/server.py, create_app)."""
    assert started[0]["routes"] == dict.fromkeys(
        ("flow_runs", "task_runs", "logs", "artifacts", "block_documents"), 200
    ) | {
        "deployments": 404,
        "work_pools": 404,
        "variables": 404,
    }


def test_the_command_does_not_import_prefects_server_package(started):
    assert started[0]["imported"] == []


def test_nothing_is_left_to_send_to_the_stopped_server(started):
    """Logs and events still queued when the block ends are sent before the server stops, not
    retried against a stopped server at exit (a minute of "Error logging to API")."""
    _, logged = started
    assert "line 49" in logged
    assert "Error logging to API" not in logged and "connection attempts failed" not in logged


def test_the_server_ends_with_the_process_that_spawned_it(tmp_path):
    """A server whose command was SIGKILLed before the command's watchdog saw it (nianbao.run.reaper
    looks twice a second) ends on its own: here its spawner exits at once, the server still starting."""
    import signal
    import time
    from pathlib import Path

    spawn = "from flows import server; s = server.TemporaryServer(); s._spawn({}); print(s.process.pid)"
    with open(tmp_path / "pid", "w") as out:  # not a pipe: the server would hold it open
        subprocess.run([sys.executable, "-c", spawn], stdout=out, check=True, cwd=Path(server.__file__).parents[1])
    pid = int((tmp_path / "pid").read_text())

    def running() -> bool:  # a zombie is dead, only not yet collected by its new parent
        try:
            return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
        except OSError:
            return False

    deadline = time.monotonic() + 30
    while running() and time.monotonic() < deadline:
        time.sleep(0.05)
    if running():
        os.kill(pid, signal.SIGKILL)
        pytest.fail("the server outlived the process that spawned it")
