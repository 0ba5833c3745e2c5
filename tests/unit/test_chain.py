"""Which checkpoint records a restore follows (`streams.core.chain.follow`), including a zombie's branch."""

from __future__ import annotations

import random
from typing import Any

import pytest

from streams.core.chain import decode, encode, follow, key, merge


def rec(seq: int, writer: str, parent: tuple[int, str] | None, full: bool = False) -> dict[str, Any]:
    return {"seq": seq, "writer": writer, "parent": list(parent) if parent else None, "full": full}


def ids(chain: list[dict[str, Any]]) -> list[tuple[int, str]]:
    return [(body["seq"], body["writer"]) for body in chain]


def test_a_chain_runs_from_the_last_full_snapshot_it_reaches() -> None:
    bodies = [
        rec(1, "a", None, full=True),
        rec(2, "a", (1, "a")),
        rec(3, "a", (2, "a"), full=True),  # a newer snapshot; 1 and 2 wait for their tombstones
        rec(4, "a", (3, "a")),
        rec(5, "a", (4, "a")),
    ]
    for order in range(5):
        random.Random(order).shuffle(bodies)
        assert ids(follow(bodies)) == [(3, "a"), (4, "a"), (5, "a")]


def test_a_zombie_branch_is_a_chain_of_its_own() -> None:
    # b restored a's record 2 and went on; a, no longer the owner, still wrote its record 3.
    common = [rec(1, "a", None, full=True), rec(2, "a", (1, "a"))]
    zombie = [rec(3, "a", (2, "a"))]
    owner = [rec(3, "b", (2, "a"), full=True), rec(4, "b", (3, "b"))]
    assert ids(follow(common + zombie + owner)) == [(3, "b"), (4, "b")]
    # With the owner's snapshot not written yet, the zombie's branch is as good as any: it is consistent.
    assert ids(follow(common + zombie)) == [(1, "a"), (2, "a"), (3, "a")]


def test_equally_long_branches_are_chosen_by_writer_not_by_order() -> None:
    bodies = [rec(1, "a", None, full=True), rec(2, "c", (1, "a")), rec(2, "b", (1, "a"))]
    assert ids(follow(bodies)) == [(1, "a"), (2, "c")]
    assert ids(follow(list(reversed(bodies)))) == [(1, "a"), (2, "c")]


def test_no_full_snapshot_is_no_chain() -> None:
    assert follow([rec(2, "a", (1, "a"))]) == []
    assert follow([]) == []


def test_a_delta_sets_and_removes_entries() -> None:
    state = {"clock": {"w": 1}, "incidents": {"x": 1, "y": 2}, "seen": {"e": 0}}
    merge(state, {"clock": {"w": 2}, "set": {"incidents": {"y": 3, "z": 4}}, "del": {"seen": ["e"]}})
    assert state == {"clock": {"w": 2}, "incidents": {"x": 1, "y": 3, "z": 4}, "seen": {}}


@pytest.mark.parametrize("seq", [1, 12, 10**9])
def test_keys_sort_by_sequence_and_blobs_round_trip(seq: int) -> None:
    assert key(3, seq, "ab") < key(3, seq + 1, "ab")
    assert key(3, seq, "ab").startswith(b"p3/")
    body = rec(seq, "ab", (seq - 1, "ab"))
    assert decode(encode(body)) == body


def test_the_entry_cache_holds_about_what_it_encodes() -> None:
    """A worker keeps one cached encoding per state entry: each must cost about its length, not the 4 KiB
    buffer orjson hands its output back in (that grew a worker by gigabytes)."""
    import gc
    import tracemalloc
    import uuid
    from datetime import UTC, datetime, timedelta

    from streams.core.chain import EntryCache
    from streams.core.dedup import SeenSet
    from streams.core.state import PartitionState

    seen, at = SeenSet.empty(timedelta(hours=6)), datetime(2026, 3, 2, tzinfo=UTC)
    for n in range(2000):
        seen = seen.add(uuid.UUID(int=n), at)
    state = PartitionState(seen=seen)
    cache = EntryCache()
    gc.collect()
    tracemalloc.start()
    try:
        cache.full(state)
        gc.collect()
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert len(cache.stores["seen"]) == 2000
    assert held / 2000 < 600, f"{held / 2000:.0f} bytes per cached entry"
