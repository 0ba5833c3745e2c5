"""Classification rules: one parametrized table of cases, one behaviour per case.

Expected severities are written out by hand from data/taxonomy.toml and the rule tables, so a change of
either shows up here as a failing case naming the behaviour.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from streams_factories import T0, alert, report

from schemas.enums import AlertType, Level
from schemas.messages import CameraAlert, GridReport
from schemas.policy import policy
from schemas.taxonomy import taxonomy
from streams.core.classify import (
    BASE_RULES,
    MODIFIER_RULES,
    VERIFY_RULES,
    UnclassifiableError,
    classify,
)
from streams.core.routing import compatible, compatible_pairs, level_for_severity

TAX = taxonomy()
POLICY = policy()

# category → base severity, by hand from data/taxonomy.toml
BASE_SEVERITY = {
    "marriage_family": 1,
    "neighbour": 1,
    "small_debt": 1,
    "medical": 2,
    "property_management": 1,
    "traffic_accident_dispute": 2,
    "labour": 2,
    "land_contract": 2,
    "irrigation_water": 1,
    "public_order": 2,
    "fight": 3,
    "crowd_gathering": 2,
    "intrusion": 2,
    "fire": 4,
    "fire_hazard": 2,
    "ice_jam": 4,
    "water_level": 3,
    "flood": 4,
    "petition": 2,
    "collective_petition": 3,
    "pollution": 2,
    "illegal_dumping": 1,
    "road_damage": 1,
    "road_obstruction": 2,
    "utility_outage": 2,
    "epidemic": 4,
    "food_safety": 3,
    "traffic_accident": 3,
    "illegal_parking": 1,
}

# alarm type → (category, base severity) for a confident, small alarm
ALARM = {
    AlertType.CROWD_GATHERING: ("crowd_gathering", 2),
    AlertType.FIGHT: ("fight", 3),
    AlertType.FIRE_SMOKE: ("fire", 4),
    AlertType.TRAFFIC_ACCIDENT: ("traffic_accident", 3),
    AlertType.INTRUSION: ("intrusion", 2),
    AlertType.ILLEGAL_DUMPING: ("illegal_dumping", 1),
    AlertType.WATER_LEVEL: ("water_level", 3),
    AlertType.ROAD_OBSTRUCTION: ("road_obstruction", 2),
    AlertType.ILLEGAL_PARKING: ("illegal_parking", 1),
    AlertType.ICE_JAM: ("ice_jam", 4),
}


@dataclass(frozen=True)
class Case:
    message: GridReport | CameraAlert
    category: str
    severity: int
    rule_ids: tuple[str, ...]
    needs_verification: bool = False


def lvl(severity: int) -> str:
    return f"C-LVL-00{severity}"


def _report(category: str = "neighbour", **kw: object) -> GridReport:
    return report("r", T0, category, **kw)  # type: ignore[arg-type]


def _alert(alert_type: AlertType, **kw: object) -> CameraAlert:
    return alert("a", T0, alert_type, **kw)  # type: ignore[arg-type]


CASES = [
    *(
        pytest.param(
            Case(_report(code), code, sev, ("C-RPT-009", lvl(sev))), id=f"report_{code}_takes_base_severity"
        )
        for code, sev in BASE_SEVERITY.items()
    ),
    *(
        pytest.param(
            Case(_alert(alert_type), cat, sev, ("C-CAM-009", lvl(sev))),
            id=f"alarm_{alert_type.value}_maps_to_{cat}",
        )
        for alert_type, (cat, sev) in ALARM.items()
    ),
    # injuries
    pytest.param(
        Case(_report(injured=1), "neighbour", 2, ("C-RPT-009", "C-RPT-101", lvl(2))),
        id="one_injured_adds_one_step",
    ),
    pytest.param(
        Case(_report(injured=2), "neighbour", 2, ("C-RPT-009", "C-RPT-101", lvl(2))),
        id="two_injured_add_one_step",
    ),
    pytest.param(
        Case(_report(injured=3), "neighbour", 4, ("C-RPT-002", lvl(4))),
        id="three_injured_make_at_least_severity_4",
    ),
    pytest.param(
        Case(_report("fire", injured=3), "fire", 4, ("C-RPT-002", lvl(4))),
        id="injury_floor_does_not_add_to_a_higher_base",
    ),
    pytest.param(
        Case(_report(injured=10), "neighbour", 5, ("C-RPT-001", lvl(5))),
        id="ten_injured_are_a_mass_casualty",
    ),
    # parties
    pytest.param(
        Case(_report(parties=9), "neighbour", 1, ("C-RPT-009", lvl(1))),
        id="nine_parties_change_nothing",
    ),
    pytest.param(
        Case(_report(parties=10), "neighbour", 2, ("C-RPT-009", "C-RPT-102", lvl(2))),
        id="ten_parties_add_one_step",
    ),
    pytest.param(
        Case(_report("labour", parties=50), "labour", 4, ("C-RPT-003", lvl(4))),
        id="fifty_parties_are_a_mass_incident",
    ),
    # keywords
    pytest.param(
        Case(
            _report(description="邻里争执中一方持刀威胁"), "neighbour", 2, ("C-RPT-009", "C-RPT-103", lvl(2))
        ),
        id="knife_keyword_adds_one_step",
    ),
    pytest.param(
        Case(
            _report("labour", description="讨薪工人扬言跳楼"), "labour", 3, ("C-RPT-009", "C-RPT-103", lvl(3))
        ),
        id="self_harm_keyword_adds_one_step_once",
    ),
    pytest.param(
        Case(_report(description="争执中无人死亡"), "neighbour", 1, ("C-RPT-009", lvl(1))),
        id="negated_death_is_not_a_keyword",
    ),
    # severity hint
    pytest.param(
        Case(_report(hint=4), "neighbour", 2, ("C-RPT-009", "C-RPT-104", lvl(2))),
        id="higher_hint_raises_only_one_step",
    ),
    pytest.param(
        Case(_report("fight", hint=1), "fight", 3, ("C-RPT-009", lvl(3))),
        id="lower_hint_never_lowers",
    ),
    pytest.param(
        Case(_report(injured=1, hint=2), "neighbour", 2, ("C-RPT-009", "C-RPT-101", lvl(2))),
        id="hint_equal_to_computed_changes_nothing",
    ),
    pytest.param(
        Case(
            _report(injured=1, parties=12, description="持刀", hint=5),
            "neighbour",
            5,
            ("C-RPT-009", "C-RPT-101", "C-RPT-102", "C-RPT-103", "C-RPT-104", lvl(5)),
        ),
        id="modifiers_add_up_in_table_order",
    ),
    pytest.param(
        Case(
            _report("fire", injured=1, parties=20, description="纵火"),
            "fire",
            5,
            ("C-RPT-009", "C-RPT-101", lvl(5)),
        ),
        id="severity_is_capped_at_5",
    ),
    # camera upgrades
    pytest.param(
        Case(_alert(AlertType.CROWD_GATHERING, objects=49), "crowd_gathering", 2, ("C-CAM-009", lvl(2))),
        id="crowd_below_upgrade_count_stays",
    ),
    pytest.param(
        Case(
            _alert(AlertType.CROWD_GATHERING, objects=50),
            "crowd_gathering",
            3,
            ("C-CAM-009", "C-CAM-101", lvl(3)),
        ),
        id="crowd_at_upgrade_count_adds_one_step",
    ),
    pytest.param(
        Case(
            _alert(AlertType.CROWD_GATHERING, objects=200),
            "crowd_gathering",
            4,
            ("C-CAM-009", "C-CAM-101", "C-CAM-102", lvl(4)),
        ),
        id="mass_gathering_adds_two_steps",
    ),
    pytest.param(
        Case(_alert(AlertType.FIGHT, confidence=0.89), "fight", 3, ("C-CAM-009", lvl(3))),
        id="fight_below_upgrade_confidence_stays",
    ),
    pytest.param(
        Case(_alert(AlertType.FIGHT, confidence=0.9), "fight", 4, ("C-CAM-009", "C-CAM-103", lvl(4))),
        id="fight_at_upgrade_confidence_adds_one_step",
    ),
    pytest.param(
        Case(_alert(AlertType.FIRE_SMOKE, confidence=0.99, objects=500), "fire", 4, ("C-CAM-009", lvl(4))),
        id="upgrades_apply_to_their_own_alarm_type_only",
    ),
    # verification
    pytest.param(
        Case(
            _alert(AlertType.INTRUSION, confidence=0.59),
            "intrusion",
            2,
            ("C-CAM-009", "C-CAM-201", lvl(2)),
            needs_verification=True,
        ),
        id="low_confidence_alarm_needs_verification",
    ),
    pytest.param(
        Case(_alert(AlertType.INTRUSION, confidence=0.6), "intrusion", 2, ("C-CAM-009", lvl(2))),
        id="alarm_at_verify_threshold_is_trusted",
    ),
    pytest.param(
        Case(
            _alert(AlertType.CROWD_GATHERING, confidence=0.3, objects=60),
            "crowd_gathering",
            3,
            ("C-CAM-009", "C-CAM-101", "C-CAM-201", lvl(3)),
            needs_verification=True,
        ),
        id="unverified_crowd_keeps_its_upgrade_but_waits",
    ),
    pytest.param(
        Case(_report(), "neighbour", 1, ("C-RPT-009", lvl(1))),
        id="reports_never_need_verification",
    ),
]


@pytest.mark.parametrize("case", CASES)
def test_classification(case: Case) -> None:
    result = classify(case.message, TAX, POLICY)
    assert result.category == case.category
    assert result.severity == case.severity
    assert result.level == level_for_severity(POLICY, case.severity)
    assert result.rule_ids == case.rule_ids
    assert result.needs_verification is case.needs_verification


def test_table_covers_every_taxonomy_category_and_alarm_type() -> None:
    assert set(BASE_SEVERITY) | {cat for cat, _ in ALARM.values()} == set(TAX.categories)
    assert set(ALARM) == set(AlertType)
    assert len(CASES) >= 40


def test_severity_five_is_handled_by_the_city_with_the_county_notified() -> None:
    result = classify(_report(injured=12), TAX, POLICY)
    assert (result.level, result.notify) == (Level.CITY, (Level.COUNTY,))
    assert classify(_report(), TAX, POLICY).notify == ()


def test_one_severity_table_routes_severity_n_to_level_n() -> None:
    # docs/policy.md: 1 grid, 2 village, 3 township, 4 county, 5 city — from the policy's one table.
    assert [level_for_severity(POLICY, s) for s in range(1, 6)] == list(Level)
    assert [(r.severity, r.level) for r in POLICY.severity_levels] == list(
        zip(range(1, 6), Level, strict=True)
    )


def test_rule_ids_are_unique() -> None:
    ids = [r.rule_id for r in (*BASE_RULES, *MODIFIER_RULES)] + [r.rule_id for r in VERIFY_RULES]
    ids += [r.rule_id for r in POLICY.severity_levels]
    assert len(ids) == len(set(ids))


def test_unknown_category_is_unclassifiable() -> None:
    # The wire model already rejects unknown categories; the classifier still refuses one built without it.
    bogus = _report().model_copy(update={"category": "no_such_category"})
    with pytest.raises(UnclassifiableError, match="no_such_category"):
        classify(bogus, TAX, POLICY)


def test_thresholds_come_from_the_policy() -> None:
    strict = POLICY.model_copy(update={"crowd_upgrade_count": 10, "camera_verify_below": 0.95})
    result = classify(_alert(AlertType.CROWD_GATHERING, objects=12, confidence=0.9), TAX, strict)
    assert result.rule_ids == ("C-CAM-009", "C-CAM-101", "C-CAM-201", lvl(3))
    assert result.needs_verification


def test_compatible_pairs_answer_as_compatible_does() -> None:
    """The rules look compatibility up in a precomputed set; it must agree with the definition."""
    pairs = compatible_pairs(TAX)
    names = [*TAX.categories, "not_a_category"]
    for a in names:
        for b in names:
            assert (a == b or (a, b) in pairs) is compatible(TAX, a, b), (a, b)
    assert any(a != b for a, b in pairs) and len(pairs) < len(names) ** 2  # neither empty nor everything
