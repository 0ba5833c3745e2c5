"""The faust agent of the county stage: ``cluster_signals`` in, ``county_alerts`` out.

Signals are rare (a few per township-hour at most), so the stage's whole state is checkpointed after every
batch, with the next offset to read, into the ``county-checkpoints`` table; on a restart records before
that offset are skipped. Alerts are published and acknowledged by the broker before the checkpoint that
moves past them, so a crash can repeat an alert (same id, dropped downstream) but never lose one.
"""

from __future__ import annotations

import asyncio
from typing import Any

import faust
import orjson

from streams.county import CountyStage, parse


class CountyShell:
    """Registers the county agent and its checkpoint table on a faust app."""

    def __init__(
        self, app: faust.App, source: str, sink: str, upstream: int, partitions: int, window: Any
    ) -> None:
        self.app = app
        self.sink = sink
        self.upstream = upstream
        self.window = window
        self.stages: dict[int, tuple[CountyStage, int]] = {}  # partition -> (stage, next offset)
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
        app.on_partitions_revoked.connect(self._on_revoked)

    async def _on_revoked(self, sender: Any, /, *args: Any, **kwargs: Any) -> None:
        revoked = args[0] if args else kwargs.get("revoked", ())
        for tp in revoked:
            self.stages.pop(tp.partition, None)

    def _stage(self, partition: int) -> tuple[CountyStage, int]:
        known = self.stages.get(partition)
        if known is None:
            stage = CountyStage(self.upstream, self.window)
            next_offset = 0
            blob = self.table.data.get(_key(partition))
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
            for event in events:
                message = event.message
                stage, next_offset = self._stage(message.partition)
                if message.offset < next_offset:
                    continue  # inside the checkpoint this stage was restored from
                for alert in stage.offer(parse(message.value)):
                    pending.append(
                        await producer.send(
                            self.sink, alert.county_code.encode(), alert.to_json(), None, None, None
                        )
                    )
                self.stages[message.partition] = (stage, message.offset + 1)
                touched.add(message.partition)
            if pending:
                await asyncio.gather(*pending)
            for partition in sorted(touched):
                stage, next_offset = self.stages[partition]
                blob = orjson.dumps({"stage": stage.to_json_obj(), "next_offset": next_offset})
                self.table.data[_key(partition)] = blob
                self.table.send_changelog(partition, _key(partition), blob)


def _key(partition: int) -> bytes:
    return b"c%d" % partition
