"""A long run's memory stays flat (issue 24 item 7): what a run holds does not grow with its batches."""

import gc
import weakref

from corpus import distinct_reports

from nianbao.report import summary


def test_the_flow_frees_each_batch_result_once_added(prefect_harness, tmp_path, monkeypatch):
    """Prefect's engine leaves each task run in reference cycles that hold its result (a batch's
    summary, with its frames): with the collector off, as it mostly is between the rare full
    collections of a long run, they held every batch's summary to the run's end."""
    from flows.ingest import ingest

    distinct_reports(tmp_path / "docs", 5)
    parts = []
    add = summary.RunSummary.add

    def add_seen(self, part):
        parts.append(weakref.ref(part))
        add(self, part)

    monkeypatch.setattr(summary.RunSummary, "add", add_seen)
    gc.collect()
    gc.disable()
    try:
        state = ingest(sources=[str(tmp_path / "docs")], out=str(tmp_path / "wh"), batch_size=1, return_state=True)
        alive = [n for n, part in enumerate(parts) if part() is not None]
    finally:
        gc.enable()
    assert state.is_completed(), state.message
    assert len(parts) == 5
    assert alive == []


def test_the_flow_keeps_no_state_per_batch(prefect_harness, tmp_path, monkeypatch):
    """Prefect links each task's result to a copy of its state in the flow run's context until that
    result is looked up; a batch's summary never is: without the flow dropping the link, the context
    held one State per batch to the run's end (a 100,000-row manifest: 1,000 of them)."""
    from prefect.context import FlowRunContext

    from flows.ingest import ingest

    distinct_reports(tmp_path / "docs", 4)
    held = []
    add = summary.RunSummary.add

    def add_seen(self, part):
        held.append(len(FlowRunContext.get().run_results))
        add(self, part)

    monkeypatch.setattr(summary.RunSummary, "add", add_seen)
    state = ingest(sources=[str(tmp_path / "docs")], out=str(tmp_path / "wh"), batch_size=1, return_state=True)
    assert state.is_completed(), state.message
    # as the last batch is added every batch has been: none is linked any more (a batch that finished
    # before the one added is, until its own turn)
    assert len(held) == 4
    assert held[-1] == 0


def test_the_flow_gives_freed_memory_back_after_each_batch_and_between_its_end_stages(
    prefect_harness, tmp_path, monkeypatch
):
    """Each stage of a run's end starts on what the one before freed given back, not on its peak
    (issue 24 item 7: a 100,000-row manifest's end stages stacked, anonymous 282 -> 300 -> 333 ->
    350 MiB); each batch too (allocators.give_back: test_native proves what it returns)."""
    from flows import ingest as flow
    from nianbao.check import across, indicators
    from nianbao.report import artifacts
    from nianbao.run import allocators
    from nianbao.warehouse import index

    calls = []

    def seen(name, real):
        return lambda *a, **k: calls.append(name) or real(*a, **k)

    monkeypatch.setattr(index, "_trusted", {})  # as in a new process: no other test's warehouse held
    monkeypatch.setattr(allocators, "give_back", seen("give back", allocators.give_back))
    monkeypatch.setattr(summary.RunSummary, "add", seen("batch", summary.RunSummary.add))
    monkeypatch.setattr(across, "check", seen("across", across.check))
    # the indicators run once the index is written and let go (a 100,000-report run's: 12 MiB of Arrow)
    compute = indicators.compute
    monkeypatch.setattr(
        indicators, "compute", seen("indicators", lambda *a: calls.append(dict(index._trusted)) or compute(*a))
    )
    monkeypatch.setattr(flow, "settle", seen("index", flow.settle))
    monkeypatch.setattr(artifacts, "make", seen("artifacts", artifacts.make))
    distinct_reports(tmp_path / "docs", 3)
    state = flow.ingest(sources=[str(tmp_path / "docs")], out=str(tmp_path / "wh"), batch_size=1, return_state=True)
    assert state.is_completed(), state.message
    assert calls == ["batch", "give back"] * 3 + [
        "across",
        "give back",
        "index",
        "give back",
        "indicators",
        {},
        "give back",
        "artifacts",
    ]
