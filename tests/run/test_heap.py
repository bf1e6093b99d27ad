"""The collector tuned for the command's run, and given back as it was to a caller in the same process."""

import gc

from nianbao.run import heap


def test_tuned_for_the_block_then_as_before():
    before = gc.get_threshold()
    with heap.tuned():
        assert gc.get_threshold() == (heap.THRESHOLDS.young, 10, 10)
        heap.settle()
        assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
