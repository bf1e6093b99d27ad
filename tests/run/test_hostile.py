"""Hostile and awkward inputs, built here the way they are made in the wild, mixed into one run with
good reports: one `reports` row per input with the status and reason it deserves, the good reports'
rows what they are alone, exit code 1, and nothing printed that reads as a crash."""

import csv
import functools
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import xml.sax.saxutils
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import corpus
import duckdb
import pytest
from conftest import ROOT
from corpus import distinct_reports

from flows import command as cli
from nianbao.extract import office

SAMPLE = ROOT / "data" / "samples" / "sample_valid_2023.txt"
DATASETS = ("reports", "findings", "applications", "active_disclosure", "reviews_litigation", "narratives")
# LibreOffice saves a password-protected Word 97 file only through its API: a Basic macro does it.
_BASIC = """Sub Encrypt(src As String, dst As String)
  Dim load(0) As New com.sun.star.beans.PropertyValue
  load(0).Name = "Hidden" : load(0).Value = True
  doc = StarDesktop.loadComponentFromURL(ConvertToURL(src), "_blank", 0, load())
  Dim store(1) As New com.sun.star.beans.PropertyValue
  store(0).Name = "FilterName" : store(0).Value = "MS Word 97"
  store(1).Name = "Password" : store(1).Value = "secret"
  doc.storeToURL(ConvertToURL(dst), store())
  doc.close(True)
End Sub
"""
_MODULE = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE script:module PUBLIC "-//OpenOffice.org//DTD '
    'OfficeDocument 1.0//EN" "module.dtd">\n<script:module xmlns:script="http://openoffice.org/2000/script" '
    'script:name="Module1" script:language="StarBasic">{}</script:module>\n'
)


def zeros_report() -> corpus.Report:
    """The corpus report with every count 0: valid, so any reading that loses a cell shows."""
    rep = corpus.report()
    for cells in (rep.active_disclosure, rep.applications, rep.reviews_litigation):
        for key in cells:
            cells[key] = "0"
    return rep


def soffice(tmp: Path, *args: str) -> None:
    subprocess.run(
        [office.soffice(), f"-env:UserInstallation=file://{tmp}/profile", "--headless", *args],
        check=True,
        capture_output=True,
        timeout=180,
    )


def office_files(docx: bytes) -> dict[str, bytes]:
    """The report as Word 97 .doc, RTF and a password-protected .doc, all saved by LibreOffice."""
    import cache
    import soffice as lo

    return {
        "r.doc": lo.convert(docx, "doc:MS Word 97", "doc"),
        "r.rtf": lo.convert(docx, "rtf", "rtf"),
        "locked.doc": cache.cached("libreoffice-locked", lambda: _locked(docx), docx, _BASIC, lo.build()),
    }


def _locked(docx: bytes) -> bytes:
    """`docx` saved as a password-protected Word 97 file by the Basic macro, in a profile of its own."""
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "r.docx").write_bytes(docx)
        soffice(tmp, "--terminate_after_init")  # makes the profile the macro goes in
        module = _MODULE.format(xml.sax.saxutils.escape(_BASIC, {'"': "&quot;"}))
        (tmp / "profile" / "user" / "basic" / "Standard" / "Module1.xba").write_text(module, encoding="utf-8")
        soffice(tmp, f'macro:///Standard.Module1.Encrypt("{tmp}/r.docx","{tmp}/locked.doc")')
        return (tmp / "locked.doc").read_bytes()


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):  # a download endpoint without a suffix (/download?id=NAME), a redirect loop
        if self.path == "/loop":
            self.send_response(302)
            self.send_header("Location", "/loop")
            self.end_headers()
        elif self.path.startswith("/download?id="):
            data = (Path(self.directory) / self.path.split("=", 1)[1]).read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        else:
            super().do_GET()


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """A folder of hostile documents and good ones, and a GB18030 manifest beside it; the expected
    (status, format, reason) of each input's row, by its source_uri."""
    if office.soffice() is None:
        pytest.skip("LibreOffice is not installed")
    base = tmp_path_factory.mktemp("hostile")
    docs, good = base / "docs", base / "good"
    docs.mkdir()
    good_txt = distinct_reports(good, 3)  # two in the folder, one served over HTTP
    zeros = corpus.layout(zeros_report())
    docx = corpus.write_docx(zeros)
    (good / "zeros.docx").write_bytes(docx)
    html = corpus.write_html(zeros).encode("utf-8")
    made = office_files(docx)
    sample = SAMPLE.read_text(encoding="utf-8")
    rnd = random.Random(8)
    build = {
        "utf16.txt": sample.replace("示例县青山镇", "示例县十六镇").encode("utf-16"),  # Notepad's "Unicode"
        "nul.html": html.replace(b"</p>", b"\x00</p>").replace(b"</td>", b"\x00</td>"),
        "padded.txt": sample.replace("示例县青山镇", "示例县零填镇").encode("utf-8") + b"\x00" * 4096,
        "report.rtf.doc": made["r.rtf"],  # RTF saved under a .doc name
        "locked.doc": made["locked.doc"],
        "truncated.doc": made["r.doc"][: len(made["r.doc"]) // 2],
        "random.pdf": rnd.randbytes(4000),
        "random.txt": rnd.randbytes(4000),
        "never_filled.pdf": b"\x00" * 8192,  # a download preallocated and never written
        "empty.pdf": b"",
    }
    for name, data in build.items():
        (docs / name).write_bytes(data)
    for p in good_txt[:2] + [good / "zeros.docx"]:
        shutil.copy(p, docs)
    os.symlink("nowhere.pdf", docs / "dangling.pdf")
    os.symlink("loop_b.docx", docs / "loop_a.docx")
    os.symlink("loop_a.docx", docs / "loop_b.docx")
    (base / "zeros_copy").write_bytes(docx)  # the same bytes as zeros.docx, without a suffix
    (base / "secret.txt").write_text("not yours", encoding="utf-8")
    listed = base / "listed"
    listed.mkdir()
    shutil.copy(base / "zeros_copy", listed / "zeros_copy")
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(good)))
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()  # shut down in 0.05 s, not 0.5
    port = server.server_address[1]
    manifest = listed / "manifest.csv"
    with open(manifest, "w", newline="", encoding="gb18030") as f:  # as Excel saves it on Chinese Windows
        w = csv.writer(f)
        w.writerow(["uri", "agency"])
        w.writerow(["zeros_copy", ""])
        w.writerow([f"http://user:pa55word@127.0.0.1:{port}/download?id={good_txt[2].name}", ""])
        w.writerow(["../secret.txt", "示例县网上镇人民政府"])
        w.writerow(["not_there.pdf", ""])
        w.writerow([f"http://user:pa55word@127.0.0.1:{port}/missing.pdf", ""])  # listed among the failures
        w.writerow([f"http://127.0.0.1:{port}/loop", ""])
    url = f"http://127.0.0.1:{port}/download?id={good_txt[2].name}"
    unread = ("unreadable", None)
    expected = {
        **{str(docs / p.name): ("valid", "txt", None) for p in good_txt[:2]},
        str(docs / "zeros.docx"): ("valid", "docx", None),  # also listed without a suffix: one report
        str(docs / "utf16.txt"): ("valid", "txt", None),
        str(docs / "nul.html"): ("valid", "html", None),
        str(docs / "padded.txt"): ("valid", "txt", None),
        str(docs / "report.rtf.doc"): ("valid", "rtf", None),
        str(docs / "locked.doc"): ("unreadable", "doc", "^encrypted: a password-protected Word document"),
        str(docs / "truncated.doc"): ("unreadable", "doc", "^a corrupt Word file: its OLE2 container cannot be read"),
        str(docs / "random.pdf"): (
            "unreadable",
            "unknown",
            r"^not a document we read \(though named \.pdf\): "
            "the bytes are no PDF, DOCX, DOC/WPS, RTF, HTML or text",
        ),
        str(docs / "random.txt"): ("unreadable", "unknown", r"^not a document we read \(though named \.txt\)"),
        str(docs / "never_filled.pdf"): (*unread, "^the document is empty$"),
        str(docs / "dangling.pdf"): (*unread, r"^a dangling symbolic link \(the file it points to does not exist\)$"),
        str(docs / "loop_a.docx"): (*unread, r"^a symbolic link that loops"),
        str(docs / "loop_b.docx"): (*unread, r"^a symbolic link that loops"),
        url: ("valid", "txt", None),
        str(listed / "../secret.txt"): (*unread, r"^refused: the path is outside the manifest's folder"),
        str(docs / "empty.pdf"): (*unread, "^the document is empty$"),
        str(listed / "not_there.pdf"): (*unread, "^cannot read the file: No such file or directory$"),
        f"http://127.0.0.1:{port}/missing.pdf": (*unread, "^fetch failed: HTTP 404 File not found$"),
        f"http://127.0.0.1:{port}/loop": (*unread, "^fetch failed: redirect loop at "),
    }
    yield {
        "docs": docs,
        "manifest": manifest,
        "good": good,
        "expected": expected,
        "url": url,
        "outside": str(listed / "../secret.txt"),
    }
    server.shutdown()


def _rows(root: Path, dataset: str, report_ids: list[str], drop=("run_id", "ingested_at", "fetched_at")) -> list[str]:
    files = list((root / dataset).glob("*/*.parquet"))
    if not files:
        return []
    ids = ",".join(f"'{r}'" for r in report_ids)
    df = duckdb.sql(
        f"select * from read_parquet('{root}/{dataset}/*/*.parquet', hive_partitioning=true) where report_id in ({ids})"
    ).pl()
    return sorted(map(repr, df.drop([c for c in drop if c in df.columns]).to_dicts()))


@pytest.fixture(scope="module")
def run(inputs, prefect_harness, tmp_path_factory):
    """The command as a user runs it: its exit code, everything it printed, the warehouse."""
    from prefect.settings import PREFECT_API_URL

    out = tmp_path_factory.mktemp("wh")
    env = {k: v for k, v in os.environ.items() if k != "NIANBAO_ALLOW_OUTSIDE"}
    env.update(PREFECT_API_URL=PREFECT_API_URL.value(), NIANBAO_ALLOW_PRIVATE="1")  # the server is on loopback
    env["NIANBAO_FETCH_DELAY"] = "0"  # the manifest's downloads (and their redirects) not spaced 1 s apart
    done = subprocess.run(
        [sys.executable, "-m", "flows", "ingest", str(inputs["docs"]), str(inputs["manifest"]), "--out", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    return done.returncode, done.stdout + done.stderr, out


def test_every_input_gets_one_row_with_the_status_and_reason_it_deserves(inputs, run):
    code, printed, out = run
    assert code == 1
    rows = duckdb.sql(
        f"select source_uri, source_format, status, report_id from read_parquet('{out}/reports/*/*.parquet')"
    ).fetchall()
    reasons = dict(
        duckdb.sql(
            f"select report_id, message from read_parquet('{out}/findings/*/*.parquet') "
            "where rule_id = 'document.unreadable'"
        ).fetchall()
    )
    assert sorted(uri for uri, *_ in rows) == sorted(inputs["expected"])  # one row per input, nothing lost
    for uri, fmt, status, report_id in rows:
        want_status, want_fmt, want_reason = inputs["expected"][uri]
        assert (status, fmt) == (want_status, want_fmt), uri
        if want_reason:
            assert re.search(want_reason, reasons[report_id]), (uri, reasons[report_id])


def test_nothing_printed_reads_as_a_crash(run):
    code, printed, out = run
    assert "Traceback" not in printed and "crashed" not in printed.lower()
    assert "21 reports: 8 valid, 0 invalid, 13 unreadable" in printed


def test_the_good_reports_rows_are_what_they_are_alone(inputs, run, tmp_path):
    from flows.ingest import ingest

    _, _, out = run
    alone = tmp_path / "alone"
    ingest(sources=[str(inputs["good"])], out=str(alone), return_state=True)
    ids = [r for (r,) in duckdb.sql(f"select report_id from read_parquet('{alone}/reports/*/*.parquet')").fetchall()]
    assert len(ids) == 4
    for d in DATASETS:  # reports are named by where they came from (the folder, or the URL): the rest is equal
        drop = ("run_id", "ingested_at", "fetched_at", "source_uri")
        assert _rows(out, d, ids, drop) == _rows(alone, d, ids, drop), d
    assert len(_rows(out, "applications", ids)) == 4 * 7 * 25


def test_credentials_in_a_url_are_published_nowhere(inputs, run):
    _, printed, out = run
    ((uri,),) = duckdb.sql(
        f"select source_uri from read_parquet('{out}/reports/*/*.parquet') where source_uri like '%/download?%'"
    ).fetchall()
    assert uri == inputs["url"]
    ((agency,),) = duckdb.sql(
        f"select agency from read_parquet('{out}/reports/*/*.parquet') where source_uri = '{inputs['outside']}'"
    ).fetchall()
    assert agency == "示例县网上镇人民政府"  # read from the GB18030 manifest
    seen = [printed] + [p.read_text(encoding="utf-8") for p in (out / "validation").glob("*.html")]
    run_page = next(p for p in (out / "validation").glob("*.html") if p.name != "index.html")
    seen += [a.data for a in _artifacts(run_page.stem)]
    for d in (*DATASETS, "fetches"):
        seen += [
            repr(duckdb.sql(f"select * from read_parquet('{p}')").fetchall()) for p in (out / d).rglob("*.parquet")
        ]
    assert all("pa55word" not in text for text in seen)


def _artifacts(flow_run_id: str) -> list:
    import asyncio

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    async def read():
        async with get_client() as client:
            return await client.read_artifacts(
                artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
            )

    found = asyncio.run(read())
    assert {a.key for a in found} == {"ingest-counts", "ingest-failures"}
    return found


def test_a_manifest_in_neither_utf8_nor_gb18030_is_a_usage_error(tmp_path, capsys):
    manifest = tmp_path / "m.csv"
    manifest.write_bytes(b"uri\nok.txt\n\x80\xff.txt\n")
    assert cli.main(["ingest", str(manifest), "--out", str(tmp_path / "wh")]) == 2
    assert f"nianbao: {manifest}:3: the manifest is neither UTF-8 nor GB18030" in capsys.readouterr().err


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_manifests_in_utf8_with_or_without_bom_and_gb18030(tmp_path, encoding):
    from nianbao.acquire.sources import resolve

    manifest = tmp_path / "m.csv"
    manifest.write_text("uri,agency\nr.txt,示例县青山镇人民政府\n", encoding=encoding)
    (source,) = resolve([str(manifest)])
    assert (source.uri, source.overrides, source.refused) == (
        str(tmp_path / "r.txt"),
        {"agency": "示例县青山镇人民政府"},
        None,
    )


def test_paths_outside_the_manifests_folder_are_refused_unless_allowed(tmp_path, monkeypatch):
    from nianbao.acquire.sources import resolve

    monkeypatch.delenv("NIANBAO_ALLOW_OUTSIDE", raising=False)
    (tmp_path / "in").mkdir()
    manifest = tmp_path / "in" / "m.jsonl"
    manifest.write_text(
        '{"uri": "../../etc/shadow"}\n{"uri": "/etc/passwd"}\n{"uri": "sub/../r.txt"}\n', encoding="utf-8"
    )
    refused = [s.refused is not None for s in resolve([str(manifest)])]
    assert refused == [True, True, False]
    assert [s.refused for s in resolve([str(manifest)], allow_outside=True)] == [None] * 3
    monkeypatch.setenv("NIANBAO_ALLOW_OUTSIDE", "1")
    assert [s.refused for s in resolve([str(manifest)])] == [None] * 3


OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100
TEXT = SAMPLE.read_bytes()


@pytest.mark.parametrize(
    "data,name,content_type,declared,fmt",
    [
        (b"%PDF-1.7\n...", "http://x.gov.cn/download?id=3", "application/octet-stream", None, "pdf"),
        (b"PK\x03\x04...", "http://x.gov.cn/attachment/3", None, None, "docx"),
        (b"{\\rtf1\\ansi ...}", "report.doc", "application/msword", None, "rtf"),
        (OLE, "http://x.gov.cn/download?id=3", "application/kswps", None, "wps"),
        (OLE, "http://x.gov.cn/files/report.wps", None, None, "wps"),
        (OLE, "http://x.gov.cn/download?id=3", None, None, "doc"),
        (TEXT, "http://x.gov.cn/download?id=3", "text/html; charset=utf-8", None, "html"),
        (TEXT, "http://x.gov.cn/art/2024/3/1/art_1_3.shtml", None, None, "html"),
        (TEXT, "/reports/copy_without_suffix", None, None, "txt"),
        (TEXT, "/reports/r.pdf", "application/pdf", "html", "html"),  # a text dump: the manifest settles it
        (TEXT.decode().encode("utf-16"), "notepad.txt", None, None, "txt"),
        (b"<!DOCTYPE html><html><body>x</body></html>", "/x/r", None, None, "html"),
        (random.Random(1).randbytes(2000), "report.pdf", "application/pdf", None, None),
    ],
)
def test_the_format_comes_from_the_bytes_then_the_final_url_and_content_type(data, name, content_type, declared, fmt):
    from nianbao.extract import sniff

    assert sniff(data, name, content_type, declared) == fmt


def test_the_same_bytes_twice_keep_the_readable_reading(tmp_path):
    """The same dump listed again with a wrong `format` reads unreadable: the report stays valid."""
    from nianbao.acquire.sources import Source
    from nianbao.run.pipeline import process_batch

    shutil.copy(SAMPLE, tmp_path / "r.txt")
    shutil.copy(SAMPLE, tmp_path / "copy")
    frames = process_batch(
        [Source(str(tmp_path / "r.txt")), Source(str(tmp_path / "copy"), {"format": "html"})], "run", processes=False
    )
    assert frames["reports"].select("source_uri", "source_format", "status").rows() == [
        (str(tmp_path / "r.txt"), "txt", "valid")
    ]


# -- a second hostile round (issue 24) ----------------------------------------------------------

GIANT = "1234567890123456789012345678901234567890"  # 40 digits: no int64, no decimal(18,6) holds it


def test_a_giant_number_is_the_cells_finding_and_its_batch_publishes(tmp_path):
    """40 digits, 2^63, 5,000 nines and an amount that rounds to 10^12 in cells of sections 二, 三 and
    四 and in the text: the report is invalid for those cells (values null, as printed in `raw`), the
    good report beside it valid."""
    from nianbao.acquire.sources import Source
    from nianbao.run.pipeline import process_batch
    from nianbao.warehouse import publish

    text = SAMPLE.read_text(encoding="utf-8")
    nines = "9" * 5000
    hostile = (
        text.replace("行政许可\t356", f"行政许可\t{2**63}")
        .replace("行政事业性收费\t1.25", "行政事业性收费\t999999999999.9999999")  # 10^12 once rounded
        .replace("一、本年新收政府信息公开申请数量\t\t12", f"一、本年新收政府信息公开申请数量\t\t{GIANT}")
        .replace("2\t1\t0\t0\t3\t1", f"2\t1\t0\t0\t{nines}\t1")
        .replace("持续完善政务公开平台。", f"持续完善政务公开平台。全年共收到政府信息公开申请{GIANT}件。")
    )
    assert hostile.count(GIANT) == 2 and nines in hostile and str(2**63) in hostile
    (tmp_path / "giant.txt").write_text(hostile, encoding="utf-8")
    frames = process_batch([Source(str(tmp_path / "giant.txt")), Source(str(SAMPLE))], "run", processes=False)
    publish.publish(tmp_path / "wh", frames)
    wh = tmp_path / "wh"
    status = dict(duckdb.sql(f"select source_uri, status from read_parquet('{wh}/reports/*/*.parquet')").fetchall())
    assert status == {str(tmp_path / "giant.txt"): "invalid", str(SAMPLE): "valid"}
    found = duckdb.sql(
        f"select rule_id, cells, expected, observed from read_parquet('{wh}/findings/*/*.parquet') "
        "where rule_id = 'cells.non_negative_integer' order by cells"
    ).fetchall()
    assert found == [
        (
            "cells.non_negative_integer",
            ["active_disclosure:fees/amount_10k_yuan"],
            "a number below 10^12",
            "999999999999.9999999",
        ),
        (
            "cells.non_negative_integer",
            ["active_disclosure:licensing/decisions"],
            "an integer >= 0 below 10^12",
            str(2**63),
        ),
        ("cells.non_negative_integer", ["applications:new/natural_person"], "an integer >= 0 below 2^63", GIANT),
        ("cells.non_negative_integer", ["reviews_litigation:review/total"], "an integer >= 0 below 2^63", nines),
    ]
    others = duckdb.sql(
        f"select rule_id, observed, expected from read_parquet('{wh}/findings/*/*.parquet') "
        "where rule_id != 'cells.non_negative_integer'"
    ).fetchall()
    # the sums with those cells are unknown, not broken; the text's figure is told against the table's
    assert others == [("narrative.table_mismatch", "1.2345678901234568e+39", "16")]
    held = duckdb.sql(
        f"select value, raw from read_parquet('{wh}/quarantine/applications/*/*.parquet') "
        "where row = 'new' and applicant = 'natural_person'"
    ).fetchall()
    assert held == [(None, GIANT)]
    assert duckdb.sql(f"select count(*) from read_parquet('{wh}/applications/*/*.parquet')").fetchall() == [(7 * 25,)]


@pytest.mark.parametrize(
    "suffix,line,n", [(".csv", "r.txt,99999\n", 3), (".jsonl", '{"uri": "r.txt", "year": 99999}\n', 2)]
)
def test_a_manifest_year_that_is_no_year_is_a_usage_error_naming_its_row(tmp_path, capsys, suffix, line, n):
    """A year of four digits is a year (2007 or 2031: the report's metadata.year finding); 99999
    would not fit the int16 column: the run would fail as a whole. It is the manifest's error."""
    from nianbao.acquire.sources import resolve
    from nianbao.model.errors import UsageError

    shutil.copy(SAMPLE, tmp_path / "r.txt")
    manifest = tmp_path / f"m{suffix}"
    head = "uri,year\nr.txt,2031\n" if suffix == ".csv" else '{"uri": "r.txt", "year": 2031}\n'
    manifest.write_text(head + line, encoding="utf-8")
    with pytest.raises(UsageError, match=rf"m{suffix}:{n}: year '?99999'? is not a year \(four digits\)$"):
        resolve([str(manifest)])
    assert cli.main(["ingest", str(manifest), "--out", str(tmp_path / "wh")]) == 2
    assert f"m{suffix}:{n}: year" in capsys.readouterr().err and not (tmp_path / "wh").exists()


def test_a_file_in_validation_the_warehouse_did_not_write_is_skipped_with_a_warning(tmp_path, caplog):
    from nianbao.report import validation_report

    folder = tmp_path / "wh" / "validation"
    folder.mkdir(parents=True)
    summary = {
        "reports": [{"report_id": "a" * 64, "source_uri": "r.txt", "status": "valid", "year": 2023}],
        "findings": [],
    }
    validation_report.write(summary, "run-a", tmp_path / "wh")
    strays = {
        "list.json": "[1, 2, 3]",
        "counts.json": '{"run_id": "x", "finished": "2026", "reports": "many"}',
        "text.json": "not JSON at all",
        "nameless.json": '{"finished": "2026", "reports": 1}',
        "script.json": '{"run_id": "<script>", "finished": 5, "reports": true}',
    }
    for name, text in strays.items():
        (folder / name).write_text(text, encoding="utf-8")
    with caplog.at_level("WARNING", logger="nianbao"):
        validation_report.write(summary, "run-b", tmp_path / "wh")
    index = (folder / "index.html").read_text(encoding="utf-8")
    assert re.findall(r'href="([^"]+)\.html"', index) == ["run-b", "run-a"]
    warned = sorted(r.getMessage() for r in caplog.records if r.name.startswith("nianbao"))
    assert warned == [f"{folder / name}: not a run's counts the warehouse wrote; skipped" for name in sorted(strays)]


@pytest.mark.parametrize(
    "dataset,table,why",
    [
        ("applications", {"x": [1, 2]}, "its column x is none of the dataset's"),
        ("reports", {"report_id": [3, 4]}, "its column report_id is int64, not string"),
    ],
)
def test_a_foreign_parquet_file_in_a_partition_is_named_with_what_to_do(warehouse, dataset, table, why):
    """A file another program left in a partition stops publishing (it cannot be merged with), in one
    line that names it and says what to do, before anything is written."""
    import pyarrow as pa

    from nianbao.acquire.sources import Source
    from nianbao.run.pipeline import process_batch
    from nianbao.warehouse import publish, storage

    frames = process_batch([Source(str(SAMPLE))], "run", processes=False)
    publish.publish(warehouse, frames)
    root = storage.path(warehouse)
    before = publish.published(warehouse)
    stray = root / dataset / "year=2023" / "from-elsewhere.parquet"
    publish.write_atomic(pa.table(table), stray)
    want = (
        f"{stray} is not a file of the warehouse's `{dataset}` dataset ({why}): move it out of the "
        "warehouse, then run again"
    )
    calls = [lambda: publish.publish(warehouse, frames)]
    if dataset == "reports":
        calls.append(lambda: publish.published(warehouse))  # what a run reads first
    for call in calls:
        with pytest.raises(publish.WarehouseError) as raised:
            call()
        assert str(raised.value) == want
    stray.unlink()
    assert publish.published(warehouse) == before  # nothing was written meanwhile


def test_a_writer_that_lost_its_lease_mid_publish_changes_nothing_more(s3, monkeypatch):
    """A writer frozen mid-publish (SIGSTOP: its renewals stop with it) past its lease (the clock), which
    another writer then takes over; resumed, it refuses its next write and deletes nothing either:
    not its partial versions, not `_index/writing`, nothing under the other writer's lease."""
    import json

    from clock import FakeClock

    from nianbao.acquire.sources import Source
    from nianbao.run.pipeline import process_batch
    from nianbao.warehouse import publish, storage

    bucket, wh = s3[5:], f"{s3}/wh"
    frames = process_batch([Source(str(SAMPLE))], "run", processes=False)
    publish.publish(wh, frames)
    clock = FakeClock()
    monkeypatch.setattr(storage, "CLOCK", clock)
    put, seen = storage.put_object, []

    def put_then_freeze(b, key, data, **conditions):  # the real PUT; after the writer's second, the freeze
        etag = put(b, key, data, **conditions)
        seen.append(key)
        if sum("/year=" in k for k in seen) == 2 and "/year=" in key:
            lease = storage._held[bucket]
            lease._stop.set()
            lease._renewer.join()
            clock.advance(lease.expires - clock.time() + 0.05)  # frozen past its lease
            other = storage.Lease(bucket, "wh/.lease", seconds=60)
            assert other._try()  # its holder seems dead: taken over
            seen.append(("taken", other.owner, set(storage.filesystem().find(f"{bucket}/wh"))))
        return etag

    monkeypatch.setattr(storage, "put_object", put_then_freeze)
    with pytest.raises(publish.WarehouseError, match="lost the warehouse lease .*expired unrenewed"):
        publish.publish(wh, frames)
    monkeypatch.undo()
    ((_, owner, keys),) = [s for s in seen if isinstance(s, tuple)]
    after = set(storage.filesystem().find(f"{bucket}/wh"))
    assert keys - after == set()  # deleted nothing
    assert f"{bucket}/wh/_index/writing" in after and len([k for k in after - keys]) == 0
    assert json.loads(storage.filesystem().cat_file(f"{bucket}/wh/.lease"))["owner"] == owner


def test_the_summary_of_a_hundred_thousand_failures_lists_the_first_and_counts_the_rest():
    """A 100,000-row manifest of files not there: the summary stays a screen (bench/load_bench.py
    measures the run itself)."""
    import polars as pl

    from nianbao.report.summary import RunSummary

    n = 100_000
    ids = [f"{i:064d}" for i in range(n)]
    reports = pl.DataFrame(
        {
            "report_id": ids,
            "source_uri": [f"missing/m{i:07d}.pdf" for i in range(n)],
            "status": ["unreadable"] * n,
            "error_count": [1] * n,
        }
    )
    findings = pl.DataFrame(
        {
            "report_id": ids,
            "rule_id": ["document.unreadable"] * n,
            "severity": ["error"] * n,
            "message": ["cannot read the file: No such file or directory"] * n,
        }
    )
    lines = cli.render_summary(RunSummary(reports, findings), "wh").splitlines()
    assert lines[0] == "100000 reports: 0 valid, 0 invalid, 100000 unreadable"
    assert lines[2:4] == [
        "  unreadable missing/m0000000.pdf",
        "             document.unreadable: cannot read the file: No such file or directory",
    ]
    assert lines[-2] == "  … and 99980 more failed reports (see the validation report)"
    assert len(lines) == 2 + 2 * cli.CAPS.failed + 2
