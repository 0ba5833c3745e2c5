"""The data-quality overlay: duplicates, out-of-order and late messages, and malformed bytes, labelled.

:func:`apply_overlay` transforms a time-ordered record stream. For each intake message (never a clock
tick) it draws, with the overlay's shares, at most one of:

- ``duplicate``: an exact copy (same bytes, key and event id) sent again 0–30 s later, as a producer retry or
  a double submission would;
- ``out_of_order``: the message held back by 10 s – 4 min, inside the policy's allowed lateness;
- ``late``: held back by 6–60 min, past the allowed lateness, breaking the promise of the ticks sent
  meanwhile;

and independently ``malformed``: extra raw bytes derived from the message (same topic and key) that fail
``schemas.decode``: truncated JSON, invalid UTF-8, a missing field, an unknown grid, an out-of-range value, an
unknown ``kind``, an empty payload, or one over the 64 KiB limit. Injected or moved records carry a label
(``duplicate``, ``out_of_order``, ``late``, ``malformed:<kind>``) that the simulator counts, so tests know
exactly what to expect. Anchors (first events others merge into) are never moved: moving them would change
which event opens the incident.
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
import random
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta

import orjson

from producers.record import DUPLICATE, LATE, MALFORMED_PREFIX, OUT_OF_ORDER, Record
from producers.sampling import WeightedChoice
from producers.scenario import Overlay
from schemas.decode import MAX_PAYLOAD_BYTES

UNKNOWN_GRID = "150899999999999"  # well-formed, but no such grid in the geography
_REQUIRED = {
    "grid_report": ("event_id", "grid_code", "reported_at", "category"),
    "camera_alert": ("event_id", "camera_id", "alert_type", "detected_at"),
    "disposition": ("event_id", "incident_id", "action", "at"),
}
# Out-of-range values per message kind: they parse as JSON but break the contract.
_BAD_VALUES = {
    "grid_report": ("location", {"lon": 0.0, "lat": 0.0}),
    "camera_alert": ("confidence", 1.7),
    "disposition": ("action", "teleport"),
}

# Plausible misspellings of each kind: the discriminator matches no model.
_TYPOS = {"grid_report": "gird_report", "camera_alert": "camera_alarm", "disposition": "dispositon"}


def corrupt(kind: str, value: bytes, message_kind: str, rng: random.Random) -> bytes:
    """Bytes derived from a valid payload ``value`` that fail decoding in the way ``kind`` names."""
    if kind == "bad_json":
        return value[: max(1, rng.randint(len(value) // 4, len(value) * 3 // 4))]
    if kind == "not_utf8":
        cut = rng.randint(1, len(value) - 1)
        return value[:cut] + b"\xff\xfe\xc3" + value[cut:]
    if kind == "empty":
        return b""
    if kind == "too_large":
        return value[:-1] + b',"padding":"' + b"x" * (MAX_PAYLOAD_BYTES + 1) + b'"}'
    obj = orjson.loads(value)
    if kind == "missing_field":
        del obj[rng.choice(_REQUIRED[message_kind])]
    elif kind == "unknown_grid":
        obj["grid_code"] = UNKNOWN_GRID
        if "camera_id" in obj:
            obj["camera_id"] = f"CAM-{UNKNOWN_GRID}-01"
    elif kind == "bad_value":
        field, bad = _BAD_VALUES[message_kind]
        obj[field] = bad
    elif kind == "unknown_kind":
        obj["kind"] = _TYPOS[message_kind]
    else:
        raise ValueError(f"unknown malformed kind {kind!r}")
    return orjson.dumps(obj)


def apply_overlay(
    records: Iterable[Record], overlay: Overlay, rng: random.Random, lateness: timedelta
) -> Iterator[Record]:
    """The stream with the overlay's damage applied, ordered by ``emit_at``; ``lateness`` is the policy's."""
    kinds = WeightedChoice(list(overlay.malformed_kinds), list(overlay.malformed_kinds.values()))
    held: list[tuple[datetime, int, Record]] = []
    order = itertools.count()
    dup, ooo, late = overlay.duplicate, overlay.out_of_order, overlay.late

    def hold(record: Record, delay: timedelta, label: str) -> None:
        moved = dataclasses.replace(record, emit_at=record.emit_at + delay, label=label)
        heapq.heappush(held, (moved.emit_at, next(order), moved))

    for record in records:
        # Release held records due before this one; a tick at the same instant goes first, as ticks do.
        while held and (
            held[0][2].emit_at < record.emit_at
            or (held[0][2].emit_at == record.emit_at and not record.is_tick)
        ):
            yield heapq.heappop(held)[2]
        if record.is_tick:
            # Only "late" records may break a tick's promise; an out-of-order one still due after a tick
            # whose promise would cover it (e.g. a closing tick past the end) goes out just before it.
            bound = record.at - lateness
            if any(r.label != LATE and r.at < bound for _, _, r in held):
                early = sorted(item for item in held if item[2].label != LATE and item[2].at < bound)
                held[:] = [item for item in held if item[2].label == LATE or item[2].at >= bound]
                heapq.heapify(held)
                for _, _, due in early:
                    yield dataclasses.replace(due, emit_at=record.emit_at)
            yield record
            continue
        roll = rng.random()
        movable = not record.anchor
        if roll < dup:
            yield record
            hold(record, timedelta(milliseconds=rng.randint(0, 30_000)), DUPLICATE)
        elif roll < dup + ooo and movable:
            hold(record, timedelta(milliseconds=rng.randint(10_000, 240_000)), OUT_OF_ORDER)
        elif roll < dup + ooo + late and movable:
            hold(record, timedelta(milliseconds=rng.randint(360_000, 3_600_000)), LATE)
        else:
            yield record
        if rng.random() < overlay.malformed:
            kind = kinds.pick(rng)
            yield dataclasses.replace(
                record,
                kind="malformed",
                event_id=None,
                value=corrupt(kind, record.value, record.kind, rng),
                label=MALFORMED_PREFIX + kind,
                anchor=False,
            )
    while held:
        yield heapq.heappop(held)[2]
