"""Incidents and transitions as the stream worker would publish them, for the command centre's tests."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID, uuid5

from schemas.enums import IncidentStatus, Level, MessageStatus, TransitionReason
from schemas.geography import CITY_CODE, geography
from schemas.ids import incident_id_for, transition_id_for
from schemas.messages import Incident, Transition

T0 = datetime.fromisoformat("2025-06-17T09:00:00+08:00")
_NS = UUID("6f1d0a7e-3c1b-4f7e-9a57-3e1d2b9c0a11")


def grid_in(county: str, n: int = 0) -> str:
    """A grid of ``county`` (the n-th)."""
    return [g.code for g in geography().grids() if g.code.startswith(county)][n]


def escalation(
    county: str = "150821",
    name: str = "a",
    level: Level = Level.COUNTY,
    severity: int = 4,
    category: str = "labour",
    at: datetime = T0,
    status: IncidentStatus = IncidentStatus.OPEN,
    version: int = 1,
) -> tuple[Incident, Transition]:
    """An incident routed straight to ``level`` (county or city) and the transition that put it there."""
    geo = geography()
    grid = grid_in(county)
    event = uuid5(_NS, name)
    incident_id = incident_id_for(event)
    unit = CITY_CODE if level == Level.CITY else geo.ancestor(grid, level)
    incident = Incident(
        message_status=MessageStatus.EXERCISE,
        incident_id=incident_id,
        category=category,
        severity=severity,
        grid_code=grid,
        township_code=geo.township_of(grid),
        county_code=geo.county_of(grid),
        level=level,
        handling_unit=unit,
        status=status,
        source_event_ids=(event,),
        opened_at=at,
        due_at=at + timedelta(days=7),
        resolved_at=None,
        updated_at=at,
        version=version,
        reasons=("E-ROUTE-001",),
        overdue=False,
        reopen_count=0,
        merged_into=None,
    )
    transition = Transition(
        status=MessageStatus.EXERCISE,
        transition_id=transition_id_for(incident_id, 1),
        incident_id=incident_id,
        seq=1,
        from_status=None,
        to_status=IncidentStatus.OPEN,
        from_level=None,
        to_level=level,
        reason=TransitionReason.INITIAL_ROUTING,
        at=at,
        rule_ids=("E-ROUTE-001",),
        source_event_id=event,
        handling_unit=unit,
    )
    return incident, transition


def acknowledged(incident: Incident, at: datetime) -> tuple[Incident, Transition]:
    """The incident after an accepted acknowledgement (what the streams publish for D-START-001)."""
    seq = incident.version + 1
    after = incident.model_copy(
        update={"status": IncidentStatus.IN_PROGRESS, "version": seq, "updated_at": at}
    )
    transition = Transition(
        status=MessageStatus.EXERCISE,
        transition_id=transition_id_for(incident.incident_id, seq),
        incident_id=incident.incident_id,
        seq=seq,
        from_status=incident.status,
        to_status=IncidentStatus.IN_PROGRESS,
        from_level=incident.level,
        to_level=incident.level,
        reason=TransitionReason.DISPOSITION,
        at=at,
        rule_ids=("D-START-001",),
        source_event_id=None,
        handling_unit=incident.handling_unit,
    )
    return after, transition
