"""`nianbao site`: the static site over a warehouse of generated reports run through the real
pipeline, indicators and peers; the pages show the numbers the datasets hold (read back with DuckDB),
escape what documents say, and open in headless Chromium from file:// loading nothing else."""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path

import duckdb
import pytest
from browser import CHROMIUM, visit
from conftest import ROOT, artifacts
from sample_years import report_text

from nianbao.acquire.sources import resolve
from nianbao.check import across, indicators
from nianbao.report import site
from nianbao.run import pipeline
from nianbao.warehouse import publish

HONGZE = "淮安市洪泽区人民政府"
XUANWU = "南京市玄武区人民政府"
HOSTILE = '淮安市清江浦区<script>alert("x")</script>局'
HOSTILE_TITLE = "<img src=x onerror=alert(1)>年度报告"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    """Two years of 洪泽区 (its 2023 carried-over breaks the chain: a finding), one of 岔河镇 (18 new
    requests, not 16), 淮安市 and 玄武区 (carrying forward 5, not 2), an invalid 淮安市 2024, and a manifest row naming its body
    and title in HTML."""
    docs = tmp_path_factory.mktemp("docs")
    texts = {
        "hongze2022": report_text(HONGZE, 2022),
        "hongze2023": report_text(HONGZE, 2023),
        "chahe2023": report_text("淮安市洪泽区岔河镇人民政府", 2023, carried_forward=4),
        "huaian2023": report_text("淮安市人民政府", 2023),
        "xuanwu2023": report_text(XUANWU, 2023, carried_forward=5),
        "huaian2024": (ROOT / "data/samples/sample_invalid_2024.txt")
        .read_text(encoding="utf-8")
        .replace("示例市绿水街道办事处", "淮安市人民政府"),
        "qingjiangpu2023": report_text("淮安市清江浦区人民政府", 2023),
    }
    for name, text in texts.items():
        (docs / f"{name}.txt").write_text(text, encoding="utf-8")
    with open(docs / "manifest.csv", "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([["uri", "agency", "title"], ["qingjiangpu2023.txt", HOSTILE, HOSTILE_TITLE]])
    specs = [str(docs / f"{n}.txt") for n in texts if n != "qingjiangpu2023"] + [str(docs / "manifest.csv")]
    out = tmp_path_factory.mktemp("wh")
    frames = pipeline.process_batch(resolve(specs), "run-1", processes=False)
    publish.publish(out, frames)
    across.check(out, frames["reports"]["report_id"].to_list(), "run-1")
    indicators.compute(out)
    (out / "validation").mkdir()
    (out / "validation" / "run-1.html").write_text("<!doctype html><title>run-1</title>", encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def built(warehouse, tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    return out, site.build(warehouse, out)


def _agency(warehouse: Path, name: str) -> str:
    return duckdb.sql(
        f"select agency_id from read_parquet('{warehouse}/agencies/agencies.parquet') where name = '{name}'"
    ).fetchall()[0][0]


def _indicator(warehouse: Path, name: str, year: int, code: str) -> tuple[float, float, float]:
    return duckdb.sql(f"""
        select i.value, i.numerator, i.denominator
        from read_parquet('{warehouse}/indicators/*/*.parquet', hive_partitioning=true) i
        join read_parquet('{warehouse}/agencies/agencies.parquet') a using (agency_id)
        where a.name = '{name}' and i.year = {year} and i.indicator = '{code}'""").fetchall()[0]


def _row(html: str, row_id: str) -> str:
    start = html.index(f'<tr id="{row_id}">')
    return html[start : html.index("</tr>", start)]


def test_agency_page_shows_each_indicator_with_its_counts_rank_and_interval(warehouse, built):
    out, _ = built
    page = (out / "agency" / f"{_agency(warehouse, HONGZE)}.html").read_text(encoding="utf-8")
    # the sample's section 三: (予以公开 11 + 部分公开 2) / 总计 15, as the indicators dataset holds it
    assert _indicator(warehouse, HONGZE, 2023, "disclosure_rate") == (13 / 15, 13, 15)
    row = _row(page, "disclosure_rate-2023")
    assert '<td class="n value">86.7%' in row and '<td class="n counts">13 / 15' in row
    # ranked among Jiangsu's county governments (洪泽区 and 玄武区, the same 13/15: the middle), not
    # in 淮安市 where it is the only one; the Wilson interval of 13 of 15
    assert "江苏省·县级政府：第 50 百分位（共 2）" in row
    assert '淮安市·县级政府：<span class="nr">未排名（同组没有其他可排名的报告）</span>' in row
    low, high = indicators.wilson(13, 15)
    assert f"{100 * low:.1f}% – {100 * high:.1f}%" == "62.1% – 96.3%" and "62.1% – 96.3%" in row
    # 结转率 2 / (16 + 1) for 洪泽区, 5 / (19 + 1) for 玄武区: the lowest of two
    assert _indicator(warehouse, HONGZE, 2023, "backlog_ratio") == (2 / 17, 2, 17)
    row = _row(page, "backlog_ratio-2023")
    assert '<td class="n value">11.8%' in row and '<td class="n counts">2 / 17' in row
    assert "江苏省·县级政府：第 0 百分位（共 2）" in row
    # a count shows its count; the history is drawn for each indicator (two years: two points)
    assert re.search(r'<td class="n counts">16\s*<td', _row(page, "applications_received-2023"))
    assert page.count('<svg class="chart sparkline"') == len(indicators.definitions())
    # reports over the years, linked to the run's validation page (relative: it opens from file://)
    rel = os.path.relpath(warehouse / "validation" / "run-1.html", out / "agency")
    assert page.count(f'<a href="{rel}">') == 2
    # the chain broken in 2023: counted under its problem, listed with the year's findings
    assert '<a href="#findings-2023">2</a>' in page
    assert page.count("<code>cross_year.carried_over</code>") == 2


def test_region_pages_table_chart_and_heatmap(warehouse, built):
    out, _ = built
    hongze = _agency(warehouse, HONGZE)
    prefecture = (out / "region" / "320800.html").read_text(encoding="utf-8")
    assert "<h1>淮安市 <span" in prefecture
    # its bodies, not Nanjing's; each rate with its n beside it, sortable by the value
    assert XUANWU not in prefecture and "淮安市洪泽区岔河镇人民政府" in prefecture
    row = prefecture[prefecture.index(f'<a href="../agency/{hongze}.html">{HONGZE}</a>') :]
    row = row[: row.index("</tr>")]
    assert '<td class="n">86.7%<td class="n muted">15' in row
    assert '<table class="bodies sortable">' in prefecture and "<script>" in prefecture
    assert (
        prefecture.count('<svg class="chart strip"') == 1 and prefecture.count('<table class="heatmap sortable">') == 1
    )
    # the heatmap: a row per body, a cell per rate and year (2022 and 2023), its percentage inside, n on hover
    heat = prefecture[prefecture.index('<table class="heatmap') :]
    heat_row = heat[heat.index(f'<a href="../agency/{hongze}.html">') :]
    heat_row = heat_row[: heat_row.index("</tr>")]
    assert heat_row.count("<td") == 2 * len(site.MAIN_RATES)
    assert heat_row.startswith(
        f'<a href="../agency/{hongze}.html">{HONGZE}</a><td class="q7" title="n=15">87'
        '<td class="q7" title="n=15">87<td class="q1" title="n=15">13'
    )  # 公开率, then 不掌握率
    province = (out / "region" / "320000.html").read_text(encoding="utf-8")
    assert (
        XUANWU in province
        and '<a href="320800.html">淮安市</a>' in province
        and '<a href="320100.html">南京市</a>' in province
    )


def test_glance_counts_reports_rates_and_problems(built):
    out, done = built
    assert (done.regions, done.agencies) == (3, 5)
    page = (out / "index.html").read_text(encoding="utf-8")
    # 2023: five reports, all valid; 2024: the invalid one
    assert re.search(
        r"<tr><td>2023<td class=\"n\">5<td class=\"n valid\">5<td class=\"n invalid\">0"
        r"<td class=\"n unreadable\">0<td class=\"n\">100.0%<td class=\"n\">5</tr>",
        page,
    )
    assert re.search(r"<tr><td>2024<td class=\"n\">1<td class=\"n valid\">0<td class=\"n invalid\">1", page)
    # a histogram per main rate and year with values; the 5 reports of 2023 have a disclosure rate
    assert page.count('<svg class="chart histogram"') == len(site.MAIN_RATES) * 2
    assert "n=5，中位数 86.7%" in page
    assert "与上年数据不衔接" in page and "<code>applications.balance</code>" in page
    assert '<a href="region/320000.html">江苏省</a>' in page


def test_what_documents_say_is_escaped(warehouse, built):
    out, _ = built
    pages = "".join(p.read_text(encoding="utf-8") for p in out.rglob("*.html"))
    assert "<script>alert" not in pages and "<img src=x" not in pages
    assert (
        "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;局" in pages and "&lt;img src=x onerror=alert(1)&gt;" in pages
    )
    assert site.source_href("javascript:alert(1)") is None and site.source_href("HTTPS://a.gov.cn/r.pdf")
    assert site.agency_file("report:../../x") == site.agency_file("report:../../x") and "/" not in site.agency_file(
        "report:../../x"
    )


def test_year_and_region_limit_what_is_built(warehouse, tmp_path):
    done = site.build(warehouse, tmp_path, year=2022, region="320800")
    assert sorted(p.name for p in (tmp_path / "region").iterdir()) == ["320800.html"]
    assert (done.regions, done.agencies) == (1, 4)  # 淮安市's bodies, whatever their year
    page = (tmp_path / "agency" / f"{_agency(warehouse, HONGZE)}.html").read_text(encoding="utf-8")
    assert '<tr id="disclosure_rate-2022">' in page and "disclosure_rate-2023" not in page
    assert "../region/320000.html" not in page  # the province's page was not built: no link to it
    glance = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "<h1>淮安市：" in glance and "<tr><td>2023" not in glance
    site.build(warehouse, tmp_path, region="320100")  # built again elsewhere: no page of the last build stays
    assert [p.name for p in (tmp_path / "region").iterdir()] == ["320100.html"]
    assert [p.name for p in (tmp_path / "agency").iterdir()] == [f"{_agency(warehouse, XUANWU)}.html"]
    county = tmp_path / "county"
    done = site.build(warehouse, county, region="320813")  # a county: its page, under its own name
    assert [p.name for p in (county / "region").iterdir()] == ["320813.html"] and done.agencies == 2
    assert "<h1>洪泽区 <span" in (county / "region" / "320813.html").read_text(encoding="utf-8")


def test_the_command(warehouse, tmp_path, capsys):
    from flows import command

    assert command.main(["site", str(warehouse), "--out", str(tmp_path / "s"), "--region", "320100"]) == 0
    assert "site: 3 pages (1 regions, 1 agencies)" in capsys.readouterr().out
    assert command.main(["site", str(warehouse), "--out", str(tmp_path / "t"), "--region", "32x"]) == 2
    assert "a 6-digit 行政区划代码" in capsys.readouterr().err
    assert command.main(["site", str(tmp_path / "nowhere"), "--out", str(tmp_path / "u")]) == 2


@pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed (make browser installs Debian's chromium where apt allows)"
)
def test_pages_open_offline_in_a_browser(warehouse, built, tmp_path):
    """Each kind of page from file://: nothing requested outside the site's folder, no console
    message, its charts drawn, its Chinese drawn by a CJK font; the table sorts on a click.
    NIANBAO_SCREENSHOTS=docs/screenshots keeps the screenshots there."""
    out, _ = built
    shots = Path(os.environ.get("NIANBAO_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    hongze = _agency(warehouse, HONGZE)
    sort = (
        "(() => { const th = [...document.querySelectorAll('table.bodies th')].find(t => t.textContent === '本年新收申请数');"
        " th.click(); return [...document.querySelectorAll('table.bodies tbody tr')]"
        ".map(tr => tr.cells[0].textContent); })()"
    )
    pages = {
        "site-glance.png": ("index.html", 4, ()),
        "site-region.png": ("region/320800.html", 2, (sort,)),
        "site-agency.png": (f"agency/{hongze}.html", len(indicators.definitions()), ()),
    }
    for shot, (page, charts, extra) in pages.items():
        seen = visit(
            (out / page).as_uri(),
            shot=shots / shot,
            fonts=("h1",),
            full_page=True,
            evaluate=("document.querySelectorAll('svg.chart, table.heatmap').length", "document.title", *extra),
        )
        assert seen.console == [], seen.console
        assert seen.requests and all(u.startswith(out.as_uri() + "/") for u in seen.requests), seen.requests
        assert seen.values["document.querySelectorAll('svg.chart, table.heatmap').length"] >= charts
        assert re.search(r"CJK|WenQuanYi|Source Han", " ".join(seen.fonts["h1"])), seen.fonts
        assert "政府信息公开年度报告指标" in seen.values["document.title"]
        assert (shots / shot).stat().st_size > 20_000
        if extra:  # a click sorts by 本年新收申请数, the most first: 岔河镇's 18, then the 16s in their order
            assert seen.values[sort] == ["淮安市洪泽区岔河镇人民政府", "淮安市人民政府", HONGZE, HOSTILE], seen.values[
                sort
            ]


def test_the_flow_builds_the_site_and_links_it(prefect_harness, tmp_path):
    """The yearly deployment's parameters: after ingesting, the site beside the warehouse, linked."""
    from flows.ingest import ingest

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "hongze2023.txt").write_text(report_text(HONGZE, 2023), encoding="utf-8")
    state = ingest(sources=[str(docs)], out=str(tmp_path / "data" / "warehouse"), site=True, return_state=True)
    assert state.is_completed(), state.message
    index = tmp_path / "data" / "site" / "index.html"
    assert '<tr><td>2023<td class="n">1<td class="n valid">1' in index.read_text(encoding="utf-8")
    assert sorted(p.name for p in (tmp_path / "data" / "site" / "region").iterdir()) == ["320000.html", "320800.html"]

    found = artifacts(state)
    assert set(found) == {"ingest-counts", "ingest-failures", "site"}
    assert index.as_uri() in found["site"].data


def test_a_site_of_a_warehouse_on_object_storage(s3, tmp_path):
    """s3://: read through the same scans; its agencies resolved from the reports (the checks across
    years write `agencies` on folders only)."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "hongze2023.txt").write_text(report_text(HONGZE, 2023), encoding="utf-8")
    wh = f"{s3}/wh"
    publish.publish(wh, pipeline.process_batch(resolve([str(docs)]), "run-s3", processes=False))
    indicators.compute(wh)
    done = site.build(wh, tmp_path / "site", region="320800")
    assert (done.regions, done.agencies) == (1, 1)
    (page,) = (tmp_path / "site" / "agency").iterdir()
    row = _row(page.read_text(encoding="utf-8"), "disclosure_rate-2023")
    assert '<td class="n value">86.7%' in row and '<td class="n counts">13 / 15' in row


def test_the_flow_writes_a_site_into_a_bucket(prefect_harness, s3, tmp_path):
    """site_out on s3://: built in a local folder, then copied up, page by page."""
    from prefect import flow

    from nianbao.report.site import beside
    from nianbao.warehouse import storage
    from tasks.site import build_site

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "hongze2023.txt").write_text(report_text(HONGZE, 2023), encoding="utf-8")
    wh = tmp_path / "wh"
    publish.publish(wh, pipeline.process_batch(resolve([str(docs)]), "run-b", processes=False))
    across.check(wh, None, "run-b")
    indicators.compute(wh)
    assert beside(f"{s3}/nianbao/warehouse") == f"{s3}/nianbao/site" and beside(str(wh)) == str(tmp_path / "site")

    @flow
    def yearly():
        return build_site(str(wh), f"{s3}/site")

    assert yearly() == f"{s3}/site/index.html"
    remote = storage.path(f"{s3}/site")
    page = (remote / "agency" / f"{_agency(wh, HONGZE)}.html").read_bytes().decode("utf-8")
    assert '<td class="n value">86.7%' in page and (remote / "region" / "320800.html").exists()
