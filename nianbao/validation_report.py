"""A run's validation report as one self-contained HTML page (no scripts, fonts or styles fetched
from anywhere: GX's Data Docs load theirs from public CDNs, which operators' networks may not reach)."""
from __future__ import annotations

import html
from collections import Counter
from pathlib import Path

_STYLE = """body{font:14px/1.5 system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}th{background:#f3f3f3}
.invalid{color:#a40}.unreadable{color:#a00}.valid{color:#070}code{font-size:90%}"""


def render(summary: dict, run_id: str) -> str:
    reports, findings = summary["reports"], summary["findings"]
    status = Counter(r["status"] for r in reports)
    rules = Counter((f["rule_id"], f["severity"]) for f in findings)
    by_report: dict[str, list[dict]] = {}
    for f in findings:
        by_report.setdefault(f["report_id"], []).append(f)
    e = html.escape
    out = [f"<!doctype html><meta charset=utf-8><title>nianbao validation, run {e(run_id)}</title>",
           f"<style>{_STYLE}</style><h1>Validation report</h1><p>Run <code>{e(run_id)}</code>: "
           f"{len(reports)} reports.</p>", "<h2>Reports by status</h2><table><tr><th>status<th>reports"]
    out += [f"<tr><td class={s}>{s}<td>{n}" for s, n in sorted(status.items())]
    out += ["</table><h2>Findings by rule</h2><table><tr><th>rule<th>severity<th>findings"]
    out += [f"<tr><td><code>{e(r)}</code><td>{e(sev)}<td>{n}" for (r, sev), n in sorted(rules.items())]
    out += ["</table><h2>Reports that failed</h2><table><tr><th>status<th>report<th>source<th>findings"]
    for r in sorted((r for r in reports if r["status"] != "valid"), key=lambda r: (r["status"], r["source_uri"])):
        items = "".join(f"<li><code>{e(f['rule_id'])}</code> {e(f['message'])}" for f in by_report.get(r["report_id"], [])
                        if f["severity"] == "error")
        out.append(f"<tr><td class={r['status']}>{r['status']}<td>{e(str(r['agency'] or ''))} {r['year'] or ''}"
                   f"<br><code>{r['report_id'][:16]}</code><td>{e(r['source_uri'])}<td><ul>{items}</ul>")
    out.append("</table>")
    return "\n".join(out) + "\n"


def write(summary: dict, run_id: str, out: Path) -> Path:
    path = Path(out) / "validation" / f"{run_id}.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(summary, run_id), encoding="utf-8")
    return path
