"""CAP 1.2 alerts: the structure check accepts what the command centre writes and refuses broken documents."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from gridflow.demo.cap import NS, alert_for, check_cap
from gridflow.demo.command_center import Desk, is_county_or_city_escalation
from schemas.enums import Level, TransitionReason
from schemas.examples import examples
from schemas.ids import transition_id_for
from schemas.messages import Incident, Transition


def _escalation(
    to: Level, seq: int = 2, source: Level | None = Level.TOWNSHIP
) -> tuple[Incident, Transition]:
    ex = examples()
    transition = ex.transition.model_copy(
        update={
            "seq": seq,
            "transition_id": transition_id_for(ex.incident.incident_id, seq),
            "from_level": source,
            "to_level": to,
            "reason": TransitionReason.SLA_BREACH,
            "at": ex.transition.at + timedelta(hours=seq),
        }
    )
    return ex.incident, transition


def test_alert_for_a_county_escalation_is_valid_and_actionable() -> None:
    incident, transition = _escalation(Level.COUNTY)
    alert = alert_for(incident, transition)
    assert check_cap(alert.xml) == []
    assert alert.msg_type == "Alert"
    assert f'xmlns="{NS}"' in alert.xml
    assert "<status>Exercise</status>" in alert.xml
    # An internal command alert: Private, addressed to the county's centre.
    assert "<scope>Private</scope>" in alert.xml
    assert "<addresses>command-centre-150802@bayannur.gridflow</addresses>" in alert.xml
    assert str(incident.incident_id) in alert.identifier
    # Names, not codes: the county, township and category by name; an instruction, expiry and contact.
    description = alert.xml.split("<description>")[1].split("</description>")[0]
    assert "临河区" in description and "车站街道" in description and "相邻关系纠纷" in description
    assert "150802" not in description
    for tag in ("instruction", "expires", "contact", "polygon", "circle"):
        assert f"<{tag}>" in alert.xml
    # The real county outline, not a rectangle of five corners.
    polygon = alert.xml.split("<polygon>")[1].split("</polygon>")[0].split()
    assert len(polygon) > 20 and polygon[0] == polygon[-1]


def test_update_to_city_references_the_previous_alert_and_passes() -> None:
    incident, transition = _escalation(Level.CITY, seq=3, source=Level.COUNTY)
    alert = alert_for(incident, transition, previous=("gridflow-x-2", "2024-05-01T11:32:00+08:00"))
    assert alert.msg_type == "Update"
    assert "<references>" in alert.xml
    assert "command-centre-150800@bayannur.gridflow" in alert.xml
    assert "事发临河区" in alert.xml  # a city matter names the county it came from
    assert check_cap(alert.xml) == []


VALID = alert_for(*_escalation(Level.COUNTY)).xml
_EVENT = re.search(r"<event>.*</event>", VALID)
assert _EVENT is not None
EVENT = _EVENT.group(0)


@pytest.mark.parametrize(
    ("broken", "problem"),
    [
        (
            VALID.replace("<identifier>", "<identifierX>").replace("</identifier>", "</identifierX>"),
            "identifierX",
        ),
        (VALID.replace("<status>Exercise</status>", "<status>exercise</status>"), "/alert/status"),
        (VALID.replace("<msgType>Alert</msgType>", "<msgType>Update</msgType>"), "requires <references>"),
        (VALID.replace("<scope>Private</scope>", ""), "'cap:scope' expected"),
        (VALID.replace("<severity>Minor</severity>", "<severity>Low</severity>"), "/alert/info/severity"),
        (VALID.replace("<urgency>Expected</urgency>", ""), "'cap:urgency' expected"),
        (VALID.replace("+08:00</sent>", "Z</sent>"), "/alert/sent"),
        (VALID.replace("<areaDesc>", "<areaName>").replace("</areaDesc>", "</areaName>"), "cap:areaDesc"),
        (re.sub(r" [0-9.,]+</polygon>", "</polygon>", VALID), "polygon"),
        (VALID.replace("<sender>gridflow-command-centre", "<sender>gridflow command centre"), "sender"),
        (VALID.replace(NS, "urn:oasis:names:tc:emergency:cap:1.1"), "root element"),
        (VALID.replace("</alert>", ""), "not well-formed"),
        # What the old hand checks missed: Private scope without <addresses>, <info> children out of order.
        (re.sub(r"<addresses>.*</addresses>", "", VALID), "scope Private requires <addresses>"),
        (
            VALID.replace("<category>Safety</category>", "@@")
            .replace(EVENT, "<category>Safety</category>")
            .replace("@@", EVENT),
            "'cap:category' expected",
        ),
    ],
)
def test_check_cap_reports_each_problem(broken: str, problem: str) -> None:
    problems = check_cap(broken)
    assert any(problem in p for p in problems), problems


def test_the_schema_itself_decides_order_not_a_hand_list() -> None:
    swapped = VALID.replace("<scope>Private</scope>", "").replace(
        "<identifier>", "<scope>Private</scope><identifier>"
    )
    assert any("Unexpected child" in p for p in check_cap(swapped))


def test_only_escalations_to_county_or_city_count() -> None:
    _, to_county = _escalation(Level.COUNTY)
    _, to_township = _escalation(Level.TOWNSHIP, source=Level.VILLAGE)
    _, settled_at_county = _escalation(Level.COUNTY, source=Level.COUNTY)
    assert is_county_or_city_escalation(to_county)
    assert not is_county_or_city_escalation(to_township)
    assert not is_county_or_city_escalation(settled_at_county)


def test_desk_waits_for_the_incident_dedups_and_updates() -> None:
    incident, to_county = _escalation(Level.COUNTY, seq=2)
    _, to_city = _escalation(Level.CITY, seq=3, source=Level.COUNTY)
    desk = Desk()
    assert desk.on_transition(to_county) == []  # its incident is not known yet
    assert desk.on_incident(incident) == []  # version 1 predates transition 2
    first = desk.on_incident(incident.model_copy(update={"version": 2, "severity": 4}))
    assert "<severity>Severe</severity>" in first[0].xml  # the state the transition produced
    assert [a.msg_type for a in first] == ["Alert"]
    assert desk.on_transition(to_county) == []  # redelivered: the same transition id
    assert desk.on_transition(to_city) == []
    second = desk.on_incident(incident.model_copy(update={"version": 3, "severity": 4}))
    assert [a.msg_type for a in second] == ["Update"]
    assert [e.level for e in desk.newest_first()] == [Level.CITY, Level.COUNTY]
    assert all(check_cap(a.xml) == [] for a in first + second)
