"""Open311 GeoReport v2 for public participation (公众参与): services, a citizen's request, its public status.

Pure parts of the API: the service list (the taxonomy's categories), turning a POSTed request into a
:class:`~schemas.messages.CitizenReport` (validated; each bad field named), the keyed hash that stands in
for the citizen's contact details, a per-client rate limit, and the public status of a request. The
citizen's e-mail, phone and name are personal data: they are hashed here (HMAC-SHA256 with the server's
key) and never logged, stored in clear, published or shown; the public status carries no personal data.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl
from uuid import UUID, uuid4

from pydantic import ValidationError

from schemas.enums import IncidentStatus, MessageStatus
from schemas.geography import geography
from schemas.messages import CitizenReport, Incident
from schemas.point import GeoPoint
from schemas.policy import policy
from schemas.taxonomy import taxonomy

MAX_BODY_BYTES = 8 * 1024
# The GeoReport v2 request fields this server takes; any other is refused (400, naming it).
FIELDS = frozenset(
    {
        "service_code",
        "lat",
        "long",
        "description",
        "address_string",
        "email",
        "phone",
        "first_name",
        "last_name",
        "device_id",
        "account_id",
        "media_url",
        "jurisdiction_id",
        "api_key",
    }
)
PERSONAL = frozenset({"email", "phone", "first_name", "last_name", "device_id", "account_id"})
CLOSED = frozenset({IncidentStatus.RESOLVED, IncidentStatus.CLOSED, IncidentStatus.FALSE_ALARM})


class Open311Error(Exception):
    """A refused request: HTTP status, the field at fault (if one) and a description without its value."""

    def __init__(self, status: int, description: str, field_name: str | None = None) -> None:
        super().__init__(description)
        self.status, self.description, self.field = status, description, field_name

    def body(self) -> list[dict[str, Any]]:
        error: dict[str, Any] = {"code": self.status, "description": self.description}
        if self.field is not None:
            error["field"] = self.field
        return [error]


def services() -> list[dict[str, Any]]:
    """GET services: one service per taxonomy category."""
    return [
        {
            "service_code": c.code,
            "service_name": c.name_zh,
            "description": c.name_en,
            "metadata": False,
            "type": "realtime",
            "keywords": c.group,
            "group": c.group,
        }
        for c in taxonomy().categories.values()
    ]


def parse_fields(body: bytes, content_type: str) -> dict[str, str]:
    """The request's fields, from a form (the GeoReport v2 way) or a JSON object."""
    if len(body) > MAX_BODY_BYTES:
        raise Open311Error(413, f"request body over {MAX_BODY_BYTES} bytes")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Open311Error(400, "request body is not UTF-8") from None
    if content_type.startswith("application/json"):
        try:
            data = json.loads(text or "{}")
        except json.JSONDecodeError:
            raise Open311Error(400, "request body is not JSON") from None
        if not isinstance(data, dict):
            raise Open311Error(400, "expected a JSON object")
        pairs = [(str(k), v if isinstance(v, str) else json.dumps(v)) for k, v in data.items()]
    else:
        pairs = parse_qsl(text, keep_blank_values=True)
    fields: dict[str, str] = {}
    for name, value in pairs:
        if name not in FIELDS:
            raise Open311Error(400, f"unknown field {name[:40]!r}", name[:40])
        if name in fields:
            raise Open311Error(400, f"field {name!r} given twice", name)
        fields[name] = value
    return fields


def _number(fields: dict[str, str], name: str, low: float, high: float) -> float:
    raw = fields.get(name)
    if raw is None or raw == "":
        raise Open311Error(400, f"{name} is required", name)
    try:
        value = float(raw)
    except ValueError:
        raise Open311Error(400, f"{name} is not a number", name) from None
    if not math.isfinite(value) or not low <= value <= high:
        raise Open311Error(400, f"{name} must lie in Bayannur ({low}..{high})", name)
    return value


def locate(lon: float, lat: float) -> str | None:
    """The grid whose box holds the point (the nearest such grid's centre wins), or None."""
    best: tuple[float, str] | None = None
    for grid in geography().grids():
        if grid.bbox.contains(lon, lat):
            d = (grid.centroid.lon - lon) ** 2 + (grid.centroid.lat - lat) ** 2
            if best is None or d < best[0]:
                best = (d, grid.code)
    return best[1] if best else None


def contact_ref(key: bytes, fields: dict[str, str]) -> str | None:
    """HMAC-SHA256 of the normalised contact details, or None when the citizen gave none."""
    parts = [f"{name}={fields[name].strip().lower()}" for name in sorted(PERSONAL) if fields.get(name)]
    if not parts:
        return None
    return hmac.new(key, "\n".join(parts).encode(), hashlib.sha256).hexdigest()


def citizen_report(
    fields: dict[str, str], clock: datetime, key: bytes, event_id: UUID | None = None
) -> CitizenReport:
    """The intake message for a POSTed request; Open311Error(400) names the first bad field.

    ``clock`` is the event time the streams have reached; the report is stamped with it plus the allowed
    lateness, as the command centre's dispositions are, so the streams' sequencer takes it.
    """
    from schemas.point import CITY_MAX_LAT, CITY_MAX_LON, CITY_MIN_LAT, CITY_MIN_LON

    code = fields.get("service_code", "")
    if code not in taxonomy().categories:
        raise Open311Error(400, "service_code is not one of GET services", "service_code")
    lat = _number(fields, "lat", CITY_MIN_LAT, CITY_MAX_LAT)
    lon = _number(fields, "long", CITY_MIN_LON, CITY_MAX_LON)
    description = fields.get("description", "").strip()
    if not 1 <= len(description) <= 500:
        raise Open311Error(400, "description must hold 1 to 500 characters", "description")
    address = fields.get("address_string", "")
    if len(address) > 200:
        raise Open311Error(400, "address_string must hold at most 200 characters", "address_string")
    for name in ("email", "phone", "first_name", "last_name"):
        if len(fields.get(name, "")) > 254:
            raise Open311Error(400, f"{name} must hold at most 254 characters", name)
    grid = locate(lon, lat)
    if grid is None:
        raise Open311Error(400, "lat/long lie in no grid of Bayannur", "lat")
    try:
        return CitizenReport(
            status=MessageStatus.EXERCISE,
            event_id=event_id or uuid4(),
            grid_code=grid,
            category=code,
            description=description,
            location=GeoPoint(lon=lon, lat=lat),
            reported_at=clock + policy().allowed_lateness,
            address=address,
            contact_ref=contact_ref(key, fields),
        )
    except ValidationError as exc:
        errors = exc.errors()
        where = str(errors[0]["loc"][0]) if errors and errors[0]["loc"] else "request"
        name = {"location": "lat", "category": "service_code", "grid_code": "lat"}.get(where, where)
        raise Open311Error(400, f"{name} is not valid", name) from None


def public_status(request_id: str, incident: Incident | None, received: datetime | None) -> dict[str, Any]:
    """GET requests/{id}: what the public may know of a request — no description, address or contact."""
    if incident is None:
        return {
            "service_request_id": request_id,
            "status": "open",
            "status_notes": "received; waiting for the command centre's decision",
            "requested_datetime": received.isoformat() if received else None,
        }
    category = taxonomy().categories.get(incident.category)
    grid = geography().unit(incident.grid_code)
    return {
        "service_request_id": request_id,
        "status": "closed" if incident.status in CLOSED else "open",
        "status_notes": f"{incident.status} at level {int(incident.level)}",
        "service_code": incident.category,
        "service_name": category.name_zh if category else incident.category,
        "agency_responsible": geography().unit(incident.handling_unit).name,
        "requested_datetime": incident.opened_at.isoformat(),
        "updated_datetime": incident.updated_at.isoformat(),
        "expected_datetime": incident.due_at.isoformat() if incident.due_at else None,
        # The grid's centre, not the reported point: a citizen's exact location may be their home.
        "lat": round(grid.centroid.lat, 3),
        "long": round(grid.centroid.lon, 3),
    }


@dataclass
class RateLimit:
    """A token bucket per client: ``burst`` requests at once, refilled at ``per_minute``."""

    burst: int = 5
    per_minute: float = 6.0
    buckets: dict[str, tuple[float, float]] = field(default_factory=dict)  # client → (tokens, at)

    def allow(self, client: str, now: float) -> bool:
        tokens, at = self.buckets.get(client, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - at) * self.per_minute / 60)
        if len(self.buckets) > 100_000:
            self.buckets.clear()  # bounded memory under a spray of addresses
        if tokens < 1:
            self.buckets[client] = (tokens, now)
            return False
        self.buckets[client] = (tokens - 1, now)
        return True
