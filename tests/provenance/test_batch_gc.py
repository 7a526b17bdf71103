"""provenance.verify.batch: the collector paused for one verification, then resumed
without walking what was made meanwhile; cycles made meanwhile are still collected."""

import gc
import weakref

from provenance.verify import batch


class _Node:
    def __init__(self) -> None:
        self.other: object = None


def test_batch_pauses_and_resumes_the_collector():
    assert gc.isenabled()
    with batch():
        assert not gc.isenabled()
        with batch():  # nested: the outermost resumes it
            pass
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_cycle_made_inside_a_batch_is_collected_later():
    with batch():
        a, b = _Node(), _Node()
        a.other, b.other = b, a
        alive = weakref.ref(a)
        del a, b
    assert alive() is not None  # a cycle: reference counting alone does not free it
    gc.collect()
    assert alive() is None


def test_the_collector_stays_off_if_it_was_off():
    gc.disable()
    try:
        with batch():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
