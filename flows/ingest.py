"""The ingestion flow: sources -> batches (read, extract, normalise, validate) -> publish -> artifacts.

It ends Failed when any report is invalid or unreadable, after publishing everything: valid
reports to the warehouse, invalid ones to quarantine, every report and finding to the catalogue.
"""
from __future__ import annotations

from prefect import flow, get_run_logger
from prefect.runtime import flow_run
from prefect.states import Completed, Failed

from tasks.ingest import process_batch, publish_batches, report_artifacts, resolve_sources

BATCH_SIZE = 100  # documents per task: a 150,000-report year stays at ~1,500 tasks


@flow(name="ingest")
def ingest(sources: list[str], out: str = "data/warehouse", year: int | None = None, batch_size: int = BATCH_SIZE):
    """Ingest every report named by `sources` (files, directories, manifests, URLs) into `out`."""
    log = get_run_logger()
    run_id = str(flow_run.id or "local")
    docs = resolve_sources(sources)
    batches = [docs[i:i + batch_size] for i in range(0, len(docs), batch_size)]
    log.info("%d documents in %d batches", len(docs), len(batches))
    futures = [process_batch.submit(b, n, run_id, out, year) for n, b in enumerate(batches)]
    folders = []
    for n, fut in enumerate(futures, 1):
        folders.append(fut.result())
        log.info("batch %d/%d extracted and validated", n, len(batches))
    summary = publish_batches(folders, out)
    report_artifacts(summary, run_id)
    statuses = [r["status"] for r in summary["reports"]]
    counts = {s: statuses.count(s) for s in ("valid", "invalid", "unreadable")}
    message = f"{counts['valid']} valid, {counts['invalid']} invalid, {counts['unreadable']} unreadable"
    log.info("published to %s: %s", out, message)
    if counts["invalid"] or counts["unreadable"]:
        return Failed(message=f"{counts['invalid'] + counts['unreadable']} reports failed: {message}", data=summary)
    return Completed(message=message, data=summary)
