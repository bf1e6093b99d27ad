"""Legacy .doc and .wps through LibreOffice: written from known values, read back cell by cell."""

import corpus
import pytest

from nianbao.extract import extract, office, sniff
from nianbao.interpret.match import match
from nianbao.model.errors import Unreadable

needs_soffice = pytest.mark.skipif(office.soffice() is None, reason="LibreOffice is not installed")


@pytest.fixture(scope="module")
def doc_bytes(rep):
    """Our own DOCX saved as a Word 97 .doc by LibreOffice."""
    if office.soffice() is None:
        pytest.skip("LibreOffice is not installed")
    return corpus.to_doc(corpus.write_docx(corpus.layout(rep)))


@needs_soffice
@pytest.mark.parametrize("name", ["report.doc", "report.wps"])
def test_doc_and_wps_every_cell(rep, doc_bytes, name):
    fmt = sniff(doc_bytes, name)
    assert fmt == name.rsplit(".", 1)[1]
    m = match(extract(doc_bytes, fmt))
    assert {c.key: c.raw for c in m.active_disclosure} == rep.active_disclosure
    assert {c.key: c.raw for c in m.applications} == rep.applications
    assert {c.key: c.raw for c in m.reviews_litigation} == rep.reviews_litigation


@needs_soffice
def test_garbage_doc_is_unreadable_with_a_reason():
    with pytest.raises(Unreadable, match="^a corrupt Word file: its OLE2 container cannot be read"):
        match(extract(b"\xd0\xcf\x11\xe0" + b"\0" * 600, "doc"))


def test_missing_libreoffice_is_a_clear_reason(monkeypatch):
    monkeypatch.setattr(office, "soffice", lambda: None)
    with pytest.raises(Unreadable, match="LibreOffice \\(soffice\\) is not installed"):
        extract(b"\xd0\xcf\x11\xe0", "doc")
