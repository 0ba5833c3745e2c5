"""Deterministic event order for one partition, whatever order Kafka delivers its topics in.

Partition *p* of the three intake topics (grid reports, camera alarms, dispositions) feeds one escalation
state. Kafka orders each topic-partition, but not the three against each other: how a consumer interleaves
them depends on fetch timing, restarts and worker count. The escalation rules (merging a report with an
alarm, the order of a disposition and the SLA breach it races) must not.

So intake messages wait here until every source has promised, through a clock tick, that nothing earlier
can still come: a tick at time *t* on a source means no later message on it is older than
``t - allowed_lateness``. Messages are released in ``(event time, kind, event id)`` order once the
*frontier* (the lowest tick time over all sources, minus the lateness) has passed them strictly. A message
already older than its own source's tick bound broke that promise: it is released as *late* for dead letters —
a decision that depends only on its own source's order, so it too is deterministic.

Pure: no Kafka or faust. The faust shell persists ``Sequencer`` pieces alongside the escalation state.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

from schemas.messages import CameraAlert, ClockTick, Disposition, GridReport
from streams.core.escalation import event_time

Intake = GridReport | CameraAlert | Disposition

# Ties in event time break by kind, so a report and an alarm of the same second always meet in one order.
_KIND_RANK: Final = {"grid_report": 0, "camera_alert": 1, "disposition": 2}


@dataclass(frozen=True, slots=True, order=True)
class Held:
    """A message waiting for the frontier; ordered (and equal) by the deterministic release key."""

    at: datetime
    rank: int
    event_id: str
    topic: str = field(compare=False)
    offset: int = field(compare=False)
    message: Intake = field(compare=False)


@dataclass(frozen=True, slots=True)
class Release:
    """What one offer yields: messages now in order, those that broke the lateness promise, the frontier."""

    ready: tuple[Held, ...] = ()
    late: tuple[Held, ...] = ()
    frontier: datetime | None = None


# A heap entry: the release key, then the message. The heap compares plain tuples in C; a generated
# dataclass ``__lt__`` per comparison was a noticeable share of the whole step. Two entries with the same
# key (one event delivered twice) get to the `Held`, which compares equal on the key too, so the heap's
# arrangement, and with it the release order of such twins and the order a checkpoint lists them in, is
# exactly that of a heap of `Held`.
_Entry = tuple[datetime, int, str, Held]


@dataclass
class Sequencer:
    """Holds one partition's intake messages until all ``sources`` have ticked past them."""

    sources: tuple[str, ...]
    allowed_lateness: timedelta
    ticks: dict[str, datetime] = field(default_factory=dict)
    heap: list[_Entry] = field(default_factory=list)
    released_to: datetime | None = None

    @property
    def held(self) -> list[Held]:
        """The messages waiting, in heap order (what a checkpoint stores, and `hold` takes back)."""
        return [entry[3] for entry in self.heap]

    def frontier(self) -> datetime | None:
        if len(self.ticks) < len(self.sources):
            return None
        return min(self.ticks.values()) - self.allowed_lateness

    def offer(self, topic: str, offset: int, message: Intake | ClockTick) -> Release:
        """Take one message read at (topic, offset); return what can now be released."""
        if isinstance(message, ClockTick):
            previous = self.ticks.get(topic)
            if previous is None or message.at > previous:
                self.ticks[topic] = message.at
            return self._drain()
        held = _held(topic, offset, message)
        own_tick = self.ticks.get(topic)
        if own_tick is not None and held.at < own_tick - self.allowed_lateness:
            return Release(late=(held,), frontier=self.released_to)
        # Not late means held.at >= own tick - lateness >= frontier: the frontier has never passed it.
        self._push(held)
        return Release(frontier=self.released_to)

    def hold(self, topic: str, offset: int, message: Intake) -> None:
        """Put back a message held in a checkpoint (no lateness check: it passed one when first offered)."""
        self._push(_held(topic, offset, message))

    def _push(self, held: Held) -> None:
        heapq.heappush(self.heap, (held.at, held.rank, held.event_id, held))

    def _drain(self) -> Release:
        frontier = self.frontier()
        if frontier is None or (self.released_to is not None and frontier <= self.released_to):
            return Release(frontier=self.released_to)
        heap = self.heap
        ready: list[Held] = []
        while heap and heap[0][0] < frontier:
            ready.append(heapq.heappop(heap)[3])
        self.released_to = frontier
        return Release(ready=tuple(ready), frontier=frontier)


def _held(topic: str, offset: int, message: Intake) -> Held:
    return Held(event_time(message), _KIND_RANK[message.kind], str(message.event_id), topic, offset, message)
