"""Clock ticks: event-time progress on every partition of every intake topic.

Every ``interval`` of simulated time, and once more at the end of the period, the stream carries one
:class:`~schemas.messages.ClockTick` per intake topic and partition, sent to that explicit partition with no
key. A tick's ``at`` is the simulated time reached: no later message on the partition has an earlier event
time than ``at`` minus the policy's allowed lateness (unless an overlay deliberately made it late). That is
what lets the streams fire SLA timers at the same logical moments whatever the replay speed.

The very last ticks close the period: their ``at`` is the end plus the allowed lateness, a promise that
holds because nothing follows at all. They let the streams release and decide the period's last minutes
instead of holding them for ticks that will never come.

``tick_times`` and ``tick_records`` are pure; the simulator merges the records into its time-ordered stream,
so a recording holds its ticks and a replay re-sends them unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta

from producers.record import Record
from schemas.decode import encode
from schemas.enums import MessageStatus
from schemas.messages import ClockTick
from schemas.policy import policy
from schemas.topics import TopicSpec


def tick_times(start: datetime, end: datetime, interval: timedelta) -> Iterator[datetime]:
    """``start + interval``, ``start + 2·interval``, … before ``end``, then ``end`` itself."""
    if interval <= timedelta(0):
        raise ValueError(f"tick interval must be positive, got {interval}")
    at = start + interval
    while at < end:
        yield at
        at += interval
    yield end


def tick_records(
    source: str,
    intake: Sequence[TopicSpec],
    start: datetime,
    end: datetime,
    interval: timedelta,
    lateness: timedelta | None = None,
) -> Iterator[Record]:
    """The tick records, in time order; ``intake`` gives the base topic names and their partitions.

    The closing tick is ``lateness`` (default: the bundled policy's allowed lateness) after ``end``."""
    closing = end + (policy().allowed_lateness if lateness is None else lateness)
    times = [(at, at) for at in tick_times(start, end, interval)] + [(closing, end)]
    for seq, (at, emit_at) in enumerate(times):
        for spec in intake:
            for partition in range(spec.partitions):
                tick = ClockTick(
                    status=MessageStatus.EXERCISE, source=source, partition=partition, at=at, seq=seq
                )
                yield Record(
                    topic=spec.name,
                    key=None,
                    partition=partition,
                    at=at,
                    emit_at=emit_at,
                    kind="clock_tick",
                    event_id=None,
                    value=encode(tick),
                )
