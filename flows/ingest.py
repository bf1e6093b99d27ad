"""The ingestion flow: sources -> batches (read, extract, normalise, validate, publish) -> artifacts.

It ends Failed when any report is invalid or unreadable, after publishing everything: valid
reports to the warehouse, invalid ones to quarantine, every report and finding to the catalogue.
That outcome is the state `ReportsFailed`, its message the summary: an outcome, not a crash.
"""
from __future__ import annotations

import logging
import time
from typing import Annotated

from prefect import flow, get_run_logger
from prefect.runtime import flow_run
from prefect.states import Completed, Failed
from pydantic import Field

from nianbao.pipeline import BATCH_SIZE
from nianbao.publish import probe
from nianbao.rules import year_range
from nianbao.settings import settings
from nianbao.summary import RunSummary
from tasks.across import check_across_years
from tasks.ingest import discover_reports, ingest_batch, report_artifacts, resolve_sources



class ReportsFailed(Exception):
    """The run published everything, but some reports are invalid or unreadable. The data of the
    run's final state: Prefect raises a Failed state's data when asked for its result (and can only
    raise exceptions), so the summary travels inside it."""

    def __init__(self, message: str, summary: RunSummary):
        super().__init__(message)
        self.summary = summary

    def __reduce__(self):
        return ReportsFailed, (str(self), self.summary)


def summary_of(state) -> RunSummary | None:
    """The run's summary from its final state (completed or ReportsFailed); None if it broke."""
    result = state.result(raise_on_failure=False)
    result = result.summary if isinstance(result, ReportsFailed) else result
    return result if isinstance(result, RunSummary) else None


class _OutcomeNotCrash(logging.Filter):
    """Prefect's engine process (a worker's run) re-raises a Failed state's data after the run
    ended and logs it as "Engine execution exited with unexpected exception" with a traceback.
    For ReportsFailed that record is noise: the state, its message and the artifacts tell it."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], ReportsFailed))


for _name in ("prefect.flow_runs", "prefect.engine"):
    logging.getLogger(_name).addFilter(_OutcomeNotCrash())


def task_runner(workers: int | None = None, dask_address: str | None = None):
    """Batches run in threads here (each extracts in its own worker process), or on a Dask cluster
    when an address is given (argument or NIANBAO_DASK_ADDRESS, so deployments can use one too)."""
    address = dask_address or settings().dask_address
    if address:
        from prefect_dask import DaskTaskRunner

        return DaskTaskRunner(address=address)
    from prefect.task_runners import ThreadPoolTaskRunner

    return ThreadPoolTaskRunner(max_workers=workers or settings().workers)


@flow(name="ingest", task_runner=task_runner())
def ingest(sources: list[str], out: str = "data/warehouse",
           year: Annotated[int, Field(ge=year_range()[0])] | None = None,
           batch_size: Annotated[int, Field(ge=1)] = BATCH_SIZE, reprocess: bool = False, processes: bool = True,
           listings: list[str] | None = None):
    """Ingest every report named by `sources` (files, directories, manifests, URLs) into `out`.

    `year`: the report year where a document tells none. `reprocess`: redo documents the
    warehouse already holds from this pipeline version (by default they are skipped).
    `processes`: extract PDF/Word/HTML in worker processes under a time limit (the default).
    `listings`: 年度报告 listing pages whose reports are discovered and ingested too: URLs, or CSV
    files of `listing_url,region_code` rows (the region code of each listing's portal links its
    bodies' reports across years).
    """
    started = time.monotonic()
    log = get_run_logger()
    run_id = str(flow_run.id or "local")
    probe(out)  # an unwritable or full warehouse fails the run now, before any document is read
    if listings:
        sources = [*sources, discover_reports(listings, out, run_id)]
    docs = resolve_sources(sources)
    batches = [docs[i:i + batch_size] for i in range(0, len(docs), batch_size)]
    log.info("%d documents in %d batches of up to %d", len(docs), len(batches), batch_size)
    futures = [ingest_batch.submit(b, n, run_id, out, year, reprocess, processes) for n, b in enumerate(batches)]
    run = RunSummary()
    for n in range(len(futures)):
        part, futures[n] = futures[n].result(), None  # a finished batch's future (and result) is let go
        run.add(part)
        log.info("batch %d/%d published: %s", n + 1, len(futures), part.counts_text())
    run = check_across_years(run, run_id, out)
    report_artifacts(run, run_id, out, seconds=time.monotonic() - started)
    message = run.counts_text() + (f" ({run.already_published} already published, skipped)"
                                   if run.already_published else "")
    log.info("published to %s: %s", out, message)
    if run.failed_count:
        message = f"{run.failed_count} reports failed: {message}"
        return Failed(name="ReportsFailed", message=message, data=ReportsFailed(message, run))
    return Completed(message=message, data=run)
