"""Prefect's temporary server for one run of the command, spawned the moment the command knows it
will run the flow, before this process has even imported Prefect, and waited for in a thread, so that
its start overlaps the command's own set-up and the first documents' extraction.

It is the server Prefect would start by itself at the flow's first API call (SubprocessASGIServer in
prefect/server/api/server.py: uvicorn on `create_app`, the UI off, the run's settings passed on), but
spawned without importing Prefect's server package into this process: Prefect needs that package here
only for the class that spawns it, and importing it costs ~4 s of CPU on this machine, as much as a
fifth of a 100-document run. Nothing is started when a server is configured (PREFECT_API_URL).

With NIANBAO_KEEP_SERVER=SECONDS the server is kept for the next command (flows/kept.py): the first
command starts it detached, the next ones with the same settings use it, and it stops itself once
no command used it for SECONDS.
"""

from __future__ import annotations

import atexit
import contextvars
import fcntl
import hashlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path

from nianbao.model import settings

SECONDS: dict[str, float] = {}  # the server's start, and how long the command waited for it (`make bench`)
# What a run does not use, off in its server unless told otherwise (these are defaults): blocks (the
# server skips loading every installed collection, prefect_dask imports distributed, to register their
# block types: ~0.7 CPU-s of its start) and automations (the triggers services, which start with the
# server and then read every event: ~0.4 CPU-s of its start, measured, and some per run); and the
# run-time type checks (warnings) beartype adds to every module of docket's key-value store as it is
# imported (~0.3 CPU-s of the server's import).
_UNUSED = {
    "PREFECT_SERVER_REGISTER_BLOCKS_ON_START": "false",
    "PREFECT_SERVER_MEMOIZE_BLOCK_AUTO_REGISTRATION": "false",
    "PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED": "false",
    "PY_KEY_VALUE_DISABLE_BEARTYPE": "true",
}
_SERVE = "from flows.server import serve; serve()"  # the server's program
APP = "flows.server:create_app"  # the command's server's app (create_app)
WHOLE_APP = "flows.server:create_whole_app"  # Prefect's whole API (the tests' server: deployments, workers)
# The routers of Prefect's API (prefect.server.api) that no run of the command calls: deployments and
# what runs them (work pools, queues, workers), automations, variables, saved searches, v1 concurrency
# limits and the UI's. Its server leaves them out (create_app); any other, one a new Prefect adds included, is served.
UNSERVED = (
    "deployments",
    "work_queues",
    "workers",
    "task_workers",
    "automations",
    "templates",
    "variables",
    "saved_searches",
    "collections",
    "concurrency_limits",
    "ui",
)
# The routers a run calls, matched first. FastAPI (>= 0.137) builds an included router's routes (each
# one's models) the first time a request is matched against the router, in the app's order: the
# client's first call (admin/version, near the end of Prefect's order) built every router before it,
# 95 routes; now the others' routes are built only if called. Their prefixes differ: the order
# changes which router answers nothing.
FIRST = ("flow_runs", "flows", "artifacts", "logs", "events", "admin", "csrf_token")
_CSRF_TOKEN = "/csrf-token"  # the last router of FIRST's one route (_routes_built)
_PORT_IN_USE = 3  # uvicorn's exit code when its port was taken meanwhile
# Not PREFECT__SERVER_FINAL, which Prefect's own spawner sets: with FastAPI >= 0.137, whose routers are
# kept, it only adds a full collection of the server's heap once its routes are made (~0.15 CPU-s, measured)
_SERVER_ENV = {"PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1"}
# a command's own settings, which its server does not read: a kept server serves commands that differ in them
_CLIENT_ONLY = ("PREFECT_LOGGING_", "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS")
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # 127.0.0.1, never through a proxy


class TemporaryServer:
    """Start with start(); `with server.serving():` waits for it and points Prefect at it, and
    stops it when the block ends."""

    def __init__(self):
        self.process: subprocess.Popen | None = None
        self.port: int | None = None
        self.url: str | None = None
        self.error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._env: dict[str, str] = {}  # what it was spawned with (spawned again on a taken port)
        self._app = APP
        self._spawned = 0.0  # time.perf_counter() at the first spawn
        self._ready: int | None = None  # a pipe's read end: the server writes to it once it listens
        self._kept: Path | None = None  # a kept server's folder (flows/kept.py), while this command uses it
        self._users = None  # its `users` file, locked shared while we use it

    def start(self) -> TemporaryServer:
        if settings.settings().prefect_api_url:  # a server of the user's, in the environment
            return self
        self._spawned = time.perf_counter()
        if not settings.settings().keep_server:
            # spawned at once, from this environment (from which, with the profile, the flow's settings come):
            # importing Prefect's settings first, to decide, would hold it back ~1.5 s (more on a busy machine)
            self._spawn(settings.child_environment())
        atexit.register(self.stop)  # whatever happens before serving() (which stops it too)
        # the rest in the caller's context: Prefect's settings (a temporary PREFECT_API_URL, say) live in a contextvar
        self._thread = threading.Thread(
            target=contextvars.copy_context().run, args=(self._start,), name="prefect-server", daemon=True
        )
        self._thread.start()
        return self

    def _spawn(self, env: dict[str, str], app: str = APP) -> None:
        self.stop()
        self._env, self._app, self.port = env, app, _free_port()
        self._ready, ready = os.pipe()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                _SERVE,
                str(os.getpid()),  # the process the server ends with (serve)
                app,
                str(self.port),
                str(ready),
            ],
            env={**_UNUSED, **env, **_SERVER_ENV},
            start_new_session=True,
            pass_fds=(ready,),
        )  # Ctrl-C on the terminal is the command's to handle: we stop the server
        os.close(ready)  # the server's end alone: our end reads the end of file if it exits

    def _start(self) -> None:
        try:
            from prefect.settings import (
                PREFECT_API_URL,
                PREFECT_SERVER_EPHEMERAL_ENABLED,
                PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS,
                Settings,
                get_current_settings,
            )

            if PREFECT_API_URL.value() or not PREFECT_SERVER_EPHEMERAL_ENABLED.value():
                self.stop()  # a server configured in a profile or in the caller's context: none of ours
                return
            wanted = get_current_settings().to_environment_variables(exclude_unset=True)
            deadline = time.monotonic() + PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value()
            if wanted != Settings().to_environment_variables(exclude_unset=True):
                # the caller's context changed a setting the environment does not hold: as Prefect starts
                # it, and a server of its own (a kept one is for the environment's settings)
                self._spawn(settings.child_environment(**wanted))
            elif self.process is None and not self._use_kept(deadline):
                self._spawn(settings.child_environment())  # the kept server's folder is not ours
            if self._kept is None:
                url = f"http://127.0.0.1:{self.port}/api/health"
                while not _healthy(url, self.process, deadline, self._ready):
                    if (code := self.process.poll()) != _PORT_IN_USE:
                        self.stop()
                        raise _timed_out(code)
                    self._spawn(self._env, self._app)  # its port was taken meanwhile: another
            self.url = f"http://127.0.0.1:{self.port}/api"
            SECONDS["start"] = time.perf_counter() - self._spawned
        except BaseException as e:  # told where the flow would have met it: when the command waits
            self.error = e

    def _use_kept(self, deadline: float) -> bool:
        """The kept server for this environment's settings, started if there is none (flows/kept.py),
        and used: `users` locked shared until stop(). False if its folder is another user's."""
        folder = _kept_folder()
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if folder.lstat().st_uid != os.getuid() or folder.is_symlink():
            return False
        (folder / "users").touch()
        with open(folder / "lock", "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # one command at a time looks, and starts one if need be
            try:
                kept = json.loads((folder / "server.json").read_text())
            except (OSError, ValueError):
                kept = None
            url = f"http://127.0.0.1:{kept['port']}/api/health" if kept else ""
            if kept is None or not _healthy(url, _Pid(kept["pid"]), time.monotonic() + 10):
                if kept is not None:
                    _Pid(kept["pid"]).kill(folder)  # alive but not answering: replaced
                kept = self._start_kept(folder, deadline)
            self._users = open(folder / "users", "a+")  # noqa: SIM115 (closed by stop())
            fcntl.flock(self._users, fcntl.LOCK_SH)
        self._kept, self.port = folder, kept["port"]
        return True

    def _start_kept(self, folder: Path, deadline: float) -> dict:
        env = {**_UNUSED, **settings.child_environment(), **_SERVER_ENV}
        for _ in range(3):  # a port taken meanwhile: another
            port = _free_port()
            with open(folder / "server.log", "w") as log:  # its own output, never the command's
                started = subprocess.run(
                    [sys.executable, "-m", "flows.kept", str(folder), str(settings.settings().keep_server), str(port)],
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=log,
                    start_new_session=True,
                    check=True,
                )
            pid = _Pid(int(started.stdout))
            if _healthy(f"http://127.0.0.1:{port}/api/health", pid, deadline):
                kept = {"pid": pid.pid, "port": port}
                (folder / "server.json").write_text(json.dumps(kept))
                return kept
            if pid.poll() is None:  # alive, but not answering in time
                pid.kill(folder)
                break
        raise _timed_out(None, f" Its log: {folder / 'server.log'}")

    @contextmanager
    def serving(self):
        started = time.perf_counter()
        if self._thread is not None:
            self._thread.join()
        SECONDS["waited"] = time.perf_counter() - started
        if self.error is not None:
            raise self.error
        try:
            if self.url is None:  # a server of the user's
                yield
                return
            from prefect.settings import (
                PREFECT_API_URL,
                PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
                PREFECT_UI_URL,
                temporary_settings,
            )

            # no UI is served: no "View at" link that would not open. No flow run heartbeats: they
            # are for a server that outlives the run and marks its silent runs crashed, which ours
            # does not (its triggers are off), and the run's end waited for the heartbeat thread's
            # one-second sleep (~0.5 s a run)
            updates = {PREFECT_API_URL: self.url, PREFECT_UI_URL: "", PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}
            with temporary_settings(updates=updates):
                try:
                    yield
                finally:
                    _drain()
        finally:
            self.stop()

    def stop(self) -> None:
        users, self._users = self._users, None
        if users is not None:  # a kept server: left running for the next command
            os.utime(users.fileno())  # its idle time counts from now
            users.close()
        process, self.process = self.process, None
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        ready, self._ready = self._ready, None
        if ready is not None:  # closed after the server's end: a thread waiting on it has read its end of file
            os.close(ready)


def serve() -> None:
    """The server's program (argv: the spawner's pid, which it ends with; the app's factory; the port):
    the collector tuned, and paused until the app is made (its factory, below, settles it), on a
    database copied from the migrated template if it is new (flows/database.py). Exits 3 (_PORT_IN_USE)
    when its port was taken meanwhile, as uvicorn's command line does."""
    _ends_with_parent()
    from nianbao.run import heap

    heap.tune()
    heap.pause()
    from flows import database

    app, port, ready = sys.argv[1:4]
    with database.prepared():
        uvicorn_server(app, int(port), int(ready)).run()


def uvicorn_server(app: str, port: int, ready: int | None = None):
    """uvicorn's server of `app` (a factory, "module:function") on 127.0.0.1:`port`, which stops as
    soon as it is told: uvicorn looks for its signal every tenth of a second, then gives the
    connections it shuts a tenth of a second before it waits for them, ~0.15 s of every run's end
    that the command waited (measured). Here the signal wakes it, and the connections left (the
    command stops its server once its flow's requests are answered and its logs and events sent:
    idle ones, closed at once) are waited for in steps of 5 ms, and so are the messages Prefect's
    services have received and not yet handled (_handled). Then, as uvicorn's, its lifespan ends
    (Prefect's services stop, storing what they hold). Once it listens, it writes a line to the file
    descriptor `ready` (a pipe its spawner reads) and closes it."""
    import asyncio

    import uvicorn

    class Server(uvicorn.Server):
        told: asyncio.Event | None = None

        async def startup(self, sockets=None) -> None:
            self.handled = _handled()  # before the lifespan starts Prefect's services
            await super().startup(sockets)
            if self.started and ready is not None:
                os.write(ready, b"\n")
                os.close(ready)
                self.warming = asyncio.create_task(_routes_built(self.config.loaded_app))

        async def main_loop(self) -> None:
            self.told, loop, counter = asyncio.Event(), asyncio.get_running_loop(), 0
            self.wake = lambda: loop.call_soon_threadsafe(self.told.set)
            while not await self.on_tick(counter):  # uvicorn's: the Date header, each tenth tick
                counter = (counter + 1) % 864000
                try:
                    await asyncio.wait_for(self.told.wait(), 0.1)
                except TimeoutError:
                    pass

        def handle_exit(self, sig, frame) -> None:
            super().handle_exit(sig, frame)
            if self.told is not None:
                self.wake()

        async def shutdown(self, sockets=None) -> None:
            for server in self.servers:
                server.close()
            for connection in list(self.server_state.connections):
                connection.shutdown()
            while (
                self.server_state.connections or self.server_state.tasks or not self.handled()
            ) and not self.force_exit:
                await asyncio.sleep(0.005)
            for server in self.servers:
                await server.wait_closed()
            if not self.force_exit:
                await self.lifespan.shutdown()

    config = uvicorn.Config(app, factory=True, host="127.0.0.1", port=port, log_level="error", lifespan="on")
    return Server(config)


async def _routes_built(app) -> None:
    """The routes of the routers a run calls (FIRST) built while the command, told the server listens,
    asks its health and sets up its client (0.15-0.3 s, traced), not in its first request (0.11-0.12
    CPU-s of the server's, on the run's path): a request to the last of them (csrf-token), which is
    matched against each in turn. After the health request, which comes first."""
    import asyncio

    await asyncio.sleep(0.02)
    path = f"/api{_CSRF_TOKEN}"
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [],
        "client": ("127.0.0.1", 0),
        "server": ("127.0.0.1", 0),
    }

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        pass

    await app(scope, receive, send)


def _handled():
    """A function telling whether Prefect's in-memory messaging (its services' consumers: the events
    stored, task runs recorded from them) has handled every message it received: none queued, no
    handler running. Its services' stop cancels their consumers, losing what is queued and logging an
    error for a write it cuts (seen on a busy machine once the server stopped without uvicorn's tenths
    of a second). Another broker (Redis): nothing to wait for here."""
    from prefect.server.utilities.messaging import memory

    running = [0]
    run = memory.Consumer.run

    async def counted(consumer, handler):
        async def handle(message):
            running[0] += 1
            try:
                await handler(message)
            finally:
                running[0] -= 1

        await run(consumer, handle)

    memory.Consumer.run = counted
    return lambda: running[0] == 0 and all(
        s._queue.empty() and s._retry.empty() for topic in memory.Topic._topics.values() for s in topic._subscriptions
    )


def create_app():
    """Prefect's app (prefect.server.api.server:create_app) without the routers of UNSERVED: their routes
    cost the server's start ~0.5 CPU-s of its ~3.5 (measured), as FastAPI builds each route's models
    when its module is imported and again for every router the first request is matched against. A
    router module not imported yet never is (an empty stand-in is included); one a served module
    imports (flow_runs imports workers) is left out of the app."""
    return _made(UNSERVED)


def create_whole_app():
    """Prefect's whole app, made as create_app's is."""
    return _made(())


def _made(unserved_routers: tuple[str, ...]):
    """Prefect's app without `unserved_routers`, the routers of FIRST first; then what the server's process holds is settled, and
    collected again (serve() and a kept server's start paused the collector: heap.pause)."""
    import prefect.server.api as api
    from fastapi import APIRouter

    from nianbao.run import heap

    prefix = f"{api.__name__}."
    stand_in = _Unserved(APIRouter())
    for name in unserved_routers:
        if prefix + name not in sys.modules:  # api imports a module at its first use, as an attribute
            setattr(api, name, stand_in)
    from prefect.server.api import server

    unserved = {
        id(module.router)
        for name, module in list(sys.modules.items())
        if name.startswith(prefix)
        and name[len(prefix) :].split(".")[0] in unserved_routers
        and hasattr(module, "router")
    }
    first = [id(getattr(api, name).router) for name in FIRST]
    served = [r for r in server.API_ROUTERS if id(r) not in unserved]
    server.API_ROUTERS = tuple(sorted(served, key=lambda r: first.index(id(r)) if id(r) in first else len(first)))
    app = server.create_app()
    heap.settle()
    return app


class _Unserved:
    """Stands in prefect.server.api for a router module not served, and for its own modules (api.ui.flows)."""

    def __init__(self, router):
        self.router = router

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        return self


def _ends_with_parent(poll: float = 0.5) -> None:
    """SIGKILL this server once the process that spawned it is gone. The command's watchdog
    (nianbao.run.reaper) kills what it saw, but looks twice a second: a server spawned just before the
    command was SIGKILLed was left running, seen in full suites. Polled, not PR_SET_PDEATHSIG, which fires
    when the spawning thread ends (the command spawns again from its prefect-server thread); the parent's
    pid from _spawn, as it may be gone before we look."""
    parent = int(sys.argv.pop(1))

    def watch():
        while os.getppid() == parent:
            time.sleep(poll)
        os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, name="ends-with-parent", daemon=True).start()


def _drain() -> None:
    """The logs and events still queued for the server, sent while it runs: left for Prefect's own
    drain at exit, they would go to a stopped server, retried for a minute before the command ends."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for service in (APILogWorker, EventsWorker):
        service.drain_all(timeout=10, at_exit=False)


def _timed_out(code: int | None, more: str = "") -> RuntimeError:
    return RuntimeError(
        "Timed out while attempting to connect to ephemeral Prefect API server."
        + (f" Ephemeral server process exited with code {code}." if code is not None else "")
        + more
    )


class _Pid:
    """A process that is not our child (a kept server), as _healthy() asks a Popen."""

    def __init__(self, pid: int):
        self.pid = pid

    def poll(self) -> int | None:
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return -1
        except PermissionError:  # a pid another user's process has taken since
            return -1
        return None

    def kill(self, folder: Path) -> None:
        """Killed if it is still the kept server of `folder` (its pid not taken since)."""
        try:
            if str(folder).encode() in Path(f"/proc/{self.pid}/cmdline").read_bytes().split(b"\0"):
                os.kill(self.pid, 9)
        except (OSError, ProcessLookupError):
            pass


def _kept_folder() -> Path:
    """Where the kept server for this environment's settings is found: one per interpreter, working
    folder (Prefect reads .env and prefect.toml there), versions, PREFECT_* variables and profiles."""
    prefect = settings.prefect_variables()
    home = Path(prefect.get("PREFECT_HOME", "~/.prefect")).expanduser()
    files = [Path(prefect.get("PREFECT_PROFILES_PATH", home / "profiles.toml")), Path(".env"), Path("prefect.toml")]
    key = hashlib.sha256()
    for part in [
        sys.executable,
        os.getcwd(),
        version("prefect"),
        version("nianbao"),
        *sorted(f"{k}={v}" for k, v in prefect.items() if not k.startswith(_CLIENT_ONLY)),
        *(f.read_text(errors="replace") if f.is_file() else "" for f in files),
    ]:
        key.update(part.encode() + b"\0")
    return Path(tempfile.gettempdir()) / f"nianbao-prefect-{os.getuid()}-{key.hexdigest()[:16]}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(url: str, process: subprocess.Popen, deadline: float, ready: int | None = None) -> bool:
    """Whether the server answers; False once it exited or the deadline passed. Given the read end of
    the pipe it writes to once it listens (or closes as it exits), that is waited for first: asked
    every tenth of a second, the server answered ~0.05 s after it could, on the run's path."""
    if ready is not None:
        select.select([ready], [], [], max(0.0, deadline - time.monotonic()))
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with _DIRECT.open(url, timeout=2) as answer:
                if answer.status == 200:
                    return True
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    return False
