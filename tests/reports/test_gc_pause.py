"""The collector pause around report computation is re-entrant, thread-safe, and always
restores the collector's state, also after an error."""
import gc
import threading

import pytest

from survey_app.services.reports.build import gc_paused


def test_pause_nests_and_restores():
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_restored_after_an_error_and_left_off_if_it_was_off():
    with pytest.raises(RuntimeError):
        with gc_paused():
            raise RuntimeError("boom")
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_overlapping_threads_end_with_the_collector_on():
    inside = threading.Barrier(4)
    seen = []

    def work():
        with gc_paused():
            inside.wait(timeout=10)
            seen.append(gc.isenabled())

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)
    assert seen == [False] * 4
    assert gc.isenabled()
