"""Tuning values (limits, caps, thresholds, timeouts) live in frozen dataclasses in the module they
tune, one default instance each, or in nianbao/model/settings.py where an operator may change them:
not as loose numbers at a module's top."""

import ast
import dataclasses
import re
from pathlib import Path

import pytest

from nianbao.acquire import discover, fetch, linked
from nianbao.extract import docx, html, office, pdf, pictures, runtogether
from nianbao.extract.pdf import rowlabels
from nianbao.model import document
from nianbao.report import artifacts, site, summary, validation_report
from nianbao.report.site import charts
from nianbao.run import allocators, heap, isolate, plan, reaper, sizes
from nianbao.warehouse import index, storage

PACKAGE = Path(__file__).resolve().parents[2] / "nianbao"
# Numbers that are not tuning: a format's flag, a partition's value.
NOT_TUNING = {
    ("extract/office.py", "_F_ENCRYPTED"),
    ("model/schema.py", "UNKNOWN_YEAR"),
    ("run/allocators.py", "_M_ARENA_MAX"),  # glibc's name for a mallopt parameter
}
# Files other work had open when the constants were gathered: theirs are to be gathered next.
NOT_YET = {
    "extract/pdf/ocr.py",
    "extract/pdf/scanprep.py",
    "extract/pdf/aligned.py",
    "interpret/match.py",
    "check/indicators.py",
}


def _number(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return isinstance(node.value, (int, float)) and not isinstance(node.value, bool)
    if isinstance(node, ast.UnaryOp):
        return _number(node.operand)
    if isinstance(node, ast.BinOp):
        return _number(node.left) and _number(node.right)
    return False


def test_no_loose_tuning_numbers_at_a_modules_top():
    loose = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel in NOT_YET:
            continue
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            targets = (
                node.targets
                if isinstance(node, ast.Assign)
                else [node.target]
                if isinstance(node, ast.AnnAssign)
                else []
            )
            for t in targets:
                if (
                    isinstance(t, ast.Name)
                    and re.fullmatch(r"_?[A-Z][A-Z0-9_]*", t.id)
                    and node.value is not None
                    and _number(node.value)
                    and (rel, t.id) not in NOT_TUNING
                ):
                    loose.append(f"{rel}: {t.id}")
    assert loose == []


OBJECTS = [
    (fetch.Limits, None),  # its default is the settings' (Limits.configured, tests/model/test_settings.py)
    (discover.Limits, discover.LIMITS),
    (linked.Limits, linked.LIMITS),
    (docx.Limits, docx.LIMITS),
    (html.Limits, html.LIMITS),
    (office.Limits, office.LIMITS),
    (pictures.Limits, pictures.LIMITS),
    (runtogether.Limits, runtogether.LIMITS),
    (pdf.Tolerances, pdf.TOL),
    (pdf.Thresholds, pdf.THRESHOLDS),
    (document.Confidence, document.CONFIDENCE),
    (rowlabels.Shapes, rowlabels.SHAPES),
    (heap.Thresholds, heap.THRESHOLDS),
    (allocators.Malloc, allocators.MALLOC),
    (isolate.Limits, isolate.LIMITS),
    (plan.Limits, plan.LIMITS),
    (sizes.Batches, sizes.BATCHES),
    (reaper.Timing, reaper.TIMING),
    (index.Thresholds, index.THRESHOLDS),
    (storage.Timing, storage.TIMING),
    (artifacts.Caps, artifacts.CAPS),
    (summary.Caps, summary.CAPS),
    (validation_report.Caps, validation_report.CAPS),
    (site.Shown, site.SHOWN),
    (charts.Limits, charts.LIMITS),
]


@pytest.mark.parametrize("cls, default", OBJECTS, ids=[f"{c.__module__}.{c.__name__}" for c, _ in OBJECTS])
def test_each_is_frozen_and_its_default_is_declared(cls, default):
    assert dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen
    if default is not None:
        assert default == cls()
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(default, dataclasses.fields(cls)[0].name, 0)
