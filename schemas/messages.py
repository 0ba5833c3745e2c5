"""The wire messages (docs/CONTRACTS.md): intake events, derived incidents and transitions, dead letters.

Every model is a frozen, strict pydantic v2 model that forbids unknown fields and carries ``kind`` (the
discriminator), ``schema_version`` and an actual/exercise ``status``. Validation enforces the contract at the
edge, so stream logic can trust a decoded message: codes exist in the geography and taxonomy, points lie in
Bayannur and in the grid's county, times are timezone-aware and plausible, sizes are bounded.

Checks that need other fields (a point inside the grid's county box, ``reported_at`` versus
``occurred_at``) are field validators reading earlier fields, so a failure names the field at fault; that is
why some models order their fields differently from the contract's prose. Lookups are precomputed sets and
dicts, because every decoded event runs them (see bench/bench_decode.py).
"""

from __future__ import annotations

import base64
import re
from datetime import datetime, timedelta
from typing import Annotated, Literal
from uuid import UUID

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    WithJsonSchema,
    field_serializer,
    field_validator,
)
from pydantic_core import PydanticCustomError

from schemas.enums import (
    AlertType,
    DeadLetterReason,
    DispositionAction,
    IncidentStatus,
    Level,
    MessageStatus,
    TransitionReason,
)
from schemas.errors import DecodeError
from schemas.fields import (
    CategoryCode,
    Count,
    CountyCode,
    EventTime,
    GridCode,
    NonNegative,
    Positive,
    RuleId,
    Severity,
    TownshipCode,
    UnitCode,
)
from schemas.geography import CITY_CODE, geography
from schemas.ids import dead_letter_id_for
from schemas.point import GeoPoint

__all__ = [
    "MAX_DEAD_LETTER_RAW",
    "MAX_ERROR_MESSAGE",
    "MAX_REASONS",
    "MAX_SOURCE_EVENTS",
    "REPORT_CLOCK_SKEW",
    "CameraAlert",
    "CitizenReport",
    "ClockTick",
    "DeadLetter",
    "Disposition",
    "GeoPoint",
    "GridReport",
    "Incident",
    "IntakeMessage",
    "IntakeUnion",
    "Message",
    "MessageUnion",
    "Reporter",
    "Transition",
]

# How far a grid member's phone clock may run behind the event it reports.
REPORT_CLOCK_SKEW = timedelta(minutes=5)
# Bounds that keep a merged incident well under the 64 KiB decode limit (a UUID is 38 bytes of JSON).
MAX_SOURCE_EVENTS = 1000
MAX_REASONS = 256
# A dead letter keeps the first 4096 bytes of the bad record and 2000 characters of the error.
MAX_DEAD_LETTER_RAW = 4096
MAX_ERROR_MESSAGE = 2000


class _Message(BaseModel):
    """Shared configuration: frozen, strict, no unknown fields; bytes travel as base64 in JSON."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        strict=True,
        ser_json_bytes="base64",
        val_json_bytes="base64",
    )

    @property
    def is_exercise(self) -> bool:
        """True for simulated or replayed messages (envelope status ``exercise``)."""
        return getattr(self, "status", None) == MessageStatus.EXERCISE


# Grid code → its county's box as a plain tuple: one dict lookup and four float comparisons per message,
# no slicing or method call (this runs on every report and alarm).
_GRID_COUNTY_BOX: dict[str, tuple[float, float, float, float]] = {
    code: (box.min_lon, box.min_lat, box.max_lon, box.max_lat)
    for code in geography().grid_codes
    for box in (geography().county_boxes[code[:6]],)
}
_NEG_SKEW = -REPORT_CLOCK_SKEW


def _in_county_box(point: GeoPoint, info: ValidationInfo) -> GeoPoint:
    """Reject a point outside the box of the county holding the (already validated) grid."""
    grid = info.data.get("grid_code")
    if grid is not None:
        min_lon, min_lat, max_lon, max_lat = _GRID_COUNTY_BOX[grid]
        if not (min_lon <= point.lon <= max_lon and min_lat <= point.lat <= max_lat):
            raise PydanticCustomError(
                "outside_county",
                "Input should lie inside the bounding box of county {county}",
                {"county": grid[:6]},
            )
    return point


# ---- intake ----------------------------------------------------------------------------------------------


class Reporter(BaseModel):
    """The grid member who filed a report. ``phone`` is personal data: never log it."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    id: Annotated[str, Field(min_length=1, max_length=32)]
    # Mainland mobile numbers: 11 digits starting 13–19.
    phone: Annotated[str, Field(pattern=r"^1[3-9]\d{9}$", repr=False)]


class GridReport(_Message):
    """A grid member's report (网格员上报)."""

    kind: Literal["grid_report"] = "grid_report"
    schema_version: Literal[1] = 1
    status: MessageStatus
    event_id: UUID
    grid_code: GridCode
    occurred_at: EventTime
    reported_at: EventTime
    location: GeoPoint
    category: CategoryCode
    description: Annotated[str, Field(min_length=1, max_length=500)]
    parties: Count
    injured: Count
    reporter: Reporter
    severity_hint: Severity | None = None

    @field_validator("reported_at")
    @classmethod
    def _not_before_occurrence(cls, value: datetime, info: ValidationInfo) -> datetime:
        occurred = info.data.get("occurred_at")
        # A timedelta comparison: cheaper than building the datetime occurred_at - skew.
        if occurred is not None and value - occurred < _NEG_SKEW:
            raise PydanticCustomError(
                "reported_before_occurred", "Input should not be more than 5 minutes before occurred_at"
            )
        return value

    _location_in_county = field_validator("location")(_in_county_box)


class CameraAlert(_Message):
    """A 雪亮工程 camera alarm; ``camera_id`` is ``CAM-<grid_code>-<nn>`` and must name this grid."""

    kind: Literal["camera_alert"] = "camera_alert"
    schema_version: Literal[1] = 1
    status: MessageStatus
    event_id: UUID
    camera_id: Annotated[str, Field(pattern=r"^CAM-\d{15}-\d{2}$")]
    grid_code: GridCode
    location: GeoPoint
    alert_type: AlertType
    confidence: Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
    object_count: Annotated[int, Field(ge=0, le=100_000)]
    detected_at: EventTime
    snapshot_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]

    @field_validator("grid_code")
    @classmethod
    def _camera_in_grid(cls, value: str, info: ValidationInfo) -> str:
        camera = info.data.get("camera_id")
        if camera is not None and camera[4:19] != value:
            raise PydanticCustomError("camera_grid_mismatch", "Input should be the grid named in camera_id")
        return value

    _location_in_county = field_validator("location")(_in_county_box)


BodyCode = Annotated[str, Field(pattern=r"^((\d{6}|\d{9}|\d{12}):[a-z][a-z0-9_]{1,40})?$")]
"""A handling body (``"<unit code>:<kind>"``, ``schemas.bodies``); empty where none is named."""

Outcome = Literal["mediated", "litigated", "arbitrated", "referred", "handled"]
"""How a body settled (or passed on) a matter: mediation agreement, judgment, arbitral award, referral to
court after failed mediation (诉调对接), or handled by an administrative, police or coordination body."""


class Disposition(_Message):
    """Feedback from a handling unit about an incident (处置反馈)."""

    kind: Literal["disposition"] = "disposition"
    schema_version: Literal[1] = 1
    status: MessageStatus
    event_id: UUID
    incident_id: UUID
    grid_code: GridCode  # the incident's grid: keys the message to the partition holding the incident
    unit_code: UnitCode
    action: DispositionAction
    at: EventTime
    note: Annotated[str, Field(max_length=500)] = ""
    # 多元化解: the body that acted and, on resolve or a referral, how (empty on older messages).
    body: BodyCode = ""
    outcome: Outcome | None = None


class ClockTick(_Message):
    """Event-time progress of one publisher on one intake partition (drives every SLA timer)."""

    kind: Literal["clock_tick"] = "clock_tick"
    schema_version: Literal[1] = 1
    status: MessageStatus
    source: Annotated[str, Field(min_length=1, max_length=64)]
    partition: Annotated[int, Field(ge=0, le=100_000)]
    at: EventTime
    seq: NonNegative


# ---- derived ---------------------------------------------------------------------------------------------


PolicyVersion = Annotated[str, Field(max_length=65, pattern=r"^([a-z0-9_-]+/[^/\s]+)?$")]
"""``name/version`` of the policy a decision was taken under (``schemas.policy.Policy.label``)."""


class Incident(_Message):
    """The latest state of an incident (compacted topic, keyed by incident_id).

    ``status`` is the incident's lifecycle status, so the envelope's actual/exercise flag is called
    ``message_status`` here. Invariants: township and county codes are the grid's ancestors,
    ``handling_unit`` is the grid's ancestor at ``level``, and ``merged_into`` is set exactly when
    ``status`` is ``merged``.
    """

    kind: Literal["incident"] = "incident"
    schema_version: Literal[1] = 1
    message_status: MessageStatus
    incident_id: UUID
    category: CategoryCode
    severity: Severity
    grid_code: GridCode
    township_code: TownshipCode
    county_code: CountyCode
    level: Level
    handling_unit: UnitCode
    status: IncidentStatus
    source_event_ids: Annotated[tuple[UUID, ...], Field(min_length=1, max_length=MAX_SOURCE_EVENTS)]
    opened_at: EventTime
    due_at: EventTime | None
    resolved_at: EventTime | None
    updated_at: EventTime
    version: Positive
    reasons: Annotated[tuple[RuleId, ...], Field(max_length=MAX_REASONS)]
    overdue: bool = False
    reopen_count: Annotated[int, Field(ge=0, le=1_000_000)] = 0
    merged_into: UUID | None = None
    # Units told of the matter besides the handler (severity 5: handled by the city, county notified).
    notified_units: Annotated[tuple[UnitCode, ...], Field(max_length=5)] = ()
    # The policy (``name/version`` of policy.toml) its latest version was decided under; empty only on
    # messages written before policies were recorded.
    policy_version: PolicyVersion = ""
    # 多元化解: the body leading at the current level, its co-handlers, and the rule that named them.
    lead_body: BodyCode = ""
    co_bodies: Annotated[tuple[BodyCode, ...], Field(max_length=8)] = ()
    body_rule: Annotated[str, Field(max_length=32)] = ""

    @property
    def is_exercise(self) -> bool:
        return self.message_status == MessageStatus.EXERCISE

    @field_validator("township_code")
    @classmethod
    def _township_of_grid(cls, value: str, info: ValidationInfo) -> str:
        grid = info.data.get("grid_code")
        if grid is not None and grid[:9] != value:
            raise PydanticCustomError("not_ancestor", "Input should be the township of grid_code")
        return value

    @field_validator("county_code")
    @classmethod
    def _county_of_grid(cls, value: str, info: ValidationInfo) -> str:
        grid = info.data.get("grid_code")
        if grid is not None and grid[:6] != value:
            raise PydanticCustomError("not_ancestor", "Input should be the county of grid_code")
        return value

    @field_validator("handling_unit")
    @classmethod
    def _handler_is_ancestor(cls, value: str, info: ValidationInfo) -> str:
        grid, level = info.data.get("grid_code"), info.data.get("level")
        if grid is not None and level is not None:
            expected = CITY_CODE if level == Level.CITY else grid[: 3 + 3 * (5 - level)]
            if value != expected:
                raise PydanticCustomError(
                    "not_ancestor",
                    "Input should be the grid's ancestor at level {level}",
                    {"level": int(level)},
                )
        return value

    @field_validator("merged_into")
    @classmethod
    def _merged_iff_status(cls, value: UUID | None, info: ValidationInfo) -> UUID | None:
        status = info.data.get("status")
        if status is not None and (value is not None) != (status == IncidentStatus.MERGED):
            raise PydanticCustomError("merge_mismatch", "Input should be set exactly when status is 'merged'")
        return value


class Transition(_Message):
    """One append-only change of an incident's status and/or level, with the rule ids that caused it."""

    kind: Literal["transition"] = "transition"
    schema_version: Literal[1] = 1
    status: MessageStatus
    transition_id: UUID
    incident_id: UUID
    seq: Positive
    from_status: IncidentStatus | None
    to_status: IncidentStatus
    from_level: Level | None
    to_level: Level
    reason: TransitionReason
    at: EventTime
    rule_ids: Annotated[tuple[RuleId, ...], Field(max_length=MAX_REASONS)]
    source_event_id: UUID | None = None
    handling_unit: UnitCode
    # Units this change notifies besides the handler (the county of a severity-5 matter routed to the city).
    notified_units: Annotated[tuple[UnitCode, ...], Field(max_length=5)] = ()
    policy_version: PolicyVersion = ""  # the policy (name/version) this change was decided under
    lead_body: BodyCode = ""  # the body leading after this change, its co-handlers, and the rule naming them
    co_bodies: Annotated[tuple[BodyCode, ...], Field(max_length=8)] = ()
    body_rule: Annotated[str, Field(max_length=32)] = ""


class DeadLetter(_Message):
    """A record that could not be processed, with where it came from and why (raw bytes bounded)."""

    kind: Literal["dead_letter"] = "dead_letter"
    schema_version: Literal[1] = 1
    status: MessageStatus
    dead_letter_id: UUID
    source_topic: Annotated[str, Field(min_length=1, max_length=249)]
    source_partition: Annotated[int, Field(ge=0, le=100_000)]
    source_offset: NonNegative
    raw: Annotated[
        bytes,
        Field(max_length=MAX_DEAD_LETTER_RAW),
        WithJsonSchema(
            {
                "type": "string",
                "contentEncoding": "base64",
                "maxLength": 4 * -(-MAX_DEAD_LETTER_RAW // 3),
                "description": "The record's first 4096 bytes as standard base64 (RFC 4648, padded).",
            }
        ),
    ]
    raw_size: NonNegative
    error_class: Annotated[str, Field(min_length=1, max_length=128)]
    error_message: Annotated[str, Field(max_length=MAX_ERROR_MESSAGE)]
    processed_at: EventTime  # wall clock, recorded for latency metrics only

    @field_serializer("raw", when_used="json")
    def _raw_as_standard_base64(self, raw: bytes) -> str:
        # pydantic's "base64" writes the URL-safe alphabet; write RFC 4648 standard base64, which ClickHouse's
        # base64Decode and most tools expect. Decoding accepts either alphabet.
        return base64.b64encode(raw).decode("ascii")

    @classmethod
    def for_record(
        cls,
        *,
        status: MessageStatus,
        topic: str,
        partition: int,
        offset: int,
        raw: bytes | None,
        error: BaseException | str,
        processed_at: datetime,
        error_message: str | None = None,
    ) -> DeadLetter:
        """Build the dead letter for one bad record: deterministic id, raw bytes and message truncated.

        ``error`` is the exception (its snake_case code, :func:`reason_of`, becomes ``error_class``) or a
        :class:`~schemas.enums.DeadLetterReason`; ``processed_at`` is the caller's wall clock, passed in so
        this stays pure.
        """
        data = raw or b""
        if isinstance(error, BaseException):
            error_class, text = reason_of(error), str(error)
        else:
            error_class, text = str(error), ""
        text = error_message if error_message is not None else text
        if len(text) > MAX_ERROR_MESSAGE:
            text = text[: MAX_ERROR_MESSAGE - 1] + "…"
        return cls(
            status=status,
            dead_letter_id=dead_letter_id_for(topic, partition, offset),
            source_topic=topic,
            source_partition=partition,
            source_offset=offset,
            raw=bytes(data[:MAX_DEAD_LETTER_RAW]),
            raw_size=len(data),
            error_class=error_class[:128] or "unknown",
            error_message=text,
            processed_at=processed_at,
        )


def reason_of(error: BaseException) -> str:
    """The dead-letter code of an exception: ``decode_error`` for a DecodeError, else its snake_case name."""
    if isinstance(error, DecodeError):
        return DeadLetterReason.DECODE_ERROR.value
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", type(error).__name__).lower()


class CitizenReport(_Message):
    """A citizen's report through Open311 GeoReport v2 (公众参与, the web command centre's ``POST requests``).

    The streams classify it like a grid report of its category. The citizen's contact details are personal
    data and never travel in clear: ``contact_ref`` is a keyed HMAC-SHA256 of them (or None), so repeated
    reports by one person can be linked without naming them. ``request_id`` is the public Open311 id.
    """

    kind: Literal["citizen_report"] = "citizen_report"
    schema_version: Literal[1] = 1
    status: MessageStatus
    event_id: UUID
    grid_code: GridCode  # the grid holding the location: keys the report to its township's partition
    category: CategoryCode
    description: Annotated[str, Field(min_length=1, max_length=500)]
    location: GeoPoint
    reported_at: EventTime
    address: Annotated[str, Field(max_length=200)] = ""
    contact_ref: Annotated[str | None, Field(pattern=r"^[0-9a-f]{64}$")] = None

    _location_in_county = field_validator("location")(_in_county_box)


# ---- unions ----------------------------------------------------------------------------------------------

IntakeUnion = GridReport | CameraAlert | Disposition | ClockTick
"""The intake message types as a plain union (for ``isinstance``-style narrowing and return types)."""

IntakeMessage = Annotated[IntakeUnion, Field(discriminator="kind")]
"""Any intake message the decision core takes, discriminated on ``kind``."""

AnyIntake = IntakeUnion | CitizenReport
"""What the intake topics carry: the core's messages and citizens' reports (taken as grid reports)."""


MessageUnion = (
    GridReport | CameraAlert | Disposition | ClockTick | CitizenReport | Incident | Transition | DeadLetter
)
"""Every message type."""

Message = Annotated[MessageUnion, Field(discriminator="kind")]
"""Any message, discriminated on ``kind``."""
