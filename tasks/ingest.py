"""The ingest flow's tasks, one call each into nianbao/. Between tasks travel the run's plan (its
documents: nianbao/run/plan.py) and run summaries (a RunSummary: report rows and findings), never
the datasets' frames."""
from __future__ import annotations

import tempfile
from pathlib import Path

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.states import Cancelled

from nianbao.acquire import discover
from nianbao.report import artifacts
from nianbao.report.summary import RunSummary, summarise
from nianbao.run import pipeline, stop
from nianbao.run.plan import Plan
from nianbao.warehouse import storage


@task(name="ingest-batch", task_run_name="ingest-batch-{number}")
def ingest_batch(batch: Plan, number: int, run_id: str, out: str,
                 default_year: int | None = None, reprocess: bool = False, processes: bool = True) -> RunSummary:
    """One batch of the run's plan read, extracted, normalised, validated and published
    (nianbao/run/pipeline.py); its summary. A batch of a run that is stopping ends Cancelled."""
    timings: dict[str, float] = {}
    try:
        frames = pipeline.ingest_batch(batch, run_id, out, default_year, reprocess, processes, timings)
    except stop.Stopped:
        return Cancelled(message=f"batch {number} not published: its run is stopping (the next run does it)")
    return summarise(frames, out, timings)


@task(name="discover", retries=2, retry_delay_seconds=30)
def discover_reports(listings: list[str], out: str, run_id: str) -> str:
    """Report links found on 年度报告 listing pages, as a manifest under WAREHOUSE/manifests/.
    A listing is a URL, or a CSV file of `listing_url,region_code` rows (data/listings.csv): the
    reports found there get the region code of their listing."""
    errors: list[str] = []
    pairs = [p for item in listings for p in
             ([(item, None)] if item.startswith(("http://", "https://")) else discover.read_listings(item))]
    rows: dict[str, dict] = {}
    for code in dict.fromkeys(code for _, code in pairs):
        urls = [url for url, c in pairs if c == code]
        for row in discover.discover(urls, errors=errors, region_code=code):
            rows.setdefault(row["uri"], row)
    rows = list(rows.values())
    for e in errors:
        get_run_logger().warning("discovery: %s", e)
    # a manifest is read by this flow's process: beside a bucket warehouse it stays local
    path = (Path(tempfile.gettempdir()) if storage.is_remote(out) else Path(out)) / "manifests" / f"discovered-{run_id}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    discover.write_manifest(rows, path)
    get_run_logger().info("discovered %d reports on %d listings: %s", len(rows), len(pairs), path)
    return str(path)


@task(name="report-artifacts", cache_policy=NO_CACHE)  # hashing its input, the run's summary, costs memory in N
def report_artifacts(summary: RunSummary | dict, run_id: str, out: str, seconds: float | None = None) -> None:
    """What operators read (nianbao/report/artifacts.py): counts by status, reports affected per rule,
    formats and fetch failures, the reports that failed, and a validation report page that opens offline."""
    made = artifacts.make(RunSummary.of(summary), run_id, out, seconds)
    create_table_artifact(key="ingest-counts", table=made.table, description=made.table_description)
    create_markdown_artifact(key="ingest-failures", markdown=made.markdown, description=made.markdown_description)
