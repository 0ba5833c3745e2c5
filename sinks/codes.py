"""Integer codes of the ``Enum8`` columns, one table per contract enum (schemas.enums).

The same tables render the ``Enum8(...)`` types in the DDL and map message values to codes in the row
builders, so the two cannot drift. Codes are stored on disk: never renumber or reuse one; a new enum member
gets the next free code and a migration that ``ALTER``s the column type.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from schemas.enums import (
    AlertType,
    DispositionAction,
    IncidentStatus,
    Level,
    MessageStatus,
    TransitionReason,
)

MESSAGE_STATUS: Final[Mapping[str, int]] = {
    MessageStatus.ACTUAL: 1,
    MessageStatus.EXERCISE: 2,
}
# Level codes are the level numbers themselves; the names are what analysts read.
LEVEL_NAMES: Final[Mapping[int, str]] = {
    Level.GRID: "grid",
    Level.VILLAGE: "village",
    Level.TOWNSHIP: "township",
    Level.COUNTY: "county",
    Level.CITY: "city",
}
ALERT_TYPE: Final[Mapping[str, int]] = {
    AlertType.CROWD_GATHERING: 1,
    AlertType.FIGHT: 2,
    AlertType.FIRE_SMOKE: 3,
    AlertType.TRAFFIC_ACCIDENT: 4,
    AlertType.INTRUSION: 5,
    AlertType.ILLEGAL_DUMPING: 6,
    AlertType.WATER_LEVEL: 7,
    AlertType.ROAD_OBSTRUCTION: 8,
    AlertType.ILLEGAL_PARKING: 9,
    AlertType.ICE_JAM: 10,
}
DISPOSITION_ACTION: Final[Mapping[str, int]] = {
    DispositionAction.ACCEPT: 1,
    DispositionAction.DISPATCH: 2,
    DispositionAction.PROGRESS: 3,
    DispositionAction.RESOLVE: 4,
    DispositionAction.VERIFY: 5,
    DispositionAction.REOPEN: 6,
    DispositionAction.REQUEST_ESCALATION: 7,
    DispositionAction.REJECT_FALSE_ALARM: 8,
}
INCIDENT_STATUS: Final[Mapping[str, int]] = {
    IncidentStatus.PENDING_VERIFICATION: 1,
    IncidentStatus.OPEN: 2,
    IncidentStatus.IN_PROGRESS: 3,
    IncidentStatus.RESOLVED: 4,
    IncidentStatus.CLOSED: 5,
    IncidentStatus.FALSE_ALARM: 6,
    IncidentStatus.MERGED: 7,
}
TRANSITION_REASON: Final[Mapping[str, int]] = {
    TransitionReason.INITIAL_ROUTING: 1,
    TransitionReason.SLA_BREACH: 2,
    TransitionReason.SEVERITY_UPGRADE: 3,
    TransitionReason.REPEAT_DISPUTE: 4,
    TransitionReason.CLUSTER: 5,
    TransitionReason.HANDLER_REQUEST: 6,
    TransitionReason.MERGE: 7,
    TransitionReason.FALSE_ALARM: 8,
    TransitionReason.DISPOSITION: 9,
    TransitionReason.REOPEN: 10,
    TransitionReason.OVERDUE: 11,
}


def enum8(codes: Mapping[str, int] | Mapping[int, str]) -> str:
    """The ClickHouse type ``Enum8('name' = code, ...)`` for a code table (either direction)."""
    pairs: list[tuple[str, int]] = []
    for key, value in codes.items():
        if isinstance(key, str) and isinstance(value, int):
            pairs.append((str(key), value))
        elif isinstance(key, int) and isinstance(value, str):
            pairs.append((value, int(key)))
        else:
            raise TypeError(f"not a code table entry: {key!r}: {value!r}")
    pairs.sort(key=lambda pair: pair[1])
    return "Enum8(" + ", ".join(f"'{name}' = {code}" for name, code in pairs) + ")"


def names_of(codes: Mapping[str, int] | Mapping[int, str], column: str) -> str:
    """A SQL expression: the name of a ``Nullable(Enum8)`` column's value, ``''`` for NULL.

    ClickHouse 18.16 evaluates ``toString``/``CAST`` of the NULL rows too (their stored code 0 is no enum
    value, error 49), so the code goes through an integer and ``transform`` maps it to its name.
    """
    pairs = sorted(
        ((v, k) if isinstance(k, str) else (k, v) for k, v in codes.items()),
        key=lambda pair: pair[0],
    )
    numbers = ", ".join(str(code) for code, _ in pairs)
    names = ", ".join(f"'{name}'" for _, name in pairs)
    return f"transform(ifNull(CAST({column} AS Nullable(Int16)), 0), [{numbers}], [{names}], '')"


def placeholders() -> dict[str, str]:
    """``{enum_*}`` placeholders for the migration files, and ``{name_of_*}`` expressions."""
    return {
        "name_of_from_level": names_of(LEVEL_NAMES, "from_level"),
        "name_of_from_status": names_of(INCIDENT_STATUS, "from_status"),
        "enum_message_status": enum8(MESSAGE_STATUS),
        "enum_level": enum8(LEVEL_NAMES),
        "enum_alert_type": enum8(ALERT_TYPE),
        "enum_disposition_action": enum8(DISPOSITION_ACTION),
        "enum_incident_status": enum8(INCIDENT_STATUS),
        "enum_transition_reason": enum8(TRANSITION_REASON),
    }
