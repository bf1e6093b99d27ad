"""Indicators, peers and data quality: what each report's numbers say, computed after publishing.

    from nianbao import indicators
    indicators.compute("data/warehouse")               # every current report
    indicators.compute("s3://bucket/wh", report_ids)   # the agencies of a run's reports
    indicators.definitions()                           # template.toml's [[indicators]], as data

`compute(warehouse, report_ids=None)` writes, for the agencies of the reports named (None: every
report), in every year they report, three datasets (columns in nianbao/schema.py, DERIVED):
- `indicators`: one row per current, valid report and indicator: the sums of the indicator's
  numerator and denominator cells and their ratio, `value`, null when the denominator is 0 or a
  cell is missing (never 0). Definitions are data (template.toml [[indicators]]).
- `peers`: one row per such report, indicator and peer group (the reports of the same year whose
  agencies, in the `agencies` dataset, share a level and a province, `province:32:county`, or a
  level and a prefecture, `prefecture:3208:county`): how many are ranked, this report's rank
  (0 = lowest), their median, and the Wilson 95% interval of a rate. A report below the
  indicator's smallest denominator is shown, never ranked.
- `quality`: one row per current report (whatever its status) and problem of template.toml
  [[quality]] (arithmetic, cross_year, late, copied, text_mismatch, unread_cells): its findings of
  those rules counted, with the rule_ids that link them (`findings` by report_id and rule_id).
Current: `reports.superseded_by` is null (a warehouse without that column: every report).

Each dataset is one file per year, WAREHOUSE/<dataset>/year=Y/<dataset>.parquet, rewritten whole
(atomically, under the warehouse's lock or lease) only when its rows change: the stage is
idempotent and gives the same rows whatever order reports were ingested in. Peers are ranked
afresh over the whole year of every year a run touched. Folder or s3:// alike.

Versions: an indicator's `version` is raised whenever its formula changes. A year whose
`indicators` hold any other version of a definition is computed again whole (whatever the run
touched), and its rows of the earlier version move, unchanged, to `indicators_previous` (key:
report_id, indicator, definition_version): old numbers are never changed silently, nor dropped.
"""
from __future__ import annotations

import math

import polars as pl

from nianbao import storage
from nianbao.agencies import agency_rows
from nianbao.publish import locked, partition_dir, write_atomic
from nianbao.schema import CELL_KEYS, DERIVED, DERIVED_KEYS, PARTITION, schema
from nianbao.template import Indicator, Problem, template
from nianbao.warehouse import scan

Z = 1.959963984540054  # the normal quantile of a two-sided 95% interval
OUTPUTS = ("indicators", "peers", "quality")


def definitions() -> list[Indicator]:
    """The indicators, as template.toml defines them."""
    return template().indicators


def problems() -> list[Problem]:
    """The data-quality problems, as template.toml defines them."""
    return template().problems


def compute(warehouse, report_ids: list[str] | None = None) -> dict[str, int]:
    """Compute and write `indicators`, `peers` and `quality` for the agencies of `report_ids` (None:
    every report), in every year those agencies report, plus any year whose indicators are of an
    earlier definition version. Returns the rows each dataset now holds for the years written."""
    root = storage.path(warehouse)
    written = {name: 0 for name in (*OUTPUTS, "years")}
    if report_ids is not None and not report_ids:
        return written
    with locked(root):
        reports = _reports(root)
        if report_ids is None:
            todo, years = None, set(reports[PARTITION].to_list()) | _years_held(root)
        else:
            named = pl.Series(report_ids, dtype=pl.String).implode()
            agencies = reports.filter(pl.col("report_id").is_in(named))["agency_id"].drop_nulls().unique().implode()
            mine = reports.filter(pl.col("report_id").is_in(named) | pl.col("agency_id").is_in(agencies))
            todo, years = set(mine["report_id"].to_list()) | set(report_ids), set(mine[PARTITION].to_list())
        stale = _stale_years(root)
        places = _places(root, reports)
        for year in sorted(years | stale, key=lambda y: (y is None, y or 0)):
            year_reports = reports.filter(pl.col(PARTITION).is_null() if year is None else pl.col(PARTITION) == year)
            counts = _year(root, year, year_reports, None if year in stale else todo, places)
            for name, n in counts.items():
                written[name] += n
            written["years"] += 1
        if storage.is_remote(root):
            root.sweep([*DERIVED])  # versions this stage superseded more than the grace ago
    return written


def _reports(root) -> pl.DataFrame:
    lf = scan("reports", root)
    current = pl.col("superseded_by").is_null() if "superseded_by" in lf.collect_schema().names() else pl.lit(True)
    return lf.select("report_id", PARTITION, "agency_id", "agency", "region_code", "status", "published_on",
                     current=current).collect()


def _year(root, year: int | None, reports: pl.DataFrame, todo: set[str] | None, places: pl.DataFrame) -> dict[str, int]:
    """One year's three files, for the reports `todo` (None: all of them)."""
    current = reports.filter(pl.col("current"))
    valid = current.filter(pl.col("status") == "valid").select("report_id", "agency_id")
    old = _read(root, "indicators", year)
    versions = {d.id: d.version for d in definitions()}
    outdated = old.filter(pl.col("definition_version") != pl.col("indicator").replace_strict(
        versions, default=None, return_dtype=pl.Int32).fill_null(-1))
    if outdated.height:
        kept = _read(root, "indicators_previous", year)
        _write(root, "indicators_previous", year, pl.concat([kept, outdated]).unique(
            DERIVED_KEYS["indicators_previous"], keep="first", maintain_order=True), True, kept)
    if todo is None:
        rows = indicator_rows(root, year, valid)
        quality = quality_rows(root, year, current.select("report_id", "agency_id"))
    else:
        ids = pl.Series(sorted(todo), dtype=pl.String).implode()
        redo = pl.col("report_id").is_in(ids)
        rows = pl.concat([old.filter(pl.col("report_id").is_in(valid["report_id"].implode()) & ~redo),
                          indicator_rows(root, year, valid.filter(redo))])
        quality = pl.concat([_read(root, "quality", year).filter(
                                 pl.col("report_id").is_in(current["report_id"].implode()) & ~redo),
                             quality_rows(root, year, current.filter(redo).select("report_id", "agency_id"))])
    peers, some = peer_rows(rows, places), valid.height > 0
    return {"indicators": _write(root, "indicators", year, rows, some, old),
            "peers": _write(root, "peers", year, peers, some),
            "quality": _write(root, "quality", year, quality, current.height > 0)}


# ------------------------------------------------------------------ indicators

def _terms() -> pl.DataFrame:
    """(indicator, side, cell, sign, optional): every cell of every definition. Optional: a row of
    one template edition only, which counts where the report prints it and is no gap where not."""
    versions = template().versions
    one_edition = lambda cell: (cell.startswith("applications:")  # noqa: E731
                                and len(versions["rows"].get(cell.split(":")[1].split("/")[0], ())) == 1)
    rows = [(d.id, side, cell, sign, one_edition(cell))
            for d in definitions() for side in ("numerator", "denominator") for cell, sign in d.terms(side)]
    return pl.DataFrame(rows, schema={"indicator": pl.String, "side": pl.String, "cell": pl.String,
                                      "sign": pl.Float64, "optional": pl.Boolean}, orient="row")


def _cells(root, year: int | None, ids: pl.Series | None, wanted: list[str]) -> pl.DataFrame:
    """(report_id, cell, number) of the cells `wanted` (dataset:row/column) of one year."""
    out = []
    for dataset in sorted({c.split(":")[0] for c in wanted}):
        a, b = CELL_KEYS[dataset]
        keys = [c.split(":")[1].split("/") for c in wanted if c.startswith(f"{dataset}:")]
        lf = scan(dataset, root).filter(
            (pl.col(PARTITION).is_null() if year is None else pl.col(PARTITION) == year)
            & pl.col(a).is_in(sorted({k[0] for k in keys})) & pl.col(b).is_in(sorted({k[1] for k in keys})))
        if ids is not None:
            lf = lf.filter(pl.col("report_id").is_in(ids.implode()))
        out.append(lf.select("report_id", cell=pl.concat_str(pl.lit(f"{dataset}:"), a, pl.lit("/"), b),
                             number=pl.col("value").cast(pl.Float64)).collect())
    return pl.concat(out).filter(pl.col("cell").is_in(wanted))


def indicator_rows(root, year: int | None, valid: pl.DataFrame) -> pl.DataFrame:
    """`indicators` rows of the reports `valid` (report_id, agency_id) of one year."""
    terms = _terms()
    defs = pl.DataFrame([(d.id, d.version, d.unit == "count") for d in definitions()],
                        schema={"indicator": pl.String, "definition_version": pl.Int32, "count": pl.Boolean},
                        orient="row")
    cells = _cells(root, year, valid["report_id"], terms["cell"].unique().sort().to_list())
    required = terms.group_by("indicator", "side").agg(required=(~pl.col("optional")).sum())
    sums = (cells.join(terms, on="cell").group_by("report_id", "indicator", "side")
            .agg(total=(pl.col("number") * pl.col("sign")).sum(), blank=pl.col("number").is_null().any(),
                 present=(~pl.col("optional")).sum())
            .join(required, on=["indicator", "side"])
            # a blank cell, or a cell of both editions the report lacks: the sum is unknown
            .select("report_id", "indicator", "side",
                    total=pl.when(pl.col("blank") | (pl.col("present") < pl.col("required"))).then(None)
                    .otherwise(pl.col("total"))))
    side = lambda name: (sums.filter(pl.col("side") == name)  # noqa: E731
                         .select("report_id", "indicator", pl.col("total").alias(name)))
    num, den = pl.col("numerator"), pl.col("denominator")
    return (valid.join(defs, how="cross")
            .join(side("numerator"), on=["report_id", "indicator"], how="left")
            .join(side("denominator"), on=["report_id", "indicator"], how="left")
            .with_columns(pl.lit(year, dtype=pl.Int16).alias(PARTITION))
            .with_columns(value=pl.when(pl.col("count")).then(num)
                          .when(den.is_null() | (den == 0)).then(None).otherwise(num / den))
            .select(schema("indicators").names))


# ------------------------------------------------------------------ peers

def _places(root, reports: pl.DataFrame) -> pl.DataFrame:
    """(agency_id, level, region_code) of every agency the reports name: the `agencies` dataset's,
    and for agencies it does not hold yet (the checks across years write it), resolved here."""
    path = root / "agencies" / "agencies.parquet"
    known = (pl.from_arrow(storage.read_table(path, columns=["agency_id", "level", "region_code"]))
             if path.exists() else pl.DataFrame(schema={"agency_id": pl.String, "level": pl.String,
                                                        "region_code": pl.String}))
    missing = reports.filter(pl.col("agency_id").is_not_null() & ~pl.col("agency_id").is_in(known["agency_id"].implode()))
    if missing.height:
        known = pl.concat([known, agency_rows(missing).select(known.columns)])
    return known


def wilson(x: float, n: float) -> tuple[float, float] | tuple[None, None]:
    """The Wilson score 95% interval of x successes in n (None, None where it is not defined)."""
    if n is None or x is None or n <= 0 or not 0 <= x <= n:
        return None, None
    p, z2 = x / n, Z * Z
    centre, half = (p + z2 / (2 * n)) / (1 + z2 / n), Z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _wilson(x: pl.Expr, n: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """wilson() over columns."""
    p, z2 = x / n, Z * Z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z * (p * (1 - p) / n + z2 / (4 * n * n)).sqrt() / (1 + z2 / n)
    ok = (n > 0) & (x >= 0) & (x <= n)
    return (pl.when(ok).then(pl.max_horizontal(centre - half, pl.lit(0.0))),
            pl.when(ok).then(pl.min_horizontal(centre + half, pl.lit(1.0))))


def peer_rows(rows: pl.DataFrame, places: pl.DataFrame) -> pl.DataFrame:
    """`peers` rows of a whole year's `indicators` rows, agencies placed by `places`."""
    defs = pl.DataFrame([(d.id, float(d.min_denominator), d.unit) for d in definitions()],
                        schema={"indicator": pl.String, "min_denominator": pl.Float64, "unit": pl.String},
                        orient="row")
    placed = (rows.join(places, on="agency_id", how="inner")
              .filter(pl.col("level").is_not_null() & pl.col("region_code").str.contains(r"^\d{6}$")))
    code = pl.col("region_code")
    grouped = pl.concat([
        placed.with_columns(peer_group=pl.concat_str(pl.lit("province:"), code.str.slice(0, 2), pl.lit(":"), "level")),
        placed.filter(code.str.slice(2, 2) != "00")
        .with_columns(peer_group=pl.concat_str(pl.lit("prefecture:"), code.str.slice(0, 4), pl.lit(":"), "level")),
    ]).join(defs, on="indicator")
    ranked = pl.col("value").is_not_null() & ((pl.col("unit") == "count") | (pl.col("denominator") >= pl.col("min_denominator")))
    group = ["indicator", "peer_group"]
    low, high = _wilson(pl.col("numerator"), pl.col("denominator"))
    rate = pl.col("unit") == "rate"
    return (grouped.with_columns(ranked=ranked)
            .with_columns(v=pl.when("ranked").then(pl.col("value")))
            .with_columns(peers=pl.col("ranked").sum().over(group).cast(pl.Int32),
                          rank=pl.col("v").rank("average").over(group),
                          peer_median=pl.col("v").median().over(group))
            .with_columns(rank_pct=pl.when(pl.col("ranked") & (pl.col("peers") > 1))
                          .then((pl.col("rank") - 1) / (pl.col("peers") - 1)),
                          low=pl.when(rate).then(low), high=pl.when(rate).then(high))
            .select(schema("peers").names))


# ------------------------------------------------------------------ data quality

def quality_rows(root, year: int | None, current: pl.DataFrame) -> pl.DataFrame:
    """`quality` rows of the reports `current` (report_id, agency_id) of one year."""
    probs = problems()
    rules = pl.DataFrame([(r, p.code) for p in probs for r in p.rules], schema=["rule_id", "problem"], orient="row")
    found = (scan("findings", root)
             .filter((pl.col(PARTITION).is_null() if year is None else pl.col(PARTITION) == year)
                     & pl.col("rule_id").is_in(rules["rule_id"].to_list())
                     & pl.col("report_id").is_in(current["report_id"].implode()))
             .select("report_id", "rule_id").collect()
             .join(rules, on="rule_id")
             .group_by("report_id", "problem").agg(findings=pl.len().cast(pl.Int32),
                                                   rule_ids=pl.col("rule_id").unique().sort()))
    grid = current.join(pl.DataFrame({"problem": [p.code for p in probs]}), how="cross")
    return (grid.join(found, on=["report_id", "problem"], how="left")
            .with_columns(pl.lit(year, dtype=pl.Int16).alias(PARTITION), findings=pl.col("findings").fill_null(0),
                          rule_ids=pl.col("rule_ids").fill_null([]))
            .select(schema("quality").names))


# ------------------------------------------------------------------ files

def _path(root, dataset: str, year: int | None):
    return partition_dir(root, dataset, year) / f"{dataset}.parquet"


def _read(root, dataset: str, year: int | None) -> pl.DataFrame:
    path = _path(root, dataset, year)
    file_schema = schema(dataset, with_partition=False)
    table = storage.read_table(path, schema=file_schema) if path.exists() else file_schema.empty_table()
    return _frame(dataset, pl.from_arrow(table).with_columns(pl.lit(year, dtype=pl.Int16).alias(PARTITION)))


def _frame(dataset: str, df: pl.DataFrame) -> pl.DataFrame:
    """`df` with the dataset's columns and types, sorted by its key: equal rows, equal frames."""
    want = pl.from_arrow(schema(dataset).empty_table()).schema
    return df.select([pl.col(c).cast(t) for c, t in want.items()]).sort(DERIVED_KEYS[dataset])


def _write(root, dataset: str, year: int | None, df: pl.DataFrame, keep: bool, old: pl.DataFrame | None = None) -> int:
    """One year's file of `dataset` is `df`; written only when its rows change. `keep`: the year
    has reports, so its file stays even with no rows (a reader's glob finds the dataset); else removed."""
    df, path = _frame(dataset, df), _path(root, dataset, year)
    exists = path.exists()
    if not (df.height or keep):
        if exists:
            path.unlink(missing_ok=True)
        return 0
    if not (exists and df.equals(_read(root, dataset, year) if old is None else _frame(dataset, old))):
        write_atomic(df.drop(PARTITION).to_arrow().cast(schema(dataset, with_partition=False)), path)
    return df.height


def _years_held(root) -> set[int | None]:
    return set(scan("indicators", root).select(PARTITION).unique().collect()[PARTITION].to_list())


def _stale_years(root) -> set[int | None]:
    """Years whose `indicators` rows are not exactly the current definitions' versions."""
    current = {(d.id, d.version) for d in definitions()}
    held = scan("indicators", root).select(PARTITION, "indicator", "definition_version").unique().collect()
    return {year for (year,), part in held.group_by([PARTITION])
            if set(zip(part["indicator"], part["definition_version"])) != current}
