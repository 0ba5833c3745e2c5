"""The web command centre without servers: the board, actions as dispositions, the API, the CAP feed."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from starlette.testclient import TestClient
from web_factories import T0, acknowledged, escalation

from gridflow.demo.cap import check_cap
from gridflow.web.actions import ActionError, disposition_for
from gridflow.web.app import WebConfig, create_app
from gridflow.web.board import Board
from schemas import decode
from schemas.enums import DispositionAction, IncidentStatus, Level
from schemas.messages import Disposition
from schemas.policy import policy
from schemas.topics import topics


def test_history_read_at_start_is_shown_but_not_announced() -> None:
    board = Board()
    old, old_t = escalation(name="old")
    board.on_incident(old)
    [item] = [c for c in board.on_transition(old_t) if c.kind == "escalation"]
    assert item.body["new"] is False  # read while catching up: an alert raised before a restart
    board.live = True
    fresh, fresh_t = escalation(name="fresh", level=Level.CITY, severity=5)
    board.on_incident(fresh)
    [item] = [c for c in board.on_transition(fresh_t) if c.kind == "escalation"]
    assert item.body["new"] is True
    assert item.body["where"] == "巴彦淖尔市（五原县）"  # a city matter names its county
    assert board.on_transition(fresh_t) == []  # redelivered: nothing again


def test_a_transition_waits_for_the_incident_state_it_produced() -> None:
    board = Board(live=True)
    incident, transition = escalation()
    assert board.on_transition(transition) == []
    kinds = [c.kind for c in board.on_incident(incident)]
    assert kinds == ["incident", "escalation"]


def test_acknowledged_incidents_are_rebuilt_from_the_topics() -> None:
    board = Board()
    incident, transition = escalation()
    after, ack = acknowledged(incident, T0 + timedelta(minutes=5))
    for message in (incident, transition, after, ack):
        board.on_incident(message) if message.kind == "incident" else board.on_transition(message)
    [row] = board.snapshot()["incidents"]
    assert row["status"] == "in_progress"
    detail = board.detail(incident.incident_id)
    assert detail is not None
    assert [t["rule_ids"] for t in detail["transitions"]] == [["E-ROUTE-001"], ["D-START-001"]]


def test_a_county_snapshot_holds_its_own_incidents_only() -> None:
    board = Board()
    for county, name in (("150821", "w"), ("150802", "l")):
        incident, transition = escalation(county=county, name=name)
        board.on_incident(incident)
        board.on_transition(transition)
    assert {r["county"] for r in board.snapshot("150821")["incidents"]} == {"150821"}
    assert {f["county"] for f in board.snapshot("150821")["feed"]} == {"150821"}
    assert len(board.snapshot()["incidents"]) == 2


def test_a_disposition_is_stamped_in_event_time_and_scoped_to_the_county() -> None:
    incident, _ = escalation()
    clock = T0 + timedelta(hours=1)
    d = disposition_for(incident, "acknowledge", "150821", clock)
    assert d.action == DispositionAction.ACCEPT and d.unit_code == "150821"
    assert d.at == clock + policy().allowed_lateness  # never the wall clock
    assert disposition_for(incident, "resolve", None, clock).unit_code == "150800"
    with pytest.raises(ActionError, match="not in county"):
        disposition_for(incident, "acknowledge", "150802", clock)
    with pytest.raises(ActionError, match="expected one of"):
        disposition_for(incident, "delete", None, clock)


def _client(sent: list[tuple[str, bytes, bytes]]) -> tuple[TestClient, Board]:
    app = create_app(WebConfig("unused:1", "t."), send=lambda *r: sent.append(r), read=False)
    board: Board = app.state.board
    return TestClient(app), board


def test_an_action_publishes_one_disposition_keyed_by_township() -> None:
    sent: list[tuple[str, bytes, bytes]] = []
    client, board = _client(sent)
    incident, transition = escalation()
    board.on_incident(incident)
    board.on_transition(transition)
    with client:
        url = f"/api/incidents/{incident.incident_id}/actions"
        assert (
            client.post(url, params={"county": "150802"}, json={"action": "acknowledge"}).status_code == 403
        )
        bad = client.post(url, json={"action": "shred"})
        assert bad.status_code == 400 and bad.json()["field"] == "action"
        assert client.post(url, content=b"x" * 5000).status_code == 413
        assert sent == []  # nothing reached the intake
        ok = client.post(url, params={"county": "150821"}, json={"action": "acknowledge"})
        assert ok.status_code == 202
    [(topic, key, value)] = sent
    assert topic == topics("t.").dispositions.name
    assert key == incident.township_code.encode()
    d = decode(value, Disposition)
    assert d.incident_id == incident.incident_id and d.action == DispositionAction.ACCEPT


def test_the_api_serves_state_detail_map_and_a_valid_cap_feed() -> None:
    client, board = _client([])
    incident, transition = escalation(level=Level.CITY, severity=5)
    board.on_incident(incident)
    board.on_transition(transition)
    with client:
        assert client.get("/").status_code == 200 and client.get("/county/150821").status_code == 200
        assert client.get("/county/999999").status_code == 404
        state = client.get("/api/state", params={"county": "150821"}).json()
        assert [r["id"] for r in state["incidents"]] == [str(incident.incident_id)]
        assert client.get("/api/state", params={"county": "150802"}).json()["incidents"] == []
        assert client.get("/api/state", params={"county": "x"}).status_code == 400
        detail = client.get(f"/api/incidents/{incident.incident_id}").json()
        assert detail["row"]["status"] == IncidentStatus.OPEN
        assert len(client.get("/api/map").json()["features"]) == 69
        feed = ET.fromstring(client.get("/cap/alerts.atom").content)
        links = [e.get("href") for e in feed.iter("{http://www.w3.org/2005/Atom}link") if e.get("type")]
        assert len(links) == 1
        cap = client.get("/cap/" + str(links[0]).rsplit("/", 1)[1])
        assert cap.headers["content-type"].startswith("application/cap+xml")
        assert check_cap(cap.content) == []
        assert "EventSource" in client.get("/static/app.js").text
