"""`nianbao site WAREHOUSE --out DIR [--year YYYY] [--region CODE]`: a static, offline website of the
indicators and peers.

Pages: DIR/index.html (the years at a glance), DIR/region/<code>.html (a province or a prefecture:
its bodies in a sortable table, the main rates across them, a bodies × years heatmap) and
DIR/agency/<agency_id>.html (its reports, each indicator with its counts, peer rank, interval and
history, its data quality and findings). Pages are jinja2 templates (templates/), charts hand-drawn
SVG inline in them, one small inline script sorts tables; nothing is loaded from anywhere, every
link is relative (or an http(s) source), so the folder opens from file:// and can be copied whole.

The site renders the warehouse; it computes no indicator. It is built a province at a time: a
province's rows are read with their filters pushed down to the Parquet scan (nianbao/report/site/read.py),
its pages written, and let go before the next.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import jinja2
import polars as pl
from markupsafe import Markup, escape

from nianbao import __version__
from nianbao.model.template import template
from nianbao.report.site import charts, read
from nianbao.warehouse import storage

MAIN_RATES = ["disclosure_rate", "not_held_rate", "withheld_rate", "rejected_rate", "review_correction_rate"]
TABLE_COUNT = "applications_received"  # the region table's first column: how many requests a body got
LEVELS = {
    "province": "省级政府",
    "city": "市级政府",
    "county": "县级政府",
    "township": "乡镇（街道）",
    "department": "部门",
    "unknown": "未知",
}
UNKNOWN_REGION = "unknown"  # the page of agencies whose region is not known


@dataclass(frozen=True)
class Shown:
    bins: int = 10  # the glance's histograms: tenths of a rate
    problems: int = 12  # a page's most common problems


SHOWN = Shown()


@dataclass(frozen=True)
class Indicator:
    id: str
    name: str  # short, for headers: 公开率
    full: str  # as defined: 公开率（予以公开与部分公开占办理总数）
    en: str
    unit: str  # count, rate, ratio
    min_denominator: float

    @property
    def rate(self) -> bool:
        return self.unit == "rate"

    def text(self, value) -> str:
        return _pct(value) if self.unit == "rate" else _count(value) if self.unit == "count" else _ratio(value)


@cache
def indicators() -> dict[str, Indicator]:
    """The indicators' definitions, as template.toml holds them (nianbao/check/indicators.py computes them)."""
    return {
        d.id: Indicator(d.id, d.name_zh.split("（")[0], d.name_zh, d.name_en, d.unit, d.min_denominator)
        for d in template().indicators
    }


def definition(code: str) -> Indicator:
    """A definition; an indicator the warehouse holds but the template no longer defines, by its id."""
    return indicators().get(code) or Indicator(code, code, code, code, "ratio", 0)


@dataclass
class Built:
    pages: int
    regions: int
    agencies: int


def build(wh: str | Path, out: str | Path, year: int | None = None, region: str | None = None) -> Built:
    """Write the site of `wh` (limited to `year` and to the region `region` if given) into `out`."""
    prefix = read.region_prefix(region) if region else None
    out = Path(out)
    for folder in ("region", "agency"):
        (out / folder).mkdir(parents=True, exist_ok=True)
    site = _Site(wh, out, year, prefix)
    everyone = read.agencies(wh, prefix)
    if prefix is None:
        provinces = sorted(everyone["region_code"].drop_nulls().str.slice(0, 2).unique().to_list())
        provinces += [UNKNOWN_REGION] if everyone["region_code"].null_count() else []
    else:
        provinces = [prefix[:2]]
    agencies = 0
    for province in provinces:
        rows = (
            everyone.filter(pl.col("region_code").is_null())
            if province == UNKNOWN_REGION
            else everyone.filter(pl.col("region_code").str.starts_with(province))
        )
        data = read.region(wh, rows, year)
        at = _Index.of(data)
        site.regions(data, at, province, prefix)
        site.agencies(data, at)
        agencies += rows.height
        del data, at  # the next province is read afresh
    site.glance(None if prefix is None else everyone["agency_id"])
    for folder in ("region", "agency"):  # pages of an earlier build that this one did not write
        for page in (out / folder).glob("*.html"):
            if page not in site.written:
                page.unlink()
    return Built(len(site.built) + agencies + 1, len(site.built), agencies)


def _pct(value) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def _ratio(value) -> str:
    return "—" if value is None else f"{value:.2f}"


def _count(value) -> str:
    if value is None:
        return "—"
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,.2f}"


@cache
def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("nianbao.report.site", "templates"),
        autoescape=True,
        trim_blocks=False,
        lstrip_blocks=False,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(pct=_pct, count=_count)
    return env


def agency_file(agency_id: str) -> str:
    """A page name for an agency id: the id itself where it is plain (hex), else a hash of it."""
    if re.fullmatch(r"[0-9A-Za-z_-]{1,64}", agency_id):
        return f"{agency_id}.html"
    return hashlib.sha256(agency_id.encode()).hexdigest()[:20] + ".html"


def source_href(uri: str | None) -> str | None:
    """Only http(s) sources are links: a local path means nothing to the reader's browser."""
    return uri if uri and re.match(r"https?://", uri, re.I) else None


def _level(level: str | None) -> str:
    return LEVELS.get(level or "unknown", level or "未知")


@dataclass
class _Index:
    """A province's rows as Python lookups, made once: its hundreds of pages then look up, never query."""

    of_record: dict[tuple[str, int], dict]  # (agency_id, year) -> the report shown
    values: dict[tuple[str, str], list]  # (report_id, indicator) -> [value, numerator, denominator]
    held: dict[str, set[str]]  # report_id -> the indicators it has
    peers: dict[tuple[str, str], list[list]]  # (report_id, indicator) -> its peers rows (GROUP..HIGH), province first
    reports: dict[str, list[dict]]  # agency_id -> its reports
    findings: dict[str, list[dict]]  # agency_id -> its findings
    quality: dict[str, dict[tuple[int, str], int]]  # agency_id -> (year, problem) -> findings

    @classmethod
    def of(cls, data: read.Region) -> _Index:
        values, held, peers, reports, findings, quality = (
            {},
            defaultdict(set),
            defaultdict(list),
            defaultdict(list),
            defaultdict(list),
            defaultdict(dict),
        )
        for rid, code, *v in data.indicators.select(
            "report_id", "indicator", "value", "numerator", "denominator"
        ).iter_rows():
            values[(rid, code)] = v
            held[rid].add(code)
        for rid, code, *p in (
            data.peers.sort(pl.col("peer_group").str.starts_with("prefecture"), "peer_group")
            .select("report_id", "indicator", "peer_group", "peers", "rank_pct", "peer_median", "low", "high")
            .iter_rows()
        ):
            peers[(rid, code)].append(p)
        for r in data.reports.iter_rows(named=True):
            reports[r["agency_id"]].append(r)
        agency_of = dict(data.reports.select("report_id", "agency_id").iter_rows())
        for f in data.findings.iter_rows(named=True):
            findings[agency_of[f["report_id"]]].append(f)
        for a, y, p, n in (
            data.quality.group_by("agency_id", "year", "problem").agg(pl.col("findings").sum()).iter_rows()
        ):
            quality[a][(y, p)] = n
        return cls(_of_record(data.reports), values, held, peers, reports, findings, quality)


class _Site:
    def __init__(self, wh, out: Path, year: int | None, prefix: str | None):
        self.wh, self.out, self.year, self.prefix = wh, out, year, prefix
        self.footer = (
            f"nianbao {__version__} · 由仓库 {wh if storage.is_remote(wh) else Path(wh).name} 生成"
            + (f" · {year} 年" if year else "")
            + (f" · 地区 {read.region_name(read.region_code(prefix))}" if prefix else "")
        )
        self.validation = None if storage.is_remote(wh) else Path(wh) / "validation"
        self._pages: dict[str, bool] = {}
        self.built: set[str] = set()  # the region pages written (codes), which others link to
        self.written: set[Path] = set()

    def _crumbs(self, region: str | None) -> list[tuple[str, str]]:
        """(name, code) of the built region pages above and at `region`."""
        if not region or region == UNKNOWN_REGION:
            return [("未知地区", UNKNOWN_REGION)] * (UNKNOWN_REGION in self.built)
        codes = dict.fromkeys([region[:2] + "0000", region[:4] + "00", region])
        return [(read.region_name(c), c) for c in codes if c in self.built]

    def _home(self) -> tuple[str, str]:
        return "全国" if self.prefix is None else read.region_name(read.region_code(self.prefix)), "../index.html"

    def _write(self, path: Path, page: str, **context) -> None:
        context.setdefault("crumbs", [])
        context.setdefault("sortable", False)
        html = _env().get_template(page).render(footer=self.footer, **context)
        path.write_text(html, encoding="utf-8")
        self.written.add(path)

    # ---------------------------------------------------------------- the years at a glance

    def glance(self, ids: pl.Series | None) -> None:
        g = read.glance(self.wh, ids, self.year, MAIN_RATES, SHOWN.bins)
        years = []
        for (y,), part in g.statuses.group_by("year", maintain_order=True):
            n = dict(part.select("status", "reports").iter_rows())
            total = sum(n.values())
            years.append(
                {
                    "year": y,
                    "reports": total,
                    "valid": n.get("valid", 0),
                    "invalid": n.get("invalid", 0),
                    "unreadable": n.get("unreadable", 0),
                    "valid_share": n.get("valid", 0) / total if total else None,
                    "agencies": part["agencies"][0],
                }
            )
        years.sort(key=lambda r: (r["year"] is None, r["year"] or 0))
        rate_years = sorted(y for y in g.medians["year"].unique().to_list() if y is not None)
        bins = defaultdict(dict)
        for y, ind, b, n in g.rates.iter_rows():
            bins[(y, ind)][b] = n
        medians = {(y, ind): m for y, ind, m, _ in g.medians.iter_rows()}
        rates = [
            {
                "name": definition(r).full,
                "en": definition(r).en,
                "charts": [
                    charts.histogram(f"{definition(r).name} {y}", bins.get((y, r), {}), SHOWN.bins, medians.get((y, r)))
                    for y in rate_years
                ],
            }
            for r in MAIN_RATES
        ]
        t = template()
        described = {r.id: r.description for r in [*t.rules, *t.spec.findings]}
        per_rule = (
            g.problems.group_by("rule_id", "severity")
            .agg(pl.col("reports").sum())
            .sort(["reports", "rule_id"], descending=[True, False])
            .head(SHOWN.problems)
        )
        problem_years = sorted(g.problems["year"].unique().to_list(), key=lambda y: (y is None, y or 0))
        by_year = {(r, y): n for r, y, n in g.problems.select("rule_id", "year", "reports").iter_rows()}
        problems = [
            {
                "rule_id": r,
                "severity": s,
                "reports": n,
                "description": described.get(r, ""),
                "per_year": [by_year.get((r, y), 0) for y in problem_years],
            }
            for r, s, n in per_rule.iter_rows()
        ]
        quality_years = [y["year"] for y in years]
        counted = {
            (y, p): (n, f) for y, p, n, f in g.quality.select("year", "problem", "reports", "findings").iter_rows()
        }
        quality = [
            {
                "label": p.label,
                "code": p.code,
                "per_year": [counted.get((y, p.code), (0, 0))[0] for y in quality_years],
                "findings": sum(f for (y, c), (_, f) in counted.items() if c == p.code),
            }
            for p in t.problems
        ]
        regions = []
        for p, reports, valid, agencies in g.regions.iter_rows():
            code = read.region_code(p) if p else UNKNOWN_REGION
            regions.append(
                {
                    "name": read.region_name(code) if p else "未知地区",
                    "code": code if p else None,
                    "href": f"region/{code}.html" if code in self.built else None,
                    "reports": reports,
                    "valid": valid,
                    "agencies": agencies,
                }
            )
        scope = read.region_name(read.region_code(self.prefix)) if self.prefix else "全国"
        self._write(
            self.out / "index.html",
            "glance.html",
            scope_name=scope,
            years=years,
            rates=rates,
            rate_years=rate_years,
            problems=problems,
            problem_years=problem_years,
            regions=regions,
            quality=quality,
            quality_years=quality_years,
            years_text=_years_text([y["year"] for y in years]),
            sortable=True,
            crumbs=[(scope, None)],
        )

    # ---------------------------------------------------------------- regions

    def regions(self, data: read.Region, at: _Index, province: str, prefix: str | None) -> None:
        """The pages of the province (unless the scope is inside it) and of its prefectures; of a
        county alone when the scope is one."""
        codes = data.agencies["region_code"]
        if province == UNKNOWN_REGION:
            self._region(data, at, UNKNOWN_REGION, data.agencies, [])
            return
        if prefix is not None and len(prefix) == 6:
            self._region(data, at, prefix, data.agencies, [])
            return
        prefectures = sorted({c[:4] for c in codes.drop_nulls().to_list() if c[2:4] != "00"})
        if prefix is None or len(prefix) == 2:
            subs = [
                {
                    "name": read.region_name(read.region_code(p)),
                    "href": f"{read.region_code(p)}.html",
                    "agencies": int((codes.str.slice(0, 4) == p).sum()),
                }
                for p in prefectures
            ]
            self._region(data, at, read.region_code(province), data.agencies, subs)
        for p in prefectures:
            if prefix is None or len(prefix) == 2 or p == prefix:
                self._region(
                    data, at, read.region_code(p), data.agencies.filter(pl.col("region_code").str.starts_with(p)), []
                )

    def _region(self, data: read.Region, at: _Index, code: str, agencies: pl.DataFrame, subs: list[dict]) -> None:
        ids = agencies["agency_id"]
        reports = data.reports.filter(pl.col("agency_id").is_in(ids.implode()))
        years = sorted(y for y in reports["year"].unique().to_list() if y is not None)
        mine = data.indicators.filter(pl.col("agency_id").is_in(ids.implode()))
        # the table's year: the latest with indicators (a year of invalid reports only has none)
        latest = self.year or mine["year"].max() or (years[-1] if years else None)
        of_record, values = at.of_record, at.values
        columns = [definition(c) for c in [TABLE_COUNT, *MAIN_RATES]]
        bodies = []
        for a in agencies.sort("name").iter_rows(named=True):
            rid = of_record.get((a["agency_id"], latest), {}).get("report_id")
            status = of_record.get((a["agency_id"], latest), {}).get("status")
            cells = []
            for ind in columns:
                v = values.get((rid, ind.id))
                value = v[VALUE] if v else None
                cells.append(
                    {
                        "value": value,
                        "n": v[DENOMINATOR] if v and ind.unit != "count" else None,
                        "text": ind.text(value),
                        "unit": ind.unit,
                    }
                )
            bodies.append(
                {
                    "name": a["name"],
                    "href": f"../agency/{agency_file(a['agency_id'])}",
                    "level": a["level"],
                    "level_name": _level(a["level"]),
                    "region_name": read.region_name(a["region_code"]),
                    "status": status,
                    "cells": cells,
                    "agency_id": a["agency_id"],
                }
            )
        rates = [definition(r) for r in MAIN_RATES]
        strip_rows = []
        for k, ind in enumerate(rates):
            dots = [
                (b["name"], b["cells"][k + 1]["value"], b["cells"][k + 1]["n"])
                for b in bodies
                if b["cells"][k + 1]["value"] is not None
            ]
            strip_rows.append((ind.name, dots, _median([d[1] for d in dots])))
        heat_bodies, heat_years = [], sorted(y for y in mine["year"].unique().to_list() if y is not None)
        for b in bodies:
            per = {}
            for y in heat_years:
                rid = of_record.get((b["agency_id"], y), {}).get("report_id")
                for ind in rates:
                    v = values.get((rid, ind.id))
                    per[(ind.id, y)] = (v[VALUE], v[DENOMINATOR]) if v else (None, None)
            heat_bodies.append((b["name"], b["href"], per))
        heat = Markup(charts.heatmap([(r.id, r.name) for r in rates], heat_years, heat_bodies))
        name = "未知地区的机关" if code == UNKNOWN_REGION else read.region_name(code)
        crumbs = [self._home(), *((n, f"{c}.html") for n, c in self._crumbs(code) if c != code), (name, None)]
        self.built.add(code)
        self._write(
            self.out / "region" / f"{code}.html",
            "region.html",
            name=name,
            code="" if code == UNKNOWN_REGION else code,
            subregions=subs,
            body_count=len(bodies),
            body_rows=Markup("".join(_body_row(b) for b in bodies)),
            columns=columns,
            year=latest,
            report_count=reports.height,
            years_text=_years_text(years),
            strip_chart=charts.strip(strip_rows),
            heat=heat,
            sortable=True,
            crumbs=crumbs,
        )

    # ---------------------------------------------------------------- agencies

    def agencies(self, data: read.Region, at: _Index) -> None:
        for a in data.agencies.iter_rows(named=True):
            self._agency(a, at)

    def _validation_href(self, run_id: str | None) -> str | None:
        if self.validation is None or not run_id:
            return None
        if run_id not in self._pages:
            self._pages[run_id] = (self.validation / f"{run_id}.html").is_file()
        if not self._pages[run_id]:
            return None
        rel = os.path.relpath(self.validation.resolve() / f"{run_id}.html", (self.out / "agency").resolve())
        return Path(rel).as_posix()

    def _agency(self, a: dict, at: _Index) -> None:
        agency = a["agency_id"]
        reports = sorted(
            at.reports.get(agency, []), key=lambda r: (r["year"] is None, -(r["year"] or 0), r["report_id"])
        )
        rows = [
            {**r, "source_href": source_href(r["source_uri"]), "validation_href": self._validation_href(r["run_id"])}
            for r in reports
        ]
        years = sorted({r["year"] for r in reports if r["year"] is not None})
        held = {i for r in reports for i in at.held.get(r["report_id"], ())}
        shown = []
        for code in [c for c in indicators() if c in held] + sorted(held - set(indicators())):
            d = definition(code)
            per_year, points = [], []
            for y in years:
                rid = at.of_record.get((agency, y), {}).get("report_id")
                v = at.values.get((rid, code))
                if v is None:
                    points.append((y, None, None, None, None))
                    continue
                groups = at.peers.get((rid, code), [])
                first = groups[0] if groups else None
                points.append((y, v[0], *((first[LOW], first[HIGH], first[MEDIAN]) if first else (None, None, None))))
                per_year.append((y, v, groups))
            if per_year:
                shown.append(
                    _indicator_rows(d, per_year[::-1], charts.sparkline(points, d.rate, d.text))
                )  # latest first
        quality = at.quality.get(agency, {})
        problems = template().problems if quality else []
        quality_rows = [
            {"year": y, "counts": [quality.get((y, p.code), 0) for p in problems]}
            for y in sorted({y for y, _ in quality}, key=lambda y: (y is None, -(y or 0)))
        ]
        found = defaultdict(list)
        for f in sorted(at.findings.get(agency, []), key=lambda f: (f["severity"], f["rule_id"])):
            found[f["year"]].append(f)
        by_year = [{"year": y, "rows": found[y]} for y in sorted(found, key=lambda y: (y is None, -(y or 0)))]
        region = a["region_code"]
        crumbs = [self._home(), *((n, f"../region/{c}.html") for n, c in self._crumbs(region)), (a["name"], None)]
        self._write(
            self.out / "agency" / agency_file(a["agency_id"]),
            "agency.html",
            agency=a,
            level_name=_level(a["level"]),
            region_name=read.region_name(region),
            other_names=[n for n in (a.get("names") or []) if n != a["name"]],
            reports=rows,
            indicator_rows=Markup("".join(shown)),
            quality=quality_rows,
            quality_columns=problems,
            findings=by_year,
            crumbs=crumbs,
        )


# a `peers` row as the index holds it: (peer_group, peers, rank_pct, peer_median, low, high)
GROUP, PEERS, RANK, MEDIAN, LOW, HIGH = range(6)
# an `indicators` row as the index holds it: (value, numerator, denominator)
VALUE, NUMERATOR, DENOMINATOR = range(3)


def _body_row(b: dict) -> str:
    """A body's row of a region's table: name, level, place, its report's status, then each main
    indicator's value and (for a rate) its n. Written as a string: a province has thousands."""
    cells = "".join(
        f'<td class="n">{c["text"]}' + (f'<td class="n muted">{_count(c["n"])}' if c["unit"] != "count" else "")
        for c in b["cells"]
    )
    status = b["status"]
    return (
        f'<tr><td><a href="{escape(b["href"])}">{escape(b["name"])}</a><td>{escape(b["level_name"])}'
        f'<td>{escape(b["region_name"])}<td class="{escape(status or "nr")}">{escape(status or "无")}\n{cells}</tr>\n'
    )


def _indicator_rows(d: Indicator, years: list[tuple[int, tuple, list[tuple]]], chart: str) -> str:
    """An indicator's rows of the agency page, a row per year: value, counts, rank in each peer group
    (or why not ranked), interval, peer medians; its history chart beside them. Written as strings:
    a province has thousands of these pages (escape() on everything not a number)."""
    out = []
    for i, (year, v, groups) in enumerate(years):
        counts = _count(v[NUMERATOR]) if d.unit == "count" else f"{_count(v[NUMERATOR])} / {_count(v[DENOMINATOR])}"
        ranks = (
            "<br>".join(f"{escape(group_name(p[GROUP]))}：{_rank(p, v, d)}" for p in groups)
            or '<span class="nr">—</span>'
        )
        first = groups[0] if groups else None
        interval = f"{_pct(first[LOW])} – {_pct(first[HIGH])}" if first and first[LOW] is not None else "—"
        medians = "<br>".join(d.text(p[MEDIAN]) for p in groups) or "—"
        head = (
            f'<th rowspan="{len(years)}">{escape(d.full)}<br><span class="small muted">{escape(d.en)}</span>'
            if i == 0
            else ""
        )
        tail = f'<td rowspan="{len(years)}">{chart}' if i == 0 else ""
        out.append(
            f'<tr id="{escape(d.id)}-{year}">\n{head}\n<td>{year}<td class="n value">{d.text(v[VALUE])}'
            f'<td class="n counts">{counts}\n<td class="small">{ranks}\n<td class="n small">{interval}\n'
            f'<td class="n small">{medians}\n{tail}</tr>\n'
        )
    return "".join(out)


def _rank(p: tuple, v: tuple, d: Indicator) -> str:
    """'第 50 百分位（共 2）', or why the report is not ranked in the group."""
    if p[RANK] is not None:
        return f"第 {100 * p[RANK]:.0f} 百分位（共 {p[PEERS]:,}）"
    if v[VALUE] is None:
        reason = "无数值"
    elif d.unit != "count" and v[DENOMINATOR] is not None and v[DENOMINATOR] < d.min_denominator:
        reason = f"分母 {_count(v[DENOMINATOR])} 小于 {_count(d.min_denominator)}"
    elif p[PEERS] <= 1:
        reason = "同组没有其他可排名的报告"
    else:
        reason = ""
    return f'<span class="nr">未排名{f"（{reason}）" if reason else ""}</span>'


@cache
def group_name(group: str) -> str:
    """A peer group as the reader says it: 'province:32:county' -> '江苏省·县级政府'."""
    kind, _, rest = group.partition(":")
    area, _, level = rest.partition(":")
    if kind not in ("province", "prefecture") or not area.isdigit():
        return group
    return f"{read.region_name(read.region_code(area))}·{_level(level)}"


def _of_record(reports: pl.DataFrame) -> dict[tuple[str, int], dict]:
    """The report shown for an agency's year: its valid one (the latest published, where it has two)."""
    ordered = reports.sort(
        [pl.col("status") != "valid", pl.col("published_on"), pl.col("report_id")],
        descending=[False, True, False],
        nulls_last=True,
    )
    out = {}
    for r in ordered.select("agency_id", "year", "report_id", "status").iter_rows(named=True):
        out.setdefault((r["agency_id"], r["year"]), r)
    return out


def _median(values: list[float]) -> float | None:
    return pl.Series(values, dtype=pl.Float64).median() if values else None


def _years_text(years: list) -> str:
    known = sorted(y for y in years if y is not None)
    if not known:
        return "无年度"
    return f"{known[0]} 年" if known[0] == known[-1] else f"{known[0]}–{known[-1]} 年"


def parser(p, year_type) -> None:
    p.description = (
        "Write a static website of the indicators and peers (the years at a glance, a page per "
        "province, prefecture and agency) that opens offline, from file://."
    )
    p.add_argument("warehouse", metavar="WAREHOUSE", help="warehouse folder or s3://bucket/prefix")
    p.add_argument(
        "--out",
        required=True,
        metavar="DIR",
        help="the site's folder (rewritten; pages an earlier build left are removed)",
    )
    p.add_argument("--year", type=year_type, help="only this year's reports")
    p.add_argument(
        "--region",
        metavar="CODE",
        help="only this region: a 6-digit 行政区划代码 (320000 a province, 320800 a prefecture)",
    )


def run(args) -> int:
    """The command's `site`: exit 0 written, 2 usage (no such warehouse, a bad region), 3 it failed."""
    import sys
    import time

    if not storage.is_remote(args.warehouse) and not Path(args.warehouse).is_dir():
        print(f"nianbao: {args.warehouse} is not a warehouse folder", file=sys.stderr)
        return 2
    if args.region:
        try:
            read.region_prefix(args.region)
        except ValueError as e:
            print(f"nianbao: --region: {e}", file=sys.stderr)
            return 2
    started = time.monotonic()
    try:
        built = build(args.warehouse, args.out, args.year, args.region)
    except (OSError, pl.exceptions.PolarsError) as e:
        print(f"nianbao: the site could not be written: {e}", file=sys.stderr)
        return 3
    print(
        f"site: {built.pages:,} pages ({built.regions:,} regions, {built.agencies:,} agencies) in "
        f"{time.monotonic() - started:.1f} s; open {Path(args.out).resolve() / 'index.html'}"
    )
    return 0


def beside(out: str) -> str:
    """The site's default place: a folder `site` beside the warehouse (data/warehouse -> data/site;
    s3://bucket/nianbao/warehouse -> s3://bucket/nianbao/site)."""
    if storage.is_remote(out):
        return str(storage.path(out.rstrip("/")).parent / "site")
    return str(Path(out).resolve().parent / "site")


def build_at(out: str, site_out: str | None = None) -> tuple[Built, str, str]:
    """The site of the warehouse `out` written into `site_out` (default: beside it); on a bucket it is
    built in a local folder and copied up. Returns what was built, where, and its index page's address."""
    import tempfile

    target = site_out or beside(out)
    if storage.is_remote(target):
        with tempfile.TemporaryDirectory(prefix="nianbao-site-") as tmp:
            built = build(out, tmp)
            remote = storage.path(target)
            for page in sorted(Path(tmp).rglob("*.html")):
                (remote / page.relative_to(tmp).as_posix()).write_bytes(page.read_bytes())
        return built, target, f"{target.rstrip('/')}/index.html"
    built = build(out, target)
    return built, target, (Path(target).resolve() / "index.html").as_uri()
