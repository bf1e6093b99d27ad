"""The stage after publishing: checks across years for the agencies a run touched."""

from __future__ import annotations

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from nianbao.check import across
from nianbao.report.summary import FINDING_SCHEMA, RunSummary


@task(name="check-across-years", cache_policy=NO_CACHE)  # hashing the run's summary costs memory in N
def check_across_years(summary: RunSummary | dict, run_id: str, out: str) -> RunSummary:
    """Re-check the agencies of the run's reports in every year (ingesting 2023 after 2024
    re-checks 2024 too); the run's summary, and so its artifacts and validation page, gets the
    findings of every report re-checked in place of the ones the warehouse held before."""
    run = RunSummary.of(summary)
    ran = run.ids
    found = across.check(out, ran, run_id).select(list(FINDING_SCHEMA))
    run.replace([r.id for r in across.rules()], found)
    get_run_logger().info("across years: %d findings for the agencies of %d reports", found.height, len(ran))
    return run
