"""A run's summary and its counts, counted in one place: the flow's log and final state, the
command's summary, the Prefect artifacts and the validation page all read a RunSummary.

Its memory does not grow with the run's documents (issue 24 item 7): it keeps counts, the run's
report ids (their order, for what is read back), and in full only the first CAPS.kept failed reports in
the run's order and the first CAPS.kept in the validation page's order, with their findings: what the
summary, the artifacts and the page print. The JSON summary's other failed reports are read back
from the warehouse. The summary travels between tasks and in the flow's final state as a
RunSummary; RunSummary.of reads a plain dict of rows ({"reports": [...], "findings": [...],
"timings": {...}})."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from nianbao.model.records import BatchResult, Status

STATUSES = tuple(Status)


@dataclass(frozen=True)
class Caps:
    """How many failed reports a summary keeps in full: the command lists 20, the artifacts 200, the
    validation page names 1,000 (validation_report.CAPS.listed); the rest are counted."""

    kept: int = 1000


CAPS = Caps()
# one row per document: what the summary, artifacts and page tell of it
REPORT_SCHEMA = {
    "report_id": pl.String,
    "source_uri": pl.String,
    "source_format": pl.String,
    "status": pl.String,
    "year": pl.Int64,
    "agency": pl.String,
    "error_count": pl.Int64,
    "warning_count": pl.Int64,
    "skipped": pl.Boolean,
}
FINDING_SCHEMA = {"report_id": pl.String, "rule_id": pl.String, "severity": pl.String, "message": pl.String}
# the validation page's order of failed reports: invalid first, most errors first, then by source
PAGE_ORDER = dict(
    by=[pl.col("status"), pl.col("error_count").fill_null(0), pl.col("source_uri")],
    descending=[False, True, False],
    maintain_order=True,
)


def _frame(rows: pl.DataFrame | list[dict] | None, schema: dict) -> pl.DataFrame:
    """Rows as a frame of exactly `schema` (columns a list of dicts leaves out are null)."""
    if rows is None:
        return pl.DataFrame(schema=schema)
    if not isinstance(rows, pl.DataFrame):
        rows = pl.DataFrame([{k: r.get(k) for k in schema} for r in rows], schema=schema)
    return rows.select(
        [pl.col(k).cast(t) if k in rows.columns else pl.lit(None, t).alias(k) for k, t in schema.items()]
    )


class RunSummary:
    """A run's counts, and its first failed reports in full (see the module's docstring)."""

    def __init__(
        self,
        reports: pl.DataFrame | list[dict] | None = None,
        findings: pl.DataFrame | list[dict] | None = None,
        timings: dict[str, float] | None = None,
    ):
        self.timings: dict[str, float] = dict(timings or {})
        self._statuses: Counter = Counter()
        self._formats: Counter = Counter()
        self._years: dict = defaultdict(Counter)
        self._affected: Counter = Counter()  # (rule, severity) -> reports it found something in
        self._found: Counter = Counter()  # rule -> findings
        self._skipped = self._fetch_failures = 0
        self._ids: list[pl.Series] = []  # the reports' ids, a batch at a time, in the run's order
        self._first = _frame(None, REPORT_SCHEMA)  # the first CAPS.kept failed reports, the run's order
        self._worst = _frame(None, REPORT_SCHEMA)  # the first CAPS.kept in the page's order (PAGE_ORDER)
        self.findings = _frame(None, FINDING_SCHEMA)  # every finding of the reports kept
        reports, findings = _frame(reports, REPORT_SCHEMA), _frame(findings, FINDING_SCHEMA)
        self._statuses.update(dict(reports["status"].value_counts().iter_rows()))
        self._formats.update(dict(reports["source_format"].fill_null("unknown").value_counts().iter_rows()))
        for year, status, n in reports.group_by("year", "status").len().iter_rows():
            self._years[year][status] += n
        self._count(findings)
        self._skipped = int(reports["skipped"].fill_null(False).sum())
        self._fetch_failures = int(findings["message"].str.starts_with("fetch failed").sum())
        if reports.height:
            self._ids.append(reports["report_id"])
        failed = reports.filter(pl.col("status") != Status.VALID.value)
        self._keep(failed.head(CAPS.kept), failed.sort(**PAGE_ORDER).head(CAPS.kept), findings)

    def _count(self, findings: pl.DataFrame, sign: int = 1) -> None:
        counted = findings.group_by("rule_id", "severity").agg(pl.col("report_id").n_unique(), pl.len())
        for rule, severity, reports, n in counted.iter_rows():
            self._affected[rule, severity] += sign * reports
            self._found[rule] += sign * n

    def _keep(self, first: pl.DataFrame, worst: pl.DataFrame, findings: pl.DataFrame) -> None:
        self._first, self._worst = first, worst
        kept = pl.concat([first["report_id"], worst["report_id"]]).unique().implode()
        self.findings = findings.filter(pl.col("report_id").is_in(kept))

    @classmethod
    def of(cls, summary: RunSummary | dict) -> RunSummary:
        """A RunSummary, or one read from a plain dict of rows."""
        if isinstance(summary, RunSummary):
            return summary
        return cls(summary["reports"], summary["findings"], summary.get("timings", {}))

    def add(self, part: RunSummary | dict) -> None:
        """A batch's summary, added to the run's."""
        part = RunSummary.of(part)
        for stage, seconds in part.timings.items():
            self.timings[stage] = self.timings.get(stage, 0.0) + seconds
        self._statuses += part._statuses
        self._formats += part._formats
        for year, counts in part._years.items():
            self._years[year] += counts
        self._affected += part._affected
        self._found += part._found
        self._skipped += part._skipped
        self._fetch_failures += part._fetch_failures
        self._ids += part._ids
        if len(self._ids) > 64:  # fewer, longer chunks
            self._ids = [pl.concat(self._ids)]
        self._keep(
            pl.concat([self._first, part._first]).head(CAPS.kept),
            pl.concat([self._worst, part._worst]).sort(**PAGE_ORDER).head(CAPS.kept),
            pl.concat([self.findings, part.findings]),
        )

    def replace(self, rules: list[str], found: pl.DataFrame) -> None:
        """The findings of the `rules` (the checks across years) replaced by `found`: those of every
        report they re-checked."""
        found = _frame(found, FINDING_SCHEMA)
        for rule, severity in [k for k in self._affected if k[0] in rules]:
            del self._affected[rule, severity]
        for rule in rules:
            self._found.pop(rule, None)
        self._count(found)
        kept = self.findings.filter(~pl.col("rule_id").is_in(rules))
        self._keep(self._first, self._worst, pl.concat([kept, found]))

    @property
    def ids(self) -> pl.Series:
        """The run's report ids, in its order."""
        return pl.concat(self._ids) if self._ids else pl.Series("report_id", [], pl.String)

    def __len__(self) -> int:
        """Reports in the run."""
        return sum(self._statuses.values())

    @property
    def statuses(self) -> dict[str, int]:
        """Reports by status, every status named (0 where none)."""
        return {s: self._statuses.get(s, 0) for s in STATUSES}

    @property
    def failed_count(self) -> int:
        counts = self.statuses
        return counts[Status.INVALID] + counts[Status.UNREADABLE]

    @property
    def already_published(self) -> int:
        """Documents skipped as already published (not redone)."""
        return self._skipped

    def counts_text(self) -> str:
        """'1 valid, 1 invalid, 1 unreadable'."""
        return ", ".join(f"{n} {s}" for s, n in self.statuses.items())

    def formats(self) -> Counter:
        """Documents by format (unknown: it failed before its format was known)."""
        return Counter({k: n for k, n in self._formats.items() if n})

    def years(self) -> dict:
        """Reports by year, then status."""
        return {year: Counter(+counts) for year, counts in self._years.items()}

    def affected(self) -> dict[tuple[str, str], int]:
        """How many reports each (rule, severity) found something in."""
        return {k: n for k, n in self._affected.items() if n}

    def rules(self) -> tuple[dict[str, int], dict[str, int]]:
        """Per rule: the reports it found something in, and its findings."""
        reports: Counter = Counter()
        for (rule, _), n in self._affected.items():
            reports[rule] += n
        return +reports, +self._found

    def errors(
        self, show=lambda f: f"{f['rule_id']}: {f['message']}", of: list[str] | None = None
    ) -> dict[str, list[str]]:
        """Each kept report's error-level findings (of the reports `of` names, else all), as `show` writes one."""
        found = self.findings.filter(pl.col("severity") == "error")
        if of is not None:
            found = found.filter(pl.col("report_id").is_in(of))
        out: dict[str, list[str]] = {}
        for f in found.iter_rows(named=True):
            out.setdefault(f["report_id"], []).append(show(f))
        return out

    def failed(self) -> pl.DataFrame:
        """The first CAPS.kept invalid and unreadable reports, in the run's order."""
        return self._first

    def page_failed(self) -> pl.DataFrame:
        """The first CAPS.kept invalid and unreadable reports in the validation page's order (PAGE_ORDER)."""
        return self._worst

    def fetch_failures(self) -> int:
        return self._fetch_failures

    def failures(
        self, out: str | None = None, start: int = 0, limit: int | None = None
    ) -> list[tuple[dict, list[str]]]:
        """Failed reports (`limit` of them from `start`, in the run's order) with their error
        messages: the first CAPS.kept as the run kept them, the others read back from the warehouse `out`."""
        end = self.failed_count if limit is None else min(start + limit, self.failed_count)
        if end <= self._first.height:
            rows = self._first.slice(start, end - start)
            errors = self.errors(of=rows["report_id"].to_list())
        else:
            rows, errors = _stored_failures(out, self.ids, start, end - start)
        return [(r, errors.get(r["report_id"], [])) for r in rows.iter_rows(named=True)]


def _stored_failures(out, ids: pl.Series, start: int, n: int) -> tuple[pl.DataFrame, dict[str, list[str]]]:
    """Failed reports of the run (`ids`), `n` from `start` in the run's order, and their error
    messages (the checks across years' last), read from the warehouse `out`."""
    from nianbao import warehouse

    order = pl.LazyFrame({"report_id": ids}).with_row_index("at").unique("report_id", keep="first")
    rows = (
        warehouse.scan("reports", out)
        .filter(pl.col("status") != Status.VALID.value)
        .join(order, on="report_id")
        .sort("at")
        .slice(start, n)
        .drop("at")
        .collect()
    )
    rows = _frame(rows.with_columns(pl.col("year").cast(pl.Int64)), REPORT_SCHEMA)
    ids = rows["report_id"].implode()
    found = pl.concat([warehouse.scan("findings", out), warehouse.scan("findings", out, quarantine=True)]).filter(
        pl.col("report_id").is_in(ids) & (pl.col("severity") == "error")
    )
    from nianbao.model.template import template

    across = [r.id for r in template().rules if r.stage == "across"]
    found = found.sort(pl.col("rule_id").is_in(across), maintain_order=True).collect()
    errors: dict[str, list[str]] = {}
    for rid, rule, message in found.select("report_id", "rule_id", "message").iter_rows():
        errors.setdefault(rid, []).append(f"{rule}: {message}")
    return rows, errors


def summarise(frames: BatchResult, out: str, timings: dict[str, float] | None = None) -> RunSummary:
    """A batch's summary from its frames: its reports and findings; of the reports it did not redo
    (already published), what the warehouse `out` says."""
    from nianbao import warehouse

    columns = [c for c in REPORT_SCHEMA if c != "skipped"]
    reports = pl.concat(
        [
            frames.reports.select(columns).with_columns(skipped=pl.lit(False)),
            frames.skipped.select(columns).with_columns(skipped=pl.lit(True)),
        ]
    )
    findings = frames.findings.select(list(FINDING_SCHEMA))
    skipped = frames.skipped["report_id"].to_list()
    if skipped:  # what the warehouse says of the reports this run did not redo
        stored = warehouse.scan("findings", out)
        findings = pl.concat(
            [findings, stored.filter(pl.col("report_id").is_in(skipped)).select(list(FINDING_SCHEMA)).collect()]
        )
    return RunSummary(reports, findings, dict(timings or {}))


def next_step(run: RunSummary, out: str) -> str | None:
    """What to do after a run, or None when there is nothing to do."""
    if not run.failed_count:
        return None
    invalid = run.statuses[Status.INVALID]
    quarantine = f"{str(out).rstrip('/')}/quarantine" if "://" in str(out) else str(Path(out) / "quarantine")
    return (
        "open the validation report for the tables and sums"
        + (f"; invalid reports' cells are in {quarantine}" if invalid else "")
        + "; fix a source or its manifest row and run again (the rest is skipped)."
    )
