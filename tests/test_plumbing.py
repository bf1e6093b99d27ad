"""The faster Page.process_object (nianbao/extract/plumbing.py) makes pdfplumber's own dicts, key
order included, and plumbing.extract pdfplumber's own cells, on every page of every born-digital
PDF variant we generate and of the real PDFs."""
import io

import pdfplumber
import pytest

import accuracy
from conftest import REAL, missing
from nianbao.extract import plumbing

VARIANTS = [v for v, (f, _) in accuracy.VARIANTS.items() if f == "pdf" and not v.startswith("pdf/mixed")]


def _objects(data: bytes) -> list:
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return [{kind: [list(o.items()) for o in objs] for kind, objs in page.objects.items()} for page in pdf.pages]


def _same(data: bytes) -> None:
    plumbing.uninstall()
    try:
        theirs = _objects(data)
    finally:
        plumbing.install()
    ours = _objects(data)
    assert sum(len(objs) for page in ours for objs in page.values()) > 0
    assert repr(ours) == repr(theirs)
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        tables = [t for page in pdf.pages for t in page.find_tables()]
        assert [plumbing.extract(t) for t in tables] == [t.extract() for t in tables]


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_same_objects_as_pdfplumbers_on_generated_pdfs(variant):
    _same(accuracy.document(variant, 0, 0).data)


def test_the_same_objects_as_pdfplumbers_on_real_pdfs():
    paths = sorted(REAL.rglob("*.pdf")) if REAL.is_dir() else []
    if not paths:
        missing("real PDFs")
    for path in paths:
        _same(path.read_bytes())


def test_installed_by_the_pdf_extractor():
    import nianbao.extract.pdf  # noqa: F401

    assert pdfplumber.page.Page.process_object is plumbing.process_object
