"""Builders of valid intake messages for the stream-core tests (not a test module itself).

Ids are derived from a counter-free name (``eid("r1")``), so a test can compute incident ids up front and
two runs build byte-identical inputs.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from uuid import UUID

from schemas.enums import AlertType, DispositionAction, Level, MessageStatus
from schemas.geography import geography
from schemas.ids import incident_id_for
from schemas.messages import CameraAlert, ClockTick, Disposition, GridReport, Reporter

SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")
T0 = datetime(2024, 5, 1, 9, 0, tzinfo=SHANGHAI)
_NS = uuid.UUID("5b1d0c7e-7a8f-4a57-9a57-3c1e0e6f2b11")

GEO = geography()
# Two grids of one township, and a grid of another township (for cluster and isolation tests).
_TOWNSHIP = GEO.townships()[0].code
GRIDS = [u.code for u in GEO.grids() if u.code.startswith(_TOWNSHIP)]
GRID, GRID2 = GRIDS[0], GRIDS[1]
OTHER_GRID = next(u.code for u in GEO.grids() if not u.code.startswith(_TOWNSHIP))
TOWNSHIP = _TOWNSHIP
COUNTY = GRID[:6]


def eid(name: str) -> UUID:
    """A stable event id for a test-local name."""
    return uuid.uuid5(_NS, name)


def iid(name: str) -> UUID:
    """The incident id an event named ``name`` opens."""
    return incident_id_for(eid(name))


def at(minutes: float = 0, *, hours: float = 0, days: float = 0) -> datetime:
    return T0 + timedelta(minutes=minutes, hours=hours, days=days)


def report(
    name: str,
    when: datetime,
    category: str = "neighbour",
    *,
    grid: str = GRID,
    injured: int = 0,
    parties: int = 2,
    hint: int | None = None,
    description: str = "两户因院墙排水发生争执",
    occurred: datetime | None = None,
) -> GridReport:
    return GridReport(
        status=MessageStatus.EXERCISE,
        event_id=eid(name),
        grid_code=grid,
        occurred_at=occurred or when,
        reported_at=when,
        location=GEO.unit(grid).centroid,
        category=category,
        description=description,
        parties=parties,
        injured=injured,
        reporter=Reporter(id="W-0001", phone="13912345678"),
        severity_hint=hint,
    )


def alert(
    name: str,
    when: datetime,
    alert_type: AlertType = AlertType.FIGHT,
    *,
    grid: str = GRID,
    confidence: float = 0.8,
    objects: int = 4,
    camera: int = 1,
) -> CameraAlert:
    return CameraAlert(
        status=MessageStatus.EXERCISE,
        event_id=eid(name),
        camera_id=f"CAM-{grid}-{camera:02d}",
        grid_code=grid,
        location=GEO.unit(grid).centroid,
        alert_type=alert_type,
        confidence=confidence,
        object_count=objects,
        detected_at=when,
        snapshot_sha256="ab" * 32,
    )


def disposition(
    name: str,
    incident: UUID,
    action: DispositionAction,
    when: datetime,
    *,
    grid: str = GRID,
    unit_level: Level = Level.GRID,
) -> Disposition:
    return Disposition(
        status=MessageStatus.EXERCISE,
        event_id=eid(name),
        incident_id=incident,
        grid_code=grid,
        unit_code=GEO.ancestor(grid, unit_level) if unit_level < Level.CITY else "150800",
        action=action,
        at=when,
    )


def tick(when: datetime, seq: int = 0) -> ClockTick:
    return ClockTick(status=MessageStatus.EXERCISE, source="test-clock", partition=0, at=when, seq=seq)
