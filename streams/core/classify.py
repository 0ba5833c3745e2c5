"""Classification: what a grid report or camera alarm is, how severe, where it is handled first.

Rules are data (STYLE.md §4). Each message is reduced to `Evidence`, then four ordered tables decide:

1. ``BASE_RULES`` — first match wins — set the starting severity (taxonomy base severity unless the facts
   demand more, e.g. several injured);
2. ``MODIFIER_RULES`` — every match applies, in table order — each adds severity (one step each);
3. ``VERIFY_RULES`` — first match wins — decide whether a person must verify the alarm first;
4. ``LEVEL_RULES`` map the final severity (capped at 5) to the initial level (1 grid … 5 city).

Every rule that fired is recorded in ``Classification.rule_ids`` in that order, so each decision can be
explained and audited against the policy version. Thresholds come from `schemas.policy.Policy`; the few
report thresholds that the policy file does not carry are constants of the rule table below.

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
    "LEVEL_RULES",
    "MODIFIER_RULES",
    "VERIFY_RULES",
    "Classification",
    "Evidence",
    "LevelRule",
    "SeverityRule",
    "Source",
    "UnclassifiableError",
    "VerifyRule",
    "classify",
    "evidence_of",
    "notify_levels",
]

MAX_SEVERITY: Final = 5

# Report thresholds (not policy fields: they describe the facts of one report, not a governance choice).
MASS_CASUALTY_INJURED: Final = 10
SERIOUS_INJURED: Final = 3
MASS_INCIDENT_PARTIES: Final = 50  # 群体性事件
MANY_PARTIES: Final = 10
# A second crowd step: a gathering this many times the policy's crowd_upgrade_count.
MASS_GATHERING_FACTOR: Final = 4

# Words in a report that signal danger to life whatever the category (weapons, self-harm, arson, threats).
# Kept to unambiguous terms: 持刀/砍人 (knife attack), 爆炸 (explosion), 纵火 (arson), 轻生/跳楼/自杀/服毒
# (self-harm), 扬言 (threatens to); a plain word such as 死亡 is left out because 无人死亡 negates it.
DANGER_KEYWORDS: Final = ("持刀", "砍人", "爆炸", "纵火", "轻生", "跳楼", "自杀", "服毒", "扬言")


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
class LevelRule:
    """Initial level for a severity, plus the levels to notify besides the handler."""

    rule_id: str
    text: str
    severity: int
    level: Level
    notify: tuple[Level, ...] = ()


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
        f"report with {MASS_CASUALTY_INJURED}+ injured: mass casualty, severity 5",
        lambda e, p, s: _report(e) and e.injured >= MASS_CASUALTY_INJURED,
        at_least=5,
    ),
    SeverityRule(
        "C-RPT-002",
        f"report with {SERIOUS_INJURED}+ injured: at least severity 4",
        lambda e, p, s: _report(e) and e.injured >= SERIOUS_INJURED,
        at_least=4,
    ),
    SeverityRule(
        "C-RPT-003",
        f"report with {MASS_INCIDENT_PARTIES}+ parties (群体性事件): at least severity 4",
        lambda e, p, s: _report(e) and e.parties >= MASS_INCIDENT_PARTIES,
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
        f"report with 1–{SERIOUS_INJURED - 1} injured: +1",
        lambda e, p, s: _report(e) and 0 < e.injured < SERIOUS_INJURED,
        add=1,
    ),
    SeverityRule(
        "C-RPT-102",
        f"report with {MANY_PARTIES}–{MASS_INCIDENT_PARTIES - 1} parties: +1",
        lambda e, p, s: _report(e) and MANY_PARTIES <= e.parties < MASS_INCIDENT_PARTIES,
        add=1,
    ),
    SeverityRule(
        "C-RPT-103",
        "report mentions weapons, self-harm, arson or threats: +1",
        lambda e, p, s: _report(e) and any(word in e.description for word in DANGER_KEYWORDS),
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
        f"crowd_gathering with object_count >= {MASS_GATHERING_FACTOR} x crowd_upgrade_count: +1 more",
        lambda e, p, s: (
            _camera(e, AlertType.CROWD_GATHERING)
            and e.object_count >= MASS_GATHERING_FACTOR * p.crowd_upgrade_count
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

LEVEL_RULES: Final[tuple[LevelRule, ...]] = (
    LevelRule("C-LVL-001", "severity 1: grid", 1, Level.GRID),
    LevelRule("C-LVL-002", "severity 2: village/community", 2, Level.VILLAGE),
    LevelRule("C-LVL-003", "severity 3: township", 3, Level.TOWNSHIP),
    LevelRule("C-LVL-004", "severity 4: county", 4, Level.COUNTY),
    LevelRule("C-LVL-005", "severity 5: city, county notified", 5, Level.CITY, notify=(Level.COUNTY,)),
)
_LEVEL_RULE_BY_SEVERITY: Final = {rule.severity: rule for rule in LEVEL_RULES}


def notify_levels(severity: int) -> tuple[Level, ...]:
    """Levels told of a matter of ``severity`` besides the one handling it."""
    return _LEVEL_RULE_BY_SEVERITY[severity].notify


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
    level_rule = _LEVEL_RULE_BY_SEVERITY[severity]
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
