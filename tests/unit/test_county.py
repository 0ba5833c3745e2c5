"""The county stage: alerts when several townships of a county cluster on one category, in one order."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from schemas.enums import MessageStatus
from schemas.policy import policy
from streams.core.county import CountyStage, Watermark, parse
from streams.core.outputs import ClusterSignal

CST = timezone(timedelta(hours=8))
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=CST)
HOUR = timedelta(hours=1)


def signal(township: str, minute: int, category: str = "property_management") -> ClusterSignal:
    at = T0 + timedelta(minutes=minute)
    return ClusterSignal(
        status=MessageStatus.EXERCISE,
        signal_id=ClusterSignal.id_for(township, category, at),
        county_code=township[:6],
        township_code=township,
        category=category,
        count=5,
        window_start=at - HOUR,
        at=at,
        incident_ids=(uuid.UUID(int=minute),),
        rule_id="E-CLU-001",
    )


def marks(minute: int, upstream: int = 2) -> list[Watermark]:
    return [Watermark(source_partition=p, at=T0 + timedelta(minutes=minute)) for p in range(upstream)]


def run(records: list[ClusterSignal | Watermark], upstream: int = 2) -> list[tuple[str, tuple[str, ...]]]:
    stage = CountyStage(upstream=upstream, window=HOUR, min_townships=policy().county_cluster_townships)
    out = []
    for record in records:
        out += [(a.category, a.townships) for a in stage.offer(record)]
    return out


def test_two_townships_of_one_county_raise_one_county_alert() -> None:
    alerts = run([signal("150802001", 1), signal("150802002", 10), *marks(30)])

    assert alerts == [("property_management", ("150802001", "150802002"))]


def test_one_township_or_two_counties_raise_nothing() -> None:
    assert run([signal("150802001", 1), signal("150802001", 20), *marks(30)]) == []
    assert run([signal("150802001", 1), signal("150821100", 2), *marks(30)]) == []


def test_townships_further_apart_than_the_window_raise_nothing() -> None:
    assert run([signal("150802001", 1), signal("150802002", 70), *marks(90)]) == []


def test_nothing_is_decided_before_every_upstream_partition_has_passed() -> None:
    stage = CountyStage(upstream=2, window=HOUR, min_townships=policy().county_cluster_townships)
    stage.offer(signal("150802001", 1))
    stage.offer(signal("150802002", 10))

    assert stage.offer(Watermark(source_partition=0, at=T0 + timedelta(minutes=30))) == []
    assert len(stage.offer(Watermark(source_partition=1, at=T0 + timedelta(minutes=30)))) == 1


def _interleavings(a: list[object], b: list[object]) -> list[list[object]]:
    """Every merge of two sequences that keeps each one's own order."""
    if not a or not b:
        return [a + b]
    return [[a[0], *rest] for rest in _interleavings(a[1:], b)] + [
        [b[0], *rest] for rest in _interleavings(a, b[1:])
    ]


def test_every_interleaving_of_upstream_partitions_gives_the_same_alerts() -> None:
    # Each upstream partition sends its signals before the watermark that covers them.
    p0 = [
        signal("150802001", 1),
        signal("150802002", 10),
        Watermark(source_partition=0, at=T0 + timedelta(minutes=12)),
        Watermark(source_partition=0, at=T0 + timedelta(minutes=40)),
    ]
    p1 = [
        Watermark(source_partition=1, at=T0 + timedelta(minutes=12)),
        signal("150802003", 15, "labour"),
        signal("150802004", 16, "labour"),
        Watermark(source_partition=1, at=T0 + timedelta(minutes=40)),
    ]
    outcomes = {tuple(run(order)) for order in _interleavings(p0, p1)}  # type: ignore[arg-type]

    assert len(outcomes) == 1
    assert set(outcomes.pop()) == {
        ("property_management", ("150802001", "150802002")),
        ("labour", ("150802003", "150802004")),
    }


def test_at_most_one_alert_per_window_and_checkpoint_round_trip() -> None:
    stage = CountyStage(upstream=1, window=HOUR, min_townships=policy().county_cluster_townships)
    for record in [signal("150802001", 1), signal("150802002", 5), signal("150802003", 9)]:
        stage.offer(record)
    copy = CountyStage(upstream=1, window=HOUR, min_townships=policy().county_cluster_townships)
    copy.restore(stage.to_json_obj())

    first = stage.offer(Watermark(source_partition=0, at=T0 + timedelta(minutes=20)))
    again = copy.offer(Watermark(source_partition=0, at=T0 + timedelta(minutes=20)))

    assert len(first) == 1
    assert [a.alert_id for a in again] == [a.alert_id for a in first]


def test_records_parse_back() -> None:
    mark = Watermark(source_partition=3, at=T0)
    assert parse(mark.to_json()) == mark
    assert parse(signal("150802001", 1).to_json()) == signal("150802001", 1)
