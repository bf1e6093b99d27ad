"""The ingestion flow: sources -> batches (read, extract, normalise, validate, publish) -> artifacts.

It ends Failed when any report is invalid or unreadable, after publishing everything: valid
reports to the warehouse, invalid ones to quarantine, every report and finding to the catalogue.
That outcome is the state `ReportsFailed`, its message the summary: an outcome, not a crash.
A run that is stopped (Ctrl-C, Cancel in Prefect's UI, its worker stopped) publishes nothing about the
documents it had not finished (nianbao/run/stop.py); cancelled, it ends Cancelled.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import gc
import logging
import threading
import time
import uuid
from contextlib import contextmanager, nullcontext
from typing import Annotated, Literal

from prefect import flow, get_run_logger
from prefect.context import FlowRunContext
from prefect.events import emit_event
from prefect.runtime import flow_run
from prefect.states import Cancelled, Completed, Failed
from pydantic import Field

from nianbao.acquire.sources import resolve
from nianbao.check.rules import year_range
from nianbao.model.errors import DocumentError, UsageError, WarehouseError
from nianbao.model.settings import settings
from nianbao.model.words import plural
from nianbao.report.summary import RunSummary
from nianbao.run import allocators, stop
from nianbao.run.plan import Plan
from nianbao.run.sizes import BATCHES
from nianbao.warehouse import publish
from nianbao.warehouse.publish import probe, settle
from tasks.across import check_across_years
from tasks.indicators import compute_indicators
from tasks.ingest import discover_reports, ingest_batch, prefect_sent, report_artifacts
from tasks.site import build_site

CANCEL_POLL = 1.0  # seconds between looks at the flow run's state: how soon Cancel in the UI stops a run


class ReportsFailed(DocumentError):
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


# A run that cannot start for its configuration: the fix, told in the state's one line.
FIXES = {
    UsageError: "fix the run's `sources` (or the manifest row) and run again",
    WarehouseError: "fix `out` (a writable folder, or s3://bucket/prefix, with room) and run again",
}


class _OutcomeNotCrash(logging.Filter):
    """Prefect's engine process (a worker's run) re-raises a Failed state's data after the run
    ended and logs it as "Engine execution exited with unexpected exception" with a traceback.
    For ReportsFailed and a configuration error that record is noise: the state's message tells it."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], (ReportsFailed, *FIXES)))


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
def ingest(
    sources: list[str] | Plan,
    out: str = "data/warehouse",
    year: Annotated[int, Field(ge=year_range()[0])] | Literal["last"] | None = None,
    batch_size: Annotated[int, Field(ge=1)] = BATCHES.size,
    reprocess: bool = False,
    processes: bool = True,
    listings: list[str] | None = None,
    site: bool = False,
    site_out: str | None = None,
    dask_address: str | None = None,
):
    """Ingest every report named by `sources` (files, directories, manifests, URLs) into `out`;
    or of the Plan the command resolved them to (nianbao/run/plan.py).

    `year`: the report year where a document tells none ("last": last year, when the run starts).
    `reprocess`: redo documents the
    warehouse already holds from this pipeline version (by default they are skipped).
    `processes`: extract PDF/Word/HTML in worker processes under a time limit (the default).
    `listings`: 年度报告 listing pages whose reports are discovered and ingested too: URLs, or CSV
    files of `listing_url,region_code` rows (the region code of each listing's portal links its
    bodies' reports across years).
    `site`: then rebuild the static site of the indicators into `site_out` (default: `site` beside
    the warehouse), linked from the run's artifacts.
    `dask_address`: run the batches on the Dask cluster whose scheduler is there (tcp://host:8786),
    as `nianbao ingest --dask` does: how a deployment points at a cluster.
    """
    started = time.monotonic()
    log = get_run_logger()
    run_id = str(flow_run.id or "local")
    _events_started(run_id)
    if year == "last":
        year = dt.date.today().year - 1
        log.info("year %d where a document tells none (last year)", year)
    try:
        probe(out)  # an unwritable or full warehouse fails the run now, before any document is read
        plan = Plan.of(sources)
        if listings:
            plan = plan.plus(resolve([discover_reports(listings, out, run_id)]))
        if plan.published is None:  # the warehouse's reports as the run finds them, read once
            plan = plan.holding(published={} if reprocess else publish.published(out))
    except tuple(FIXES) as e:  # the run's configuration, not a bug: one line with the fix, no traceback
        message = f"{e}: {FIXES[next(k for k in FIXES if isinstance(e, k))]}"
        log.error("%s", message)
        return Failed(message=message, data=e)
    batches = plan.batches(batch_size)
    log.info(
        "%s in %s of up to %d",
        plural(len(plan.documents), "document"),
        plural(len(batches), "batch", "batches"),
        batch_size,
    )
    run, published = RunSummary(), 0
    try:
        with _stopped_when_cancelled(run_id, log), _batch_runner(dask_address) as runner:
            futures = [
                runner.submit(
                    ingest_batch,
                    dict(
                        batch=b,
                        number=n,
                        run_id=run_id,
                        out=out,
                        default_year=year,
                        reprocess=reprocess,
                        processes=processes,
                    ),
                )
                for n, b in enumerate(batches)
            ]
            for n in range(len(futures)):
                futures[n].wait()
                if futures[n].state.is_cancelled():  # stopped unpublished: so is the run (and its other batches)
                    stop.request(run_id)
                    futures[n] = None
                    continue
                part, futures[n] = futures[n].result(), None  # a finished batch's future (and result) is let go
                _unlink(part)
                run.add(part)
                counts, part = part.counts_text(), None
                # ...and collected now: Prefect's engine leaves each task run in reference cycles that hold its
                # result, which the collector's oldest generation would free ever later as the run grows; what it
                # freed returned (a 100,000-row manifest: up to 23 MiB a time)
                _given_back()
                published += 1
                log.info("batch %d/%d published: %s", n + 1, len(futures), counts)
    except BaseException:  # Ctrl-C, a worker's SIGTERM, a batch that broke: those in flight publish nothing
        stop.request(run_id)
        raise
    if stop.requested(run_id):
        settle(out)
        message = f"cancelled: {published} of {len(batches)} batches published, {run.counts_text()}"
        log.warning(message)
        return Cancelled(message=message)
    # each stage of the run's end starts on what the one before freed given back, not on its peak
    run = check_across_years(run, run_id, out)
    _given_back()
    # the warehouse's index written, as the batches and the checks across years (the last stage that changes
    # the data it indexes) left it: the index this process held is let go before the indicators run
    settle(out)
    _given_back()
    compute_indicators(run, out)
    _given_back()
    report_artifacts(run, run_id, out, seconds=time.monotonic() - started)
    if site:
        build_site(out, site_out)
    message = f"{plural(len(run), 'report')}: {run.counts_text()}" + (
        f" ({run.already_published} already published, skipped)" if run.already_published else ""
    )
    log.info("published to %s: %s", out, message)
    if run.failed_count:
        return Failed(name="ReportsFailed", message=message, data=ReportsFailed(message, run))
    return Completed(message=message, data=run)


def _events_started(run_id: str) -> None:
    """The run's first event, sent outside any task. Prefect sends a process's events from one worker,
    started by the first event sent: its asyncio task keeps the sender's context for the process's
    life, and handling that event reads the run's flow (cached after) with the sender's context set,
    leaving timers that hold it ~30 s. Without flow run heartbeats (or when a batch beat the heartbeat
    thread to it) the sender was batch 0's task run: its context, and through it the batch's summary,
    stayed alive (tests/run/test_flat.py)."""
    emit_event(event="nianbao.ingest.started", resource={"prefect.resource.id": f"prefect.flow-run.{run_id}"})


def _given_back() -> None:
    """What a stage freed, returned to the system before the next one runs: its garbage in cycles
    (Prefect's task run, its result) collected, then the allocators' free memory (allocators.give_back)."""
    gc.collect()
    allocators.give_back()


def _unlink(result) -> None:
    """Prefect links each task's result to a copy of its final state in the flow run's context (so
    that a result passed to another task records where it came from), and drops the link only when
    that result is looked up: a batch's summary is added to the run's, never passed on, so each
    batch left one State (~1.2 KiB, its details and their field sets) until the run's end."""
    context = FlowRunContext.get()
    if context is not None:
        context.run_results.pop(id(result), None)


@contextmanager
def _batch_runner(dask_address: str | None):
    """The flow's task runner, or one on the Dask cluster the run names (what `ingest_batch.submit`
    does, to another runner: the task runs are the flow run's all the same). On a Dask cluster, once
    the batches are done, its workers' Prefect logs and events are sent (prefect_sent) while the
    run's server still answers."""
    with (
        nullcontext(FlowRunContext.get().task_runner)
        if not dask_address
        else task_runner(dask_address=dask_address) as runner
    ):
        try:
            yield runner
        finally:
            if type(runner).__name__ == "DaskTaskRunner":  # (prefect_dask imported only for one)
                try:
                    runner.client.run(prefect_sent)
                except Exception as e:  # a cluster gone takes its logs with it; the run's outcome stands
                    get_run_logger().warning("the Dask workers' last logs not sent: %s", e)


@contextmanager
def _stopped_when_cancelled(run_id: str, log: logging.Logger):
    """Cancel in Prefect's UI (the flow run set Cancelling through the API) stops the run: a Prefect
    worker's run also gets its SIGTERM, but the command's own run has nobody else to tell it."""
    if run_id == "local":
        yield
        return
    done = threading.Event()

    def watch():
        from prefect.client.orchestration import get_client

        with get_client(sync_client=True) as client:
            while not done.wait(CANCEL_POLL):
                try:
                    state = client.read_flow_run(uuid.UUID(run_id)).state
                except Exception:  # noqa: BLE001 (the server busy a moment: look again)
                    continue
                if state is not None and (state.is_cancelling() or state.is_cancelled()):
                    log.warning("the flow run was cancelled: stopping; the batches in flight publish nothing")
                    stop.request(run_id)
                    return

    # in the flow's context: Prefect's settings (the command's temporary server) live in contextvars
    threading.Thread(
        target=contextvars.copy_context().run, args=(watch,), name="nianbao-cancelled", daemon=True
    ).start()
    try:
        yield
    finally:
        done.set()
