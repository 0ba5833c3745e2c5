"""The faust shell of the county stage: ``cluster_signals`` in, ``county_alerts`` out.

As with the intake (`streams.runtime.intake`), faust keeps the group and the checkpoint table, and an
`IntakeReader` of the stage's own reads the ``cluster_signals`` partitions faust assigned, in batches,
from the offset each partition's stage takes next. (Through faust's per-record path the stage depended
on faust's mark of the last offset it delivered: after a rebalance dropped fetched records, a seek back
to the stage's offset was refused below that mark while later records kept arriving, and the partition
was fetched again and again without moving on.)

Signals are few, but every upstream batch sends a watermark to every partition, so the stage's whole
state is checkpointed after every batch, with the next offset to read, into the ``county-checkpoints``
table. Alerts are published and acknowledged by the broker before the checkpoint that moves past them,
and offsets are committed only once the broker has that checkpoint, so a crash can repeat an alert (same
id, dropped downstream) but never lose one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import faust
import orjson
from faust.types import TP

from streams.core.county import CountyStage, parse
from streams.runtime import faust_internals
from streams.runtime.checkpoints import commit, write_checkpoint
from streams.runtime.intake import Batch, IntakeReader, hold_unread

BATCH_MAX = 500


class CountyShell:
    """Registers the county agent and its checkpoint table on a faust app."""

    def __init__(
        self,
        app: faust.App,
        source: str,
        sink: str,
        upstream: int,
        partitions: int,
        window: Any,
        min_townships: int,
        servers: str,
        options: dict[str, Any],
    ) -> None:
        self.app = app
        self.min_townships = min_townships
        self.source = source
        self.sink = sink
        self.upstream = upstream
        self.window = window
        self.servers = servers
        self.options = options
        # partition -> (stage, next offset; None until the reader takes a partition no checkpoint covers)
        self.stages: dict[int, tuple[CountyStage, int | None]] = {}
        self.lock = asyncio.Lock()
        self.changelog_name = f"{source}-county-checkpoints-changelog"
        self.table = app.Table(
            "county-checkpoints",
            default=None,
            partitions=partitions,
            changelog_topic=app.topic(
                self.changelog_name,
                partitions=partitions,
                key_serializer="raw",
                value_serializer="raw",
                compacting=True,
                internal=True,
            ),
        )
        # The agent makes faust subscribe to the source (so the group assigns its partitions with the
        # table's); the records themselves are read by `_read`.
        topic = app.topic(source, key_serializer="raw", value_serializer="raw")
        app.agent(topic, name="county", concurrency=1)(hold_unread)
        app.task(self._read)
        app.on_partitions_revoked.connect(self._on_revoked)

    async def _on_revoked(self, sender: Any, /, *args: Any, **kwargs: Any) -> None:
        # Taking the lock lets a batch in progress finish with the stages it started with.
        revoked = args[0] if args else kwargs.get("revoked", ())
        async with self.lock:
            for tp in revoked:
                self.stages.pop(tp.partition, None)

    def _stage(self, partition: int) -> tuple[CountyStage, int | None]:
        known = self.stages.get(partition)
        if known is None:
            stage = CountyStage(self.upstream, self.window, self.min_townships)
            next_offset = None
            blob = faust_internals.table_get(self.table, _key(partition))
            if blob:
                body = orjson.loads(blob)
                stage.restore(body["stage"])
                next_offset = body["next_offset"]
            known = self.stages[partition] = (stage, next_offset)
        return known

    async def _read(self) -> None:
        reader = IntakeReader.create(self.app, [self.source], self.servers, self.options, BATCH_MAX)
        await reader.run(self.lock, self._position(reader), self._feed)

    def _position(self, reader: IntakeReader) -> Callable[[TP], Awaitable[int]]:
        async def position(tp: TP) -> int:
            """Where a newly taken partition is read from: the next offset its stage takes."""
            stage, next_offset = self._stage(tp.partition)
            if next_offset is None:  # no checkpoint yet: from the partition's beginning
                next_offset = await reader.beginning(tp)
                self.stages[tp.partition] = (stage, next_offset)
            return next_offset

        return position

    async def _feed(self, reader: IntakeReader, batch: Batch) -> None:
        producer = self.app.producer
        pending, offsets = [], {}
        for part, records in batch.items():
            stage, next_offset = self._stage(part.partition)
            assert next_offset is not None  # set when the reader took the partition
            for record in records:
                if reader.skipped(part, record.offset, next_offset):
                    break
                if record.offset < next_offset:
                    continue  # inside the checkpoint this stage was restored from
                for alert in stage.offer(parse(record.value)):
                    pending.append(
                        await producer.send(
                            self.sink, alert.county_code.encode(), alert.to_json(), None, None, None
                        )
                    )
                next_offset = record.offset + 1
            self.stages[part.partition] = (stage, next_offset)
            offsets[TP(self.source, part.partition)] = next_offset
        if pending:
            await asyncio.gather(*pending)
        writes = []
        for partition in sorted(tp.partition for tp in offsets):
            stage, next_offset = self.stages[partition]
            blob = orjson.dumps({"stage": stage.to_json_obj(), "next_offset": next_offset})
            writes.append(
                await write_checkpoint(
                    self.app, self.table, self.changelog_name, partition, _key(partition), blob
                )
            )
        await asyncio.gather(*writes)
        await commit(self.app, offsets)


def _key(partition: int) -> bytes:
    return b"c%d" % partition
