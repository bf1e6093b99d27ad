"""The same flow on a local Dask cluster (prefect-dask's task runner) gives the same warehouse, on disk
and in an S3 bucket: its batches run at once in a worker process of two threads. One cluster for the
module: its worker process starts once (it imports Prefect and the pipeline), and both runs of this
file use it."""

import json
import os
import subprocess
import sys

import pytest
from conftest import ROOT
from corpus import distinct_reports
from test_flow import _warehouse
from test_s3_flow import _rows


@pytest.fixture(scope="module")
def docs(tmp_path_factory):
    """Three valid reports and an invalid one, two batches of two for the worker's two threads: the invalid
    report fails every run alike."""
    docs = tmp_path_factory.mktemp("docs")
    distinct_reports(docs, 3)
    (docs / "bad.txt").write_text(
        (ROOT / "data" / "samples" / "sample_invalid_2024.txt").read_text(encoding="utf-8"), encoding="utf-8"
    )
    return docs


@pytest.fixture(scope="module")
def local(prefect_harness, docs, tmp_path_factory):
    """The warehouse of the same flow in one thread, and its final state: what the cluster's runs must give."""
    from prefect.task_runners import ThreadPoolTaskRunner

    from flows.ingest import ingest

    out = tmp_path_factory.mktemp("local") / "wh"
    state = ingest.with_options(task_runner=ThreadPoolTaskRunner(max_workers=1))(
        sources=[str(docs)], out=str(out), batch_size=2, return_state=True
    )
    assert state.is_failed()  # the invalid report
    return out, state


@pytest.fixture(scope="module")
def cluster(seaweedfs):
    """One worker process of two threads, spawned with the session's S3 credentials in its environment (a
    test's bucket is named in its run's `out`; the credentials are the server's). One process proves
    what two would (the batches pickled to another interpreter, run there and sent back, publishing at
    once through the warehouse's lock: flock and the S3 lease work between threads as between
    processes, and test_storage.py's processes take turns on the lease); a second costs ~4.3 CPU-s of
    imports at its first batch."""
    distributed = pytest.importorskip("distributed")
    pytest.importorskip("prefect_dask")
    with pytest.MonkeyPatch.context() as env:
        for k, v in seaweedfs.env.items():
            env.setenv(k, v)
        with distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=True, dashboard_address=None
        ) as cluster:
            env.undo()
            yield cluster


def _on_dask(cluster, **parameters):
    from prefect_dask import DaskTaskRunner

    from flows.ingest import ingest

    runner = DaskTaskRunner(address=cluster.scheduler_address)
    return ingest.with_options(task_runner=runner)(batch_size=2, return_state=True, **parameters)


def test_dask_cluster_gives_the_same_warehouse(prefect_harness, cluster, docs, local, tmp_path):
    dask_state = _on_dask(cluster, sources=[str(docs)], out=str(tmp_path / "dask"))
    assert dask_state.is_failed()  # the invalid report fails it as it fails the local run
    assert _warehouse(tmp_path / "dask") == _warehouse(local[0])
    assert len(_warehouse(tmp_path / "dask")["reports"]) == 4
    # the worker's last logs were sent before the flow returned (the command then stops its server):
    # queued for its next send, they were lost with a temporary server, "Error logging to API"
    assert _finished(dask_state) == _finished(local[1])


def _finished(state) -> list[str]:
    """What each task run of a flow run logged on finishing, in the API now: this process's own
    logs (the end stages', the flow's) sent first, so that only a worker's can be missing."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
    from prefect.logging.handlers import APILogHandler

    APILogHandler().flush()
    with get_client(sync_client=True) as client:
        logs = client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[state.state_details.flow_run_id])))
    # (a log a retried send stored twice counts once)
    return sorted(
        {log.task_run_id: log.message for log in logs if log.task_run_id and "Finished" in log.message}.values()
    )


def test_dask_workers_writing_to_s3_give_the_local_warehouse(prefect_harness, cluster, docs, local, s3):
    dask = _on_dask(cluster, sources=[str(docs)], out=f"{s3}/dask")
    assert dask.is_failed()  # the invalid report fails it as it fails the local run
    assert _rows(f"{s3}/dask") == _rows(local[0])
    assert len(_rows(f"{s3}/dask")["reports"]) == 4


def test_a_run_names_its_dask_cluster_and_its_batches_run_there(prefect_harness, tmp_path):
    """The flow's `dask_address` (a deployment's parameter: prefect.yaml's yearly names one) takes its
    batches to that cluster, whatever runner the flow was made with."""
    distributed = pytest.importorskip("distributed")
    from flows.ingest import ingest

    docs = tmp_path / "docs"
    distinct_reports(docs, 3)  # two batches
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        state = ingest(
            sources=[str(docs)],
            out=str(tmp_path / "wh"),
            batch_size=2,
            dask_address=cluster.scheduler_address,
            return_state=True,
        )
        with distributed.Client(cluster.scheduler_address) as client:
            ran = client.run_on_scheduler(
                lambda dask_scheduler: {
                    name: prefix.state_counts["memory"] for name, prefix in dask_scheduler.task_prefixes.items()
                }
            )
    assert state.is_completed()
    assert len(_warehouse(tmp_path / "wh")["reports"]) == 3
    assert ran == {"ingest_batch": 2}  # the 2 batches' results were made there


def test_the_yearly_deployment_can_point_at_a_cluster():
    import inspect

    import yaml

    from flows.ingest import ingest

    deployments = {d["name"]: d for d in yaml.safe_load((ROOT / "prefect.yaml").read_text())["deployments"]}
    assert "dask_address" in deployments["yearly"]["parameters"]
    assert all(set(d["parameters"]) <= set(inspect.signature(ingest.fn).parameters) for d in deployments.values())


def test_the_deployments_tell_the_native_libraries_what_the_command_does():
    """A deployment's flow runs in a process the worker starts (`python -m prefect.engine`), which loads
    pyarrow and polars before nianbao could export settings.NATIVE_LIBRARIES: prefect.yaml sets them."""
    import yaml

    from nianbao.model.settings import NATIVE_LIBRARIES

    for deployment in yaml.safe_load((ROOT / "prefect.yaml").read_text())["deployments"]:
        env = deployment["work_pool"]["job_variables"]["env"]
        assert {k: env.get(k) for k in NATIVE_LIBRARIES} == NATIVE_LIBRARIES, deployment["name"]


# a worker as `DASK_CONFIG=dask.yaml dask worker` starts one: its periodic callbacks, its tick's period
# (ms) and whether it is daemonic
WORKER = """
import json, dask, distributed
with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as c:
    (w,) = c.workers.values()
    pcs = w.periodic_callbacks
    print(json.dumps([sorted(pcs), pcs["tick"].callback_time, dask.config.get("distributed.worker.daemon")]))
"""


def test_the_workers_settings_spare_the_batches_dasks_own_cpu():
    """dask.yaml, the workers' settings (README: Scale-out): not daemonic (a batch's extraction processes
    are the worker's children), without Dask's profiler (it walked the running batch's stack every 10 ms)
    and with its tick a second apart (20 ms): Dask's own CPU ~3% of a core a worker, down to 0.6%."""
    pytest.importorskip("distributed")
    env = dict(os.environ, DASK_CONFIG=str(ROOT / "dask.yaml"))
    done = subprocess.run([sys.executable, "-c", WORKER], env=env, capture_output=True, text=True, timeout=120)
    callbacks, tick, daemon = json.loads(done.stdout.splitlines()[-1])
    assert "profile" not in callbacks and "heartbeat" in callbacks
    assert (tick, daemon) == (1000, False)
