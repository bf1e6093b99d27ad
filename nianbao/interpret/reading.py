"""A document's tables read: extract its blocks, match them to the template, check what was read.

The CPU-bound part of a document, run in the extraction workers (isolate.py), which import this
module and what it needs, not the rest of the pipeline (polars, GX: ~0.5 s a worker and its memory).
"""

from __future__ import annotations

from nianbao.extract import extract
from nianbao.interpret import trust
from nianbao.interpret.match import Matched, match


def extract_and_match(data: bytes, fmt: str, linked: tuple = ()) -> Matched:
    """`linked`: an HTML page's pictures brought from beside it (nianbao.acquire.linked)."""
    blocks = extract(data, fmt, linked)
    return trust.check(blocks, match(blocks))
