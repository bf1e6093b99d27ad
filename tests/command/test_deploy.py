"""prefect.yaml for real: the deployments registered from the file on the session's Prefect server, the
yearly schedule checked, the backfill deployment run by a process worker."""

import asyncio
import shutil
import subprocess
import sys
import time
from pathlib import Path

from conftest import ROOT

BIN = Path(sys.executable).parent


def _deploy(monkeypatch) -> str:
    """`prefect deploy --all --no-prompt` run in this process (Prefect's CLI, as its own tests run it)
    against the session's server, in the project's folder where prefect.yaml is: a fresh interpreter
    would prove nothing more, and costs seconds of CPU. What it printed."""
    from prefect.testing.cli import CycloptsCliRunner

    monkeypatch.chdir(ROOT)
    done = CycloptsCliRunner().invoke(["--no-prompt", "deploy", "--all"])
    assert done.exit_code == 0, done.output
    return done.stdout


def _ended(logs: list) -> bool:
    """Whether a flow run's logs hold the engine's last line for the run (its task runs' lines come before)."""
    return any(log.task_run_id is None and log.message.startswith("Finished in state") for log in logs)


def test_deployments_schedule_and_a_backfill_run(prefect_env, tmp_path, monkeypatch):
    """Through a real worker: a run that fails for its configuration says what to fix in one line
    (no traceback), a run's state message counts its reports, the failures artifact says where the
    validation report is and what to do next; and `yearly`'s parameters as registered read its one
    manifest with last year as the year (run here: a worker's run of a deployment is the backfill's)."""
    import datetime as dt

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        FlowRunFilter,
        FlowRunFilterId,
        LogFilter,
        LogFilterFlowRunId,
    )

    env = prefect_env
    with get_client(sync_client=True) as client:  # the pool prefect.yaml names (`make worker` makes it by the CLI)
        client.create_work_pool(WorkPoolCreate(name="nianbao-process", type="process"))
    _deploy(monkeypatch)
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in ("sample_valid_2023.txt", "sample_invalid_2024.txt"):
        shutil.copy(ROOT / "data" / "samples" / name, docs)
    out = tmp_path / "wh"
    worker_log = tmp_path / "worker.log"
    asked = {
        "typo": {"sources": [str(docs / "sample_valid_2032.txt")], "out": str(out)},
        "backfill": {"sources": [str(docs)], "out": str(out), "year": None},
    }
    registered = {}

    async def scenario():
        async with get_client() as client:
            yearly = await client.read_deployment_by_name("ingest/yearly")
            (schedule,) = yearly.schedules
            assert (schedule.schedule.cron, schedule.schedule.timezone, schedule.active) == (
                "0 2 15 4 *",
                "Asia/Shanghai",
                True,
            )
            assert (yearly.parameters["sources"], yearly.parameters["year"]) == (["data/yearly.csv"], "last")
            registered.update(yearly.parameters)
            backfill = await client.read_deployment_by_name("ingest/backfill")
            assert backfill.schedules == []
            runs = {
                name: await client.create_flow_run_from_deployment(backfill.id, parameters=parameters)
                for name, parameters in asked.items()
            }
            with open(worker_log, "wb") as log:
                worker = subprocess.Popen(
                    [
                        str(BIN / "prefect"),
                        "worker",
                        "start",
                        "--pool",
                        "nianbao-process",
                        "--type",
                        "process",
                        "--limit",
                        "1",
                    ],
                    env=dict(env, PREFECT_WORKER_QUERY_SECONDS="1"),
                    cwd=ROOT,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            try:
                deadline = time.monotonic() + 480
                ids = FlowRunFilter(id=FlowRunFilterId(any_=[r.id for r in runs.values()]))
                logs = {}
                while time.monotonic() < deadline:  # one look a second: the server serves the runs too
                    now = {r.id: r for r in await client.read_flow_runs(flow_run_filter=ids)}
                    runs = {k: now[r.id] for k, r in runs.items()}
                    if all(r.state and r.state.is_final() for r in runs.values()):
                        # a run's process sends its logs in batches, the last as it exits: the worker is
                        # stopped once each run's last line is there (stopped before, it could stop a
                        # process still sending them)
                        logs = {
                            k: await client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[r.id])))
                            for k, r in runs.items()
                        }
                        if all(map(_ended, logs.values())):
                            break
                    await asyncio.sleep(1)
            finally:
                worker.terminate()
                try:
                    worker.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    worker.kill()
            found = {}
            for name, run in runs.items():
                artifacts = await client.read_artifacts(
                    artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run.id]))
                )
                found[name] = (
                    run,
                    {a.key: a for a in artifacts},
                    "\n".join(f"{log.level} {log.message}" for log in logs.get(name, [])),
                )
            return found

    found = asyncio.run(scenario())
    worker_output = worker_log.read_text(errors="replace")
    assert "Traceback" not in worker_output and "unexpected exception" not in worker_output, worker_output

    # a configuration failure: Failed, one line naming the problem and the fix, no traceback
    run, artifacts, logs = found["typo"]
    assert (run.state.type.value, run.state.name) == ("FAILED", "Failed")
    assert run.state.message == (
        f"{docs / 'sample_valid_2032.txt'}: no such file, directory or manifest: "
        "fix the run's `sources` (or the manifest row) and run again"
    )
    assert "Traceback" not in logs and run.state.message in logs and artifacts == {}
    # the other configuration error, the same way (the worker's part is the typo's): the flow run here
    from flows.ingest import ingest

    unwritable = ingest(sources=[str(docs)], out="/proc/nianbao-wh", return_state=True)
    assert (unwritable.type.value, unwritable.name) == ("FAILED", "Failed")
    assert unwritable.message.startswith("the warehouse /proc/nianbao-wh is not writable: ")
    assert unwritable.message.endswith(
        ": fix `out` (a writable folder, or s3://bucket/prefix, with room) and run again"
    )

    # an outcome: the counts in the state's message, the artifact's page and next step
    run, artifacts, logs = found["backfill"]
    assert (run.state.name, run.state.message) == ("ReportsFailed", "2 reports: 1 valid, 1 invalid, 0 unreadable")
    assert set(artifacts) == {"ingest-counts", "ingest-failures"}
    md = artifacts["ingest-failures"].data
    page = out / "validation" / f"{run.id}.html"
    assert page.is_file() and f"Validation report: {page}".replace("_", "\\_") in md
    assert md.splitlines()[-1].startswith(
        "**Next:** open the validation report for the tables and sums; invalid reports' cells are in "
    )
    assert "published to" in logs and "Traceback" not in logs and "unexpected exception" not in logs
    assert len(list((out / "reports").glob("*/*.parquet"))) == 2  # both published, in their year partitions

    # yearly, as registered (its paths are the project folder's): its one manifest, last year where a
    # document tells none
    from prefect.logging.handlers import APILogWorker

    state = ingest(**dict(registered, out=str(tmp_path / "yearly")), return_state=True)
    assert (state.name, state.message) == ("Completed", "1 report: 1 valid, 0 invalid, 0 unreadable")
    APILogWorker.drain_all(timeout=30, at_exit=False)  # its logs, sent now
    with get_client(sync_client=True) as client:
        logs = client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[state.state_details.flow_run_id])))
    assert f"year {dt.date.today().year - 1} where a document tells none (last year)" in [log.message for log in logs]
