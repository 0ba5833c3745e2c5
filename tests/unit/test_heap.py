"""The worker's collector policy (`streams.runtime.heap`): frozen between full passes, none kept for good."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from streams.runtime.heap import FULL_EVERY_S, Heap


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the collector frees it


@pytest.fixture(autouse=True)
def _thawed() -> Iterator[None]:
    yield
    gc.unfreeze()


def test_settle_freezes_what_lives_and_a_full_pass_frees_frozen_cycles() -> None:
    clock = [1000.0]
    keeper = Heap(lambda: clock[0])
    node = Node()
    alive = weakref.ref(node)
    keeper.settle()
    assert gc.get_freeze_count() > 0

    del node  # garbage now, but frozen: collections skip it
    gc.collect()
    clock[0] += FULL_EVERY_S / 2
    keeper.settle()
    assert alive() is not None

    clock[0] += FULL_EVERY_S
    keeper.settle()
    assert alive() is None, "the periodic full pass did not free a frozen cycle"
