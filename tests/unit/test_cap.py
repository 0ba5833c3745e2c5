"""CAP 1.2 alerts: the structure check accepts what the command centre writes and refuses broken documents."""

from __future__ import annotations

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


def test_alert_for_a_county_escalation_passes_the_check() -> None:
    incident, transition = _escalation(Level.COUNTY)
    alert = alert_for(incident, transition)
    assert check_cap(alert.xml) == []
    assert alert.msg_type == "Alert"
    assert f'xmlns="{NS}"' in alert.xml
    assert "<status>Exercise</status>" in alert.xml
    assert "<scope>Public</scope>" in alert.xml
    assert str(incident.incident_id) in alert.identifier
    assert "<polygon>" in alert.xml and "<circle>" in alert.xml


def test_update_to_city_references_the_previous_alert_and_passes() -> None:
    incident, transition = _escalation(Level.CITY, seq=3, source=Level.COUNTY)
    alert = alert_for(incident, transition, previous=("gridflow-x-2", "2024-05-01T11:32:00+08:00"))
    assert alert.msg_type == "Update"
    assert "<references>" in alert.xml
    assert check_cap(alert.xml) == []


VALID = alert_for(*_escalation(Level.COUNTY)).xml


@pytest.mark.parametrize(
    ("broken", "problem"),
    [
        (
            VALID.replace("<identifier>", "<!-- --><identifierX>").replace("</identifier>", "</identifierX>"),
            "unknown element <identifierX>",
        ),
        (VALID.replace("<status>Exercise</status>", "<status>exercise</status>"), "status: 'exercise'"),
        (VALID.replace("<msgType>Alert</msgType>", "<msgType>Update</msgType>"), "requires <references>"),
        (VALID.replace("<scope>Public</scope>", ""), "missing required <scope>"),
        (VALID.replace("<severity>Minor</severity>", "<severity>Low</severity>"), "info[0].severity"),
        (VALID.replace("<urgency>Expected</urgency>", ""), "missing required <urgency>"),
        (VALID.replace("+08:00</sent>", "Z</sent>"), "is not a CAP datetime"),
        (VALID.replace("<areaDesc>", "<areaName>").replace("</areaDesc>", "</areaName>"), "<areaDesc>"),
        (VALID.replace(" 40.5500,107.1000</polygon>", "</polygon>"), "polygon"),
        (VALID.replace("<sender>gridflow-command-centre", "<sender>gridflow command centre"), "sender"),
        (VALID.replace(NS, "urn:oasis:names:tc:emergency:cap:1.1"), "root element"),
        (VALID.replace("</alert>", ""), "not well-formed"),
    ],
)
def test_check_cap_reports_each_structural_problem(broken: str, problem: str) -> None:
    problems = check_cap(broken)
    assert any(problem in p for p in problems), problems


def test_out_of_order_elements_are_reported() -> None:
    swapped = VALID.replace("<scope>Public</scope>", "").replace(
        "<identifier>", "<scope>Public</scope><identifier>"
    )
    assert any("out of the CAP 1.2 order" in p for p in check_cap(swapped))


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
