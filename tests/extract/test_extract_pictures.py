"""Tables printed as pictures, read by OCR with the scans' trust rule: an HTML page's <img>s (an
inline data: URI, a file beside a local page, a picture fetched for a page read by URL) and a
Word document's pasted pictures (python-docx's, and LibreOffice's DOCX of it). The pictures are
made the real way (tests/fixtures/pictures.py: each table typeset and printed to pixels). Where a
picture cannot be read the report says so in one line, and a section then missing is ours."""

import base64
import io
import random
import struct
import sys
import zlib
from pathlib import Path

import accuracy
import corpus
import pytest

from nianbao.acquire.sources import Source
from nianbao.extract import extract, office
from nianbao.interpret import trust
from nianbao.interpret.match import match
from nianbao.interpret.normalise import number
from nianbao.model.document import Paragraph, Table
from nianbao.run.pipeline import _read, process_document_bytes

sys.path[:0] = [str(Path(__file__).parents[1] / "fixtures"), str(Path(__file__).parents[1] / "fixtures" / "fetch")]
import pictures  # noqa: E402
from fetch_server import Server, send  # noqa: E402

DATASETS = ("active_disclosure", "applications", "reviews_litigation")
REVIEWS = 2  # section 四's table, the layout's third


@pytest.fixture(scope="module")
def report():
    """Template-consistent values: the sums the trust rule checks hold."""
    return accuracy.random_report(random.Random("pictures"))


@pytest.fixture(scope="module")
def layout(report):
    return corpus.layout(report)


@pytest.fixture(scope="module")
def section_4_pictured(layout):
    """Sections 二 and 三 as tables, section 四 as a picture."""
    return pictures.pictured(layout, only={REVIEWS})


def tally(m, rep) -> tuple[int, int, list]:
    """(exact, flagged unread, wrong) over every cell the report prints."""
    exact, flagged, wrong = 0, 0, []
    for d in DATASETS:
        got = {c.key: c for c in getattr(m, d)}
        for k, printed in getattr(rep, d).items():
            c = got.get(k)
            if c is not None and c.unread:
                flagged += 1
            elif c is not None and number(c.raw) == number(printed):
                exact += 1
            else:
                wrong.append((d, k, printed, c and c.raw))
    return exact, flagged, wrong


def read(data: bytes, fmt: str):
    blocks = extract(data, fmt)
    return blocks, trust.check(blocks, match(blocks))


def rules(m) -> set[str]:
    return {f.rule_id for f in m.findings}


def test_html_page_whose_tables_are_inline_data_uri_pictures(report, layout):
    page, files = pictures.html_page(pictures.pictured(layout))
    assert files == {} and page.count(b'<img src="data:image/png;base64,') == 3 and b"<table" not in page
    blocks, m = read(page, "html")
    # the pictures' tables stand where the pictures do, among the page's paragraphs
    kinds = [
        (type(b).__name__, b.where if isinstance(b, Paragraph) else b.where[0])
        for b in blocks
        if isinstance(b, Table) or b.text.startswith(("二、", "三、", "四、", "五、"))
    ]
    assert [k for k, _ in kinds] == ["Paragraph", "Table", "Paragraph", "Table", "Paragraph", "Table", "Paragraph"]
    assert [w for k, w in kinds if k == "Table"] == ["picture 1", "picture 2", "picture 3"]
    exact, flagged, wrong = tally(m, report)
    assert wrong == [] and exact + flagged == 200 and exact >= 190, (exact, flagged)
    assert "extraction.ocr" in rules(m) and "sections.complete" not in rules(m)


def test_html_page_with_a_picture_beside_it_read_through_the_pipeline(report, section_4_pictured, tmp_path):
    page, files = pictures.html_page(section_4_pictured, beside=True)
    (tmp_path / "images").mkdir()
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    (tmp_path / "report.html").write_bytes(page)
    r = _read(Source(str(tmp_path / "report.html")), "run", None)
    assert r.linked == (("images/table1.png", files["images/table1.png"]),)
    assert r.job == (page, "html", r.linked)  # what the worker process is given
    done = process_document_bytes(r.row, r.data, {}, r.linked)
    assert _section_4(done, report) == (15, 0)
    assert done.row.read_by == "ocr"
    assert [f.rule_id for f in done.findings if f.rule_id.startswith("extraction.")] == ["extraction.ocr"]


def _section_4(done, report) -> tuple[int, int]:
    """Section 四's cells (of a report through the pipeline) exact and flagged; none wrong."""
    cells = {(c["proceeding"], c["outcome"]): c for c in done.cells["reviews_litigation"]}
    exact = {
        k for k, v in report.reviews_litigation.items() if not cells[k]["unread"] and cells[k]["number"] == number(v)
    }
    flagged = {k for k in report.reviews_litigation if cells[k]["unread"] and cells[k]["number"] is None}
    assert len(exact | flagged) == 15
    return len(exact), len(flagged)


def test_a_picture_that_cannot_be_had_is_said_and_its_section_is_ours_to_have_missed(
    layout, section_4_pictured, tmp_path
):
    """The file is missing beside the page, and the page prints no heading of section 四: without
    the picture's word the section would be the agency's to have left out (sections.complete)."""
    blocks = [b for b in section_4_pictured if not (b[0] == "p" and b[1].startswith("四、"))]
    page, _ = pictures.html_page(blocks, beside=True)
    icon = '<img src="data:image/png;base64,' + _png(16, 16) + '"><img src="images/icon.gif" width="16" height="16">'
    (tmp_path / "report.html").write_bytes(page.replace(b"<body>", f"<body>{icon}".encode()))
    (tmp_path / "secret.png").write_bytes(b"not for a page to read")
    r = _read(Source(str(tmp_path / "report.html")), "run", None)
    assert r.linked == (("images/table1.png", "not found beside the page: No such file or directory"),)
    m = trust.check(b := extract(r.data, "html", r.linked), match(b))
    said = [(f.rule_id, f.severity, f.message) for f in m.findings]
    assert said[0] == (
        "extraction.picture",
        "warning",
        "picture 1 (images/table1.png) could not be read: not found beside the page: No such file or directory",
    )
    unread = [f for f in m.findings if f.rule_id == "extraction.unread_cell"]
    assert [(f.message, len(f.cells)) for f in unread] == [
        (
            "section 四: not in the text, and picture 1 (images/table1.png) could not be read: not found beside the "
            "page: No such file or directory",
            15,
        )
    ]
    assert "sections.complete" not in rules(m)  # the icons: passed by, no word of them
    assert all(c.unread and c.raw is None for c in m.reviews_litigation)
    # a src leaving the page's folder is not followed
    escape = page.replace(b"images/table1.png", b"../" + tmp_path.name.encode() + b"/secret.png")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "report.html").write_bytes(escape)
    r = _read(Source(str(tmp_path / "sub" / "report.html")), "run", None)
    assert r.linked == ((f"../{tmp_path.name}/secret.png", "refused: outside the page's folder"),)


def test_a_picture_without_a_ruled_table_is_said_and_the_document_is_never_valid(layout):
    """Section 四 a picture of a borderless table (no rules for OCR to find cells by)."""
    blocks = pictures.pictured(layout, only={REVIEWS}, rules={REVIEWS: "none"})
    page, _ = pictures.html_page(blocks)
    _, m = read(page, "html")
    picture = [f.message for f in m.findings if f.rule_id == "extraction.picture"]
    assert picture == ["picture 1 (data:image/png;base64,…) could not be read: OCR found no ruled table in it"]
    unread = [f for f in m.findings if f.rule_id == "extraction.unread_cell"]
    assert (
        len(unread) == 1 and unread[0].message.startswith("section 四: printed ('四、") and len(unread[0].cells) == 15
    )
    # every page's picture unread: the document says which, not that sections are missing
    page, _ = pictures.html_page(pictures.pictured(layout, rules={0: "none", 1: "none", REVIEWS: "none"}))
    with pytest.raises(
        Exception,
        match=r"no template tables found \(section 三 \('三、.*'\) and section 四 \('四、.*'\) "
        r"printed in a layout that could not be read; picture 1 \(data:image/png;base64,…\) "
        r"could not be read: OCR found no ruled table in it",
    ):
        read(page, "html")


def test_html_page_read_by_url_fetches_its_pictures_through_the_fetcher(report, section_4_pictured, monkeypatch):
    from nianbao.acquire import fetch

    monkeypatch.setenv("NIANBAO_ALLOW_PRIVATE", "1")
    monkeypatch.setattr(fetch, "_default", fetch.Fetcher(delay=0, retries=0))  # the loopback allowed
    page, files = pictures.html_page(section_4_pictured, beside=True)
    page = page.replace(b"<body>", b'<body><img src="/logo.png" alt="logo">')
    routes = {
        "/gov/report.html": lambda h, n: send(h, 200, page, "text/html; charset=utf-8"),
        "/gov/images/table1.png": lambda h, n: send(h, 200, files["images/table1.png"], "image/png"),
    }
    with Server(routes) as server:
        r = _read(Source(server.url("/gov/report.html")), "run", None)
        hits = dict(server.hits)
    assert hits == {"/gov/report.html": 1, "/logo.png": 1, "/gov/images/table1.png": 1}
    assert r.linked == (
        ("/logo.png", "fetch failed: HTTP 404 Not Found"),
        ("images/table1.png", files["images/table1.png"]),
    )
    done = process_document_bytes(r.row, r.data, {}, r.linked)
    assert _section_4(done, report) == (15, 0)
    assert [f.message for f in done.findings if f.rule_id == "extraction.picture"] == [
        "picture 1 (/logo.png) could not be read: fetch failed: HTTP 404 Not Found"
    ]


@pytest.fixture(scope="module")
def pasted_docx(section_4_pictured):
    return pictures.docx(section_4_pictured)


def _check_docx(data: bytes, report):
    blocks, m = read(data, "docx")
    heading = next(i for i, b in enumerate(blocks) if isinstance(b, Paragraph) and b.text.startswith("四、"))
    after = next(i for i, b in enumerate(blocks) if isinstance(b, Paragraph) and b.text.startswith("五、"))
    assert [b.where[0] for b in blocks[heading:after] if isinstance(b, Table)] == ["picture 1"]  # in document order
    exact, flagged, wrong = tally(m, report)
    assert wrong == [] and (exact, flagged) == (200, 0)
    assert "extraction.ocr" in rules(m)


def test_docx_whose_table_is_a_pasted_picture(report, pasted_docx):
    import zipfile

    assert [n for n in zipfile.ZipFile(io.BytesIO(pasted_docx)).namelist() if n.startswith("word/media/")] == [
        "word/media/image1.png"
    ]
    _check_docx(pasted_docx, report)


@pytest.mark.skipif(not office.soffice(), reason="LibreOffice is not installed")
def test_docx_with_a_pasted_picture_saved_by_libreoffice(report, pasted_docx):
    data = pictures.libreoffice_docx(pasted_docx)
    assert b"word/media/" in data and data != pasted_docx
    _check_docx(data, report)


def test_picture_bombs_are_refused_before_they_are_decoded(layout):
    """A PNG declaring 7000×7000 pixels in a few bytes: refused from its header, the report says so."""
    from nianbao.extract.pdf import ocr

    bomb = _png(7000, 7000)
    with pytest.raises(Exception, match="a picture of 7000×7000 pixels, over the limit of 40000000"):
        ocr.read_picture(base64.b64decode(bomb))
    page, _ = pictures.html_page(layout)  # its tables as tables
    page = page.replace(b"</body>", f'<img src="data:image/png;base64,{bomb}"></body>'.encode())
    _, m = read(page, "html")
    assert all(not c.unread for d in DATASETS for c in getattr(m, d))  # the page's own tables, read
    assert [f.message for f in m.findings if f.rule_id == "extraction.picture"] == [
        "picture 1 (data:image/png;base64,…) could not be read: a picture of 7000×7000 pixels, over the limit of 40000000"
    ]


def _png(width: int, height: int) -> str:
    """A white PNG of that size, base64, written by hand: a bomb's header costs nothing to make."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    rows = zlib.compress(b"".join(b"\x00" + b"\xff" * width for _ in range(min(height, 64))))
    data = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", rows)
        + chunk(b"IEND", b"")
    )
    return base64.b64encode(data).decode("ascii")
