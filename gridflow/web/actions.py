"""An operator's action on the page becomes a :class:`~schemas.messages.Disposition` on the intake topic.

The command centre writes nothing else: the streams decide what the disposition does (the rule table in
the decision core), and the page shows the result when the incident's new state comes back on the
``incidents`` topic. The disposition is keyed by the township of the incident's grid, as the contracts
say, so it lands on the partition that holds the incident.

Its ``at`` is event time, never the wall clock: the newest event time the board has seen plus the
policy's allowed lateness — the earliest time the streams' sequencer still accepts on the partition (a
disposition older than its partition's last clock tick minus the lateness would be dead-lettered as late).
It is decided when the clock ticks pass it.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid4

from schemas.enums import DispositionAction, MessageStatus
from schemas.geography import CITY_CODE
from schemas.messages import Disposition, Incident
from schemas.policy import policy

# What the page offers, and the contract's action for each.
ACTIONS: dict[str, DispositionAction] = {
    "acknowledge": DispositionAction.ACCEPT,
    "dispatch": DispositionAction.DISPATCH,
    "request_escalation": DispositionAction.REQUEST_ESCALATION,
    "resolve": DispositionAction.RESOLVE,
}


class ActionError(ValueError):
    """An action the page may not send (unknown action, incident outside the operator's county)."""


def disposition_for(
    incident: Incident,
    action: str,
    county: str | None,
    clock: datetime,
    note: str = "",
    event_id: UUID | None = None,
) -> Disposition:
    """The disposition for ``action`` on ``incident`` by the centre of ``county`` (None: the city's)."""
    if action not in ACTIONS:
        raise ActionError(f"action {action!r}: expected one of {', '.join(ACTIONS)}")
    if county is not None and county != incident.county_code:
        raise ActionError(f"incident {incident.incident_id} is not in county {county}")
    unit = county or CITY_CODE
    return Disposition(
        status=MessageStatus(incident.message_status),
        event_id=event_id or uuid4(),
        incident_id=incident.incident_id,
        grid_code=incident.grid_code,
        unit_code=unit,
        action=ACTIONS[action],
        at=max(clock, incident.updated_at) + policy().allowed_lateness,
        note=note[:500],
    )
