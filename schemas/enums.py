"""Closed code lists shared by every message (docs/CONTRACTS.md, "Enums").

String enums serialise as their value and integer enums as their number, so the JSON stays readable and
ClickHouse can map them to ``Enum8`` columns by value.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum


class MessageStatus(StrEnum):
    """Whether a message describes the real world or an exercise (CAP 1.2 ``status``)."""

    ACTUAL = "actual"
    EXERCISE = "exercise"  # everything simulated or replayed from synthetic loads


class Level(IntEnum):
    """The five levels of the 五级联动 chain, from the grid (1) up to the city (5)."""

    GRID = 1
    VILLAGE = 2
    TOWNSHIP = 3
    COUNTY = 4
    CITY = 5


class AlertType(StrEnum):
    """Alarm types raised by the 雪亮工程 camera analytics."""

    CROWD_GATHERING = "crowd_gathering"
    FIGHT = "fight"
    FIRE_SMOKE = "fire_smoke"
    TRAFFIC_ACCIDENT = "traffic_accident"
    INTRUSION = "intrusion"
    ILLEGAL_DUMPING = "illegal_dumping"
    WATER_LEVEL = "water_level"
    ROAD_OBSTRUCTION = "road_obstruction"
    ILLEGAL_PARKING = "illegal_parking"
    ICE_JAM = "ice_jam"


class DispositionAction(StrEnum):
    """What a handling unit reports back about an incident (处置反馈)."""

    ACCEPT = "accept"
    DISPATCH = "dispatch"
    PROGRESS = "progress"
    RESOLVE = "resolve"
    VERIFY = "verify"
    REOPEN = "reopen"
    REQUEST_ESCALATION = "request_escalation"
    REJECT_FALSE_ALARM = "reject_false_alarm"


class IncidentStatus(StrEnum):
    """Lifecycle of an incident."""

    PENDING_VERIFICATION = "pending_verification"
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"
    FALSE_ALARM = "false_alarm"
    MERGED = "merged"


class TransitionReason(StrEnum):
    """Why an incident moved (status or level); one per transition record."""

    INITIAL_ROUTING = "initial_routing"
    SLA_BREACH = "sla_breach"
    SEVERITY_UPGRADE = "severity_upgrade"
    REPEAT_DISPUTE = "repeat_dispute"
    CLUSTER = "cluster"
    HANDLER_REQUEST = "handler_request"
    MERGE = "merge"
    FALSE_ALARM = "false_alarm"
    DISPOSITION = "disposition"
    REOPEN = "reopen"
    OVERDUE = "overdue"


class DeadLetterReason(StrEnum):
    """Why a record went to dead letters (``DeadLetter.error_class``): one vocabulary for worker and sink.

    Both the stream worker and the ClickHouse sink label a dead letter with one of these codes, so a record
    both of them dead-letter (same ``dead_letter_id``) carries the same class and the analyst queries group
    one class once.
    """

    DECODE_ERROR = "decode_error"  # bytes that are not a valid message (schemas.errors.DecodeError)
    MISROUTED_TICK = "misrouted_tick"  # a clock tick published on another partition than the one it names
    UNKNOWN_INCIDENT = "unknown_incident"  # disposition whose incident never appeared within the bound
    INVALID_DISPOSITION = "invalid_disposition"  # action not allowed in the incident's status
    UNCLASSIFIABLE = "unclassifiable"  # category or alarm type missing from the taxonomy
    LATE_EVENT = "late_event"  # older than the dedup horizon: cannot tell a duplicate from a new event
    FUTURE_EVENT = "future_event"  # further ahead of its partition's clock than the policy allows
    CLICKHOUSE_REJECTED = "clickhouse_rejected"  # the warehouse refused the row (the sink's own reason)
