"""Scanned reports: OCR (nianbao.extract.pdf.ocr) and the trust step after matching (nianbao.interpret.trust).

The trust tests feed the matcher OCR-shaped tables (cells as Readings with a confidence) built from
the corpus report, with misreadings put in by hand: no OCR needed, so they run in milliseconds.
The OCR tests scan real reports (../shared) the way a scanner does and read them back.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from nianbao.interpret import trust
from nianbao.interpret.match import match
from nianbao.interpret.normalise import number
from nianbao.model.document import NARRATIVE_UNREAD, Paragraph, Reading, Table
from nianbao.model.findings import Finding

sys.path.insert(0, str(Path(__file__).parents[1] / "fixtures"))
import corpus  # noqa: E402
import scan  # noqa: E402

sys.path.insert(0, str(Path(__file__).parents[1]))
import accuracy  # noqa: E402
from conftest import REAL, missing  # noqa: E402


@pytest.fixture(scope="module")
def rep():
    """A report whose numbers add up as the template says (corpus.report()'s need not)."""
    import random

    return accuracy.random_report(random.Random(3))


HZQ2023 = REAL / "zxj6827111-blip__KIROGOVCOMPARE/hzq2023_working.pdf"
HZQ2024 = REAL / "zxj6827111-blip__KIROGOVCOMPARE/hzq2024_working.pdf"
SZFGS2024 = REAL / "zxj6827111-blip__govnianbao/szfgs2024.pdf"


def _scanned_blocks(rep, confidence: float = 0.99, change: dict | None = None) -> list:
    """The report's layout as OCR would give it: every cell a Reading; `change` maps a printed
    cell text's (table, row, column) to (text read, confidence)."""
    blocks = []
    for t, (kind, value) in enumerate(corpus.layout(rep)):
        if kind == "p":
            blocks.append(Paragraph(value, "page 1"))
            continue
        grid = corpus.grid(value)
        rows, confs = [], []
        for r, row in enumerate(grid):
            cells = [(change or {}).get((t, r, c), (text, confidence)) for c, text in enumerate(row)]
            rows.append([Reading(text, p) for text, p in cells])
            confs.append([p for _, p in cells])
        blocks.append(Table(rows, ["page 1"] * len(rows), confidence=confs))
    return blocks


def _read(blocks):
    m = match(blocks)
    return trust.check(blocks, m)


def _unread(m) -> dict[str, str]:
    return {f.cells[0]: f.observed for f in m.findings if f.rule_id == "extraction.unread_cell"}


def test_confident_readings_the_sums_confirm_are_published_as_printed(rep):
    m = _read(_scanned_blocks(rep))
    assert {c.key: c.raw for c in m.applications} == rep.applications
    assert {c.key: c.raw for c in m.reviews_litigation} == rep.reviews_litigation
    assert {c.key: c.raw for c in m.active_disclosure} == rep.active_disclosure
    assert not any(isinstance(c.raw, Reading) for c in m.applications)  # plain text leaves the trust step
    assert [f.rule_id for f in m.findings] == ["extraction.ocr"]
    assert m.findings[0].severity == "warning"


def _section_3_cell(rep, digit: str, whole: bool = False):
    """A section 三 value cell whose printed number holds `digit`, and its position in the grid."""
    t, table = next(
        (i, v)
        for i, (k, v) in enumerate(corpus.layout(rep))
        if k == "table" and any("本年新收" in c for row in corpus.grid(v) for c in row)
    )
    for (row, col), text in rep.applications.items():
        if (text == digit) if whole else (digit in text):
            for r, cells in enumerate(corpus.grid(table)):
                for c, cell in enumerate(cells):
                    if cell == text and _cell_at(rep, table, r, c) == (row, col):
                        return (row, col), (t, r, c), text
    pytest.skip(f"no section 三 cell prints a {digit}")


def _cell_at(rep, table, r, c):
    """The (row, column) code the matcher gives grid position r, c of section 三's table."""
    blocks = [
        Table(
            [
                [Reading(x, 1.0) if (i, j) != (r, c) else Reading("MARK", 1.0) for j, x in enumerate(row)]
                for i, row in enumerate(corpus.grid(table))
            ],
            ["p"] * len(corpus.grid(table)),
        )
    ]
    m = match(blocks)
    return next((cell.key for cell in m.applications if cell.raw == "MARK"), None)


def _numbers_where(rep) -> dict:
    """The grid position (table, row, column) of each (row, column) code of section 三 printed as
    plain digits: each such cell marked with its position, the marked table matched once (as
    _cell_at would place them one by one)."""
    t, table = next(
        (i, v)
        for i, (k, v) in enumerate(corpus.layout(rep))
        if k == "table" and any("本年新收" in c for row in corpus.grid(v) for c in row)
    )
    grid = corpus.grid(table)
    mark = {(r, c): f"MARK{r}_{c}" for r, row in enumerate(grid) for c, x in enumerate(row) if x.strip().isdigit()}
    rows = [[Reading(mark.get((r, c), x), 1.0) for c, x in enumerate(row)] for r, row in enumerate(grid)]
    placed = {cell.raw: cell.key for cell in match([Table(rows, ["p"] * len(rows))]).applications}
    return {placed.get(m): (t, r, c) for (r, c), m in mark.items()}


@pytest.mark.parametrize(
    "printed, misread", [("0", "8"), ("8", "0"), ("1", "7"), ("7", "1"), ("5", "6"), ("6", "5"), ("3", "8"), ("8", "3")]
)
def test_a_confident_digit_misread_is_caught_by_the_sums_never_published(rep, printed, misread):
    key, at, text = _section_3_cell(rep, printed)
    wrong = text.replace(printed, misread, 1)
    m = _read(_scanned_blocks(rep, change={at: (wrong, 0.99)}))
    name = f"applications:{key[0]}/{key[1]}"
    # the misread breaks its row's and its column's sums: it alone is to blame, the rest is published
    assert _unread(m) == {name: wrong}
    cells = {c.key: c.raw for c in m.applications}
    assert cells[key] is None
    assert {k: v for k, v in cells.items() if k != key} == {k: v for k, v in rep.applications.items() if k != key}
    finding = next(f for f in m.findings if f.rule_id == "extraction.unread_cell")
    assert finding.severity == "error" and "no sum it is in adds up as read" in finding.message


@pytest.mark.parametrize("column_unread", [False, True])
def test_two_misreads_cancelling_out_in_a_row_total_are_caught_by_the_columns(rep, column_unread):
    """As a 150-dpi scan of szfgs2024 read 25 as 15 both under natural persons and in the total;
    with a cell of their columns unread, no column confirms them: still not published."""
    where = _numbers_where(rep)
    row = next(r for r, _ in where if (r, "natural_person") in where and (r, "total") in where)
    change = {
        where[(row, col)]: (str(int(rep.applications[(row, col)]) + 10), 0.99) for col in ("natural_person", "total")
    }
    if column_unread:
        other = next(r for r, c in where if c == "natural_person" and r != row and (r, "total") in where)
        change |= {where[(other, col)]: ("?", 0.99) for col in ("natural_person", "total")}
    m = _read(_scanned_blocks(rep, change=change))
    cells = {c.key: c.raw for c in m.applications}
    assert cells[(row, "natural_person")] is None and cells[(row, "total")] is None
    assert all(v == rep.applications[k] for k, v in cells.items() if v is not None)


@pytest.mark.parametrize("cells", [1, 2])
def test_cells_read_as_no_number_hold_back_only_themselves(rep, cells):
    """A full-width slash read confidently as 'Z' is no number: the sums it is in cannot be judged
    as read, but their other cells tell its value, which judges its other sums in its place. Two in
    one column (as a 200-dpi scan read two ／ of one column): each row tells its own."""
    where = _numbers_where(rep)
    column = [k for k in where if k[1] == "social_welfare" and k[0].startswith(("withheld", "rejected"))][:cells]
    assert len(column) == cells
    m = _read(_scanned_blocks(rep, change={where[k]: ("Z", 0.97) for k in column}))
    assert _unread(m) == {f"applications:{r}/{c}": "Z" for r, c in column}
    assert {c.key: c.raw for c in m.applications if c.raw is not None} == {
        k: v for k, v in rep.applications.items() if k not in column
    }


def test_a_value_told_by_a_row_holding_a_misread_confirms_nothing_wrong(rep):
    """A cell read as no number beside a confident misread in its row: the row tells it a wrong
    value, which breaks its column; neither the misread nor anything else wrong is published."""
    where = _numbers_where(rep)
    row = next(r for r, c in where if c == "natural_person" and (r, "commercial") in where and r != "new")
    wrong = str(int(rep.applications[(row, "commercial")]) + 6)
    m = _read(
        _scanned_blocks(
            rep, change={where[(row, "natural_person")]: ("Z", 0.97), where[(row, "commercial")]: (wrong, 0.99)}
        )
    )
    assert {f"applications:{row}/natural_person", f"applications:{row}/commercial"} <= set(_unread(m))
    assert all(
        number(v) == number(rep.applications[k]) for k, v in ((c.key, c.raw) for c in m.applications) if v is not None
    )


def test_a_dash_read_doubtfully_counts_0_in_the_sums_and_holds_back_only_itself(rep):
    """Placeholders come back from a scan as 一—, -— ... with little confidence: they must not leave
    their row's and column's sums unjudged (which would hold back every cell in them)."""
    key, at, text = _section_3_cell(rep, "0", whole=True)
    m = _read(_scanned_blocks(rep, change={at: ("一—", 0.3)}))
    assert _unread(m) == {f"applications:{key[0]}/{key[1]}": "一—"}


def test_a_correct_reading_without_confidence_is_not_published(rep):
    key, at, text = _section_3_cell(rep, "1")
    m = _read(_scanned_blocks(rep, change={at: (text, 0.4)}))
    assert _unread(m) == {f"applications:{key[0]}/{key[1]}": text}
    assert "the reading is not confident" in next(
        f.message for f in m.findings if f.rule_id == "extraction.unread_cell"
    )


def test_section_2_cells_no_sum_confirms_need_a_very_confident_reading(rep):
    m = _read(_scanned_blocks(rep, confidence=0.9))
    unread = _unread(m)
    assert {c for c in unread if c.startswith("active_disclosure:")} == {
        f"active_disclosure:{i}/{j}" for (i, j) in rep.active_disclosure
    }
    assert not [c for c in unread if not c.startswith("active_disclosure:")]


def test_cells_read_from_a_text_layer_are_left_alone(rep):
    blocks = [
        b if isinstance(b, Paragraph) else Table([[str(c) for c in r] for r in b.rows], b.where)
        for b in _scanned_blocks(rep)
    ]
    m = match(blocks)
    assert trust.check(blocks, m).findings == []


def test_a_lone_0_the_model_splits_between_0_and_O_is_read_confidently():
    """A lone 0 cropped from a 200-dpi scan (tests/accuracy_scans.py's, JPEG and noise): the model
    gives 0 and O about half each, so the least character probability was 0.39; the character
    read is a 0 whichever of them it is, so its probability is theirs together."""
    import cv2

    from nianbao.extract.pdf import ocr

    crop = cv2.imread(str(Path(__file__).parents[1] / "fixtures" / "ocr_lone_zero.png"), cv2.IMREAD_GRAYSCALE)
    [(text, confidence)] = ocr.recognise([crop])
    assert text == "0" and confidence >= 0.95 > trust.CONFIDENCE.summed
    chars = ocr._engine().text_rec.postprocess_op.character
    alike = ocr._alike()
    assert {chars[i] for i in alike[chars.index("0")]} >= {"0", "O", "o", "０"}
    assert {chars[i] for i in alike[chars.index("1")]} >= {"1", "l", "I", "|", "１"}
    assert not {"8", "6", "9"} & {chars[i] for i in alike[chars.index("0")]}


def test_a_small_lone_0_read_as_nothing_is_read_again_larger():
    """Two cells of a lying text layer's page rendered at 200 dpi (tests/accuracy.py's
    pdf/lie-garbage: reportlab, WenQuanYi Micro Hei at 10 pt), each a lone 0 some 20 pixels tall.
    Batched alone (lines of its width), the recogniser read such a 0 as nothing: ink read as
    nothing, so confidence 0 and the cell flagged; a quarter of those reports' cells were. Read
    again scaled to the recogniser's height, it is a confident 0 (the sums still judge it)."""
    import cv2

    from nianbao.extract.pdf import ocr

    strip = cv2.imread(str(Path(__file__).parents[1] / "fixtures" / "ocr_small_zeros.png"), cv2.IMREAD_GRAYSCALE)
    [grid] = ocr.find_tables(strip)
    clean = strip.copy()
    x0, y0, x1, y1 = grid.box
    clean[y0:y1, x0:x1][grid.rules > 0] = 255
    table = ocr._table(clean, grid, 1)
    assert [[str(c) for c in row] for row in table.rows] == [["0"], ["0"]]
    assert min(c.confidence for row in table.rows for c in row) >= trust.CONFIDENCE.summed
    line = ocr._cell_lines(
        *ocr._marks(clean[grid.cells[0][1] : grid.cells[0][3], grid.cells[0][0] : grid.cells[0][2]])[:2]
    )[0]
    assert line.shape[0] < ocr._TALL <= ocr._larger(line).shape[0] - 2 * ocr._PAD  # the small line it was


def test_a_lines_reading_depends_on_the_width_it_is_padded_to_not_on_the_lines_it_runs_with(monkeypatch):
    """The recogniser's runs may be cut anyhow: lines padded to one width read the same, to the
    last bit of their confidence, whether they run together or one by one. What sways a doubtful
    reading is the pad (bench/ocr_batching.py: each line alone, unpadded, costs a third less but
    reads some lines otherwise), so a batching that saves pad changes what `make accuracy` holds."""
    import cv2
    import numpy as np

    from nianbao.extract.pdf import ocr

    zero = cv2.imread(str(Path(__file__).parents[1] / "fixtures" / "ocr_lone_zero.png"), cv2.IMREAD_GRAYSCALE)
    rng = np.random.default_rng(0)
    noisy = [np.clip(zero.astype(int) + rng.integers(-40, 40, zero.shape), 0, 255).astype(np.uint8) for _ in range(6)]
    crops = [zero, *noisy, np.hstack([zero, zero]), ocr._larger(zero)]
    together = ocr.recognise(crops)
    monkeypatch.setattr(ocr, "_BATCH_COLUMNS", 1)
    assert ocr.recognise(crops) == together
    assert all(t for t, _ in together)  # (each a 0 or two, though the pad makes one an o)


def test_a_line_is_read_at_its_inks_scale_whatever_its_boxs_slack():
    """A 7 wrapped under its number in a borderless table's narrow column (seed 0's
    scan/150-borderless, report 2), as aligned.read crops the detector's box: 22 rows of ink in
    58. Given 12 columns of grey past it as it came, its type shrunk by the box's slack, the
    recogniser read it as ? (0.62: not doubtful enough to be read again) and its row's numbers
    lost their tails; cut to its ink with a fixed margin first, it is a sure 7, and the same
    line in more white is cut to the same image."""
    import cv2
    import numpy as np

    from nianbao.extract.pdf import ocr

    seven = cv2.imread(str(Path(__file__).parents[1] / "fixtures" / "ocr_wrapped_seven.png"), cv2.IMREAD_GRAYSCALE)
    [(slack, _)] = ocr._run([seven], ocr._tails([seven]))
    assert slack != "7"
    [(text, confidence)] = ocr.recognise([seven])
    assert text == "7" and confidence >= trust.CONFIDENCE.alone
    roomier = cv2.copyMakeBorder(seven, 20, 20, 10, 30, cv2.BORDER_CONSTANT, value=255)
    assert np.array_equal(ocr._trimmed(roomier), ocr._trimmed(seven))
    assert ocr._trimmed(seven).shape[0] < seven.shape[0]


def test_the_models_run_on_one_thread_keeping_their_memory_arena():
    """A worker is a core: ONNX Runtime runs one thread. RapidOCR turned the arena off, so each of
    a table's many short runs of the recogniser allocated its activations afresh (some 5% of its
    CPU); the sessions keep it, the same graph giving the same outputs."""
    from nianbao.extract.pdf import ocr

    engine = ocr._engine()
    for session in (engine.text_det.infer.session, engine.text_rec.session.session):
        options = session.get_session_options()
        assert options.enable_cpu_mem_arena
        assert (options.intra_op_num_threads, options.inter_op_num_threads) == (1, 1)


def test_placeholders_are_read_by_their_shape_whatever_the_recogniser_makes_of_them():
    """Cells of a 200-dpi scan: '--', two level strokes three pixels high, which the recogniser
    read as nothing (then '='), and a full-width ／, which it read as 'Z' with confidence 0.97.
    Their shapes say what they are: placeholders, counting 0 in the sums. A digit is still read."""
    import cv2
    import numpy as np

    from nianbao.extract.pdf import ocr

    image = lambda name: cv2.imread(str(Path(__file__).parents[1] / "fixtures" / name), cv2.IMREAD_GRAYSCALE)
    dash, slash, zero = image("ocr_dash_cell.png"), image("ocr_slash_cell.png"), image("ocr_lone_zero.png")
    digit = np.full_like(dash, 255)
    top = (dash.shape[0] - zero.shape[0]) // 2
    digit[top : top + zero.shape[0], 30 : 30 + zero.shape[1]] = zero
    h, w = max(c.shape[0] for c in (dash, slash, digit)), max(c.shape[1] for c in (dash, slash, digit))
    gray = np.hstack(
        [np.pad(c, ((0, h - c.shape[0]), (0, w - c.shape[1])), constant_values=255) for c in (dash, slash, digit)]
    )
    cells = [(i * w, 0, (i + 1) * w, h) for i in range(3)]
    table = ocr._table(gray, ocr._Grid((0, 0, 3 * w, h), cells, np.zeros_like(gray)), 1)
    assert [(str(r), r.confidence) for r in table.rows[0][:2]] == [("—", 1.0), ("/", 1.0)]
    assert str(table.rows[0][2]) == "0" and table.rows[0][2].confidence >= trust.CONFIDENCE.summed
    assert trust._number(table.rows[0][0]) == trust._number(table.rows[0][1]) == 0


def test_a_row_the_page_breaks_with_a_number_wrapped_in_its_cell_is_joined_back():
    """A generated report laid out by LibreOffice breaks section 三's row 2.其他法律行政法规禁止公开
    across pages, its ９６９ wrapped as ９６ / ９: the page's first row holds the label's rest and a 9.
    Not joined, the row's 0 was published blank (a number lost without a flag)."""
    from nianbao.extract.pdf import ocr

    row = lambda cells: [Reading(c, 1.0) for c in cells]
    before = Table(
        [row(["", "", "2.其", "21", "0", "", "96", "8", "49", "1,047"])], ["page 1"], confidence=[[1.0] * 10]
    )
    after = Table(
        [
            row(["", "", "他法律行政法规禁止公开", "", "", "", "9", "", "", ""]),
            row(["", "", "3.危及“三安全一稳定”", "0", "1", "1,053", "4", "0", "2", "1,060"]),
        ],
        ["page 2"] * 2,
        confidence=[[1.0] * 10] * 2,
    )
    blocks = [before]
    ocr._go_on(blocks, [after])
    assert [list(map(str, r)) for r in blocks[0].rows] == [
        ["", "", "2.其他法律行政法规禁止公开", "21", "0", "", "969", "8", "49", "1,047"]
    ]
    assert [str(r[2]) for r in blocks[1].rows] == ["3.危及“三安全一稳定”"]  # the next row stays one


def test_a_page_holding_no_table_is_glanced_at_never_rendered_at_full_resolution(monkeypatch):
    """A scanned report whose narrative fills whole pages before its tables: those pages are
    looked at coarsely (ocr.holds_table) and go no further; the first (title), the last (date)
    and every page find_tables finds a table on are rendered at DPI and read."""
    import random

    import numpy as np
    import pypdfium2 as pdfium
    import typeset

    from nianbao.extract.pdf import ocr

    if not typeset.has_ttf():
        pytest.skip("no CJK TrueType font to typeset with (make fonts)")
    layout = corpus.layout(accuracy.random_report(random.Random(3)))
    narrative = [
        ("p", "本机关认真贯彻落实《中华人民共和国政府信息公开条例》，全年主动公开政府信息，回应社会关切。")
    ] * 120
    # sections 二 and 四's tables after the narrative, not section 三's (its 280 cells are OCR's work,
    # nothing of the glance's: the scans of tests/extract/test_scans.py read them)
    three = next(i for i, (kind, value) in enumerate(layout) if kind == "p" and value.startswith("三、"))
    pdf = scan.rasterise(
        typeset.from_layout(layout[:1] + narrative + layout[1:three] + layout[three + 2 :], kind="ttf"),
        dpi=150,
        angle=0.8,
        blur=0.5,
        noise=6,
        jpeg=75,
        seed=1,
    )
    doc = pdfium.PdfDocument(pdf)
    pages = [ocr.render(doc[i]) for i in range(len(doc))]
    tables = [i for i, gray in enumerate(pages) if ocr.find_tables(*ocr.straighten(gray))]
    assert tables and tables[0] >= 2  # pages 2 and 3 (at least) hold only narrative
    rendered, render = [], ocr.render

    def spy(page, dpi=ocr.DPI):
        image = render(page, dpi)
        if dpi == ocr.DPI:
            rendered.append(next(i for i, gray in enumerate(pages) if np.array_equal(gray, image)))
        return image

    monkeypatch.setattr(ocr, "render", spy)
    blocks = ocr.parse(pdf)
    # each once (the first and last before the glance: it reuses their decoded picture)
    assert sorted(rendered) == sorted({0, len(pages) - 1, *tables})
    read = {w for b in blocks for w in (b.where if isinstance(b, Table) else [b.where])}
    assert read == {f"page {i + 1}" for i in rendered} | {NARRATIVE_UNREAD}  # its narrative is not read
    # the title's page is read; its words are not all read right since scanprep (issue 20's note):
    # its year, what metadata needs of it, is
    assert blocks[0].where == "page 1" and "2021年" in blocks[0].text and "2021年" in layout[0][1]


# ------------------------------------------------------------------ real reports, scanned


def _pages_with(path: Path, words: tuple[str, ...]) -> bytes:
    """A PDF of the pages of `path` from the first printing words[0] to the next printing words[1]
    (the tables' pages: quicker to scan than the whole report)."""
    import pypdfium2 as pdfium

    src = pdfium.PdfDocument(path.read_bytes())
    text = ["".join(src[i].get_textpage().get_text_range().split()) for i in range(len(src))]
    first = next(i for i, t in enumerate(text) if words[0] in t)
    last = next(i for i, t in enumerate(text) if i >= first and words[1] in t)
    out = pdfium.PdfDocument.new()
    out.import_pages(src, list(range(first, last + 1)))
    import io

    buf = io.BytesIO()
    out.save(buf)
    return buf.getvalue()


def _scan_of_real(name: str, path: Path) -> bytes:
    if not path.exists():
        missing(str(path))
    pdf = _pages_with(path, ("申请人情况", "尚未审结"))
    return scan.rasterise(pdf, dpi=150, angle=-0.8, blur=0.5, noise=6, jpeg=75, seed=1)


def _exact_or_flagged(name: str, m) -> dict[str, str]:
    """Every section 三/四 cell of the real report `name` is published as printed or flagged as
    unread: the unread ones (at most a third)."""
    from test_extract_pdf import REAL_CASES

    from nianbao.model.template import template

    _, applications, reviews, _, _, _ = REAL_CASES[name]
    unread = _unread(m)
    got = {f"applications:{c.key[0]}/{c.key[1]}": c.raw for c in m.applications}
    got |= {f"reviews_litigation:{c.key[0]}/{c.key[1]}": c.raw for c in m.reviews_litigation}
    t = template()
    expected = {
        f"applications:{row}/{col}": v for row, values in applications.items() for col, v in zip(t.applicants, values)
    }
    expected |= {
        f"reviews_litigation:{p}/{o}": v
        for (p, o), v in zip([(p, o) for p in t.proceedings for o in t.outcomes], reviews.split())
    }
    wrong = {
        k: (v, got.get(k))
        for k, v in expected.items()
        if k not in unread and (got.get(k) is None or number(got[k]) != number(v))
    }
    assert wrong == {}
    assert len(unread) <= len(expected) // 3, unread  # most cells are read
    return unread


@pytest.mark.parametrize("name", ["hzq2024", "szfgs2024"])  # hzq2023: through the pipeline below
def test_real_report_scanned_at_150_dpi_every_section_3_and_4_cell_exact_or_flagged(name):
    from test_extract_pdf import REAL_CASES

    from nianbao.extract import pdf as pdf_extractor

    blocks = pdf_extractor.parse(_scan_of_real(name, REAL_CASES[name][0]))
    assert any(isinstance(b, Table) and b.confidence is not None for b in blocks)
    _exact_or_flagged(name, _read(blocks))


def test_scanned_report_through_the_pipeline_read_by_ocr_in_the_worker_process(tmp_path):
    """hzq2023's table pages scanned: OCR'd in the extraction worker, `read_by` ocr, an
    `extraction.ocr` warning; its section 四 总计 print 0 where the outcomes add up to 11 and 5
    (see SOURCES.md), which a scan cannot tell from a misreading: those cells are unread (ours),
    never `cells.complete` (the agency's); every other cell is exact or flagged."""
    from nianbao.acquire.sources import Source
    from nianbao.interpret.match import Cell, Matched
    from nianbao.run.pipeline import process_batch

    path = tmp_path / "scan.pdf"
    path.write_bytes(_scan_of_real("hzq2023", HZQ2023))
    frames = process_batch([Source(str(path), {"year": 2023, "agency": "洪泽区人民政府"})], "run-1")
    report = frames["reports"].row(0, named=True)
    assert (report["read_by"], report["status"], report["source_format"]) == ("ocr", "invalid", "pdf")
    findings = frames["findings"]
    rules = set(findings["rule_id"])
    assert "extraction.ocr" in rules and "cells.complete" not in rules and "reviews_litigation.total" not in rules
    unread = findings.filter(findings["rule_id"] == "extraction.unread_cell")
    assert set(unread["severity"]) == {"error"}
    assert {"reviews_litigation:review/upheld", "reviews_litigation:review/total"} <= {
        c for cells in unread["cells"] for c in cells
    }
    m = Matched()
    m.applications = [
        Cell((r["row"], r["applicant"]), r["raw"], "") for r in frames["applications"].iter_rows(named=True)
    ]
    m.reviews_litigation = [
        Cell((r["proceeding"], r["outcome"]), r["raw"], "") for r in frames["reviews_litigation"].iter_rows(named=True)
    ]
    m.findings = [
        Finding(r["rule_id"], r["severity"], r["message"], r["cells"], r["expected"], r["observed"])
        for r in findings.iter_rows(named=True)
    ]
    _exact_or_flagged("hzq2023", m)


def test_the_glance_and_the_seal_mask_give_pdfium_s_and_numpy_s_pixels_exactly():
    """The glance renders RGB and makes it grey itself (pdfium's grey rendering costs twice as
    much); the seal mask is OpenCV's saturating arithmetic: both the very pixels they replace, on
    a colour page (a red seal's pixels among them)."""
    import io

    import numpy as np
    import pypdfium2 as pdfium
    from PIL import Image

    from nianbao.extract.pdf import ocr, scanprep

    colour = np.random.default_rng(0).integers(0, 256, (300, 200, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(colour).save(buf, "PDF", resolution=72)
    page = pdfium.PdfDocument(buf.getvalue())[0]
    assert np.array_equal(ocr.render(page, ocr.GLANCE_DPI), page.render(scale=1, grayscale=True).to_numpy())
    red, green = colour[..., 0], colour[..., 1]
    before = red.copy()  # as numpy made it, in int16
    before[(red.astype(np.int16) - green > scanprep._RED) & (red > scanprep._LIGHT)] = 255
    assert np.array_equal(scanprep.unsealed(colour), before) and (before == 255).sum() > 10 * (red == 255).sum()


def test_components_are_opencvs_in_16_bits_and_in_32_past_65535():
    """scanprep.components: the labels and stats of cv2.connectedComponentsWithStats, cheaper on a
    page; a mask of more marks than 16 bits count (OpenCV raises rather than wrap) in 32 bits."""
    import cv2
    import numpy as np

    from nianbao.extract.pdf import scanprep

    rng = np.random.default_rng(0)
    mask = np.where(rng.random((400, 600)) < 0.3, np.uint8(255), np.uint8(0))
    for connectivity in (4, 8):
        count, labels, stats, centres = scanprep.components(mask, connectivity)
        want = cv2.connectedComponentsWithStats(mask, connectivity=connectivity)
        assert labels.dtype == np.uint16 and count == want[0] > 1000
        assert (labels == want[1]).all() and (stats == want[2]).all() and np.allclose(centres, want[3])
    dots = np.zeros((600, 600), np.uint8)
    dots[::2, ::2] = 255  # 90,000 marks
    count, labels, _, _ = scanprep.components(dots)
    assert count == 90_001 and labels.dtype == np.int32 and labels.max() == 90_000


def test_the_detector_finds_the_text_between_a_photos_page_edges():
    """ocr._detect is shown the text's extent, not the page: a photo's dark page edge (its
    outermost pixels) is no band of text, and the boxes are placed on the page as found. Ink
    no column of which holds two pixels (a faint diagonal) is still shown, never an error."""
    import cv2
    import numpy as np

    from nianbao.extract.pdf import ocr

    page = np.full((700, 600), 255, np.uint8)
    cv2.rectangle(page, (0, 0), (599, 699), 0, 2)  # the page's edge, dark as a photo's
    cv2.putText(page, "2021 REPORT 1234", (180, 420), cv2.FONT_HERSHEY_SIMPLEX, 1.0, 0, 2)
    boxes = ocr._detect(page)
    assert len(boxes) >= 1
    x0, y0 = np.min([b.min(axis=0) for b in boxes], axis=0)
    x1, y1 = np.max([b.max(axis=0) for b in boxes], axis=0)
    assert 160 <= x0 <= 190 and x1 <= 520 and 380 <= y0 <= 410 and 415 <= y1 <= 440  # the text, on the page
    faint = np.full((200, 300), 255, np.uint8)
    for i in range(100):  # two specks a row, one a column
        faint[50 + i, 20 + 2 * i] = faint[50 + i, 21 + 2 * i] = 0
    assert isinstance(ocr._detect(faint), list)


def test_the_detector_is_shown_a_line_of_text_wherever_it_stands():
    """Each band _detect stacks is rounded out to whole steps of 32 rows, never in: a line whose
    band ended a few rows past a step was cut at the step, its ink shown in part or not at all."""
    import cv2
    import numpy as np

    from nianbao.extract.pdf import ocr

    for top in range(96, 160, 4):  # every place a line may take against the 32-row steps
        page = np.full((400, 600), 255, np.uint8)
        cv2.putText(page, "2021 REPORT", (100, top + 22), cv2.FONT_HERSHEY_SIMPLEX, 1.0, 0, 2)
        boxes = ocr._detect(page)
        assert boxes, top
        y0 = min(b[:, 1].min() for b in boxes)
        y1 = max(b[:, 1].max() for b in boxes)
        assert top - 8 <= y0 <= top + 4 and top + 20 <= y1 <= top + 32, (top, y0, y1)


def test_the_paper_is_divided_out_as_numpy_divided_it():
    """scanprep.evened (flatten's division by the paper) in OpenCV: numpy's float32 quotient,
    clipped and truncated, for every pair of grey and paper values (a paper of 0 as 1), in rows of
    several widths (OpenCV's vector loops and their tails)."""
    import numpy as np

    from nianbao.extract.pdf import scanprep

    gray, paper = (
        np.ascontiguousarray(a) for a in np.meshgrid(np.arange(256, dtype=np.uint8), np.arange(256, dtype=np.uint8))
    )
    want = np.clip(gray.astype(np.float32) * 255 / np.maximum(paper, 1), 0, 255).astype(np.uint8)
    for cols in (slice(None), slice(3, 250), slice(1, 8)):
        g, p = np.ascontiguousarray(gray[:, cols]), np.ascontiguousarray(paper[:, cols])
        assert np.array_equal(scanprep.evened(g, p), want[:, cols])
    assert scanprep.evened(gray, paper)[0, 0] == 0 and scanprep.evened(gray, paper)[0, 255] == 255  # (paper 0)


def test_components_of_a_squeezed_mask_are_the_masks():
    """scanprep.Squeezed labels a mask with its runs of alike rows and columns kept once: each
    component's box and area as components() gives them (in its order with 4-connectivity), and
    each component's pixels over its box, on a table's rules that lean and break (rows alike in
    runs, not everywhere) and on noise (no two rows alike)."""
    import cv2
    import numpy as np

    from nianbao.extract.pdf import scanprep

    rules = np.zeros((700, 900), np.uint8)
    for y in range(40, 680, 60):
        cv2.line(rules, (30, y), (870, y + 4), 255, 3)
    for x in range(30, 880, 140):
        cv2.line(rules, (x, 40), (x + 3, 640), 255, 3)
    rules[300:303, 400:460] = 0  # a broken rule: two cells one
    noise = np.where(np.random.default_rng(1).random((200, 300)) < 0.3, np.uint8(255), np.uint8(0))
    for mask in (rules, 255 - rules, noise):
        for connectivity in (4, 8):
            count, labels, stats, _ = scanprep.components(mask, connectivity)
            squeezed = scanprep.Squeezed(mask, connectivity)
            assert squeezed.count == count >= 2
            if connectivity == 4:
                assert np.array_equal(squeezed.stats, stats)
            assert sorted(map(tuple, squeezed.stats)) == sorted(map(tuple, stats))
            for i in range(1, count):
                x, y, w, h, _ = squeezed.stats[i]
                k = next(j for j in range(count) if tuple(stats[j]) == tuple(squeezed.stats[i]))
                assert np.array_equal(squeezed.mask(i) > 0, labels[y : y + h, x : x + w] == k)


def test_runs_are_opencvs_opening_by_a_bar():
    """scanprep.runs (done on the lines that may hold a run alone): OpenCV's opening by a bar along
    the rows or down the columns, after bridging gaps along the rows when asked, pixel for pixel, on
    masks of runs every length around the bar's, broken by gaps around 7, some at the picture's
    edges (where the opening keeps a run half the bar long: it takes the outside for ink)."""
    import cv2
    import numpy as np

    from nianbao.extract.pdf import scanprep

    rng = np.random.default_rng(3)
    mask = np.zeros((400, 403), np.uint8)
    for y in range(0, 400, 2):
        length = int(rng.integers(10, 120))
        x = int(rng.choice([0, 403 - length, rng.integers(0, 403 - length)]))
        mask[y, x : x + length] = 255
        for _ in range(int(rng.integers(0, 3))):  # gaps a bridge may or may not close
            g = int(rng.integers(x, x + length))
            mask[y, g : g + int(rng.integers(1, 10))] = 0
    mask |= np.where(rng.random(mask.shape) < 0.02, np.uint8(255), np.uint8(0))
    for along, picture in ((False, mask), (True, np.ascontiguousarray(mask.T))):
        for length in (40, 80, 100):
            bar = lambda down: cv2.getStructuringElement(cv2.MORPH_RECT, (1, length) if down else (length, 1))  # noqa: E731
            for down in (False, True):
                want = cv2.morphologyEx(picture, cv2.MORPH_OPEN, bar(down))
                assert np.array_equal(scanprep.runs(picture, length, down=down), want)
                assert want.any() or down != along
            want = cv2.morphologyEx(scanprep.bridged(picture), cv2.MORPH_OPEN, bar(False))
            assert np.array_equal(scanprep.runs(picture, length, bridge=True), want)


def test_whether_a_picture_holds_ink_is_told_as_its_whole_threshold_tells_it():
    """ocr._inked (the text-outside-tables test) from the darkest pixel's window, else the whole
    picture: what _ink(...).any() says, at the picture's edges, on blank and grey paper, and where
    the darkest pixel is no ink (inside a dark block, as dark as its window's mean)."""
    import numpy as np

    from nianbao.extract.pdf import ocr

    rng = np.random.default_rng(0)
    paper = np.full((120, 90), 255, np.uint8)
    edge = paper.copy()
    edge[0, 45] = 240  # a speck on the edge, as light as ink is (its window cut by the edge)
    block = paper.copy()
    block[20:100, 10:80] = 30
    block[60, 45] = 25  # darkest inside the block, where the mean is as dark: no ink
    block[5, 5] = 200  # ink only here, lighter than the block
    solid = np.full((120, 90), 30, np.uint8)  # all dark: no pixel darker than its mean
    noise = [rng.integers(lo, 256, (rng.integers(1, 60), rng.integers(1, 60))).astype(np.uint8) for lo in (0, 200, 235)]
    pictures = [paper, edge, block, solid, *noise]
    told = [ocr._inked(p) for p in pictures]
    assert told == [bool(ocr._ink(p).any()) for p in pictures]
    assert told[:4] == [False, True, True, False]
