"""Checks across reports: a stage after publishing, over the warehouse.

For the agencies a run touched, every report is compared with its agency's report of the year
before (exactly N-1: never across a gap) by the template's `stage = "across"` rules, judged by
their Great Expectations suites like every other rule. The findings of every report re-checked
are replaced in WAREHOUSE/findings/year=<Y>/across.parquet (one file per year, rewritten
atomically), so the stage is idempotent and gives the same findings whatever order the years
were ingested in. The `agencies` dataset is refreshed in the same pass.
"""

from __future__ import annotations

import functools
import operator

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from nianbao import warehouse
from nianbao.check import validate
from nianbao.check.rules import _fmt
from nianbao.interpret.agencies import AGENCIES_SCHEMA, agency_rows
from nianbao.interpret.narrative import passages
from nianbao.model.schema import CELL_KEYS, PARTITION, schema
from nianbao.model.template import ChainRule, CopiedRule, Rule, template
from nianbao.warehouse import index, storage
from nianbao.warehouse.publish import locked, partition_dir, write_atomic

FILE = "across.parquet"
AGENCIES_FILE = "agencies/agencies.parquet"


def rules() -> list[Rule]:
    return [r for r in template().rules if r.stage == "across"]


def _scan(root, dataset: str, quarantine: bool = True) -> pl.LazyFrame:
    """A dataset (and its quarantine), from a folder or a bucket alike (nianbao/warehouse/read.py)."""
    frames = [warehouse.scan(dataset, root)] + ([warehouse.scan(dataset, root, quarantine=True)] if quarantine else [])
    return pl.concat(frames)


def check(root, report_ids: pl.Series | list[str] | None, run_id: str) -> pl.DataFrame:
    """Re-check the agencies of `report_ids` (None: every agency) in the warehouse `root` (a folder
    or s3://bucket/prefix); return the findings written.

    Memory follows the agencies touched, not the warehouse: the `reports` files are streamed for
    the agencies the ids name, then read for those agencies' reports only (issue 24 item 7). The
    ids are joined, hashed once: `is_in` of a run's 100,000 ids hashed them again as each file was
    read (+22 MiB at the stage's peak, +11 joined)."""
    root = storage.path(root)
    if report_ids is not None:  # a run's ids held once, as a column (100,000 Python strings are ~15 MiB)
        report_ids = pl.Series("report_id", report_ids, pl.String)
    with locked(root):
        versions = _scan(root, "reports", quarantine=False)  # every version: superseded ones too
        if versions.head(1).collect().height == 0:
            return pl.from_arrow(schema("findings").empty_table())
        # one pass over the agencies' column: those the ids touch, and those a current report names
        placed = versions.filter(pl.col("agency_id").is_not_null())
        if report_ids is None:
            named = pl.lit(True)
        else:  # and the agencies of the versions they superseded (a fix may name another agency)
            run = pl.LazyFrame([report_ids])
            placed = placed.join(run.select("report_id", named=pl.lit(True)), on="report_id", how="left").join(
                run.select(superseded_by="report_id", superseding=pl.lit(True)), on="superseded_by", how="left"
            )
            named = pl.col("named").is_not_null() | pl.col("superseding").is_not_null()
        agencies = (
            placed.group_by("agency_id")
            .agg(touched=named.any(), live=pl.col("superseded_by").is_null().any())
            .collect(engine="streaming")
        )
        touched = agencies.filter("touched")["agency_id"].implode()
        theirs = (
            versions.filter(pl.col("agency_id").is_in(touched))
            .select(
                "report_id", PARTITION, "agency_id", "agency", "region_code", "status", "published_on", "superseded_by"
            )
            .collect(engine="streaming")
        )
        # current reports only: a superseded or forgotten one is compared with nothing, and loses its own
        mine = theirs.filter(pl.col("superseded_by").is_null()).drop("superseded_by")
        findings = findings_for(root, mine, run_id, every=report_ids is None)
        # the reports re-checked, those retired, and those the run named that are no longer linked to any agency
        checked = [theirs["report_id"]] + ([report_ids] if report_ids is not None else [])
        # on S3 the index is told the data changes (it lists again until a publish writes it anew)
        index.writing(root)
        _replace_findings(root, checked, findings)
        _refresh_agencies(root, mine, touched, agencies.filter("live")["agency_id"].implode())
    return findings


def findings_for(root, mine: pl.DataFrame, run_id: str, every: bool = False) -> pl.DataFrame:
    """The across-years findings of the current reports `mine` (agency_id, year, status, report_id);
    `every`: they are all the warehouse's (the cells are then read without asking for each id)."""
    pairs = _pairs(mine)
    out = []
    ids = None if every else pl.concat([pairs["report_id"], pairs["last_id"]]).unique().implode()
    for rule in rules():
        if pairs.height == 0:
            break
        if rule.kind == "chain":
            frame = _chain_frame(rule, root, pairs, ids)
        elif rule.kind == "copied":
            frame = _copied_frame(rule, root, pairs)
        else:
            raise ValueError(f"unknown across-years rule kind {rule.kind!r}")
        for report_id, f in validate.run_suite(rule, frame):
            out.append(f.row(report_id, None) | {"run_id": run_id})
    found = pl.from_arrow(pa.Table.from_pylist(out, schema=schema("findings")))
    years = mine.select("report_id", pl.col(PARTITION).cast(pl.Int16).alias("y"))
    return (
        found.drop(PARTITION)
        .join(years, on="report_id", how="left")
        .rename({"y": PARTITION})
        .select(schema("findings").names)
    )


def _pairs(mine: pl.DataFrame) -> pl.DataFrame:
    """(report_id, last_id): each report with its agency's report of the year before. Where an
    agency has several reports for a year, the one compared against is chosen by content (valid
    first, then the smallest report_id), never by the order they were ingested in."""
    ranked = mine.filter(pl.col(PARTITION).is_not_null()).with_columns(
        rank=pl.when(pl.col("status") == "valid").then(0).otherwise(1)
    )
    last = (
        ranked.sort(["rank", "report_id"])
        .group_by(["agency_id", PARTITION])
        .first()
        .select(
            "agency_id",
            (pl.col(PARTITION) + 1).alias(PARTITION),
            last_id=pl.col("report_id"),
            last_year=pl.col(PARTITION),
        )
    )
    return ranked.join(last, on=["agency_id", PARTITION], how="inner").select("report_id", "last_id", "last_year")


def _cells(root, dataset: str, ids: pl.Series | None, codes: list[str], along: str) -> pl.DataFrame:
    lf = _scan(root, dataset)
    a, b = CELL_KEYS[dataset]
    if ids is not None:
        lf = lf.filter(pl.col("report_id").is_in(ids))
    return (
        lf.filter(pl.col(along).is_in(codes))
        .select("report_id", a, b, number=pl.col("value").cast(pl.Float64))
        .collect()
    )


def _chain_frame(rule: ChainRule, root, pairs: pl.DataFrame, ids: pl.Series | None) -> pl.DataFrame:
    dataset, along, per = rule.dataset, rule.along, rule.per
    a, b = CELL_KEYS[dataset]
    signs = lambda codes: {c.lstrip("-"): (-1.0 if c.startswith("-") else 1.0) for c in codes}  # noqa: E731
    this_signs, last_signs = signs(rule.this), signs(rule.last)
    cells = _cells(root, dataset, ids, sorted(set(this_signs) | set(last_signs)), along)
    if rule.only is not None:
        cells = cells.filter(pl.col(per).is_in(rule.only))

    def side(sign: dict[str, float], name: str) -> pl.DataFrame:
        return (
            cells.filter(pl.col(along).is_in(list(sign)))
            .with_columns(number=pl.col("number") * pl.col(along).replace_strict(sign, return_dtype=pl.Float64))
            .group_by(["report_id", per])
            # a blank cell leaves the sum unknown (cells.complete says so), a missing one too
            .agg(
                pl.when(pl.col("number").is_null().any() | (pl.len() < len(sign)))
                .then(None)
                .otherwise(pl.col("number").sum())
                .alias(name)
            )
        )

    # the cells named are this year's: dataset:row/column
    named = [
        pl.format(f"{dataset}:{code}/{{}}", pl.col(per))
        if along == a
        else pl.format(f"{dataset}:{{}}/{code}", pl.col(per))
        for code in this_signs
    ]
    this, last = side(this_signs, "left"), side(last_signs, "right").rename({"report_id": "last_id"})
    f = pairs.join(this, on="report_id").join(last, on=["last_id", per]).sort(["report_id", per])
    formula = lambda codes: " + ".join(codes).replace("+ -", "- ")  # noqa: E731
    return f.select(
        "report_id",
        cells=pl.concat_list(named),
        expected=_fmt(pl.col("right")),
        observed=_fmt(pl.col("left")),
        message=pl.format(
            f"{rule.id} ({per} {{}}): {formula(rule.this)} = {{}}, but the {{}} report's "
            f"{formula(rule.last)} = {{}} (report {{}})",
            pl.col(per),
            _fmt(pl.col("left")),
            pl.col("last_year"),
            _fmt(pl.col("right")),
            pl.col("last_id").str.slice(0, 12),
        ),
        left=pl.col("left"),
        right=pl.col("right"),
    )


def _copied_frame(rule: CopiedRule, root, pairs: pl.DataFrame) -> pl.DataFrame:
    """Per report: the share of its passages (numbers and boilerplate left out) that its agency's
    previous report also prints. Boilerplate: passages that at least `boilerplate_agencies`
    agencies print in the same year, counted over every report the warehouse holds for that year."""
    empty = pl.DataFrame(
        schema={
            "report_id": pl.String,
            "cells": pl.List(pl.String),
            "expected": pl.String,
            "observed": pl.String,
            "message": pl.String,
            "similarity": pl.Float64,
        }
    )
    years = pl.concat([pairs["last_year"], pairs["last_year"] + 1]).unique().cast(pl.Int16).implode()
    rows = (
        _scan(root, "narratives")
        .filter(pl.col("section").is_in(rule.sections) & pl.col(PARTITION).is_in(years))
        .select("report_id", PARTITION, "text")
        .collect()
    )
    if rows.height == 0:
        return empty
    # every current report's agency in those years (boilerplate is counted over them all)
    agencies = (
        _scan(root, "reports", quarantine=False)
        .filter(pl.col(PARTITION).is_in(years) & pl.col("superseded_by").is_null())
        .select("report_id", "agency_id")
        .collect(engine="streaming")
    )
    # passages travel as 64-bit hashes, reports and agencies as integers: 150,000 reports' text stays cheap
    rows = rows.join(agencies, on="report_id", how="left").with_columns(
        rid=pl.col("report_id").rank("dense").cast(pl.UInt32), aid=pl.col("agency_id").rank("dense").cast(pl.UInt32)
    )
    p = passages(rows["text"], rule.passage, rule.sample)
    rows = rows.drop("text")
    text = p.select("passage", *(rows[c].gather(p["row"]) for c in ("rid", PARTITION, "aid"))).unique()
    shared = (
        text.group_by([PARTITION, "passage"])
        .agg(pl.col("aid").n_unique())
        .filter(pl.col("aid") >= rule.boilerplate_agencies)
        .select(PARTITION, "passage")
    )
    own = text.join(shared, on=[PARTITION, "passage"], how="anti").select("rid", "passage")
    rid = rows.select("report_id", "rid").unique()
    this = (
        pairs.join(rid, on="report_id")
        .join(rid.rename({"report_id": "last_id", "rid": "last_rid"}), on="last_id")
        .join(own, on="rid")
    )
    last = own.select(last_rid="rid", passage="passage", seen=pl.lit(True))
    f = (
        this.join(last, on=["last_rid", "passage"], how="left")
        .group_by("report_id", "last_id", "last_year")
        .agg(total=pl.len(), same=pl.col("seen").is_not_null().sum())
        .filter(pl.col("total") * rule.sample >= rule.min_chars)
        .sort("report_id")
    )
    if f.height == 0:
        return empty
    share = pl.col("same") / pl.col("total")
    pct = (share * 100).round(0).cast(pl.Int64).cast(pl.String)
    return f.select(
        "report_id",
        cells=pl.concat_list(pl.lit([f"narratives:{s}" for s in rule.sections])),
        expected=pl.lit(f"at most {round(rule.max * 100)}% of the text as the year before"),
        observed=pl.format("{}% ({} of {} passages)", pct, pl.col("same"), pl.col("total")),
        message=pl.format(
            "sections {} repeat {}% of the text of the same agency's {} report {} (passages of "
            f"{rule.passage} characters, one in {rule.sample} sampled; numbers and boilerplate "
            "left out)",
            pl.lit("/".join(rule.sections)),
            pct,
            pl.col("last_year"),
            pl.col("last_id").str.slice(0, 12),
        ),
        similarity=share,
    )


def _replace_findings(root, checked: list[pl.Series], findings: pl.DataFrame) -> None:
    """Every across-years finding of the `checked` reports (any of those columns of ids) is replaced by
    `findings`, and their `reports` rows' counts of findings by severity follow. The ids (a run's:
    100,000) are only looked up, never copied: a file's findings are few, the reports a run names many."""
    file_schema = schema("findings", with_partition=False)
    paths = {p for p in (root / "findings").glob(f"{PARTITION}=*/{FILE}")}
    new: dict = {}  # path -> its new table
    for (year,), part in findings.group_by([PARTITION]):
        path = partition_dir(root, "findings", year) / FILE
        new[path] = part.to_arrow().select(file_schema.names).cast(file_schema)
        paths.add(path)
    delta: dict[tuple[str, str], int] = {}  # (report_id, severity) -> findings added less removed
    for rid, severity in zip(findings["report_id"], findings["severity"]):
        delta[rid, severity] = delta.get((rid, severity), 0) + 1
    for path in sorted(paths):
        old = storage.read_table(path, schema=file_schema) if path.exists() else file_schema.empty_table()
        held = pl.from_arrow(old["report_id"])
        # the file's few ids hashed, the run's many only probed against them
        hit = functools.reduce(operator.or_, (held.is_in(ids.filter(ids.is_in(held))) for ids in checked))
        hit = hit.to_arrow()
        kept, gone = old.filter(pc.invert(hit)), old.filter(hit)
        for rid, severity in zip(gone["report_id"].to_pylist(), gone["severity"].to_pylist()):
            delta[rid, severity] = delta.get((rid, severity), 0) - 1
        table = pa.concat_tables([kept, new.get(path, file_schema.empty_table())])
        if table.num_rows == old.num_rows == kept.num_rows and path not in new:
            continue
        if table.num_rows == 0:
            path.unlink(missing_ok=True)
            continue
        write_atomic(table.sort_by([("report_id", "ascending"), ("rule_id", "ascending")]), path)
    _recount(root, {k: v for k, v in delta.items() if v})


def _recount(root, delta: dict[tuple[str, str], int]) -> None:
    """Add the change in each report's across-years findings to its error_count / warning_count."""
    if not delta:
        return
    file_schema = schema("reports", with_partition=False)
    change = (
        pl.DataFrame(
            [(rid, sev, n) for (rid, sev), n in delta.items()],
            orient="row",
            schema={"report_id": pl.String, "severity": pl.String, "n": pl.Int32},
        )
        .group_by("report_id")
        .agg(
            d_error=pl.col("n").filter(pl.col("severity") == "error").sum(),
            d_warning=pl.col("n").filter(pl.col("severity") == "warning").sum(),
        )
    )
    ids = pa.array(change["report_id"].to_list(), pa.string())
    for path in sorted((root / "reports").glob(f"{PARTITION}=*/*.parquet")):
        if not pc.any(pc.is_in(storage.read_table(path, columns=["report_id"])["report_id"], value_set=ids)).as_py():
            continue
        rows = pl.from_arrow(storage.read_table(path, schema=file_schema)).join(change, on="report_id", how="left")
        rows = rows.with_columns(
            error_count=pl.col("error_count") + pl.col("d_error").fill_null(0),
            warning_count=pl.col("warning_count") + pl.col("d_warning").fill_null(0),
        )
        write_atomic(rows.select(file_schema.names).to_arrow().cast(file_schema), path)


def _refresh_agencies(root, mine: pl.DataFrame, touched: pl.Series, live: pl.Series) -> None:
    """Rows of the touched agencies rebuilt from their current reports `mine`; agencies no current
    report names (not `live`) dropped."""
    path = root / AGENCIES_FILE
    old = pl.from_arrow(storage.read_table(path) if path.exists() else AGENCIES_SCHEMA.empty_table())
    table = pl.concat(
        [old.filter(~pl.col("agency_id").is_in(touched) & pl.col("agency_id").is_in(live)), agency_rows(mine)]
    ).sort("agency_id")
    write_atomic(table.to_arrow().cast(AGENCIES_SCHEMA), path)
