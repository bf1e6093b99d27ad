"""The Prefect flow and the command line, run for real against Prefect's test harness."""

import json
import re
import shutil

import duckdb
import polars as pl
import pytest
from conftest import ROOT, SEEDS, artifacts, missing, seed
from corpus import distinct_reports

from flows import command as cli


@pytest.fixture(scope="module")
def seeds_run(prefect_harness, tmp_path_factory):
    if not SEEDS.is_dir():
        missing("shared seeds")
    from flows.ingest import ingest

    out = tmp_path_factory.mktemp("wh")
    state = ingest(sources=[str(SEEDS)], out=str(out), batch_size=2, return_state=True)
    return state, out


def test_flow_fails_after_publishing_everything(seeds_run):
    state, out = seeds_run
    assert state.is_failed()
    assert state.message == "5 reports: 3 valid, 2 invalid, 0 unreadable"
    rows = duckdb.sql(
        f"select source_uri, status from read_parquet('{out}/reports/*/*.parquet', hive_partitioning=true)"
    ).fetchall()
    status = {uri.rsplit("/", 1)[1][:3]: s for uri, s in rows}
    assert status == {"000": "invalid", "001": "valid", "002": "invalid", "003": "valid", "004": "valid"}
    assert duckdb.sql(f"select count(*) from read_parquet('{out}/applications/*/*.parquet')").fetchall() == [
        (7 * 25 * 2 + 7 * 23,)
    ]


def test_flow_computes_indicators_and_quality_after_publishing(seeds_run):
    from nianbao.check import indicators

    state, out = seeds_run
    sql = lambda q: duckdb.sql(q.format(out=out)).fetchall()  # noqa: E731
    assert sql("select count(*), count(distinct report_id) from '{out}/indicators/*/*.parquet'") == [
        (3 * len(indicators.definitions()), 3)
    ]  # the three valid seeds
    assert sql("select count(distinct report_id) from '{out}/quality/*/*.parquet'") == [
        (5,)
    ]  # every report, the yearless too
    assert sql("select sum(findings) from '{out}/quality/*/*.parquet' where problem = 'arithmetic'") == [(0,)]


def test_validation_report_page_opens_offline(seeds_run):
    state, out = seeds_run
    page = out / "validation" / f"{state.state_details.flow_run_id}.html"
    text = page.read_text(encoding="utf-8")
    assert "<script" not in text and "<link" not in text and "src=" not in text and "@import" not in text
    assert "002_2b155fb9c9cacf46.txt" in text and "<code>cells.complete</code>" in text
    assert "<span class=valid>3 valid</span>" in text
    assert f'href="{state.state_details.flow_run_id}.html"' in (out / "validation" / "index.html").read_text(
        encoding="utf-8"
    )


def test_flow_run_has_its_artifacts(seeds_run):
    state, out = seeds_run
    found = artifacts(state)
    assert set(found) == {"ingest-counts", "ingest-failures"}
    table = json.loads(found["ingest-counts"].data)
    assert {"kind": "status", "name": "valid", "severity": "", "count": 3} in table
    # reports affected, not findings: seed 002's seven blank cells are one report
    assert {"kind": "rule (reports)", "name": "cells.complete", "severity": "error", "count": 1} in table
    assert {"kind": "rule (reports)", "name": "metadata.year", "severity": "error", "count": 1} in table
    assert f"warehouse {out.resolve()}, run took ".replace("_", "\\_") in found["ingest-counts"].description
    md = found["ingest-failures"].data
    assert "002\\_2b155fb9c9cacf46.txt" in md and "`cells.complete`" in md and "`metadata.year`" in md
    assert "](" not in md  # local paths are no links: they would open Prefect's 404 page
    assert f"Warehouse {out.resolve()}, run took ".replace("_", "\\_") in md


def test_failures_artifact_links_only_urls_and_says_what_it_cut(tmp_path):
    from nianbao.report.artifacts import CAPS, failures_markdown

    rows = [
        {
            "report_id": "a" * 64,
            "status": "invalid",
            "agency": "某镇",
            "year": 2024,
            "source_uri": "https://x.gov.cn/r.pdf",
        },
        {"report_id": "b" * 64, "status": "valid", "agency": "某县", "year": 2024, "source_uri": "/data/r.pdf"},
    ]
    findings = [
        {"report_id": "a" * 64, "rule_id": "cells.complete", "severity": "error", "message": f"cell {i}"}
        for i in range(CAPS.errors + 5)
    ]
    md = failures_markdown(rows, findings, tmp_path / "p.html", "Warehouse wh")
    assert "[https://x.gov.cn/r.pdf](https://x.gov.cn/r.pdf)" in md
    assert md.count("`cells.complete`: cell") == CAPS.errors
    assert "  - … and 5 more errors (see the validation report)" in md


def test_failures_artifact_keeps_attacker_text_as_text(tmp_path):
    """Issue 24 item 6: names, messages and sources a report brings render as text in a Markdown
    viewer (CommonMark, as markdown-it renders it): no link but to the http(s) source, no image, no
    HTML, no code span from a file name, no way out of the source's link."""
    from markdown_it import MarkdownIt

    from nianbao.report.artifacts import failures_markdown

    url = "https://x.gov.cn/a)b[c](javascript:alert(1)).pdf"
    rows = [
        {
            "report_id": "a" * 64,
            "status": "invalid",
            "agency": "[点此](javascript:alert(1))",
            "year": 2024,
            "source_uri": url,
        },
        {
            "report_id": "b" * 64,
            "status": "unreadable",
            "agency": "![x](http://host/p.png)\n# 标题",
            "year": None,
            "source_uri": "/data/`x`<svg onload=alert(1)>.pdf",
        },
        {
            "report_id": "c" * 64,
            "status": "unreadable",
            "agency": "<b>某</b> *镇* _乡_ &lt;",
            "year": None,
            "source_uri": "javascript:alert(1)//x.pdf",
        },
    ]
    findings = [
        {
            "report_id": "a" * 64,
            "rule_id": "cells.complete",
            "severity": "error",
            "message": "printed <img src=x onerror=alert(1)> [a](http://evil) `x` ~~y~~ | z",
        }
    ]
    md = failures_markdown(rows, findings, tmp_path / "p.html", "Warehouse wh", "fix it")
    page = MarkdownIt("commonmark").enable("table").enable("strikethrough").render(md)
    assert re.findall(r"<a [^>]*>", page) == [
        '<a href="https://x.gov.cn/a%29b%5Bc%5D%28javascript:alert%281%29%29.pdf">'
    ]
    assert (
        "<img" not in page and "<svg" not in page and "<b>" not in page and "<s>" not in page and "<h1>标题" not in page
    )
    assert re.findall(r"<code>[^<]*</code>", page) == ["<code>cells.complete</code>"]
    assert "[点此](javascript:alert(1))" in page and "&lt;svg onload=alert(1)&gt;" in page  # shown as written
    assert "`x`" in page and "&amp;lt;" in page


def test_cli_exit_codes_and_summary(prefect_harness, tmp_path, capsys):
    valid = tmp_path / "in"
    valid.mkdir()
    shutil.copy(ROOT / "data" / "samples" / "sample_valid_2023.txt", valid)
    assert cli.main(["ingest", str(valid), "--out", str(tmp_path / "wh")]) == 0
    assert "1 report: 1 valid, 0 invalid, 0 unreadable" in capsys.readouterr().out
    assert cli.main(["ingest", str(ROOT / "data" / "samples"), "--out", str(tmp_path / "wh")]) == 1
    out = capsys.readouterr().out
    assert "unreadable" in out and "not_a_report.txt" in out and "applications.balance" in out


def test_cli_manifest_with_year_makes_seed_000_valid(prefect_harness, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("NIANBAO_ALLOW_OUTSIDE", "1")  # the seed is outside the manifest's folder
    manifest = tmp_path / "m.jsonl"
    manifest.write_text(
        f'{{"uri": "{seed("000")}", "year": 2024, "agency": "舒兰市小城镇便民服务中心"}}\n', encoding="utf-8"
    )
    assert cli.main(["ingest", str(manifest), "--out", str(tmp_path / "wh")]) == 0
    assert cli.main(["ingest", str(manifest), "--out", str(tmp_path / "wh")]) == 0  # nothing redone
    assert "1 report: 1 valid, 0 invalid, 0 unreadable (1 already published, not redone)" in capsys.readouterr().out
    manifest.write_text(f'{{"uri": "{seed("000")}", "year": 2023}}\n', encoding="utf-8")
    assert cli.main(["ingest", str(manifest), "--out", str(tmp_path / "wh")]) == 0  # the manifest changed: redone
    out = capsys.readouterr().out
    assert "already published" not in out
    assert [p.parent.name for p in (tmp_path / "wh" / "reports").glob("*/*.parquet")] == ["year=2023"]


@pytest.mark.parametrize(
    "argv",
    [["ingest"], ["ingest", "/no/such/path", "--out", "x"], ["frobnicate"], ["ingest", "x", "--year", "nineteen"]],
)
def test_cli_usage_errors_exit_2(argv):
    assert cli.main(argv) == 2


def test_bad_documents_do_not_stop_the_batch(prefect_harness, tmp_path):
    from flows.ingest import ingest

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "corrupt.pdf").write_bytes(b"%PDF-1.4 garbage")
    (docs / "empty.txt").write_bytes(b"")
    (docs / "binary.docx").write_bytes(b"PK\x03\x04 not really a zip")
    shutil.copy(ROOT / "data" / "samples" / "sample_valid_2023.txt", docs)
    state = ingest(sources=[str(docs)], out=str(tmp_path / "wh"), return_state=True)
    assert state.is_failed()
    rows = dict(
        duckdb.sql(
            f"select source_format || ':' || status, count(*) from read_parquet('{tmp_path}/wh/reports/*/*.parquet') group by 1"
        ).fetchall()
    )
    assert rows["txt:valid"] == 1 and sum(rows.values()) == 4
    reasons = duckdb.sql(
        f"select message from read_parquet('{tmp_path}/wh/findings/*/*.parquet') where rule_id = 'document.unreadable'"
    ).fetchall()
    assert len(reasons) == 3 and any("empty" in r[0] for r in reasons)


def _warehouse(root):
    """Every dataset's rows, without what differs between runs (run ids, times)."""
    out = {}
    for d in ("reports", "findings", "applications", "active_disclosure", "reviews_litigation", "narratives"):
        if not list((root / d).glob("*/*.parquet")):
            out[d] = []
            continue
        df = duckdb.sql(f"select * from read_parquet('{root}/{d}/*/*.parquet', hive_partitioning=true)").pl()
        df = df.drop([c for c in ("run_id", "ingested_at", "fetched_at") if c in df.columns])
        out[d] = sorted(map(repr, df.to_dicts()))
    return out


def test_a_killed_run_resumes_to_the_same_warehouse(prefect_harness, tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    from prefect.settings import PREFECT_API_URL

    from flows.ingest import ingest

    docs = tmp_path / "docs"
    distinct_reports(docs, 6)  # batches of one: a kill lands after the first, long before the last
    killed, whole = tmp_path / "killed", tmp_path / "whole"
    env = dict(os.environ, PREFECT_API_URL=PREFECT_API_URL.value())
    child = subprocess.Popen(
        [sys.executable, "-m", "flows", "ingest", str(docs), "--out", str(killed), "--batch-size", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while not list((killed / "reports").glob("*/*.parquet")) and time.monotonic() < deadline:
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.wait()
    published_before = len(duckdb.sql(f"select report_id from read_parquet('{killed}/reports/*/*.parquet')").fetchall())
    assert 1 <= published_before < 6

    state = ingest(sources=[str(docs)], out=str(killed), batch_size=6, return_state=True)  # what is left, in one batch
    assert state.is_completed()
    assert state.result().already_published == published_before
    ingest(sources=[str(docs)], out=str(whole), batch_size=6, return_state=True)
    assert _warehouse(killed) == _warehouse(whole)
    assert len(_warehouse(whole)["applications"]) == 6 * 7 * 25


def test_ingesting_served_reports_equals_ingesting_the_files(prefect_harness, tmp_path, monkeypatch):
    import csv
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    import corpus

    monkeypatch.setenv("NIANBAO_ALLOW_PRIVATE", "1")  # the server is on loopback
    monkeypatch.setenv("NIANBAO_FETCH_DELAY", "0")  # its downloads not spaced 1 s apart (8 of them)
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in ("sample_valid_2023.txt", "sample_invalid_2024.txt"):
        shutil.copy(ROOT / "data" / "samples" / name, docs)
    (docs / "report.docx").write_bytes(corpus.write_docx(corpus.layout(corpus.report())))
    (docs / "report.html").write_bytes(corpus.write_html(corpus.layout(corpus.report()), word=True).encode("gb18030"))
    requests = []

    class Handler(SimpleHTTPRequestHandler):
        def log_message(self, fmt, *args):
            requests.append((self.path, args[1]))

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(docs)))
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()  # shut down in 0.05 s, not 0.5
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    manifest = tmp_path / "m.csv"
    with open(manifest, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["uri"])
        w.writerows([[base + p.name] for p in sorted(docs.iterdir())])
    try:
        assert cli.main(["ingest", str(manifest), "--out", str(tmp_path / "web")]) == 1
        assert cli.main(["ingest", str(docs), "--out", str(tmp_path / "disk")]) == 1
        first = len(requests)
        assert sorted(code for _, code in requests) == ["200"] * 4
        assert cli.main(["ingest", str(manifest), "--out", str(tmp_path / "web"), "--reprocess"]) == 1
        assert sorted(code for _, code in requests[first:]) == ["304"] * 4  # nothing downloaded twice
    finally:
        server.shutdown()
    web, disk = _warehouse(tmp_path / "web"), _warehouse(tmp_path / "disk")
    for d in disk:
        strip = lambda rows: [r.replace(base, "") for r in rows]  # noqa: E731
        if d == "reports":  # the same documents, named by URL instead of path
            assert len(web[d]) == len(disk[d]) == 4
        else:
            assert strip(web[d]) == disk[d], d
    fetches = duckdb.sql(f"select http_status from read_parquet('{tmp_path}/web/fetches/*/*.parquet')").fetchall()
    assert sorted(s for (s,) in fetches) == [200] * 4 + [304] * 4


def test_listings_are_discovered_and_ingested(prefect_harness, tmp_path, monkeypatch):
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    import corpus

    from flows.ingest import ingest, summary_of

    monkeypatch.setenv("NIANBAO_ALLOW_PRIVATE", "1")
    monkeypatch.setenv("NIANBAO_FETCH_DELAY", "0")  # the listing's and the report's downloads not 1 s apart
    site = tmp_path / "site"
    site.mkdir()
    (site / "report2023.html").write_bytes(corpus.write_html(corpus.layout(corpus.report())).encode("utf-8"))
    (site / "index.html").write_text(
        '<html><meta charset="utf-8"><body><ul>'
        '<li><a href="report2023.html">示例县2023年政府信息公开工作年度报告</a></li>'
        '<li><a href="notice.html">关于报送2023年度政府信息公开工作年度报告的通知</a></li>'
        "</ul></body></html>",
        encoding="utf-8",
    )

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()  # shut down in 0.05 s, not 0.5
    # the yearly deployment's listings: a file of listing_url,region_code (data/listings.csv)
    listings = tmp_path / "listings.csv"
    listings.write_text(
        f"listing_url,region_code\nhttp://127.0.0.1:{server.server_address[1]}/index.html,320830\n", encoding="utf-8"
    )
    try:
        state = ingest(sources=[], listings=[str(listings)], out=str(tmp_path / "wh"), return_state=True)
    finally:
        server.shutdown()
    summary = summary_of(state)
    assert (len(summary), summary.formats()) == (1, {"html": 1})
    (manifest,) = (tmp_path / "wh" / "manifests").glob("discovered-*.csv")
    assert manifest.read_text(encoding="utf-8").splitlines()[0] == "uri,title,year,region_code"
    reports = pl.read_parquet(tmp_path / "wh" / "reports" / "**" / "*.parquet")
    assert reports["region_code"].to_list() == ["320830"]  # the listing's, written into the manifest
    assert reports["source_uri"].str.split("/").list.last().to_list() == ["report2023.html"]
