"""Both Kafka clients gridflow uses (kafka-python for producers, aiokafka under faust) on the real broker."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from kafka import KafkaConsumer, KafkaProducer

KEYS = [f"15080210{i}".encode() for i in range(12)]


def _produce_kafka_python(bootstrap: str, topic: str) -> dict[bytes, int]:
    producer = KafkaProducer(
        bootstrap_servers=bootstrap, enable_idempotence=True, acks="all", compression_type="gzip"
    )
    futures = [(key, producer.send(topic, key=key, value=b"v-" + key)) for key in KEYS for _ in range(3)]
    producer.flush()
    partitions: dict[bytes, set[int]] = {}
    for key, future in futures:
        partitions.setdefault(key, set()).add(future.get(timeout=10).partition)
    producer.close()
    assert all(len(parts) == 1 for parts in partitions.values()), "a key moved between partitions"
    return {key: parts.pop() for key, parts in partitions.items()}


def _consume_kafka_python(bootstrap: str, topic: str, group: str, expected: int) -> list[tuple[bytes, int]]:
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        consumer_timeout_ms=15000,
    )
    seen: list[tuple[bytes, int]] = []
    for record in consumer:
        seen.append((record.key, record.partition))
        if len(seen) == expected:
            break
    consumer.close()
    return seen


def test_kafka_python_keyed_messages_land_on_stable_partitions(
    kafka_bootstrap: str, kafka_topic: str, group_id: str
) -> None:
    first = _produce_kafka_python(kafka_bootstrap, kafka_topic)
    again = _produce_kafka_python(kafka_bootstrap, kafka_topic)

    assert first == again
    assert len(set(first.values())) > 1, "12 keys over 4 partitions all on one partition"
    seen = _consume_kafka_python(kafka_bootstrap, kafka_topic, group_id, expected=2 * 3 * len(KEYS))
    assert len(seen) == 2 * 3 * len(KEYS)
    assert all(first[key] == partition for key, partition in seen)


async def _aiokafka_round_trip(bootstrap: str, topic: str, group: str) -> tuple[dict[bytes, int], int]:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        placed = {key: (await producer.send_and_wait(topic, b"a-" + key, key=key)).partition for key in KEYS}
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=group, auto_offset_reset="earliest"
    )
    await consumer.start()
    received = 0
    try:
        async with asyncio.timeout(30):
            while received < len(KEYS):
                batch = await consumer.getmany(timeout_ms=1000)
                for records in batch.values():
                    for record in records:
                        assert record.partition == placed[record.key]
                        received += 1
    finally:
        await consumer.stop()
    return placed, received


def test_aiokafka_round_trip_agrees_with_kafka_python_partitioner(
    kafka_bootstrap: str, kafka_topic: str, group_id: str
) -> None:
    placed, received = asyncio.run(_aiokafka_round_trip(kafka_bootstrap, kafka_topic, group_id))
    by_kafka_python = _produce_kafka_python(kafka_bootstrap, kafka_topic)

    assert received == len(KEYS)
    # Both clients hash keys with murmur2, so producers and faust agree on where a township lives.
    assert placed == by_kafka_python
