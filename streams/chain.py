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

Records are JSON bodies; this module only reads their ``seq``, ``writer`` and ``parent`` fields and
merges state deltas. `streams.runner` writes them.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping
from typing import Any

import orjson

__all__ = ["decode", "encode", "follow", "key", "merge"]


def key(partition: int, seq: int, writer: str) -> bytes:
    """The table key of one record: sorts by partition, then sequence number."""
    return b"p%d/%010d/%s" % (partition, seq, writer.encode())


def encode(body: Mapping[str, Any]) -> bytes:
    return zlib.compress(orjson.dumps(body), 1)


def decode(blob: bytes) -> dict[str, Any]:
    body: dict[str, Any] = orjson.loads(zlib.decompress(blob))
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
