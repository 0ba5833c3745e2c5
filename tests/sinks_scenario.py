"""A small, fully known governance scenario for the ClickHouse tests, with its hand-computed answers.

Two counties, 临河区 (150802) and 五原县 (150821), on Monday 2026-03-02 from 08:00 (+08:00)::

    id county grid category    opened path (levels)                          final
    A  150802 GA1  neighbour   08:00  grid                                  resolved at grid, 2 h
    B  150802 GA1  neighbour   09:00  grid -sla-> village                   resolved at village, 10 h
    C  150802 GA1  neighbour   10:00  grid -repeat-> village -sla-> township resolved, reopened, closed, 30 h
    D  150821 GB1  small_debt  11:00  township -handler-> county            resolved at county, 50 h
    E  150821 GB1  fire        08:00  county                                in progress
    F  150821 GB2  fight       07:00  grid (camera a1, pending)             false alarm
    G  150821 GB2  fight       12:00  village (cameras a2, a3)              resolved at village, 4 h
    H  150821 GB2  crowd_gath. 12:05  village (camera a3)                   merged into G
    I  150802 GA2  fire        13:00  grid (camera a4, pending)             pending verification
    J  150802 GA2  flood       14:00  city                                  overdue at the city

Camera alarms: a1 CAM-GB2-01 fight → F; a2 CAM-GB2-01 fight → G; a3 CAM-GB2-02 crowd_gathering → H, merged
into G; a4 CAM-GA2-01 fire_smoke → I; a5 CAM-GA2-01 fire_smoke, no incident yet.

Messages are built with the real contract models (schemas.messages), so a contract change shows up here.
``EXPECTED`` holds the answer of every query in the pack, computed by hand from the table above.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from uuid import UUID, uuid5

from schemas import geography
from schemas._datafile import DATA_DIR
from schemas.enums import (
    AlertType,
    DispositionAction,
    IncidentStatus,
    Level,
    MessageStatus,
    TransitionReason,
)
from schemas.geography import CITY_CODE
from schemas.ids import dead_letter_id_for, incident_id_for, transition_id_for
from schemas.messages import (
    CameraAlert,
    DeadLetter,
    Disposition,
    GeoPoint,
    GridReport,
    Incident,
    MessageUnion,
    Reporter,
    Transition,
)

TZ = dt.timezone(dt.timedelta(hours=8))
T0 = dt.datetime(2026, 3, 2, 8, 0, tzinfo=TZ)
EX = MessageStatus.EXERCISE
_NS = UUID("0b9c4d1e-8f57-4a4e-9a51-3c1f6a0d2e77")


def at(hours: float) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


def event_id(name: str) -> UUID:
    return uuid5(_NS, name)


def _grids(county: str) -> list[str]:
    return sorted(u.code for u in geography().grids() if u.code.startswith(county))


GA1, GA2 = _grids("150802")[:2]
VILLAGE_COMMITTEE = f"{GA1[:12]}:mediation_committee"  # the 人民调解委员会 of GA1's village
GB1, GB2 = _grids("150821")[:2]


# The rule each kind of step records (a real id of the rule catalogue, so the rules table names it).
RULE_OF: dict[TransitionReason, str] = {
    TransitionReason.INITIAL_ROUTING: "E-ROUTE-001",
    TransitionReason.SLA_BREACH: "E-SLA-001",
    TransitionReason.SEVERITY_UPGRADE: "E-UPG-001",
    TransitionReason.REPEAT_DISPUTE: "E-RPT-001",
    TransitionReason.CLUSTER: "E-CLU-001",
    TransitionReason.HANDLER_REQUEST: "E-HND-001",
    TransitionReason.MERGE: "E-MRG-001",
    TransitionReason.FALSE_ALARM: "D-FA-001",
    TransitionReason.DISPOSITION: "D-RES-001",
    TransitionReason.REOPEN: "D-REO-001",
    TransitionReason.OVERDUE: "E-SLA-002",
}
POLICY = "fengqiao/2026.1"


def ancestor(grid: str, level: Level) -> str:
    return CITY_CODE if level == Level.CITY else grid[: 3 + 3 * (5 - int(level))]


def centroid(grid: str) -> tuple[float, float]:
    point = geography().unit(grid).centroid
    return point.lon, point.lat


def grid_report(name: str, grid: str, category: str, hours: float) -> GridReport:
    lon, lat = centroid(grid)
    return GridReport.model_validate(
        {
            "status": EX,
            "event_id": event_id(name),
            "grid_code": grid,
            "occurred_at": at(hours),
            "reported_at": at(hours) + dt.timedelta(minutes=3),
            "location": GeoPoint(lon=lon, lat=lat),
            "category": category,
            "description": f"测试上报 {name}",
            "parties": 2,
            "injured": 0,
            "reporter": Reporter(id="R001", phone="13800000000"),
            "severity_hint": None,
        }
    )


def camera_alert(name: str, grid: str, camera: int, alert_type: AlertType, hours: float) -> CameraAlert:
    lon, lat = centroid(grid)
    return CameraAlert.model_validate(
        {
            "status": EX,
            "event_id": event_id(name),
            "camera_id": f"CAM-{grid}-{camera:02d}",
            "grid_code": grid,
            "location": GeoPoint(lon=lon, lat=lat),
            "alert_type": alert_type,
            "confidence": 0.75,
            "object_count": 3,
            "detected_at": at(hours),
            "snapshot_sha256": hashlib.sha256(name.encode()).hexdigest(),
        }
    )


def disposition(
    name: str,
    incident: UUID,
    grid: str,
    unit: str,
    action: DispositionAction,
    hours: float,
    body: str = "",
    outcome: str | None = None,
) -> Disposition:
    return Disposition.model_validate(
        {
            "status": EX,
            "event_id": event_id(name),
            "incident_id": incident,
            "grid_code": grid,
            "unit_code": unit,
            "action": action,
            "at": at(hours),
            "note": "已处置",
            "body": body,
            "outcome": outcome,
        }
    )


# One step of an incident's history: (hours after T0, reason, to_status, to_level).
Step = tuple[float, TransitionReason, IncidentStatus, Level]


@dataclass
class Story:
    """One incident: its source events and its transitions; yields its versions and transitions."""

    name: str
    first_event: str
    grid: str
    category: str
    severity: int
    steps: list[Step]
    extra_events: list[str] = field(default_factory=list)
    merged_into: UUID | None = None
    resolved_after: float | None = None  # hours from opening to resolved_at, when settled

    @property
    def incident_id(self) -> UUID:
        return incident_id_for(event_id(self.first_event))

    def transitions(self) -> list[Transition]:
        out: list[Transition] = []
        status: IncidentStatus | None = None
        level: Level | None = None
        for seq, (hours, reason, to_status, to_level) in enumerate(self.steps, start=1):
            out.append(
                Transition.model_validate(
                    {
                        "status": EX,
                        "transition_id": transition_id_for(self.incident_id, seq),
                        "incident_id": self.incident_id,
                        "seq": seq,
                        "from_status": status,
                        "to_status": to_status,
                        "from_level": level,
                        "to_level": to_level,
                        "reason": reason,
                        "at": at(hours),
                        "rule_ids": (RULE_OF[reason],),
                        "source_event_id": event_id(self.first_event) if seq == 1 else None,
                        "handling_unit": ancestor(self.grid, to_level),
                        "policy_version": POLICY,
                    }
                )
            )
            status, level = to_status, to_level
        return out

    def versions(self) -> list[Incident]:
        """One incident version per transition (version = seq); the last is the latest state."""
        out: list[Incident] = []
        opened = at(self.steps[0][0])
        reopens = 0
        for seq, (hours, reason, to_status, to_level) in enumerate(self.steps, start=1):
            if reason == TransitionReason.REOPEN:
                reopens += 1
            last = seq == len(self.steps)
            settled = to_status in (IncidentStatus.RESOLVED, IncidentStatus.CLOSED)
            resolved_at = (
                opened + dt.timedelta(hours=self.resolved_after)
                if settled and last and self.resolved_after is not None
                else None
            )
            out.append(
                Incident.model_validate(
                    {
                        "message_status": EX,
                        "incident_id": self.incident_id,
                        "category": self.category,
                        "severity": self.severity,
                        "grid_code": self.grid,
                        "township_code": self.grid[:9],
                        "county_code": self.grid[:6],
                        "level": to_level,
                        "handling_unit": ancestor(self.grid, to_level),
                        "status": to_status,
                        "source_event_ids": (event_id(self.first_event), *map(event_id, self.extra_events)),
                        "opened_at": opened,
                        "due_at": opened + dt.timedelta(hours=4),
                        "resolved_at": resolved_at,
                        "updated_at": at(hours),
                        "version": seq,
                        "reasons": tuple(RULE_OF[s[1]] for s in self.steps[:seq]),
                        "overdue": reason == TransitionReason.OVERDUE,
                        "reopen_count": reopens,
                        "merged_into": self.merged_into if to_status == IncidentStatus.MERGED else None,
                    }
                )
            )
        return out


R = TransitionReason
S = IncidentStatus
L = Level

STORIES: dict[str, Story] = {}


def _story(story: Story) -> None:
    STORIES[story.name] = story


_story(
    Story(
        "A",
        "rA",
        GA1,
        "neighbour",
        1,
        [(0, R.INITIAL_ROUTING, S.OPEN, L.GRID), (2, R.DISPOSITION, S.RESOLVED, L.GRID)],
        resolved_after=2,
    )
)
_story(
    Story(
        "B",
        "rB",
        GA1,
        "neighbour",
        1,
        [
            (1, R.INITIAL_ROUTING, S.OPEN, L.GRID),
            (5, R.SLA_BREACH, S.OPEN, L.VILLAGE),
            (11, R.DISPOSITION, S.RESOLVED, L.VILLAGE),
        ],
        resolved_after=10,
    )
)
_story(
    Story(
        "C",
        "rC",
        GA1,
        "neighbour",
        1,
        [
            (2, R.INITIAL_ROUTING, S.OPEN, L.GRID),
            (2.5, R.REPEAT_DISPUTE, S.OPEN, L.VILLAGE),
            (26.5, R.SLA_BREACH, S.OPEN, L.TOWNSHIP),
            (28, R.DISPOSITION, S.RESOLVED, L.TOWNSHIP),
            (29, R.REOPEN, S.OPEN, L.TOWNSHIP),
            (32, R.DISPOSITION, S.CLOSED, L.TOWNSHIP),
        ],
        resolved_after=30,
    )
)
_story(
    Story(
        "D",
        "rD",
        GB1,
        "small_debt",
        3,
        [
            (3, R.INITIAL_ROUTING, S.OPEN, L.TOWNSHIP),
            (6, R.HANDLER_REQUEST, S.OPEN, L.COUNTY),
            (53, R.DISPOSITION, S.RESOLVED, L.COUNTY),
        ],
        resolved_after=50,
    )
)
_story(
    Story(
        "E",
        "rE",
        GB1,
        "fire",
        4,
        [(0, R.INITIAL_ROUTING, S.OPEN, L.COUNTY), (0.5, R.DISPOSITION, S.IN_PROGRESS, L.COUNTY)],
    )
)
_story(
    Story(
        "F",
        "a1",
        GB2,
        "fight",
        1,
        [
            (-1, R.INITIAL_ROUTING, S.PENDING_VERIFICATION, L.GRID),
            (-0.5, R.FALSE_ALARM, S.FALSE_ALARM, L.GRID),
        ],
    )
)
_story(
    Story(
        "G",
        "a2",
        GB2,
        "fight",
        2,
        [(4, R.INITIAL_ROUTING, S.OPEN, L.VILLAGE), (8, R.DISPOSITION, S.RESOLVED, L.VILLAGE)],
        extra_events=["a3"],
        resolved_after=4,
    )
)
_story(
    Story(
        "H",
        "a3",
        GB2,
        "crowd_gathering",
        2,
        [(4 + 5 / 60, R.INITIAL_ROUTING, S.OPEN, L.VILLAGE), (4.2, R.MERGE, S.MERGED, L.VILLAGE)],
        merged_into=incident_id_for(event_id("a2")),
    )
)
_story(Story("I", "a4", GA2, "fire", 1, [(5, R.INITIAL_ROUTING, S.PENDING_VERIFICATION, L.GRID)]))
_story(
    Story(
        "J",
        "rJ",
        GA2,
        "flood",
        5,
        [(6, R.INITIAL_ROUTING, S.OPEN, L.CITY), (6 + 14 * 24, R.OVERDUE, S.OPEN, L.CITY)],
    )
)

GRID_REPORTS = [
    grid_report("rA", GA1, "neighbour", 0),
    grid_report("rB", GA1, "neighbour", 1),
    grid_report("rC", GA1, "neighbour", 2),
    grid_report("rD", GB1, "small_debt", 3),
    grid_report("rE", GB1, "fire", 0),
    grid_report("rJ", GA2, "flood", 6),
]
CAMERA_ALERTS = [
    camera_alert("a1", GB2, 1, AlertType.FIGHT, -1),
    camera_alert("a2", GB2, 1, AlertType.FIGHT, 4),
    camera_alert("a3", GB2, 2, AlertType.CROWD_GATHERING, 4 + 5 / 60),
    camera_alert("a4", GA2, 1, AlertType.FIRE_SMOKE, 5),
    camera_alert("a5", GA2, 1, AlertType.FIRE_SMOKE, 5.5),
]
DISPOSITIONS = [
    # 多元化解: A's neighbour dispute settled by its village's mediation committee; D's small debt, after a
    # failed mediation, judged by the county court (诉调对接).
    disposition(
        "d1", STORIES["A"].incident_id, GA1, GA1, DispositionAction.RESOLVE, 2, VILLAGE_COMMITTEE, "mediated"
    ),
    disposition(
        "d2",
        STORIES["D"].incident_id,
        GB1,
        "150821",
        DispositionAction.RESOLVE,
        53,
        "150821:court",
        "litigated",
    ),
]


def dead_letter(topic: str, offset: int, raw: bytes, minutes: int) -> DeadLetter:
    return DeadLetter.model_validate(
        {
            "status": EX,
            "dead_letter_id": dead_letter_id_for(topic, 0, offset),
            "source_topic": topic,
            "source_partition": 0,
            "source_offset": offset,
            "raw": raw,
            "raw_size": len(raw),
            "error_class": "decode_error",
            "error_message": "1 problem: $: Input should be valid JSON",
            "processed_at": T0 + dt.timedelta(minutes=minutes),
        }
    )


DEAD_LETTERS: list[DeadLetter] = [
    dead_letter("intake.grid_reports", 7, b"{not json", 1),
    dead_letter("intake.grid_reports", 9, b"\xff\xfe binary \x00", 2),
    dead_letter("intake.camera_alerts", 3, "半截消息".encode()[:-1], 3),
]

INCIDENT_VERSIONS: list[MessageUnion] = [
    version for story in STORIES.values() for version in story.versions()
]
TRANSITIONS: list[Transition] = [
    transition for story in STORIES.values() for transition in story.transitions()
]
INTAKE: list[MessageUnion] = [*GRID_REPORTS, *CAMERA_ALERTS, *DISPOSITIONS]
# What the sink would see from Kafka: everything once, then a redelivered tail (at-least-once).
REDELIVERED: list[MessageUnion] = [
    GRID_REPORTS[0],
    DISPOSITIONS[0],
    CAMERA_ALERTS[2],
    *STORIES["C"].versions()[-2:],
    *STORIES["A"].versions(),
    *TRANSITIONS[:5],
    DEAD_LETTERS[0],
]

DISTINCT_COUNTS = {
    "events_distinct": len(INTAKE),  # 13
    "grid_reports_distinct": len(GRID_REPORTS),
    "camera_alerts_distinct": len(CAMERA_ALERTS),
    "dispositions_distinct": len(DISPOSITIONS),
    "incidents_latest": len(STORIES),  # 10
    "transitions_distinct": len(TRANSITIONS),  # 25
    "dead_letters_distinct": len(DEAD_LETTERS),
}


def _day(hours: float) -> str:
    return at(hours).strftime("%Y-%m-%d %H:%M:%S")


# The answer of every query in sinks/queries/, computed by hand from the scenario table above.
# Names the dimension tables give the codes (geography.json and unit_pinyin.json for the counties, the
# village of GA1 and the bodies; taxonomy.toml for the categories): a query that shows names must show these.
LINHE = ("临河区", "Linhe Qu")
WUYUAN = ("五原县", "Wuyuan Xian")
NEIGHBOUR = ("相邻关系纠纷", "Neighbour dispute")
SMALL_DEBT = ("小额债务纠纷", "Small debt dispute")
FIGHT = ("打架斗殴", "Fight")
FIRE = ("火情烟雾", "Fire or smoke")
FLOOD = ("洪涝险情", "Flood danger")
GA1_VILLAGE = ("花园社区", "Huayuan Shequ")


def _meaning(rule_id: str) -> tuple[str, str]:
    """A rule's family and meaning as the rule catalogue (the rules table's source) gives them."""
    catalogue = json.loads((DATA_DIR / "rule_catalogue.json").read_text(encoding="utf-8"))
    rule = next(r for r in catalogue["rules"] if r["rule_id"] == rule_id)
    return rule["family"], rule["meaning"]


def _fired(rule_id: str, transitions: int, incidents: int) -> tuple[object, ...]:
    return (rule_id, *_meaning(rule_id), POLICY, transitions, incidents)


EXPECTED: dict[str, list[tuple[object, ...]]] = {
    # I is the only alarm awaiting verification (at grid, not overdue).
    "overdue_verifications": [("150802", *LINHE, 1, 0, 0)],
    # 多元化解: d1 mediated (150802 neighbour), d2 litigated (150821 small_debt).
    "settled_by_mediation_vs_litigation": [
        ("150802", *LINHE, "neighbour", *NEIGHBOUR, 1, 1, 0, 0, 1.0),
        ("150821", *WUYUAN, "small_debt", *SMALL_DEBT, 1, 0, 1, 0, 0.0),
    ],
    # d1: A opened 08:00, settled 2 h later; d2: D opened 11:00, settled at 53 h → 50 h.
    "body_load_and_time_to_resolve": [
        (VILLAGE_COMMITTEE, *GA1_VILLAGE, "mediation_committee", 1, 1, 2.0),
        ("150821:court", *WUYUAN, "court", 1, 1, 50.0),
    ],
    # Matters (not false alarm, merged or pending): A B C D E G J. Settled: A grid, B village, C township,
    # D county, G village.
    "share_settled_village": [(5, 3, 0.6)],
    "share_settled_township": [(5, 4, 0.8)],
    # 150802: A B C J, only J at city and it was routed there; 150821: D E G, D pushed up by its handler.
    "push_up_rate_by_county": [("150802", *LINHE, 4, 1, 0, 0.0), ("150821", *WUYUAN, 3, 2, 1, 0.3333)],
    # Clocks held: A1 B1 B2 C1 C2 C3 D3 D4 E4 G2 J5; breached: B1 (sla), C2 (sla), J5 (overdue).
    "sla_compliance_by_level_category": [
        (1, "grid", "neighbour", *NEIGHBOUR, 3, 1, 0.6667),
        (2, "village", "fight", *FIGHT, 1, 0, 1.0),
        (2, "village", "neighbour", *NEIGHBOUR, 2, 1, 0.5),
        (3, "township", "neighbour", *NEIGHBOUR, 1, 0, 1.0),
        (3, "township", "small_debt", *SMALL_DEBT, 1, 0, 1.0),
        (4, "county", "fire", *FIRE, 1, 0, 1.0),
        (4, "county", "small_debt", *SMALL_DEBT, 1, 0, 1.0),
        (5, "city", "flood", *FLOOD, 1, 1, 0.0),
    ],
    # Nearest rank: 150802 [2, 10, 30] h → ranks 2 and 3; 150821 [4, 50] h → ranks 1 and 2.
    "time_to_resolve_by_county": [("150802", *LINHE, 3, 10.0, 30.0), ("150821", *WUYUAN, 2, 4.0, 50.0)],
    "repeat_dispute_hotspots": [(GA1, GA1[:9], "150802", "neighbour", 1, 3, _day(2))],
    # The same hotspot by name, from the units and categories tables `gridflow init` fills (geography.json:
    # 150802001 is 车站街道 of 临河区; taxonomy.toml: neighbour is 相邻关系纠纷).
    "repeat_dispute_hotspots_named": [
        ("车站街道", "临河区", "相邻关系纠纷", GA1, GA1[:9], "neighbour", 1, 3)
    ],
    # Ever resolved: A B C D G; C was reopened once.
    "reopen_rate": [(5, 1, 1, 0.2)],
    # Per incident: GA2-01 → I (pending); GB2-01 → F (false alarm), G; GB2-02 → G (a3 merged into G).
    "camera_precision_by_camera": [
        (f"CAM-{GA2}-01", 1, 0, 0, 1, None),
        (f"CAM-{GB2}-01", 2, 1, 1, 0, 0.5),
        (f"CAM-{GB2}-02", 1, 1, 0, 0, 1.0),
    ],
    "camera_precision_by_alert_type": [
        ("crowd_gathering", 1, 1, 0, 0, 1.0),
        ("fight", 2, 1, 1, 0, 0.5),
        ("fire_smoke", 1, 0, 0, 1, None),
    ],
    "hourly_heatmap_by_category": [
        ("fight", *FIGHT, 12, 1),
        ("fire", *FIRE, 8, 1),
        ("flood", *FLOOD, 14, 1),
        ("neighbour", *NEIGHBOUR, 8, 1),
        ("neighbour", *NEIGHBOUR, 9, 1),
        ("neighbour", *NEIGHBOUR, 10, 1),
        ("small_debt", *SMALL_DEBT, 11, 1),
    ],
    # Entered: 1 A B C; 2 B C G; 3 C D; 4 D E; 5 J. Escalated from: 1 B C; 2 C; 3 D. Settled at: 1 A; 2 B G;
    # 3 C; 4 D.
    "escalation_funnel": [
        (1, "grid", 3, 2, 1),
        (2, "village", 3, 1, 2),
        (3, "township", 2, 1, 1),
        (4, "county", 2, 0, 1),
        (5, "city", 1, 0, 0),
    ],
    "intake_volume_hourly": [
        ("2026-03-02 07:00:00", "camera_alert", "150821", *WUYUAN, 1),
        ("2026-03-02 08:00:00", "grid_report", "150802", *LINHE, 1),
        ("2026-03-02 08:00:00", "grid_report", "150821", *WUYUAN, 1),
        ("2026-03-02 09:00:00", "grid_report", "150802", *LINHE, 1),
        ("2026-03-02 10:00:00", "disposition", "150802", *LINHE, 1),
        ("2026-03-02 10:00:00", "grid_report", "150802", *LINHE, 1),
        ("2026-03-02 11:00:00", "grid_report", "150821", *WUYUAN, 1),
        ("2026-03-02 12:00:00", "camera_alert", "150821", *WUYUAN, 2),
        ("2026-03-02 13:00:00", "camera_alert", "150802", *LINHE, 2),
        ("2026-03-02 14:00:00", "grid_report", "150802", *LINHE, 1),
        ("2026-03-04 13:00:00", "disposition", "150821", *WUYUAN, 1),
    ],
    # Every story opens with initial routing (10); dispositions A B C C D E G (7 over 6 incidents); SLA
    # breaches B C; one each of false alarm F, reopen C, handler request D, merge H, repeat C, overdue J.
    "rules_fired": [
        _fired("E-ROUTE-001", 10, 10),
        _fired("D-RES-001", 7, 6),
        _fired("E-SLA-001", 2, 2),
        _fired("D-FA-001", 1, 1),
        _fired("D-REO-001", 1, 1),
        _fired("E-HND-001", 1, 1),
        _fired("E-MRG-001", 1, 1),
        _fired("E-RPT-001", 1, 1),
        _fired("E-SLA-002", 1, 1),
    ],
    "dead_letters_by_error": [
        ("intake.camera_alerts", "decode_error", 1, _day(3 / 60), _day(3 / 60)),
        ("intake.grid_reports", "decode_error", 2, _day(1 / 60), _day(2 / 60)),
    ],
}
