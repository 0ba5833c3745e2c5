"""Which of a partition's intake topics the reader holds back while its sequencer fills up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from streams.runtime.pacing import HOLD_MAX, to_pause

T0 = datetime(2026, 3, 2, tzinfo=UTC)
SOURCES = ("reports", "alarms", "dispositions")
TICKS = {"reports": T0 + timedelta(days=2), "alarms": T0 + timedelta(days=2), "dispositions": T0}


def everything_left(topic: str) -> bool:
    return True


def test_topics_ahead_of_the_slowest_pause_once_the_sequencer_holds_too_much() -> None:
    assert to_pause(TICKS, SOURCES, HOLD_MAX, frozenset(), everything_left) == frozenset()
    paused = to_pause(TICKS, SOURCES, HOLD_MAX + 1, frozenset(), everything_left)
    assert paused == {"reports", "alarms"}


def test_paused_topics_resume_only_at_half_the_limit() -> None:
    paused = frozenset({"reports", "alarms"})
    assert to_pause(TICKS, SOURCES, HOLD_MAX // 2 + 1, paused, everything_left) == paused
    assert to_pause(TICKS, SOURCES, HOLD_MAX // 2, paused, everything_left) == frozenset()


def test_nothing_is_held_back_once_the_slowest_has_nothing_more_to_read() -> None:
    def only_reports_left(topic: str) -> bool:
        return topic == "reports"

    assert to_pause(TICKS, SOURCES, 10 * HOLD_MAX, frozenset(), only_reports_left) == frozenset()


def test_topics_tied_with_the_slowest_keep_flowing() -> None:
    ticks = {**TICKS, "alarms": T0}
    assert to_pause(ticks, SOURCES, HOLD_MAX + 1, frozenset(), everything_left) == {"reports"}


def test_a_topic_that_has_not_ticked_yet_holds_nothing_back() -> None:
    ticks = {"reports": T0, "alarms": T0}
    assert to_pause(ticks, SOURCES, 10 * HOLD_MAX, frozenset(), everything_left) == frozenset()
