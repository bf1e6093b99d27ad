"""The ingest flow's tasks. Between tasks travel sources and small summaries, never DataFrames."""
from __future__ import annotations

import time
from pathlib import Path

import polars as pl
from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from nianbao import pipeline, publish, sources

SUMMARY_COLUMNS = ["report_id", "source_uri", "source_format", "status", "year", "agency", "error_count",
                   "warning_count"]


@task(name="resolve-sources")
def resolve_sources(specs: list[str]) -> list[sources.Source]:
    return sources.resolve(specs)


@task(name="ingest-batch", task_run_name="ingest-batch-{number}")
def ingest_batch(batch: list[sources.Source], number: int, run_id: str, out: str,
                 default_year: int | None = None, reprocess: bool = False, processes: bool = True) -> dict:
    """Read, extract, normalise, validate and publish one batch; return its summary.

    Each batch publishes on its own (the warehouse lock serialises writers), so a run killed half
    way keeps what it finished, and the next run skips documents already published as they are.
    """
    root = Path(out)
    timings: dict[str, float] = {}
    done = {} if reprocess else publish.published(root)
    frames = pipeline.process_batch(batch, run_id, default_year, published=done, processes=processes,
                                    timings=timings, raw_root=str(root))
    if frames["reports"].height:
        start = time.perf_counter()
        publish.publish(root, frames)
        timings["publish"] = time.perf_counter() - start
    return summarise(frames, root) | {"timings": timings}


def summarise(frames: dict[str, pl.DataFrame], root: Path) -> dict:
    reports = pl.concat([frames["reports"].select(SUMMARY_COLUMNS).with_columns(skipped=pl.lit(False)),
                         frames["skipped"].select(SUMMARY_COLUMNS).with_columns(skipped=pl.lit(True))])
    findings = frames["findings"].select("report_id", "rule_id", "severity", "message")
    skipped = frames["skipped"]["report_id"].to_list()
    files = sorted((root / "findings").glob("*/*.parquet")) if skipped else []
    if files:  # what the warehouse says of the reports this run did not redo
        stored = pl.scan_parquet(files, hive_partitioning=True)
        findings = pl.concat([findings, stored.filter(pl.col("report_id").is_in(skipped))
                             .select("report_id", "rule_id", "severity", "message").collect()])
    return {"reports": reports.to_dicts(), "findings": findings.to_dicts()}


@task(name="report-artifacts")
def report_artifacts(summary: dict, run_id: str) -> None:
    """What operators read in the UI: counts by status and rule, and the reports that failed."""
    rows = summary["reports"]
    by_status: dict[str, int] = {}
    for r in rows:
        by_status[r["status"]] = by_status.get(r["status"], 0) + 1
    by_rule: dict[tuple[str, str], int] = {}
    for f in summary["findings"]:
        by_rule[(f["rule_id"], f["severity"])] = by_rule.get((f["rule_id"], f["severity"]), 0) + 1
    by_format: dict[str, int] = {}
    for r in rows:
        by_format[r["source_format"]] = by_format.get(r["source_format"], 0) + 1
    table = [{"kind": "status", "name": s, "severity": "", "count": n} for s, n in sorted(by_status.items())]
    table += [{"kind": "rule", "name": r, "severity": sev, "count": n} for (r, sev), n in sorted(by_rule.items())]
    table += [{"kind": "format", "name": f, "severity": "", "count": n} for f, n in sorted(by_format.items())]
    table.append({"kind": "skipped", "name": "already published", "severity": "",
                  "count": sum(1 for r in rows if r["skipped"])})
    create_table_artifact(key="ingest-counts", table=table,
                          description=f"Reports by status, findings by rule, documents by format; run {run_id}")
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
