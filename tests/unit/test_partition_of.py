"""`partition_of` places a record where the publisher's partitioner does: offline runs match the broker."""

from __future__ import annotations

from datetime import UTC, datetime

from kafka.partitioner.default import DefaultPartitioner

from producers.partitioner import partition_of
from producers.record import Record
from schemas.geography import geography

AT = datetime(2026, 3, 2, tzinfo=UTC)


def _record(key: str | None, partition: int | None = None) -> Record:
    return Record("intake.grid_reports", key, partition, AT, AT, "grid_report", None, b"{}")


class _Metadata:
    """The three cluster-metadata answers the partitioner asks for: one topic of six partitions."""

    def topics(self) -> set[str]:
        return {"t"}

    def partitions_for_topic(self, topic: str) -> set[int]:
        return set(range(6))

    def available_partitions_for_topic(self, topic: str) -> set[int]:
        return set(range(6))


def test_every_township_lands_where_kafka_python_puts_it() -> None:
    townships = {grid.code[:9] for grid in geography().grids()}
    assert len(townships) > 50
    placed = set()
    for key in townships:
        expected = DefaultPartitioner().partition("t", key, key.encode(), None, None, _Metadata())
        assert partition_of(_record(key), 6) == expected
        placed.add(expected)
    assert len(placed) == 6


def test_an_explicit_partition_wins() -> None:
    assert partition_of(_record(None, partition=4), 6) == 4
