"""The ingestion flow: sources -> batches (read, extract, normalise, validate, publish) -> artifacts.

It ends Failed when any report is invalid or unreadable, after publishing everything: valid
reports to the warehouse, invalid ones to quarantine, every report and finding to the catalogue.
"""
from __future__ import annotations

import os

from prefect import flow, get_run_logger
from prefect.runtime import flow_run
from prefect.states import Completed, Failed

from tasks.across import check_across_years
from tasks.ingest import discover_reports, ingest_batch, report_artifacts, resolve_sources

BATCH_SIZE = 100  # documents per task: a 150,000-report year stays at ~1,500 tasks


def task_runner(workers: int | None = None, dask_address: str | None = None):
    """Batches run in threads here (each extracts in its own worker process), or on a Dask cluster
    when an address is given (argument or NIANBAO_DASK_ADDRESS, so deployments can use one too)."""
    address = dask_address or os.environ.get("NIANBAO_DASK_ADDRESS")
    if address:
        from prefect_dask import DaskTaskRunner

        return DaskTaskRunner(address=address)
    from prefect.task_runners import ThreadPoolTaskRunner

    return ThreadPoolTaskRunner(max_workers=workers or int(os.environ.get("NIANBAO_WORKERS", "2")))


@flow(name="ingest", task_runner=task_runner())
def ingest(sources: list[str], out: str = "data/warehouse", year: int | None = None,
           batch_size: int = BATCH_SIZE, reprocess: bool = False, processes: bool = True,
           listings: list[str] | None = None):
    """Ingest every report named by `sources` (files, directories, manifests, URLs) into `out`.

    `year`: the report year where a document tells none. `reprocess`: redo documents the
    warehouse already holds from this pipeline version (by default they are skipped).
    `processes`: extract PDF/Word/HTML in worker processes under a time limit (the default).
    `listings`: 年度报告 listing pages whose reports are discovered and ingested too.
    """
    log = get_run_logger()
    run_id = str(flow_run.id or "local")
    if listings:
        sources = [*sources, discover_reports(listings, out, run_id)]
    docs = resolve_sources(sources)
    batches = [docs[i:i + batch_size] for i in range(0, len(docs), batch_size)]
    log.info("%d documents in %d batches of up to %d", len(docs), len(batches), batch_size)
    futures = [ingest_batch.submit(b, n, run_id, out, year, reprocess, processes) for n, b in enumerate(batches)]
    summary: dict = {"reports": [], "findings": [], "timings": {}}
    for n, fut in enumerate(futures, 1):
        part = fut.result()
        summary["reports"] += part["reports"]
        summary["findings"] += part["findings"]
        for stage, seconds in part["timings"].items():
            summary["timings"][stage] = summary["timings"].get(stage, 0.0) + seconds
        statuses = [r["status"] for r in part["reports"]]
        log.info("batch %d/%d published: %d valid, %d invalid, %d unreadable", n, len(batches),
                 statuses.count("valid"), statuses.count("invalid"), statuses.count("unreadable"))
    summary = check_across_years(summary, run_id, out)
    report_artifacts(summary, run_id, out)
    statuses = [r["status"] for r in summary["reports"]]
    counts = {s: statuses.count(s) for s in ("valid", "invalid", "unreadable")}
    skipped = sum(1 for r in summary["reports"] if r["skipped"])
    message = (f"{counts['valid']} valid, {counts['invalid']} invalid, {counts['unreadable']} unreadable"
               + (f" ({skipped} already published, skipped)" if skipped else ""))
    log.info("published to %s: %s", out, message)
    if counts["invalid"] or counts["unreadable"]:
        return Failed(message=f"{counts['invalid'] + counts['unreadable']} reports failed: {message}", data=summary)
    return Completed(message=message, data=summary)
