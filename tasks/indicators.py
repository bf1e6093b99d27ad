"""The stage after the checks across years: indicators, peers and data quality for the agencies a
run touched (nianbao/check/indicators.py), on a folder or on object storage."""

from __future__ import annotations

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from nianbao.check import indicators
from nianbao.report.summary import RunSummary


@task(name="compute-indicators", cache_policy=NO_CACHE)  # hashing the run's summary costs memory in N
def compute_indicators(summary: RunSummary | dict, out: str) -> dict[str, int]:
    """The run's reports' agencies, in every year they report: their `indicators`, `peers` (the
    whole of each year touched ranked again) and `quality` rows."""
    ran = RunSummary.of(summary).ids
    written = indicators.compute(out, ran)
    get_run_logger().info(
        "indicators: %(indicators)d rows, peers: %(peers)d, quality: %(quality)d "
        "in the %(years)d years of the run's agencies",
        written,
    )
    return written
