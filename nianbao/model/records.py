"""Typed records that travel between the pipeline's stages, generated from the schema (schema.py):
a report's status, its `reports` row, and what a batch comes to (its frames)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
from collections.abc import Mapping
from enum import StrEnum

import pyarrow as pa

from nianbao.model.schema import CELL_DATASETS, DATASETS


class Status(StrEnum):
    """A report's status (reports.status): a string wherever it is written."""

    VALID = "valid"
    INVALID = "invalid"  # a rule is broken: its cells go to quarantine
    UNREADABLE = "unreadable"  # no template tables could be read from it


def _python(typ: pa.DataType) -> type:
    for test, py in [
        (pa.types.is_string, str),
        (pa.types.is_integer, int),
        (pa.types.is_floating, float),
        (pa.types.is_boolean, bool),
        (pa.types.is_timestamp, dt.datetime),
        (pa.types.is_date, dt.date),
        (pa.types.is_decimal, decimal.Decimal),
        (pa.types.is_list, list),
    ]:
        if test(typ):
            return py
    raise TypeError(f"no Python type for {typ}")


def _record(name: str, dataset: str, doc: str):
    cls = dataclasses.make_dataclass(
        name,
        [(c, _python(t) | None, dataclasses.field(default=None)) for c, t, _ in DATASETS[dataset]],
        frozen=True,
        slots=True,
    )
    cls.__doc__ = doc
    return cls


ReportRow = _record(
    "ReportRow",
    "reports",
    "One `reports` row, its columns those of the schema (frozen: a stage makes a new one with dataclasses.replace).",
)
ReportRow.__module__ = __name__
REPORT_COLUMNS = [f.name for f in dataclasses.fields(ReportRow)]


def report_row(values: dict) -> ReportRow:
    """A row from a dict with the schema's columns (a row read back from the warehouse); others are left out."""
    return ReportRow(**{c: values.get(c) for c in REPORT_COLUMNS})


@dataclasses.dataclass(frozen=True)
class _Frames(Mapping):
    """A batch read as a mapping of dataset name to frame (frames["reports"], .items()): the
    publishing code and the tests read it so; `skipped` is in it only when there is one."""

    def __getitem__(self, dataset: str):
        return getattr(self, dataset)

    def __iter__(self):
        return iter(f.name for f in dataclasses.fields(self) if getattr(self, f.name) is not None)

    def __len__(self) -> int:
        return sum(1 for _ in self)


BatchResult = dataclasses.make_dataclass(
    "BatchResult",
    [(d, "pl.DataFrame") for d in ["reports", "findings", *CELL_DATASETS]]
    + [("skipped", "pl.DataFrame | None", dataclasses.field(default=None))],
    bases=(_Frames,),
    frozen=True,
)
BatchResult.__doc__ = (
    "What a batch comes to: a frame per dataset it publishes (the schema's), and `skipped`, "
    "the stored rows of the reports it did not redo."
)
BatchResult.__module__ = __name__
