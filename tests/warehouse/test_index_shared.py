import math

from nianbao.warehouse import index


def test_a_batch_copies_only_the_newest_rows_of_the_index_it_keeps(tmp_path):
    """A writer keeps its index for its next batch (index.keep): the batch's index shares the rows it
    keeps with the one before, and its newest chunks are merged as a binary counter's digits, so over n
    batches a row is copied about log2(n) times and filters see about log2(n) chunks. Filtering out no
    rows copied them all, every batch (a 100,000-report run's index: 12 MiB a batch, n² in all)."""
    held, copied, n = index.Index(tmp_path, {}), 0, 200
    for b in range(n):  # one batch: a new location, touching none before it
        loc, rid = ("year=2023", f"part-{b:04d}.parquet"), f"{b:064x}"
        files = {**held.files, f"reports/{loc[0]}/{loc[1]}": f"{b}-0-1"}
        new = held.after(files, {rid}, {loc: {rid}}, {rid: f"s{b}.pdf"}).folded()
        before = {c.buffers()[1].address for c in held.kept["report_ids"].chunks}
        copied += sum(len(c) for c in new.kept["report_ids"].chunks if c.buffers()[1].address not in before)
        held = new
    assert held.kept.num_rows == n and held.kept["report_ids"].num_chunks <= math.log2(n) + 1
    assert copied <= n * (math.log2(n) + 1)  # shared, never the whole index each batch (n²/2: 20,100)
    assert held.kept["report_ids"].to_pylist() == [[f"{b:064x}"] for b in range(n)]
    assert held.kept["sources"].to_pylist() == [[f"s{b}.pdf"] for b in range(n)]
    assert held.current({"s7.pdf"}) == {"s7.pdf": {f"{7:064x}"}}
