"""The sink pauses Python's cyclic collector while it turns a poll into rows, and always turns it back on."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from sinks.sink import _collector_paused


@pytest.fixture
def collector_state() -> Iterator[None]:
    was = gc.isenabled()
    yield
    if was:
        gc.enable()
    else:
        gc.disable()


@pytest.mark.usefixtures("collector_state")
def test_the_collector_is_off_inside_and_back_on_after_even_on_an_error() -> None:
    gc.enable()
    with _collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), _collector_paused():
        raise RuntimeError("a bug while building rows")
    assert gc.isenabled()


@pytest.mark.usefixtures("collector_state")
def test_a_collector_the_embedding_process_turned_off_stays_off() -> None:
    gc.disable()
    with _collector_paused():
        pass
    assert not gc.isenabled()
