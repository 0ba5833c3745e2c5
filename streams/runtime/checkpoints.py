"""How the faust shells (escalation and county stage) keep their checkpoints and their input in step.

faust-streaming's own bookkeeping is not enough for that:

- before it commits offsets it flushes its producer buffer, but that flush gives up after 0.1 s without a
  send, so a commit can reach the broker before a table's changelog record does;
- a rebalance that suspends its flow drops records it has already fetched, and its commit then moves past
  a single missing offset;
- its commit moves only over acknowledged offsets, so a record dropped that way (or one a shell skips
  because a rebalance revoked its partition) holds the partition's commit back for good.

So the shells take the offsets out of faust's hands. They never acknowledge a record to faust (which then
commits nothing on the intake topics); they write each checkpoint with a send they wait on, then commit
exactly the offsets it resumes from. They check every record's offset against the one their state expects
next, and when Kafka hands them a later one, `Rewinder` seeks the partition back.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from streams.runtime import faust_internals


async def write_checkpoint(
    app: Any, table: Any, changelog: str, partition: int, key: bytes, blob: bytes | None
) -> Any:
    """Store ``blob`` under ``key`` in ``table`` (None deletes it) and send it to its changelog.

    Returns the pending send: await it before committing what the checkpoint covers. The table's own
    ``send_changelog`` goes through faust's producer buffer, which a commit does not reliably wait for.
    """
    # faust rebuilds the table from the changelog when the partition is assigned.
    faust_internals.table_put(table, key, blob)
    return await app.producer.send(changelog, key, blob, partition, None, None)


async def commit(app: Any, offsets: Mapping[Any, int]) -> None:
    """Commit ``offsets`` (TP -> next offset) for the worker's group, once their checkpoint is written.

    faust's own commit path, minus its ack bookkeeping; it skips partitions no longer assigned and keeps
    faust's commit monitoring informed.
    """
    await faust_internals.commit_offsets(app, offsets)


async def beginning(app: Any, tp: Any) -> int:
    """The first offset ``tp`` still holds: where a partition no checkpoint covers must be read from.

    Not wherever the consumer happens to deliver from: a partition that moves in a rebalance before its
    first checkpoint can come back past records faust has already fetched and then dropped.
    """
    return await faust_internals.earliest_offset(app, tp)


class Rewinder:
    """Seeks a topic-partition back to the offset its state expects next.

    Two ways a partition falls behind what faust delivers:

    - a record past the expected one arrives (`admit`): rewind at once;
    - nothing arrives although the partition has more (`check`): faust drops a fetched record whose offset
      is below the last one it delivered, and a delivery that finishes just after a rebalance leaves that
      mark far ahead of where the partition restarts, so every record up to it is dropped. After
      ``stall_s`` without a record, the partition is rewound to where its state resumes.
    """

    def __init__(self, app: Any, stall_s: float = 3.0) -> None:
        self.app = app
        self.stall_s = stall_s
        self.pending: dict[Any, int] = {}  # tp -> the offset a seek asked for
        self.last_seen: dict[Any, float] = {}  # tp -> when a record (or a seek) last came for it

    async def admit(self, tp: Any, offset: int, expected: int) -> bool:
        """Whether the record at ``offset`` on ``tp`` may be taken: not if it is past ``expected``.

        A record past it rewinds the partition at once; records already fetched past the gap keep arriving
        for a moment after the seek and are refused without another one.
        """
        self.last_seen[tp] = time.monotonic()
        if offset > expected:
            if self.pending.get(tp) != expected:
                await self._seek(tp, expected)
            return False
        self.pending.pop(tp, None)
        return True

    def forget(self, tps: Any) -> None:
        """The partitions were revoked: their new owner rewinds them itself."""
        for tp in tps:
            self.pending.pop(tp, None)
            self.last_seen.pop(tp, None)

    async def check(self, topics: set[str], expected: Callable[[Any], int | None]) -> None:
        """Rewind each assigned partition of ``topics`` that has more records but delivered none lately.

        ``expected(tp)`` is the next offset its state takes, None when its state has never read the
        partition (then it restarts from the beginning, as the group does without a committed offset).
        """
        app = self.app
        if app.rebalancing or app.in_recovery:
            return
        now = time.monotonic()
        consumer = app.consumer
        for tp in consumer.assignment():
            if tp.topic not in topics:
                continue
            if now - self.last_seen.setdefault(tp, now) < self.stall_s:
                continue
            offset = expected(tp)
            if (consumer.highwater(tp) or 0) > (offset or 0):
                await self._seek(tp, offset or 0)

    async def _seek(self, tp: Any, offset: int) -> None:
        self.pending[tp] = offset
        self.last_seen[tp] = time.monotonic()
        await faust_internals.seek(self.app, tp, offset)
