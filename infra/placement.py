"""Where a keyed record lands: the partition Kafka's default partitioner gives its key.

Every keyed record in gridflow goes there, whichever client sends it: the publisher's intake records by
township, the stream worker's outputs by incident, the tests' expectations of both. murmur2 (as in the Java
client) is kafka-python's, imported on the first placement only, so importing this module loads no Kafka
client. In pure Python it costs about 8 µs per key, more than the rest of queueing a message, while a day
holds only ~60 township keys and an incident's outputs share one key: the answers are memoised here, once
for every caller.
"""

from __future__ import annotations

from functools import lru_cache

# Keys remembered; least recently used ones go first beyond it (a day's incidents fit well within it).
MEMO_SIZE = 100_000


@lru_cache(maxsize=MEMO_SIZE)
def key_partition(key: bytes, partitions: int) -> int:
    """The partition among ``partitions`` that Kafka's default partitioner gives ``key`` (memoised)."""
    from kafka.partitioner.default import murmur2

    return (int(murmur2(key)) & 0x7FFFFFFF) % partitions
