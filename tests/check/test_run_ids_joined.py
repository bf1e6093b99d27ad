"""The stages after publishing look a run's ids up by a join, which hashes them once: `is_in` with a run's
100,000 ids hashed them again for each file it read (issue 24 item 7: the checks across years +22 MiB at
their peak, +5 joined)."""

from __future__ import annotations

import polars as pl
from sample_years import across_findings, broken_chains, ingest

from nianbao.check import across, indicators

UNREAD = pl.Series("report_id", [f"{i:064x}" for i in range(50_000)])  # ids that hold no row (unreadable reports)


def _lookups(monkeypatch) -> list[int]:
    """The length of every list of values an `is_in` is given from now on."""
    sizes = []
    is_in = pl.Expr.is_in

    def seen(self, other, *args, **kwargs):
        sizes.append(len(other) if isinstance(other, pl.Series | list) else 0)
        if isinstance(other, pl.Series) and other.dtype == pl.List(pl.String):
            sizes[-1] = other.list.len().sum()
        return is_in(self, other, *args, **kwargs)

    monkeypatch.setattr(pl.Expr, "is_in", seen)
    return sizes


def test_the_stages_join_the_run_s_ids_and_find_the_same(tmp_path, monkeypatch):
    root = tmp_path / "wh"
    ingest(root, broken_chains())
    before = across_findings(root)
    rows = pl.read_parquet(root / "findings" / "**" / across.FILE).height  # one a column: 3
    assert {f[2] for f in before} == {"cross_year.carried_over", "cross_year.in_force"}
    indicators.compute(root)  # every report's, as a run before left them
    held = {d: pl.read_parquet(root / d / "**" / "*.parquet", hive_partitioning=True) for d in indicators.OUTPUTS}
    ran = pl.read_parquet(root / "reports" / "**" / "*.parquet")["report_id"]
    sizes = _lookups(monkeypatch)
    # a run's ids, one named twice (the same bytes in two batches): a join must not count it twice
    ids = pl.concat([ran, UNREAD, ran.head(1)])
    found = across.check(root, ids, "run")
    written = indicators.compute(root, ids)
    assert max(sizes, default=0) < len(UNREAD)
    assert across_findings(root) == before
    assert found.height == rows == 3
    assert written == {**{d: held[d].height for d in indicators.OUTPUTS}, "years": 2}
    for d in indicators.OUTPUTS:
        now = pl.read_parquet(root / d / "**" / "*.parquet", hive_partitioning=True)
        assert now.sort(pl.all()).equals(held[d].sort(pl.all())), d
