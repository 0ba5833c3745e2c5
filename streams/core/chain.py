"""Checkpoint chains: one full snapshot of a partition's state, then deltas, each one table record.

Writing a partition's whole state every second costs time in proportion to the state (a few hundred ms
for an hour of city load, and growing), so a runner writes a full snapshot only now and then and, in
between, only what changed since its previous checkpoint. Each record is one table key, so none is ever
half written, and each names its parent (the record it builds on) by sequence number and writer:

    full(1, w) <- delta(2, w) <- delta(3, w) <- full(4, w) <- ...

A restore follows parent links from a full snapshot to the furthest record it reaches. Any record reached
that way, with all its ancestors, is a state and the offsets it resumes from that belong together. So a
record written late by a worker that has already lost the partition (a zombie, whose session timed out)
cannot corrupt the chain: it starts a branch that links to its own parent, and whichever branch is
followed, the restored runner resumes from its own offsets.

Records are JSON bodies. `ChainWriter` builds them for one partition (the runner adds its own fields:
offsets and the sequencer); `follow` and `merge` read them back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import lz4.frame
import orjson

from streams.core.state import STORE_NAMES, PartitionState, StateChanges

__all__ = ["ChainWriter", "Checkpoint", "EntryCache", "decode", "encode", "follow", "key", "merge"]


def key(partition: int, seq: int, writer: str) -> bytes:
    """The table key of one record: sorts by partition, then sequence number."""
    return b"p%d/%010d/%s" % (partition, seq, writer.encode())


def encode(body: Mapping[str, Any]) -> bytes:
    # lz4: a few times smaller, at a fraction of zlib's cost on the hot path
    return bytes(lz4.frame.compress(orjson.dumps(body)))


def decode(blob: bytes) -> dict[str, Any]:
    body: dict[str, Any] = orjson.loads(lz4.frame.decompress(blob))
    return body


def follow(bodies: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The longest chain of records from a full snapshot along parent links, oldest first ([] if none).

    Between chains that end at the same sequence number the one whose last writer sorts highest wins, so
    the choice does not depend on the order the table hands the records over.
    """
    by_id = {_id(body): body for body in bodies}
    children: dict[tuple[int, str], list[tuple[int, str]]] = {}
    for ident, body in by_id.items():
        if body["parent"] is not None and not body["full"]:  # a full snapshot starts a chain of its own
            children.setdefault((body["parent"][0], body["parent"][1]), []).append(ident)
    # The furthest record each one leads to, newest first: a child's seq is above its parent's.
    end: dict[tuple[int, str], tuple[int, str]] = {}
    step: dict[tuple[int, str], tuple[int, str] | None] = {}
    for ident in sorted(by_id, reverse=True):
        child = step[ident] = max(children.get(ident, []), key=end.__getitem__, default=None)
        end[ident] = ident if child is None else end[child]
    starts = [ident for ident, body in by_id.items() if body["full"]]
    if not starts:
        return []
    chain: list[dict[str, Any]] = []
    at: tuple[int, str] | None = max(starts, key=end.__getitem__)
    while at is not None:
        chain.append(by_id[at])
        at = step[at]
    return chain


def _id(body: Mapping[str, Any]) -> tuple[int, str]:
    return (body["seq"], body["writer"])


def merge(state: dict[str, Any], delta: Mapping[str, Any]) -> None:
    """Apply one delta record's state changes to a whole-state JSON object, in place."""
    state["clock"] = delta["clock"]
    for store, entries in delta["set"].items():
        state[store].update(entries)
    for store, keys in delta["del"].items():
        entries = state[store]
        for k in keys:
            entries.pop(k, None)


class EntryCache:
    """The JSON encoding of every state entry as last written, so an unchanged entry is never encoded again.

    State values are immutable, so an entry still holding the very object it held when it was encoded has
    the same encoding. A delta encodes only what changed; a full snapshot reuses every encoding made for
    earlier records, which makes it a matter of assembling fragments rather than of encoding the state.
    """

    def __init__(self) -> None:
        # store -> key -> (value object, key as text, its encoding)
        self.stores: dict[str, dict[Any, tuple[Any, str, orjson.Fragment]]] = {s: {} for s in STORE_NAMES}

    def full(self, state: PartitionState) -> dict[str, Any]:
        """The whole state as `PartitionState.to_json_obj` gives it, up to the order of keys."""
        out: dict[str, Any] = {"clock": state.clock_json()}
        for store in STORE_NAMES:
            old, new = self.stores[store], {}
            for k, value in state.entries(store):
                cached = old.get(k)
                new[k] = cached if cached is not None and cached[0] is value else _entry(store, k, value)
            self.stores[store] = new  # entries removed since the last record are dropped with it
            out[store] = {text: fragment for _, text, fragment in new.values()}
        return out

    def delta(self, state: PartitionState, changes: StateChanges) -> dict[str, Any]:
        """The ``clock``, ``set`` and ``del`` parts of a delta record (see `merge`)."""
        changed: dict[str, Any] = {}
        for store, keys in changes.changed.items():
            if keys:
                cache = self.stores[store]
                for k in keys:
                    cache[k] = _entry(store, k, state.piece(store, k))
                changed[store] = {cache[k][1]: cache[k][2] for k in keys}
        removed: dict[str, list[str]] = {}
        for store, keys in changes.removed.items():
            if keys:
                cache = self.stores[store]
                removed[store] = [str(k) for k in keys]
                for k in keys:
                    cache.pop(k, None)
        return {"clock": state.clock_json(), "set": changed, "del": removed}


def _entry(store: str, k: Any, value: Any) -> tuple[Any, str, orjson.Fragment]:
    return value, str(k), orjson.Fragment(_exact(orjson.dumps(PartitionState.encode_value(store, value))))


def _exact(raw: bytes) -> bytes:
    """A copy of ``raw`` that occupies its length: ``orjson.dumps`` (3.13) hands back its bytes in a buffer
    of at least 4 KiB, so every cached entry kept one; the cache holds one per state entry, which grew a
    worker by gigabytes (`bench/state_memory.py` measures it)."""
    return bytes(memoryview(raw))


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """One checkpoint record to write under ``key``, and the keys of records it makes obsolete."""

    key: bytes
    blob: bytes
    obsolete: tuple[bytes, ...] = ()


class ChainWriter:
    """Writes one partition's chain: a full snapshot when there is none yet or when the deltas since the
    last one hold more entries than it did (so a restore reads at most about twice the state), else the
    changes since the previous record."""

    def __init__(self, partition: int, writer: str) -> None:
        self.partition = partition
        self.writer = writer  # unique per worker process, so two writers' records never share a key
        self.saved: PartitionState | None = None  # the state the last record holds; None: next is full
        self.parent: tuple[int, str] | None = None  # (seq, writer) of the last record
        self.chain_entries = 0  # state entries written in deltas since the last full snapshot
        self.full_entries = 0  # state entries in that snapshot
        self.records: list[bytes] = []  # keys of this partition's records in the table
        self.encoded = EntryCache()

    def resume(self, records: Iterable[bytes], last: Mapping[str, Any]) -> None:
        """Go on after the record ``last``, restored from ``records``: all obsolete once a new full
        snapshot is written, which is the next record (a fresh chain under this writer)."""
        self.records = list(records)
        self.parent = (last["seq"], last["writer"])
        self.saved, self.encoded = None, EntryCache()

    def write(self, state: PartitionState, fields: Mapping[str, Any]) -> Checkpoint:
        """The next record: ``state`` (whole or as a delta) with the caller's ``fields``."""
        seq = self.parent[0] + 1 if self.parent else 1
        full = self.saved is None or self.chain_entries > self.full_entries
        body: dict[str, Any] = {"seq": seq, "writer": self.writer, "parent": self.parent, "full": full}
        body.update(fields)
        if full:
            body["state"] = self.encoded.full(state)
            self.chain_entries, self.full_entries = 0, sum(state.size().values())
        else:
            assert self.saved is not None  # else the record is full
            changes = state.changes_since(self.saved)
            self.chain_entries += sum(map(len, changes.changed.values())) + sum(
                map(len, changes.removed.values())
            )
            body.update(self.encoded.delta(state, changes))
        record_key = key(self.partition, seq, self.writer)
        obsolete: tuple[bytes, ...] = ()
        if full:
            obsolete, self.records = tuple(self.records), []
        self.records.append(record_key)
        self.saved, self.parent = state, (seq, self.writer)
        return Checkpoint(record_key, encode(body), obsolete)
