"""Login and roles of the web command centre (gridflow.web.auth): who sees and does what; CSRF-safe."""

from __future__ import annotations

import base64
import json

from starlette.testclient import TestClient
from web_factories import escalation

from gridflow.web.app import WebConfig, create_app
from gridflow.web.auth import WebUser, check_password, hash_password
from gridflow.web.board import Board

USERS = {
    "city": WebUser("city", "city", None, hash_password("city-pw", iterations=1000)),
    "linhe": WebUser("linhe", "county", "150802", hash_password("linhe-pw", iterations=1000)),
    "wuyuan": WebUser("wuyuan", "county", "150821", hash_password("wuyuan-pw", iterations=1000)),
    "ana": WebUser("ana", "analyst", None, hash_password("ana-pw", iterations=1000)),
}


def _app(sent: list[tuple[str, bytes, bytes]]) -> tuple[TestClient, str]:
    app = create_app(WebConfig("unused:1", "t."), send=lambda *r: sent.append(r), read=False, users=USERS)
    board: Board = app.state.board
    incident, transition = escalation()  # an incident of county 150821
    board.on_incident(incident)
    board.on_transition(transition)
    return TestClient(app, base_url="http://cc.test"), str(incident.incident_id)


def _login(client: TestClient, name: str, password: str) -> str:
    r = client.post("/login", data={"username": name, "password": password}, follow_redirects=False)
    assert r.status_code == 303, r.text
    csrf: str = client.get("/api/session").json()["csrf"]
    return csrf


def test_passwords_are_stored_hashed() -> None:
    stored = hash_password("s3cret", iterations=1000)
    assert "s3cret" not in stored and check_password("s3cret", stored) and not check_password("nope", stored)


def test_nothing_but_public_paths_without_a_login() -> None:
    client, incident = _app([])
    with client:
        assert client.get("/api/state").status_code == 401
        assert client.get(f"/api/incidents/{incident}").status_code == 401
        assert (
            client.post(f"/api/incidents/{incident}/actions", json={"action": "acknowledge"}).status_code
            == 401
        )
        assert client.get("/", follow_redirects=False).headers["location"] == "/login"
        assert client.get("/open311/v2/services.json").status_code == 200
        assert client.post("/login", data={"username": "city", "password": "wrong"}).status_code == 401


def test_a_county_operator_sees_and_acts_on_its_own_county_only() -> None:
    sent: list[tuple[str, bytes, bytes]] = []
    client, incident = _app(sent)
    with client:
        csrf = _login(client, "linhe", "linhe-pw")  # county 150802; the incident is 150821's
        assert client.get(f"/api/incidents/{incident}").status_code == 403
        assert client.get("/api/state", params={"county": "150821"}).status_code == 403
        assert client.get("/api/state").json()["incidents"] == []  # its own county's view
        assert client.get("/county/150821").status_code == 403
        assert client.get("/", follow_redirects=False).headers["location"] == "/county/150802"
        url = f"/api/incidents/{incident}/actions"
        refused = client.post(url, json={"action": "acknowledge"}, headers={"X-CSRF-Token": csrf})
        assert refused.status_code == 403
        assert sent == []
    other, _ = _app(sent)
    with other:
        csrf = _login(other, "wuyuan", "wuyuan-pw")
        assert other.get(f"/api/incidents/{incident}").status_code == 200
        ok = other.post(
            f"/api/incidents/{incident}/actions",
            json={"action": "acknowledge"},
            headers={"X-CSRF-Token": csrf},
        )
        assert ok.status_code == 202 and len(sent) == 1


def test_actions_need_the_sessions_csrf_token() -> None:
    sent: list[tuple[str, bytes, bytes]] = []
    client, incident = _app(sent)
    with client:
        csrf = _login(client, "city", "city-pw")
        url = f"/api/incidents/{incident}/actions"
        assert client.post(url, json={"action": "acknowledge"}).status_code == 403
        assert (
            client.post(url, json={"action": "acknowledge"}, headers={"X-CSRF-Token": "forged"}).status_code
            == 403
        )
        assert sent == []
        assert (
            client.post(url, json={"action": "acknowledge"}, headers={"X-CSRF-Token": csrf}).status_code
            == 202
        )
        foreign = client.post(
            "/login", data={"username": "city", "password": "city-pw"}, headers={"Origin": "http://evil.test"}
        )
        assert foreign.status_code == 403


def test_an_analyst_sees_everything_and_acts_on_nothing() -> None:
    sent: list[tuple[str, bytes, bytes]] = []
    client, incident = _app(sent)
    with client:
        csrf = _login(client, "ana", "ana-pw")
        assert client.get(f"/api/incidents/{incident}").status_code == 200
        assert client.get("/api/state", params={"county": "150821"}).status_code == 200
        url = f"/api/incidents/{incident}/actions"
        assert (
            client.post(url, json={"action": "acknowledge"}, headers={"X-CSRF-Token": csrf}).status_code
            == 403
        )
        assert sent == []


def test_a_forged_session_cookie_is_refused() -> None:
    client, _ = _app([])
    with client:
        _login(client, "linhe", "linhe-pw")
        cookie = client.cookies["gridflow_session"]
        _, signature = cookie.rsplit(".", 1)
        forged = base64.urlsafe_b64encode(json.dumps(["city", "x", 9e12]).encode()).decode()
        client.cookies.set("gridflow_session", f"{forged}.{signature}")
        assert client.get("/api/state").status_code == 401
