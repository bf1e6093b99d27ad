"""Every format, every variant, cell by cell: a few generated reports each (tests/accuracy.py)."""

import accuracy
import pytest


@pytest.mark.parametrize("variant", sorted(accuracy.VARIANTS))
def test_every_cell_exact(variant):
    # each test makes its own variant's documents: pytest-xdist shares a module's tests among its
    # workers, and a module fixture making them all was made once in each
    mine = accuracy.run(n=2, seed=20240601, variants=[variant])
    cells = 212 if variant in accuracy.SECTION_TWO_2019 else 200  # 2019's section 二 has 24 cells, 2021's 12
    assert len(mine) == 2 and all(r.cells == cells for r in mine)
    wrong = [(r.name, *m) for r in mine for m in r.mismatches]
    assert wrong == [], wrong[:10]
    assert [r.findings for r in mine] == [0, 0]  # nothing had to be guessed either


def test_the_generator_is_deterministic_and_awkward():
    docs = [accuracy.document("txt/grid", i, seed=7) for i in range(30)]
    assert accuracy.document("txt/grid", 3, seed=7).data == docs[3].data
    values = [v for d in docs for ds in accuracy.DATASETS for v in getattr(d.report, ds).values()]
    assert "" in values and any(v in accuracy.PLACEHOLDERS for v in values)
    assert any("," in v for v in values) and any("０" <= c <= "９" for v in values for c in v)
    assert (
        max(int(v.replace(",", "")) for v in values if v.replace(",", "").isascii() and v.replace(",", "").isdigit())
        >= 1000
    )


def test_summary_counts_per_format():
    s = accuracy.summary(
        [
            accuracy.Result("pdf/plain", "pdf/plain#0", 200),
            accuracy.Result("pdf/wps", "pdf/wps#0", 200, [("c", "1", "2")]),
            accuracy.Result("pdf/wps", "pdf/wps#1", 200, flagged=7),
        ]
    )
    assert s["pdf/*"] == {
        "documents": 3,
        "cells": 600,
        "cells_exact": 592,
        "cells_flagged": 7,
        "cells_wrong": 1,
        "reports_exact": 1,
        "with_findings": 0,
    }
