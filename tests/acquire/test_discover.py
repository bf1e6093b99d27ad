"""Discovery over a locally served 年度报告 column: every report, nothing else."""

import csv
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "fixtures" / "fetch"))
from fetch_server import PDF, Server, send  # noqa: E402

from nianbao.acquire import sources  # noqa: E402
from nianbao.acquire.discover import discover, main, year_of  # noqa: E402
from nianbao.acquire.fetch import Fetcher  # noqa: E402

COL = "/xxgk/zfxxgkndbg"
TABLE = "<table><tr><td>项目</td><td>数量</td></tr><tr><td>新收申请</td><td>3</td></tr></table>"


def page(body: str, charset: str = "utf-8") -> bytes:
    return (
        f'<html><head><meta charset="utf-8"><title>年度报告</title></head><body>'
        f'<nav><a href="{COL}/index.html">年度报告</a><a href="/xxgk/">信息公开</a></nav>{body}</body></html>'
    ).encode(charset)


PAGES = {
    f"{COL}/index.html": page(f"""<ul>
      <li><a href="./202401/t20240120_101.html" title="某某市人民政府办公室2023年政府信息公开工作年度报告">
          某某市人民政府办公室2023年政府信息公开工作年...</a></li>
      <li><a href="./202301/t20230115_102.html">某某市人民政府办公室2022年政府信息公开工作年度报告</a></li>
      <li><a href="/files/2021ndbg.docx">某某市人民政府办公室2021年度政府信息公开工作年度报告</a></li>
      <li><a href="./202402/t20240201_103.html">某某市2024年政务公开工作要点</a></li>
      <li><a href="./202312/t20231201_104.html">关于做好2023年政府信息公开工作年度报告编制发布工作的通知</a></li>
      <li><a href="./202401/t20240125_105.html">某某市2023年政府信息公开工作年度报告解读</a></li>
      <li><a href="http://other.invalid{COL}/t1.html">国务院办公厅2023年政府信息公开工作年度报告</a></li>
      <li><a href="http://other.invalid/files/x.pdf">某某省2023年政府信息公开工作年度报告</a></li>
    </ul>
    <div class="page"><a href="index.html">1</a> <a href="index_1.html">2</a> <a href="index_2.html">3</a>
      <a href="index_1.html">下一页</a></div>"""),
    # GBK bytes behind a UTF-8 declaration, in the header and in <meta>
    f"{COL}/index_1.html": page(
        """<ul>
      <li><a href="./202101/t20210128_201.html">某某市人民政府办公室二〇二〇年政府信息公开工作年度报告</a></li>
      <li><a href="./202001/t20200120_202.html">某某市人民政府2019年政府信息公开工作情况</a></li>
      <li><a href="./202401/t20240120_101.html">某某市人民政府办公室2023年政府信息公开工作年度报告</a></li>
    </ul><div><a href="index.html">上一页</a> <a href="index_2.html">下一页</a></div>""",
        "gbk",
    ),
    f"{COL}/index_2.html": page("""<ul>
      <li><a href="./201901/t20190130_301.html">某某市人民政府办公室2018年政府信息公开工作年度报告</a></li>
    </ul><div><a href="http://other.invalid/index_3.html">下一页</a></div>"""),
    f"{COL}/202401/t20240120_101.html": page(f"<h1>某某市人民政府办公室2023年政府信息公开工作年度报告</h1>{TABLE}"),
    f"{COL}/202301/t20230115_102.html": page(
        '<p>详见附件。</p><p>附件：<a href="/u/cms/P020230115.pdf">P020230115.pdf</a>'
        ' <a href="http://other.invalid/u/copy.pdf">镜像</a></p>'
    ),
    f"{COL}/202101/t20210128_201.html": page(f'{TABLE}<p><a href="P020210128.wps">下载WPS版</a></p>'),
    f"{COL}/202001/t20200120_202.html": page(TABLE),
    f"{COL}/201901/t20190130_301.html": page(TABLE),
    "/bumen/ndbg/index.html": page("""<a href="./t1.html">某某局2023年政府信息公开工作年度报告</a>
      <script>createPageHTML(2, 0, "index", "html");</script>"""),
    "/bumen/ndbg/index_1.html": page('<a href="./t2.html">某某局2022年政府信息公开工作年度报告</a>'),
    "/bumen/ndbg/t1.html": page(TABLE),
    "/bumen/ndbg/t2.html": page(TABLE),
}
FILES = {
    "/files/2021ndbg.docx": b"PK\x03\x04docx",
    "/u/cms/P020230115.pdf": PDF,
    f"{COL}/202101/P020210128.wps": b"\xd0\xcf\x11\xe0wps",
}
DECOYS = [f"{COL}/202402/t20240201_103.html", f"{COL}/202312/t20231201_104.html", f"{COL}/202401/t20240125_105.html"]


def _route(path):
    body = PAGES.get(path)
    if body is not None:
        return lambda h, n: send(h, 200, body, "text/html; charset=utf-8")
    return lambda h, n: send(h, 200, FILES[path], "application/octet-stream")


@pytest.fixture
def site(monkeypatch):
    monkeypatch.setenv("NIANBAO_ALLOW_PRIVATE", "1")
    with Server({p: _route(p) for p in [*PAGES, *FILES]}) as s:
        yield s


def expected(s, max_pages=3):
    u = s.url
    t = "某某市人民政府办公室{}政府信息公开工作年度报告".format
    rows = [
        (u(f"{COL}/202401/t20240120_101.html"), t("2023年"), 2023),
        (u("/u/cms/P020230115.pdf"), t("2022年"), 2022),
        (u("/files/2021ndbg.docx"), t("2021年度"), 2021),
    ]
    if max_pages >= 2:
        rows += [
            (u(f"{COL}/202101/t20210128_201.html"), t("二〇二〇年"), 2020),
            (u(f"{COL}/202101/P020210128.wps"), t("二〇二〇年"), 2020),
            (u(f"{COL}/202001/t20200120_202.html"), "某某市人民政府2019年政府信息公开工作情况", 2019),
        ]
    if max_pages >= 3:
        rows += [(u(f"{COL}/201901/t20190130_301.html"), t("2018年"), 2018)]
    return rows


def _fast():
    return Fetcher(connect_timeout=2, read_timeout=2, retries=0, delay=0, per_host=4)


def test_discover_finds_every_report_and_nothing_else(site):
    errors = []
    with _fast() as f:
        rows = discover([site.url(f"{COL}/index.html"), site.url("/bumen/ndbg/index.html")], fetcher=f, errors=errors)
    assert [(r["uri"], r["title"], r["year"]) for r in rows] == expected(site) + [
        (site.url("/bumen/ndbg/t1.html"), "某某局2023年政府信息公开工作年度报告", 2023),
        (site.url("/bumen/ndbg/t2.html"), "某某局2022年政府信息公开工作年度报告", 2022),
    ]
    assert errors == []
    assert all(site.hits[p] == 0 for p in DECOYS + list(FILES))  # decoys and attachments never downloaded
    assert all(n == 1 for n in site.hits.values())  # every page read once, though listed twice


def test_the_page_limit_holds(site):
    with _fast() as f:
        rows = discover([site.url(f"{COL}/index.html")], max_pages=2, fetcher=f)
    assert [(r["uri"], r["title"], r["year"]) for r in rows] == expected(site, max_pages=2)
    assert site.hits[f"{COL}/index_2.html"] == 0


def test_the_command_writes_the_manifest(site, tmp_path):
    out = tmp_path / "m" / "manifest.csv"
    assert main([site.url(f"{COL}/index.html"), "--out", str(out), "--max-pages", "3", "--delay", "0"]) == 0
    with open(out, encoding="utf-8", newline="") as f:
        got = list(csv.reader(f))
    assert got == [["uri", "title", "year"]] + [[u, t, str(y)] for u, t, y in expected(site)]
    docs = sources.resolve([str(out)])  # the manifest reads back as ingest sources
    assert [(d.uri, d.overrides) for d in docs] == [(u, {"title": t, "year": y}) for u, t, y in expected(site)]


def test_the_region_code_goes_into_the_manifest(site, tmp_path):
    out = tmp_path / "manifest.csv"
    assert (
        main(
            [
                site.url(f"{COL}/index.html"),
                "--out",
                str(out),
                "--max-pages",
                "1",
                "--delay",
                "0",
                "--region-code",
                "320830",
            ]
        )
        == 0
    )
    with open(out, encoding="utf-8", newline="") as f:
        got = list(csv.reader(f))
    assert got == [["uri", "title", "year", "region_code"]] + [
        [u, t, str(y), "320830"] for u, t, y in expected(site, max_pages=1)
    ]
    docs = sources.resolve([str(out)])  # each report ingested under the portal's region
    assert [d.overrides for d in docs] == [
        {"region_code": "320830", "title": t, "year": y} for _, t, y in expected(site, max_pages=1)
    ]
    assert main([site.url(f"{COL}/index.html"), "--out", str(out), "--region-code", "3208"]) == 2


def test_private_addresses_need_allow_private(site, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("NIANBAO_ALLOW_PRIVATE")
    out = tmp_path / "manifest.csv"
    assert main([site.url(f"{COL}/index.html"), "--out", str(out), "--delay", "0"]) == 1
    assert "refused" in capsys.readouterr().err and sum(site.hits.values()) == 0
    assert out.read_text(encoding="utf-8").splitlines() == ["uri,title,year"]
    assert (
        main([site.url(f"{COL}/index.html"), "--out", str(out), "--allow-private", "--max-pages", "1", "--delay", "0"])
        == 0
    )
    assert len(out.read_text(encoding="utf-8").splitlines()) == 1 + 3


def test_usage_errors_exit_2(tmp_path):
    assert main([]) == 2
    assert main(["http://x.gov.cn/", "--out", str(tmp_path / "m.csv"), "--max-pages", "0"]) == 2
    assert main(["ftp://x.gov.cn/", "--out", str(tmp_path / "m.csv")]) == 2
    assert not (tmp_path / "m.csv").exists()


@pytest.mark.parametrize(
    "title, year",
    [
        ("2023年政府信息公开工作年度报告", 2023),
        ("某局2021年度政府信息公开工作年度报告", 2021),
        ("二〇二二年政府信息公开工作年度报告", 2022),
        ("政府信息公开工作年度报告", None),
        ("某局二○一九年政府信息公开年度报告", 2019),
    ],
)
def test_year_of(title, year):
    assert year_of(title) == year
