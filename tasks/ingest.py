"""The ingest flow's tasks. Between tasks travel sources and run summaries (a RunSummary: report
rows and findings), never the datasets' frames."""
from __future__ import annotations

import re
import tempfile
import time
from collections import Counter
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote, urlsplit

import polars as pl
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.states import Cancelled

from nianbao import warehouse
from nianbao.acquire import discover, sources
from nianbao.model import settings
from nianbao.report import validation_report
from nianbao.run import pipeline, progress, stop
from nianbao.warehouse import publish, storage
from nianbao.model.schema import CELL_DATASETS, PARTITION
from nianbao.model.words import plural
from nianbao.report.summary import FINDING_SCHEMA, REPORT_SCHEMA, RunSummary, next_step


@task(name="ingest-batch", task_run_name="ingest-batch-{number}")
def ingest_batch(batch: list[sources.Source], number: int, run_id: str, out: str,
                 default_year: int | None = None, reprocess: bool = False, processes: bool = True) -> RunSummary:
    """Read, extract, normalise, validate and publish one batch; return its summary.

    Each batch publishes on its own (the warehouse lock serialises writers), so a run killed half
    way keeps what it finished, and the next run skips documents already published as they are.
    A batch of a run that is stopping ends Cancelled and publishes nothing (nianbao/run/stop.py).
    """
    root = storage.path(out)  # a folder or s3://bucket/prefix
    timings: dict[str, float] = {}
    try:
        stop.check(run_id)
        done = {} if reprocess else _published_at_start(str(root), run_id)
        frames = pipeline.process_batch(batch, run_id, default_year, published=done, processes=processes,
                                        timings=timings, raw_root=str(root), progress=progress.document_done)
        stop.check(run_id)  # no batch starts publishing once its run is stopping
    except stop.Stopped:
        return Cancelled(message=f"batch {number} not published: its run is stopping (the next run does it)")
    if frames["reports"].height:
        start = time.perf_counter()
        publish.publish(root, frames)
        timings["publish"] = time.perf_counter() - start
    summary = summarise(frames, root)
    summary.timings = timings
    return summary


@lru_cache(maxsize=1)
def _published_at_start(root: str, run_id: str) -> dict[str, dict]:
    """The warehouse's reports as this run (in this process) first saw them: read once, not per
    batch. A stale view only means a document published meanwhile is redone, which publishing
    handles (a report's old rows are always replaced)."""
    return publish.published(root)


def summarise(frames: dict[str, pl.DataFrame], root: Path | storage.S3Path) -> RunSummary:
    columns = [c for c in REPORT_SCHEMA if c != "skipped"]
    reports = pl.concat([frames["reports"].select(columns).with_columns(skipped=pl.lit(False)),
                         frames["skipped"].select(columns).with_columns(skipped=pl.lit(True))])
    findings = frames["findings"].select(list(FINDING_SCHEMA))
    skipped = frames["skipped"]["report_id"].to_list()
    if skipped:  # what the warehouse says of the reports this run did not redo
        stored = warehouse.scan("findings", root)
        findings = pl.concat([findings, stored.filter(pl.col("report_id").is_in(skipped))
                             .select(list(FINDING_SCHEMA)).collect()])
    return RunSummary(reports, findings)


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


ERRORS_SHOWN = 10  # per failed report in the markdown artifact; the validation page has them all
FAILED_SHOWN = 200  # failed reports listed in the markdown artifact


@task(name="report-artifacts", cache_policy=NO_CACHE)  # hashing its input, the run's summary, costs memory in N
def report_artifacts(summary: RunSummary | dict, run_id: str, out: str, seconds: float | None = None) -> None:
    """What operators read: counts by status, reports affected per rule, formats and fetch failures,
    the reports that failed, and a validation report page that opens offline."""
    run = RunSummary.of(summary)
    count = lambda kind, counter, severity="": [  # noqa: E731
        {"kind": kind, "name": name, "severity": severity, "count": n} for name, n in sorted(counter.items())]
    table = count("status", Counter({s: n for s, n in run.statuses.items() if n}))
    # reports affected per rule (a blank template's 176 findings are one report)
    table += [{"kind": "rule (reports)", "name": r, "severity": sev, "count": n}
              for (r, sev), n in sorted(run.affected().items())]
    table += count("format", run.formats())
    table += count("skipped", Counter({"already published": run.already_published}))
    table += count("fetch", Counter({"fetch failures": run.fetch_failures()}), "error")
    page = _validation_page(run, run_id, out)
    where = f"Warehouse {_md(str(out if storage.is_remote(out) else Path(out).resolve()))}" + (f", run took {seconds:.0f} s" if seconds is not None else "")
    create_table_artifact(key="ingest-counts", table=table,
                          description=f"Reports by status, reports affected per rule, documents by format; "
                                      f"run {run_id}; {where[0].lower()}{where[1:]}")
    markdown = failures_markdown(run.reports, run.findings, page, where, next_step(run, out))
    create_markdown_artifact(key="ingest-failures", markdown=markdown,
                             description=f"Invalid and unreadable reports, run {run_id}")


def failures_markdown(rows: pl.DataFrame | list[dict], findings: pl.DataFrame | list[dict], page: Path | str,
                      where: str, advice: str | None = None) -> str:
    """The `ingest-failures` artifact: each failed report, its source (a link only for an http(s) URL:
    a local path in Prefect's UI is a 404), its errors, cut with a count; then the validation report
    and what to do next. Every string a report or a source brings is escaped (_md): an agency named
    `[点此](javascript:…)` or `![x](http://host/p.png)` stays text in any Markdown viewer."""
    run = RunSummary(rows, findings)
    failed = run.failed()
    lines = [f"# Reports that failed ({failed.height} of {len(run)})" if failed.height
             else f"# {plural(len(run), 'report')}, all valid", "", f"{where}.", "", f"Validation report: {page_link(page)}", ""]
    shown = failed.head(FAILED_SHOWN)
    errors = run.errors(lambda f: f"`{f['rule_id']}`: {_md(f['message'])}", of=shown["report_id"].to_list())
    for r in shown.iter_rows(named=True):
        lines.append(f"- **{r['status']}** {_md(r['agency'] or '(no agency)')} {r['year'] or ''} — "
                     f"{_source_md(r['source_uri'])} report {r['report_id'][:12]}")
        found = errors.get(r["report_id"], [])
        lines += [f"  - {e}" for e in found[:ERRORS_SHOWN]]
        if len(found) > ERRORS_SHOWN:
            lines.append(f"  - … and {len(found) - ERRORS_SHOWN} more errors (see the validation report)")
    if failed.height > FAILED_SHOWN:
        lines.append(f"- … and {failed.height - FAILED_SHOWN} more failed reports (see the validation report)")
    if advice:
        lines += ["", f"**Next:** {_md(advice)}"]
    return "\n".join(lines)


def page_link(page: Path | str) -> str:
    """The validation report in Markdown: a link where NIANBAO_VALIDATION_URL serves WAREHOUSE/validation/,
    else its s3:// URL or its path on the worker's disk, as text."""
    name = Path(str(page)).name
    base = settings.settings().validation_url
    if base:
        return f"[{_md(name)}]({_url(base.rstrip('/') + '/' + name)})"
    return _md(str(page if storage.is_remote(str(page)) else Path(page).resolve()))


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()!|~<>&])")


def _md(text: str) -> str:
    """Untrusted text as literal Markdown: the punctuation that makes links, images, code, emphasis,
    tables or HTML is backslash-escaped, line breaks become spaces (a line could start a heading
    or a list)."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def _url(uri: str) -> str:
    """A link target that cannot leave its parentheses: parentheses, brackets, spaces, quotes, angle
    brackets and backslashes percent-encoded."""
    return quote(uri, safe=":/?#@!$&*+,;=%-._~")


def _source_md(uri: str) -> str:
    """A source: a link for an http(s) URL we fetched, its text escaped; anything else as text."""
    parts = urlsplit(str(uri))
    if parts.scheme in ("http", "https") and parts.netloc:
        return f"[{_md(uri)}]({_url(str(uri))})"
    return _md(uri)


def _validation_page(run: RunSummary, run_id: str, out: str) -> Path | storage.S3Path:
    """WAREHOUSE/validation/: written in place for a folder; for a bucket, made in a local folder
    holding the run's failed reports' rows and the earlier runs' counts, then copied up (page,
    counts, index)."""
    if not storage.is_remote(out):
        return validation_report.write(run, run_id, Path(out))
    remote = storage.path(out) / "validation"
    with tempfile.TemporaryDirectory(prefix="nianbao-validation-") as tmp:
        local = Path(tmp)
        (local / "validation").mkdir()
        for counts in remote.glob("*.json"):
            (local / "validation" / counts.name).write_bytes(counts.read_bytes())
        failed = run.failed()["report_id"].implode()
        for dataset, quarantine in [("findings", False), *((d, q) for d in CELL_DATASETS for q in (False, True))]:
            rows = warehouse.scan(dataset, out, quarantine).filter(pl.col("report_id").is_in(failed)).collect()
            for (year,), part in rows.group_by(PARTITION):
                path = publish.partition_dir(local, dataset, year, quarantine) / "part.parquet"
                publish.write_atomic(part.drop(PARTITION).to_arrow(), path)
        page = validation_report.write(run, run_id, local)
        for name in (page.name, f"{run_id}.json", "index.html"):
            (remote / name).write_bytes((local / "validation" / name).read_bytes())
    return remote / page.name
