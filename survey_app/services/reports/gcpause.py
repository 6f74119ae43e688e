"""Pausing the cyclic garbage collector around allocation-heavy work that makes no cycles."""
from __future__ import annotations

import gc
import threading
from contextlib import contextmanager

_pause_lock = threading.Lock()
_pauses = 0
_was_enabled = False


@contextmanager
def gc_paused():
    """Pause Python's cyclic garbage collector while a report is computed or a rollup
    batch summed.

    A town's report decodes and sums a few hundred thousand small lists and dicts,
    none of them in a reference cycle (reference counting frees them all); the
    collector, triggered by their allocation, walked them again and again: 40 % of the
    report's CPU time (``benchmarks/README.md``). Re-entrant and thread-safe: the
    collector is back on (if it was on) when the last pause of the process ends."""
    global _pauses, _was_enabled
    with _pause_lock:
        if _pauses == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _pause_lock:
            _pauses -= 1
            if _pauses == 0 and _was_enabled:
                gc.enable()
