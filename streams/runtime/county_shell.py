"""The faust agent of the county stage: ``cluster_signals`` in, ``county_alerts`` out.

Signals are rare (a few per township-hour at most), so the stage's whole state is checkpointed after every
batch, with the next offset to read, into the ``county-checkpoints`` table; on a restart records before
that offset are skipped, and a record past it rewinds the partition (see `streams.runtime.checkpoints`).
Alerts are published and acknowledged by the broker before the checkpoint that moves past them, and offsets
are committed only once the broker has that checkpoint, so a crash can repeat an alert (same id, dropped
downstream) but never lose one.
"""

from __future__ import annotations

import asyncio
from typing import Any

import faust
import orjson
from faust.types import TP

from streams.core.county import CountyStage, parse
from streams.runtime import faust_internals
from streams.runtime.checkpoints import Rewinder, beginning, commit, write_checkpoint


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
    ) -> None:
        self.app = app
        self.min_townships = min_townships
        self.source = source
        self.sink = sink
        self.upstream = upstream
        self.window = window
        # partition -> (stage, next offset; None before the first record of a stage with no checkpoint)
        self.stages: dict[int, tuple[CountyStage, int | None]] = {}
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
        topic = app.topic(source, key_serializer="raw", value_serializer="raw")
        app.agent(topic, name="county", concurrency=1)(self._run)
        self.rewinder = Rewinder(app)
        app.on_partitions_revoked.connect(self._on_revoked)
        app.timer(1.0)(self._rewind_stalled)

    async def _on_revoked(self, sender: Any, /, *args: Any, **kwargs: Any) -> None:
        revoked = args[0] if args else kwargs.get("revoked", ())
        for tp in revoked:
            self.stages.pop(tp.partition, None)
        self.rewinder.forget(revoked)

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

    async def _run(self, stream: Any) -> None:
        producer = self.app.producer
        async for events in stream.take_events(500, within=0.1):
            touched: set[int] = set()
            pending = []
            assigned = self.app.consumer.assignment()
            for event in events:
                message = event.message
                # Never acked: offsets are committed from checkpoints (streams.runtime.checkpoints).
                faust_internals.hold_ack(message)
                if message.tp not in assigned:
                    continue  # revoked while this batch waited: its new owner reads it again
                stage, next_offset = self._stage(message.partition)
                if next_offset is None:  # no checkpoint yet: from the partition's beginning
                    next_offset = await beginning(self.app, message.tp)
                    self.stages[message.partition] = (stage, next_offset)
                if not await self.rewinder.admit(message.tp, message.offset, next_offset):
                    continue
                touched.add(message.partition)  # a redelivery too: its offset is committed again
                if message.offset < next_offset:
                    continue  # inside the checkpoint this stage was restored from
                for alert in stage.offer(parse(message.value)):
                    pending.append(
                        await producer.send(
                            self.sink, alert.county_code.encode(), alert.to_json(), None, None, None
                        )
                    )
                self.stages[message.partition] = (stage, message.offset + 1)
            if pending:
                await asyncio.gather(*pending)
            writes, offsets = [], {}
            for partition in sorted(touched):
                stage, next_offset = self.stages[partition]
                assert next_offset is not None  # set by the record that touched the partition
                offsets[TP(self.source, partition)] = next_offset
                blob = orjson.dumps({"stage": stage.to_json_obj(), "next_offset": next_offset})
                writes.append(
                    await write_checkpoint(
                        self.app, self.table, self.changelog_name, partition, _key(partition), blob
                    )
                )
            if writes:
                await asyncio.gather(*writes)
                await commit(self.app, offsets)

    async def _rewind_stalled(self) -> None:
        await self.rewinder.check({self.source}, lambda tp: self._stage(tp.partition)[1])


def _key(partition: int) -> bytes:
    return b"c%d" % partition
