"""The same flow on a local Dask cluster of two workers (prefect-dask's task runner) gives the same warehouse."""

import pytest
from conftest import ROOT
from corpus import distinct_reports
from test_flow import _warehouse


def test_dask_cluster_gives_the_same_warehouse(prefect_harness, tmp_path):
    pytest.importorskip("prefect_dask")
    from prefect.task_runners import ThreadPoolTaskRunner
    from prefect_dask import DaskTaskRunner

    from flows.ingest import ingest

    docs = tmp_path / "docs"
    distinct_reports(docs, 6)
    (docs / "bad.txt").write_text(
        (ROOT / "data" / "samples" / "sample_invalid_2024.txt").read_text(encoding="utf-8"), encoding="utf-8"
    )
    runner = DaskTaskRunner(
        cluster_kwargs={"n_workers": 2, "threads_per_worker": 1, "processes": True, "dashboard_address": None}
    )
    dask_state = ingest.with_options(task_runner=runner)(
        sources=[str(docs)], out=str(tmp_path / "dask"), batch_size=2, return_state=True
    )
    local_state = ingest.with_options(task_runner=ThreadPoolTaskRunner(max_workers=1))(
        sources=[str(docs)], out=str(tmp_path / "local"), batch_size=2, return_state=True
    )
    assert dask_state.is_failed() and local_state.is_failed()  # the invalid report fails both alike
    assert _warehouse(tmp_path / "dask") == _warehouse(tmp_path / "local")
    assert len(_warehouse(tmp_path / "dask")["reports"]) == 7


def test_a_run_names_its_dask_cluster_and_its_batches_run_there(prefect_harness, tmp_path):
    """The flow's `dask_address` (a deployment's parameter: prefect.yaml's yearly names one) takes its
    batches to that cluster, whatever runner the flow was made with."""
    distributed = pytest.importorskip("distributed")
    from flows.ingest import ingest

    docs = tmp_path / "docs"
    distinct_reports(docs, 7)
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
    assert len(_warehouse(tmp_path / "wh")["reports"]) == 7
    assert ran == {"ingest_batch": 4}  # the 4 batches' results were made there


def test_the_yearly_deployment_can_point_at_a_cluster():
    import inspect

    import yaml

    from flows.ingest import ingest

    deployments = {d["name"]: d for d in yaml.safe_load((ROOT / "prefect.yaml").read_text())["deployments"]}
    assert "dask_address" in deployments["yearly"]["parameters"]
    assert all(set(d["parameters"]) <= set(inspect.signature(ingest.fn).parameters) for d in deployments.values())
