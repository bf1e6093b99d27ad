"""prefect.yaml for real: a Prefect server on a free loopback port, the deployments registered from
the file, the yearly schedule checked, the backfill deployment run by a process worker."""
import asyncio
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from conftest import ROOT

BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    home = tmp_path_factory.mktemp("prefect-home")
    port = _free_port()
    env = dict(os.environ, PREFECT_HOME=str(home), PREFECT_API_URL=f"http://127.0.0.1:{port}/api",
               PREFECT_SERVER_ANALYTICS_ENABLED="false", PREFECT_UI_ENABLED="false")
    env.pop("PREFECT_API_KEY", None)
    proc = subprocess.Popen([str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{env['PREFECT_API_URL']}/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("the Prefect server did not start")
    yield env
    proc.terminate()
    proc.wait(timeout=30)


def _prefect(env, *args, timeout=180):
    done = subprocess.run([str(BIN / "prefect"), *args], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_deployments_schedule_and_a_backfill_run(server, tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (ArtifactFilter, ArtifactFilterFlowRunId, LogFilter,
                                                LogFilterFlowRunId)
    from prefect.settings import PREFECT_API_URL, temporary_settings

    env = server
    _prefect(env, "work-pool", "create", "nianbao-process", "--type", "process")
    _prefect(env, "--no-prompt", "deploy", "--all")
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in ("sample_valid_2023.txt", "sample_invalid_2024.txt"):
        shutil.copy(ROOT / "data" / "samples" / name, docs)
    out = tmp_path / "wh"
    worker_log = tmp_path / "worker.log"

    async def scenario():
        async with get_client() as client:
            yearly = await client.read_deployment_by_name("ingest/yearly")
            (schedule,) = yearly.schedules
            assert (schedule.schedule.cron, schedule.schedule.timezone, schedule.active) == (
                "0 2 15 4 *", "Asia/Shanghai", True)
            backfill = await client.read_deployment_by_name("ingest/backfill")
            assert backfill.schedules == []
            run = await client.create_flow_run_from_deployment(
                backfill.id, parameters={"sources": [str(docs)], "out": str(out), "year": None})
            with open(worker_log, "wb") as log:
                worker = subprocess.Popen([str(BIN / "prefect"), "worker", "start", "--pool", "nianbao-process",
                                           "--type", "process", "--run-once"], env=env, cwd=ROOT,
                                          stdout=log, stderr=subprocess.STDOUT)
            try:
                deadline = time.monotonic() + 240
                while time.monotonic() < deadline:
                    run = await client.read_flow_run(run.id)
                    if run.state and run.state.is_final():
                        break
                    await asyncio.sleep(1)
            finally:
                worker.wait(timeout=60) if worker.poll() is None and run.state.is_final() else worker.kill()
            artifacts = await client.read_artifacts(
                artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run.id])))
            logs = await client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run.id])))
            return run, {a.key for a in artifacts}, "\n".join(f"{log.level} {log.message}" for log in logs)

    with temporary_settings({PREFECT_API_URL: env["PREFECT_API_URL"]}):
        run, keys, run_logs = asyncio.run(scenario())
    assert run.state.is_failed(), run.state  # one of the two reports is invalid
    assert (run.state.name, run.state.message) == ("ReportsFailed", "1 reports failed: 1 valid, 1 invalid, 0 unreadable")
    assert keys == {"ingest-counts", "ingest-failures"}
    worker_output = worker_log.read_text(errors="replace")
    assert "published to" in run_logs and "ReportsFailed" in worker_output  # the logs were read
    for text in (run_logs, worker_output):  # an outcome, not a crash
        assert "Traceback" not in text and "unexpected exception" not in text, text
    assert len(list((out / "reports").glob("*/*.parquet"))) == 2  # both published, in their year partitions
