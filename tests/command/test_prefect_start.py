"""The command starts Prefect's temporary server itself, in a thread, without importing Prefect's
server package into its own process, and none when a server is configured."""

import json
import subprocess
import sys
import urllib.request

from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_LOGGING_LEVEL, PREFECT_UI_URL, temporary_settings

from flows import server


def test_no_server_is_started_when_one_is_configured():
    with temporary_settings(updates={PREFECT_API_URL: "http://127.0.0.1:9/api"}):
        s = server.TemporaryServer().start()
        with s.serving():
            assert s.process is None and s.url is None
            assert PREFECT_API_URL.value() == "http://127.0.0.1:9/api"


def test_the_temporary_server_is_spawned_at_once_serves_the_block_and_stops_after_it():
    """Spawned before Prefect's settings are read (they take seconds to import), with the
    environment's settings; one server for both (each start costs a server's start-up)."""
    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        s = server.TemporaryServer().start()
        assert s.process is not None  # when start() returns
        with s.serving():
            process = s.process
            assert PREFECT_API_URL.value() == s.url and s.url.startswith("http://127.0.0.1:")
            assert PREFECT_UI_URL.value() == ""  # no UI is served: no "View at" link that cannot open
            with urllib.request.urlopen(s.url + "/health", timeout=10) as answer:
                assert answer.status == 200
            assert "PREFECT_SERVER_LOGGING_LEVEL=WARNING" not in _environment(s.process.pid)
            # what a run does not use is off: block registration, automations' services
            with urllib.request.urlopen(s.url + "/admin/settings", timeout=10) as answer:
                served = json.load(answer)["server"]
            assert served["register_blocks_on_start"] is False and served["services"]["triggers"]["enabled"] is False
        assert process.poll() is not None  # stopped with the block
        assert {"start", "waited"} <= server.SECONDS.keys()  # what `make bench` reports


def test_a_setting_of_the_callers_context_reaches_the_server():
    """A setting of the caller's context the environment does not hold still reaches the server
    (it is spawned again)."""
    with temporary_settings(restore_defaults={PREFECT_API_URL}, updates={PREFECT_SERVER_LOGGING_LEVEL: "WARNING"}):
        with (s := server.TemporaryServer().start()).serving():
            assert "PREFECT_SERVER_LOGGING_LEVEL=WARNING" in _environment(s.process.pid)


def _environment(pid: int) -> list[str]:
    with open(f"/proc/{pid}/environ", "rb") as f:
        return f.read().decode().split("\0")


def test_a_server_that_cannot_start_is_told_when_the_command_waits(monkeypatch):
    monkeypatch.setattr(server, "_healthy", lambda url, process, deadline: process.kill() or process.wait() and False)
    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        s = server.TemporaryServer().start()
        try:
            with s.serving():
                raise AssertionError("the block must not run")
        except RuntimeError as e:
            assert "ephemeral Prefect API server" in str(e) and "exited with code -9" in str(e)


def test_the_command_does_not_import_prefects_server_package():
    code = (
        "import sys; from flows import command; import flows.ingest; "
        "print(sorted(m for m in sys.modules if m.startswith('prefect.server')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_nothing_is_left_to_send_to_the_stopped_server():
    """Logs and events still queued when the block ends are sent before the server stops, not
    retried against a stopped server at exit (a minute of "Error logging to API")."""
    code = """
from prefect import flow, get_run_logger
from prefect.settings import PREFECT_API_URL, temporary_settings
from flows import server

@flow
def chatty():
    for i in range(50):
        get_run_logger().info("line %d", i)

with temporary_settings(restore_defaults={PREFECT_API_URL}):
    with server.TemporaryServer().start().serving():
        chatty()
print("done")
"""
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        env={**__import__("os").environ, "PREFECT_LOGGING_LEVEL": "INFO"},
    )
    assert done.returncode == 0 and done.stdout.strip() == "done", done.stderr[-2000:]
    assert "line 49" in done.stderr
    assert "Error logging to API" not in done.stderr and "connection attempts failed" not in done.stderr
