"""`IntakeReader.skipped`: a record past the offset a state takes next sends the partition back to it."""

from __future__ import annotations

from typing import Any

from aiokafka import TopicPartition

from streams.runtime.intake import IntakeReader

PART = TopicPartition("intake", 3)


class SeekLog:
    """Stands in for the aiokafka consumer's `seek` only: records where the reader sends a partition."""

    def __init__(self) -> None:
        self.seeks: list[tuple[TopicPartition, int]] = []

    def seek(self, part: TopicPartition, offset: int) -> None:
        self.seeks.append((part, offset))


def reader() -> tuple[IntakeReader, SeekLog]:
    log = SeekLog()
    consumer: Any = log
    return IntakeReader(app=None, sources=["intake"], consumer=consumer), log


def test_the_expected_record_and_earlier_ones_are_read_on() -> None:
    intake, log = reader()
    assert not intake.skipped(PART, 10, 10)
    assert not intake.skipped(PART, 7, 10)
    assert not intake.skipped(PART, 0, None)  # a partition no state covers yet takes any first record
    assert log.seeks == []


def test_a_record_past_the_expected_one_seeks_back_to_it() -> None:
    intake, log = reader()
    assert intake.skipped(PART, 11, 10)
    assert log.seeks == [(PART, 10)]
