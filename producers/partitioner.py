"""Where the publisher puts a record: keyed records by Kafka's default placement, clock ticks by number.

`partition_of` answers offline (tests, benchmarks) what `MemoPartitioner` does inside the producer, both
through `infra.placement.key_partition`, so an offline run and the broker agree.
"""

from __future__ import annotations

from typing import Any

from kafka.partitioner.default import DefaultPartitioner

from infra.placement import key_partition
from producers.record import Record


def partition_of(record: Record, partitions: int) -> int:
    """The partition the publisher puts ``record`` on (kafka-python's default placement of its key)."""
    if record.partition is not None:
        return record.partition
    assert record.key is not None, "intake records are keyed by township"
    return key_partition(record.key.encode(), partitions)


class MemoPartitioner(DefaultPartitioner):  # type: ignore[misc]
    """kafka-python's DefaultPartitioner through the one memoised placement (`infra.placement`).

    The default one sorts the partition list and runs murmur2 in pure Python for every record; a day holds
    only ~60 township keys, so remembering the answer removes that cost without changing where keys go.
    """

    def partition(
        self,
        topic: str,
        key: object,
        serialized_key: bytes | None,
        value: object,
        serialized_value: object,
        cluster: Any,
    ) -> int:
        if serialized_key is None:
            return int(super().partition(topic, key, serialized_key, value, serialized_value, cluster))
        known = cluster.partitions_for_topic(topic)
        if not known:  # an unknown topic: the default partitioner says so
            return int(super().partition(topic, key, serialized_key, value, serialized_value, cluster))
        # Kafka numbers a topic's partitions 0..n-1, so the default's sorted list maps index to itself.
        return key_partition(serialized_key, len(known))
