"""Two of pdfplumber's steps done with less work, to the same results.

`Page.process_object` (pdfminer's layout objects to the dicts every pdfplumber call reads): the
original resolves every attribute of every object recursively (`resolve_all`: ~17 attributes a
character, ~4 M calls for 100 reports), though nearly all are numbers, strings or tuples of them,
which hold nothing to resolve. Here those are kept as they are and only the rest go through
`resolve_all`; the kind of an object is worked out once per class, a colour space's name decoded
once. Used by a PDF's pages after `use(pdf)` (nianbao.extract.pdf does it); the dicts are
equal to pdfplumber's, key order included (tests/extract/test_plumbing.py compares them on every page of
the generated and real PDFs). And `extract(table)`, `Table.extract()`'s cells, and `find_tables`,
`Page.find_tables`'s tables (compared there too).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from types import MethodType
from typing import Any

from pdfminer.layout import LTChar, LTCurve, LTTextContainer
from pdfplumber import utils
from pdfplumber.page import ALL_ATTRS, Page, fix_fontname_bytes, normalize_unicode, resolve_all, resolve_and_decode
from pdfplumber.table import Table, TableFinder, TableSettings, cells_to_tables, edges_to_intersections

from nianbao.extract.pdf.contentstream import Char

_SCALARS = frozenset({int, float, str, bool, type(None)})
_KIND: dict[type, str] = {}


_NAMES: dict[str | bytes, str] = {}  # a colour space's name, decoded (a few names, asked for each character)


def _value(v: Any) -> Any:
    """resolve_all(v), without its work where it would only rebuild v: a scalar, a tuple of them
    (a matrix), a list of those (a curve's points)."""
    t = type(v)
    if t is tuple:
        if _SCALARS.issuperset(map(type, v)):
            return v
    elif t is list:
        if all(type(e) is tuple and _SCALARS.issuperset(map(type, e)) for e in v):
            return list(v)  # a list, new as resolve_all's, of the same tuples
    return resolve_all(v)


def _decoded(name: Any) -> Any:
    if type(name) not in (str, bytes):
        return resolve_and_decode(name)
    text = _NAMES.get(name)
    if text is None:
        text = resolve_and_decode(name)
        if len(_NAMES) < 1000:
            _NAMES[name] = text
    return text


_CHAR_KEYS: list[str] = []  # the attributes pdfplumber keeps, in the order every Char holds them (the first tells)


def _char(self: Page, obj: Char) -> dict:
    """process_object for a Char (contentstream.Device makes every one alike): the same dict, its keys
    known after the first."""
    d = obj.__dict__
    if not _CHAR_KEYS:
        _CHAR_KEYS.extend(k for k in d if k in ALL_ATTRS)
    attr = {k: v if type(v := d[k]) in _SCALARS else _value(v) for k in _CHAR_KEYS}
    attr["object_type"] = "char"
    attr["page_number"] = self.page_number
    attr["ncs"] = _decoded(d["ncs"].name)
    attr["text"] = _text(self, d["_text"])
    _painted(attr, d["graphicstate"])
    return _placed(self, attr)


def process_object(self: Page, obj) -> dict:
    cls = obj.__class__
    if cls is Char:
        return _char(self, obj)
    kind = _KIND.get(cls)
    if kind is None:
        kind = _KIND[cls] = re.sub(r"^LT", "", cls.__name__).lower()
    attr = {k: v if type(v) in _SCALARS else _value(v) for k, v in obj.__dict__.items() if k in ALL_ATTRS}
    attr["object_type"] = kind
    attr["page_number"] = self.page_number
    for cs in ("ncs", "scs"):
        if hasattr(obj, cs):
            attr[cs] = _decoded(getattr(obj, cs).name)
    if isinstance(obj, (LTChar, LTTextContainer)):
        attr["text"] = _text(self, obj.get_text())
    if isinstance(obj, LTChar):
        _painted(attr, obj.graphicstate)
    elif isinstance(obj, LTCurve):
        attr["pts"] = list(map(self.point2coord, attr["pts"]))
        attr["path"] = [(cmd, *map(self.point2coord, pts)) for cmd, *pts in obj.original_path]
        attr["dash"] = obj.dashing_style
    return _placed(self, attr)


def _text(self: Page, text: str) -> str:
    norm = self.pdf.unicode_norm
    return normalize_unicode(norm, text) if norm is not None else text


def _painted(attr: dict, gs) -> None:
    """A character's colours from its graphic state, and its font's name as text."""
    attr["stroking_color"] = gs.scolor if isinstance(gs.scolor, tuple) else (gs.scolor,)
    attr["non_stroking_color"] = gs.ncolor if isinstance(gs.ncolor, tuple) else (gs.ncolor,)
    if isinstance(attr["fontname"], bytes):
        attr["fontname"] = fix_fontname_bytes(attr["fontname"])


def _placed(self: Page, attr: dict) -> dict:
    """Top-down coordinates, and the x shift pdfminer left out (relative to the MediaBox)."""
    mb_x0, mb_top = self.mediabox[:2]
    if "y0" in attr:
        attr["top"] = (self.height - attr["y1"]) + mb_top
        attr["bottom"] = (self.height - attr["y0"]) + mb_top
        attr["doctop"] = self.initial_doctop + attr["top"]
    if "x0" in attr and mb_x0 != 0:
        attr["x0"] = attr["x0"] + mb_x0
        attr["x1"] = attr["x1"] + mb_x0
    return attr


def extract(table: Table) -> list[list[str | None]]:
    """`table.extract()`, the same cells: pdfplumber tests every character of the page against
    every row; here a row's characters are the run of them, sorted by their middle's height, that
    falls in the row (bisected), taken in the page's order as pdfplumber takes them."""
    chars = table.page.chars
    mids = sorted(((c["top"] + c["bottom"]) / 2, i) for i, c in enumerate(chars))
    heights = [m for m, _ in mids]
    out = []
    for row in table.rows:
        x0, top, x1, bottom = row.bbox
        band = sorted(i for _, i in mids[bisect_left(heights, top) : bisect_left(heights, bottom)])
        row_chars = [c for c in (chars[i] for i in band) if x0 <= (c["x0"] + c["x1"]) / 2 < x1]
        cells = []
        for cell in row.cells:
            if cell is None:
                cells.append(None)
                continue
            inside = [c for c in row_chars if _in(c, cell)]
            cells.append(utils.extract_text(inside) if inside else "")
        out.append(cells)
    return out


def _in(c: dict, bbox) -> bool:
    v_mid, h_mid = (c["top"] + c["bottom"]) / 2, (c["x0"] + c["x1"]) / 2
    return bbox[0] <= h_mid < bbox[2] and bbox[1] <= v_mid < bbox[3]


def use(pdf) -> None:
    """This PDF's pages make their dicts with process_object (pdfplumber elsewhere is untouched)."""
    for page in pdf.pages:
        page.process_object = MethodType(process_object, page)


class _Finder(TableFinder):
    """pdfplumber's TableFinder, its cells found by intersections_to_cells below."""

    def __init__(self, page: Page, settings: dict | None = None):
        self.page = page
        self.settings = TableSettings.resolve(settings)
        self.edges = self.get_edges()
        self.intersections = edges_to_intersections(
            self.edges, self.settings.intersection_x_tolerance, self.settings.intersection_y_tolerance
        )
        self.cells = intersections_to_cells(self.intersections)
        self.tables = [Table(self.page, group) for group in cells_to_tables(self.cells)]


def find_tables(page: Page, settings: dict | None = None) -> list[Table]:
    """`page.find_tables(settings)`: the same tables."""
    return _Finder(page, settings).tables


def intersections_to_cells(intersections: dict) -> list[tuple]:
    """pdfplumber.table.intersections_to_cells, the same cells in the same order: each point's
    edges made a set once (pdfplumber makes both sets again for every pair of points it tests) and
    the points below and right of a point taken from its column and row (not from all the points
    after it: a ruled page has hundreds)."""
    v = {p: set(map(utils.obj_to_bbox, e["v"])) for p, e in intersections.items()}
    h = {p: set(map(utils.obj_to_bbox, e["h"])) for p, e in intersections.items()}

    def connects(p1, p2) -> bool:
        return (p1[0] == p2[0] and not v[p1].isdisjoint(v[p2])) or (p1[1] == p2[1] and not h[p1].isdisjoint(h[p2]))

    points = sorted(intersections)
    columns: dict[float, list] = {}
    rows: dict[float, list] = {}
    for p in points:
        columns.setdefault(p[0], []).append(p)
        rows.setdefault(p[1], []).append(p)
    cells = []
    for pt in points:
        right = [q for q in rows[pt[1]] if q > pt]
        cell = next(
            (
                (pt[0], pt[1], r[0], below[1])
                for below in columns[pt[0]]
                if below > pt and connects(pt, below)
                for r in right
                if connects(pt, r)
                and (r[0], below[1]) in intersections
                and connects((r[0], below[1]), r)
                and connects((r[0], below[1]), below)
            ),
            None,
        )
        if cell is not None:
            cells.append(cell)
    return cells
