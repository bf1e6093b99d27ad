"""The datasets' schemas: one definition for the Parquet files, the in-memory frames and the docs."""

from __future__ import annotations

import pyarrow as pa

# dataset -> [(column, arrow type, meaning)]; `year` is the partition column (path only in files).
DATASETS: dict[str, list[tuple[str, pa.DataType, str]]] = {
    "reports": [
        ("report_id", pa.string(), "sha256 hex of the document's bytes"),
        ("year", pa.int16(), "the year reported on (统计年度); null when unknown (the folder `year=0`)"),
        ("agency", pa.string(), "the reporting body as the report names it"),
        ("region_code", pa.string(), "6-digit 行政区划代码 where known"),
        ("title", pa.string(), "the report's title"),
        ("source_uri", pa.string(), "the URL or path it came from, as given"),
        ("source_format", pa.string(), "pdf, docx, doc, wps, rtf, html, txt; unknown when the bytes are none of these"),
        ("template_version", pa.string(), "2021, 2019, mixed or unknown"),
        ("status", pa.string(), "valid, invalid or unreadable"),
        ("agency_id", pa.string(), "the linked agency (see `agencies`); null when no body is named"),
        ("read_by", pa.string(), "text (the document's text layer or markup) or ocr (a scan read by OCR)"),
        ("error_count", pa.int32(), "error-level findings"),
        ("warning_count", pa.int32(), "warning-level findings"),
        ("published_on", pa.date32(), "date printed on the report or given in the manifest"),
        ("fetched_at", pa.timestamp("us", tz="UTC"), "when the document's bytes were read"),
        ("ingested_at", pa.timestamp("us", tz="UTC"), "when this run ingested it"),
        ("run_id", pa.string(), "the Prefect flow run id"),
        (
            "superseded_by",
            pa.string(),
            "the report_id of a newer version of the same source, or `forgotten` "
            "(`nianbao forget`); null for the current one",
        ),
        ("pipeline_version", pa.string(), "the project's version"),
    ],
    "active_disclosure": [
        ("report_id", pa.string(), "sha256 of the document"),
        ("year", pa.int16(), "the year reported on"),
        ("item", pa.string(), "section 二 row code (see dictionary)"),
        ("metric", pa.string(), "section 二 column code (see dictionary)"),
        ("value", pa.decimal128(18, 6), "the number; null where blank or not a number"),
        ("raw", pa.string(), "the cell's text as printed; null where no cell was printed"),
    ],
    "applications": [
        ("report_id", pa.string(), "sha256 of the document"),
        ("year", pa.int16(), "the year reported on"),
        ("row", pa.string(), "section 三 row code (see dictionary)"),
        ("applicant", pa.string(), "section 三 column code (see dictionary)"),
        ("value", pa.int64(), "the count; null where blank or not an integer"),
        ("raw", pa.string(), "the cell's text as printed; null where no cell was printed"),
    ],
    "reviews_litigation": [
        ("report_id", pa.string(), "sha256 of the document"),
        ("year", pa.int16(), "the year reported on"),
        ("proceeding", pa.string(), "review, litigation_direct, litigation_after_review"),
        ("outcome", pa.string(), "upheld, corrected, other, pending, total"),
        ("value", pa.int64(), "the count; null where blank or not an integer"),
        ("raw", pa.string(), "the cell's text as printed; null where no cell was printed"),
    ],
    "narratives": [
        ("report_id", pa.string(), "sha256 of the document"),
        ("year", pa.int16(), "the year reported on"),
        ("section", pa.string(), "overview, problems, other_matters"),
        ("text", pa.string(), "the section's text, paragraphs separated by newlines"),
    ],
    "findings": [
        ("report_id", pa.string(), "sha256 of the document"),
        ("year", pa.int16(), "the year reported on"),
        ("rule_id", pa.string(), "the rule broken (see dictionary)"),
        ("severity", pa.string(), "error or warning"),
        ("message", pa.string(), "what is wrong, in words"),
        ("cells", pa.list_(pa.string()), "the cells involved, as dataset:row/column"),
        ("expected", pa.string(), "the value the rule expects"),
        ("observed", pa.string(), "the value the report prints"),
        ("run_id", pa.string(), "the Prefect flow run id"),
    ],
}
# Computed after publishing from the datasets above (nianbao/check/indicators.py), for current reports:
# one file per dataset and year, rewritten whole; publishing's index leaves them out.
_INDICATOR_ROW = [
    ("report_id", pa.string(), "the report (a current, valid one)"),
    ("agency_id", pa.string(), "its agency (see `agencies`)"),
    ("year", pa.int16(), "the year reported on"),
    ("indicator", pa.string(), "indicator id (see dictionary: its cells, unit and smallest ranked denominator)"),
    (
        "value",
        pa.float64(),
        "numerator / denominator (a count: the numerator); null when the denominator is 0 "
        "or a cell is missing, never 0",
    ),
    ("numerator", pa.float64(), "the sum of the numerator's cells; null when one is missing"),
    ("denominator", pa.float64(), "the sum of the denominator's cells; null for a count or when one is missing"),
    ("definition_version", pa.int32(), "the version of the indicator's definition the value was computed with"),
]
DERIVED: dict[str, list[tuple[str, pa.DataType, str]]] = {
    "indicators": _INDICATOR_ROW,
    # what `indicators` held under an earlier version of a definition, kept as it was computed
    "indicators_previous": _INDICATOR_ROW,
    "peers": [
        ("report_id", pa.string(), "the report"),
        ("year", pa.int16(), "the year reported on"),
        ("indicator", pa.string(), "indicator id"),
        (
            "peer_group",
            pa.string(),
            "`province:<2 digits>:<level>` (same level, same province) or "
            "`prefecture:<4 digits>:<level>` (same level, same prefecture), of the same year",
        ),
        (
            "peers",
            pa.int32(),
            "reports ranked in the group (value known, denominator at least the indicator's smallest)",
        ),
        (
            "rank_pct",
            pa.float64(),
            "(average rank - 1) / (peers - 1) among them, 0 = lowest value, 1 = highest; "
            "null when this report is not ranked or no other is",
        ),
        ("peer_median", pa.float64(), "the median value of the reports ranked in the group"),
        ("low", pa.float64(), "Wilson 95% interval of a rate, lower bound; null for counts and ratios"),
        ("high", pa.float64(), "Wilson 95% interval of a rate, upper bound"),
    ],
    "quality": [
        ("report_id", pa.string(), "the report (a current one, whatever its status)"),
        ("agency_id", pa.string(), "its agency; an agency-year's counts are the sums over its reports"),
        ("year", pa.int16(), "the year reported on"),
        ("problem", pa.string(), "arithmetic, cross_year, late, copied, text_mismatch, unread_cells (see dictionary)"),
        ("findings", pa.int32(), "the report's findings of the problem's rules (0: none)"),
        (
            "rule_ids",
            pa.list_(pa.string()),
            "the rules among them that the report broke: its `findings` rows with this report_id and these rule_ids",
        ),
    ],
}
DERIVED_KEYS = {
    "indicators": ["report_id", "indicator"],
    "indicators_previous": ["report_id", "indicator", "definition_version"],
    "peers": ["report_id", "indicator", "peer_group"],
    "quality": ["report_id", "problem"],
}
# Not partitioned: one row per agency (nianbao/interpret/agencies.py), rewritten after each run.
AGENCIES = [
    ("agency_id", pa.string(), "links a body's reports across years (reports.agency_id)"),
    ("name", pa.string(), "the most recent printed name"),
    ("names", pa.list_(pa.string()), "every printed variant"),
    ("region_code", pa.string(), "6-digit 行政区划代码 where known: the manifest's, else resolved from the name"),
    ("level", pa.string(), "province, city, county, township, department, unknown"),
]
# Not partitioned by year: every fetch attempt, under fetches/fetched_on=YYYY-MM-DD/ (nianbao/acquire/rawstore.py).
FETCHES_COLUMNS = [
    ("url", pa.string(), "as asked for, without userinfo"),
    ("final_url", pa.string(), "after redirects"),
    ("http_status", pa.int32(), "the last response's status; null when none came"),
    ("error", pa.string(), "null when the document was got (200, or 304 from the store)"),
    ("bytes", pa.int64(), "the document's size (a 304's is the stored copy's)"),
    ("sha256", pa.string(), "the document's sha256 (its name in the raw store, its report_id)"),
    ("content_type", pa.string(), "from the bytes where they tell, else the header's"),
    ("declared_type", pa.string(), "the Content-Type header as sent"),
    ("elapsed_s", pa.float64(), "seconds the attempts took, retries included"),
    ("attempts", pa.int32(), "requests made (1 + retries)"),
    ("fetched_at", pa.timestamp("us", tz="UTC"), "when the fetch began"),
    ("etag", pa.string(), "the ETag validator, for the next conditional GET"),
    ("last_modified", pa.string(), "the Last-Modified validator, for the next conditional GET"),
]
FETCHES = pa.schema([(name, typ) for name, typ, _ in FETCHES_COLUMNS])
CELL_DATASETS = ["active_disclosure", "applications", "reviews_litigation", "narratives"]
KEYS = {
    "reports": ["report_id"],
    "active_disclosure": ["report_id", "item", "metric"],
    "applications": ["report_id", "row", "applicant"],
    "reviews_litigation": ["report_id", "proceeding", "outcome"],
    "narratives": ["report_id", "section"],
    "findings": ["report_id", "rule_id", "cells"],
}
# The two codes that name a cell in each cell dataset (its key after report_id).
CELL_KEYS = {d: (KEYS[d][1], KEYS[d][2]) for d in ("active_disclosure", "applications", "reviews_litigation")}
PARTITION = "year"
# The folder of the reports whose year is unknown is `year=0`, not Hive's `year=__HIVE_DEFAULT_PARTITION__`:
# beside other years, pandas' default read cannot read that one (pyarrow: "Cannot yet unify dictionaries
# with nulls"), and with it every reader infers `year` an integer. nianbao's reader (warehouse.scan) and
# the frames in between hold the unknown year as null.
UNKNOWN_YEAR = 0
# An older nianbao's folder for it: read as the unknown year; the next writer moves it (publish.locked).
OLDER_UNKNOWN = f"{PARTITION}=__HIVE_DEFAULT_PARTITION__"


def partition(year: int | None) -> str:
    """The folder of a year's partition: `year=2023`; `year=0` for the unknown year (None)."""
    return f"{PARTITION}={UNKNOWN_YEAR if year is None else int(year)}"


def partition_year(folder: str) -> int | None:
    """`year=2023` -> 2023; the unknown year's folder -> None."""
    return None if folder in (partition(None), OLDER_UNKNOWN) else int(folder.split("=", 1)[1])


DICTIONARY = pa.schema(
    [
        ("dataset", pa.string()),
        ("column", pa.string()),
        ("code", pa.string()),
        ("label", pa.string()),
        ("variants", pa.list_(pa.string())),
        ("template_versions", pa.list_(pa.string())),
        ("severity", pa.string()),
    ]
)


def value_bound(dataset: str) -> tuple[int, str]:
    """What the dataset's `value` column holds, |value| below it (the number and in words): a number
    beyond it is published null and found by cells.non_negative_integer, never cast wrong."""
    typ = next(t for name, t, _ in DATASETS[dataset] if name == "value")
    if pa.types.is_decimal(typ):
        return 10 ** (typ.precision - typ.scale), f"10^{typ.precision - typ.scale}"
    return 2 ** (typ.bit_width - 1), f"2^{typ.bit_width - 1}"


def schema(dataset: str, with_partition: bool = True) -> pa.Schema:
    columns = DATASETS[dataset] if dataset in DATASETS else DERIVED[dataset]
    return pa.schema([(name, typ) for name, typ, _ in columns if with_partition or name != PARTITION])
