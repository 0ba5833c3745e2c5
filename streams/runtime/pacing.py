"""Pacing one partition's intake topics against each other, so its sequencer does not fill up.

Partition *p* of the three intake topics feeds one sequencer (`streams.core.sequencer`), which holds each
record until every topic has ticked past it. Read from a backlog, the topics move through event time at
different speeds: dispositions are five to eight times as many records as reports or alarms, and a fetch
takes about as many bytes from each partition. In one 35-day soak whose worker fell behind, reports and
alarms ran days of event time ahead of dispositions, and the sequencers held up to 43,000 records each,
in memory and again in every checkpoint (186 MB of checkpoint records in the table).

So once a partition's sequencer holds more than ``HOLD_MAX`` records, the reader pauses that partition's
topics whose clock is ahead of the slowest one, as long as the slowest still has records to read; it
resumes them once the sequencer holds at most half as many, or the slowest has nothing more to read. The
decisions do not change: the sequencer's release order never depends on the order topics are read in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

HOLD_MAX = 5000


def to_pause(
    ticks: Mapping[str, datetime],
    sources: Sequence[str],
    held: int,
    paused: frozenset[str],
    more: Callable[[str], bool],
) -> frozenset[str]:
    """The topics of one partition to keep paused, given each topic's last tick, how many records the
    sequencer holds, the topics paused now, and whether a topic has records left to read."""
    limit = HOLD_MAX // 2 if paused else HOLD_MAX
    if held <= limit or any(source not in ticks for source in sources):
        return frozenset()
    slowest = min(ticks[source] for source in sources)
    behind = [source for source in sources if ticks[source] == slowest]
    if not any(more(source) for source in behind):
        return frozenset()  # the slowest have nothing more to read: holding the others back gains nothing
    return frozenset(source for source in sources if ticks[source] > slowest)
