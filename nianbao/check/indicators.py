"""Indicators, peers and data quality: what each report's numbers say, computed after publishing.

    from nianbao.check import indicators
    indicators.compute("data/warehouse")               # every current report
    indicators.compute("s3://bucket/wh", report_ids)   # the agencies of a run's reports
    indicators.definitions()                           # template.toml's [[indicators]], as data

`compute(warehouse, report_ids=None)` writes, for the agencies of the reports named (None: every
report), in every year they report, three datasets (columns in nianbao/model/schema.py, DERIVED):
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

Each dataset is one file per year, WAREHOUSE/<dataset>/year=Y/<dataset>.parquet. A year touched
is computed whole from the warehouse (peers rank the whole year anyway), one indicator at a time,
and its file rewritten (atomically, under the warehouse's lock or lease) only where its bytes
change: the stage is idempotent and gives the same rows whatever order reports were ingested in.
Folder or s3:// alike.

Versions: an indicator's `version` is raised whenever its formula changes. A year whose
`indicators` hold any other version of a definition is computed again whole (whatever the run
touched), and its rows of the earlier version move, unchanged, to `indicators_previous` (key:
report_id, indicator, definition_version): old numbers are never changed silently, nor dropped.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from nianbao.interpret.agencies import agency_rows
from nianbao.model.schema import CELL_KEYS, DERIVED, DERIVED_KEYS, PARTITION, schema
from nianbao.model.template import Indicator, Problem, template
from nianbao.warehouse import scan, storage
from nianbao.warehouse.publish import locked, partition_dir

Z = 1.959963984540054  # the normal quantile of a two-sided 95% interval
OUTPUTS = ("indicators", "peers", "quality")
QUALITY_CHUNK = 2_000  # reports whose `quality` rows are made (and written) at once


def definitions() -> list[Indicator]:
    """The indicators, as template.toml defines them."""
    return template().indicators


def problems() -> list[Problem]:
    """The data-quality problems, as template.toml defines them."""
    return template().problems


def compute(warehouse, report_ids: pl.Series | list[str] | None = None) -> dict[str, int]:
    """Compute and write `indicators`, `peers` and `quality` for the agencies of `report_ids` (None:
    every report), in every year those agencies report, plus any year whose indicators are of an
    earlier definition version. Returns the rows each dataset now holds for the years written."""
    root = storage.path(warehouse)
    written = {name: 0 for name in (*OUTPUTS, "years")}
    if report_ids is not None and not len(report_ids):
        return written
    with locked(root):
        reports = _reports(root)  # lazy: each year's reports are read as it is computed
        if report_ids is None:
            years = set(reports.select(PARTITION).unique().collect()[PARTITION].to_list()) | _years_held(root)
        else:  # the ids joined as 64-bit hashes: a year a collision names too is computed anew all the same
            # (strings joined: +22-27 MiB at a 100,000-report run's end, hashes +8-9)
            run = pl.LazyFrame([pl.Series("report_id", report_ids, pl.String)]).select(h=pl.col("report_id").hash())
            named = reports.select(PARTITION, "agency_id", h=pl.col("report_id").hash())
            named = named.join(run, on="h", how="semi").select(PARTITION, "agency_id").unique()
            named = named.collect(engine="streaming")
            agencies = named["agency_id"].drop_nulls().unique().implode()
            theirs = reports.filter(pl.col("agency_id").is_in(agencies)).select(PARTITION).unique().collect()
            years = set(named[PARTITION].unique().to_list()) | set(theirs[PARTITION].to_list())
            del named, theirs
        stale = _stale_years(root)
        places = _places(root, reports.filter(pl.col("agency_id").is_not_null()).collect())
        for year in sorted(years | stale, key=lambda y: (y is None, y or 0)):
            if year in stale:
                _retire(root, year)
            # its current reports, in the key's order, held once (a year of 99,000 unreadable reports: 7 MB)
            current = (
                reports.filter(
                    (pl.col(PARTITION).is_null() if year is None else pl.col(PARTITION) == year) & pl.col("current")
                )
                .select("report_id", "agency_id", "status")
                .sort("report_id")
                .collect()
            )
            for name, n in _year(root, year, current, places).items():
                written[name] += n
            written["years"] += 1
        if storage.is_remote(root):
            root.sweep([*DERIVED])  # versions this stage superseded more than the grace ago
    return written


def _reports(root) -> pl.LazyFrame:
    lf = scan("reports", root)
    current = pl.col("superseded_by").is_null() if "superseded_by" in lf.collect_schema().names() else pl.lit(True)
    return lf.select(
        "report_id", PARTITION, "agency_id", "agency", "region_code", "status", "published_on", current=current
    )


def _year(root, year: int | None, current: pl.DataFrame, places: pl.DataFrame) -> dict[str, int]:
    """One year's three files, from all its current reports (sorted by report_id): peers rank the whole
    year anyway, and one indicator at a time is all that is held (a national year is millions of rows per file)."""
    valid = current.filter(pl.col("status") == "valid").select("report_id", "agency_id")
    frame = _cells_by_report(root, year, valid)
    groups = peer_groups(places)
    rows, peers = _File("indicators"), _File("peers")
    for d in definitions():
        one = _rows(frame, d, year)
        rows.add(one)
        peers.add(peer_rows(one, groups=groups))
    quality = _File("quality")
    for part in quality_rows(root, year, current.select("report_id", "agency_id")):
        quality.add(part)
    return {
        "indicators": rows.write(root, year, keep=valid.height > 0),
        "peers": peers.write(root, year, keep=valid.height > 0),
        "quality": quality.write(root, year, keep=current.height > 0),
    }


def _retire(root, year: int | None) -> None:
    """The year's `indicators` rows of a version no longer defined join `indicators_previous`,
    unchanged (those it holds already stay as they are)."""
    versions = {d.id: d.version for d in definitions()}
    outdated = (
        scan("indicators", root)
        .filter(pl.col(PARTITION).is_null() if year is None else pl.col(PARTITION) == year)
        .filter(
            pl.col("definition_version")
            != pl.col("indicator").replace_strict(versions, default=-1, return_dtype=pl.Int32)
        )
        .collect()
    )
    kept = (
        scan("indicators_previous", root)
        .filter(pl.col(PARTITION).is_null() if year is None else pl.col(PARTITION) == year)
        .collect()
    )
    previous = _File("indicators_previous")
    previous.add(pl.concat([kept, outdated]).unique(DERIVED_KEYS["indicators_previous"], keep="first"))
    previous.write(root, year, keep=True)


# ------------------------------------------------------------------ indicators


def _one_edition(cell: str) -> bool:
    """A row that one template edition prints only (2019's single （六）, 2021's three): it counts
    where the report prints it and is no gap where it does not."""
    dataset, _, key = cell.partition(":")
    return dataset == "applications" and len(template().versions["rows"].get(key.split("/")[0], ())) == 1


def _cells(root, year: int | None, ids: pl.Series | None, wanted: list[str]) -> pl.DataFrame:
    """(report_id, cell, number) of the cells `wanted` (dataset:row/column) of one year; a cell the
    report holds blank is NaN (one it lacks is no row)."""
    out = []
    for dataset in sorted({c.split(":")[0] for c in wanted}):
        a, b = CELL_KEYS[dataset]
        by_column: dict[str, set[str]] = {}
        for c in wanted:
            if c.startswith(f"{dataset}:"):
                row, column = c.split(":")[1].split("/")
                by_column.setdefault(column, set()).add(row)
        lf = scan(dataset, root).filter(
            (pl.col(PARTITION).is_null() if year is None else pl.col(PARTITION) == year)
            & pl.any_horizontal(
                [(pl.col(b) == column) & pl.col(a).is_in(sorted(rows)) for column, rows in by_column.items()]
            )
        )
        if ids is not None:
            lf = lf.filter(pl.col("report_id").is_in(ids.implode()))
        # a national year is millions of cells: ids and names held as categories, not strings
        out.append(
            lf.select(
                pl.col("report_id").cast(pl.Categorical),
                cell=pl.concat_str(pl.lit(f"{dataset}:"), a, pl.lit("/"), b).cast(pl.Enum(wanted)),
                number=pl.col("value").cast(pl.Float64).fill_null(float("nan")),
            ).collect(engine="streaming")
        )
    return pl.concat(out)


def _side(d: Indicator, side: str) -> pl.Expr:
    """The sum of one side's cells over a frame with a column per cell (null: the report lacks it,
    NaN: it holds it blank); null when a cell of both editions is lacking or any is blank."""
    terms = d.terms(side)
    if not terms:
        return pl.lit(None, pl.Float64)
    parts = [(pl.col(c).fill_null(0.0) if _one_edition(c) else pl.col(c)) * sign for c, sign in terms]
    total = parts[0]
    for part in parts[1:]:
        total = total + part
    if all(_one_edition(c) for c, _ in terms):  # none printed at all is no sum either
        total = pl.when(pl.any_horizontal([pl.col(c).is_not_null() for c, _ in terms])).then(total)
    return total.fill_nan(None)


def _cells_by_report(root, year: int | None, valid: pl.DataFrame) -> pl.DataFrame:
    """The reports `valid` (report_id, agency_id) with a column per cell any indicator names."""
    wanted = sorted({c for d in definitions() for side in ("numerator", "denominator") for c, _ in d.terms(side)})
    wide = (
        _cells(root, year, valid["report_id"], wanted)
        .pivot(on="cell", index="report_id", values="number", aggregate_function="first")
        .with_columns(pl.col("report_id").cast(pl.String))
    )
    wide = wide.with_columns(pl.lit(None, pl.Float64).alias(c) for c in wanted if c not in wide.columns)
    return valid.join(wide, on="report_id", how="left")


def _rows(frame: pl.DataFrame, d: Indicator, year: int | None) -> pl.DataFrame:
    """One indicator's `indicators` rows over `frame` (_cells_by_report)."""
    num, den = _side(d, "numerator"), _side(d, "denominator")
    value = num if d.unit == "count" else pl.when(den.is_null() | (den == 0)).then(None).otherwise(num / den)
    return frame.select(
        "report_id",
        "agency_id",
        pl.lit(year, pl.Int16).alias(PARTITION),
        indicator=pl.lit(d.id),
        value=value,
        numerator=num,
        denominator=den,
        definition_version=pl.lit(d.version, pl.Int32),
    )


# ------------------------------------------------------------------ peers


def _places(root, reports: pl.DataFrame) -> pl.DataFrame:
    """(agency_id, level, region_code) of every agency the reports name: the `agencies` dataset's,
    and for agencies it does not hold yet (the checks across years write it), resolved here."""
    path = root / "agencies" / "agencies.parquet"
    known = (
        pl.from_arrow(storage.read_table(path, columns=["agency_id", "level", "region_code"]))
        if path.exists()
        else pl.DataFrame(schema={"agency_id": pl.String, "level": pl.String, "region_code": pl.String})
    )
    missing = reports.filter(
        pl.col("agency_id").is_not_null() & ~pl.col("agency_id").is_in(known["agency_id"].implode())
    )
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
    return (
        pl.when(ok).then(pl.max_horizontal(centre - half, pl.lit(0.0))),
        pl.when(ok).then(pl.min_horizontal(centre + half, pl.lit(1.0))),
    )


def peer_groups(places: pl.DataFrame) -> pl.DataFrame:
    """(agency_id, peer_group): each placed agency's two groups, `province:32:county` (level and
    province) and `prefecture:3208:county` (level and prefecture; none for a province's own bodies)."""
    placed = places.filter(pl.col("level").is_not_null() & pl.col("region_code").str.contains(r"^\d{6}$"))
    code = pl.col("region_code")
    return pl.concat(
        [
            placed.select(
                "agency_id", peer_group=pl.concat_str(pl.lit("province:"), code.str.slice(0, 2), pl.lit(":"), "level")
            ),
            placed.filter(code.str.slice(2, 2) != "00").select(
                "agency_id", peer_group=pl.concat_str(pl.lit("prefecture:"), code.str.slice(0, 4), pl.lit(":"), "level")
            ),
        ]
    )


def peer_rows(
    rows: pl.DataFrame, places: pl.DataFrame | None = None, groups: pl.DataFrame | None = None
) -> pl.DataFrame:
    """`peers` rows of a whole year's `indicators` rows (of any indicators), agencies placed by
    `places` (agency_id, level, region_code) or already grouped (peer_groups(places))."""
    defs = pl.LazyFrame(
        [(d.id, float(d.min_denominator), d.unit) for d in definitions()],
        schema={"indicator": pl.String, "min_denominator": pl.Float64, "unit": pl.String},
        orient="row",
    )
    low, high = _wilson(pl.col("numerator"), pl.col("denominator"))
    rate = pl.col("unit") == "rate"
    ranked = pl.col("value").is_not_null() & (
        (pl.col("unit") == "count") | (pl.col("denominator") >= pl.col("min_denominator"))
    )
    # per report first (ranked or not, its interval), then once per group it belongs to
    mine = (
        rows.lazy()
        .join(defs, on="indicator")
        .select(
            "report_id",
            PARTITION,
            "agency_id",
            "indicator",
            v=pl.when(ranked).then(pl.col("value")),
            low=pl.when(rate).then(low),
            high=pl.when(rate).then(high),
        )
    )
    group = ["indicator", "peer_group"]
    groups = peer_groups(places) if groups is None else groups
    return (
        mine.join(groups.lazy(), on="agency_id")
        .with_columns(
            peers=pl.col("v").count().over(group).cast(pl.Int32),
            rank=pl.col("v").rank("average").over(group),
            peer_median=pl.col("v").median().over(group),
        )
        .with_columns(
            rank_pct=pl.when(pl.col("v").is_not_null() & (pl.col("peers") > 1)).then(
                (pl.col("rank") - 1) / (pl.col("peers") - 1)
            )
        )
        .select(schema("peers").names)
        .collect()
    )


# ------------------------------------------------------------------ data quality


def quality_rows(root, year: int | None, current: pl.DataFrame) -> Iterator[pl.DataFrame]:
    """`quality` rows of the reports `current` (report_id, agency_id) of one year, QUALITY_CHUNK
    reports at a time in the key's order: a year of 100,000 unreadable reports is 600,000 rows."""
    probs = problems()
    rules = pl.DataFrame([(r, p.code) for p in probs for r in p.rules], schema=["rule_id", "problem"], orient="row")
    found = (
        scan("findings", root)
        .filter(
            (pl.col(PARTITION).is_null() if year is None else pl.col(PARTITION) == year)
            & pl.col("rule_id").is_in(rules["rule_id"].to_list())
        )
        .select("report_id", "rule_id")
        .join(current.lazy().select("report_id"), on="report_id", how="semi")  # a year's ids hashed once
        .collect()
        .join(rules, on="rule_id")
        .group_by("report_id", "problem")
        .agg(findings=pl.len().cast(pl.Int32), rule_ids=pl.col("rule_id").unique().sort())
    )
    codes = pl.DataFrame({"problem": [p.code for p in probs]})
    current = current.sort("report_id")  # (a frame sorted already is not copied)
    for start in range(0, current.height, QUALITY_CHUNK):
        grid = current.slice(start, QUALITY_CHUNK).join(codes, how="cross")
        yield (
            grid.join(found, on=["report_id", "problem"], how="left")
            .with_columns(
                pl.lit(year, dtype=pl.Int16).alias(PARTITION),
                findings=pl.col("findings").fill_null(0),
                rule_ids=pl.col("rule_ids").fill_null([]),
            )
            .select(schema("quality").names)
        )


# ------------------------------------------------------------------ files


def _path(root, dataset: str, year: int | None):
    return partition_dir(root, dataset, year) / f"{dataset}.parquet"


class _File:
    """One year's file of a dataset, made of parts (a row group or more each, in order, each sorted
    by the dataset's key): the same rows make the same bytes."""

    def __init__(self, dataset: str):
        self.dataset, self.rows = dataset, 0
        self.schema = schema(dataset, with_partition=False)
        self.out = pa.BufferOutputStream()
        self.writer = pq.ParquetWriter(self.out, self.schema, compression="zstd")

    def add(self, df: pl.DataFrame) -> None:
        table = df.sort(DERIVED_KEYS[self.dataset]).select(self.schema.names).to_arrow().cast(self.schema)
        self.writer.write_table(table)
        self.rows += table.num_rows

    def write(self, root, year: int | None, keep: bool) -> int:
        """Written where its bytes differ from the file's; removed when it has no rows and not `keep`
        (a year with reports keeps its files, empty or not, so that a reader's glob finds them)."""
        self.writer.close()
        path = _path(root, self.dataset, year)
        exists = path.exists()
        if not (self.rows or keep):
            if exists:
                path.unlink(missing_ok=True)
            return 0
        data = self.out.getvalue()
        self.out = None  # its buffer is `data`'s, released with it
        # compared without a copy of the bytes made (a national year's quality file is MBs)
        if exists and _same_bytes(path, data):
            return self.rows
        if storage.is_remote(path):
            path.write_parquet(data.to_pybytes())
        else:
            storage.write_atomic(path, lambda tmp: tmp.write_bytes(data))
        return self.rows


def _same_bytes(path, data: pa.Buffer) -> bool:
    """Whether the file at `path` holds exactly `data`: its size first, then its bytes."""
    if not storage.is_remote(path) and path.stat().st_size != data.size:
        return False
    return path.read_bytes() == memoryview(data).cast("B")  # Arrow exports signed bytes


def _years_held(root) -> set[int | None]:
    return set(scan("indicators", root).select(PARTITION).unique().collect()[PARTITION].to_list())


def _stale_years(root) -> set[int | None]:
    """Years whose `indicators` rows are not exactly the current definitions' versions."""
    current = {(d.id, d.version) for d in definitions()}
    held = scan("indicators", root).select(PARTITION, "indicator", "definition_version").unique().collect()
    return {
        year
        for (year,), part in held.group_by([PARTITION])
        if set(zip(part["indicator"], part["definition_version"])) != current
    }
