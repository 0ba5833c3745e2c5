"""Handlers that react: dispositions drawn in answer to the incidents the streams actually produced.

A scripted recording carries dispositions planned before any decision was taken, so a matter a new policy
sends to the township is still settled by the grid member's scripted answer. `Reactor` instead watches the
incident snapshots the streams emit and plans, for the unit that holds each matter *now*, an answer drawn
from the handler model (`HandlerModel`, data in ``data/handlers.toml``): respond (accept) after a
log-normal delay, then settle (resolve) with the level's success rate, else ask the level above
(request_escalation) or let the matter lie until its SLA breaches. A settled matter is checked by the level
above (verify, which closes it) or, sometimes, reopened. Camera verification tasks are confirmed or rejected
by the grid member. 多元化解: from the village up, when the incident's lead body mediates
(``schemas/data/bodies.toml``), a dispute is settled with its type's mediation success rate and time, and
a failed mediation goes to the county court (诉调对接), whose judgment comes in its own time whichever
level holds the matter by then; other bodies settle with their level's figures. Dispositions name the
body and how it settled.

Deterministic: every draw comes from a generator seeded by (seed, incident, level, round), so one matter
held by one level meets the same handler under any policy, in any process, whatever else happens around
it. A plan made for one level is dropped when the matter has moved on (another level, merged, closed) by the
time it is due. Disposition times are never before the moment the handler saw the incident (``now``), so a
reaction never arrives behind the clock ticks already sent.

Used offline by the what-if runner and live by ``gridflow simulate --handlers reactive``.
"""

from __future__ import annotations

import heapq
import math
import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Final

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from producers.record import Record
from schemas._datafile import raise_data_error, read_toml, split_loc
from schemas.bodies import bodies
from schemas.enums import DispositionAction, IncidentStatus, Level, MessageStatus
from schemas.messages import Disposition, Outcome
from schemas.topics import topics

HANDLERS_FILE: Final = Path(__file__).resolve().parent / "data" / "handlers.toml"
_NAMESPACE: Final = uuid.UUID("6d1f3c2a-5b7e-4c1d-9a2f-0e8b7c6d5a41")  # disposition ids of the reactor
_A = DispositionAction
_S = IncidentStatus
_DONE: Final = frozenset({_S.CLOSED.value, _S.FALSE_ALARM.value, _S.MERGED.value})

Share = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]


class Delay(BaseModel):
    """A log-normal delay: its median in minutes and the sigma of the underlying normal."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)
    median_minutes: Annotated[float, Field(gt=0, allow_inf_nan=False)]
    sigma: Annotated[float, Field(ge=0, le=3, allow_inf_nan=False)]

    def draw(self, rng: random.Random) -> timedelta:
        return timedelta(minutes=max(0.5, self.median_minutes * math.exp(rng.gauss(0.0, self.sigma))))


class LevelHandler(BaseModel):
    """How the units of one level answer: response and settlement delays, success, escalation, reopen."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)
    respond: Delay
    settle: Delay
    success: Share
    ask_up: Share
    reopen: Share


class HandlerModel(BaseModel):
    """The handler model as data (``data/handlers.toml``)."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)
    version: Annotated[str, Field(min_length=1, max_length=32)]
    verify_confirms: Share
    verify_after: Delay
    check_after: Delay
    levels: dict[str, LevelHandler]

    def at(self, level: Level) -> LevelHandler:
        return self.levels[level.name.lower()]


def load_handlers(path: Path | None = None) -> HandlerModel:
    """Load and check a handler model file (the bundled one by default); a bad value is one line."""
    path = path or HANDLERS_FILE
    raw = read_toml(path)
    try:
        model = HandlerModel.model_validate(raw)
    except ValidationError as exc:
        raise_data_error(path, exc, lambda loc: split_loc(loc, "", lambda i: ""))
    missing = [level.name.lower() for level in Level if level.name.lower() not in model.levels]
    if missing:
        from schemas.errors import DataFileError

        raise DataFileError(path, "levels", missing[0], "every level needs a handler")
    return model


@dataclass(frozen=True, slots=True)
class _Planned:
    """A disposition the reactor will send unless the matter has moved on by then."""

    incident: str
    level: int
    round: int
    action: DispositionAction
    unit: str
    grid: str
    township: str
    index: int  # its place in the plan: part of its deterministic event id
    body: str = ""  # 多元化解: the body acting, and how a resolution settled the matter
    outcome: Outcome | None = None
    sticky: bool = False  # a court's judgment comes whichever level holds the matter by then


@dataclass(slots=True)
class _Seen:
    """What the reactor knows of one incident: its level, status and how often it was reopened."""

    level: int
    status: str
    reopens: int
    planned: set[tuple[int, int]] = field(default_factory=set)  # (level, round) already planned


class Reactor:
    """Turns incident snapshots into dispositions, as the handler model says (see the module docstring)."""

    def __init__(
        self, model: HandlerModel, seed: int, status: MessageStatus = MessageStatus.EXERCISE
    ) -> None:
        self.model = model
        self.seed = seed
        self.status = status
        self.topic = topics().dispositions.name
        self._directory = bodies()
        self._seen: dict[str, _Seen] = {}
        self._queue: list[tuple[datetime, int, _Planned]] = []
        self._order = 0
        self.sent = 0

    # ---- observing -------------------------------------------------------------------------------------

    def observe(self, incident: dict[str, Any], now: datetime) -> None:
        """Take one incident snapshot (the incidents topic's JSON, decoded) seen at event time ``now``."""
        key = incident["incident_id"]
        level, status, reopens = int(incident["level"]), incident["status"], int(incident["reopen_count"])
        seen = self._seen.get(key)
        if seen is None:
            seen = self._seen[key] = _Seen(level, status, reopens)
        seen.level, seen.status = level, status
        if status in _DONE:
            return
        start = max(now, _time(incident["updated_at"]))
        if status == _S.PENDING_VERIFICATION.value:
            self._plan_verification(incident, seen, start)
        elif status in (_S.OPEN.value, _S.IN_PROGRESS.value):
            round_ = reopens
            if (level, round_) not in seen.planned:
                seen.planned.add((level, round_))
                self._plan_handling(incident, level, round_, start)
        elif status == _S.RESOLVED.value and (level, -1 - reopens) not in seen.planned:
            seen.planned.add((level, -1 - reopens))
            self._plan_check(incident, level, reopens, start)
        seen.reopens = reopens

    def _rng(self, incident: str, level: int, round_: int, what: str) -> random.Random:
        return random.Random(f"{self.seed}:{incident}:{level}:{round_}:{what}")

    def _plan_verification(self, incident: dict[str, Any], seen: _Seen, start: datetime) -> None:
        if (0, 0) in seen.planned:
            return
        seen.planned.add((0, 0))
        rng = self._rng(incident["incident_id"], 0, 0, "verify")
        at = start + self.model.verify_after.draw(rng)
        action = _A.VERIFY if rng.random() < self.model.verify_confirms else _A.REJECT_FALSE_ALARM
        # Planned for the level it waits at (grid), so it lapses if anything else moved the alarm on.
        self._push(at, incident, int(incident["level"]), 0, action, 0)

    def _plan_handling(self, incident: dict[str, Any], level: int, round_: int, start: datetime) -> None:
        handler = self.model.at(Level(level))
        rng = self._rng(incident["incident_id"], level, round_, "handle")
        accept = start + handler.respond.draw(rng)
        lead = str(incident.get("lead_body") or "")
        self._push(accept, incident, level, round_, _A.ACCEPT, 0, body=lead)
        role = self._directory.roles.get(lead.partition(":")[2])
        # At grid level the grid member settles on the spot (the level's figures); bodies from the village up.
        mediates = role == "mediation" and level >= Level.VILLAGE
        odds = self._directory.mediation.get(incident["category"]) if mediates else None
        if odds is not None:
            # 多元化解: a mediating body settles a dispute with its type's success rate and time; a failed
            # mediation is referred to the county's court (诉调对接), which rules in its own time.
            if rng.random() < odds.success:
                took = Delay(median_minutes=odds.median_hours * 60, sigma=handler.settle.sigma).draw(rng)
                self._push(accept + took, incident, level, round_, _A.RESOLVE, 1, lead, "mediated")
            else:
                took = Delay(median_minutes=odds.court_median_days * 1440, sigma=0.5).draw(rng)
                court = f"{incident['grid_code'][:6]}:court"
                self._push(accept + took, incident, level, round_, _A.RESOLVE, 1, court, "litigated", True)
            return
        settle = accept + handler.settle.draw(rng)
        if rng.random() < handler.success:
            outcome: Outcome = "arbitrated" if role == "arbitration" else "handled"
            self._push(settle, incident, level, round_, _A.RESOLVE, 1, lead, outcome)
        elif level < Level.CITY and rng.random() < handler.ask_up:
            halfway = accept + (settle - accept) / 2
            self._push(halfway, incident, level, round_, _A.REQUEST_ESCALATION, 1, lead)

    def _plan_check(self, incident: dict[str, Any], level: int, reopens: int, start: datetime) -> None:
        handler = self.model.at(Level(level))
        rng = self._rng(incident["incident_id"], level, reopens, "check")
        at = start + self.model.check_after.draw(rng)
        action = _A.REOPEN if rng.random() < handler.reopen else _A.VERIFY
        self._push(at, incident, level, -1 - reopens, action, 2)

    def _push(
        self,
        at: datetime,
        incident: dict[str, Any],
        level: int,
        round_: int,
        action: DispositionAction,
        index: int,
        body: str = "",
        outcome: Outcome | None = None,
        sticky: bool = False,
    ) -> None:
        grid = incident["grid_code"]
        planned = _Planned(
            incident["incident_id"],
            level,
            round_,
            action,
            incident["handling_unit"],
            grid,
            incident["township_code"],
            index,
            body,
            outcome,
            sticky,
        )
        self._order += 1
        heapq.heappush(self._queue, (at, self._order, planned))

    # ---- answering -------------------------------------------------------------------------------------

    def next_at(self) -> datetime | None:
        """When the earliest planned disposition is due (None if nothing is planned)."""
        return self._queue[0][0] if self._queue else None

    def due(self, until: datetime) -> list[Record]:
        """Every planned disposition due at or before ``until`` that still applies, in time order."""
        out: list[Record] = []
        while self._queue and self._queue[0][0] <= until:
            at, _, planned = heapq.heappop(self._queue)
            seen = self._seen.get(planned.incident)
            if seen is None or seen.status in _DONE or (seen.level != planned.level and not planned.sticky):
                continue  # the matter moved on: this unit's answer no longer applies
            out.append(self._record(at, planned))
        return out

    def _record(self, at: datetime, planned: _Planned) -> Record:
        name = f"{self.seed}:{planned.incident}:{planned.level}:{planned.round}:{planned.index}"
        message = Disposition(
            status=self.status,
            event_id=uuid.uuid5(_NAMESPACE, name),
            incident_id=uuid.UUID(planned.incident),
            grid_code=planned.grid,
            unit_code=planned.unit,
            action=planned.action,
            at=at,
            body=planned.body,
            outcome=planned.outcome,
        )
        self.sent += 1
        return Record(
            topic=self.topic,
            key=planned.township,
            partition=None,
            at=at,
            emit_at=at,
            kind="disposition",
            event_id=str(message.event_id),
            value=message.model_dump_json().encode(),
        )


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)
