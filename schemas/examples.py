"""One valid, fixed example of every message type, for documentation, tests and benchmarks.

The values are deterministic (fixed ids and times) and use the first grid of the geography, a grid of
临河区. ``examples()`` returns them as a typed tuple (``examples().report``) that also iterates over all.
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta, timezone
from typing import NamedTuple
from uuid import UUID

from schemas.enums import (
    AlertType,
    DispositionAction,
    IncidentStatus,
    Level,
    MessageStatus,
    TransitionReason,
)
from schemas.geography import geography
from schemas.ids import dead_letter_id_for, incident_id_for, transition_id_for
from schemas.messages import (
    CameraAlert,
    ClockTick,
    DeadLetter,
    Disposition,
    GridReport,
    Incident,
    Reporter,
    Transition,
)

SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")
T0 = datetime(2024, 5, 1, 9, 30, tzinfo=SHANGHAI)
EVENT_ID = UUID("00000000-0000-4000-8000-000000000001")
ALERT_ID = UUID("00000000-0000-4000-8000-000000000002")
DISPOSITION_ID = UUID("00000000-0000-4000-8000-000000000003")
INCIDENT_ID = incident_id_for(EVENT_ID)


class Examples(NamedTuple):
    """One example per message type, in contract order."""

    report: GridReport
    alert: CameraAlert
    disposition: Disposition
    tick: ClockTick
    incident: Incident
    transition: Transition
    dead_letter: DeadLetter


@functools.cache
def examples() -> Examples:
    """The example messages (built once)."""
    geo = geography()
    grid = geo.grids()[0]
    village = geo.ancestor(grid.code, Level.VILLAGE)
    report = GridReport(
        status=MessageStatus.EXERCISE,
        event_id=EVENT_ID,
        grid_code=grid.code,
        occurred_at=T0,
        reported_at=T0 + timedelta(minutes=2),
        location=grid.centroid,
        category="neighbour",
        description="两户因院墙排水发生争执，网格员到场劝解",
        parties=2,
        injured=0,
        reporter=Reporter(id="W-150802-0001", phone="13912345678"),
        severity_hint=2,
    )
    alert = CameraAlert(
        status=MessageStatus.EXERCISE,
        event_id=ALERT_ID,
        camera_id=f"CAM-{grid.code}-01",
        grid_code=grid.code,
        location=grid.centroid,
        alert_type=AlertType.FIGHT,
        confidence=0.93,
        object_count=4,
        detected_at=T0,
        snapshot_sha256="ab" * 32,
    )
    disposition = Disposition(
        status=MessageStatus.EXERCISE,
        event_id=DISPOSITION_ID,
        incident_id=INCIDENT_ID,
        grid_code=grid.code,
        unit_code=village,
        action=DispositionAction.RESOLVE,
        at=T0 + timedelta(hours=3),
        note="经村调委会调解，双方达成协议",
    )
    tick = ClockTick(status=MessageStatus.EXERCISE, source="simulator-1", partition=0, at=T0, seq=7)
    incident = Incident(
        message_status=MessageStatus.EXERCISE,
        incident_id=INCIDENT_ID,
        category="neighbour",
        severity=2,
        grid_code=grid.code,
        township_code=geo.township_of(grid.code),
        county_code=geo.county_of(grid.code),
        level=Level.VILLAGE,
        handling_unit=village,
        status=IncidentStatus.OPEN,
        source_event_ids=(EVENT_ID,),
        opened_at=T0,
        due_at=T0 + timedelta(hours=24),
        resolved_at=None,
        updated_at=T0 + timedelta(minutes=2),
        version=1,
        reasons=("route.severity",),
    )
    transition = Transition(
        status=MessageStatus.EXERCISE,
        transition_id=transition_id_for(INCIDENT_ID, 1),
        incident_id=INCIDENT_ID,
        seq=1,
        from_status=None,
        to_status=IncidentStatus.OPEN,
        from_level=None,
        to_level=Level.VILLAGE,
        reason=TransitionReason.INITIAL_ROUTING,
        at=T0 + timedelta(minutes=2),
        rule_ids=("route.severity",),
        source_event_id=EVENT_ID,
        handling_unit=village,
    )
    dead = DeadLetter(
        status=MessageStatus.EXERCISE,
        dead_letter_id=dead_letter_id_for("intake.grid_reports", 0, 42),
        source_topic="intake.grid_reports",
        source_partition=0,
        source_offset=42,
        raw=b"not json",
        raw_size=8,
        error_class="decode_error",
        error_message="1 problem: $: Invalid JSON: expected value at line 1 column 1 (got b'not json')",
        processed_at=T0,
    )
    return Examples(report, alert, disposition, tick, incident, transition, dead)
