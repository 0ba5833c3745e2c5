"""Closed-loop simulation: the handler model answers the incidents a live pipeline produces.

``gridflow simulate --handlers reactive`` publishes the simulator's reports, alarms and clock ticks, but not
its scripted dispositions. While it publishes, it reads the incidents topic the stream workers write and
hands every snapshot to a `producers.handlers.Reactor`, whose dispositions go out interleaved with the
simulated stream at their event time. The reactor sees an incident at the simulated time of the last record
sent (``now``), so an answer is never older than the ticks already published and never arrives late.

Unlike the offline what-if, a live loop depends on how far the workers lag behind the publisher: a
slower worker shows an incident later, so the handler answers later. Scripted dispositions
(``--handlers scripted``, the default) stay available for replaying history.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime

import orjson

from producers.handlers import Reactor
from producers.record import Record

POLL_EVERY_S = 0.2  # how often the incidents topic is read while publishing


class ClosedLoop:
    """The simulated records minus scripted dispositions, plus the reactor's answers, in time order."""

    def __init__(
        self,
        records: Iterable[Record],
        reactor: Reactor,
        incidents: Callable[[], list[bytes]],
        start: datetime,
    ) -> None:
        self.records = records
        self.reactor = reactor
        self.incidents = incidents
        self.start = start
        self.seen = 0

    def __iter__(self) -> Iterator[Record]:
        now: datetime | None = None
        polled = 0.0
        for record in self.records:
            if record.kind == "disposition":
                continue  # the reactor answers instead of the script
            if now is not None and time.monotonic() - polled >= POLL_EVERY_S:
                polled = time.monotonic()
                self._observe(now)
            yield from self.reactor.due(record.emit_at)
            yield record
            now = record.emit_at

    def _observe(self, now: datetime) -> None:
        for raw in self.incidents():
            incident = orjson.loads(raw)
            # Incidents of an earlier run on the same topics are not this run's to answer.
            if datetime.fromisoformat(incident["updated_at"]) < self.start:
                continue
            self.seen += 1
            self.reactor.observe(incident, now)
