"""Building the intake messages the simulator emits: grid reports, camera alerts, dispositions.

:class:`EventFactory` turns drawn facts (a grid, a category, a time offset, a seeded ``random.Random``) into
validated pydantic messages and wraps them in :class:`~producers.record.Record` with the township key and
the encoded payload. Messages are built with the normal (validating) constructors, so a simulator bug
surfaces here as a validation error instead of as a dead letter downstream. Every message is
``status=exercise``.
"""

from __future__ import annotations

import random
import uuid
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from producers.record import Kind, Record
from producers.texts import Facts, texts
from schemas.bodies import HandlingTable, bodies, handling_table
from schemas.decode import encode
from schemas.enums import AlertType, DispositionAction, Level, MessageStatus
from schemas.geography import Geography, Unit
from schemas.messages import CameraAlert, Disposition, GeoPoint, GridReport, Outcome, Reporter
from schemas.policy import policy
from schemas.taxonomy import taxonomy
from schemas.topics import CAMERA_ALERTS, DISPOSITIONS, GRID_REPORTS

EXERCISE: Final = MessageStatus.EXERCISE

# Typical number of parties per report category (low, high); others involve 1..4 people.
_PARTIES: Final = {
    "labour": (3, 40),
    "collective_petition": (10, 120),
    "crowd_gathering": (10, 40),
    "property_management": (2, 30),
    "fight": (2, 8),
    "flood": (3, 60),
    "ice_jam": (2, 30),
    "epidemic": (2, 15),
    "medical": (2, 6),
    "land_contract": (2, 12),
    "irrigation_water": (2, 10),
}
# Injury odds and maximum per category (calibrated: see the notes at the top of data/scenarios.toml).
_INJURIES: Final = {"fight": (0.3, 2), "traffic_accident": (0.2, 2), "fire": (0.1, 2), "flood": (0.05, 2)}
# Objects a camera counts per alarm type (low, high) for a true alarm.
_OBJECTS: Final = {
    AlertType.CROWD_GATHERING: (8, 80),
    AlertType.FIGHT: (2, 8),
    AlertType.TRAFFIC_ACCIDENT: (1, 3),
    AlertType.INTRUSION: (1, 3),
    AlertType.ILLEGAL_DUMPING: (1, 2),
    AlertType.ROAD_OBSTRUCTION: (1, 5),
    AlertType.ILLEGAL_PARKING: (1, 1),
}


def uuid_from(rng: random.Random) -> uuid.UUID:
    """A version-4 UUID drawn from ``rng`` (so ids repeat with the seed, never with the clock)."""
    return uuid.UUID(int=rng.getrandbits(128), version=4)


@dataclass(frozen=True, slots=True)
class GridInfo:
    """What the factory needs to know about a grid, looked up once."""

    unit: Unit
    township: str
    facts: Facts
    cameras: int


# Salt of the random stream that decides settlements (kept apart from the disposition's own draws).
_SETTLEMENT_STREAM: Final = 0x5E7_71E0


class EventFactory:
    """Builds records for one simulation (``start`` is the time origin of every ``*_ms`` offset)."""

    def __init__(self, geo: Geography, start: datetime) -> None:
        self.geo = geo
        self.start = start
        self._grids: dict[str, GridInfo] = {}
        self._texts = texts()
        self._handling: HandlingTable | None = None
        self._directory = bodies()

    def time(self, ms: int) -> datetime:
        return self.start + timedelta(milliseconds=ms)

    def grid(self, code: str) -> GridInfo:
        info = self._grids.get(code)
        if info is None:
            unit = self.geo.unit(code)
            village = self.geo.unit(code[:12])
            township = self.geo.unit(code[:9])
            county = self.geo.unit(code[:6])
            facts = Facts(grid=unit.name, village=village.name, township=township.name, county=county.name)
            # Each grid has 2..8 cameras, a fixed number per grid (derived from the code, not the seed).
            cameras = 2 + zlib.crc32(code.encode()) % 7
            info = GridInfo(unit, township.code, facts, cameras)
            self._grids[code] = info
        return info

    @staticmethod
    def point(rng: random.Random, unit: Unit) -> GeoPoint:
        box = unit.bbox
        return GeoPoint(
            lon=round(rng.uniform(box.min_lon, box.max_lon), 6),
            lat=round(rng.uniform(box.min_lat, box.max_lat), 6),
        )

    def report(
        self, rng: random.Random, ms: int, grid: str, category: str, base_severity: int
    ) -> tuple[Record, GridReport]:
        """A grid member's report, filed at ``ms`` about something that happened shortly before."""
        info = self.grid(grid)
        low, high = _PARTIES.get(category, (1, 4))
        parties = rng.randint(low, high)
        odds, most = _INJURIES.get(category, (0.0, 0))
        injured = rng.randint(1, most) if most and rng.random() < odds else 0
        facts = Facts(
            info.facts.grid, info.facts.village, info.facts.township, info.facts.county, parties, injured
        )
        # Reports come minutes after the fact (the grid member walks over, then files); capped at 6 h.
        lag_ms = min(int(rng.expovariate(1 / (20 * 60_000))), 6 * 3_600_000)
        member = f"GM-{grid}-{rng.randint(1, 3):02d}"
        hint = None
        if rng.random() < 0.4:
            hint = max(1, min(5, base_severity + rng.choice((-1, 0, 0, 1))))
        reported_at = self.time(ms)
        message = GridReport(
            status=EXERCISE,
            event_id=uuid_from(rng),
            grid_code=grid,
            occurred_at=reported_at - timedelta(milliseconds=lag_ms),
            reported_at=reported_at,
            location=self.point(rng, info.unit),
            category=category,
            description=self._texts.description(category, rng, facts),
            parties=parties,
            injured=injured,
            reporter=Reporter(id=member, phone=_phone(member)),
            severity_hint=hint,
        )
        return self._record(GRID_REPORTS, info.township, reported_at, "grid_report", message), message

    def alert(
        self,
        rng: random.Random,
        ms: int,
        grid: str,
        camera_no: int,
        alert_type: AlertType,
        confidence: float,
        objects: int,
    ) -> tuple[Record, CameraAlert]:
        info = self.grid(grid)
        detected_at = self.time(ms)
        message = CameraAlert(
            status=EXERCISE,
            event_id=uuid_from(rng),
            camera_id=f"CAM-{grid}-{camera_no:02d}",
            grid_code=grid,
            location=self.point(rng, info.unit),
            alert_type=alert_type,
            confidence=round(confidence, 3),
            object_count=objects,
            detected_at=detected_at,
            snapshot_sha256=f"{rng.getrandbits(256):064x}",
        )
        return self._record(CAMERA_ALERTS, info.township, detected_at, "camera_alert", message), message

    def objects(
        self, rng: random.Random, alert_type: AlertType, false: bool, span: tuple[int, int] | None
    ) -> int:
        """How many objects the analytics count: few on a false alarm, a type-specific range otherwise."""
        if false:
            return rng.randint(0, 3)
        low, high = span or _OBJECTS.get(alert_type, (0, 0))
        return rng.randint(low, high)

    def disposition(
        self,
        seed: int,
        ms: int,
        incident_id: uuid.UUID,
        grid: str,
        action: DispositionAction,
        level: Level,
        category: str | None = None,
    ) -> Record:
        """A disposition from the grid's unit at ``level``; ``seed`` draws its event id and note.

        Dispositions are planned long before they are due, so the plan keeps only this seed and the
        message is built when it is emitted (a day of pending dispositions stays small in memory). With
        the incident's ``category`` it names the acting body and, on a resolution, the outcome
        (`settlement`), drawn from a second stream of the same seed so the other draws stay as they were.
        """
        rng = random.Random(seed)
        info = self.grid(grid)
        at = self.time(ms)
        body, outcome = (
            ("", None) if category is None else self._settlement(seed, grid, category, action, level)
        )
        message = Disposition(
            status=EXERCISE,
            event_id=uuid_from(rng),
            incident_id=incident_id,
            grid_code=grid,
            unit_code=self.geo.ancestor(grid, level),
            action=action,
            at=at,
            note=self._texts.note(action, rng, info.facts),
            body=body,
            outcome=outcome,
        )
        return self._record(DISPOSITIONS, info.township, at, "disposition", message)

    def _settlement(
        self, seed: int, grid: str, category: str, action: DispositionAction, level: Level
    ) -> tuple[str, Outcome | None]:
        """多元化解: the body acting (the lead body at ``level``) and, on resolve, how it settled.

        A mediating body settles a dispute with the success rate of its dispute type
        (``bodies.toml [mediation]``); when mediation fails the matter is referred to the county's people's
        court (诉调对接), which settles it by judgment: the resolution then comes from the court, litigated.
        Other bodies' resolutions are ``handled`` (arbitration bodies': ``arbitrated``).
        """
        if self._handling is None:
            self._handling = handling_table(policy(), taxonomy())
        lead, _, _ = self._handling.bodies(grid, category, level)
        if action is not DispositionAction.RESOLVE:
            return lead, None
        role = self._directory.roles[lead.split(":", 1)[1]]
        if role == "arbitration":
            return lead, "arbitrated"
        odds = self._directory.mediation.get(category)
        if role != "mediation" or odds is None:
            return lead, "handled"
        if random.Random(seed ^ _SETTLEMENT_STREAM).random() < odds.success:
            return lead, "mediated"
        return f"{grid[:6]}:court", "litigated"

    @staticmethod
    def _record(
        topic: str, key: str, at: datetime, kind: Kind, message: GridReport | CameraAlert | Disposition
    ) -> Record:
        return Record(
            topic=topic,
            key=key,
            partition=None,
            at=at,
            emit_at=at,
            kind=kind,
            event_id=str(message.event_id),
            value=encode(message),
        )


def _phone(member: str) -> str:
    """A stable, fake mainland mobile number for a simulated grid member (personal-data shaped)."""
    h = zlib.crc32(member.encode())
    return f"1{'3456789'[h % 7]}{h % 1_000_000_000:09d}"
