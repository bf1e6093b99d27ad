"""`nianbao ingest SOURCE... --out WAREHOUSE [--year YYYY] [--workers N]` (also `python -m flows`).

Exit codes: 0 every report valid, 1 some report invalid or unreadable (the rest published), 2 usage,
3 the run itself failed (a bug, the warehouse unwritable, disk full): one line says why.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
from collections import Counter

from nianbao.sources import UsageError, resolve


def _int_in(low: int, high: int):
    """An argparse type: an integer in [low, high] (a usage error, exit 2, otherwise)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is not between {low} and {high}")
        return value
    return parse


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="nianbao", description="Ingest 政府信息公开工作年度报告 into validated Parquet.")
    sub = p.add_subparsers(dest="command", required=True)
    ing = sub.add_parser("ingest", help="ingest reports into a warehouse (runs the Prefect flow `ingest`)")
    ing.add_argument("sources", nargs="+", metavar="SOURCE", help="file, directory, manifest (.csv/.jsonl) or URL")
    ing.add_argument("--out", default="data/warehouse", metavar="WAREHOUSE", help="warehouse folder (default: %(default)s)")
    ing.add_argument("--year", type=_int_in(2008, 2100), help="the report year where a document does not tell it")
    ing.add_argument("--workers", type=_int_in(1, 64), default=2, help="batches processed at once (default: %(default)s)")
    ing.add_argument("--dask", metavar="ADDRESS", help="run the batches on this Dask cluster (tcp://host:8786)")
    ing.add_argument("--batch-size", type=_int_in(1, 10_000), default=None, help="documents per task (default: 100)")
    ing.add_argument("--allow-private", action="store_true",
                     help="allow URLs on private, loopback and link-local addresses (also NIANBAO_ALLOW_PRIVATE=1)")
    ing.add_argument("--allow-outside", action="store_true",
                     help="read a manifest's local paths outside the manifest's folder (also NIANBAO_ALLOW_OUTSIDE=1)")
    ing.add_argument("--reprocess", action="store_true",
                     help="redo documents the warehouse already holds from this pipeline version")
    from nianbao import discover

    discover.parser(sub.add_parser("discover", help="find reports on 年度报告 listing pages; write a manifest"))
    return p


def main(argv: list[str] | None = None) -> int:
    """The command (argv None: run as a program, whose children then die with it)."""
    as_program = argv is None
    try:
        args = _parser().parse_args(argv)
    except SystemExit as e:
        return 2 if e.code not in (0, None) else 0
    if args.command == "discover":
        from nianbao import discover

        return discover.run(args)
    if args.allow_outside:
        os.environ["NIANBAO_ALLOW_OUTSIDE"] = "1"  # the flow resolves the sources again
    try:
        docs = resolve(args.sources)  # usage errors surface here, before any server starts
    except UsageError as e:
        print(f"nianbao: {e}", file=sys.stderr)
        return 2
    if not docs:
        print("nianbao: the sources name no documents", file=sys.stderr)
        return 2
    from nianbao.publish import WarehouseError, probe

    try:
        probe(args.out)  # an unwritable or full warehouse is found now, not after a batch's work
    except WarehouseError as e:
        print(f"nianbao: the run failed: {e}", file=sys.stderr)
        return 3
    print(f"nianbao: ingesting {len(docs)} documents into {args.out}", file=sys.stderr)
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_EXTRA_LOGGERS", "nianbao")  # fetch retries show in the run's logs
    if args.allow_private:
        os.environ["NIANBAO_ALLOW_PRIVATE"] = "1"
    if as_program:
        from nianbao import reaper

        reaper.start()  # SIGKILLed, we leave no temporary server or extraction worker running
    from flows.ingest import BATCH_SIZE, ingest, summary_of, task_runner

    if not os.environ.get("NIANBAO_TRACEBACKS"):
        _one_line_console_logs()
    try:
        flow = ingest.with_options(task_runner=task_runner(args.workers, args.dask))
        state = flow(sources=args.sources, out=args.out, year=args.year,
                     batch_size=args.batch_size or BATCH_SIZE, reprocess=args.reprocess, return_state=True)
        summary = summary_of(state)
    except Exception as e:  # e.g. no Prefect server could be started
        print(f"nianbao: the run failed: {type(e).__name__}: {e}", file=sys.stderr)
        return 3
    if summary is None:
        error = state.result(raise_on_failure=False)
        if isinstance(error, WarehouseError):
            print(f"nianbao: the run failed: {error}", file=sys.stderr)
        else:  # a bug
            reason = f"{type(error).__name__}: {error}" if isinstance(error, BaseException) else state.message
            print(f"nianbao: the run failed: {reason} (NIANBAO_TRACEBACKS=1 shows where)", file=sys.stderr)
        return 3
    print(render_summary(summary, args.out))
    return 0 if state.is_completed() else 1


class _WithoutTraceback(logging.Formatter):
    """A console formatter that leaves tracebacks out (the run's logs in Prefect keep them)."""

    def __init__(self, inner: logging.Formatter):
        super().__init__()
        self.inner = inner

    def format(self, record: logging.LogRecord) -> str:
        return self.inner.format(logging.makeLogRecord(record.__dict__ | {"exc_info": None, "exc_text": None,
                                                                           "stack_info": None}))


def _one_line_console_logs() -> None:
    """What the user reads is one line per event: a run that broke is told by its last line."""
    from prefect.logging.handlers import PrefectConsoleHandler

    for handler in logging.getLogger().handlers:
        if isinstance(handler, PrefectConsoleHandler) and not isinstance(handler.formatter, _WithoutTraceback):
            handler.setFormatter(_WithoutTraceback(handler.formatter or logging.Formatter()))


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
