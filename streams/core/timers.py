"""Event-time timers for one partition: an immutable wheel of one-minute buckets.

The escalation step schedules timers (SLA deadlines, the unknown-incident bound of a waiting disposition,
evictions, index pruning) and, whenever the partition watermark moves, takes every timer due at or before
it. Buckets are keyed by epoch minute in a `PMap`, and each bucket is a cons list, so scheduling is O(1)
whatever the number of timers, and taking due timers touches only the minutes the watermark crossed.

Timers are hints, never the truth: the step re-checks the state when a timer fires (a deadline that moved
leaves a stale timer behind, which then does nothing). That keeps rescheduling free of deletions.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from typing import Any, NamedTuple
from uuid import UUID

from streams.core.pmap import PMap

__all__ = ["Timer", "TimerKind", "TimerWheel"]


class TimerKind(IntEnum):
    """What a timer is for; the value also orders timers due at the same instant."""

    SLA = 1  # key: incident id — deadline of the current SLA clock
    PENDING = 2  # key: incident id — a waiting disposition reaches the unknown-incident bound
    EVICT = 3  # key: incident id — drop a finished or idle incident from state
    ALIAS = 4  # key: merged incident id — drop the alias to its survivor
    GRID = 5  # key: grid code — prune the grid's correlation index
    TOWNSHIP = 6  # key: township code — prune the township's cluster window


_UUID_KINDS = frozenset({TimerKind.SLA, TimerKind.PENDING, TimerKind.EVICT, TimerKind.ALIAS})


class Timer(NamedTuple):
    """Fire ``kind`` for ``key`` once the watermark reaches ``at``."""

    at: datetime
    kind: TimerKind
    key: UUID | str

    def sort_key(self) -> tuple[datetime, int, str]:
        return (self.at, self.kind, str(self.key))

    def to_list(self) -> list[Any]:
        return [self.at.isoformat(), int(self.kind), str(self.key)]

    @classmethod
    def from_list(cls, item: list[Any]) -> Timer:
        kind = TimerKind(item[1])
        key: UUID | str = UUID(item[2]) if kind in _UUID_KINDS else str(item[2])
        return cls(datetime.fromisoformat(item[0]), kind, key)


# A bucket is a cons list, newest first: (timer, rest, earliest time in the list). Prepending shares the
# rest, so scheduling copies nothing, and "is anything in this minute due?" is one comparison.
_Cons = tuple[Timer, "_Cons", datetime] | None


def _minute(at: datetime) -> int:
    return int(at.timestamp()) // 60


def _push(timer: Timer, rest: _Cons) -> _Cons:
    return (timer, rest, timer.at if rest is None or timer.at < rest[2] else rest[2])


@dataclass(frozen=True, slots=True)
class TimerWheel:
    """Pending timers by epoch minute.

    ``floor`` is the first minute that may hold a timer; ``scanned`` the watermark's minute at the last
    `pop_due` (every earlier minute is empty). A timer scheduled before ``scanned`` is already due and goes
    into the ``scanned`` bucket, which the next `pop_due` reads first.
    """

    buckets: PMap[int, _Cons]
    floor: int | None = None
    scanned: int | None = None

    @classmethod
    def empty(cls) -> TimerWheel:
        return cls(PMap())

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __iter__(self) -> Iterator[Timer]:
        for minute in sorted(self.buckets):
            node = self.buckets[minute]
            while node is not None:
                yield node[0]
                node = node[1]

    def add(self, timer: Timer) -> TimerWheel:
        return self.add_many([timer])

    def add_many(self, timers: list[Timer]) -> TimerWheel:
        """All of ``timers`` at once (one write per touched minute)."""
        if not timers:
            return self
        heads: dict[int, _Cons] = {}
        floor = self.floor
        for timer in timers:
            minute = _minute(timer.at)
            if self.scanned is not None and minute < self.scanned:
                minute = self.scanned
            floor = minute if floor is None else min(floor, minute)
            heads[minute] = _push(timer, heads[minute] if minute in heads else self.buckets.get(minute))
        return TimerWheel(self.buckets.update(heads), floor, self.scanned)

    def pop_due(self, watermark: datetime) -> tuple[TimerWheel, list[Timer]]:
        """Timers with ``at <= watermark`` (sorted by time, kind, key) and the wheel without them."""
        last = _minute(watermark)
        if self.floor is None or last < self.floor:
            if self.scanned is not None and last <= self.scanned:
                return self, []
            return TimerWheel(self.buckets, self.floor, last), []
        if last == self.floor:
            # The common case within a minute: only the current bucket can hold due timers.
            node = self.buckets.get(last)
            if node is None or node[2] > watermark:
                return (self if self.scanned == last else TimerWheel(self.buckets, self.floor, last)), []
        due: list[Timer] = []
        updates: dict[int, _Cons] = {}
        removed: list[int] = []
        # Walk the minutes the watermark crossed; empty minutes cost one failed lookup each, and clock
        # ticks keep the steps short.
        for minute in range(self.floor, last + 1):
            node = self.buckets.get(minute)
            if node is None:
                continue
            if node[2] > watermark:
                continue  # only possible in the watermark's own minute
            keep: _Cons = None
            while node is not None:
                if node[0].at <= watermark:
                    due.append(node[0])
                else:
                    keep = _push(node[0], keep)
                node = node[1]
            if keep is None:
                removed.append(minute)
            else:
                updates[minute] = keep
        buckets = self.buckets
        for minute in removed:
            buckets = buckets.remove(minute)
        if updates:
            buckets = buckets.update(updates)
        floor = last if len(buckets) else None
        due.sort(key=Timer.sort_key)
        return TimerWheel(buckets, floor, last), due

    def diff(self, older: TimerWheel) -> tuple[list[int], list[int]]:
        """Minutes whose bucket was set or removed since ``older``."""
        return self.buckets.diff(older.buckets)

    @staticmethod
    def bucket_to_json(node: _Cons) -> list[list[Any]]:
        """One minute's timers, sorted (equal buckets encode equally)."""
        timers: list[Timer] = []
        while node is not None:
            timers.append(node[0])
            node = node[1]
        return [t.to_list() for t in sorted(timers, key=Timer.sort_key)]
