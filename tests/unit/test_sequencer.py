"""The sequencer releases one partition's messages in the same order however its topics interleave."""

from __future__ import annotations

import itertools
import uuid
from datetime import datetime, timedelta, timezone

from schemas.enums import DispositionAction, MessageStatus
from schemas.messages import ClockTick, Disposition
from streams.core.sequencer import Sequencer

CST = timezone(timedelta(hours=8))
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=CST)


def _grid() -> str:
    from schemas.geography import geography

    return geography().grids()[0].code


def disposition(minute: int, n: int) -> Disposition:
    grid = _grid()
    return Disposition(
        status=MessageStatus.EXERCISE,
        event_id=uuid.UUID(int=minute * 1000 + n),
        incident_id=uuid.UUID(int=1),
        grid_code=grid,
        unit_code=grid,
        action=DispositionAction.PROGRESS,
        at=T0 + timedelta(minutes=minute),
    )


def tick(minute: int, seq: int) -> ClockTick:
    return ClockTick(
        status=MessageStatus.EXERCISE, source="sim", partition=0, at=T0 + timedelta(minutes=minute), seq=seq
    )


def _run(streams: dict[str, list[tuple[int, object]]], order: list[str]) -> tuple[list[str], list[str]]:
    seq = Sequencer(sources=("a", "b"), allowed_lateness=timedelta(minutes=5), future_bound=timedelta(days=7))
    positions = dict.fromkeys(streams, 0)
    released: list[str] = []
    late: list[str] = []
    for topic in order:
        offset, message = streams[topic][positions[topic]]
        positions[topic] += 1
        out = seq.offer(topic, offset, message)  # type: ignore[arg-type]
        released += [h.event_id for h in out.ready]
        late += [h.event_id for h in out.late]
    return released, late


STREAMS: dict[str, list[tuple[int, object]]] = {
    "a": [
        (0, disposition(1, 1)),
        (1, disposition(3, 1)),
        (2, tick(10, 0)),
        (3, disposition(12, 1)),
        (4, tick(20, 1)),
    ],
    "b": [
        (0, disposition(2, 2)),
        (1, tick(10, 0)),
        (2, disposition(3, 2)),
        (3, disposition(11, 2)),
        (4, tick(20, 1)),
    ],
}


def test_every_interleaving_releases_the_same_order() -> None:
    outcomes: set[tuple[tuple[str, ...], tuple[str, ...]]] = set()
    for picks in set(itertools.permutations(["a"] * 5 + ["b"] * 5)):
        released_list, late_list = _run(STREAMS, list(picks))
        outcomes.add((tuple(released_list), tuple(late_list)))

    assert len(outcomes) == 1
    released, late = outcomes.pop()
    # b promised at minute 10 that nothing older than minute 5 follows; its minute-3 message broke that.
    assert late == (str(disposition(3, 2).event_id),)
    # Everything before the frontier (20 - 5 = minute 15) is out, in event-time order.
    expected = [
        disposition(1, 1),
        disposition(2, 2),
        disposition(3, 1),
        disposition(11, 2),
        disposition(12, 1),
    ]
    assert released == tuple(str(d.event_id) for d in expected)


def test_nothing_is_released_until_every_source_has_ticked() -> None:
    seq = Sequencer(sources=("a", "b"), allowed_lateness=timedelta(minutes=5), future_bound=timedelta(days=7))
    seq.offer("a", 0, disposition(1, 1))
    out = seq.offer("a", 1, tick(30, 0))

    assert out.ready == ()
    assert seq.offer("b", 0, tick(30, 0)).ready[0].event_id == str(disposition(1, 1).event_id)


def test_a_message_older_than_its_own_sources_promise_is_late() -> None:
    seq = Sequencer(sources=("a",), allowed_lateness=timedelta(minutes=5), future_bound=timedelta(days=7))
    seq.offer("a", 0, tick(30, 0))

    out = seq.offer("a", 1, disposition(20, 1))

    assert [h.event_id for h in out.late] == [str(disposition(20, 1).event_id)]
    assert out.ready == ()
    assert seq.offer("a", 2, disposition(26, 1)).late == ()  # within the 5-minute promise
