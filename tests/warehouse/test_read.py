"""pipeline._read: what reading a source came to, told by its status, not by the types it returns."""

import hashlib

from conftest import ROOT

from nianbao import __version__
from nianbao.acquire.sources import Source
from nianbao.model.records import report_row
from nianbao.run.pipeline import _read

VALID = ROOT / "data/samples/sample_valid_2023.txt"


def test_each_outcome_of_reading_a_source_is_a_status(tmp_path):
    todo = _read(Source(str(VALID)), "r", 2020)
    sha = hashlib.sha256(VALID.read_bytes()).hexdigest()
    assert (todo.status, todo.data, todo.reason) == ("extract", VALID.read_bytes(), None)
    assert (todo.row.report_id, todo.row.source_format, todo.row.year) == (sha, "txt", 2020)

    stored = {"report_id": sha, "pipeline_version": __version__, "status": "valid"}
    skipped = _read(Source(str(VALID)), "r", None, published={sha: stored})
    assert (skipped.status, skipped.row, skipped.data) == ("skipped", report_row(stored), None)
    # published by another version of the pipeline: read again
    assert _read(Source(str(VALID)), "r", None, published={sha: dict(stored, pipeline_version="0")}).status == "extract"

    missing = _read(Source(str(tmp_path / "gone.pdf")), "r", None)
    assert (missing.status, missing.data, missing.row.status) == ("unreadable", None, "unreadable")
    assert missing.reason == "cannot read the file: No such file or directory"
    assert missing.row.report_id == hashlib.sha256(f"unread:{tmp_path / 'gone.pdf'}".encode()).hexdigest()

    (tmp_path / "x.pdf").write_bytes(b"\x00\x01\x02 not a pdf at all")
    wrong = _read(Source(str(tmp_path / "x.pdf")), "r", None)
    assert (wrong.status, wrong.data, wrong.row.source_format) == ("unreadable", None, "unknown")
    assert wrong.reason.startswith("not a document")
