"""`nianbao ingest SOURCE... --out WAREHOUSE [--year YYYY] [--workers N]` (also `python -m flows`).

Exit codes: 0 every report valid, 1 some report invalid or unreadable (the rest published), 2 usage,
3 the run itself failed (a bug, the warehouse unwritable, disk full): one line says why, 130
interrupted (what was published stays; the same command resumes).
"""

from __future__ import annotations

import argparse
import atexit
import difflib
import hashlib
import json
import logging
import os
import shutil
import signal
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from nianbao import __version__
from nianbao.model.errors import SettingsError, UsageError
from nianbao.model.words import plural
from nianbao.run import allocators, heap, stop
from nianbao.run.sizes import BATCHES

# What a run needs is imported by _main(), not here: --version, --help and a usage error import
# nothing heavy (polars, pydantic, Prefect, GX), a run's modules load as soon as it is known to run.
if TYPE_CHECKING:
    from nianbao.report.summary import RunSummary


def __getattr__(name: str):
    """The run summary's names (RunSummary, next_step), as this module once imported them: at first use."""
    if name in ("RunSummary", "next_step"):
        from nianbao.report import summary

        return getattr(summary, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


EXAMPLES = """examples:
  nianbao ingest data/samples --out data/warehouse
  nianbao ingest reports/2024/ manifest.csv --year 2024 --out /srv/nianbao
  nianbao ingest https://www.example.gov.cn/zwgk/2024nb.pdf --out wh --json > summary.json
  nianbao ingest reports/ --out wh --dry-run        # what would be read; nothing is written
  nianbao site data/warehouse --out data/site --region 320000   # a province's pages, offline

exit codes:
  0    every report valid
  1    some report invalid or unreadable (everything else is published; see the validation report)
  2    usage error: nothing started
  3    the run itself failed (a bug, the warehouse unwritable, disk full)
  130  interrupted (Ctrl-C): what was published stays; the same command resumes
"""


@dataclass(frozen=True)
class Caps:
    """How much of a run's failures its summary prints: the validation report has them all."""

    failed: int = 20  # failed reports listed
    reasons: int = 3  # errors shown per failed report


CAPS = Caps()


class _Help(argparse.RawDescriptionHelpFormatter):
    """Examples kept as written; defaults shown where there is one worth showing."""

    def _get_help_string(self, action):
        text = action.help or ""
        if (
            action.default not in (None, False, argparse.SUPPRESS)
            and "%(default)" not in text
            and action.option_strings
        ):
            text += " (default: %(default)s)"
        return text


class _BadUsage(Exception):
    """A usage error argparse found, raised rather than printed: the command tells it (JSON under
    --json, the subcommand's usage, a near option named)."""

    def __init__(self, parser: argparse.ArgumentParser, message: str):
        super().__init__(message)
        self.parser = parser


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        raise _BadUsage(self, message)


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


def _year(text: str) -> int:
    """--year: a year the template allows (its range read only when the option is given)."""
    from nianbao.check.rules import year_range

    return _int_in(*year_range())(text)


def _parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The command's parser. Given `argv`, only the subcommands it names get their options from
    their modules (discover's and site's, which import what they run)."""
    named = set(argv) if argv is not None else None
    p = _Parser(
        prog="nianbao",
        description="Ingest 政府信息公开工作年度报告 into validated Parquet.",
        epilog=EXAMPLES,
        formatter_class=_Help,
    )
    p.add_argument("--version", action="version", version=f"nianbao {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    ing = sub.add_parser(
        "ingest",
        help="ingest reports into a warehouse (runs the Prefect flow `ingest`)",
        description="Read reports, check the template's rules, publish Parquet; a run that is "
        "interrupted resumes where it stopped.",
        epilog=EXAMPLES,
        formatter_class=_Help,
    )
    ing.add_argument(
        "sources",
        nargs="+",
        metavar="SOURCE",
        help="file (.pdf .docx .doc .wps .html .htm .txt), directory, manifest (.csv/.jsonl) or URL",
    )
    ing.add_argument(
        "--out", default="data/warehouse", metavar="WAREHOUSE", help="warehouse folder or s3://bucket/prefix"
    )
    ing.add_argument("--year", type=_year, help="the report year where a document does not tell it")
    ing.add_argument("--workers", type=_int_in(1, 64), default=2, help="batches processed at once")
    ing.add_argument("--dask", metavar="ADDRESS", help="run the batches on this Dask cluster (tcp://host:8786)")
    ing.add_argument("--batch-size", type=_int_in(1, 10_000), default=BATCHES.size, help="documents per task")
    ing.add_argument(
        "--dry-run",
        action="store_true",
        help="list what would be read (formats, documents already published, files skipped); write nothing",
    )
    ing.add_argument("--json", action="store_true", help="print the summary as JSON on stdout (logs stay on stderr)")
    ing.add_argument("--quiet", "-q", action="store_true", help="no progress and no logs: the summary only")
    ing.add_argument(
        "--allow-private",
        action="store_true",
        help="allow URLs on private, loopback and link-local addresses (also NIANBAO_ALLOW_PRIVATE=1)",
    )
    ing.add_argument(
        "--allow-outside",
        action="store_true",
        help="read a manifest's local paths outside the manifest's folder (also NIANBAO_ALLOW_OUTSIDE=1)",
    )
    ing.add_argument(
        "--reprocess", action="store_true", help="redo documents the warehouse already holds from this pipeline version"
    )
    dis = sub.add_parser("discover", help="find reports on 年度报告 listing pages; write a manifest")
    if named is None or "discover" in named:
        from nianbao.acquire import discover

        discover.parser(dis)
    com = sub.add_parser(
        "compact",
        help="merge each partition's batch files into one (readers see every report once)",
        description="Merge a warehouse partition's many small files into one per dataset, under the "
        "warehouse's lock (an ingest's next batch waits for it).",
    )
    com.add_argument("warehouse", metavar="WAREHOUSE", help="warehouse folder or s3://bucket/prefix")
    com.add_argument("--year", type=_int_in(2008, 2100), help="only this year's partition (default: every year)")
    web = sub.add_parser(
        "site", help="write a static, offline website of the indicators and peers", formatter_class=_Help
    )
    if named is None or "site" in named:
        from nianbao.report import site

        site.parser(web, _int_in(2008, 2100))
    fgt = sub.add_parser(
        "forget",
        help="retire a report: out of the datasets and quarantine, kept in the catalogue",
        description="Retire a report that has no newer version (a manifest row naming a missing file, "
        "a document that is not a report): its `reports` row stays with superseded_by = "
        "'forgotten', its cells leave the datasets and quarantine. Under the warehouse's "
        "lock, like a publish.",
    )
    fgt.add_argument(
        "report",
        metavar="REPORT_ID|SOURCE",
        help="a report_id, or a source as reports.source_uri holds it (its current report)",
    )
    fgt.add_argument("--out", required=True, metavar="WAREHOUSE", help="warehouse folder or s3://bucket/prefix")
    p.commands = sub.choices  # name -> its parser, for usage errors argparse lays at the top level
    return p


def main(argv: list[str] | None = None) -> int:
    """The command (argv None: run as a program, whose children then die with it, and which ends
    without Python's teardown: see end(); argv given: called from Python, whose environment is left
    as it was)."""
    if argv is None:
        with heap.tuned():
            end(_main(argv))
    from nianbao.model import settings

    with heap.tuned(), settings.restored():
        return _main(argv)


def _start_server(args, as_program: bool, shows_bar: bool):
    """Prefect's temporary server for the run, started in the background (flows/server.py), with the
    settings the run's Prefect reads."""
    from flows.server import TemporaryServer
    from nianbao.model import settings

    settings.quiet_libraries()  # analytics off; DO_NOT_TRACK: Prefect's client-side telemetry and its notice
    settings.export_default(
        PREFECT_LOGGING_LEVEL="ERROR" if args.quiet else "WARNING" if shows_bar else "INFO",
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="120",  # 20 s is short on a busy machine
        PREFECT_LOGGING_EXTRA_LOGGERS="nianbao",
    )  # fetch retries show in the run's logs
    if as_program:
        from nianbao.run import reaper

        reaper.start()  # SIGKILLed, we leave no temporary server or extraction worker running
        signal.signal(signal.SIGINT, lambda *_: _interrupted(args, as_program))
        sys.unraisablehook = _quiet_interrupt(sys.unraisablehook)
    return TemporaryServer().start()


def end(code: int) -> None:
    """End the program now, its exit handlers run as at any exit (Prefect's last logs sent, its
    server and our workers stopped), but without the interpreter's teardown of every module it
    imported (GX, pandas, Prefect): ~2 s of a 100-document run, measured, for nothing."""
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can reach its reader
            pass
    os._exit(code)


def _main(argv: list[str] | None) -> int:
    as_program = argv is None
    try:
        args = _parser(sys.argv[1:] if argv is None else argv).parse_args(argv)
    except _BadUsage as e:
        return _usage_error(e, sys.argv[1:] if argv is None else argv)
    except SystemExit as e:
        return 2 if e.code not in (0, None) else 0
    from nianbao.model import settings

    if as_program:
        allocators.tune()  # our own process: before anything loads pyarrow, while no native thread runs
    from nianbao.acquire.sources import unsupported

    try:
        settings.settings()  # a variable set to what it cannot be: one line and exit 2, before any work
    except SettingsError as e:
        return _fail(
            args,
            e.exit_code,
            str(e),
            "correct the variable or unset it for its default "
            "(docs/DATA_DICTIONARY.md, Settings, lists each with what it takes)",
        )
    if args.command == "discover":
        from nianbao.acquire import discover

        return discover.run(args)
    if args.command == "site":
        from nianbao.report import site

        return site.run(args)
    if args.command == "compact":
        from nianbao.warehouse import compact

        return compact.run(args)
    if args.command == "forget":
        from nianbao.run import forget

        return forget.run(args)
    if Path(args.out).exists() and not Path(args.out).is_dir():
        return _fail(
            args,
            2,
            f"--out {args.out} is a file, not a warehouse folder",
            "name a folder (it is made if missing) or s3://bucket/prefix",
        )
    skipped_files = unsupported(args.sources)
    from nianbao.run.plan import Plan

    try:  # resolved once, here: usage errors surface before any server starts; the flow is handed the plan
        plan = Plan.of(args.sources, allow_outside=args.allow_outside or None, allow_private=args.allow_private or None)
    except UsageError as e:
        return _fail(args, 2, str(e), "correct the source and run again (nianbao ingest --help)", skipped_files)
    docs = plan.documents
    if not docs:
        return _fail(
            args,
            2,
            "the sources name no documents"
            + (f" ({plural(len(skipped_files), 'file')} of other kinds skipped)" if skipped_files else ""),
            "name report files (.pdf .docx .doc .wps .html .htm .txt), folders of them, manifests or URLs",
            skipped_files,
        )
    if args.dry_run:
        return _dry_run(docs, skipped_files, args)
    # on a terminal the bar shows progress and Prefect's lines would break it; elsewhere they are the progress
    shows_bar = not (args.quiet or args.json) and sys.stderr.isatty()
    heap.pause()  # the run's imports ahead make next to no garbage: collections again from heap.settle(), below
    # the server starts as soon as the run is known to run (the plan imported nothing heavy): its start,
    # seconds of CPU in its own process, overlaps this process's imports (the pipeline's, Prefect's, GX's)
    server = _start_server(args, as_program, shows_bar)
    from nianbao.model.errors import WarehouseError
    from nianbao.warehouse.publish import probe

    try:
        probe(args.out)  # an unwritable or full warehouse is found now, not after a batch's work
    except WarehouseError as e:
        server.stop()
        return _fail(
            args, 3, f"the run failed: {e}", "make the warehouse writable (or free space) and run again", skipped_files
        )
    if not args.quiet:
        print(f"nianbao: ingesting {plural(len(docs), 'document')} into {args.out}", file=sys.stderr)
    bar = _bar(len(docs)) if shows_bar else None
    local = not (args.dask or settings.settings().dask_address)  # else the batches validate on the cluster
    if local:
        from nianbao.check import validate

        validate.warm()  # GX imported while Prefect is and the server starts: even a text dump's run waits less
    if local and any(not d.uri.endswith(".txt") for d in docs):
        from nianbao.run import isolate
        from nianbao.run.pipeline import read_ahead
        from nianbao.warehouse.publish import published

        isolate.start()  # the extraction workers import their modules while the server starts, then read
        # the batches the flow starts with (--workers of them at once)
        try:
            held = {} if args.reprocess else published(args.out)
        except WarehouseError as e:  # e.g. a file another program left in it
            print(f"nianbao: the run failed: {e}", file=sys.stderr)
            return 3
        plan = plan.holding(ahead=read_ahead(docs[: args.batch_size * args.workers], held), published=held)
    from flows.ingest import ingest, summary_of, task_runner

    if not settings.settings().tracebacks:
        _one_line_console_logs()
    if args.quiet:
        _console_errors_only()
    try:
        with server.serving():
            heap.settle()  # Prefect's, GX's and our imports, done by now (the flow's are few)
            flow = _parameters_without_fastapi(ingest.with_options(task_runner=task_runner(args.workers, args.dask)))
            state = flow(
                sources=plan.holding(progress=bar.update if bar is not None else None),
                out=args.out,
                year=args.year,
                batch_size=args.batch_size,
                reprocess=args.reprocess,
                return_state=True,
            )
        summary = None if state.is_cancelled() else summary_of(state)
    except KeyboardInterrupt:
        return _interrupted(args, as_program)
    except Exception as e:  # e.g. no Prefect server could be started
        return _fail(args, 3, f"the run failed: {type(e).__name__}: {e}", _BUG, skipped_files)
    finally:
        if bar is not None:
            bar.close()
    if state.is_cancelled():  # Cancel in Prefect's UI: as Ctrl-C, what was published stays
        print(
            f"nianbao: interrupted ({state.message}). Batches already published to {args.out} are kept; run the "
            "same command again to resume (documents already published are skipped).",
            file=sys.stderr,
        )
        if args.json:
            print(
                json.dumps(
                    {
                        "exit_code": 130,
                        "error": f"interrupted ({state.message})",
                        "next": "run the same command again to resume",
                        "skipped_files": _skipped_json(skipped_files),
                    },
                    ensure_ascii=False,
                    indent=1,
                ),
                flush=True,
            )
        return 130
    if summary is None:
        error = state.result(raise_on_failure=False)
        if isinstance(error, KeyboardInterrupt):
            return _interrupted(args, as_program)
        if isinstance(error, WarehouseError):
            return _fail(
                args,
                3,
                f"the run failed: {error}",
                "make the warehouse writable (or free space) and run again: what was published stays",
                skipped_files,
            )
        reason = f"{type(error).__name__}: {error}" if isinstance(error, BaseException) else state.message  # a bug
        return _fail(args, 3, f"the run failed: {reason} (NIANBAO_TRACEBACKS=1 shows where)", _BUG, skipped_files)
    code = 0 if state.is_completed() else 1
    page = validation_page(args.out, state.state_details.flow_run_id)
    try:
        if args.json:
            write_json(summary, args.out, page, skipped_files, code, sys.stdout)
            print(flush=True)
        else:
            print(render_summary(summary, args.out, page, skipped_files), flush=True)
    except BrokenPipeError:  # `nianbao ... | head`: the reader had enough
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return code


_BUG = "this is a bug: run again with NIANBAO_TRACEBACKS=1 and report the traceback"


def _parameters_without_fastapi(flow):
    """`flow`, its run's parameters serialised as Prefect does (FastAPI's jsonable_encoder) without
    importing FastAPI, which Prefect's client needs for nothing else (~0.45 CPU-s, measured): the
    command's parameters are JSON's scalars and the Plan, whose JSON is what the encoder makes of a
    pydantic model. Any other value goes to Prefect's own way."""
    from pydantic import BaseModel

    prefects = flow.serialize_parameters

    def serialize(parameters: dict) -> dict:
        if not all(
            v is None or type(v) in (str, int, float, bool) or isinstance(v, BaseModel) for v in parameters.values()
        ):
            return prefects(parameters)
        try:
            return {
                k: v.model_dump(mode="json", by_alias=True) if isinstance(v, BaseModel) else v
                for k, v in parameters.items()
            }
        except (TypeError, ValueError):
            return prefects(parameters)

    flow.serialize_parameters = serialize
    return flow


def _fail(args, code: int, message: str, next_step: str, skipped_files: dict[str, str] | None = None) -> int:
    """A command that ends before a summary: one line on stderr, and under --json the same as JSON
    on stdout (what went wrong, what to do, what was skipped and why)."""
    print(f"nianbao: {message}", file=sys.stderr, flush=True)
    if getattr(args, "json", False):
        print(
            json.dumps(
                {
                    "exit_code": code,
                    "error": message,
                    "next": next_step,
                    "skipped_files": _skipped_json(skipped_files or {}),
                },
                ensure_ascii=False,
                indent=1,
            ),
            flush=True,
        )
    return code


def _usage_error(e: _BadUsage, argv: list[str]) -> int:
    """argparse's usage error, told with the usage of the subcommand named (an unknown option is
    laid at the top level by argparse) and the option meant where one is near."""
    parser, message = e.parser, str(e)
    commands = getattr(parser, "commands", {})
    named = next((a for a in argv if a in commands), None)
    if named and message.startswith("unrecognized arguments"):
        parser = commands[named]
        known = [o for a in parser._actions for o in a.option_strings]
        near = [
            f"{bad.split('=', 1)[0]} (did you mean {close[0]}?)"
            for bad in argv
            if bad.startswith("-")
            and bad.split("=", 1)[0] not in known
            and (close := difflib.get_close_matches(bad.split("=", 1)[0], known, 1))
        ]
        if near:
            message = "unrecognized arguments: " + ", ".join(near)
    print(parser.format_usage() + f"{parser.prog}: error: {message}", file=sys.stderr, flush=True)
    if "--json" in argv:
        print(
            json.dumps(
                {
                    "exit_code": 2,
                    "error": message,
                    "next": f"{parser.prog} --help shows every option",
                    "skipped_files": [],
                },
                ensure_ascii=False,
                indent=1,
            ),
            flush=True,
        )
    return 2


def validation_page(out: str, run_id) -> str | None:
    """Where the run's validation report is: its path in a folder, its s3:// URL in a bucket."""
    from nianbao.warehouse import storage

    if storage.is_remote(out):
        page = storage.path(out) / "validation" / f"{run_id}.html"
        return f"{out.rstrip('/')}/validation/{run_id}.html" if page.exists() else None
    page = Path(out) / "validation" / f"{run_id}.html"
    return str(page) if page.is_file() else None


def _bar(total: int):
    from tqdm import tqdm

    size = shutil.get_terminal_size()  # the terminal's, else COLUMNS/LINES, else 80x24 (a pty may say 0x0,
    # and tqdm hides a bar below a screen of 0 rows)
    return tqdm(total=total, unit="doc", desc="nianbao", file=sys.stderr, ncols=size.columns, nrows=size.lines)


def _quiet_interrupt(hook):
    """Ctrl-C's KeyboardInterrupt raised where Python cannot raise (an import lock's or a weakref's
    callback) is printed as "Exception ignored" with a traceback. The stop it asks for is already
    requested and carried by the stop flag, so that one is dropped; any other goes to `hook`."""

    def quiet(unraisable) -> None:
        if not (isinstance(unraisable.exc_value, KeyboardInterrupt) and stop.requested()):
            hook(unraisable)

    return quiet


def _interrupted(args, as_program: bool) -> int:
    """Ctrl-C: stop now. Every batch published is complete (a batch's `reports` file is written last),
    the one in flight is redone by the next run; the watchdog ends the workers and Prefect's
    temporary server. With a Prefect server of your own (PREFECT_API_URL), the first Ctrl-C lets
    Prefect mark the run Crashed; a second one stops at once. Either way the batches in flight
    publish nothing (nianbao/run/stop.py)."""
    from nianbao.model import settings

    stop.request()
    if (
        as_program
        and settings.settings().prefect_api_url
        and signal.getsignal(signal.SIGINT) is not signal.SIG_DFL
        and not getattr(_interrupted, "asked", False)
    ):
        _interrupted.asked = True
        print("\nnianbao: stopping (Ctrl-C again to stop at once)", file=sys.stderr)
        raise KeyboardInterrupt
    print(
        f"\nnianbao: interrupted. Batches already published to {args.out} are kept; run the same command "
        "again to resume (documents already published are skipped).",
        file=sys.stderr,
        flush=True,
    )
    if args.json:
        print(
            json.dumps(
                {
                    "exit_code": 130,
                    "error": "interrupted",
                    "next": "run the same command again to resume",
                    "skipped_files": [],
                },
                ensure_ascii=False,
                indent=1,
            ),
            flush=True,
        )
    if as_program:  # don't wait for the batches in flight: their work is redone on resume
        sys.stdout.flush()
        os._exit(130)
    return 130


def _dry_run(docs, skipped_files: dict[str, str], args) -> int:
    """What a run would read, and what it would skip; nothing is fetched or written."""
    from nianbao.extract import sniff
    from nianbao.warehouse.publish import published

    held = published(Path(args.out)) if Path(args.out).is_dir() and not args.reprocess else {}
    formats: Counter = Counter()
    listed = []
    for d in docs:
        if d.is_url:
            fmt, note = d.overrides.get("format") or "url", "fetched at run time"
        elif d.refused:
            fmt, note = "refused", d.refused.removeprefix("refused: ")
        else:
            try:
                data = Path(d.uri).read_bytes()
            except OSError as e:
                fmt, note = "unreadable", str(e.strerror or e)
            else:
                fmt = d.overrides.get("format") or sniff(data, d.uri) or "unknown"
                stored = held.get(hashlib.sha256(data).hexdigest())
                current = stored is not None and stored.get("superseded_by") is None  # else it would be current again
                note = "already published, would be skipped" if current else ""
        formats[fmt] += 1
        listed.append({"uri": d.uri, "format": fmt, "note": note or None})
    already = sum(d["note"] == "already published, would be skipped" for d in listed)
    line = (
        f"dry run: {plural(len(docs), 'document')} ("
        + ", ".join(f"{n} {f}" for f, n in sorted(formats.items()))
        + f"), {already} already published, {plural(len(skipped_files), 'file')} skipped; nothing was written"
    )
    if args.json:
        print(
            json.dumps(
                {
                    "exit_code": 0,
                    "error": None,
                    "dry_run": True,
                    "documents": listed,
                    "formats": dict(sorted(formats.items())),
                    "already_published": already,
                    "skipped_files": _skipped_json(skipped_files),
                    "next": "run the same command without --dry-run to ingest",
                },
                ensure_ascii=False,
                indent=1,
            )
        )
        return 0
    if not args.quiet:
        for d in listed:
            print(f"{d['format']:<8} {d['uri']}" + (f"  ({d['note']})" if d["note"] else ""))
        for f, why in skipped_files.items():
            print(f"{'skip':<8} {f}  ({why})")
    print(line)
    return 0


class _WithoutTraceback(logging.Formatter):
    """A console formatter that leaves tracebacks out (the run's logs in Prefect keep them)."""

    def __init__(self, inner: logging.Formatter):
        super().__init__()
        self.inner = inner

    def format(self, record: logging.LogRecord) -> str:
        return self.inner.format(
            logging.makeLogRecord(record.__dict__ | {"exc_info": None, "exc_text": None, "stack_info": None})
        )


def _one_line_console_logs() -> None:
    """What the user reads is one line per event: a run that broke is told by its last line."""
    from prefect.logging.handlers import PrefectConsoleHandler

    for handler in logging.getLogger().handlers:
        if isinstance(handler, PrefectConsoleHandler) and not isinstance(handler.formatter, _WithoutTraceback):
            handler.setFormatter(_WithoutTraceback(handler.formatter or logging.Formatter()))


def _console_errors_only() -> None:
    """--quiet: the console shows errors only, ours (PREFECT_LOGGING_EXTRA_LOGGERS share Prefect's
    console handler, whose level is not PREFECT_LOGGING_LEVEL's) as Prefect's; the run's logs in
    Prefect keep everything."""
    from prefect.logging.handlers import PrefectConsoleHandler

    for logger in [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]:
        for handler in getattr(logger, "handlers", []):
            if isinstance(handler, PrefectConsoleHandler):
                handler.setLevel(logging.ERROR)


def _failures(run: RunSummary, out: str, limit: int | None = None, start: int = 0) -> list[tuple[dict, list[str]]]:
    """Each failed report (`limit` of them from `start`) with its error messages (the reason, or the
    broken sums in the template's words)."""
    return run.failures(out, start, limit)


def _skipped_json(skipped_files: dict[str, str]) -> list[dict]:
    return [{"path": f, "why": why} for f, why in skipped_files.items()]


def render_summary(
    summary: RunSummary | dict, out: str, page: str | Path | None = None, skipped_files: dict[str, str] | None = None
) -> str:
    from nianbao.report.summary import RunSummary, next_step

    run = RunSummary.of(summary)
    skipped = run.already_published
    skipped_files = skipped_files or {}
    lines = [
        f"{plural(len(run), 'report')}: "
        + run.counts_text()
        + (f" ({skipped} already published, not redone)" if skipped else ""),
        f"warehouse: {out}",
    ]
    if page is not None:
        lines.append(f"validation report: {page}")
    failures = _failures(run, out, CAPS.failed)
    for r, reasons in failures:
        lines.append(f"  {r['status']:<10} {r['source_uri']}")
        lines += [f"             {m}" for m in reasons[: CAPS.reasons]]
        if len(reasons) > CAPS.reasons:
            lines.append(f"             … and {len(reasons) - CAPS.reasons} more errors")
    if run.failed_count > CAPS.failed:
        lines.append(f"  … and {run.failed_count - CAPS.failed} more failed reports (see the validation report)")
    for why in dict.fromkeys(skipped_files.values()):
        files = [f for f, w in skipped_files.items() if w == why]
        lines.append(
            f"skipped, {why} ({plural(len(files), 'file')}): "
            + ", ".join(files[:10])
            + (f" … and {len(files) - 10} more" if len(files) > 10 else "")
        )
    if (advice := next_step(run, out)) is not None:
        lines.append(f"next: {advice}")
    return "\n".join(lines)


def summary_json(
    summary: RunSummary | dict,
    out: str,
    page: str | Path | None,
    skipped_files: dict[str, str] | None,
    code: int,
    failed: bool = True,
) -> dict:
    from nianbao.report.summary import RunSummary, next_step

    run = RunSummary.of(summary)
    return {
        "exit_code": code,
        "error": None,
        "warehouse": str(out),
        "validation_report": str(page) if page else None,
        "reports": len(run),
        **run.statuses,
        "already_published": run.already_published,
        "failed": list(_failed_json(run, out)) if failed else [],
        "skipped_files": _skipped_json(skipped_files or {}),
        "next": next_step(run, out),
    }


def _failed_json(run: RunSummary, out: str, chunk: int = 1000):
    """The JSON summary's failed reports, their errors read a thousand reports at a time."""
    for start in range(0, run.failed_count, chunk):
        for r, reasons in _failures(run, out, chunk, start):
            yield {
                "report_id": r["report_id"],
                "source_uri": r["source_uri"],
                "status": r["status"],
                "agency": r.get("agency"),
                "year": r.get("year"),
                "errors": reasons,
            }


def write_json(
    summary: RunSummary | dict, out: str, page: str | Path | None, skipped_files: dict[str, str] | None, code: int, file
) -> None:
    """json.dumps(summary_json(...), ensure_ascii=False, indent=1), written one failed report at a
    time: at 10,000 invalid reports the text is ~100 MiB, and made whole it took ~500 MiB."""
    from nianbao.report.summary import RunSummary

    run = RunSummary.of(summary)
    head = json.dumps(summary_json(run, out, page, skipped_files, code, failed=False), ensure_ascii=False, indent=1)
    before, after = head.split('\n "failed": [],\n', 1)
    file.write(before + '\n "failed": [')
    sep = ""
    for entry in _failed_json(run, out):
        file.write(
            sep + "\n" + "\n".join("  " + line for line in json.dumps(entry, ensure_ascii=False, indent=1).split("\n"))
        )
        sep = ","
    file.write(("\n ]" if sep else "]") + ",\n" + after)


if __name__ == "__main__":
    sys.exit(main())
