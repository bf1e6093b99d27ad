"""A broken rule instance: one row of the `findings` dataset (report_id and run_id added on publish)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from nianbao.model.template import template


@dataclass
class Finding:
    rule_id: str
    severity: str  # "error" | "warning"
    message: str
    cells: list[str] = field(default_factory=list)  # "dataset:row/column"
    expected: str | None = None
    observed: str | None = None

    @classmethod
    def of(
        cls,
        rule_id: str,
        message: str,
        cells: list[str] | None = None,
        expected: str | None = None,
        observed: str | None = None,
    ) -> Finding:
        """A finding of a rule or [[findings]] entry of template.toml, at the severity it gives there."""
        severity = template().severity.get(rule_id)
        if severity is None:
            raise KeyError(f"{rule_id!r} is not a rule or finding of template.toml")
        return cls(rule_id, severity, message, list(cells or []), expected, observed)

    def row(self, report_id: str, year: int | None) -> dict:
        return {"report_id": report_id, "year": year, **asdict(self)}
