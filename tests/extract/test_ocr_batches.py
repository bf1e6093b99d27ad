"""How the recogniser's lines are batched: by width, each padded a little past its batch's widest."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

FIXTURES = Path(__file__).parents[1] / "fixtures"


def test_a_line_reads_the_same_whatever_wider_lines_share_its_call():
    """A call's lines were padded, 16 at a time, to the widest among them: a lone digit given with
    a long label was read padded to the label's width (a third of the recogniser's input was such
    pad, bench/ocr_batching.py), and read otherwise than alone. Batched by width, it is padded as
    when read alone."""
    from nianbao.extract.pdf import ocr

    zero = cv2.imread(str(FIXTURES / "ocr_lone_zero.png"), cv2.IMREAD_GRAYSCALE)
    long = np.hstack([zero] * 8)
    alone = ocr.recognise([zero])
    assert alone[0][0].translate(ocr._DIGIT_FOR) == "0"  # (an o, read as a 0 in a cell)
    assert ocr.recognise([long, zero, long])[1] == alone[0]


def test_batches_hold_lines_of_about_one_width():
    from nianbao.extract.pdf import ocr

    ratios = [1.0, 1.2, 1.3, 5.0, 1.1, 6.0, 0.9] + [2.0] * 20
    batches = ocr._buckets(np.argsort(ratios, kind="stable"), ratios)
    assert sorted(int(i) for b in batches for i in b) == list(range(len(ratios)))
    for b in batches:
        widths = [ratios[i] for i in b]
        assert len(b) <= 16 and max(widths) <= ocr._BUCKET * min(widths)
    assert [[ratios[i] for i in b] for b in batches] == [[0.9, 1.0, 1.1], [1.2, 1.3], [2.0] * 16, [2.0] * 4, [5.0, 6.0]]
