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

Implausible time (docs/policy.md): a message further ahead of its own source's latest tick than
``future_bound`` is released as *future* for dead letters, and a tick that far ahead of its source's previous
tick is refused (it would hold the frontier, or declare every later message late). A message that came before
its source's first tick is checked when that tick arrives. Both decisions, again, depend only on the
source's own order.

Pure: no Kafka or faust. The faust shell persists ``Sequencer`` pieces alongside the escalation state.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field, replace
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
    future: tuple[Held, ...] = ()  # too far ahead of their source's clock: for dead letters
    future_tick: bool = False  # the offered tick was too far ahead of its source's clock and was refused


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
    future_bound: timedelta
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
            # A source's first tick is held against the others' (after a restart its own is restored).
            reference = previous if previous is not None else max(self.ticks.values(), default=None)
            if reference is not None and message.at - reference > self.future_bound:
                return Release(frontier=self.released_to, future_tick=True)
            late: tuple[Held, ...] = ()
            future: tuple[Held, ...] = ()
            if previous is None:
                late, future = self._turn_away(topic, message.at)
            if previous is None or message.at > previous:
                self.ticks[topic] = message.at
            release = self._drain()
            return release if not (late or future) else replace(release, late=late, future=future)
        held = _held(topic, offset, message)
        own_tick = self.ticks.get(topic)
        if own_tick is not None and held.at < own_tick - self.allowed_lateness:
            return Release(late=(held,), frontier=self.released_to)
        if own_tick is not None and held.at - own_tick > self.future_bound:
            return Release(future=(held,), frontier=self.released_to)
        # Not late means held.at >= own tick - lateness >= frontier: the frontier has never passed it.
        self._push(held)
        return Release(frontier=self.released_to)

    def hold(self, topic: str, offset: int, message: Intake) -> None:
        """Put back a message held in a checkpoint (no lateness check: it passed one when first offered)."""
        self._push(_held(topic, offset, message))

    def _turn_away(self, topic: str, first_tick: datetime) -> tuple[tuple[Held, ...], tuple[Held, ...]]:
        """At a source's first tick, take back what it sent before that lies further from the tick than the
        future bound, either way: (late, future). Otherwise a message dated years back could be the first
        the core sees and set its clock there."""
        low, high = first_tick - self.future_bound, first_tick + self.future_bound
        if not any(e[3].topic == topic and not low <= e[0] <= high for e in self.heap):
            return (), ()
        late = sorted(e[3] for e in self.heap if e[3].topic == topic and e[0] < low)
        future = sorted(e[3] for e in self.heap if e[3].topic == topic and e[0] > high)
        self.heap = [e for e in self.heap if not (e[3].topic == topic and not low <= e[0] <= high)]
        heapq.heapify(self.heap)
        return tuple(late), tuple(future)

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
