"""read -> extract -> match -> normalise for one document, and validation for a batch of them.

Plain functions over plain data: the Prefect tasks in tasks/ wrap them, tests call them directly.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Callable, Literal

import polars as pl
import pyarrow as pa

from nianbao import __version__
from nianbao.acquire import linked
from nianbao.acquire.fetch import redact
from nianbao.acquire.sources import Read as ReadBytes
from nianbao.acquire.sources import Source, read
from nianbao.check import validate
from nianbao.extract import not_a_document, sniff
from nianbao.interpret import agencies, metadata, normalise
from nianbao.interpret.match import Matched, value_text
from nianbao.interpret.reading import extract_and_match
from nianbao.model.errors import Unreadable
from nianbao.model.findings import Finding
from nianbao.model.records import BatchResult, ReportRow, Status, report_row
from nianbao.model.schema import CELL_DATASETS, schema
from nianbao.run import isolate, stop

# Columns the rules need beside the published ones (dropped on publish).
_WORKING = [("number", pa.float64()), ("where", pa.string()), ("unread", pa.bool_())]


@dataclass
class Report:
    row: ReportRow  # the `reports` row
    cells: dict[str, list[dict]] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    @property
    def readable(self) -> bool:
        return self.row.status != Status.UNREADABLE


@dataclass
class Read:
    """What reading a source came to: bytes to extract, a report the warehouse already holds as this
    pipeline would make it (skipped), or a document that cannot be read (and why)."""

    status: Literal["extract", "skipped", "unreadable"]
    row: ReportRow  # the `reports` row so far; when skipped, the stored one
    data: bytes | None = None  # to extract
    reason: str | None = None  # unreadable
    linked: tuple = ()  # an HTML page's pictures, brought from beside it (nianbao.acquire.linked)
    extracted: isolate.Pending | None = None  # its extraction, begun ahead

    @property
    def job(self) -> tuple:
        """extract_and_match's arguments."""
        return (self.data, self.row.source_format, *((self.linked,) if self.linked else ()))


def process_document_bytes(row: ReportRow, data: bytes, overrides: dict, linked: tuple = ()) -> Report:
    """One document's bytes to its report row, cells and extraction findings, in this process."""
    try:
        matched = extract_and_match(data, row.source_format, linked)
    except Unreadable as e:
        matched = e
    except Exception as e:  # an extractor's bug on hostile input must not stop the batch
        matched = Unreadable(f"extraction failed: {type(e).__name__}: {e}")
    return _finish(row, matched, overrides)


@dataclass(frozen=True)
class Got:
    """A source read once: its bytes (or why there are none), their digest (the report_id) and
    when they were read; `extracted`, its extraction when begun ahead (the command's first batches),
    whose bytes are then let go (the extraction has them), its format kept."""

    read: ReadBytes | None
    reason: str | None = None  # unreadable
    report_id: str | None = None
    fetched_at: dt.datetime | None = None
    extracted: isolate.Pending | None = None
    format: str | None = None  # sniffed, when extraction was begun ahead


def get(source: Source, store=None, allow_private: bool | None = None) -> Got:
    """The document's bytes, read and hashed: the only place a run does either (a fetch's digest
    is the fetcher's)."""
    try:
        got = read(source, store=store, allow_private=allow_private)
    except Unreadable as e:
        return Got(None, str(e))
    return Got(
        got, report_id=got.sha256 or hashlib.sha256(got.data).hexdigest(), fetched_at=dt.datetime.now(dt.timezone.utc)
    )


def _read(
    source: Source,
    run_id: str,
    default_year: int | None,
    published: dict[str, dict] | None = None,
    store=None,
    got: Got | None = None,
    allow_private: bool | None = None,
) -> Read:
    """The report row so far and the document's bytes, or why there is nothing to extract (`got`:
    the source as already read, else it is read now)."""
    now = dt.datetime.now(dt.timezone.utc)
    o = source.overrides
    row = ReportRow(
        year=o.get("year", default_year),
        agency=o.get("agency"),
        region_code=o.get("region_code"),
        title=o.get("title"),
        source_uri=redact(source.uri),
        source_format=o.get("format"),
        template_version="unknown",
        status=Status.UNREADABLE,
        read_by="text",
        error_count=0,
        warning_count=0,
        published_on=_date(o.get("published_on")),
        ingested_at=now,
        run_id=run_id,
        pipeline_version=__version__,
    )
    got = got or get(source, store, allow_private)
    if got.read is None:
        # No bytes, so no content address: the id is that of the source, so a re-run replaces it.
        row = replace(row, report_id=hashlib.sha256(f"unread:{row.source_uri}".encode()).hexdigest())
        return Read("unreadable", row, reason=got.reason)
    row = replace(row, fetched_at=got.fetched_at, report_id=got.report_id)
    stored = (published or {}).get(row.report_id)
    if stored is not None and _up_to_date(stored, o):
        return Read("skipped", report_row(stored))
    fmt = got.format or sniff(got.read.data, got.read.name, got.read.content_type, o.get("format"))
    row = replace(row, source_format=fmt or "unknown")
    if fmt is None:
        return Read("unreadable", row, reason=not_a_document(got.read.data, got.read.name))
    return Read(
        "extract",
        row,
        got.read.data,
        extracted=got.extracted,
        linked=linked.gather(source, got.read) if fmt == "html" and got.extracted is None else (),
    )


def _up_to_date(stored: dict, overrides: dict) -> bool:
    """Current (bytes a source serves again are its current version again), same pipeline version
    and nothing the manifest now says differently."""
    if stored.get("superseded_by") is not None or stored["pipeline_version"] != __version__:
        return False
    return all(str(stored.get(k) or "") == str(v) for k, v in overrides.items() if k != "format")


def _in_worker(r: Read) -> bool:
    """Binary formats are extracted in a worker process under a time limit; text dumps (linear-time
    parsing) in this one."""
    return r.status == "extract" and r.row.source_format != "txt"


def read_ahead(sources: list[Source], published: dict[str, dict]) -> dict[str, Got]:
    """Read these documents now and begin extracting them in the worker processes, before their
    batch asks: the command does it for the first batches while Prefect's server starts, and hands
    what it got to the flow (nianbao/run/plan.py); GX gets ready meanwhile. Local files only (a
    fetch is the flow's: retries, the raw store); documents `published` already holds as they are
    are not extracted."""
    got = {s.uri: get(s) for s in sources if not s.is_url}
    todo = [
        (s.uri, r)
        for s in sources
        if s.uri in got and _in_worker(r := _read(s, "ahead", None, published, got=got[s.uri]))
    ]
    begun = isolate.ahead(extract_and_match, [r.job for _, r in todo])
    for (uri, r), pending in zip(todo, begun):  # held until the run's end: without the bytes the workers have
        got[uri] = replace(
            got[uri], extracted=pending, format=r.row.source_format, read=replace(got[uri].read, data=b"")
        )
    validate.warm()
    return got


# where an unread cell stands that was never read as anything: a row or section not found in a
# scan (nianbao.interpret.trust), one seen but not placed (nianbao.interpret.match)
_NO_FIGURE = ("not found", "printed, not read")


def _finish(row: ReportRow, matched: Matched | Unreadable, overrides: dict) -> Report:
    if isinstance(matched, Unreadable):
        return _unreadable(row, str(matched))
    if not any(
        value_text(c.raw) or (c.unread and c.where not in _NO_FIGURE)
        for c in [*matched.applications, *matched.reviews_litigation]
    ):
        # the template's tables with no figure in them: a form, not an agency's blank report (a
        # figure read but not trusted, emptied by nianbao.interpret.trust, is still printed)
        return _unreadable(row, "a blank template, not a report: sections 三 and 四 print no figures")
    meta = metadata.read(matched.paragraphs, matched.page_title, row.source_uri)
    findings = list(matched.findings)
    found = {key: getattr(meta, key) for key in ("agency", "title", "published_on") if getattr(row, key) is None}
    if "year" not in overrides and meta.year is not None:
        found["year"] = meta.year
        findings += meta.findings
    row = replace(
        row,
        **found,
        template_version=matched.template_version,
        read_by="ocr" if any(f.rule_id == "extraction.ocr" for f in findings) else "text",
        status=Status.VALID,
    )  # until validation says otherwise
    return Report(row, normalise.cell_rows(row.report_id, row.year, matched), findings)


def _unreadable(row: ReportRow, reason: str) -> Report:
    return Report(row, {}, [Finding.of("document.unreadable", reason, [], "template tables")])


def _date(value) -> dt.date | None:
    if value in (None, "") or isinstance(value, dt.date):
        return value or None
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None


def frame(dataset: str, rows: list[dict] | list[ReportRow], working: bool = False) -> pl.DataFrame:
    s = schema(dataset)
    if working:
        s = pa.schema(list(s) + [pa.field(n, t) for n, t in _WORKING])
    if dataset == "reports":  # records, column by column
        return pl.from_arrow(pa.Table.from_pydict({n: [getattr(r, n) for r in rows] for n in s.names}, schema=s))
    return pl.from_arrow(pa.Table.from_pylist(rows, schema=s))


def validate_batch(reports: list[Report], run_id: str) -> BatchResult:
    """Run every rule over the batch; set each report's status; return the batch's frames."""
    readable = [r for r in reports if r.readable]
    if readable:
        cells = {d: frame(d, [c for r in readable for c in r.cells.get(d, [])], working=True) for d in CELL_DATASETS}
        judged = validate.validate(cells, frame("reports", [r.row for r in readable]))
        for r in readable:
            r.findings += judged[r.row.report_id]
    finding_rows = []
    for r in reports:
        errors = sum(f.severity == "error" for f in r.findings)
        status = (Status.INVALID if errors else Status.VALID) if r.readable else r.row.status
        r.row = replace(
            agencies.identify(r.row), error_count=errors, warning_count=len(r.findings) - errors, status=status
        )
        finding_rows += [dict(f.row(r.row.report_id, r.row.year), run_id=run_id) for f in r.findings]
    return BatchResult(
        frame("reports", [r.row for r in reports]),
        frame("findings", finding_rows),
        *(frame(d, [c for r in readable for c in r.cells.get(d, [])]) for d in CELL_DATASETS),
    )


def process_batch(
    sources: list[Source],
    run_id: str,
    default_year: int | None = None,
    time_limit: float | None = None,
    published: dict[str, dict] | Callable[[set[str]], dict[str, dict]] | None = None,
    processes: bool = True,
    timings: dict[str, float] | None = None,
    raw_root: str | None = None,
    progress: Callable[[], None] | None = None,
    ahead: dict[str, Got] | None = None,
    allow_private: bool | None = None,
) -> BatchResult:
    """A batch end to end. Binary formats are extracted in a worker process under a time limit
    (processes=False: in this thread, without a limit; for benchmarks); text dumps (linear-time
    parsing) stay in this process. Documents `published` already holds (same bytes, same pipeline
    version, same manifest values) are not redone: they come back in the frame "skipped" as the
    warehouse has them (`published` a function: called once the batch's documents are read, with
    their report ids, for what the warehouse holds of them). `timings` accumulates seconds per
    stage. Fetched documents are kept in the raw store under `raw_root` (the warehouse), their
    attempts in its `fetches` dataset.
    `progress()` is called once per document as it is done (a progress bar's tick). `ahead`: sources
    already read (by uri), their extraction perhaps begun (read_ahead). `allow_private`: fetch URLs on
    private addresses (default: NIANBAO_ALLOW_PRIVATE). Once the run
    `run_id` is stopping, raises stop.Stopped: the batch is not finished (see nianbao/run/stop.py)."""
    from nianbao.acquire.rawstore import RawStore

    tick = progress or (lambda: None)
    clock = _Clock(timings)
    store = RawStore.open(raw_root) if raw_root is not None else None
    with clock("read"):
        try:
            gots = [(ahead or {}).get(s.uri) for s in sources]
            if callable(published):  # looked up by the documents' report ids: read them first
                gots = [g or get(s, store, allow_private) for s, g in zip(sources, gots)]
                published = published({g.report_id for g in gots if g.report_id is not None})
            reads = [_read(s, run_id, default_year, published, store, g, allow_private) for s, g in zip(sources, gots)]
        finally:
            if store is not None:
                store.flush()  # the batch's attempts, even after a crash
    skipped = [r.row for r in reads if r.status == "skipped"]
    todo = [(s, r) for s, r in zip(sources, reads) if r.status != "skipped"]
    for _ in range(sum(r.status != "extract" for r in reads)):
        tick()  # skipped, or unreadable before extraction
    with clock("extract"):
        if todo:
            validate.warm()  # the batch's validation gets ready while its documents are extracted
        stopping = lambda: stop.requested(run_id)  # noqa: E731
        binary = [i for i, (_, r) in enumerate(todo) if processes and _in_worker(r) and r.extracted is None]
        isolated = dict(
            zip(
                binary,
                isolate.run(
                    extract_and_match,
                    [todo[i][1].job for i in binary],
                    time_limit=time_limit,
                    on_done=tick,
                    stopping=stopping,
                ),
            )
        )
        for i, (_, r) in enumerate(todo):  # begun ahead: waited for, not done again
            if r.extracted is not None and r.status == "extract":
                isolated[i] = r.extracted.result(stopping)
                tick()
        reports = []
        for i, (source, r) in enumerate(todo):
            if r.status == "unreadable":
                reports.append(_unreadable(r.row, r.reason))
            elif i in isolated:
                reports.append(_finish(r.row, isolated[i], source.overrides))
            else:
                reports.append(process_document_bytes(r.row, r.data, source.overrides, r.linked))
                tick()
    # The same bytes under two names are one report (the key is report_id): the first readable
    # reading of them, never a worse one (a copy whose name misled us).
    unique: dict[str, Report] = {}
    for r in reports:
        kept = unique.get(r.row.report_id)
        if kept is None or (r.readable and not kept.readable):
            unique[r.row.report_id] = r
    unique = list(unique.values())
    stop.check(run_id)  # a stopping run's batch goes no further
    with clock("validate"):
        frames = validate_batch(unique, run_id)
    return replace(frames, skipped=frame("reports", skipped))


class _Clock:
    def __init__(self, totals: dict[str, float] | None):
        self.totals = totals if totals is not None else {}

    @contextmanager
    def __call__(self, stage: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.totals[stage] = self.totals.get(stage, 0.0) + time.perf_counter() - start


def ingest_batch(
    batch,
    run_id: str,
    out: str,
    default_year: int | None = None,
    reprocess: bool = False,
    processes: bool = True,
    timings: dict[str, float] | None = None,
) -> BatchResult:
    """Read, extract, normalise, validate and publish one batch (a Plan's, nianbao/run/plan.py);
    return its frames.

    Each batch publishes on its own (the warehouse lock serialises writers), so a run killed half
    way keeps what it finished, and the next run skips documents already published as they are.
    A batch of a run that is stopping raises stop.Stopped and publishes nothing (nianbao/run/stop.py).
    The warehouse's reports as the run found them come with the batch; a batch without them (on a
    Dask worker) reads those of its own documents itself."""
    from nianbao.warehouse import publish, storage

    root = storage.path(out)  # a folder or s3://bucket/prefix
    timings = timings if timings is not None else {}
    stop.check(run_id)
    done = {} if reprocess else batch.published
    if done is None:
        done = lambda ids: publish.published(root, ids)  # noqa: E731
    frames = process_batch(
        batch.documents,
        run_id,
        default_year,
        published=done,
        processes=processes,
        timings=timings,
        raw_root=str(root),
        progress=batch.progress,
        ahead=batch.ahead,
        allow_private=batch.allow_private,
    )
    stop.check(run_id)  # no batch starts publishing once its run is stopping
    if frames.reports.height:
        start = time.perf_counter()
        publish.publish(root, frames)
        timings["publish"] = time.perf_counter() - start
    return frames
