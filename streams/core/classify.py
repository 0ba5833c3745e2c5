"""Classification: what a grid report or camera alarm is, how severe, where it is handled first.

Rules are data (STYLE.md §4). Each message is reduced to `Evidence`, then four ordered tables decide:

1. ``BASE_RULES`` — first match wins — set the starting severity (taxonomy base severity unless the facts
   demand more, e.g. several injured);
2. ``MODIFIER_RULES`` — every match applies, in table order — each adds severity (one step each);
3. ``VERIFY_RULES`` — first match wins — decide whether a person must verify the alarm first;
4. the policy's severity → level table (``Policy.severity_levels``) maps the final severity (capped at 5)
   to the initial level (1 grid … 5 city) and the levels notified besides the handler.

Every rule that fired is recorded in ``Classification.rule_ids`` in that order, so each decision can be
explained and audited against the policy version. Every threshold comes from `schemas.policy.Policy`
(``report_thresholds`` for the facts of one report); the tables here hold only the rules' shape.

Usage::

    from streams.core.classify import classify
    c = classify(report, taxonomy(), policy())
    c.severity, c.level, c.rule_ids
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from schemas.enums import AlertType, Level
from schemas.errors import GridflowError
from schemas.messages import CameraAlert, GridReport
from schemas.policy import Policy
from schemas.taxonomy import Taxonomy

__all__ = [
    "BASE_RULES",
    "MODIFIER_RULES",
    "VERIFY_RULES",
    "Classification",
    "Evidence",
    "SeverityRule",
    "Source",
    "UnclassifiableError",
    "VerifyRule",
    "classify",
    "evidence_of",
    "notify_levels",
]

MAX_SEVERITY: Final = 5


class UnclassifiableError(GridflowError):
    """The message names a category or alarm type the taxonomy does not know (routed to dead letters)."""


class Source(StrEnum):
    """Where the evidence came from."""

    REPORT = "report"
    CAMERA = "camera"


@dataclass(frozen=True, slots=True)
class Evidence:
    """The facts the rules look at, reduced from one message."""

    source: Source
    category: str
    base_severity: int
    injured: int = 0
    parties: int = 0
    severity_hint: int | None = None
    description: str = ""
    alert_type: AlertType | None = None
    confidence: float = 1.0
    object_count: int = 0


Predicate = Callable[[Evidence, Policy, int], bool]
"""``when(evidence, policy, severity_so_far)``."""


@dataclass(frozen=True, slots=True)
class SeverityRule:
    """A severity rule: base rules raise the severity to ``at_least``, modifiers add ``add``."""

    rule_id: str
    text: str
    when: Predicate
    at_least: int = 1
    add: int = 0


@dataclass(frozen=True, slots=True)
class VerifyRule:
    """Whether the grid member must verify the alarm before it is routed."""

    rule_id: str
    text: str
    when: Predicate
    needs_verification: bool


@dataclass(frozen=True, slots=True)
class Classification:
    """The outcome: category, severity 1–5, initial level and the rule ids that decided it, in order.

    ``level`` is where the matter is routed once it is real; when ``needs_verification`` is set the incident
    first waits at grid level for the grid member to verify it. ``notify`` lists levels told in addition to
    the handler (severity 5: handled by the city, county notified).
    """

    category: str
    severity: int
    level: Level
    rule_ids: tuple[str, ...]
    needs_verification: bool
    notify: tuple[Level, ...] = ()


def _report(e: Evidence) -> bool:
    return e.source is Source.REPORT


def _camera(e: Evidence, alert_type: AlertType) -> bool:
    return e.source is Source.CAMERA and e.alert_type is alert_type


BASE_RULES: Final[tuple[SeverityRule, ...]] = (
    SeverityRule(
        "C-RPT-001",
        "report with report_thresholds.mass_casualty_injured+ injured: mass casualty, severity 5",
        lambda e, p, s: _report(e) and e.injured >= p.report_thresholds.mass_casualty_injured,
        at_least=5,
    ),
    SeverityRule(
        "C-RPT-002",
        "report with report_thresholds.serious_injured+ injured: at least severity 4",
        lambda e, p, s: _report(e) and e.injured >= p.report_thresholds.serious_injured,
        at_least=4,
    ),
    SeverityRule(
        "C-RPT-003",
        "report with report_thresholds.mass_incident_parties+ parties (群体性事件): at least severity 4",
        lambda e, p, s: _report(e) and e.parties >= p.report_thresholds.mass_incident_parties,
        at_least=4,
    ),
    SeverityRule("C-RPT-009", "report: taxonomy base severity", lambda e, p, s: _report(e)),
    SeverityRule(
        "C-CAM-009", "camera alarm: base severity of the alarm type's category", lambda e, p, s: True
    ),
)

MODIFIER_RULES: Final[tuple[SeverityRule, ...]] = (
    SeverityRule(
        "C-RPT-101",
        "report with some injured, fewer than report_thresholds.serious_injured: +1",
        lambda e, p, s: _report(e) and 0 < e.injured < p.report_thresholds.serious_injured,
        add=1,
    ),
    SeverityRule(
        "C-RPT-102",
        "report with report_thresholds.many_parties+ parties, below a mass incident: +1",
        lambda e, p, s: (
            _report(e)
            and p.report_thresholds.many_parties <= e.parties < p.report_thresholds.mass_incident_parties
        ),
        add=1,
    ),
    SeverityRule(
        "C-RPT-103",
        "report mentions weapons, self-harm, arson or threats: +1",
        lambda e, p, s: (
            _report(e) and any(word in e.description for word in p.report_thresholds.danger_keywords)
        ),
        add=1,
    ),
    SeverityRule(
        "C-CAM-101",
        "crowd_gathering with object_count >= policy.crowd_upgrade_count: +1",
        lambda e, p, s: _camera(e, AlertType.CROWD_GATHERING) and e.object_count >= p.crowd_upgrade_count,
        add=1,
    ),
    SeverityRule(
        "C-CAM-102",
        "crowd_gathering with object_count >= report_thresholds.mass_gathering_factor x "
        "crowd_upgrade_count: +1 more",
        lambda e, p, s: (
            _camera(e, AlertType.CROWD_GATHERING)
            and e.object_count >= p.report_thresholds.mass_gathering_factor * p.crowd_upgrade_count
        ),
        add=1,
    ),
    SeverityRule(
        "C-CAM-103",
        "fight with confidence >= policy.fight_upgrade_confidence: +1",
        lambda e, p, s: _camera(e, AlertType.FIGHT) and e.confidence >= p.fight_upgrade_confidence,
        add=1,
    ),
    # Last, so it compares with everything above: the grid member on site may judge the matter worse than
    # the rules do, but one hint moves severity one step at most and never lowers it.
    SeverityRule(
        "C-RPT-104",
        "report whose severity hint exceeds the computed severity: +1 (bounded to one step)",
        lambda e, p, s: _report(e) and e.severity_hint is not None and e.severity_hint > s,
        add=1,
    ),
)

VERIFY_RULES: Final[tuple[VerifyRule, ...]] = (
    VerifyRule(
        "C-CAM-201",
        "camera alarm with confidence < policy.camera_verify_below: grid member verifies first",
        lambda e, p, s: e.source is Source.CAMERA and e.confidence < p.camera_verify_below,
        needs_verification=True,
    ),
)


def notify_levels(policy: Policy, severity: int) -> tuple[Level, ...]:
    """Levels told of a matter of ``severity`` besides the one handling it."""
    return policy.routing(severity).notify


def evidence_of(message: GridReport | CameraAlert, taxonomy: Taxonomy) -> Evidence:
    """Reduce a message to the facts the rules use; raises UnclassifiableError for unknown codes."""
    if isinstance(message, GridReport):
        category = taxonomy.categories.get(message.category)
        if category is None:
            raise UnclassifiableError(f"unknown category {message.category!r}")
        return Evidence(
            source=Source.REPORT,
            category=category.code,
            base_severity=category.base_severity,
            injured=message.injured,
            parties=message.parties,
            severity_hint=message.severity_hint,
            description=message.description,
        )
    code = taxonomy.alert_categories.get(message.alert_type)
    category = taxonomy.categories.get(code) if code is not None else None
    if category is None:
        raise UnclassifiableError(f"no category for alert type {message.alert_type!r}")
    return Evidence(
        source=Source.CAMERA,
        category=category.code,
        base_severity=category.base_severity,
        alert_type=message.alert_type,
        confidence=message.confidence,
        object_count=message.object_count,
    )


def classify_evidence(evidence: Evidence, policy: Policy) -> Classification:
    """Run the rule tables over already reduced evidence."""
    rule_ids: list[str] = []
    severity = evidence.base_severity
    for rule in BASE_RULES:
        if rule.when(evidence, policy, severity):
            severity = max(severity, rule.at_least)
            rule_ids.append(rule.rule_id)
            break
    for rule in MODIFIER_RULES:
        if severity < MAX_SEVERITY and rule.when(evidence, policy, severity):
            severity = min(MAX_SEVERITY, severity + rule.add)
            rule_ids.append(rule.rule_id)
    needs_verification = False
    for verify in VERIFY_RULES:
        if verify.when(evidence, policy, severity):
            needs_verification = verify.needs_verification
            rule_ids.append(verify.rule_id)
            break
    level_rule = policy.routing(severity)
    rule_ids.append(level_rule.rule_id)
    return Classification(
        category=evidence.category,
        severity=severity,
        level=level_rule.level,
        rule_ids=tuple(rule_ids),
        needs_verification=needs_verification,
        notify=level_rule.notify,
    )


def classify(message: GridReport | CameraAlert, taxonomy: Taxonomy, policy: Policy) -> Classification:
    """Classify one grid report or camera alarm; raises UnclassifiableError for codes the taxonomy lacks."""
    return classify_evidence(evidence_of(message, taxonomy), policy)
