"""Open311 GeoReport v2: validation, rate limits, personal data, and the streams deciding a citizen report."""

from __future__ import annotations

from datetime import timedelta

from starlette.testclient import TestClient
from web_factories import T0, escalation

from gridflow.web.app import WebConfig, create_app
from gridflow.web.board import Board
from gridflow.web.open311 import RateLimit, citizen_report, locate
from schemas import decode, decode_intake, encode
from schemas.enums import MessageStatus
from schemas.geography import geography
from schemas.messages import CitizenReport, ClockTick, Incident
from schemas.policy import policy
from schemas.topics import topics
from streams.core.escalation import Engine
from streams.core.runner import PartitionRunner

KEY = b"k" * 32
PHONE, EMAIL = "13912345678", "citizen@example.org"
GRID = geography().unit("150821100001001")
GOOD = {
    "service_code": "neighbour",
    "lat": f"{GRID.centroid.lat:.5f}",
    "long": f"{GRID.centroid.lon:.5f}",
    "description": "邻居堆放杂物堵塞通道，多次协商未果",
    "phone": PHONE,
    "email": EMAIL,
    "first_name": "王",
}


def _client(sent: list[tuple[str, bytes, bytes]], burst: int = 50) -> tuple[TestClient, Board]:
    app = create_app(
        WebConfig("unused:1", "t."),
        send=lambda *r: sent.append(r),
        read=False,
        rate=RateLimit(burst=burst, per_minute=1),
        contact_key=KEY,
    )
    board: Board = app.state.board
    incident, transition = escalation()  # gives the board its event-time clock
    board.on_incident(incident)
    board.on_transition(transition)
    return TestClient(app), board


def test_services_are_the_taxonomy_categories() -> None:
    client, _ = _client([])
    with client:
        codes = {s["service_code"] for s in client.get("/open311/v2/services.json").json()}
    assert {"neighbour", "labour", "fire", "petition"} <= codes


def test_a_request_enters_the_intake_as_a_citizen_report_without_contact_details() -> None:
    sent: list[tuple[str, bytes, bytes]] = []
    client, board = _client(sent)
    with client:
        response = client.post("/open311/v2/requests.json", data=GOOD)
        assert response.status_code == 201
        request_id = response.json()[0]["service_request_id"]
        status = client.get(f"/open311/v2/requests/{request_id}.json").json()[0]
        assert status["status"] == "open" and "waiting" in status["status_notes"]
    [(topic, key, value)] = sent
    assert topic == topics("t.").grid_reports.name and key == GRID.code[:9].encode()
    report = decode(value, CitizenReport)
    assert str(report.event_id) == request_id and report.grid_code == GRID.code
    assert report.reported_at == T0 + policy().allowed_lateness  # event time, not the wall clock
    assert report.contact_ref is not None and len(report.contact_ref) == 64
    for personal in (PHONE, EMAIL, "王"):
        assert personal.encode() not in value  # hashed at the edge: never on the topic in clear

    # Once the streams decided, the public status says so, with no personal data.
    incident, _ = escalation(name="citizen")
    incident = incident.model_copy(update={"source_event_ids": (report.event_id,)})
    board.on_incident(incident)
    with client:
        body = client.get(f"/open311/v2/requests/{request_id}.json").text
    assert "五原县" in body
    for private in (PHONE, EMAIL, "王", "杂物", report.contact_ref):
        assert private not in body
    assert f"{GRID.centroid.lat:.5f}" not in body  # the grid's centre at 3 decimals, not the reported point


def test_bad_fields_get_400_naming_the_field_and_nothing_reaches_the_intake() -> None:
    sent: list[tuple[str, bytes, bytes]] = []
    client, _ = _client(sent)
    cases = {
        "lat": {**GOOD, "lat": "39.0"},
        "long": {**GOOD, "long": "east"},
        "service_code": {**GOOD, "service_code": "unicorns"},
        "description": {**GOOD, "description": ""},
        "colour": {**GOOD, "colour": "red"},
    }
    with client:
        for field_name, data in cases.items():
            response = client.post("/open311/v2/requests.json", data=data)
            assert response.status_code == 400, field_name
            [error] = response.json()
            assert error["field"] == field_name
            assert PHONE not in response.text
        big = client.post("/open311/v2/requests.json", data={**GOOD, "description": "x" * 9000})
        assert big.status_code == 413
    assert sent == []


def test_flooding_gets_429_and_nothing_more_reaches_the_intake() -> None:
    sent: list[tuple[str, bytes, bytes]] = []
    client, _ = _client(sent, burst=3)
    with client:
        codes = [client.post("/open311/v2/requests.json", data=GOOD).status_code for _ in range(6)]
    assert codes == [201, 201, 201, 429, 429, 429]
    assert len(sent) == 3


def test_the_streams_decide_a_citizen_report_like_a_grid_report_of_its_category() -> None:
    grid = locate(GRID.centroid.lon, GRID.centroid.lat)
    assert grid == GRID.code
    report = citizen_report(GOOD, T0, KEY)
    names = topics()
    sources = tuple(spec.name for spec in names.intake)
    runner = PartitionRunner(Engine.bundled(), 0, sources, lambda: T0)
    emits = runner.feed(names.grid_reports.name, 0, encode(report))
    for n, topic in enumerate(sources):
        tick = ClockTick(
            status=MessageStatus.EXERCISE, source="t", partition=0, at=T0 + timedelta(hours=1), seq=1
        )
        emits += runner.feed(topic, 1 if n == 0 else 0, encode(tick))
    incidents = [decode(e.value, Incident) for e in emits if e.role == "incidents"]
    assert incidents, [e.role for e in emits]
    assert incidents[0].category == "neighbour" and report.event_id in incidents[0].source_event_ids
    assert isinstance(decode_intake(encode(report)), CitizenReport)
    assert not any(e.role == "deadletter" for e in emits)
