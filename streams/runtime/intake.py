"""Reading the intake in batches through an aiokafka consumer of the worker's own, on faust's assignment.

faust keeps the group: its agent subscribes to the intake topics, so the group assigns their partitions
and the checkpoint table's partitions together, and faust recovers the table before it lets the worker
go on. But faust's per-record path (its fetcher, one `Event` per record, the stream's buffers) costs more
per record than the escalation step. So faust's own fetch of the intake partitions is paused, and an
`IntakeReader` — a plain aiokafka consumer without a group, ``assign()``-ed to exactly the intake
partitions faust holds — reads them with ``getmany``, whole batches per partition.

The reader follows faust's assignment: while faust rebalances or recovers tables it reads nothing; once
the group has settled (a new generation), it takes the intake partitions faust now holds and seeks each to
the offset its partition's state takes next (from a checkpoint, or the partition's first offset). A batch
fetched across a rebalance is dropped: it is read again from the state's offsets. So the reader never
moves past a record its state has not taken. Offsets are committed through the faust consumer from
checkpoints only (`streams.runtime.checkpoints`): by the shells after each checkpoint, and by the reader
when it takes a new generation's partitions, at the offsets their checkpoints resume from.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError
from aiokafka.helpers import create_ssl_context

from streams.runtime import faust_internals
from streams.runtime.checkpoints import commit

Batch = dict[TopicPartition, list[Any]]  # aiokafka's getmany: partition -> ConsumerRecords

log = logging.getLogger(__name__)

# The reader waits at most this long for records, and this long between looks at faust's assignment
# while it has none.
FETCH_MS = 100
FOLLOW_S = 0.05
RETRY_S = 1.0  # after a Kafka error, the reader waits this long before it reads again


async def hold_unread(stream: Any) -> None:
    """The agent that keeps faust subscribed to topics an `IntakeReader` reads.

    faust's fetch of them is paused; records it fetched before the pause took effect end here, never
    acknowledged: the reader reads them again from the state's offsets, and offsets are committed from
    checkpoints only.
    """
    async for event in stream.events():
        faust_internals.hold_ack(event.message)


def reader_options(options: dict[str, Any]) -> dict[str, Any]:
    """kafka-python's security options in aiokafka's spelling (a CA file becomes an SSL context)."""
    options = dict(options)
    cafile = options.pop("ssl_cafile", None)
    if cafile is not None:
        options["ssl_context"] = create_ssl_context(cafile=cafile)
    return options


class IntakeReader:
    """An aiokafka consumer that follows the intake partitions faust assigned to this worker."""

    def __init__(self, app: Any, sources: Iterable[str], consumer: AIOKafkaConsumer) -> None:
        self.app = app
        self.sources = frozenset(sources)
        self.consumer = consumer
        self.synced: tuple[int, frozenset[Any]] | None = None  # (generation, faust TPs) read now
        self.committed_generation: int | None = None  # the last generation whose positions were committed
        # partition -> its topics paused for now (streams.runtime.pacing)
        self.held_back: dict[int, frozenset[str]] = {}

    @classmethod
    def create(
        cls, app: Any, sources: Iterable[str], servers: str, options: dict[str, Any], max_records: int
    ) -> IntakeReader:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=servers,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=max_records,
            **reader_options(options),
        )
        return cls(app, sources, consumer)

    def wanted(self) -> tuple[int, frozenset[Any]] | None:
        """The generation and intake partitions to read now; None while faust rebalances or recovers."""
        app = self.app
        if not faust_internals.settled(app):
            return None
        tps = frozenset(tp for tp in app.consumer.assignment() if tp.topic in self.sources)
        return faust_internals.generation(app), tps

    def current(self) -> bool:
        """Whether what the reader reads is still what faust holds (check after each fetch, under the
        lock that on-revoke handlers take)."""
        wanted = self.wanted()
        return wanted is not None and wanted == self.synced

    async def follow(self, position: Callable[[Any], Any]) -> bool:
        """Take faust's current assignment if it changed; False while there is nothing to read.

        ``position(tp)`` is awaited for each partition taken and names the offset to read from.
        """
        wanted = self.wanted()
        if wanted is None:
            return False
        if wanted != self.synced:
            generation, tps = wanted
            faust_internals.pause_fetching(self.app, tps)
            parts = {tp: TopicPartition(tp.topic, tp.partition) for tp in tps}
            self.consumer.assign(list(parts.values()))  # which resumes every partition
            self.held_back = {}
            positions = {tp: await position(tp) for tp in tps}
            for tp, part in parts.items():
                self.consumer.seek(part, positions[tp])
            self.synced = wanted
            if generation != self.committed_generation:
                # faust revoked every partition before this generation, so each state was just restored
                # from its last checkpoint. The group's commit can be behind that checkpoint (a worker
                # killed after the broker had it and before the commit): commit where the states resume,
                # or a partition that gets no more input would show as behind for good.
                await commit(self.app, positions)
                self.committed_generation = generation
        return bool(self.synced[1])

    async def beginning(self, tp: Any) -> int:
        part = TopicPartition(tp.topic, tp.partition)
        return int((await self.consumer.beginning_offsets([part]))[part])

    def skipped(self, part: TopicPartition, offset: int, expected: int | None) -> bool:
        """Whether a record at ``offset`` comes after records never seen (past ``expected``, the next
        offset the partition's state takes); if so the partition is read again from ``expected``, and the
        rest of its batch must be dropped."""
        if expected is None or offset <= expected:
            return False
        self.consumer.seek(part, expected)
        return True

    def more(self, part: TopicPartition, expected: int | None) -> bool:
        """Whether ``part`` has records past ``expected`` (as of the last fetch; False if not known)."""
        highwater = self.consumer.highwater(part)
        return highwater is not None and expected is not None and expected < highwater

    def hold_back(self, partition: int, topics: frozenset[str]) -> None:
        """Keep exactly ``topics`` of ``partition`` paused (its records already fetched are read again
        once it resumes)."""
        paused = self.held_back.get(partition, frozenset())
        if topics != paused:
            self.consumer.resume(*(TopicPartition(t, partition) for t in paused - topics))
            self.consumer.pause(*(TopicPartition(t, partition) for t in topics - paused))
            self.held_back[partition] = topics

    async def fetch(self, timeout_ms: int) -> Batch:
        batch: Batch = await self.consumer.getmany(timeout_ms=timeout_ms)
        return batch

    async def run(
        self,
        lock: asyncio.Lock,
        position: Callable[[Any], Awaitable[int]],
        feed: Callable[[IntakeReader, Batch], Awaitable[None]],
    ) -> None:
        """Read until cancelled, handing each batch to ``feed`` while faust's assignment is still the one
        read (``lock`` is the one the shell's on-revoke handler takes); ``position`` as in `follow`."""
        await self.consumer.start()
        try:
            while True:
                try:
                    async with lock:
                        reading = await self.follow(position)
                    batch = await self.fetch(FETCH_MS) if reading else None
                    faust_internals.polled(self.app)
                except KafkaError as error:
                    # The reader's own calls only (an error publishing crashes the worker, which then
                    # restarts from its checkpoints): once the broker answers again, the reader starts
                    # over from the states' offsets.
                    log.warning(
                        "reader of %s: %r; reading again from the states' offsets",
                        sorted(self.sources),
                        error,
                    )
                    self.synced = None
                    await asyncio.sleep(RETRY_S)
                    continue
                if not reading:
                    await asyncio.sleep(FOLLOW_S)
                elif batch:
                    async with lock:
                        if self.current():  # else a rebalance came between: read again after it
                            await feed(self, batch)
                    # A fetch from records already buffered returns without suspending, and so can a
                    # batch: with a backlog, this loop would keep the event loop from faust's own tasks
                    # (heartbeats, the county stage, timers) for as long as the backlog lasts.
                    await asyncio.sleep(0)
        finally:
            await self.consumer.stop()
