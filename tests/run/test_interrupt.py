"""An interrupted run publishes nothing about the documents it had not finished (contract: "Outcomes
of a run"): `nianbao ingest` against a real Prefect server (the session's), stopped by Ctrl-C and
SIGTERM (to its process group, as a terminal or a supervisor sends them) and by a cancellation
through Prefect's API, at several points; what each stopped run left is what an uninterrupted run
publishes for those reports (never a report `unreadable` because its run stopped), and the next run
completes the warehouse to exactly an uninterrupted run's."""

import contextlib
import io
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest
from conftest import ROOT, command

BIN = Path(sys.executable).parent
SAMPLES = ROOT / "data" / "samples"
VOLATILE = {"run_id", "ingested_at", "fetched_at"}  # differ from run to run by design
ARGS = ["--batch-size", "4", "--workers", "2", "--year", "2023"]  # the generated reports print no year
# The reference run's batches are bigger (fewer batches cost less): what a run publishes does not depend
# on its batches, as the stopped runs' warehouse shows, whose documents five runs' batches published.
REFERENCE = ["--batch-size", "16", *ARGS[2:]]


@pytest.fixture(scope="module")
def docs(tmp_path_factory) -> Path:
    """28 generated PDF reports (valid, two printers' layouts) and the three samples (valid, invalid,
    not a report): 8 batches of 4, a few seconds of extraction to stop half way."""
    import accuracy
    import corpus
    import make_pdf  # accuracy puts tests/fixtures on the path

    folder = tmp_path_factory.mktemp("docs")
    for i in range(28):
        rep = accuracy.random_report(random.Random(f"interrupt:{i}"))
        for cells in (rep.applications, rep.reviews_litigation):  # no blank in sections 三 and 四: valid
            cells.update({k: "0" for k, v in cells.items() if not any(c.isdigit() for c in v)})
        (folder / f"r{i:02d}.pdf").write_bytes(make_pdf.from_layout(corpus.layout(rep), wps=i % 2 == 1))
    for sample in SAMPLES.glob("*.txt"):
        (folder / sample.name).write_bytes(sample.read_bytes())
    return folder


@pytest.fixture(scope="module")
def baseline(prefect_harness, docs, tmp_path_factory) -> dict[str, list]:
    out = tmp_path_factory.mktemp("baseline") / "wh"
    code, printed = _uninterrupted(docs, out, REFERENCE)
    assert code == 1, printed  # one invalid sample, one that is not a report
    assert printed.startswith("31 reports: 29 valid, 1 invalid, 1 unreadable\n")
    return _rows(out)


def _command(docs: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "flows", "ingest", str(docs), "--out", str(out), *ARGS]


def _uninterrupted(docs: Path, out: Path, args: list[str] = ARGS) -> tuple[int, str]:
    """The same command run to its end in this process (against the session's server): no signal
    reaches it, so a fresh interpreter would prove nothing more. Its exit code and its stdout."""
    from flows import command as cli

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = cli.main(["ingest", str(docs), "--out", str(out), *args])
    return code, printed.getvalue()


def _rows(out: Path) -> dict[str, list]:
    """Every dataset of the warehouse (cells, quarantine, catalogue, agencies, indicators...), read by
    polars, as sorted rows without the columns that differ from run to run."""
    found = {}
    for folder in sorted({p.parent for p in out.rglob("*.parquet")}):
        rel = folder.relative_to(out)
        if rel.parts[0] in ("_index", "validation") or rel.parts[0].startswith("."):
            continue
        dataset = str(rel.parent if rel.name.startswith("year=") else rel)
        frame = pl.read_parquet(folder / "*.parquet").drop(VOLATILE, strict=False)
        if rel.name.startswith("year="):
            frame = frame.with_columns(year=pl.lit(rel.name[5:]))
        found.setdefault(dataset, []).extend(repr(r) for r in frame.rows())
    return {d: sorted(rows) for d, rows in found.items()}


def _reports(rows: dict[str, list]) -> dict[str, str]:
    """report_id -> its `reports` row (as compared)."""
    return {r.split("'", 2)[1]: r for r in rows.get("reports", [])}


@pytest.fixture
def api(prefect_harness):
    """One client of the session's server for the test: it is polled every 0.1 s while a run starts,
    and a client made per call cost ~40 ms of CPU each (seconds in all, more on a loaded machine)."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        yield client


def _running(api, out: Path) -> set:
    """The ids of the flow runs writing to `out` that are running (the session's server holds other
    tests' runs too, some left running by the processes they killed)."""
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterState, FlowRunFilterStateType
    from prefect.client.schemas.objects import StateType

    running = FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.RUNNING])))
    return {r.id for r in api.read_flow_runs(flow_run_filter=running) if r.parameters.get("out") == str(out)}


def _cancel(api, run_id) -> None:
    """What Cancel in Prefect's UI does: the flow run is set Cancelling through the API."""
    from prefect.states import Cancelling

    api.set_flow_run_state(run_id, Cancelling(message="cancelled by the test"))


def _cancelled_in_process(docs: Path, out: Path, ready) -> tuple[int, str]:
    """The command run in this process while a thread cancels its flow run through the API once
    ready(client) gives its id: no signal reaches the command (its flow's watcher reads the state), so a
    fresh interpreter would prove nothing more. Its exit code and what it printed to stderr."""
    import contextvars
    import threading

    from prefect.client.orchestration import get_client

    running, told = threading.Event(), []

    def cancel():
        try:
            with get_client(sync_client=True) as client:
                deadline = time.monotonic() + 300
                while running.is_set() and time.monotonic() < deadline:
                    run = ready(client)
                    if run is not None:
                        _cancel(client, run)
                        told.append(run)
                        return
                    time.sleep(0.1)
        except BaseException as e:  # noqa: BLE001 (told to the test)
            told.append(e)

    running.set()
    # in this context: the session's server is Prefect's setting in a context variable
    thread = threading.Thread(target=contextvars.copy_context().run, args=(cancel,), daemon=True)
    thread.start()
    try:
        done = command("ingest", str(docs), "--out", str(out), *ARGS)
    finally:
        running.clear()
        thread.join(timeout=60)
    if not told or isinstance(told[0], BaseException):
        pytest.fail(f"the run ended before it was cancelled: exit {done.returncode} {told}\n{done.stderr[-3000:]}")
    return done.returncode, done.stderr


def _published(out: Path) -> int:
    return len(list(out.glob("reports/*/*.parquet")))


def _stopped_by_signal(
    prefect_env, docs: Path, out: Path, log: Path, how: str, batches: int, api, before, known
) -> int:
    """The command as a program in its own process group, sent SIGINT (Ctrl-C) or SIGTERM once `batches`
    more batches landed and its flow run is running, its stderr in `log`: its exit code."""
    with open(log, "w") as stderr:
        proc = subprocess.Popen(
            _command(docs, out),
            env=prefect_env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            text=True,
            start_new_session=True,
        )
        try:
            _wait(lambda: _published(out) >= before + batches and _running(api, out) - known, proc, (how, batches))
            # as a terminal (Ctrl-C) or a supervisor sends it: to the command and its children
            os.killpg(proc.pid, signal.SIGINT if how == "ctrl-c" else signal.SIGTERM)
            return proc.wait(timeout=120)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)


def _wait(condition, proc: subprocess.Popen, what, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"the run ended (or took too long) before {what}: exit {proc.poll()}")
        time.sleep(0.1)


# One warehouse, stopped four times in a row, each run resuming the last: Ctrl-C once a batch landed
# (the workers busy with the next), Cancel through the API likewise, SIGTERM to the process group (as a
# Prefect worker stops its flow run's process), and Ctrl-C while the first batches are extracted. The
# signals reach the command as a program (its own process group); a cancellation reaches no process,
# its flow reads it from the API: that run is the command in this process.
STOPS = [("ctrl-c", 1), ("cancel", 1), ("sigterm", 1), ("ctrl-c", 0)]  # (how, batches landed before)


def test_runs_stopped_at_several_points_publish_nothing_unfinished_and_the_next_completes_them(
    prefect_env, api, docs, baseline, tmp_path
):
    out = tmp_path / "wh"
    expected = _reports(baseline)
    for how, batches in STOPS:
        log = tmp_path / f"{how}-{batches}.log"
        before, known = _published(out), _running(api, out)
        if how == "cancel":

            def ready(client, before=before, known=known, batches=batches):
                runs = _running(client, out) - known if _published(out) >= before + batches else set()
                return next(iter(runs)) if len(runs) == 1 else None

            code, text = _cancelled_in_process(docs, out, ready)
            log.write_text(text)
        else:
            code = _stopped_by_signal(prefect_env, docs, out, log, how, batches, api, before, known)
        rows = _rows(out)
        for report_id, row in _reports(rows).items():  # what it published is what an uninterrupted run does
            assert row == expected[report_id], (how, batches)
        for dataset, found in rows.items():
            assert set(found) <= set(baseline[dataset]), (how, batches, dataset)
        assert len(_reports(rows)) < len(expected), (how, batches)  # it was stopped before the end
        text = log.read_text()
        assert code == (-signal.SIGTERM if how == "sigterm" else 130), text[-3000:]
        assert "Traceback" not in text and ("interrupted" in text or how == "sigterm"), text[-3000:]
    code, printed = _uninterrupted(docs, out)
    assert code == 1, printed
    assert printed.startswith("31 reports: 29 valid, 1 invalid, 1 unreadable (")
    assert _rows(out) == baseline


def test_a_ctrl_c_python_cannot_raise_prints_no_traceback():
    """A Ctrl-C that lands in a callback (here a weakref's, as in an import lock's in CI) cannot be
    raised there: Python prints it as "Exception ignored" with a traceback, on a run that stops cleanly
    anyway. The command drops that one, and only once its stop is requested."""
    script = """if True:
        import sys, weakref
        from flows.command import _quiet_interrupt
        from nianbao.run import stop

        sys.unraisablehook = _quiet_interrupt(sys.unraisablehook)

        class Thing: pass

        def interrupt(_):
            raise KeyboardInterrupt

        def drop():
            ref = weakref.ref(Thing(), interrupt)  # the callback runs as the object goes: unraisable

        drop()
        print("before the stop", file=sys.stderr, flush=True)
        stop.request()
        drop()
        """
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    before, after = done.stderr.split("before the stop")
    assert "KeyboardInterrupt" in before  # not yet stopping: shown as Python shows it
    assert "Traceback" not in after and "KeyboardInterrupt" not in after, done.stderr
