"""`nianbao ingest SOURCE... --out WAREHOUSE [--year YYYY] [--workers N]` (also `python -m flows`).

Exit codes: 0 every report valid, 1 some report invalid or unreadable (the rest published), 2 usage.
"""
from __future__ import annotations

import argparse
import os
import sys
from collections import Counter

from nianbao.sources import UsageError, resolve


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="nianbao", description="Ingest 政府信息公开工作年度报告 into validated Parquet.")
    sub = p.add_subparsers(dest="command", required=True)
    ing = sub.add_parser("ingest", help="ingest reports into a warehouse (runs the Prefect flow `ingest`)")
    ing.add_argument("sources", nargs="+", metavar="SOURCE", help="file, directory, manifest (.csv/.jsonl) or URL")
    ing.add_argument("--out", default="data/warehouse", metavar="WAREHOUSE", help="warehouse folder or s3://bucket/prefix (default: %(default)s)")
    ing.add_argument("--year", type=int, help="the report year where a document does not tell it")
    ing.add_argument("--workers", type=int, default=2, help="batches processed at once (default: %(default)s)")
    ing.add_argument("--dask", metavar="ADDRESS", help="run the batches on this Dask cluster (tcp://host:8786)")
    ing.add_argument("--batch-size", type=int, default=None, help="documents per task")
    ing.add_argument("--allow-private", action="store_true",
                     help="allow URLs on private, loopback and link-local addresses (also NIANBAO_ALLOW_PRIVATE=1)")
    ing.add_argument("--reprocess", action="store_true",
                     help="redo documents the warehouse already holds from this pipeline version")
    from nianbao import discover

    discover.parser(sub.add_parser("discover", help="find reports on 年度报告 listing pages; write a manifest"))
    return p


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as e:
        return 2 if e.code not in (0, None) else 0
    if args.command == "discover":
        from nianbao import discover

        return discover.run(args)
    if args.year is not None and not 2008 <= args.year <= 2100:
        print(f"nianbao: --year {args.year} is not a report year", file=sys.stderr)
        return 2
    if args.workers < 1:
        print("nianbao: --workers must be at least 1", file=sys.stderr)
        return 2
    try:
        docs = resolve(args.sources)  # usage errors surface here, before any server starts
    except UsageError as e:
        print(f"nianbao: {e}", file=sys.stderr)
        return 2
    if not docs:
        print("nianbao: the sources name no documents", file=sys.stderr)
        return 2
    print(f"nianbao: ingesting {len(docs)} documents into {args.out}", file=sys.stderr)
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_EXTRA_LOGGERS", "nianbao")  # fetch retries show in the run's logs
    if args.allow_private:
        os.environ["NIANBAO_ALLOW_PRIVATE"] = "1"
    from flows.ingest import BATCH_SIZE, ingest, task_runner

    flow = ingest.with_options(task_runner=task_runner(args.workers, args.dask))
    state = flow(sources=args.sources, out=args.out, year=args.year,
                 batch_size=args.batch_size or BATCH_SIZE, reprocess=args.reprocess, return_state=True)
    summary = state.result(raise_on_failure=False)
    if not isinstance(summary, dict):
        print(f"nianbao: the run crashed: {state.message}", file=sys.stderr)
        return 1
    print(render_summary(summary, args.out))
    return 0 if state.is_completed() else 1


def render_summary(summary: dict, out: str) -> str:
    reports = summary["reports"]
    status = Counter(r["status"] for r in reports)
    skipped = sum(1 for r in reports if r.get("skipped"))
    lines = [f"{len(reports)} reports: " + ", ".join(f"{status[s]} {s}" for s in ("valid", "invalid", "unreadable"))
             + (f" ({skipped} already published, not redone)" if skipped else ""),
             f"warehouse: {out}"]
    errors: dict[str, list[str]] = {}
    for f in summary["findings"]:
        if f["severity"] == "error":
            errors.setdefault(f["report_id"], []).append(f["rule_id"])
    for r in reports:
        if r["status"] != "valid":
            rules = sorted(set(errors.get(r["report_id"], [])))
            lines.append(f"  {r['status']:<10} {r['source_uri']}  {', '.join(rules)}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
