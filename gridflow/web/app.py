"""The command centre's web application (Starlette): the live page, its JSON API and the event stream.

``create_app(config)`` builds it; ``gridflow web`` serves it with uvicorn. Routes:

- ``/`` the city's page (every county), ``/county/{code}`` a county's page (its own incidents only);
- ``/api/map`` the county and township outlines (GeoJSON, with where they come from);
- ``/api/meta`` names for the filters; ``/api/state`` the open incidents and the escalation feed;
- ``/api/events`` server-sent events: the state, then batches of changes as the topics move;
- ``/api/incidents/{id}`` an incident's detail; ``POST /api/incidents/{id}/actions`` an operator's action,
  published as a disposition on the intake topic (nothing is written anywhere else);
- ``/cap/alerts.atom`` and ``/cap/{identifier}.xml`` the CAP 1.2 alerts; ``/open311/v2/...`` GeoReport v2.

A county page passes ``county=<code>`` to every API call; the server filters by it and refuses actions on
another county's incidents.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from typing import Any
from urllib.parse import parse_qs
from uuid import UUID

import orjson
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from gridflow.mapdata import SOURCE, geojson
from gridflow.web.actions import ACTIONS, ActionError, disposition_for
from gridflow.web.atom import atom_feed
from gridflow.web.auth import COOKIE, SESSION_S, Sessions, WebUser, check_password
from gridflow.web.board import Board, Change
from gridflow.web.feed import Hub, Reader, sse
from gridflow.web.open311 import (
    MAX_BODY_BYTES,
    Open311Error,
    RateLimit,
    citizen_report,
    parse_fields,
    public_status,
    services,
)
from schemas.enums import Level, TransitionReason
from schemas.geography import CITY_CODE, geography
from schemas.messages import Disposition
from schemas.taxonomy import taxonomy

MAX_ACTION_BYTES = 4096
# Open without a login: the sign-in itself, static files, citizens' Open311 and the public CAP alerts.
PUBLIC_PATHS = ("/login", "/static/", "/open311/", "/cap/")
LOGIN_PAGE = """<!doctype html><html lang="zh"><head><meta charset="utf-8">
<title>gridflow — sign in</title></head><body><form method="post" action="/login">
<h1>gridflow command centre</h1>
<label>user <input name="username" autocomplete="username" required></label>
<label>password <input name="password" type="password" autocomplete="current-password" required></label>
<button>sign in</button></form></body></html>"""

# Sends one intake record (topic, key, value) and returns once Kafka acknowledged it.
Send = Callable[[str, bytes, bytes], None]


@dataclass
class WebConfig:
    """Where the page reads and writes: Kafka, the topic prefix and the client options."""

    bootstrap: str
    prefix: str = ""
    options: dict[str, Any] = field(default_factory=dict)


class KafkaSend:
    """The intake producer: idempotent, acks=all; each send waits for its acknowledgement."""

    def __init__(self, config: WebConfig) -> None:
        from kafka import KafkaProducer

        self.producer = KafkaProducer(
            bootstrap_servers=config.bootstrap, acks="all", linger_ms=0, **config.options
        )

    def __call__(self, topic: str, key: bytes, value: bytes) -> None:
        self.producer.send(topic, key=key, value=value).get(timeout=15)

    def close(self) -> None:
        self.producer.close(timeout=5)


class Forbidden(ActionError):
    """The logged-in user's role does not allow this (a 403)."""


def _user(request: Request) -> WebUser | None:
    user: WebUser | None = getattr(request.state, "user", None)
    return user


def _county(request: Request) -> str | None:
    county = request.query_params.get("county") or None
    if county is not None and county not in {c.code for c in geography().counties()}:
        raise ActionError(f"county {county!r}: expected one of the seven county codes")
    user = _user(request)
    if user is not None and user.role == "county":
        if county is not None and county != user.county:
            raise Forbidden(f"county {county}: {user.name} operates county {user.county} only")
        return user.county  # a county operator's view is always its own county
    return county


def _status(exc: ActionError) -> int:
    return 403 if isinstance(exc, Forbidden) else 400


def _error(status: int, message: str, field_name: str | None = None) -> JSONResponse:
    body: dict[str, Any] = {"error": message}
    if field_name is not None:
        body["field"] = field_name
    return JSONResponse(body, status_code=status)


def meta() -> dict[str, Any]:
    """The names the filters offer."""
    geo, tax = geography(), taxonomy()
    return {
        "city": {"code": CITY_CODE, "name": geo.unit(CITY_CODE).name},
        "counties": [{"code": c.code, "name": c.name} for c in geo.counties()],
        "levels": [{"level": int(lv), "name": lv.name.lower()} for lv in Level],
        "categories": [{"code": c.code, "name": c.name_zh} for c in tax.categories.values()],
        "reasons": [str(r) for r in TransitionReason],
        "actions": list(ACTIONS),
        "map_source": SOURCE,
    }


def create_app(
    config: WebConfig,
    send: Send | None = None,
    read: bool = True,
    rate: RateLimit | None = None,
    contact_key: bytes | None = None,
    users: dict[str, WebUser] | None = None,
) -> Starlette:
    """The application; ``send`` replaces the Kafka producer, ``read=False`` skips the reader (unit tests).

    ``rate`` limits Open311 requests per client; ``contact_key`` keys the hash of citizens' contact details
    (a random key per process when None: hashes then link reports within one run only). ``users`` turns on
    login and roles (:mod:`gridflow.web.auth`); without them the command centre is open.
    """
    from schemas import encode
    from schemas.topics import topics

    names = topics(config.prefix)
    board, lock, hub = Board(), threading.Lock(), None
    state: dict[str, Any] = {}
    static = resources.files("gridflow.web") / "static"
    page = (static / "index.html").read_text(encoding="utf-8")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        nonlocal hub
        loop = asyncio.get_running_loop()
        hub = Hub()
        flusher = asyncio.create_task(hub.run())
        reader = None
        if read:
            assert hub is not None

            def deliver(changes: list[Change], hub: Hub = hub) -> None:
                loop.call_soon_threadsafe(hub.add, changes)

            reader = Reader(board, lock, config.bootstrap, config.prefix, config.options, deliver)
            reader.start()
        state["reader"] = reader
        producer = None
        if send is None:
            producer = await run_in_threadpool(KafkaSend, config)
        state["send"] = send or producer
        try:
            yield
        finally:
            flusher.cancel()
            if reader is not None:
                await run_in_threadpool(reader.close)
            if producer is not None:
                await run_in_threadpool(producer.close)

    async def index(request: Request) -> Response:
        user = _user(request)
        if user is not None and user.role == "county":
            return RedirectResponse(f"/county/{user.county}", status_code=303)
        return HTMLResponse(page)

    async def county_page(request: Request) -> Response:
        if request.path_params["code"] not in {c.code for c in geography().counties()}:
            return _error(404, f"no county {request.path_params['code']!r}")
        user = _user(request)
        if user is not None and not user.can_see(request.path_params["code"]):
            return _error(403, f"{user.name} operates county {user.county} only")
        return HTMLResponse(page)

    sessions = Sessions()

    async def login_page(request: Request) -> Response:
        return HTMLResponse(LOGIN_PAGE)

    async def login(request: Request) -> Response:
        origin = request.headers.get("origin")
        if origin is not None and origin != f"{request.url.scheme}://{request.url.netloc}":
            return _error(403, "login from another site")  # login CSRF
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        name, password = (form.get(k, [""])[0] for k in ("username", "password"))
        user = (users or {}).get(name)
        if user is None or not check_password(password, user.password):
            return _error(401, "wrong user name or password")
        cookie, _ = sessions.issue(user.name)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(COOKIE, cookie, max_age=SESSION_S, httponly=True, samesite="strict")
        return response

    async def logout(request: Request) -> Response:
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE)
        return response

    async def session_data(request: Request) -> Response:
        user = _user(request)
        if user is None:
            return Response(orjson.dumps({"auth": False}), media_type="application/json")
        body = {"auth": True, "user": user.name, "role": user.role, "county": user.county}
        body["csrf"] = request.state.session.csrf
        return Response(orjson.dumps(body), media_type="application/json")

    async def map_data(request: Request) -> Response:
        return Response(orjson.dumps(geojson()), media_type="application/geo+json")

    async def meta_data(request: Request) -> Response:
        return Response(orjson.dumps(meta()), media_type="application/json")

    def snapshot(county: str | None) -> dict[str, Any]:
        with lock:
            snap = board.snapshot(county)
        reader = state.get("reader")
        snap["reader_error"] = reader.error if reader is not None else None
        return snap

    async def state_data(request: Request) -> Response:
        try:
            county = _county(request)
        except ActionError as exc:
            return _error(_status(exc), str(exc), "county")
        return Response(orjson.dumps(snapshot(county)), media_type="application/json")

    async def events(request: Request) -> Response:
        try:
            county = _county(request)
        except ActionError as exc:
            return _error(_status(exc), str(exc), "county")
        assert hub is not None
        client = hub.subscribe(county)  # before the snapshot: a change in between arrives twice, never 0
        first = await run_in_threadpool(snapshot, county)
        return StreamingResponse(
            sse(client, first, hub),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    def _incident_id(request: Request) -> UUID | None:
        try:
            return UUID(request.path_params["incident_id"])
        except ValueError:
            return None

    async def incident(request: Request) -> Response:
        incident_id = _incident_id(request)
        try:
            county = _county(request)
        except ActionError as exc:
            return _error(_status(exc), str(exc), "county")
        with lock:
            detail = board.detail(incident_id) if incident_id else None
        if detail is not None and county is not None and detail["row"]["county"] != county:
            if _user(request) is not None:  # a county operator asking for another county's incident
                return _error(403, f"incident of county {detail['row']['county']}: not yours to see")
            return _error(404, "no such incident here")
        if detail is None:
            return _error(404, "no such incident here")
        return Response(orjson.dumps(detail), media_type="application/json")

    async def act(request: Request) -> Response:
        incident_id = _incident_id(request)
        user = _user(request)
        if user is not None:
            session = request.state.session
            if not secrets.compare_digest(request.headers.get("x-csrf-token", ""), session.csrf):
                return _error(403, "missing or wrong X-CSRF-Token for this session")
            if not user.can_act:
                return _error(403, f"{user.name} ({user.role}) may look but not act")
        body = await request.body()
        if len(body) > MAX_ACTION_BYTES:
            return _error(413, f"request body over {MAX_ACTION_BYTES} bytes")
        try:
            county = _county(request)
            data = orjson.loads(body or b"{}")
            if not isinstance(data, dict):
                raise ActionError("expected a JSON object")
        except orjson.JSONDecodeError:
            return _error(400, "request body is not JSON")
        except ActionError as exc:
            return _error(_status(exc), str(exc))
        with lock:
            known = board.incidents.get(incident_id) if incident_id else None
            clock = board.event_time()
        if known is None or clock is None:
            return _error(404, "no such incident here")
        try:
            disposition: Disposition = disposition_for(
                known, str(data.get("action", "")), county, clock, str(data.get("note", ""))
            )
        except ActionError as exc:
            return _error(403 if "not in county" in str(exc) else 400, str(exc), "action")
        sender: Send = state["send"]
        key = known.township_code.encode()
        await run_in_threadpool(sender, names.dispositions.name, key, encode(disposition))
        return JSONResponse(
            {
                "event_id": str(disposition.event_id),
                "action": str(disposition.action),
                "at": disposition.at.isoformat(),
                "topic": names.dispositions.name,
            },
            status_code=202,
        )

    async def cap_feed(request: Request) -> Response:
        try:
            county = _county(request)
        except ActionError as exc:
            return _error(_status(exc), str(exc), "county")
        with lock:
            mine = [alert for code, alert in board.alerts if county in (None, code)]
            clock = board.event_time()
        base = str(request.base_url).rstrip("/")
        place = geography().unit(county or CITY_CODE).name
        updated = max((a.sent for a in mine), default=clock.isoformat(timespec="seconds") if clock else "")
        body = atom_feed(
            mine, base, f"{place} CAP 1.2 command alerts (gridflow)", updated or "2000-01-01T00:00:00Z"
        )
        return Response(body, media_type="application/atom+xml")

    async def cap_alert(request: Request) -> Response:
        name = request.path_params["identifier"]
        with lock:
            found = next((a for _, a in board.alerts if a.filename == name), None)
        if found is None:
            return _error(404, f"no alert {name!r}")
        return Response(found.xml, media_type="application/cap+xml")

    limiter = rate or RateLimit()
    key = contact_key or os.urandom(32)
    received: dict[str, datetime] = {}  # Open311 requests accepted by this process, until decided

    def open311_json(body: object, status: int = 200) -> Response:
        return Response(orjson.dumps(body), status_code=status, media_type="application/json")

    async def open311_services(request: Request) -> Response:
        return open311_json(services())

    async def open311_post(request: Request) -> Response:
        client = request.client.host if request.client else "?"
        if not limiter.allow(client, time.monotonic()):
            return open311_json(Open311Error(429, "too many requests: try again in a minute").body(), 429)
        declared = request.headers.get("content-length", "0")
        if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            return open311_json(Open311Error(413, f"request body over {MAX_BODY_BYTES} bytes").body(), 413)
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY_BYTES:
                return open311_json(
                    Open311Error(413, f"request body over {MAX_BODY_BYTES} bytes").body(), 413
                )
        with lock:
            clock = board.event_time()
        try:
            fields = parse_fields(body, request.headers.get("content-type", ""))
            if clock is None:
                raise Open311Error(503, "the command centre has not seen the streams' clock yet")
            report = citizen_report(fields, clock, key)
        except Open311Error as exc:
            return open311_json(exc.body(), exc.status)
        sender: Send = state["send"]
        township = geography().township_of(report.grid_code)
        await run_in_threadpool(sender, names.grid_reports.name, township.encode(), encode(report))
        request_id = str(report.event_id)
        if len(received) > 10_000:
            received.clear()
        received[request_id] = report.reported_at
        notice = "received; the command centre decides who handles it"
        return open311_json([{"service_request_id": request_id, "service_notice": notice}], 201)

    async def open311_status(request: Request) -> Response:
        request_id = request.path_params["request_id"]
        try:
            event_id = UUID(request_id)
        except ValueError:
            return open311_json(Open311Error(404, "no such request").body(), 404)
        with lock:
            incident = board.incident_of(event_id)
        if incident is None and request_id not in received:
            return open311_json(Open311Error(404, "no such request").body(), 404)
        return open311_json([public_status(request_id, incident, received.get(request_id))])

    routes = [
        Route("/", index),
        Route("/county/{code}", county_page),
        Route("/api/map", map_data),
        Route("/api/meta", meta_data),
        Route("/api/state", state_data),
        Route("/api/events", events),
        Route("/api/incidents/{incident_id}", incident),
        Route("/api/incidents/{incident_id}/actions", act, methods=["POST"]),
        Route("/cap/alerts.atom", cap_feed),
        Route("/open311/v2/services.json", open311_services),
        Route("/open311/v2/requests.json", open311_post, methods=["POST"]),
        Route("/open311/v2/requests/{request_id}.json", open311_status),
        Route("/cap/{identifier}", cap_alert),
        Mount("/static", app=StaticFiles(directory=str(static)), name="static"),
    ]
    routes += [
        Route("/login", login_page),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/api/session", session_data),
    ]

    async def guard(request: Request, call_next: Any) -> Response:
        """With users configured, every page and API call but the public ones needs a valid session."""
        if users is not None and not request.url.path.startswith(PUBLIC_PATHS):
            session = sessions.read(request.cookies.get(COOKIE))
            user = users.get(session.user) if session is not None else None
            if session is None or user is None:
                if request.url.path.startswith("/api/"):
                    return _error(401, "log in first")
                return RedirectResponse("/login", status_code=303)
            request.state.user, request.state.session = user, session
        response: Response = await call_next(request)
        return response

    app = Starlette(
        routes=routes, lifespan=lifespan, middleware=[Middleware(BaseHTTPMiddleware, dispatch=guard)]
    )
    app.state.board = board
    app.state.lock = lock
    return app
