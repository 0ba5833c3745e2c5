"""The worker's outbox (`streams.runtime.outbox`) on the real broker: whole batches land as keyed sends do."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from streams.runtime.outbox import Outbox

KEYS = [f"incident-{i}".encode() for i in range(40)]


async def _send(bootstrap: str, topic: str) -> dict[bytes, int]:
    """Send 30 numbered messages per key through an outbox whose batches hold only a few; return where
    a plain keyed send puts each key."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", max_batch_size=2048)
    await producer.start()
    try:
        outbox = await Outbox.open(producer, [topic])
        futures = []
        for n in range(30):
            for key in KEYS:
                outbox.add(topic, key, b"%d" % n)
            outbox.add(topic, None, b"unkeyed-%d" % n, partition=n % 4)
            if n % 7 == 6:  # several sends, as a worker sends once per batch
                futures += await outbox.send()
        futures += await outbox.send()
        assert outbox.queued == 0
        await asyncio.gather(*futures)
        placed = {}
        for key in KEYS:
            metadata = await (await producer.send(topic, b"probe", key=key))
            placed[key] = metadata.partition
        return placed
    finally:
        await producer.stop()


async def _read(bootstrap: str, topic: str, count: int) -> list[tuple[int, bytes | None, bytes]]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    try:
        seen: list[tuple[int, bytes | None, bytes]] = []
        while len(seen) < count:
            batches = await asyncio.wait_for(consumer.getmany(timeout_ms=1000), 30)
            for tp, records in batches.items():
                seen += [(tp.partition, r.key, r.value) for r in records if r.value is not None]
        return seen
    finally:
        await consumer.stop()


def test_outbox_messages_land_where_keyed_sends_do_and_in_order(
    kafka_bootstrap: str, kafka_topic: str
) -> None:
    placed = asyncio.run(_send(kafka_bootstrap, kafka_topic))
    expected = 30 * len(KEYS) + 30 + len(KEYS)  # the outbox's, the unkeyed ones and the probes
    seen = asyncio.run(_read(kafka_bootstrap, kafka_topic, expected))

    assert len(seen) == expected
    assert len(set(placed.values())) > 1
    numbers: dict[bytes, list[int]] = {}
    for partition, key, value in seen:
        if key is None:
            assert int(value.removeprefix(b"unkeyed-")) % 4 == partition
            continue
        assert partition == placed[key], "a batched message left its key's partition"
        if value != b"probe":
            numbers.setdefault(key, []).append(int(value))
    assert all(got == list(range(30)) for got in numbers.values()), "a key's messages came out of order"
    assert set(numbers) == set(KEYS)
