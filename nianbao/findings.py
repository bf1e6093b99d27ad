"""A broken rule instance: one row of the `findings` dataset (report_id and run_id added on publish)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class Finding:
    rule_id: str
    severity: str  # "error" | "warning"
    message: str
    cells: list[str] = field(default_factory=list)  # "dataset:row/column"
    expected: str | None = None
    observed: str | None = None

    def row(self, report_id: str, year: int | None) -> dict:
        return {"report_id": report_id, "year": year, **asdict(self)}
