"""A run's summary and its counts, counted in one place: the flow's log and final state, the
command's summary, the Prefect artifacts and the validation page all read a RunSummary.

The summary travels between tasks and in the flow's final state as a plain dict
({"reports": [...], "findings": [...], "timings": {...}}); RunSummary(dict) reads it."""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

STATUSES = ("valid", "invalid", "unreadable")


@dataclass
class RunSummary:
    reports: list[dict] = field(default_factory=list)  # one row per document: status, format, skipped, ...
    findings: list[dict] = field(default_factory=list)  # report_id, rule_id, severity, message
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage, summed over batches

    @classmethod
    def of(cls, summary: dict) -> RunSummary:
        return cls(summary["reports"], summary["findings"], summary.get("timings", {}))

    def as_dict(self) -> dict:
        return {"reports": self.reports, "findings": self.findings, "timings": self.timings}

    def add(self, part: dict) -> None:
        """A batch's summary, added to the run's."""
        self.reports += part["reports"]
        self.findings += part["findings"]
        for stage, seconds in part.get("timings", {}).items():
            self.timings[stage] = self.timings.get(stage, 0.0) + seconds

    @property
    def statuses(self) -> dict[str, int]:
        """Reports by status, every status named (0 where none)."""
        counted = Counter(r["status"] for r in self.reports)
        return {s: counted.get(s, 0) for s in STATUSES}

    @property
    def failed_count(self) -> int:
        counts = self.statuses
        return counts["invalid"] + counts["unreadable"]

    @property
    def already_published(self) -> int:
        """Documents skipped as already published (not redone)."""
        return sum(1 for r in self.reports if r.get("skipped"))

    def counts_text(self) -> str:
        """'1 valid, 1 invalid, 1 unreadable'."""
        return ", ".join(f"{n} {s}" for s, n in self.statuses.items())

    def formats(self) -> Counter:
        """Documents by format (unknown: it failed before its format was known)."""
        return Counter(r["source_format"] or "unknown" for r in self.reports)

    def years(self) -> dict:
        """Reports by year, then status."""
        years: dict = defaultdict(Counter)
        for r in self.reports:
            years[r.get("year")][r["status"]] += 1
        return years

    def affected(self) -> dict[tuple[str, str], set[str]]:
        """The reports each (rule, severity) found something in."""
        out: dict[tuple[str, str], set[str]] = {}
        for f in self.findings:
            out.setdefault((f["rule_id"], f["severity"]), set()).add(f["report_id"])
        return out

    def errors(self, show=lambda f: f"{f['rule_id']}: {f['message']}") -> dict[str, list[str]]:
        """Each report's error-level findings, as `show` writes one."""
        out: dict[str, list[str]] = {}
        for f in self.findings:
            if f["severity"] == "error":
                out.setdefault(f["report_id"], []).append(show(f))
        return out

    def failed(self) -> list[dict]:
        """The invalid and unreadable reports, in the run's order."""
        return [r for r in self.reports if r["status"] != "valid"]

    def fetch_failures(self) -> int:
        return sum(f["message"].startswith("fetch failed") for f in self.findings)
