"""The validation report: one self-contained HTML page per run and an index of runs.

Nothing is fetched from anywhere (no script, font or style from a CDN: GX's Data Docs load theirs
from public CDNs, which operators' networks may not reach). Beyond GX's pages it shows, per rule,
how many reports were checked and failed; health per year; and for each failed report its tables
as printed with the offending cells highlighted and each broken sum written out in the template's
Chinese labels. Details come from the warehouse (findings and cells, quarantine included), so the
page says what the published data says.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import logging
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import polars as pl

from nianbao.model.schema import CELL_KEYS
from nianbao.model.template import SumRule, template
from nianbao.model.words import plural
from nianbao.report.summary import CAPS as SUMMARY_CAPS
from nianbao.report.summary import STATUSES, RunSummary
from nianbao.warehouse import index
from nianbao.warehouse.storage import write_atomic

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Caps:
    """How much of a run's failures its page shows."""

    detailed: int = 100  # failed reports shown in full; the next are listed by source
    listed: int = 1000  # failed reports named (detailed ones included); the rest are counted
    findings: int = 12  # per report: a blank template must not swamp the page


CAPS = Caps()
assert CAPS.listed <= SUMMARY_CAPS.kept  # the run's summary keeps those in full

_STYLE = """body{font:14px/1.5 system-ui,"Noto Sans CJK SC","WenQuanYi Micro Hei",sans-serif;margin:2em;color:#222;max-width:80em}
table{border-collapse:collapse;margin:.6em 0}td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left;vertical-align:top}
th{background:#f3f3f3;font-weight:600}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.invalid{color:#a40}.unreadable{color:#a00}.valid{color:#070}code{font-size:90%}
td.part{background:#fee}td.bad{background:#fcc;outline:2px solid #c00}td.total{font-weight:700;outline:3px solid #c00}td.total::after{content:" ✗";color:#c00}td.warn{background:#ffd}
section.report{border-top:1px solid #ddd;margin-top:1.5em}.sum{font-family:inherit;margin:.2em 0}
.muted{color:#777}nav a{margin-right:1em}"""


def write(summary: RunSummary | dict, run_id: str, out: Path) -> Path:
    """The run's page `validation/<run_id>.html`, its counts beside it (json), and the index."""
    folder = Path(out) / "validation"
    folder.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.timezone.utc)
    page = folder / f"{run_id}.html"
    run = RunSummary.of(summary)
    _write(page, render(run, run_id, Path(out), now))
    _write(
        folder / f"{run_id}.json",
        json.dumps(
            {
                "run_id": run_id,
                "finished": now.isoformat(timespec="seconds"),
                "warehouse": str(Path(out).resolve()),
                "reports": len(run),
                **run.statuses,
            }
        ),
    )
    _write(folder / "index.html", render_index(folder))
    return page


def _write(path: Path, text: str) -> None:
    """Whole or not at all: a run reading the folder never meets a file half written by another."""
    write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def _counts(path: Path) -> dict | None:
    """A run's counts as write() left them; None (and a warning) for a file the warehouse did not
    write: one stray file must not stop every later run's index."""
    try:
        r = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        r = None
    if (
        isinstance(r, dict)
        and isinstance(r.get("run_id"), str)
        and isinstance(r.get("finished"), str)
        and all(type(r.get(k, 0)) is int for k in ("reports", *STATUSES))
    ):
        return r
    log.warning("%s: not a run's counts the warehouse wrote; skipped", path)
    return None


def render_index(folder: Path) -> str:
    runs = [r for r in map(_counts, folder.glob("*.json")) if r is not None]
    runs.sort(key=lambda r: r["finished"], reverse=True)
    e = html.escape
    out = [
        _head("nianbao validation: runs"),
        "<h1>Validation reports</h1>",
        f"<p>{plural(len(runs), 'run')} on this warehouse, newest first.</p>",
        "<table><tr><th>finished (UTC)<th>run<th>reports<th>valid<th>invalid<th>unreadable",
    ]
    for r in runs:
        out.append(
            f'<tr><td>{e(r["finished"])}<td><a href="{e(r["run_id"])}.html">{e(r["run_id"])}</a>'
            + "".join(f"<td class=n>{int(r.get(k, 0))}" for k in ("reports", *STATUSES))
        )
    out.append("</table>")
    return "\n".join(out) + "\n"


def render(summary: RunSummary | dict, run_id: str, out: Path, now: dt.datetime | None = None) -> str:
    t = template()
    e = html.escape
    run = RunSummary.of(summary)
    findings = _stored_findings(out, run.ids)
    per_rule = _per_rule(findings) if findings is not None else ({}, {})
    if not per_rule[1]:  # nothing published (a test of the page alone): the run's own counts and findings
        findings, per_rule = None, run.rules()
    status = run.statuses
    when = (now or dt.datetime.now(dt.timezone.utc)).isoformat(timespec="seconds")
    out_lines = [
        _head(f"nianbao validation, run {run_id}"),
        '<nav><a href="index.html">all runs</a></nav>',
        f"<h1>Validation report</h1><p>Run <code>{e(run_id)}</code>, finished {e(when)} UTC; warehouse "
        f"<code>{e(str(Path(out).resolve()))}</code>.</p>",
        "<p>"
        + ", ".join(f"<span class={s}>{n} {s}</span>" for s, n in status.items())
        + f" of {len(run)} reports.</p>",
    ]
    out_lines += _rules_table(t, run, *per_rule)
    out_lines += _years_table(run)
    failed = run.page_failed()  # the first CAPS.listed in the page's order; the rest counted
    out_lines.append(f"<h2>Reports that failed ({run.failed_count})</h2>")
    if not run.failed_count:
        out_lines.append("<p class=valid>Every report is valid.</p>")
    detailed = failed.head(CAPS.detailed).to_dicts()  # only these reports' findings and cells are read in full
    by_report: dict[str, list[dict]] = defaultdict(list)
    shown = [r["report_id"] for r in detailed]
    if findings is None:
        findings = run.findings.lazy().with_columns(
            cells=pl.lit([], pl.List(pl.String)), expected=pl.lit(None, pl.String), observed=pl.lit(None, pl.String)
        )
        among = None
    else:  # the detailed reports' own, read from the files holding them
        among = _holding(out, shown)
        findings = _stored_findings(out, run.ids, shown, among) if shown else None
    for f in (
        findings.filter(pl.col("report_id").is_in(shown)).collect().iter_rows(named=True)
        if findings is not None
        else []
    ):
        by_report[f["report_id"]].append(f)
    cells = _stored_cells(out, [r["report_id"] for r in detailed if r["status"] == "invalid"], among)
    for r in detailed:
        out_lines += _report_section(t, r, by_report.get(r["report_id"], []), cells.get(r["report_id"], {}))
    if run.failed_count > CAPS.detailed:
        out_lines.append(
            f"<p>… and {run.failed_count - CAPS.detailed} more failed reports, not shown here: "
            "the <code>findings</code> dataset holds them all.</p><table><tr><th>status<th>source"
        )
        out_lines += [
            f"<tr><td class={status}>{status}<td>{_source(uri)}"
            for status, uri in failed.slice(CAPS.detailed, CAPS.listed - CAPS.detailed)
            .select("status", "source_uri")
            .iter_rows()
        ]
        out_lines.append("</table>")
    if run.failed_count > CAPS.listed:  # a page of 100,000 rows is read by nobody: counted
        listed = Counter(failed.head(CAPS.listed)["status"].to_list())
        rest = {s: n - listed[s] for s, n in run.statuses.items() if s != "valid"}
        out_lines.append(
            f"<p>… and {run.failed_count - CAPS.listed} more failed reports ("
            + ", ".join(f"{rest[s]} {s}" for s in STATUSES if rest.get(s))
            + "), not listed: the <code>reports</code> and <code>findings</code> datasets hold them all.</p>"
        )
    return "\n".join(out_lines) + "\n"


def _head(title: str) -> str:
    return (
        f"<!doctype html><html lang=zh-CN><meta charset=utf-8><title>{html.escape(title)}</title>"
        f"<style>{_STYLE}</style>"
    )


def _per_rule(findings: pl.LazyFrame) -> tuple[dict[str, int], dict[str, int]]:
    """Per rule: the reports it found something in, and its findings."""
    per_rule = findings.group_by("rule_id").agg(pl.col("report_id").n_unique(), pl.len()).collect(engine="streaming")
    return dict(per_rule.select("rule_id", "report_id").iter_rows()), dict(
        per_rule.select("rule_id", "len").iter_rows()
    )


def _rules_table(t, run: RunSummary, failed: dict[str, int], counts: dict[str, int]) -> list[str]:
    """Per rule: reports checked, passed, failed (reports it found something in), and its findings."""
    readable = len(run) - run.statuses["unreadable"]
    e = html.escape
    lines = [
        "<h2>Rules</h2><table><tr><th>rule<th>what it checks<th>severity<th>reports checked<th>passed"
        "<th>failed<th>findings"
    ]
    suite_rules = {r.id for r in t.rules}
    for r in [*t.rules, *t.spec.findings]:
        n_failed = failed.get(r.id, 0)
        if r.id not in suite_rules and not n_failed:
            continue  # extractor notes that did not occur
        checked = readable if r.id in suite_rules else len(run)
        cls = "n invalid" if n_failed and r.severity == "error" else "n"
        lines.append(
            f"<tr><td><code>{e(r.id)}</code><td>{e(r.description)}<td>{r.severity}"
            f'<td class=n>{checked}<td class=n>{checked - n_failed}<td class="{cls}">{n_failed}'
            f"<td class=n>{counts.get(r.id, 0)}"
        )
    lines.append("</table>")
    return lines


def _years_table(run: RunSummary) -> list[str]:
    years = run.years()
    lines = ["<h2>Health per year</h2><table><tr><th>year<th>reports<th>valid<th>invalid<th>unreadable<th>valid share"]
    for y in sorted(years, key=lambda y: (y is None, y or 0)):
        c = years[y]
        total = sum(c.values())
        lines.append(
            f"<tr><td>{y if y is not None else 'unknown'}<td class=n>{total}"
            + "".join(f"<td class=n>{c.get(s, 0)}" for s in STATUSES)
            + f"<td class=n>{100 * c.get('valid', 0) / total:.0f}%"
        )
    lines.append("</table>")
    return lines


def _report_section(t, r: dict, findings: list[dict], cells: dict[str, pl.DataFrame]) -> list[str]:
    e = html.escape
    errors = [f for f in findings if f["severity"] == "error"]
    warnings = [f for f in findings if f["severity"] != "error"]
    anchor = r["report_id"][:16]
    lines = [
        f"<section class=report id=r{anchor}><h3><span class={r['status']}>{r['status']}</span> "
        f"{e(str(r.get('agency') or '(no agency named)'))} {r.get('year') or ''}</h3>",
        f"<p>Source: {_source(r['source_uri'])} · format {e(str(r.get('source_format') or 'unknown'))} · "
        f"report <code>{r['report_id'][:16]}</code></p><ul>",
    ]
    for f in errors[: CAPS.findings]:
        lines.append(f"<li><code>{e(f['rule_id'])}</code> {_explain(t, f, cells)}")
    if len(errors) > CAPS.findings:
        lines.append(f"<li>… and {len(errors) - CAPS.findings} more errors")
    lines.append("</ul>")
    if warnings:
        rules = Counter(f["rule_id"] for f in warnings)
        lines.append(
            "<p class=muted>Warnings: "
            + ", ".join(f"<code>{e(k)}</code> ×{n}" for k, n in sorted(rules.items()))
            + "</p>"
        )
    marks = _marks(t, errors, warnings)
    for dataset in ("applications", "reviews_litigation", "active_disclosure"):
        frame = cells.get(dataset)
        if frame is not None and frame.height:
            lines += _grid(t, dataset, frame, marks)
    lines.append("</section>")
    return lines


def _explain(t, f: dict, cells: dict[str, pl.DataFrame]) -> str:
    """A finding in words; a broken sum written out in the template's labels with the printed values."""
    e = html.escape
    rule = next((r for r in t.rules if r.id == f["rule_id"]), None)
    if isinstance(rule, SumRule) and f.get("cells") and rule.dataset in cells:
        values = _values(cells[rule.dataset], rule.dataset)
        names = f["cells"]
        left_codes = set(rule.sides()[0])
        along_index = 0 if rule.along == CELL_KEYS[rule.dataset][0] else 1
        left = [c for c in names if _codes(c)[along_index] in left_codes]
        right = [c for c in names if c not in left]

        def side(named: list[str]) -> str:
            shown = [c for c in named if values.get(c) != "0"] if len(named) > 3 else named
            text = " + ".join(f"{_cell_label(t, c, skip=1 - along_index)} {values.get(c, '—')}" for c in shown)
            return text + (f" + {len(named) - len(shown)} more at 0" if len(shown) < len(named) else "")

        # （七）总计·自然人 20 ≠ 26 = （一）予以公开 6 + （二）部分公开 6 + …
        per = _label(t, rule.dataset, rule.per, _codes(names[0])[1 - along_index])
        lhs = side(left) if len(left) == 1 else f"{side(left)} = {f.get('observed')}"
        rhs = side(right) if len(right) == 1 else f"{f.get('expected')} = {side(right)}"
        return f"<span class=sum>{e(per)}: {e(lhs)} ≠ {e(rhs)}</span>"
    cell = f.get("cells") or []
    where = (" (" + ", ".join(_cell_label(t, c) for c in cell[:3]) + ")") if cell and ":" in cell[0] else ""
    seen = f" — printed: {e(str(f['observed']))}" if f.get("observed") not in (None, "") else ""
    return f"{e(f['message'])}{e(where)}{seen}"


def _marks(t, errors: list[dict], warnings: list[dict]) -> dict[str, str]:
    """Cell -> its class: `bad total` for the total a broken sum fails (the one cell of its side),
    `bad` for a cell an error names alone, `part` for the other cells of a broken sum, `warn`."""
    sums = {r.id: r for r in t.rules if isinstance(r, SumRule)}
    marks: dict[str, str] = {c: "warn" for f in warnings for c in (f.get("cells") or [])}
    for f in errors:
        named = f.get("cells") or []
        rule = sums.get(f["rule_id"])
        if rule is None:
            marks.update({c: "bad" for c in named if marks.get(c) != "bad total"})
            continue
        along_index = 0 if rule.along == CELL_KEYS[rule.dataset][0] else 1
        totals = {side[0] for side in rule.sides() if len(side) == 1}  # a side of one code is a total
        for c in named:
            if ":" in c and _codes(c)[along_index] in totals:
                marks[c] = "bad total"
            elif marks.get(c) not in ("bad", "bad total"):
                marks[c] = "part"
    return marks


def _grid(t, dataset: str, frame: pl.DataFrame, marks: dict[str, str]) -> list[str]:
    """A section's cells as a table in the template's order, as the report printed them: its group
    labels (三、本年度办理结果, （三）不予公开 …) in their own columns, spanning their rows."""
    a, b = CELL_KEYS[dataset]
    rows = sorted(frame[a].unique().to_list(), key=_order(dataset, a))
    cols = sorted(frame[b].unique().to_list(), key=_order(dataset, b))
    raw = {(x, y): v for x, y, v in frame.select(a, b, "raw").iter_rows()}
    groups = {r.code: r.group for r in t.spec.applications.rows} if dataset == "applications" else {}
    depth = 1 + max((len(groups.get(x, ())) for x in rows), default=0)  # header columns
    number, title = t.spec.sections[dataset]  # the section's heading as the template prints it
    heading = f"{number}、{title}"
    e = html.escape
    failing = any(c.startswith(dataset + ":") and m != "warn" for c, m in marks.items())
    lines = [
        f"<details{' open' if failing else ''}><summary>{heading}</summary>",
        f"<table><tr><th colspan={depth}>" + "".join(f"<th>{e(_label(t, dataset, b, c))}" for c in cols),
    ]
    for i, x in enumerate(rows):
        group = groups.get(x, ())
        heads = []
        for level, label in enumerate(group):
            if i and groups.get(rows[i - 1], ())[: level + 1] == group[: level + 1]:
                continue  # spanned from a row above
            span = 1
            while i + span < len(rows) and groups.get(rows[i + span], ())[: level + 1] == group[: level + 1]:
                span += 1
            heads.append(f"<th rowspan={span}>{e(label)}" if span > 1 else f"<th>{e(label)}")
        own = depth - len(group)
        heads.append(f"<th colspan={own}>" if own > 1 else "<th>")
        tds = []
        for y in cols:
            name = f"{dataset}:{x}/{y}"
            cls = f"n {marks[name]}" if name in marks else "n"
            v = raw.get((x, y))
            tds.append(f'<td class="{cls}" title="{e(name)}">{e(v) if v is not None else ""}')
        lines.append("<tr>" + "".join(heads) + e(_label(t, dataset, a, x)) + "".join(tds))
    lines.append("</table></details>")
    return lines


@cache
def _orders() -> dict[tuple[str, str], dict[str, int]]:
    """Per (dataset, column), each code's place in the template (codes repeat across datasets: `other`)."""
    out: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    for i, d in enumerate(template().dictionary_rows()):
        out[d["dataset"], d["column"]][d["code"]] = i
    return out


def _order(dataset: str, column: str):
    order = _orders()[dataset, column]
    return lambda code: order.get(code, 1e9)


def _source(uri: str) -> str:
    e = html.escape
    if str(uri).startswith(("http://", "https://")):
        return f'<a href="{e(uri)}">{e(uri)}</a>'
    return f"<code>{e(str(uri))}</code>"


def _codes(cell: str) -> tuple[str, str]:
    x, _, y = cell.split(":", 1)[1].partition("/")
    return x, y


@cache
def _labels() -> dict[tuple[str, str, str], str]:
    return {(d["dataset"], d["column"], d["code"]): d["label"] for d in template().dictionary_rows()}


def _label(t, dataset: str, column: str, code: str) -> str:
    return _labels().get((dataset, column, code), code)


def _cell_label(t, cell: str, skip: int | None = None) -> str:
    """'applications:handled_total/natural_person' -> '（七）总计·自然人' (one part when `skip` names the other)."""
    dataset = cell.split(":", 1)[0]
    if dataset not in CELL_KEYS:
        return cell
    a, b = CELL_KEYS[dataset]
    x, y = _codes(cell)
    parts = [_label(t, dataset, a, x), _label(t, dataset, b, y)]
    if skip is not None:
        del parts[skip]
    return "·".join(parts)


def _values(frame: pl.DataFrame, dataset: str) -> dict[str, str]:
    a, b = CELL_KEYS[dataset]
    return {
        f"{dataset}:{x}/{y}": (raw if raw not in (None, "") else "空")
        for x, y, raw in frame.select(a, b, "raw").iter_rows()
    }


def _files(out: Path, dataset: str, among: list[str] | None = None) -> list[Path]:
    """The dataset's files (and its quarantine's); of those `among` (paths below `out`) only, when given."""
    if among is None:
        return sorted([*(out / dataset).glob("*/*.parquet"), *(out / "quarantine" / dataset).glob("*/*.parquet")])
    return sorted(out / rel for rel in among if rel.startswith((f"{dataset}/", f"quarantine/{dataset}/")))


def _holding(out: Path, ids: list[str]) -> list[str] | None:
    """The files (paths below `out`, every dataset) that hold the reports `ids`: those of the
    locations (nianbao/warehouse/index.py) of their `reports` rows, found by reading the `reports`
    files' ids only. A page reads the files of the reports it shows, not the warehouse; nor the
    index, which holds every report's id (a 100,000-report warehouse's: +30 MiB). None (every file)
    for a folder without `reports`: a bucket run's page is made in one holding only its failed
    reports' rows (artifacts.validation_page)."""
    if not ids:
        return []
    listed = index.listing(out)
    merged = index.replaced(out, listed)  # files a compaction merged, until it deletes them
    listed = {rel: ident for rel, ident in listed.items() if rel not in merged}
    reports = sorted(str(out / rel) for rel in listed if rel.startswith("reports/"))
    if not reports:
        return None
    found = (
        pl.scan_parquet(reports, hive_partitioning=False, include_file_paths="path")
        .select("report_id", "path")
        .filter(pl.col("report_id").is_in(ids))
        .select("path")
        .unique()
        .collect(engine="streaming")
    )
    at = {index.location(Path(p).relative_to(out).as_posix()) for p in found["path"]}
    return [rel for rel in listed if index.location(rel) in at]


def _stored_findings(
    out: Path, ids: pl.Series, shown: list[str] | None = None, among: list[str] | None = None
) -> pl.LazyFrame | None:
    """The findings the warehouse holds of the reports `ids`, read when asked (a run's are many);
    of the reports `shown` only, from the files `among` (_holding), when named."""
    files = _files(out, "findings", among)
    if not files or not len(ids):
        return None
    found = pl.scan_parquet(files, hive_partitioning=True)
    if shown is not None:
        found = found.filter(pl.col("report_id").is_in(shown))
    else:  # a run's ids joined, hashed once (`is_in` hashed its 100,000 ids again for each file read)
        found = found.join(pl.LazyFrame([ids.rename("report_id")]), on="report_id", how="semi")
    return found.select("report_id", "rule_id", "severity", "message", "cells", "expected", "observed")


def _stored_cells(out: Path, ids: list[str], among: list[str] | None = None) -> dict[str, dict[str, pl.DataFrame]]:
    """The cells of the reports `ids`, by report and dataset, from the files `among` (_holding) when given."""
    found: dict[str, dict[str, pl.DataFrame]] = defaultdict(dict)
    if not ids:
        return found
    for dataset in CELL_KEYS:
        files = _files(out, dataset, among)
        if not files:
            continue
        f = pl.scan_parquet(files, hive_partitioning=True).filter(pl.col("report_id").is_in(ids)).collect()
        for (rid,), part in f.group_by("report_id"):
            found[rid][dataset] = part
    return found
