"""The stage after publishing: checks across years for the agencies a run touched."""
from __future__ import annotations

from pathlib import Path

from prefect import get_run_logger, task

from nianbao import across

SUMMARY_COLUMNS = ["report_id", "rule_id", "severity", "message"]


@task(name="check-across-years")
def check_across_years(summary: dict, run_id: str, out: str) -> dict:
    """Re-check the agencies of the run's reports against their neighbouring years; the run's
    summary (and so its artifacts and validation page) gets the new findings in place of old ones."""
    ran = [r["report_id"] for r in summary["reports"]]
    found = across.check(Path(out), ran, run_id)
    ids, rules = set(ran), {r["id"] for r in across.rules()}
    kept = [f for f in summary["findings"] if not (f["report_id"] in ids and f["rule_id"] in rules)]
    new = [f for f in found.select(SUMMARY_COLUMNS).to_dicts() if f["report_id"] in ids]
    get_run_logger().info("across years: %d findings for %d reports", len(new), len(ids))
    return summary | {"findings": kept + new}
