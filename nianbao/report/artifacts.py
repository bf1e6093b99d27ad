"""What a run tells operators in Prefect (tasks/ingest.py makes them artifacts): the counts table, the
reports that failed in Markdown, and the validation page, written in the warehouse (staged in a
local folder and copied up for a bucket)."""

from __future__ import annotations

import re
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

import polars as pl

from nianbao import warehouse
from nianbao.model import settings
from nianbao.model.schema import CELL_DATASETS, PARTITION
from nianbao.model.words import plural
from nianbao.report import validation_report
from nianbao.report.summary import RunSummary, next_step
from nianbao.warehouse import publish, storage


@dataclass(frozen=True)
class Caps:
    """How much of the failures the Markdown artifact shows; the validation page has them all."""

    errors: int = 10  # per failed report
    failed: int = 200  # failed reports listed


CAPS = Caps()


@dataclass(frozen=True)
class Artifacts:
    """The run's two artifacts: `ingest-counts` (a table) and `ingest-failures` (Markdown)."""

    table: list[dict]
    table_description: str
    markdown: str
    markdown_description: str


def make(run: RunSummary, run_id: str, out: str, seconds: float | None = None) -> Artifacts:
    """Counts by status, reports affected per rule, formats and fetch failures; the reports that
    failed; and the validation page they link to, written now."""
    count = lambda kind, counter, severity="": [  # noqa: E731
        {"kind": kind, "name": name, "severity": severity, "count": n} for name, n in sorted(counter.items())
    ]
    table = count("status", Counter({s: n for s, n in run.statuses.items() if n}))
    # reports affected per rule (a blank template's 176 findings are one report)
    table += [
        {"kind": "rule (reports)", "name": r, "severity": sev, "count": n}
        for (r, sev), n in sorted(run.affected().items())
    ]
    table += count("format", run.formats())
    table += count("skipped", Counter({"already published": run.already_published}))
    table += count("fetch", Counter({"fetch failures": run.fetch_failures()}), "error")
    page = validation_page(run, run_id, out)
    where = f"Warehouse {_md(str(out if storage.is_remote(out) else Path(out).resolve()))}" + (
        f", run took {seconds:.0f} s" if seconds is not None else ""
    )
    return Artifacts(
        table,
        f"Reports by status, reports affected per rule, documents by format; "
        f"run {run_id}; {where[0].lower()}{where[1:]}",
        failures_markdown(run, None, page, where, next_step(run, out)),
        f"Invalid and unreadable reports, run {run_id}",
    )


def failures_markdown(
    rows: RunSummary | pl.DataFrame | list[dict],
    findings: pl.DataFrame | list[dict] | None,
    page: Path | str,
    where: str,
    advice: str | None = None,
) -> str:
    """The `ingest-failures` artifact: each failed report, its source (a link only for an http(s) URL:
    a local path in Prefect's UI is a 404), its errors, cut with a count; then the validation report
    and what to do next. Every string a report or a source brings is escaped (_md): an agency named
    `[点此](javascript:…)` or `![x](http://host/p.png)` stays text in any Markdown viewer."""
    run = rows if isinstance(rows, RunSummary) else RunSummary(rows, findings)
    failed = run.failed()
    lines = [
        f"# Reports that failed ({run.failed_count} of {len(run)})"
        if run.failed_count
        else f"# {plural(len(run), 'report')}, all valid",
        "",
        f"{where}.",
        "",
        f"Validation report: {page_link(page)}",
        "",
    ]
    shown = failed.head(CAPS.failed)
    errors = run.errors(lambda f: f"`{f['rule_id']}`: {_md(f['message'])}", of=shown["report_id"].to_list())
    for r in shown.iter_rows(named=True):
        lines.append(
            f"- **{r['status']}** {_md(r['agency'] or '(no agency)')} {r['year'] or ''} — "
            f"{_source_md(r['source_uri'])} report {r['report_id'][:12]}"
        )
        found = errors.get(r["report_id"], [])
        lines += [f"  - {e}" for e in found[: CAPS.errors]]
        if len(found) > CAPS.errors:
            lines.append(f"  - … and {len(found) - CAPS.errors} more errors (see the validation report)")
    if run.failed_count > CAPS.failed:
        lines.append(f"- … and {run.failed_count - CAPS.failed} more failed reports (see the validation report)")
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


def validation_page(run: RunSummary, run_id: str, out: str) -> Path | storage.S3Path:
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
        failed = (  # the run's failed reports, as published
            warehouse.scan("reports", out)
            .filter(pl.col("report_id").is_in(run.ids.implode()) & (pl.col("status") != "valid"))
            .select("report_id")
            .collect()["report_id"]
            .implode()
        )
        for dataset, quarantine in [("findings", False), *((d, q) for d in CELL_DATASETS for q in (False, True))]:
            rows = warehouse.scan(dataset, out, quarantine).filter(pl.col("report_id").is_in(failed)).collect()
            for (year,), part in rows.group_by(PARTITION):
                path = publish.partition_dir(local, dataset, year, quarantine) / "part.parquet"
                publish.write_atomic(part.drop(PARTITION).to_arrow(), path)
        page = validation_report.write(run, run_id, local)
        for name in (page.name, f"{run_id}.json", "index.html"):
            (remote / name).write_bytes((local / "validation" / name).read_bytes())
    return remote / page.name
