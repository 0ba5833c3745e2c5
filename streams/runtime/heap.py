"""Keeping the garbage collector's full passes off a worker's long-lived state.

A worker holds its partitions' state for hours: millions of objects that live on. CPython's full
collection walks every tracked object, so as the state grows each pass takes longer — up to a second
for an hour of city load, measured as pauses of the whole worker (and as latency). Nearly all of that
state is freed by reference counting alone (persistent maps, tuples and frozen messages hold no
cycles), so the worker freezes what is alive about once a second: frozen objects are skipped by
collections. A full pass over everything, which also frees whatever cycles were frozen, runs only
every ``FULL_EVERY_S``.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import Final

FULL_EVERY_S: Final = 600.0


class Heap:
    """Call `settle` periodically from the worker's event loop."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.last_full = clock()

    def settle(self) -> None:
        now = self.clock()
        if now - self.last_full >= FULL_EVERY_S:
            gc.unfreeze()
            gc.collect()
            self.last_full = now
        else:
            gc.collect(1)  # the young generations: cheap, and what is garbage there is not frozen
        gc.freeze()
