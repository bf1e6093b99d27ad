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


def test_paused_until_settled_then_as_before():
    """No collections from pause() to settle(), which freezes what the process holds and lets the
    collector run again; after the block, the collector as it was."""
    with heap.tuned():
        heap.pause()
        assert not gc.isenabled()
        heap.settle()
        assert gc.isenabled() and gc.get_freeze_count() > 0
        heap.pause()
    assert gc.isenabled() and gc.get_freeze_count() == 0
