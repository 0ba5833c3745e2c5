"""Publishing a batch's outputs as whole producer batches, one per topic-partition.

A worker emits two to three messages per intake record. Sent one by one, each goes through faust's and
aiokafka's per-message path (futures, metadata checks, debug logging): more time than the escalation step
that made it. Here they are appended to one `BatchBuilder` per topic-partition and handed to the producer
together, which is what aiokafka's batch API is for.

Keys go to the partition Kafka's default partitioner picks (murmur2 of the key), as a keyed send would,
so a compacted topic keeps one key on one partition whichever way it was sent (`infra.placement`, which
memoises it: an incident's outputs share a key).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from infra.placement import key_partition


class Outbox:
    """Outputs waiting to be sent, grouped per topic-partition in producer batches."""

    def __init__(self, producer: Any, partitions: dict[str, int]) -> None:
        self.producer = producer  # an aiokafka producer
        self.partitions = partitions  # topic -> partition count
        self.batches: dict[tuple[str, int], Any] = {}
        self.full: list[tuple[str, int, Any]] = []  # batches that reached the size limit, in order
        self.queued = 0  # messages added since the last send

    @classmethod
    async def open(cls, producer: Any, topics: Iterable[str]) -> Outbox:
        """An outbox for ``topics``, their partition counts taken from the broker's metadata."""
        return cls(producer, {topic: len(await producer.partitions_for(topic)) for topic in topics})

    def add(self, topic: str, key: bytes | None, value: bytes, partition: int | None = None) -> None:
        """Queue one message; ``partition`` None places it by ``key``."""
        self.queued += 1
        if partition is None:
            assert key is not None, "a message without a key needs a partition"
            partition = key_partition(key, self.partitions[topic])
        batch = self.batches.get((topic, partition))
        if batch is None:
            batch = self.batches[(topic, partition)] = self.producer.create_batch()
        if batch.append(key=key, value=value, timestamp=None) is None:
            # Full: it goes out as it is, and a new batch takes the message (a first message always fits).
            self.full.append((topic, partition, batch))
            batch = self.batches[(topic, partition)] = self.producer.create_batch()
            batch.append(key=key, value=value, timestamp=None)

    async def send(self) -> list[asyncio.Future[Any]]:
        """Hand every queued batch to the producer; the futures resolve once the broker has them."""
        queued = [*self.full, *((topic, p, batch) for (topic, p), batch in self.batches.items())]
        self.full, self.batches, self.queued = [], {}, 0
        return [await self.producer.send_batch(batch, topic, partition=p) for topic, p, batch in queued]
