"""The command centre's picture of the city, rebuilt from the incidents and incident_transitions topics.

Pure (no Kafka, no web): :class:`Board` takes each decoded record and returns the :class:`Change` s a page
must see — incident rows and escalation-feed items. Everything an operator sees is derived from the two
topics, acknowledgements included (an acknowledgement is a disposition the streams turned into status
``in_progress``), so a restarted server that reads them again shows the same picture. Records read while
the reader catches up with the topics' ends at start are history: their escalations are shown, never
announced as new (``live`` is False then).

A transition joins the incident state it produced (an incident's version equals the seq of its latest
transition); one that arrives before that state waits for it, as in the terminal command centre.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from gridflow.demo.cap import Alert, alert_for, cap_time
from schemas.enums import IncidentStatus, Level
from schemas.geography import CITY_CODE, geography
from schemas.messages import Incident, Transition
from schemas.taxonomy import taxonomy

OPEN_STATUSES = frozenset(
    {IncidentStatus.PENDING_VERIFICATION, IncidentStatus.OPEN, IncidentStatus.IN_PROGRESS}
)
FEED_SIZE = 500  # escalations kept for the feed
TRANSITIONS_PER_INCIDENT = 100  # an incident's history kept for its detail view
MAX_INCIDENTS = 50_000  # past this, finished incidents are forgotten, oldest first


def is_county_or_city_escalation(transition: Transition) -> bool:
    """True when a transition lifts an incident to county or city (routed there first, or climbing there)."""
    if transition.to_level < Level.COUNTY:
        return False
    return transition.from_level is None or transition.from_level < transition.to_level


def _name(code: str) -> str:
    unit = geography().get(code)
    return unit.name if unit is not None else code


def incident_row(incident: Incident) -> dict[str, Any]:
    """What a page needs of an incident for the map, the list and the filters (names, not only codes)."""
    category = taxonomy().categories.get(incident.category)
    return {
        "id": str(incident.incident_id),
        "version": incident.version,
        "category": incident.category,
        "category_name": category.name_zh if category else incident.category,
        "severity": incident.severity,
        "level": int(incident.level),
        "status": str(incident.status),
        "open": incident.status in OPEN_STATUSES,
        "unit": incident.handling_unit,
        "unit_name": _name(incident.handling_unit),
        "county": incident.county_code,
        "county_name": _name(incident.county_code),
        "township": incident.township_code,
        "township_name": _name(incident.township_code),
        "grid": incident.grid_code,
        "opened_at": incident.opened_at.isoformat(),
        "due_at": incident.due_at.isoformat() if incident.due_at else None,
        "updated_at": incident.updated_at.isoformat(),
        "overdue": incident.overdue,
        "exercise": str(incident.message_status) == "exercise",
    }


def transition_row(transition: Transition) -> dict[str, Any]:
    """One step of an incident's history, with its reason and the rule ids that fired."""
    return {
        "id": str(transition.transition_id),
        "incident": str(transition.incident_id),
        "seq": transition.seq,
        "at": transition.at.isoformat(),
        "from_status": str(transition.from_status) if transition.from_status else None,
        "to_status": str(transition.to_status),
        "from_level": int(transition.from_level) if transition.from_level is not None else None,
        "to_level": int(transition.to_level),
        "reason": str(transition.reason),
        "rule_ids": list(transition.rule_ids),
        "source_event": str(transition.source_event_id) if transition.source_event_id else None,
        "unit": transition.handling_unit,
        "unit_name": _name(transition.handling_unit),
    }


@dataclass(frozen=True, slots=True)
class Change:
    """Something a page must apply: an incident row, or a new escalation-feed item."""

    kind: str  # "incident" | "escalation"
    county: str  # the incident's county: a county page gets only its own
    body: dict[str, Any]


@dataclass
class Board:
    """Incidents by id, their histories, and the escalation feed; ``live`` once the start-up catch-up ends."""

    live: bool = False
    incidents: dict[UUID, Incident] = field(default_factory=dict)
    history: dict[UUID, deque[Transition]] = field(default_factory=dict)
    waiting: dict[UUID, list[Transition]] = field(default_factory=dict)
    feed: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=FEED_SIZE))
    seen: set[UUID] = field(default_factory=set)
    clock: datetime | None = None  # the newest event time seen: the streams' progress
    frontier: datetime | None = None  # the newest stream watermark: every partition decided up to it
    alerts: deque[tuple[str, Alert]] = field(default_factory=lambda: deque(maxlen=FEED_SIZE))  # (county, CAP)
    last_alert: dict[UUID, tuple[str, str]] = field(default_factory=dict)
    by_source: dict[UUID, UUID] = field(default_factory=dict)  # source event id → incident (Open311 status)

    def _tick(self, at: datetime) -> None:
        if self.clock is None or at > self.clock:
            self.clock = at

    def on_watermark(self, at: datetime) -> None:
        """A stream partition's frontier (on cluster_signals): it has decided everything before ``at``."""
        if self.frontier is None or at > self.frontier:
            self.frontier = at

    def event_time(self) -> datetime | None:
        """Where the streams' event time stands: the newest watermark, else the newest decision seen.

        The command centre stamps what it publishes with this plus the allowed lateness: never behind the
        partitions' clock ticks by more than the lateness, so the streams' sequencer takes it.
        """
        known = [t for t in (self.frontier, self.clock) if t is not None]
        return max(known) if known else None

    def on_incident(self, incident: Incident) -> list[Change]:
        known = self.incidents.get(incident.incident_id)
        self._tick(incident.updated_at)
        if known is not None and incident.version < known.version:
            return []  # an older state redelivered
        self.incidents[incident.incident_id] = incident
        for event_id in incident.source_event_ids:
            self.by_source[event_id] = incident.incident_id
        changes = [Change("incident", incident.county_code, incident_row(incident))]
        waiting = self.waiting.get(incident.incident_id)
        if waiting:
            ready = [t for t in waiting if t.seq <= incident.version]
            rest = [t for t in waiting if t.seq > incident.version]
            if rest:
                self.waiting[incident.incident_id] = rest
            else:
                del self.waiting[incident.incident_id]
            for transition in sorted(ready, key=lambda t: t.seq):
                changes += self._escalation(transition, incident)
        if len(self.incidents) > MAX_INCIDENTS:
            self._forget()
        return changes

    def on_transition(self, transition: Transition) -> list[Change]:
        self._tick(transition.at)
        if transition.transition_id in self.seen:
            return []
        self.seen.add(transition.transition_id)
        kept = self.history.setdefault(transition.incident_id, deque(maxlen=TRANSITIONS_PER_INCIDENT))
        kept.append(transition)
        if not is_county_or_city_escalation(transition):
            return []
        incident = self.incidents.get(transition.incident_id)
        if incident is None or incident.version < transition.seq:
            self.waiting.setdefault(transition.incident_id, []).append(transition)
            return []
        return self._escalation(transition, incident)

    def _escalation(self, transition: Transition, incident: Incident) -> list[Change]:
        row = incident_row(incident)
        item = {
            **transition_row(transition),
            "category_name": row["category_name"],
            "severity": incident.severity,
            "county": incident.county_code,
            "county_name": row["county_name"],
            "township_name": row["township_name"],
            # A city matter names the county it came from: the unit alone would say only 巴彦淖尔市.
            "where": row["county_name"]
            if transition.to_level == Level.COUNTY
            else f"{_name(CITY_CODE)}（{row['county_name']}）",
            "new": self.live,
        }
        self.feed.append(item)
        alert = alert_for(incident, transition, self.last_alert.get(incident.incident_id))
        self.last_alert[incident.incident_id] = (alert.identifier, cap_time(transition.at))
        self.alerts.append((incident.county_code, alert))
        item["cap"] = alert.identifier
        return [Change("escalation", incident.county_code, item)]

    def _forget(self) -> None:
        finished = sorted(
            (i for i in self.incidents.values() if i.status not in OPEN_STATUSES), key=lambda i: i.updated_at
        )
        for incident in finished[: len(self.incidents) - MAX_INCIDENTS + MAX_INCIDENTS // 10]:
            self.incidents.pop(incident.incident_id, None)
            for event_id in incident.source_event_ids:
                self.by_source.pop(event_id, None)
            for transition in self.history.pop(incident.incident_id, ()):
                self.seen.discard(transition.transition_id)

    def snapshot(self, county: str | None = None) -> dict[str, Any]:
        """What a page starts from: open incidents and the newest escalations (of one county if given)."""

        def mine(code: str) -> bool:
            return county is None or code == county

        incidents = [
            incident_row(i)
            for i in self.incidents.values()
            if i.status in OPEN_STATUSES and mine(i.county_code)
        ]
        feed = [dict(item, new=False) for item in self.feed if mine(item["county"])]
        feed.sort(key=lambda item: item["at"], reverse=True)
        return {
            "live": self.live,
            "clock": self.clock.isoformat() if self.clock else None,
            "incidents": incidents,
            "feed": feed[:200],
        }

    def incident_of(self, event_id: UUID) -> Incident | None:
        """The incident a source event (e.g. a citizen's report) became, following merges."""
        incident = self.incidents.get(self.by_source.get(event_id, event_id))
        for _ in range(8):  # a merged incident points at its survivor
            if incident is None or incident.merged_into is None:
                break
            incident = self.incidents.get(incident.merged_into)
        return incident

    def detail(self, incident_id: UUID) -> dict[str, Any] | None:
        """An incident in full (every field the contract has, so new ones appear), with its history."""
        incident = self.incidents.get(incident_id)
        if incident is None:
            return None
        return {
            "row": incident_row(incident),
            "incident": incident.model_dump(mode="json"),
            "transitions": [transition_row(t) for t in self.history.get(incident_id, ())],
        }
