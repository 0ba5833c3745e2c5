"""The escalation rules as data: rule ids with their meaning, and the disposition table.

Every Transition and Incident records the ids of the rules that produced it (``rule_ids``, ``reasons``);
this module is the catalogue those ids point into, so analysts can read a decision back in words and a
policy review can see every rule in one place. Classification rules live in `streams.core.classify`.

The disposition table maps (action, current status) to an effect; the first row that matches wins, and an
action with no row for the incident's status is invalid (dead-lettered as ``invalid_disposition``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Final

from schemas.enums import DispositionAction, IncidentStatus

__all__ = [
    "DISPOSITION_RULES",
    "ESCALATION_RULES",
    "DispositionRule",
    "Effect",
    "disposition_rule",
]

# ---- escalation rule ids ------------------------------------------------------------------------

ROUTE: Final = "E-ROUTE-001"
ROUTE_CITY: Final = "E-ROUTE-005"
VERIFY_FIRST: Final = "E-VER-001"
VERIFIED: Final = "E-VER-002"
CORROBORATED: Final = "E-VER-003"
VERIFY_BREACH: Final = "E-VER-004"
VERIFY_OVERDUE: Final = "E-VER-005"
SLA_BREACH: Final = "E-SLA-001"
CITY_OVERDUE: Final = "E-SLA-002"
UPGRADE_CORRELATION: Final = "E-UPG-001"
UPGRADE_EVIDENCE: Final = "E-UPG-002"
MERGE_ALARMS: Final = "E-MRG-001"
MERGE_REPORT_ALARM: Final = "E-MRG-002"
MERGED_AWAY: Final = "E-MRG-003"
MERGE_LEVEL: Final = "E-MRG-004"
MERGE_BOUNDARY: Final = "E-MRG-005"
REPEAT: Final = "E-RPT-001"
CLUSTER: Final = "E-CLU-001"
HANDLER: Final = "E-HND-001"

ESCALATION_RULES: Final[dict[str, str]] = {
    ROUTE: "initial routing by severity: 1 grid, 2 village, 3 township, 4 county, 5 city",
    ROUTE_CITY: "severity 5: handled by the city, county notified; acknowledge within policy.severity5_ack",
    VERIFY_FIRST: "camera alarm below policy.camera_verify_below waits at grid level for verification",
    VERIFIED: "grid member verified the alarm: routed by severity",
    CORROBORATED: "a grid report or confident alarm corroborated an unverified alarm: routed by severity",
    VERIFY_BREACH: "verification task not done within policy.verification_sla: handed once to the village",
    VERIFY_OVERDUE: "verification task overdue at the village: marked overdue, never escalated further",
    SLA_BREACH: "unresolved past the SLA deadline of its level: one level up, new deadline there",
    CITY_OVERDUE: "unresolved past the deadline at city level: marked overdue",
    UPGRADE_CORRELATION: "camera alarm and grid report of compatible categories within "
    "policy.report_alarm_window: one incident, severity +1 (once)",
    UPGRADE_EVIDENCE: "merged evidence is more severe than the incident: severity raised to match",
    MERGE_ALARMS: "alarm of the same type in the same grid within policy.camera_merge_window: merged",
    MERGE_REPORT_ALARM: "grid report and camera alarm of compatible categories in the same grid within "
    "policy.report_alarm_window: merged",
    MERGED_AWAY: "incident merged into an earlier incident of the same situation",
    MERGE_LEVEL: "a merge keeps the highest level any merged incident had reached (no de-escalation)",
    MERGE_BOUNDARY: "grid report and open camera alarm of compatible categories in different grids of one "
    "township within policy.boundary_merge_window and policy.boundary_merge_radius_m: merged; a merge "
    "joining grids is handled at least by their lowest common unit (two villages: the township)",
    REPEAT: "policy.repeat_threshold incidents of one category in one grid within policy.repeat_window: "
    "opens one level up (矛盾反复)",
    CLUSTER: "policy.cluster_threshold incidents of one category in one township within "
    "policy.cluster_window: cluster signal, incident escalated to county",
    HANDLER: "the handling unit asked to escalate: one level up",
}


# ---- dispositions ------------------------------------------------------------------------------


class Effect(Enum):
    """What a disposition does to an incident."""

    START = "start"  # → in_progress (a severity-5 matter is thereby acknowledged)
    RESOLVE = "resolve"  # → resolved, resolved_at set
    CLOSE = "close"  # → closed (resolution verified)
    CONFIRM = "confirm"  # pending_verification → open, routed by severity
    REOPEN = "reopen"  # → open, reopen_count + 1, new SLA clock
    ESCALATE = "escalate"  # one level up (handler request)
    FALSE_ALARM = "false_alarm"  # → false_alarm (camera evidence only)
    NOTHING = "nothing"  # already there: repeated feedback changes nothing


@dataclass(frozen=True, slots=True)
class DispositionRule:
    """``action`` on an incident in one of ``statuses`` has ``effect``."""

    rule_id: str
    action: DispositionAction
    statuses: frozenset[IncidentStatus]
    effect: Effect
    text: str


_A = DispositionAction
_S = IncidentStatus

DISPOSITION_RULES: Final[tuple[DispositionRule, ...]] = (
    DispositionRule("D-START-001", _A.ACCEPT, frozenset({_S.OPEN}), Effect.START, "accepted: in progress"),
    DispositionRule(
        "D-START-002", _A.DISPATCH, frozenset({_S.OPEN}), Effect.START, "dispatched: in progress"
    ),
    DispositionRule("D-START-003", _A.PROGRESS, frozenset({_S.OPEN}), Effect.START, "progress: in progress"),
    DispositionRule(
        "D-NOOP-001",
        _A.ACCEPT,
        frozenset({_S.IN_PROGRESS, _S.PENDING_VERIFICATION}),
        Effect.NOTHING,
        "already accepted, or a verification task taken on",
    ),
    DispositionRule(
        "D-NOOP-002", _A.DISPATCH, frozenset({_S.IN_PROGRESS}), Effect.NOTHING, "already in progress"
    ),
    DispositionRule(
        "D-NOOP-003", _A.PROGRESS, frozenset({_S.IN_PROGRESS}), Effect.NOTHING, "already in progress"
    ),
    DispositionRule(
        "D-RES-001", _A.RESOLVE, frozenset({_S.OPEN, _S.IN_PROGRESS}), Effect.RESOLVE, "resolved by the unit"
    ),
    DispositionRule("D-NOOP-004", _A.RESOLVE, frozenset({_S.RESOLVED}), Effect.NOTHING, "already resolved"),
    DispositionRule(
        "D-VER-001",
        _A.VERIFY,
        frozenset({_S.PENDING_VERIFICATION}),
        Effect.CONFIRM,
        "grid member confirms the alarm is real",
    ),
    DispositionRule("D-CLS-001", _A.VERIFY, frozenset({_S.RESOLVED}), Effect.CLOSE, "resolution verified"),
    DispositionRule(
        "D-NOOP-005",
        _A.VERIFY,
        frozenset({_S.OPEN, _S.IN_PROGRESS, _S.CLOSED}),
        Effect.NOTHING,
        "already confirmed or closed",
    ),
    DispositionRule(
        "D-REO-001",
        _A.REOPEN,
        frozenset({_S.RESOLVED, _S.CLOSED}),
        Effect.REOPEN,
        "settlement did not hold (false closure): reopened with a new SLA clock",
    ),
    DispositionRule(
        "D-ESC-001",
        _A.REQUEST_ESCALATION,
        frozenset({_S.PENDING_VERIFICATION, _S.OPEN, _S.IN_PROGRESS}),
        Effect.ESCALATE,
        "the unit cannot settle the matter and asks the level above",
    ),
    DispositionRule(
        "D-FA-001",
        _A.REJECT_FALSE_ALARM,
        frozenset({_S.PENDING_VERIFICATION, _S.OPEN}),
        Effect.FALSE_ALARM,
        "camera alarm rejected as false (counts against the camera's precision)",
    ),
    DispositionRule(
        "D-NOOP-006", _A.REJECT_FALSE_ALARM, frozenset({_S.FALSE_ALARM}), Effect.NOTHING, "already rejected"
    ),
    # Feedback that crossed the resolution (a field unit reporting progress after the office resolved it)
    # is stale, not wrong: it changes nothing and is not dead-lettered.
    DispositionRule(
        "D-NOOP-007",
        _A.ACCEPT,
        frozenset({_S.RESOLVED, _S.CLOSED}),
        Effect.NOTHING,
        "stale feedback after resolution",
    ),
    DispositionRule(
        "D-NOOP-008",
        _A.DISPATCH,
        frozenset({_S.RESOLVED, _S.CLOSED}),
        Effect.NOTHING,
        "stale feedback after resolution",
    ),
    DispositionRule(
        "D-NOOP-009",
        _A.PROGRESS,
        frozenset({_S.RESOLVED, _S.CLOSED}),
        Effect.NOTHING,
        "stale feedback after resolution",
    ),
    DispositionRule("D-NOOP-010", _A.RESOLVE, frozenset({_S.CLOSED}), Effect.NOTHING, "already closed"),
)

_BY_ACTION: Final = {
    action: tuple(rule for rule in DISPOSITION_RULES if rule.action is action) for action in DispositionAction
}


def disposition_rule(action: DispositionAction, status: IncidentStatus) -> DispositionRule | None:
    """The first rule for ``action`` that covers ``status``; None if the action is not allowed there."""
    for rule in _BY_ACTION[action]:
        if status in rule.statuses:
            return rule
    return None
