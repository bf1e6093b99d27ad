"""The contract's rules, read from template.toml, as check frames and Great Expectations suites.

Each rule becomes (1) a check frame derived from the batch's cells, one row per thing the rule
checks, with the columns its expectations look at plus `report_id`, `cells`, `expected`,
`observed` for the finding, and (2) an expectation suite over that frame (expectations/<rule>.json).
"""

from __future__ import annotations

import sys
from functools import cache

import polars as pl

from nianbao.interpret.match import NOT_PRINTED
from nianbao.model.schema import CELL_KEYS, value_bound
from nianbao.model.template import PrintedRule, RangeRule, Rule, SumRule, TextFigureRule, YearRule, template

CHECK_COLUMNS = ["report_id", "cells", "expected", "observed", "message"]


def expectations(rule: Rule) -> list[dict]:
    """The GX expectations (type and kwargs) a rule's check frame must meet."""
    kind = rule.kind
    if kind in ("sum", "chain", "text_figure"):
        return [
            {
                "type": "expect_column_pair_values_to_be_equal",
                "kwargs": {"column_A": "left", "column_B": "right", "ignore_row_if": "either_value_is_missing"},
            }
        ]
    if kind == "complete":
        return [{"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "number"}}]
    if kind == "printed":
        return [{"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "printed"}}]
    if kind == "value_range":
        # `allowed` is the nearest value the cell's kind admits; a cell meets the rule when it is that value
        return [
            {
                "type": "expect_column_pair_values_to_be_equal",
                "kwargs": {"column_A": "number", "column_B": "allowed", "ignore_row_if": "either_value_is_missing"},
            }
        ]
    if kind == "metadata":
        out = [{"type": "expect_column_values_to_not_be_null", "kwargs": {"column": rule.column}}]
        if isinstance(rule, YearRule):
            upper = {"$PARAMETER": "current_year"} if rule.max == "current_year" else rule.max
            out.append(
                {
                    "type": "expect_column_values_to_be_between",
                    "kwargs": {"column": rule.column, "min_value": rule.min, "max_value": upper},
                }
            )
        return out
    if kind == "deadline":
        return [{"type": "expect_column_values_to_be_between", "kwargs": {"column": "days_late", "max_value": 0}}]
    if kind == "copied":
        return [
            {
                "type": "expect_column_values_to_be_between",
                "kwargs": {"column": "similarity", "min_value": 0, "max_value": rule.max},
            }
        ]
    raise ValueError(f"unknown rule kind {kind!r} in template.toml")


def check_frame(rule: Rule, cells: dict[str, pl.DataFrame], reports: pl.DataFrame) -> pl.DataFrame:
    """The rows a rule checks, for every readable report of a batch."""
    kind = rule.kind
    if kind == "sum":
        return _sum_frame(rule, cells[rule.dataset])
    if kind == "complete":
        # a cell the extractor could not read is not the report's blank: extraction.unread_cell names
        # it; one the report does not print at all, sections.complete
        frames = [
            _cell_frame(d, cells[d])
            .filter(~pl.col("unread").fill_null(False) & (pl.col("where") != NOT_PRINTED))
            .select(["report_id", "cell", "number", "raw"])
            for d in rule.datasets
        ]
        f = pl.concat(frames)
        return f.with_columns(
            cells=pl.concat_list(pl.col("cell")),
            expected=pl.lit("a number"),
            observed=pl.when(pl.col("raw").is_null()).then(pl.lit("no cell printed")).otherwise(pl.col("raw")),
            message=pl.format("{} is blank or not a number", _named(pl.col("cell"))),
        ).select([*CHECK_COLUMNS, "number"])
    if kind == "printed":
        return _printed_frame(rule, cells)
    if kind == "value_range":
        return _range_frame(rule, cells)
    if kind == "metadata":
        col, ranged = rule.column, isinstance(rule, YearRule)
        return reports.select(
            "report_id",
            cells=pl.concat_list(pl.lit(f"reports:{col}")),
            expected=pl.lit(f"a known {col}" + (f" from {rule.min} to {rule.upper()}" if ranged else "")),
            observed=pl.col(col).cast(pl.String),
            message=pl.lit(
                f"the report's {col} is unknown or out of range" if ranged else f"the report's {col} could not be read"
            ),
            **{col: pl.col(col)},
        )
    if kind == "text_figure":
        return _text_figure_frame(rule, cells)
    if kind == "deadline":
        month, day = rule.deadline
        deadline = pl.date(pl.col("year").cast(pl.Int32) + 1, month, day)
        col = rule.column
        return reports.select(
            "report_id",
            cells=pl.concat_list(pl.lit(f"reports:{col}")),
            expected=pl.format("on or before {}", deadline.cast(pl.String)),
            observed=pl.col(col).cast(pl.String),
            message=pl.format(
                "signed or published on {}, after the deadline {}",
                pl.col(col).cast(pl.String),
                deadline.cast(pl.String),
            ),
            days_late=(pl.col(col) - deadline).dt.total_days(),
        )
    raise ValueError(kind)


def year_range() -> tuple[int, int]:
    """The years a report may be of, as the template's metadata.year rule says (max: the current year)."""
    rule = template().rule("metadata.year")
    return rule.min, rule.upper()


@cache
def cell_labels() -> dict[str, str]:
    """Every cell name (dataset:row/column) -> its template labels, '（七）总计·自然人'."""
    labels = {(d["dataset"], d["column"], d["code"]): d["label"] for d in template().dictionary_rows()}
    out = {}
    for dataset, (a, b) in CELL_KEYS.items():
        rows = [code for (ds, col, code) in labels if ds == dataset and col == a]
        cols = [code for (ds, col, code) in labels if ds == dataset and col == b]
        out |= {f"{dataset}:{x}/{y}": f"{labels[dataset, a, x]}·{labels[dataset, b, y]}" for x in rows for y in cols}
    return out


def _named(cell: pl.Expr) -> pl.Expr:
    """A cell as findings name it: its labels, then its code ('（七）总计·自然人 (applications:…)')."""
    return pl.format("{} ({})", cell.replace_strict(cell_labels(), default=cell), cell)


def _cell_frame(dataset: str, f: pl.DataFrame) -> pl.DataFrame:
    a, b = CELL_KEYS[dataset]
    return f.with_columns(cell=pl.format(f"{dataset}:{{}}/{{}}", pl.col(a), pl.col(b)))


def _sum_frame(rule: SumRule, f: pl.DataFrame) -> pl.DataFrame:
    t = template()
    along, per = rule.along, rule.per
    left, right = rule.sides()
    f = _cell_frame(rule.dataset, f)

    def side(codes: list[str], name: str) -> pl.DataFrame:
        part = f.filter(pl.col(along).is_in(codes))
        return part.group_by(["report_id", per], maintain_order=True).agg(
            # a blank cell leaves the sum unknown: cells.complete reports it, this rule does not guess
            _known_sum(pl.col("number")).alias(name),
            pl.col("cell").alias(f"{name}_cells"),
        )

    joined = side(left, "left").join(side(right, "right"), on=["report_id", per], how="inner")
    # In the template's words: "自然人: （七）总计 = 20 ≠ 26 = 三、本年度办理结果（一）至（六）"
    labels = {(d["column"], d["code"]): d["label"] for d in t.dictionary_rows() if d["dataset"] == rule.dataset}
    words = lambda codes: " + ".join(
        t.spec.applications.results_label
        if c == "@result"  # noqa: E731
        else labels[along, c]
        for c in codes
    )
    per_label = pl.col(per).replace_strict(
        {c: lab for (col, c), lab in labels.items() if col == per}, default=pl.col(per)
    )
    return joined.select(
        "report_id",
        cells=pl.concat_list("left_cells", "right_cells"),
        expected=_fmt(pl.col("right")),
        observed=_fmt(pl.col("left")),
        message=pl.format(
            f"{{}}: {words(rule.left)} = {{}} ≠ {{}} = {words(rule.right)}",
            per_label,
            _fmt(pl.col("left")),
            _fmt(pl.col("right")),
        ),
        left=pl.col("left"),
        right=pl.col("right"),
    )


def _printed_frame(rule: PrintedRule, cells: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """One row per report and row of each section (per section, when the report prints none of
    it), `printed` null where cells of it are not printed (the matcher put them at NOT_PRINTED)."""
    labels = {(d["dataset"], d["code"]): d["label"] for d in template().dictionary_rows()}
    frames = []
    for dataset in rule.datasets:
        a = CELL_KEYS[dataset][0]
        section = f"section {template().sections[dataset][0]}"
        f = _cell_frame(dataset, cells[dataset]).with_columns(absent=pl.col("where") == NOT_PRINTED)
        f = f.with_columns(whole=pl.col("absent").all().over("report_id"))
        row = pl.col(a).replace_strict(
            {code: lab for (d, code), lab in labels.items() if d == dataset}, default=pl.col(a)
        )
        f = f.with_columns(
            unit=pl.when(pl.col("whole")).then(pl.lit(section)).otherwise(pl.format(f"{section} row {{}}", row))
        )
        g = f.group_by(["report_id", "unit"], maintain_order=True).agg(
            pl.col("cell").filter(pl.col("absent")).alias("cells"),
            pl.col("absent").all().alias("all"),
            pl.col("absent").any().alias("any"),
            pl.col("absent").sum().alias("n"),
            pl.len().alias("of"),
        )
        frames.append(
            g.select(
                "report_id",
                "cells",
                expected=pl.lit("printed"),
                observed=pl.lit("not printed"),
                message=pl.when(pl.col("all"))
                .then(pl.format("{} is not printed", pl.col("unit")))
                .otherwise(
                    pl.format("{} is printed without {} of its {} cells", pl.col("unit"), pl.col("n"), pl.col("of"))
                ),
                printed=pl.when(pl.col("any")).then(None).otherwise(pl.lit(True)),
            )
        )
    return pl.concat(frames)


def _range_frame(rule: RangeRule, cells: dict[str, pl.DataFrame]) -> pl.DataFrame:
    t = template()
    frames = []
    for dataset in rule.datasets:
        f = _cell_frame(dataset, cells[dataset])
        kind = (
            pl.col("metric").replace_strict(t.metric_kind, default="count")
            if dataset == "active_disclosure"
            else pl.lit("count")
        )
        frames.append(
            f.with_columns(kind=kind, bound=pl.lit(f" below {value_bound(dataset)[1]}")).select(
                ["report_id", "cell", "number", "raw", "kind", "bound"]
            )
        )
    f = pl.concat(frames)
    n = pl.col("number")
    # a number beyond what the `value` column holds is ±inf (normalise.py): its nearest is finite
    allowed = (
        pl.when(pl.col("kind") == "amount")
        .then(pl.max_horizontal(n, 0.0))
        .when(pl.col("kind") == "signed_count")
        .then(n.round(0))
        .otherwise(pl.max_horizontal(n.round(0), 0.0))
    ).clip(-sys.float_info.max, sys.float_info.max)
    wanted = (
        pl.when(pl.col("kind") == "amount")
        .then(pl.lit("a number >= 0"))
        .when(pl.col("kind") == "signed_count")
        .then(pl.lit("an integer"))
        .otherwise(pl.lit("an integer >= 0"))
    )
    wanted = (
        pl.when(n.is_infinite())
        .then(
            pl.concat_str(
                pl.when(pl.col("kind") == "amount").then(pl.lit("a number")).otherwise(wanted), pl.col("bound")
            )
        )
        .otherwise(wanted)
    )
    return f.select(
        "report_id",
        cells=pl.concat_list("cell"),
        expected=wanted,
        observed=pl.col("raw"),
        message=pl.format("{} holds {}, which is not {}", _named(pl.col("cell")), pl.col("raw"), wanted),
        number=n,
        allowed=allowed,
    )


def _text_figure_frame(rule: TextFigureRule, cells: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """One row per agency-wide figure stated in a report's narrative, beside its table's value."""
    from nianbao.interpret.narrative import stated_figures

    narratives = cells["narratives"].filter(pl.col("section").is_in(rule.sections))
    stated = [
        {"report_id": rid, "figure": code, "stated": n, "cell": cell, "words": words, "alt": alt}
        for rid, text in narratives.select("report_id", "text").iter_rows()
        for code, n, sums, words in stated_figures(text or "")
        for alt, names in enumerate(sums)
        for cell in names
    ]
    table = pl.concat(
        [_cell_frame(d, cells[d]).select("report_id", "cell", "number") for d in ("applications", "reviews_litigation")]
    )
    if not stated:
        return pl.DataFrame(
            schema={
                "report_id": pl.String,
                "cells": pl.List(pl.String),
                "expected": pl.String,
                "observed": pl.String,
                "message": pl.String,
                "left": pl.Float64,
                "right": pl.Float64,
            }
        )
    f = (
        pl.DataFrame(stated, schema_overrides={"stated": pl.Float64})
        .join(table, on=["report_id", "cell"], how="left")
        .group_by(["report_id", "figure", "words", "alt"], maintain_order=True)
        .agg(pl.col("stated").first(), pl.col("cell"), _known_sum(pl.col("number")).alias("table"))
        # where the words may state several sums, the one they equal (else the first) is compared
        .with_columns(miss=(pl.col("table") != pl.col("stated")).fill_null(True))
        .sort(["miss", "alt"], maintain_order=True)
        .group_by(["report_id", "figure", "words"], maintain_order=True)
        .first()
    )
    return f.select(
        "report_id",
        cells=pl.col("cell"),
        expected=_fmt(pl.col("table")),
        observed=_fmt(pl.col("stated")),
        message=pl.format(
            'the text says "{}" ({}), the table {}', pl.col("words"), _fmt(pl.col("stated")), _fmt(pl.col("table"))
        ),
        left=pl.col("stated"),
        right=pl.col("table"),
    )


def _known_sum(number: pl.Expr) -> pl.Expr:
    """The cells' sum, unknown (null) where one is blank or beyond its column (±inf): the rules
    about those cells report them, the sums do not guess."""
    return pl.when(number.is_null().any() | number.is_infinite().any()).then(None).otherwise(number.sum())


def _fmt(x: pl.Expr) -> pl.Expr:
    """A sum as text: 3 rather than 3.0. (No map_elements: Python callbacks from polars' threads
    deadlock against the other batches' threads.) Both branches are computed for every row: the
    cast to Int64 must not be strict (a figure stated in words may be any size)."""
    whole = (x == x.round(0)) & (x.abs() < 2**53)
    return pl.when(whole).then(x.cast(pl.Int64, strict=False).cast(pl.String)).otherwise(x.cast(pl.String))
