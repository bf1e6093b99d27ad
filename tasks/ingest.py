"""The ingest flow's tasks. Between tasks travel paths and small summaries, never DataFrames."""
from __future__ import annotations

from pathlib import Path

import polars as pl
from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from nianbao import pipeline, publish, sources
from nianbao.schema import DATASETS

STAGING = ".staging"


@task(name="resolve-sources")
def resolve_sources(specs: list[str]) -> list[sources.Source]:
    return sources.resolve(specs)


@task(name="process-batch", task_run_name="process-batch-{number}")
def process_batch(batch: list[sources.Source], number: int, run_id: str, out: str,
                  default_year: int | None = None) -> str:
    """Read, extract, normalise and validate a batch; stage its frames as Parquet; return the folder."""
    frames = pipeline.process_batch(batch, run_id, default_year)
    folder = Path(out) / STAGING / run_id / f"batch-{number:05d}"
    folder.mkdir(parents=True, exist_ok=True)
    for name, df in frames.items():
        df.write_parquet(folder / f"{name}.parquet")
    return str(folder)


def read_staged(folder: str) -> dict[str, pl.DataFrame]:
    return {name: pl.read_parquet(Path(folder) / f"{name}.parquet") for name in DATASETS}


@task(name="publish")
def publish_batches(folders: list[str], out: str) -> dict:
    """Merge the staged batches into the warehouse; return the run's reports and findings summary."""
    reports, findings = [], []
    for folder in folders:
        frames = read_staged(folder)
        publish.publish(Path(out), frames)
        reports.append(frames["reports"].select("report_id", "source_uri", "source_format", "status", "year",
                                                "agency", "error_count", "warning_count"))
        findings.append(frames["findings"].select("report_id", "rule_id", "severity", "message"))
    for folder in folders:
        for f in Path(folder).glob("*.parquet"):
            f.unlink()
        Path(folder).rmdir()
    return {"reports": pl.concat(reports).to_dicts() if reports else [],
            "findings": pl.concat(findings).to_dicts() if findings else []}


@task(name="report-artifacts")
def report_artifacts(summary: dict, run_id: str) -> None:
    """What operators read in the UI: counts by status and rule, and the reports that failed."""
    rows = summary["reports"]
    by_status = {}
    for r in rows:
        by_status[r["status"]] = by_status.get(r["status"], 0) + 1
    by_rule: dict[tuple[str, str], int] = {}
    for f in summary["findings"]:
        by_rule[(f["rule_id"], f["severity"])] = by_rule.get((f["rule_id"], f["severity"]), 0) + 1
    table = [{"kind": "status", "name": s, "severity": "", "count": n} for s, n in sorted(by_status.items())]
    table += [{"kind": "rule", "name": r, "severity": sev, "count": n} for (r, sev), n in sorted(by_rule.items())]
    create_table_artifact(key="ingest-counts", table=table, description=f"Reports by status and findings by rule, run {run_id}")
    failed = [r for r in rows if r["status"] != "valid"]
    lines = [f"# Reports that failed ({len(failed)} of {len(rows)})", ""]
    errors: dict[str, list[str]] = {}
    for f in summary["findings"]:
        if f["severity"] == "error":
            errors.setdefault(f["report_id"], []).append(f"`{f['rule_id']}`: {f['message']}")
    for r in failed:
        lines.append(f"- **{r['status']}** {r['agency'] or '(no agency)'} {r['year'] or ''} — [{r['source_uri']}]"
                     f"({r['source_uri']}) `{r['report_id'][:12]}`")
        lines += [f"  - {e}" for e in errors.get(r["report_id"], [])[:10]]
    create_markdown_artifact(key="ingest-failures", markdown="\n".join(lines) if failed else "All reports valid.",
                             description=f"Invalid and unreadable reports, run {run_id}")
