"""A run's summary and its counts, counted in one place: the flow's log and final state, the
command's summary, the Prefect artifacts and the validation page all read a RunSummary.

Its report rows and findings are columnar frames, not Python dicts: at 10,000 documents a run
holds ~100,000 findings, and the flow process's memory must not grow with them (issue 11). The
summary travels between tasks and in the flow's final state as a RunSummary; `as_dict()` gives the
plain dict ({"reports": [...], "findings": [...], "timings": {...}}) and RunSummary.of reads one."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from nianbao.model.records import BatchResult, Status

STATUSES = tuple(Status)
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


def _frame(rows: pl.DataFrame | list[dict] | None, schema: dict) -> pl.DataFrame:
    """Rows as a frame of exactly `schema` (columns a list of dicts leaves out are null)."""
    if rows is None:
        return pl.DataFrame(schema=schema)
    if not isinstance(rows, pl.DataFrame):
        rows = pl.DataFrame([{k: r.get(k) for k in schema} for r in rows], schema=schema)
    return rows.select(
        [pl.col(k).cast(t) if k in rows.columns else pl.lit(None, t).alias(k) for k, t in schema.items()]
    )


@dataclass
class RunSummary:
    reports: pl.DataFrame = None  # one row per document (REPORT_SCHEMA), in the run's order
    findings: pl.DataFrame = None  # report_id, rule_id, severity, message
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage, summed over batches

    def __post_init__(self):
        self.reports = _frame(self.reports, REPORT_SCHEMA)
        self.findings = _frame(self.findings, FINDING_SCHEMA)

    @classmethod
    def of(cls, summary: RunSummary | dict) -> RunSummary:
        """A RunSummary, or one read from a plain dict of rows."""
        if isinstance(summary, RunSummary):
            return summary
        return cls(summary["reports"], summary["findings"], summary.get("timings", {}))

    def as_dict(self) -> dict:
        return {"reports": self.reports.to_dicts(), "findings": self.findings.to_dicts(), "timings": self.timings}

    def add(self, part: RunSummary | dict) -> None:
        """A batch's summary, added to the run's."""
        part = RunSummary.of(part)
        self.reports = pl.concat([self.reports, part.reports], rechunk=False)
        self.findings = pl.concat([self.findings, part.findings], rechunk=False)
        for stage, seconds in part.timings.items():
            self.timings[stage] = self.timings.get(stage, 0.0) + seconds

    def __len__(self) -> int:
        """Reports in the run."""
        return self.reports.height

    @property
    def statuses(self) -> dict[str, int]:
        """Reports by status, every status named (0 where none)."""
        counted = dict(self.reports["status"].value_counts().iter_rows())
        return {s: counted.get(s, 0) for s in STATUSES}

    @property
    def failed_count(self) -> int:
        counts = self.statuses
        return counts[Status.INVALID] + counts[Status.UNREADABLE]

    @property
    def already_published(self) -> int:
        """Documents skipped as already published (not redone)."""
        return int(self.reports["skipped"].fill_null(False).sum())

    def counts_text(self) -> str:
        """'1 valid, 1 invalid, 1 unreadable'."""
        return ", ".join(f"{n} {s}" for s, n in self.statuses.items())

    def formats(self) -> Counter:
        """Documents by format (unknown: it failed before its format was known)."""
        return Counter(dict(self.reports["source_format"].fill_null("unknown").value_counts().iter_rows()))

    def years(self) -> dict:
        """Reports by year, then status."""
        years: dict = defaultdict(Counter)
        for year, status, n in self.reports.group_by("year", "status").len().iter_rows():
            years[year][status] = n
        return years

    def affected(self) -> dict[tuple[str, str], int]:
        """How many reports each (rule, severity) found something in."""
        counted = self.findings.group_by("rule_id", "severity").agg(pl.col("report_id").n_unique())
        return {(rule, severity): n for rule, severity, n in counted.iter_rows()}

    def errors(
        self, show=lambda f: f"{f['rule_id']}: {f['message']}", of: list[str] | None = None
    ) -> dict[str, list[str]]:
        """Each report's error-level findings (of the reports `of` names, else all), as `show` writes one."""
        found = self.findings.filter(pl.col("severity") == "error")
        if of is not None:
            found = found.filter(pl.col("report_id").is_in(of))
        out: dict[str, list[str]] = {}
        for f in found.iter_rows(named=True):
            out.setdefault(f["report_id"], []).append(show(f))
        return out

    def failed(self) -> pl.DataFrame:
        """The invalid and unreadable reports, in the run's order."""
        return self.reports.filter(pl.col("status") != Status.VALID.value)

    def fetch_failures(self) -> int:
        return int(self.findings["message"].str.starts_with("fetch failed").sum())


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
