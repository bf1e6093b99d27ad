"""Scanned PDFs (pages that are pictures) to blocks by OCR.

RapidOCR's PP-OCR Chinese models run on ONNX Runtime (shipped inside the `rapidocr-onnxruntime`
wheel: nothing is downloaded at run time). A page is rendered at DPI and straightened (scans lean a
degree or two); its tables are found from their ruling lines with OpenCV morphology, and every
region the rules enclose is a cell, so merged cells come out whole, as `document.Table` expects.
Each cell is read on its own (its ink split into text lines, each line recognised), so a number
never runs into its neighbour's, and keeps its confidence (`Table.confidence`): the least
probability of any character read in it (in any of its forms: 0, O, ０). A cell holding only a
dash or a slash is read by its shape. Whether a number is trusted is decided after matching,
where the template's sums are known (nianbao.interpret.trust). Text outside tables is detected only
on the pages with a table, the first (title) and the last (date), and of it only the lines metadata
and matching use are read (pagetext.py): the narrative pages between are only glanced at coarsely
(holds_table), never rendered at DPI. A ruled table's number cells are read from their glyphs' shapes where that
is sure, the recogniser naming the shapes from a few of them (digits.py). What costs is the recogniser (ONNX
Runtime, one thread: a worker is a core; one session a process): lines go to it in runs of a
bounded width, and the detector is shown only the inked bands of the text outside tables.
"""

from __future__ import annotations

import functools
import io
import math
import re
import unicodedata
from dataclasses import dataclass

import cv2
import numpy as np

from nianbao.extract.pdf import (
    _PAGE_NUMBER,
    _VALUE,
    TableChain,
    _continues,
    aligned,
    digits,
    pagetext,
    prefixes,
    rowlabels,
    scanprep,
)
from nianbao.model.chinese import DASHES
from nianbao.model.document import CONFIDENCE as _SURE
from nianbao.model.document import NARRATIVE_UNREAD, Block, Paragraph, Reading, Table
from nianbao.model.errors import Unreadable

DPI = 200
GLANCE_DPI = 72  # a page is first looked at this coarsely (holds_table): pages without a table go no further
MAX_SKEW = 3.0  # degrees a scan may lean
_MIN_TABLE = 0.3  # a table spans at least this share of the page's width
_CELL_SIDE = DPI * 0.08  # pixels a cell is more than wide and high
_PAD = 6  # pixels of white around a line of text given to the recogniser
# pixels of white either side of a cell's line: its width is what the recogniser costs (a column of
# input each), and a narrow number padded square (a 0 or a 1 as wide as tall) read no better
_SIDE = 4
# rows of white above and below a line's ink given to the recogniser: a box's slack (a detector's,
# 10-24 rows) shrank its type, and tighter (8, a cell's) read no surer but wider (more columns)
_MARGIN = 10
_TAIL = 12  # columns of grey past a line's own width (at the recogniser's height): its last character's
_TALL = 40  # pixels high a line read as nothing is scaled to and read again (the recogniser's input is 48)
_DIGITS = set("0123456789,.")
# a number as the recogniser may give it: letters for digits (l for 1, O for 0), full-width digits
# printed spaced out read with spaces between
_NUMBERISH = re.compile(r"[\dlI|Oo,.\s]*[\dlI|Oo][\dlI|Oo,.\s]*")
_DIGIT_FOR = str.maketrans("lI|Oo", "11100", " \t")
_ONE_DASH = str.maketrans(DASHES, "-" * len(DASHES))
_BATCH_COLUMNS = 768  # pixels of width (at the recogniser's height) one run of the recogniser is given at most
_DETECT_SCALE = 0.35  # text outside tables is found at about a third of the resolution (read at full)
_BAND_MARGIN = 16  # pixels (at the detector's scale) of white kept around the text the detector is shown
_EDGE = 4  # pixels (at the detector's scale) of a picture's edge that are never text (a photo's page edge)


@functools.cache
def _engine():
    from rapidocr_onnxruntime import RapidOCR

    # one thread: extraction already runs one worker process per core
    engine = RapidOCR(intra_op_num_threads=1, inter_op_num_threads=1)
    for holder in (engine.text_det.infer, engine.text_rec.session):
        holder.session = _session(holder.session)
    return engine


def _session(session):
    """`session`'s model in a session of one thread that keeps its memory arena: RapidOCR turns
    the arena off, and every run then allocates its activations afresh (some 5% of the
    recogniser's CPU on a table's many short runs); and that flushes denormal floats to zero (the
    detector's run on an unruled page, 0.42 -> 0.40 CPU-s: their arithmetic is slow on x86). The
    same graph, the same outputs (to the bit, on a page of each model's inputs)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 4
    options.add_session_config_entry("session.set_denormal_as_zero", "1")
    return ort.InferenceSession(session._model_path, options, providers=["CPUExecutionProvider"])


def parse(data: bytes, every_line: bool = False) -> list[Block]:
    """A scanned PDF's blocks. `every_line`: the text outside tables read whole, not only what
    metadata and matching use (pages of a born-digital report, whose narrative the text layer gives
    around them)."""
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as e:
        raise Unreadable(f"corrupt PDF: {e}") from e
    blocks: list[Block] = []
    chain = TableChain()  # an unruled table going on over the page break
    book = digits.Book()  # the report's digit shapes, one font throughout
    try:
        count = len(pdf)
        ends = {i: pdf[i] for i in {0, count - 1} if count}  # read at DPI whatever the glance sees
        # rendered at DPI first, then glanced at: pdfium keeps a page's decoded picture, and the
        # glance from it gives the very pixels of a glance of its own (some 7-13 ms a page)
        seen = {i: render(page) for i, page in ends.items()}
        held = [holds_table(ends[i] if i in ends else pdf[i]) for i in range(count)]
        del ends
        every = not any(held)  # no rules anywhere: an unruled scan, whose tables the text's alignment shows
        ruled = False  # a ruled table found at DPI
        for n in range(1, count + 1):
            if not (every or held[n - 1] or n in (1, count)):
                continue  # nothing of the template to read: not rendered at DPI
            gray, ink = straighten(seen.pop(n - 1) if n - 1 in seen else render(pdf[n - 1]))
            tables = find_tables(gray, ink) if held[n - 1] else []  # (the glance passes every page it finds one on)
            ruled |= bool(tables)
            # the glance took a three-line table's rules for a frame and none is there: unruled after all
            every |= held[n - 1] and not ruled
            # no rules: tables from where the text stands (a narrative page gives None); not on a
            # last page the glance saw no table on after ruled ones (a report rules all its tables
            # or none) and no unruled table going on: its detection at half scale cost as much as
            # reading a table's page
            text_only = ruled and not (every or held[n - 1] or chain.open)
            unruled = None if tables or text_only else aligned.read(gray, n, chain, book, ink)
            if unruled is not None:
                blocks += unruled
                continue
            chain.close()
            if tables or n in (1, count):
                _go_on(blocks, _page(gray, tables, n, first=None if every_line else n == 1, book=book))
    finally:
        pdf.close()
    if not any(isinstance(b, Table) for b in blocks):
        raise Unreadable("scanned PDF: OCR found no table on any page")
    return blocks if every_line else [*blocks, Paragraph("", NARRATIVE_UNREAD)]


MAX_PIXELS = 40_000_000  # a picture larger (width × height, read from its header) is refused before decoding
PICTURE_WIDTH = (
    2200  # pixels a picture is scaled to: a table across a page at about 300 dpi (a screenshot's digits are small)
)
_MAX_ENLARGE = 4.0  # a thumbnail is not read as a page


def read_picture(data: bytes, n: int = 1) -> list[Block]:
    """A picture (PNG, JPEG, GIF, BMP... as a page or a document embeds it) read as a scanned page
    is: its ruled tables and the text around them, placed as page `n`. Scaled to PICTURE_WIDTH,
    whatever resolution it was saved at. Unreadable when it cannot be decoded, is over MAX_PIXELS
    (a decompression bomb declares its size in its header: refused before a byte is inflated) or
    holds no ruled table."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as im:
            w, h = im.size
            if w * h > MAX_PIXELS:
                raise Unreadable(f"a picture of {w}×{h} pixels, over the limit of {MAX_PIXELS}")
            width = min(PICTURE_WIDTH, _MAX_ENLARGE * w, math.sqrt(MAX_PIXELS * w / h))  # the width it is read at
            im.draft("L", (int(width), int(width * h / w)))  # a JPEG decodes at about that size
            if im.mode in ("RGBA", "LA", "PA") or "transparency" in im.info:  # over white paper, as a page shows it
                la = np.asarray(im.convert("LA"), dtype=np.uint16)
                gray = ((la[..., 0] * la[..., 1] + 255 * (255 - la[..., 1])) // 255).astype(np.uint8)
            else:
                gray = np.asarray(im.convert("L"))
    except (OSError, ValueError, Image.DecompressionBombError) as e:
        raise Unreadable(f"not a picture we can decode: {e}") from e
    f = width / gray.shape[1]
    if abs(f - 1) > 0.05:
        gray = cv2.resize(gray, None, fx=f, fy=f, interpolation=cv2.INTER_CUBIC if f > 1 else cv2.INTER_AREA)
    tables = find_tables(*straighten(gray))
    if not tables:
        raise Unreadable("OCR found no ruled table in it")
    return _page(gray, tables, n)


def _go_on(blocks: list[Block], page: list[Block]) -> None:
    """The page's blocks after those before; a table row the page break split (its label going on
    atop this page, its values left on the page before) joined back into one row."""
    last = blocks[-1] if blocks else None
    if (
        isinstance(last, Table)
        and page
        and isinstance(page[0], Table)
        and last.rows
        and page[0].rows
        and _goes_on(last.rows[-1], page[0].rows[0])
    ):
        first, conf = page[0].rows.pop(0), page[0].confidence.pop(0)
        last.rows[-1] = [Reading(_join(a, b), min(a.confidence, b.confidence)) for a, b in zip(last.rows[-1], first)]
        last.confidence[-1] = [min(a, b) for a, b in zip(last.confidence[-1], conf)]
        page[0].where.pop(0)
    blocks += [b for b in page if not (isinstance(b, Table) and not b.rows)]


def _goes_on(last: list[str], first: list[str]) -> bool:
    """`first` (top of a page) is the rest of `last` (bottom of the page before), as
    rows.continues says, or with the end of a number wrapped in its cell there too: values under
    fewer than half of `last`'s, each under one of them, beside the label's rest. Joined wrongly,
    two numbers make one the sums do not confirm: flagged, never published."""
    if _continues(last, first):
        return True
    values = [i for i, c in enumerate(last) if _VALUE.match(c.strip())]
    below = [i for i, c in enumerate(first) if _VALUE.match(c.strip())]
    text = [c for i, c in enumerate(first) if c.strip() and i not in below]
    return (
        len(last) == len(first)
        and bool(text)
        and bool(below)
        and set(below) <= set(values)
        and 2 * len(below) < len(values)
    )


def render(page, dpi: int = DPI) -> np.ndarray:
    """The page in grey, made clean as a scan (nianbao.extract.pdf.scanprep): seals out, a photo
    squared; at another resolution (a glance), plain grey."""
    # pdfium's bitmap as RGB, not copied through PIL (some 12 ms a page of the 40 its render took)
    rgb = np.ascontiguousarray(page.render(scale=dpi / 72, rev_byteorder=True).to_numpy())
    return scanprep.prepare(rgb) if dpi == DPI else scanprep.grey(rgb)


def holds_table(page) -> bool:
    """Whether the page may hold a ruled table, told from a coarse rendering (GLANCE_DPI, some
    eight times fewer pixels than DPI), not straightened: a frame of rules as wide and high as
    find_tables asks of a table. Looser than find_tables (a rule's ink thickened across its run,
    so a leaning rule stays one run; a tenth's slack on the sizes): a page it passes may hold no
    table, but one find_tables finds a table on passes."""
    gray = render(page, GLANCE_DPI)
    ink = _ink(gray, 11)  # the block of _ink at DPI, scaled
    h = cv2.morphologyEx(
        cv2.dilate(ink, np.ones((3, 1), np.uint8)),
        cv2.MORPH_OPEN,
        cv2.getStructuringElement(cv2.MORPH_RECT, (int(GLANCE_DPI * 0.4), 1)),
    )
    v = cv2.morphologyEx(
        cv2.dilate(ink, np.ones((1, 3), np.uint8)),
        cv2.MORPH_OPEN,
        cv2.getStructuringElement(cv2.MORPH_RECT, (1, int(GLANCE_DPI * 0.2))),
    )
    _, _, stats, _ = scanprep.components(cv2.dilate(h | v, np.ones((3, 3), np.uint8)))
    return any(
        w >= 0.9 * _MIN_TABLE * gray.shape[1] and hgt >= 0.9 * GLANCE_DPI * 0.25 for _, _, w, hgt, _ in stats[1:]
    )


def _ink(gray: np.ndarray, block: int = 31) -> np.ndarray:
    """Dark pixels (255) against the page, tolerant of grey cell fills and uneven scans."""
    return cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, block, 15)


def _inked(gray: np.ndarray, block: int = 31) -> bool:
    """Whether `_ink(gray, block)` marks any pixel, told from its darkest pixel where that is ink
    (a stroke of the text around tables: nearly always), thresholded in the window its mean is
    taken over (the same mean: at the picture's edge the window's edge is the picture's), else
    from the whole picture. No pixel lighter than 255 - 15 is ink (its mean is at most 255)."""
    least, _, (x, y), _ = cv2.minMaxLoc(gray)
    if least > 240:
        return False
    r = block // 2
    top, left = max(y - r, 0), max(x - r, 0)
    if _ink(gray[top : y + r + 1, left : x + r + 1], block)[y - top, x - left]:
        return True
    return bool(_ink(gray, block).any())


def _rules(ink: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Horizontal and vertical ruling lines: runs of ink longer than a table's characters (a
    rule a photo broke in places, a few pixels, counts whole)."""
    return scanprep.runs(ink, int(DPI * 0.4), bridge=True), scanprep.runs(ink, int(DPI * 0.2), down=True)


def straighten(gray: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """The page turned so its long rules (else its text lines) lie level: the median slope of
    the long, thin ink runs, each fitted by least squares. With it, its ink (`_ink`) when it was
    not turned (a third of the pages: the ink it was measured by, not thresholded again), else None."""
    page_ink = _ink(gray)
    ink = cv2.dilate(page_ink, np.ones((5, 1), np.uint8))  # a slanted rule stays one run
    level = scanprep.runs(ink, int(DPI * 0.5))
    if not level.any():  # no rules: text lines smeared into bars
        level = scanprep.runs(cv2.dilate(ink, np.ones((1, int(DPI * 0.1)), np.uint8)), int(DPI * 0.5))
    runs = scanprep.Squeezed(level)
    angles = []
    for i in range(1, runs.count):
        x, y, w, h = runs.stats[i, :4]
        if w < DPI * 1.5 or h > w * math.tan(math.radians(MAX_SKEW)) + DPI * 0.1:
            continue
        ys, xs = np.nonzero(runs.mask(i))
        angles.append(math.degrees(math.atan(np.polyfit(xs[::7], ys[::7], 1)[0])))
    angle = float(np.median(angles)) if angles else 0.0
    if abs(angle) < 0.03:
        return gray, page_ink
    rows, cols = gray.shape
    m = cv2.getRotationMatrix2D((cols / 2, rows / 2), angle, 1.0)
    return cv2.warpAffine(gray, m, (cols, rows), flags=cv2.INTER_LINEAR, borderValue=255), None


@dataclass
class _Grid:
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 on the page
    cells: list[tuple[int, int, int, int]]  # the regions the rules enclose, x0, y0, x1, y1
    rules: np.ndarray  # the table's rule pixels over its box (255 on 0)


def find_tables(gray: np.ndarray, ink: np.ndarray | None = None) -> list[_Grid]:
    """The page's ruled tables, top to bottom (`ink`: its `_ink`, when known). A table broken by
    the page has no rule along the break: its outline is drawn in, so its first (last) row is
    still a row."""
    h, v = _rules(_ink(gray) if ink is None else ink)
    lines = cv2.dilate(h | v, np.ones((3, 3), np.uint8))
    runs = scanprep.Squeezed(lines)  # (a table's rows and columns repeat between its rules)
    out = []
    for i in range(1, runs.count):
        x, y, w, hgt = runs.stats[i, :4]
        if w < _MIN_TABLE * gray.shape[1] or hgt < DPI * 0.25:
            continue
        frame = runs.mask(i)
        if not frame[8:-8, 8:-8].any():
            # an outline and nothing inside it (a photo's page edge): one cell at most, any other
            # region of paper in a band 8 pixels wide along its edge (none a cell on 560 pages: the
            # paper's labelling cost 30 ms a photo's page)
            continue
        cv2.rectangle(frame, (0, 0), (w - 1, hgt - 1), 255, 3)
        regions = scanprep.Squeezed(255 - frame, 4).stats
        cells = [
            (x + bx, y + by, x + bx + bw, y + by + bh)
            for bx, by, bw, bh, area in regions[1:]
            if bw > _CELL_SIDE and bh > _CELL_SIDE and area > 0.5 * bw * bh
        ]
        if len(cells) >= 2:
            out.append(_Grid((x, y, x + w, y + hgt), sorted(cells, key=lambda c: (c[1], c[0])), frame))
    return sorted(out, key=lambda g: (g.box[1], g.box[0]))


def _page(
    gray: np.ndarray, tables: list[_Grid], n: int, first: bool | None = None, book: digits.Book | None = None
) -> list[Block]:
    """The page's tables and the text lines around them, in reading order: a scan's page (`first`
    says whether it is the report's first) only the lines metadata and matching use (pagetext.py);
    a picture (None) all. `book`: the digit shapes of the report's pages before (digits.py)."""
    book = book or digits.Book()
    clean = gray.copy()
    outside = gray.copy()
    for t in tables:
        x0, y0, x1, y1 = t.box
        clean[y0:y1, x0:x1][t.rules > 0] = 255  # rules painted out: they would join or cut readings
        outside[y0:y1, x0:x1] = 255
    items: list[tuple[float, Block]] = [(t.box[1], _table(clean, t, n, book)) for t in tables]
    items += [
        (top, Paragraph(text, f"page {n}"))
        for top, text in _text_lines(outside, first, min((t.box[0] for t in tables), default=None))
        if not _PAGE_NUMBER.match(text)
    ]  # page furniture, not the report's text
    items.sort(key=lambda item: item[0])
    return [b for _, b in items]


def _table(gray: np.ndarray, grid: _Grid, n: int, book: digits.Book | None = None) -> Table:
    """The table the rules of `grid` draw, every cell read; `book`: the report's digit shapes so far."""
    book = book or digits.Book()
    xs = _edges([c[0] for c in grid.cells] + [c[2] for c in grid.cells])
    ys = _edges([c[1] for c in grid.cells] + [c[3] for c in grid.cells])
    nearest = lambda edges, v: min(range(len(edges)), key=lambda i: abs(edges[i] - v))
    width, height = len(xs) - 1, len(ys) - 1
    cells: list[rowlabels.Cell] = []
    lines: list[list[np.ndarray]] = []
    read: list[tuple[str, float] | None] = []  # each cell's text and confidence, once read
    for x0, y0, x1, y1 in grid.cells:
        r, c = nearest(ys, y0), nearest(xs, x0)
        if 0 <= r < height and 0 <= c < width:
            crop, ink, marks = _marks(gray[y0:y1, x0:x1])
            shape = _placeholder(ink, marks)
            span = (r, max(nearest(ys, y1), r + 1)), (c, max(nearest(xs, x1), c + 1))
            lines.append([] if shape else _cell_lines(crop, ink))
            cells.append(rowlabels.Cell(*span, None, inked=bool(len(marks)), lines=len(lines[-1])))
            read.append((shape, 1.0) if shape else None)
    # the long labels wait: most of section 三's follow from the rows read around them (rowlabels);
    # not a number wrapped over lines as long (its glyphs digits': digits.py), which tells its row
    # holds values
    now = [
        i
        for i, c in enumerate(cells)
        if read[i] is None and (not rowlabels.may_wait(c.rows, lines[i]) or digits.numeric(lines[i]))
    ]
    # so do cells of two lines or more (a header's leaf: 商业企业, 结果维持): those between the first
    # and last over a table's values follow from the template's order once those are read
    later = [i for i in now if len(lines[i]) >= 2]
    # atop the table, a row label's end the page break cut off its start (its values on the page before)
    tops = {i for i, c in enumerate(cells) if c.rows == (0, 1)}
    _cells(lines, [i for i in now if i not in later], read, book, tops)
    for c, r in zip(cells, read):
        c.text = r[0] if r is not None else None
    for i in rowlabels.captions(cells):
        if read[i] is None:  # section 二's 第二十条 rows: printed, not read (nothing of them is used)
            read[i] = ("", 0.0)
    runs = rowlabels.leaves(cells)
    # (a run's ends may be a row's numbers wrapped over two lines, not read yet: by their shapes)
    _cells(lines, [i for run, _ in runs for i in (run[0], run[-1]) if read[i] is None], read, book, tops)
    for c, r in zip(cells, read):
        c.text = r[0] if r is not None else None
    for run, top in runs:
        for i, text in rowlabels.place_leaves(cells, run, top).items():
            # the template's header, placed by the leaves read around it; "": a cell over them
            # that prints nothing the matcher reads, printed, not read (as a caption)
            read[i] = (text, 1.0 if text else 0.0)
    _cells(lines, [i for i in later if read[i] is None], read, book, tops)
    while True:
        for c, r in zip(cells, read):
            c.text = r[0] if r is not None else None
        want, ends, placed = rowlabels.settle(cells)
        if not want:
            break
        now = [i for i in want if i not in ends]
        # a header's row holds no number: a cell of one row beside numbers is a label, rowlabels' to tell
        numbers = {c.rows[0] for c, r in zip(cells, read) if r is not None and _VALUE.match(r[0].strip())}
        label = lambda c: c.rows[1] - c.rows[0] == 1 and (c.rows[0] in numbers or c.glimpse is not None)  # noqa: E731
        # (but a group's label the page break cut to the table's last row: （六）其他处理 over one)
        _headers(lines, [i for i in now if not label(cells[i]) or cells[i].rows[1] == height], read, tops)
        _named(lines, [i for i in now if read[i] is None], read)
        _read(lines, [i for i in now if read[i] is None], read, book)
        texts = recognise([line for i in ends for line in (lines[i][0], lines[i][-1])])
        for k, i in enumerate(ends):
            cells[i].glimpse = texts[2 * k][0], texts[2 * k + 1][0]
    for i, text in placed.items():
        read[i] = (text, 1.0)  # the template's label, placed by the rows read around it
    _named(lines, [i for i, r in enumerate(read) if r is None], read)
    _read(lines, [i for i, r in enumerate(read) if r is None], read, book)  # none left unread: never a blank
    rows = [[""] * width for _ in range(height)]
    confidence = [[1.0] * width for _ in range(height)]
    for cell, (text, p) in zip(cells, read):
        r, c = cell.rows[0], cell.cols[0]
        rows[r][c], confidence[r][c] = text, p
    table_rows = [[Reading(t, p) for t, p in zip(r, cr)] for r, cr in zip(rows, confidence)]
    return Table(table_rows, [f"page {n}"] * height, confidence=confidence)


def _cells(
    lines: list[list[np.ndarray]], which: list[int], read: list, book: digits.Book, tops: set[int] = frozenset()
) -> None:
    """Cells `which` read into `read[i]`: numbers by their glyphs' shapes where that is sure
    (_numbers), the others as _text reads them; its readings of number cells name shapes for the
    cells to come."""
    unsure = _numbers(lines, which, read, book)
    _text(lines, [i for i in which if read[i] is None], read, tops, book)
    for i, cell in unsure.items():
        book.learn(cell, read[i])


def _numbers(lines: list[list[np.ndarray]], which: list[int], read: list, book: digits.Book, reader=None) -> dict:
    """Of cells `which`, those lines of digits' glyphs (digits.py): taken into `book`, those it
    asks for read by the recogniser (`reader`, as _read) to name its shapes, then those it reads
    surely from their shapes written into `read[i]`; the others left unread. The cells taken and
    left unread, by index."""
    cells = {i: cell for i in which if (cell := book.add(lines[i])) is not None}
    ask = book.plan(cells)
    (reader or _read)(lines, ask, read)
    for i in ask:
        book.learn(cells[i], read[i])
        if read[i][1] < digits.DIGITS.sure:
            # doubtful run among these few (its reading sways with its batch's pad): the shapes,
            # else the recogniser again among the table's other cells, as before
            read[i] = None
    for i, cell in cells.items():
        if read[i] is None:
            read[i] = book.read(cell)
    return {i: cell for i, cell in cells.items() if read[i] is None}


def _text(
    lines: list[list[np.ndarray]],
    which: list[int],
    read: list,
    tops: set[int] = frozenset(),
    book: digits.Book | None = None,
) -> None:
    """Cells `which` read into `read[i]`: a tall header by its ends, a template's text by its first
    characters, else whole."""
    _headers(lines, which, read, tops)
    _named(lines, [i for i in which if read[i] is None], read)
    _read(lines, [i for i in which if read[i] is None], read, book)


def _headers(lines: list[list[np.ndarray]], which: list[int], read: list, tops: set[int] = frozenset()) -> None:
    """Of cells `which`, those of three lines or more (a header or group cell printed a character
    a line, a row's label wrapped in a narrow column) told by their first and last lines, when one
    text of the template's headers fits (rowlabels.header), else one row's label (rowlabels.row_label),
    else, of those in `tops` (atop a table), one row label's end the page break cut
    (rowlabels.piece): written into `read[i]` as the template prints it; the others left unread."""
    tall = [i for i in which if len(lines[i]) >= 3]
    ends = recognise([line for i in tall for line in (lines[i][0], lines[i][-1])])
    for k, i in enumerate(tall):
        first, last = ends[2 * k][0], ends[2 * k + 1][0]
        if (
            text := rowlabels.header(first, last, len(lines[i])) or rowlabels.row_label(first, last, len(lines[i]))
        ) is not None:
            read[i] = (text, 1.0)
        elif i in tops and (cut := rowlabels.piece(first, last, len(lines[i]), head=False)) is not None:
            read[i] = (cut[1], 1.0)


def _named(lines: list[list[np.ndarray]], which: list[int], read: list) -> None:
    """Of cells `which`, those of one or two lines whose first and last characters tell which of
    the template's texts they print (prefixes.py): written into `read[i]` as the template prints
    it; the others left unread."""
    plans = {i: p for i in which if (p := prefixes.plan(lines[i])) is not None}
    ends = recognise([probe for probes, _ in plans.values() for probe in probes])
    for n, (i, (_, k)) in enumerate(plans.items()):
        if (text := prefixes.name(ends[2 * n][0], ends[2 * n + 1][0], k, lines[i])) is not None:
            read[i] = (text, 1.0)


def _read(lines: list[list[np.ndarray]], which: list[int], read: list, book: digits.Book | None = None) -> None:
    """Cells `which` (their text lines `lines[i]`) recognised into `read[i]`: (text, confidence); a
    text line as one `book` remembers read before in the report (digits.Book.recall) not again, nor
    one like a line before it among these (digits.echoes), read first, when it is recalled by that."""
    crops = [line for i in which for line in lines[i]]
    texts = recalled(crops, _buckets(crops), book)  # (a doubtful line read again padded as among them all)
    # a line read as nothing is retried larger: the recogniser misses a lone small glyph (a 0 of a
    # narrow font, some 20 pixels tall at DPI) that it reads once the line is as tall as its input
    again = [k for k, (t, _) in enumerate(texts) if not t]
    for k, reading in zip(again, recognise([_larger(crops[k]) for k in again])):
        if reading[0]:
            texts[k] = reading
    first = 0
    for i in which:
        count = len(lines[i])
        mine = texts[first : first + count]
        first += count
        text = ""
        for t, _ in mine:
            text = _join(text, t)
        if _NUMBERISH.fullmatch(text):
            text = text.translate(_DIGIT_FOR)  # the sums still have to confirm the number
        # ink that read as nothing is something printed that was not read
        read[i] = (text, min((p for _, p in mine), default=1.0) if text or not count else 0.0)


def _edges(values: list[int]) -> list[float]:
    """Cell edges along one axis, those a rule's width apart merged into one."""
    groups: list[list[int]] = []
    for v in sorted(values):
        if groups and v - groups[-1][-1] <= DPI * 0.04:
            groups[-1].append(v)
        else:
            groups.append([v])
    return [sum(g) / len(g) for g in groups]


def _marks(crop: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A cell's inside (its rules' margin off), its ink, and the ink's marks (x, y, w, h, area).
    Specks (scanner noise, a rule's leftover) are not ink."""
    m = int(DPI * 0.015)
    crop = crop[m:-m, m:-m] if min(crop.shape) > 4 * m else crop
    if crop.size == 0:
        return crop, np.zeros(crop.shape, bool), np.zeros((0, 5), int)
    ink = scanprep.ink(crop).astype(np.uint8)
    count, labels, stats, _ = scanprep.components(ink)
    keep = np.zeros(count, bool)
    keep[1:] = (stats[1:, cv2.CC_STAT_AREA] >= 4) & (stats[1:, cv2.CC_STAT_HEIGHT] >= DPI * 0.015)
    return crop, keep[labels], stats[1:][keep[1:]]


def _placeholder(ink: np.ndarray, marks: np.ndarray) -> str | None:
    """'—' for a cell whose every mark is a short level stroke, '/' for one whose only mark is a
    thin stroke along its box's diagonal: what reports print for no number, which the recogniser,
    given a dash's speck of a line or a full-width ／, reads as nothing, '=', '1' or 'Z'. No digit
    has either shape (a 1 is upright, a 7's bar leaves the diagonal). A rule's leftover spans the
    cell: not a dash."""
    if not len(marks):
        return None
    x, y, w, h = (marks[:, i] for i in range(4))
    if np.all((h <= DPI * 0.03) & (w >= 2 * h) & (x > 0) & (x + w < ink.shape[1])):
        return "—"
    if len(marks) == 1 and 0.3 * h[0] <= w[0] <= 1.3 * h[0] and h[0] >= DPI * 0.06:
        ys, xs = np.nonzero(ink[y[0] : y[0] + h[0], x[0] : x[0] + w[0]])
        off = np.abs(h[0] * xs + w[0] * ys - w[0] * h[0]) / math.hypot(w[0], h[0])  # from the / diagonal
        if np.mean(off <= max(2.0, 0.12 * w[0])) >= 0.85 and len(xs) < 0.35 * w[0] * h[0]:
            return "/"
    if len(marks) == 1 and 0.2 * h[0] <= w[0] <= 1.3 * h[0] and h[0] >= DPI * 0.06 and _leaning(ink, marks[0]):
        return "/"  # a half-width / or one printed heavy: too thick for its box's diagonal
    return None


def _leaning(ink: np.ndarray, mark: np.ndarray) -> bool:
    """A mark that is one straight stroke leaning right: each row of its ink one short run, their
    middles on a line (within a pixel) that leans a quarter of its height or more. A 1's flag,
    a 7's bar and an I's serifs are rows wider than a stroke or off its line; an upright 1 stands."""
    x, y, w, h = mark[:4]
    rows = [np.flatnonzero(r) for r in ink[y : y + h, x : x + w]]
    rows = [(i, r) for i, r in enumerate(rows) if len(r)]
    if any(r[-1] - r[0] + 1 != len(r) or len(r) > 0.6 * w for _, r in rows):
        return False
    ys, middles = np.array([i for i, _ in rows]), np.array([r.mean() for _, r in rows])
    slope, at = np.polyfit(ys, middles, 1)
    return slope <= -0.25 and float(np.abs(middles - (at + slope * ys)).max()) <= 1.0


def _cell_lines(crop: np.ndarray, ink: np.ndarray) -> list[np.ndarray]:
    """A cell's text lines, each cropped to its ink with a white margin, top to bottom."""
    rows = np.flatnonzero(ink.any(axis=1))
    if not len(rows):
        return []
    bands: list[list[int]] = []
    for y in rows:  # runs of inked pixel rows; a gap narrower than a stroke's joins them
        if bands and y - bands[-1][1] <= DPI * 0.02:
            bands[-1][1] = y
        else:
            bands.append([y, y])
    tall = max(b - a for a, b in bands)
    merged: list[list[int]] = []
    for a, b in bands:  # a band far shorter than a line is a piece of one (二, 三, a dot)
        if (
            merged
            and (b - a < 0.45 * tall or merged[-1][1] - merged[-1][0] < 0.45 * tall)
            and a - merged[-1][1] < 0.5 * tall
        ):
            merged[-1][1] = b
        else:
            merged.append([a, b])
    out = []
    for a, b in merged:
        cols = np.flatnonzero(ink[a : b + 1].any(axis=0))
        e = 2  # the strokes' grey edges too
        piece = crop[max(a - e, 0) : b + 1 + e, max(cols[0] - e, 0) : cols[-1] + 1 + e]
        out.append(cv2.copyMakeBorder(piece, _PAD, _PAD, _SIDE, _SIDE, cv2.BORDER_CONSTANT, value=255))
    return out


def _larger(line: np.ndarray) -> np.ndarray:
    """A line image (as _cell_lines crops it) with its ink scaled up to _TALL pixels high, padded
    as before; one already that tall unchanged."""
    inner = line[_PAD:-_PAD]
    cols = np.flatnonzero((inner < 255).any(axis=0))
    if not len(cols) or inner.shape[0] >= _TALL:
        return line
    piece = inner[:, cols[0] : cols[-1] + 1]
    f = _TALL / piece.shape[0]
    piece = cv2.resize(piece, None, fx=f, fy=f, interpolation=cv2.INTER_CUBIC)
    return cv2.copyMakeBorder(piece, _PAD, _PAD, _SIDE, _SIDE, cv2.BORDER_CONSTANT, value=255)


@functools.cache
def _alike() -> list[np.ndarray]:
    """For each class of the recogniser, the classes that read as the same character once
    normalised as cells are (０ O o 0 are all 0; ｌ l I | 1 all 1; the dashes one dash)."""
    chars = _engine().text_rec.postprocess_op.character
    same = [
        unicodedata.normalize("NFKC", c).translate(_DIGIT_FOR).translate(_ONE_DASH) if len(c) == 1 else c for c in chars
    ]
    groups: dict[str, list[int]] = {}
    for i, c in enumerate(same):
        groups.setdefault(c, []).append(i)
    return [np.array(groups[c]) for c in same]


def recognise(crops: list[np.ndarray], pads: list[float] | None = None) -> list[tuple[str, float]]:
    """Each line image's text and confidence: the least probability of any character in it, a
    character's being that of every class that reads as it (a 0 the model splits between 0, O
    and ０ is still surely a 0). Each line is cut to its ink with _MARGIN rows and _SIDE + 2
    columns of white (a detector's box, slack by up to 24 rows, shrank its type in the
    recogniser's 48 rows: a clear 7 wrapped under its number read ? at 0.62, and the number lost
    its tail) and given _TAIL columns of grey past it (`_tails`); a doubtful reading (under
    trust's thresholds: a number it cannot publish alone, anything a sum cannot confirm) is read
    again padded as `_buckets` pads the line as given (`pads`: each line's width for that, when
    they are some of the lines `_buckets` padded together). Not padded to RapidOCR's 320-pixel
    floor: most of a table's lines are a digit or two."""
    lines = [_trimmed(c) for c in crops]
    out = _run(lines, _tails(lines))
    again = [k for k, (t, p) in enumerate(out) if p < (_SURE.alone if _NUMBERISH.fullmatch(t) else _SURE.summed)]
    if again:
        before = _buckets(crops) if pads is None else pads
        for k, reading in zip(again, _run([crops[k] for k in again], [before[k] for k in again])):
            out[k] = reading
    return out


def recalled(crops: list[np.ndarray], pads: list[float], book: digits.Book | None) -> list[tuple[str, float]]:
    """`recognise`'s readings of the line images `crops` (`pads` as it takes them). With a `book`, a
    text line as one it remembers read before in the report (digits.Book.recall) is not read again,
    nor one like a line before it among these (digits.echoes): that one is read first, and the line
    recalled by it; each line read is remembered."""
    if book is None:
        return recognise(crops, pads)
    cut = [_trimmed(c) for c in crops]
    texts: list = [None] * len(crops)
    later = set(digits.echoes(cut))
    for wave in ([k for k in range(len(crops)) if k not in later], sorted(later)):
        for k in wave:
            texts[k] = book.recall(cut[k])
        ask = [k for k in wave if texts[k] is None]
        for k, reading in zip(ask, recognise([crops[k] for k in ask], [pads[k] for k in ask])):
            texts[k] = reading
            book.remember(cut[k], reading)
    return texts


def _trimmed(line: np.ndarray) -> np.ndarray:
    """A line image cut to its ink with _MARGIN rows and _SIDE + 2 columns of white around (as
    `_cell_lines` cuts a cell's: those come through the same), a line with no ink as given."""
    ink = scanprep.ink(line)
    rows = np.flatnonzero(ink.any(axis=1))
    if not len(rows):
        return line
    cols = np.flatnonzero(ink.any(axis=0))
    m = _SIDE + 2
    return line[max(rows[0] - _MARGIN, 0) : rows[-1] + 1 + _MARGIN, max(cols[0] - m, 0) : cols[-1] + 1 + m]


def _tails(lines: list[np.ndarray]) -> list[float]:
    """Each line's input width (a ratio to the recogniser's height of 48): its own and _TAIL
    columns of grey, up to a whole step of the model's output (8 columns); lines of one width run
    together."""
    return [(8 * math.ceil((48 * c.shape[1] / c.shape[0] + _TAIL) / 8) + 0.5) / 48 for c in lines]


def _run(crops: list[np.ndarray], widths: list[float]) -> list[tuple[str, float]]:
    """`recognise`'s readings with each line padded (grey, as RapidOCR pads) to its width in
    `widths` (as a ratio to the recogniser's height); lines of one width run together. A line
    reads the same whatever lines it runs with: only its pad sways a doubtful reading."""
    rec = _engine().text_rec
    alike = _alike()
    chars = rec.postprocess_op.character
    out: list[tuple[str, float]] = [("", 0.0)] * len(crops)
    _, height, _ = rec.rec_image_shape
    runs: dict[int, list[int]] = {}
    for i, w in enumerate(widths):
        runs.setdefault(int(height * w), []).append(i)
    for columns, batch in sorted(runs.items()):
        images = np.stack([rec.resize_norm_img(cv2.cvtColor(crops[i], cv2.COLOR_GRAY2BGR), widths[i]) for i in batch])
        # ONNX Runtime's cost per column of input grows with the batch (its activations outgrow
        # the CPU's cache): the lines go in runs of at most _BATCH_COLUMNS of width
        step = max(1, _BATCH_COLUMNS // columns)
        preds = np.concatenate(
            [rec.session(images[k : k + step].astype(np.float32))[0] for k in range(0, len(batch), step)]
        )
        best = preds.argmax(axis=2)
        for k, i in enumerate(batch):
            keep = best[k] != 0  # CTC: drop blanks and repeats
            keep[1:] &= best[k][1:] != best[k][:-1]
            text = "".join(chars[j] for j in best[k][keep])
            sure = [preds[k, f, alike[best[k][f]]].sum() for f in np.flatnonzero(keep)]
            out[i] = (text.strip(), float(min(sure)) if sure else 0.0)
    return out


def _buckets(crops: list[np.ndarray]) -> list[float]:
    """Each line's input width (a ratio to the recogniser's height) as lines were read before
    `_tails`, and doubtful readings are read again: in order of width 16 at a time, each padded
    to the widest of its 16 (a digit to a long label's width: a third of the columns pad). The
    grey past a line sways its reading: with none its last character reads doubtfully (of 400
    number lines of unruled photos, 103 under section 二's 0.97 with none, 32 with 12 columns,
    16-19 from 24 on), so padded each up to a multiple of 24 (1 to 24 columns) lines lost cells
    exact; `_tails` gives each 12 past its own width, its ink cut to a fixed margin first."""
    ratios = [c.shape[1] / c.shape[0] for c in crops]
    order = np.argsort(ratios)
    out = [0.0] * len(crops)
    for k in range(0, len(order), 16):
        widest = max(ratios[i] for i in order[k : k + 16])
        for i in order[k : k + 16]:
            out[i] = widest
    return out


def _detect(gray: np.ndarray) -> list[np.ndarray]:
    """The text boxes (4 corners, x and y) the detector finds in `gray`. It sees only the bands of
    rows holding ink, stacked with white between (the tables painted out, a table page is mostly
    white: its cost is the pixels it is given), and of them the columns from the ink's first to
    its last (a page's margins are a quarter of its width), each at the scale it has here. Each
    piece stands in the stack as far off a multiple of 32 pixels as on the page (the detector
    steps 32 pixels at its coarsest). A photo's page edge (its outermost few pixels) is not ink:
    it made every row a band. The detector's squeeze-excitation blocks average the whole picture,
    so what it is shown around the text still moves its boxes a pixel or two (why aligned.py,
    whose boxes cut a table's numbers, shows it the whole page)."""
    ink = _ink(gray) > 0
    e = _EDGE
    ink[:e], ink[-e:], ink[:, :e], ink[:, -e:] = False, False, False, False
    rows = np.flatnonzero(ink.sum(axis=1) >= 2)
    if not len(rows):
        return []
    m = _BAND_MARGIN
    counts = ink.sum(axis=0)
    cols = np.flatnonzero(counts >= min(2, counts.max()))  # (specks two to a row, one to a column: those)
    left, right = max(cols[0] - m, 0) // 32 * 32, min(cols[-1] + m + 1, gray.shape[1])
    bands: list[list[int]] = []
    for y in rows:
        if bands and y - bands[-1][1] <= 2 * m:
            bands[-1][1] = y
        else:
            bands.append([y, y])
    parts, tops = [], []  # tops: where each band starts in the stack, and on the page
    at = 0
    for a, b in bands:
        a, b = max(a - m, 0) // 32 * 32, min(b + m + 1, gray.shape[0])
        b = min(a - (a - b) // 32 * 32, gray.shape[0])  # whole steps of 32 rows, rounded out
        tops.append((at, a))
        parts += [gray[a:b, left:right], np.full((-(b - a) % 32 + 32, right - left), 255, np.uint8)]
        at += b - a + parts[-1].shape[0]
    stack = np.vstack(parts)
    stack = cv2.copyMakeBorder(stack, 0, 0, 0, -stack.shape[1] % 32, cv2.BORDER_CONSTANT, value=255)
    out = []
    for box in _boxes(stack, fit=False):
        centre = box[:, 1].mean()
        start, top = next(t for t in reversed(tops) if t[0] <= centre)
        out.append(box + np.array([left, top - start], np.float32))
    return out


def _boxes(gray: np.ndarray, fit: bool = True) -> list[np.ndarray]:
    """The text boxes (4 corners, x and y, in `gray`'s pixels) the detector finds in a grey picture:
    `fit`, resized as RapidOCR's own call does (its side limit, steps of 32), else as it is (a
    picture made in steps of 32); normalised on one channel through a table of the 256 values its
    preprocessing gives (the same input to the model), not on three float channels a pixel at a time."""
    det = _engine().text_det
    prepare = det.get_preprocess(max(gray.shape))
    resized = prepare.resize(gray) if fit else gray
    image = np.empty((1, 3, *resized.shape), np.float32)
    for c, values in enumerate(_normalised(prepare)):
        image[0, c] = values[resized]
    preds = det.infer(image)[0]
    return list(det.filter_tag_det_res(det.postprocess_op(preds, gray.shape)[0], gray.shape))


def _normalised(prepare) -> np.ndarray:
    """Each channel's input to the detector for each grey value (3, 256), as its preprocessing
    `prepare` normalises a picture: the same float operations, made once for each value."""
    values = np.arange(256, dtype=np.uint8).reshape(1, 256, 1).repeat(3, axis=2)
    return np.ascontiguousarray(prepare.normalize(values)[0].T, dtype=np.float32)


def _text_lines(gray: np.ndarray, first: bool | None = None, left: int | None = None) -> list[tuple[float, str]]:
    """The text on the page outside its tables: (top, line) in reading order; on a scan's page
    (`first` not None) only the lines pagetext.read picks (`left`: where its tables start)."""
    if not _inked(gray):  # a picture of a table alone: the detector would search blank paper
        return []
    small = cv2.resize(gray, None, fx=_DETECT_SCALE, fy=_DETECT_SCALE, interpolation=cv2.INTER_AREA)
    spans = []
    for box in _detect(small):
        x0, y0 = (box.min(axis=0) / _DETECT_SCALE).astype(int)
        x1, y1 = (box.max(axis=0) / _DETECT_SCALE).astype(int)
        x0, y0 = max(x0, 0), max(y0, 0)
        if x1 - x0 > 2 and y1 - y0 > 2:
            spans.append((x0, y0, x1, y1))
    if first is None:
        read = list(zip(spans, recognise([_crop(gray, s) for s in spans])))
    else:
        read = pagetext.read(gray, spans, first, left)
    out = []
    for line in pagetext.lines([(span, text) for span, (text, _) in read if text], box=lambda piece: piece[0]):
        text = ""
        for _, t in line:
            text = _join(text, t)
        out.append((min(s[1] for s, _ in line), text))
    return sorted(out)


def _crop(gray: np.ndarray, span: tuple[int, int, int, int]) -> np.ndarray:
    """The picture's box x0, y0, x1, y1 with a white margin, as the recogniser is given a line."""
    x0, y0, x1, y1 = span
    return cv2.copyMakeBorder(gray[y0:y1, x0:x1], _PAD, _PAD, _PAD, _PAD, cv2.BORDER_CONSTANT, value=255)


def _join(a: str, b: str) -> str:
    """Two pieces of one text: no space between CJK characters, one between Latin words."""
    if not a or not b:
        return a + b
    # a number wrapped in a narrow cell goes on on the next line
    joined = ord(a[-1]) > 0x7F or ord(b[0]) > 0x7F or (a[-1] in _DIGITS and b[0] in _DIGITS)
    return a + b if joined else f"{a} {b}"
