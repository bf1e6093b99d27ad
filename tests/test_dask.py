"""The same flow on a local Dask cluster of two workers (prefect-dask's task runner) gives the same warehouse."""
import pytest

from conftest import ROOT
from corpus import distinct_reports
from test_flow import _warehouse


def test_dask_cluster_gives_the_same_warehouse(prefect_harness, tmp_path):
    pytest.importorskip("prefect_dask")
    from prefect_dask import DaskTaskRunner
    from prefect.task_runners import ThreadPoolTaskRunner

    from flows.ingest import ingest

    docs = tmp_path / "docs"
    distinct_reports(docs, 6)
    (docs / "bad.txt").write_text((ROOT / "data" / "samples" / "sample_invalid_2024.txt").read_text(encoding="utf-8"),
                                  encoding="utf-8")
    runner = DaskTaskRunner(cluster_kwargs={"n_workers": 2, "threads_per_worker": 1, "processes": True,
                                            "dashboard_address": None})
    dask_state = ingest.with_options(task_runner=runner)(sources=[str(docs)], out=str(tmp_path / "dask"),
                                                          batch_size=2, return_state=True)
    local_state = ingest.with_options(task_runner=ThreadPoolTaskRunner(max_workers=1))(
        sources=[str(docs)], out=str(tmp_path / "local"), batch_size=2, return_state=True)
    assert dask_state.is_failed() and local_state.is_failed()  # the invalid report fails both alike
    assert _warehouse(tmp_path / "dask") == _warehouse(tmp_path / "local")
    assert len(_warehouse(tmp_path / "dask")["reports"]) == 7
