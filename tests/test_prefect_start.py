"""The command starts Prefect's temporary server in a thread while it sets up (imports, extraction
workers), and none when a server is configured."""
import threading

from prefect.server.api.server import SubprocessASGIServer
from prefect.settings import PREFECT_API_URL, temporary_settings

from flows import command as cli


def test_the_temporary_server_starts_beside_the_set_up_unless_a_server_is_configured(monkeypatch):
    started = []
    monkeypatch.setattr(SubprocessASGIServer, "start",
                        lambda self, timeout=None: started.append(threading.current_thread().name))
    with temporary_settings(updates={PREFECT_API_URL: "http://127.0.0.1:9/api"}):
        cli._start_prefect_server()()
    assert started == []
    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        cli._start_prefect_server()()
    assert started == ["prefect-server"]
    assert {"start", "waited"} <= cli.PREFECT_SERVER_SECONDS.keys()  # what `make bench` reports
