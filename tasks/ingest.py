"""The ingest flow's tasks, one call each into nianbao/. Between tasks travel the run's plan (its
documents: nianbao/run/plan.py) and run summaries (a RunSummary: report rows and findings), never
the datasets' frames."""

from __future__ import annotations

import tempfile
from pathlib import Path

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.states import Cancelled

from nianbao.acquire import discover
from nianbao.report import artifacts
from nianbao.report.summary import RunSummary, summarise
from nianbao.run import pipeline, stop
from nianbao.run.plan import Plan
from nianbao.warehouse import storage


# no cache key: a batch publishes (never a result to reuse), and hashing its plan costs every batch
@task(name="ingest-batch", task_run_name="ingest-batch-{number}", cache_policy=NO_CACHE)
def ingest_batch(
    batch: Plan,
    number: int,
    run_id: str,
    out: str,
    default_year: int | None = None,
    reprocess: bool = False,
    processes: bool = True,
) -> RunSummary:
    """One batch of the run's plan read, extracted, normalised, validated and published
    (nianbao/run/pipeline.py); its summary. A batch of a run that is stopping ends Cancelled."""
    timings: dict[str, float] = {}
    try:
        frames = pipeline.ingest_batch(batch, run_id, out, default_year, reprocess, processes, timings)
    except stop.Stopped:
        return Cancelled(message=f"batch {number} not published: its run is stopping (the next run does it)")
    return summarise(frames, out, timings)


def prefect_sent() -> None:
    """What this process's Prefect queued for the API sent (its task runs' logs and events, sent in
    batches every few seconds): run on each Dask worker once a run's batches are done, before the
    command stops its temporary server. Left queued, a batch's last logs were lost and the worker
    printed "Error logging to API" as the server went away. In a thread of its own: Dask calls this
    in its event loop, where Prefect's drain would only be scheduled, not waited for."""
    import threading

    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    def drain() -> None:
        for service in (APILogWorker, EventsWorker):
            service.drain_all(timeout=5, at_exit=False)

    sender = threading.Thread(target=drain, name="prefect-sent")
    sender.start()
    sender.join()


@task(name="discover", retries=2, retry_delay_seconds=30)
def discover_reports(listings: list[str], out: str, run_id: str) -> str:
    """Report links found on 年度报告 listing pages (nianbao/acquire/discover.py), as a manifest under
    WAREHOUSE/manifests/; a listing is a URL, or a CSV file of `listing_url,region_code` rows."""
    # a manifest is read by this flow's process: beside a bucket warehouse it stays local
    folder = Path(tempfile.gettempdir()) if storage.is_remote(out) else Path(out)
    found = discover.to_manifest(listings, folder / "manifests" / f"discovered-{run_id}.csv")
    for e in found.errors:
        get_run_logger().warning("discovery: %s", e)
    get_run_logger().info("discovered %d reports on %d listings: %s", found.reports, found.listings, found.manifest)
    return str(found.manifest)


@task(name="report-artifacts", cache_policy=NO_CACHE)  # hashing its input, the run's summary, costs memory in N
def report_artifacts(summary: RunSummary | dict, run_id: str, out: str, seconds: float | None = None) -> None:
    """What operators read (nianbao/report/artifacts.py): counts by status, reports affected per rule,
    formats and fetch failures, the reports that failed, and a validation report page that opens offline."""
    made = artifacts.make(RunSummary.of(summary), run_id, out, seconds)
    create_table_artifact(key="ingest-counts", table=made.table, description=made.table_description)
    create_markdown_artifact(key="ingest-failures", markdown=made.markdown, description=made.markdown_description)
