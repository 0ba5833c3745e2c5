"""The command-centre feed: escalations to county (L4) and city (L5) level, live, with CAP 1.2 alerts.

``gridflow command-center [--alerts DIR]`` reads ``incidents`` and ``incident_transitions`` (with the topic
prefix) from the beginning, shows the county and city escalations newest first (incident, unit, reason and
age in event time: how long before the newest event seen), and writes one CAP 1.2 file per alert version to
``DIR``. It runs until SIGINT/SIGTERM. The view fills the terminal: status, severity, level, category,
county and township, handling unit, deadline and reason; a city matter names the county it came from.

:class:`Desk` is the pure part (no Kafka): it joins each transition to the incident state it produced (an
incident's version equals the seq of its latest transition, so a transition waits for version >= its seq)
and decides which alerts to emit, each transition once. The shell around it polls Kafka, writes files and
draws the view. Reading from the start on every launch is deliberate: file names are deterministic, so a
restart skips the alerts already written and rebuilds the Alert/Update history for the new ones. What it
reads before reaching the topics' ends at start is history: shown, but never announced again as new.
"""

from __future__ import annotations

import signal
import sys
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import FrameType
from uuid import UUID

from gridflow.demo.cap import Alert, alert_for, cap_time, check_cap
from schemas.enums import Level
from schemas.geography import geography
from schemas.messages import Incident, Transition
from schemas.taxonomy import taxonomy

MAX_ROWS = 20  # when the terminal's height is unknown
CHROME_ROWS = 7  # the table's title, header, rules and caption


@dataclass(frozen=True, slots=True)
class Escalation:
    """One row of the view: an incident lifted to county or city level."""

    at: datetime
    incident_id: UUID
    level: Level
    unit: str
    reason: str
    category: str
    county: str = ""
    township: str = ""


def is_county_or_city_escalation(transition: Transition) -> bool:
    """True when a transition lifts an incident to county or city (routed there first, or climbing there)."""
    if transition.to_level < Level.COUNTY:
        return False
    return transition.from_level is None or transition.from_level < transition.to_level


@dataclass
class Desk:
    """The command centre's state: incidents by id, transitions waiting for their incident, alerts issued."""

    incidents: dict[UUID, Incident] = field(default_factory=dict)
    waiting: list[Transition] = field(default_factory=list)
    seen: set[UUID] = field(default_factory=set)
    last_alert: dict[UUID, tuple[str, str]] = field(default_factory=dict)
    escalations: deque[Escalation] = field(default_factory=lambda: deque(maxlen=500))
    newest: datetime | None = None

    def _clock(self, at: datetime) -> None:
        # Age is measured in event time: against the newest event time the feed has seen.
        if self.newest is None or at > self.newest:
            self.newest = at

    def on_incident(self, incident: Incident) -> list[Alert]:
        """Record an incident's state; releases transitions that waited for it."""
        known = self.incidents.get(incident.incident_id)
        if known is None or incident.version >= known.version:
            self.incidents[incident.incident_id] = incident
        self._clock(incident.updated_at)
        current = self.incidents[incident.incident_id]
        ready = [t for t in self.waiting if t.incident_id == current.incident_id and t.seq <= current.version]
        if not ready:
            return []
        self.waiting = [t for t in self.waiting if t not in ready]
        return self._issue(sorted(ready, key=lambda t: t.seq))

    def on_transition(self, transition: Transition) -> list[Alert]:
        """The alerts a transition produces: none unless it is a new escalation to county or city."""
        self._clock(transition.at)
        if transition.transition_id in self.seen or not is_county_or_city_escalation(transition):
            return []
        known = self.incidents.get(transition.incident_id)
        # Wait for the incident state this transition produced: an older one may predate a severity upgrade.
        if known is None or known.version < transition.seq:
            if transition not in self.waiting:
                self.waiting.append(transition)
            return []
        return self._issue([transition])

    def _issue(self, transitions: Iterable[Transition]) -> list[Alert]:
        alerts: list[Alert] = []
        for transition in transitions:
            if transition.transition_id in self.seen:
                continue
            self.seen.add(transition.transition_id)
            incident = self.incidents[transition.incident_id]
            alert = alert_for(incident, transition, self.last_alert.get(transition.incident_id))
            self.last_alert[transition.incident_id] = (alert.identifier, cap_time(transition.at))
            geo = geography()
            self.escalations.append(
                Escalation(
                    transition.at,
                    transition.incident_id,
                    transition.to_level,
                    geo.unit(transition.handling_unit).name,
                    str(transition.reason),
                    incident.category,
                    geo.unit(incident.county_code).name,
                    geo.unit(incident.township_code).name,
                )
            )
            alerts.append(alert)
        return alerts

    def newest_first(self, limit: int = MAX_ROWS) -> list[Escalation]:
        """The latest escalations, newest (in event time) first."""
        return sorted(self.escalations, key=lambda e: e.at, reverse=True)[:limit]


def write_alert(folder: Path, alert: Alert) -> str:
    """Write an alert unless its file exists: "written", "exists", or "invalid" (it fails CAP 1.2)."""
    problems = check_cap(alert.xml)
    if problems:
        print(f"command-center: {alert.identifier} fails CAP 1.2: {'; '.join(problems)}", file=sys.stderr)
        return "invalid"
    path = folder / alert.filename
    if path.exists():
        return "exists"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(alert.xml, encoding="utf-8")
    tmp.replace(path)  # atomic: a reader never sees half an alert
    return "written"


def _age(newest: datetime | None, at: datetime) -> str:
    seconds = int((newest - at).total_seconds()) if newest else 0
    hours, rest = divmod(max(0, seconds), 3600)
    return f"{hours}h{rest // 60:02d}m"


def _due(desk: Desk, incident_id: UUID) -> tuple[str, str, str]:
    incident = desk.incidents.get(incident_id)
    if incident is None:
        return "?", "?", "—"
    due = incident.due_at.strftime("%m-%d %H:%M") if incident.due_at else "—"
    status = str(incident.status) + (" overdue" if incident.overdue else "")
    return status, str(incident.severity), due


def render(desk: Desk, written: int, folder: Path, rows: int = MAX_ROWS) -> object:
    """The rich table of the view, with as many rows as ``rows`` allows."""
    from rich.table import Table

    table = Table(
        title=f"巴彦淖尔 command centre — county (L4) and city (L5) escalations · {written} CAP alerts",
        caption=f"event time {desk.newest.isoformat(timespec='minutes') if desk.newest else '—'}",
        expand=True,
    )
    for name in ("age", "level", "status", "sev", "category", "county", "township", "unit", "due", "reason"):
        table.add_column(name, no_wrap=True, overflow="ellipsis")
    tax = taxonomy()
    for e in desk.newest_first(max(1, rows)):
        status, severity, due = _due(desk, e.incident_id)
        category = tax.categories.get(e.category)
        style = "bold red" if e.level == Level.CITY else "yellow"
        if status.startswith(("resolved", "closed", "false_alarm", "merged")):
            style = "dim"
        table.add_row(
            _age(desk.newest, e.at),
            f"L{int(e.level)}",
            status,
            severity,
            category.name_zh if category else e.category,
            e.county,  # for a city matter: the county it came from
            e.township,
            e.unit,
            due,
            e.reason,
            style=style,
        )
    return table


def run_command_center(
    bootstrap: str, prefix: str, folder: Path, options: dict[str, object], view: bool
) -> int:
    """Consume until SIGINT/SIGTERM; returns the exit status."""
    from kafka import KafkaConsumer, TopicPartition
    from rich.console import Console
    from rich.live import Live

    from schemas import decode
    from schemas.errors import GridflowError
    from schemas.topics import topics

    folder.mkdir(parents=True, exist_ok=True)
    names = topics(prefix)
    stop = False

    def on_signal(signum: int, frame: FrameType | None) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest", **options
    )
    specs = (names.incidents, names.incident_transitions)
    parts = [TopicPartition(s.name, p) for s in specs for p in range(s.partitions)]
    consumer.assign(parts)
    consumer.seek_to_beginning()
    # Records before these ends are history: alerts already raised before a restart are not raised again.
    ends = {tp: end for tp, end in consumer.end_offsets(parts).items() if end > 0}
    if not ends and not view:
        print("command-center: caught up (the topics are empty); new alerts follow", flush=True)
    desk, written, invalid = Desk(), 0, 0
    console = Console()

    def rows() -> int:
        return console.size.height - CHROME_ROWS

    live = Live(render(desk, 0, folder, rows()), console=console, auto_refresh=False) if view else None  # type: ignore[arg-type]
    try:
        if live is not None:
            live.start()
        while not stop:
            batches = consumer.poll(timeout_ms=500, max_records=5000)
            for tp, records in batches.items():
                for record in records:
                    if record.value is None:
                        continue
                    try:
                        if tp.topic == names.incidents.name:
                            alerts = desk.on_incident(decode(record.value, Incident))
                        else:
                            alerts = desk.on_transition(decode(record.value, Transition))
                    except GridflowError:
                        continue  # the worker's own output; a bad record is the dead-letter topic's business
                    for alert in alerts:
                        outcome = write_alert(folder, alert)
                        if outcome == "invalid":
                            invalid += 1
                            continue
                        written += 1
                        if live is None and outcome == "written" and not ends:
                            print(f"command-center: {alert.msg_type} {alert.filename}", flush=True)
            if ends:
                ends = {tp: end for tp, end in ends.items() if consumer.position(tp) < end}
                if not ends and live is None:
                    print(
                        f"command-center: caught up ({written} alerts on file); new ones follow", flush=True
                    )
            if live is not None:
                live.update(render(desk, written, folder, rows()), refresh=True)  # type: ignore[arg-type]
    finally:
        if live is not None:
            live.stop()
        consumer.close()
    print(
        f"command-center: {written} CAP alerts in {folder} ({invalid} failed the check, "
        f"{len(desk.waiting)} escalations still waiting for their incident)",
        flush=True,
    )
    return 1 if invalid else 0
