"""多元化解: the directory of handling bodies, the handling rules, the bodies the core names on decisions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from streams_factories import COUNTY, GRID, at, iid, report, tick

from schemas.bodies import HandlingTable, bodies, resolve
from schemas.enums import Level, TransitionReason
from schemas.geography import CITY_CODE, geography
from schemas.messages import Incident, IntakeUnion, Transition
from schemas.policy import policy
from schemas.taxonomy import taxonomy
from streams.core.escalation import Engine
from streams.core.outputs import Output

GEO = geography()
DIRECTORY = bodies()
DISPUTE_COMMITTEES = {
    "mediation_marriage_family": "婚姻家庭",
    "mediation_neighbour": "相邻关系",
    "mediation_small_debt": "小额债务",
    "mediation_medical": "医疗纠纷",
    "mediation_property": "物业纠纷",
    "mediation_traffic": "交通事故",
    "mediation_labour": "劳动争议",
}


def test_every_unit_has_the_bodies_of_its_level() -> None:
    for level in (Level.VILLAGE, Level.TOWNSHIP, Level.COUNTY, Level.CITY):
        for unit in GEO.at_level(level):
            assert {b.kind for b in DIRECTORY.of_unit(unit.code)} == set(DIRECTORY.kinds[level])
    assert DIRECTORY.kinds[Level.VILLAGE] == ("mediation_committee",)
    assert set(DIRECTORY.kinds[Level.TOWNSHIP]) == {"justice_office", "governance_centre", "police_station"}


def test_each_county_has_a_committee_for_each_of_the_seven_dispute_types() -> None:
    for county in GEO.counties():
        for kind, words in DISPUTE_COMMITTEES.items():
            body = DIRECTORY.get(f"{county.code}:{kind}")
            assert body is not None and words in body.name and body.role == "mediation"


def test_real_names_are_not_flagged_simulated_and_generated_ones_are() -> None:
    courts = {DIRECTORY.by_code[f"{c.code}:court"].name for c in GEO.counties()}
    assert "临河区人民法院" in courts and "杭锦后旗人民法院" in courts and len(courts) == 7
    assert DIRECTORY.by_code[f"{CITY_CODE}:court"].name == "巴彦淖尔市中级人民法院"
    assert not DIRECTORY.by_code["150802:court"].simulated
    village = GEO.villages()[0]
    assert DIRECTORY.by_code[f"{village.code}:mediation_committee"].simulated  # a simulated village
    assert DIRECTORY.by_code["150802:petition_bureau"].simulated  # a generated name


def test_the_rules_name_a_lead_body_for_every_category_at_every_level() -> None:
    rows = resolve(policy(), taxonomy(), DIRECTORY)
    assert len(rows) == len(taxonomy().categories) * len(Level)


def test_a_rule_naming_a_kind_the_level_lacks_is_refused() -> None:
    rules = list(policy().handling_rules)
    rules[0] = rules[0].model_copy(update={"lead": "court"})  # disputes at grid/village: no court there
    with pytest.raises(ValueError, match="H-DSP-001: no 'court' body at grid"):
        resolve(policy().model_copy(update={"handling_rules": tuple(rules)}), taxonomy(), DIRECTORY)


@pytest.mark.parametrize(
    ("category", "level", "lead", "co", "rule"),
    [
        ("neighbour", Level.GRID, f"{GRID[:12]}:mediation_committee", (), "H-DSP-001"),
        (
            "small_debt",
            Level.TOWNSHIP,
            f"{GRID[:9]}:justice_office",
            (f"{GRID[:9]}:governance_centre",),
            "H-DSP-002",
        ),
        (
            "labour",
            Level.COUNTY,
            f"{COUNTY}:mediation_labour",
            (f"{COUNTY}:hrss_bureau", f"{COUNTY}:labour_arbitration"),
            "H-LAB-003",
        ),
        ("ice_jam", Level.CITY, f"{CITY_CODE}:water_bureau", (f"{CITY_CODE}:emergency_bureau",), "H-FLD-003"),
        ("pollution", Level.COUNTY, f"{COUNTY}:governance_centre", (), "H-ANY-002"),
    ],
)
def test_handling_table(category: str, level: Level, lead: str, co: tuple[str, ...], rule: str) -> None:
    table = HandlingTable(resolve(policy(), taxonomy(), DIRECTORY), GEO)
    assert table.bodies(GRID, category, level) == (lead, co, rule)


def test_routing_and_every_escalation_name_the_bodies_and_the_rule() -> None:
    engine = Engine.bundled()
    state = engine.initial_state()
    outputs: list[Output] = []
    events: list[IntakeUnion] = [
        report("r", at(), "neighbour"),
        *[tick(at(hours=h)) for h in range(6, 24 * 7, 6)],
    ]
    for event in events:
        state, out = engine.step(state, event)
        outputs += out
    steps = [(t.reason, t.to_level, t.lead_body, t.body_rule) for t in outputs if isinstance(t, Transition)]
    assert steps[:4] == [
        (TransitionReason.INITIAL_ROUTING, Level.GRID, f"{GRID[:12]}:mediation_committee", "H-DSP-001"),
        (TransitionReason.SLA_BREACH, Level.VILLAGE, f"{GRID[:12]}:mediation_committee", "H-DSP-001"),
        (TransitionReason.SLA_BREACH, Level.TOWNSHIP, f"{GRID[:9]}:justice_office", "H-DSP-002"),
        (TransitionReason.SLA_BREACH, Level.COUNTY, f"{COUNTY}:mediation_neighbour", "H-NBR-003"),
    ]
    final = [o for o in outputs if isinstance(o, Incident) and o.incident_id == iid("r")][-1]
    assert (final.lead_body, final.co_bodies, final.body_rule) == (
        f"{COUNTY}:mediation_neighbour",
        (f"{COUNTY}:court",),
        "H-NBR-003",
    )
    assert final.due_at is not None and final.due_at > at() + timedelta(days=4)
