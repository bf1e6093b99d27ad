"""The faster Page.process_object (nianbao/extract/pdf/plumbing.py) makes pdfplumber's own dicts, key
order included, and plumbing.extract pdfplumber's own cells, on every page of every born-digital
PDF variant we generate and of the real PDFs; so do plumbing.find_tables pdfplumber's tables."""

import io

import accuracy
import pdfplumber
import pytest
from conftest import REAL, missing
from pdfplumber.table import TableFinder

from nianbao.extract.pdf import contentstream, plumbing

VARIANTS = [v for v, (f, _) in accuracy.VARIANTS.items() if f == "pdf" and not v.startswith("pdf/mixed")]


def _objects(data: bytes, ours: bool) -> list:
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        if ours:  # as nianbao.extract.pdf reads a PDF
            plumbing.use(pdf)
            contentstream.lay_out(pdf)
        return _dicts(pdf)


def _dicts(pdf) -> list:
    return [{kind: [list(o.items()) for o in objs] for kind, objs in page.objects.items()} for page in pdf.pages]


def _same(data: bytes) -> None:
    ours = _objects(data, ours=True)
    assert sum(len(objs) for page in ours for objs in page.values()) > 0
    # pdfplumber's own objects, and its tables found on the same pages (each page's objects made once)
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        assert repr(ours) == repr(_dicts(pdf))
        tables = [t for page in pdf.pages for t in page.find_tables()]
        assert [plumbing.extract(t) for t in tables] == [t.extract() for t in tables]
        for page in pdf.pages:
            finder = TableFinder(page)
            assert plumbing.intersections_to_cells(finder.intersections) == finder.cells
            assert [t.cells for t in plumbing.find_tables(page)] == [t.cells for t in finder.tables]


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_same_objects_as_pdfplumbers_on_generated_pdfs(variant):
    _same(accuracy.document(variant, 0, 0).data)


def test_the_same_objects_as_pdfplumbers_on_real_pdfs():
    paths = sorted(REAL.rglob("*.pdf")) if REAL.is_dir() else []
    if not paths:
        missing("real PDFs")
    for path in paths:
        _same(path.read_bytes())


def test_used_by_the_pdf_extractor_and_nowhere_else(monkeypatch):
    from nianbao.extract import pdf

    data = accuracy.document("pdf/plain", 0, 0).data
    real, used = plumbing.process_object, []
    monkeypatch.setattr(plumbing, "process_object", lambda page, obj: used.append(obj) or real(page, obj))
    assert pdf.parse(data)
    every = sum(len(objs) for page in _objects(data, ours=False) for objs in page.values())
    assert len(used) == every  # every object of the document, once
    used.clear()
    with pdfplumber.open(io.BytesIO(data)) as doc:
        assert doc.pages[0].chars  # pdfplumber's own, untouched
    assert used == []
