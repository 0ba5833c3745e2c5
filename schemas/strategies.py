"""Hypothesis strategies that build valid messages from the real geography and taxonomy.

For tests only (needs the ``dev`` extra): any package's property tests can draw contract-valid messages,
e.g. ``@given(grid_reports())``. Values respect every validator: known codes, points inside the grid's box
(hence inside its county box), aware times in range, ``reported_at`` not before ``occurred_at`` minus the
skew, incident invariants.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from uuid import UUID

from hypothesis import strategies as st

from schemas.enums import (
    AlertType,
    DispositionAction,
    IncidentStatus,
    Level,
    MessageStatus,
    TransitionReason,
)
from schemas.geography import Unit, geography
from schemas.messages import (
    CameraAlert,
    ClockTick,
    DeadLetter,
    Disposition,
    GeoPoint,
    GridReport,
    Incident,
    IntakeUnion,
    MessageUnion,
    Reporter,
    Transition,
)
from schemas.taxonomy import taxonomy

SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")

# st.datetimes takes naive bounds (the zone is drawn separately). They sit inside the models' [2000, 2100)
# range with room for any offset and for reported_at up to three days after occurred_at.
_MIN = datetime(2000, 1, 2)  # noqa: DTZ001
_MAX = datetime(2099, 12, 1)  # noqa: DTZ001


def uuids() -> st.SearchStrategy[UUID]:
    return st.uuids()


def event_times() -> st.SearchStrategy[datetime]:
    """Aware datetimes, mostly +08:00, sometimes UTC or another whole-hour offset."""
    zones = st.sampled_from([SHANGHAI, UTC, timezone(timedelta(hours=-5))])
    return st.datetimes(min_value=_MIN, max_value=_MAX, timezones=zones)


def grids() -> st.SearchStrategy[Unit]:
    return st.sampled_from(geography().grids())


def units() -> st.SearchStrategy[Unit]:
    geo = geography()
    return st.sampled_from([geo.city, *geo.counties(), *geo.townships(), *geo.villages(), *geo.grids()])


def categories() -> st.SearchStrategy[str]:
    return st.sampled_from(sorted(taxonomy().categories))


def statuses() -> st.SearchStrategy[MessageStatus]:
    return st.sampled_from(MessageStatus)


def points_in(unit: Unit) -> st.SearchStrategy[GeoPoint]:
    """Points inside a unit's box (so inside its county box as well)."""
    box = unit.bbox
    return st.builds(
        GeoPoint,
        lon=st.floats(box.min_lon, box.max_lon, allow_nan=False),
        lat=st.floats(box.min_lat, box.max_lat, allow_nan=False),
    )


def reporters() -> st.SearchStrategy[Reporter]:
    return st.builds(
        Reporter,
        id=st.text(min_size=1, max_size=32),
        phone=st.from_regex(r"\A1[3-9][0-9]{9}\Z"),
    )


def texts(max_size: int, min_size: int = 0) -> st.SearchStrategy[str]:
    return st.text(min_size=min_size, max_size=max_size)


@st.composite
def grid_reports(draw: st.DrawFn) -> GridReport:
    grid = draw(grids())
    occurred = draw(event_times())
    delay = draw(st.integers(-300, 3 * 86_400))
    reported = occurred + timedelta(seconds=delay)
    return GridReport(
        status=draw(statuses()),
        event_id=draw(uuids()),
        grid_code=grid.code,
        occurred_at=occurred,
        reported_at=reported,
        location=draw(points_in(grid)),
        category=draw(categories()),
        description=draw(texts(500, min_size=1)),
        parties=draw(st.integers(0, 10_000)),
        injured=draw(st.integers(0, 10_000)),
        reporter=draw(reporters()),
        severity_hint=draw(st.none() | st.integers(1, 5)),
    )


@st.composite
def camera_alerts(draw: st.DrawFn) -> CameraAlert:
    grid = draw(grids())
    return CameraAlert(
        status=draw(statuses()),
        event_id=draw(uuids()),
        camera_id=f"CAM-{grid.code}-{draw(st.integers(0, 99)):02d}",
        grid_code=grid.code,
        location=draw(points_in(grid)),
        alert_type=draw(st.sampled_from(AlertType)),
        confidence=draw(st.floats(0.0, 1.0)),
        object_count=draw(st.integers(0, 100_000)),
        detected_at=draw(event_times()),
        snapshot_sha256=draw(st.from_regex(r"\A[0-9a-f]{64}\Z")),
    )


@st.composite
def dispositions(draw: st.DrawFn) -> Disposition:
    grid = draw(grids())
    return Disposition(
        status=draw(statuses()),
        event_id=draw(uuids()),
        incident_id=draw(uuids()),
        grid_code=grid.code,
        unit_code=draw(units()).code,
        action=draw(st.sampled_from(DispositionAction)),
        at=draw(event_times()),
        note=draw(texts(500)),
    )


def clock_ticks() -> st.SearchStrategy[ClockTick]:
    return st.builds(
        ClockTick,
        status=statuses(),
        source=texts(64, min_size=1),
        partition=st.integers(0, 100_000),
        at=event_times(),
        seq=st.integers(0, 2**63 - 1),
    )


def rule_ids() -> st.SearchStrategy[str]:
    return st.from_regex(r"\A[!-~]{1,64}\Z")


@st.composite
def incidents(draw: st.DrawFn) -> Incident:
    geo = geography()
    grid = draw(grids())
    level = draw(st.sampled_from(Level))
    status = draw(st.sampled_from(IncidentStatus))
    opened = draw(event_times())
    maybe_time = st.none() | event_times()
    return Incident(
        message_status=draw(statuses()),
        incident_id=draw(uuids()),
        category=draw(categories()),
        severity=draw(st.integers(1, 5)),
        grid_code=grid.code,
        township_code=geo.township_of(grid.code),
        county_code=geo.county_of(grid.code),
        level=level,
        handling_unit=geo.ancestor(grid.code, level),
        status=status,
        source_event_ids=tuple(draw(st.lists(uuids(), min_size=1, max_size=5))),
        opened_at=opened,
        due_at=draw(maybe_time),
        resolved_at=draw(maybe_time),
        updated_at=draw(event_times()),
        version=draw(st.integers(1, 1_000)),
        reasons=tuple(draw(st.lists(rule_ids(), max_size=4))),
        overdue=draw(st.booleans()),
        reopen_count=draw(st.integers(0, 50)),
        merged_into=draw(uuids()) if status == IncidentStatus.MERGED else None,
    )


def transitions() -> st.SearchStrategy[Transition]:
    return st.builds(
        Transition,
        status=statuses(),
        transition_id=uuids(),
        incident_id=uuids(),
        seq=st.integers(1, 10_000),
        from_status=st.none() | st.sampled_from(IncidentStatus),
        to_status=st.sampled_from(IncidentStatus),
        from_level=st.none() | st.sampled_from(Level),
        to_level=st.sampled_from(Level),
        reason=st.sampled_from(TransitionReason),
        at=event_times(),
        rule_ids=st.lists(rule_ids(), max_size=4).map(tuple),
        source_event_id=st.none() | uuids(),
        handling_unit=units().map(lambda u: u.code),
    )


def dead_letters() -> st.SearchStrategy[DeadLetter]:
    return st.builds(
        DeadLetter,
        status=statuses(),
        dead_letter_id=uuids(),
        source_topic=st.from_regex(r"\A[a-z._-]{1,40}\Z"),
        source_partition=st.integers(0, 1_000),
        source_offset=st.integers(0, 2**63 - 1),
        raw=st.binary(max_size=4096),
        raw_size=st.integers(0, 10**7),
        error_class=texts(128, min_size=1),
        error_message=texts(2000),
        processed_at=event_times(),
    )


def intake_messages() -> st.SearchStrategy[IntakeUnion]:
    return st.one_of(grid_reports(), camera_alerts(), dispositions(), clock_ticks())


def messages() -> st.SearchStrategy[MessageUnion]:
    return st.one_of(intake_messages(), incidents(), transitions(), dead_letters())
