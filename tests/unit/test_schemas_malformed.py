"""One table of malformed payloads: each must raise DecodeError naming the field at fault."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import orjson
import pytest
from pydantic import BaseModel

from schemas import (
    MAX_PAYLOAD_BYTES,
    CameraAlert,
    ClockTick,
    DeadLetter,
    DecodeError,
    Disposition,
    GridReport,
    Incident,
    Transition,
    decode,
    decode_intake,
    encode,
    geography,
)
from schemas.examples import examples

EX = examples()
REPORT, ALERT, DISPOSITION, TICK, INCIDENT_MSG, TRANSITION, DEAD = EX
T0 = EX.report.occurred_at
GRID = geography().unit(EX.report.grid_code)  # a grid of 临河区 (150802)
OTHER_COUNTY_GRID = geography().grids()[-1]  # a grid of 杭锦后旗 (150826)
EVENT = EX.report.event_id
PHONE = EX.report.reporter.phone


def mutate(msg: BaseModel, change: Callable[[dict[str, Any]], object]) -> bytes:
    """The message's JSON with ``change`` applied to the parsed document."""
    doc = orjson.loads(encode(msg))
    change(doc)
    return orjson.dumps(doc)


def setting(key: str, value: object) -> Callable[[dict[str, Any]], object]:
    def change(doc: dict[str, Any]) -> None:
        target = doc
        *parents, last = key.split(".")
        for part in parents:
            target = target[part]
        target[last] = value

    return change


def dropping(key: str) -> Callable[[dict[str, Any]], object]:
    return lambda doc: doc.pop(key)


def raw_replace(msg: BaseModel, old: bytes, new: bytes) -> bytes:
    raw = encode(msg)
    assert old in raw, (old, raw)
    return raw.replace(old, new, 1)


Decoder = Callable[[bytes], object]
REPORT_DECODE: Decoder = lambda raw: decode(raw, GridReport)  # noqa: E731


def by(model: type[BaseModel]) -> Decoder:
    return lambda raw: decode(raw, model)


# (case id, decoder, payload, field path the error must name, optional error code)
CASES: list[tuple[str, Decoder, Any, str, str | None]] = [
    # --- wrong types
    ("parties as string", REPORT_DECODE, mutate(REPORT, setting("parties", "2")), "parties", "int_type"),
    ("parties as float", REPORT_DECODE, mutate(REPORT, setting("parties", 2.5)), "parties", None),
    ("parties as bool", REPORT_DECODE, mutate(REPORT, setting("parties", True)), "parties", "int_type"),
    ("event_id as number", REPORT_DECODE, mutate(REPORT, setting("event_id", 123)), "event_id", None),
    ("event_id not a uuid", REPORT_DECODE, mutate(REPORT, setting("event_id", "x-1")), "event_id", None),
    ("location as list", REPORT_DECODE, mutate(REPORT, setting("location", [107.3, 40.6])), "location", None),
    ("status unknown", REPORT_DECODE, mutate(REPORT, setting("status", "real")), "status", "enum"),
    # --- missing and extra fields
    ("missing category", REPORT_DECODE, mutate(REPORT, dropping("category")), "category", "missing"),
    ("missing reporter", REPORT_DECODE, mutate(REPORT, dropping("reporter")), "reporter", "missing"),
    ("extra field", REPORT_DECODE, mutate(REPORT, setting("priority", 1)), "priority", "extra_forbidden"),
    (
        "extra nested field",
        REPORT_DECODE,
        mutate(REPORT, setting("reporter.name", "张三")),
        "reporter.name",
        None,
    ),
    # --- bytes, size and syntax
    ("invalid utf-8", REPORT_DECODE, raw_replace(REPORT, "两户".encode(), b"\xff\xfe"), "$", "json_invalid"),
    (
        "oversized payload",
        REPORT_DECODE,
        raw_replace(REPORT, b'"description":"', b'"description":"' + b"x" * MAX_PAYLOAD_BYTES),
        "$",
        "payload_too_large",
    ),
    ("truncated json", REPORT_DECODE, encode(REPORT)[:-5], "$", "json_invalid"),
    ("top-level array", REPORT_DECODE, b"[1, 2]", "$", "model_type"),
    ("empty payload", decode_intake, b"", "$", "json_invalid"),
    ("none instead of bytes", decode_intake, None, "$", "not_bytes"),
    ("deeply nested", decode_intake, b"[" * 5000 + b"]" * 5000, "$", "json_invalid"),
    # --- coordinates
    (
        "NaN longitude",
        REPORT_DECODE,
        raw_replace(REPORT, b'"lon":107', b'"lon":NaN,"x":107'),
        "location.lon",
        None,
    ),
    (
        "infinite latitude",
        REPORT_DECODE,
        raw_replace(REPORT, b'"lat":40', b'"lat":1e999,"y":40'),
        "location.lat",
        None,
    ),
    (
        "longitude east of city",
        REPORT_DECODE,
        mutate(REPORT, setting("location.lon", 120.0)),
        "location.lon",
        None,
    ),
    (
        "latitude south of city",
        REPORT_DECODE,
        mutate(REPORT, setting("location.lat", 39.0)),
        "location.lat",
        None,
    ),
    (
        "point in another county",
        REPORT_DECODE,
        mutate(REPORT, setting("location", {"lon": 109.5, "lat": 41.0})),
        "location",
        "outside_county",
    ),
    # --- times
    (
        "naive occurred_at",
        REPORT_DECODE,
        mutate(REPORT, setting("occurred_at", "2024-05-01T09:30:00")),
        "occurred_at",
        "timezone_aware",
    ),
    (
        "occurred_at in 1970",
        REPORT_DECODE,
        mutate(REPORT, setting("occurred_at", "1970-01-01T00:00:00Z")),
        "occurred_at",
        None,
    ),
    (
        "unparseable time",
        REPORT_DECODE,
        mutate(REPORT, setting("occurred_at", "yesterday")),
        "occurred_at",
        None,
    ),
    (
        "reported 10 min before occurred",
        REPORT_DECODE,
        mutate(REPORT, setting("reported_at", (T0 - timedelta(minutes=10)).isoformat())),
        "reported_at",
        "reported_before_occurred",
    ),
    # --- codes
    (
        "unknown grid",
        REPORT_DECODE,
        mutate(REPORT, setting("grid_code", "150802999999999")),
        "grid_code",
        "unknown_grid",
    ),
    (
        "grid code too short",
        REPORT_DECODE,
        mutate(REPORT, setting("grid_code", "1508")),
        "grid_code",
        "unknown_grid",
    ),
    (
        "unknown category",
        REPORT_DECODE,
        mutate(REPORT, setting("category", "ufo")),
        "category",
        "unknown_category",
    ),
    # --- bounds
    (
        "negative parties",
        REPORT_DECODE,
        mutate(REPORT, setting("parties", -1)),
        "parties",
        "greater_than_equal",
    ),
    (
        "negative injured",
        REPORT_DECODE,
        mutate(REPORT, setting("injured", -3)),
        "injured",
        "greater_than_equal",
    ),
    (
        "wrong schema_version",
        REPORT_DECODE,
        mutate(REPORT, setting("schema_version", 2)),
        "schema_version",
        "literal_error",
    ),
    (
        "schema_version as string",
        REPORT_DECODE,
        mutate(REPORT, setting("schema_version", "1")),
        "schema_version",
        None,
    ),
    (
        "empty description",
        REPORT_DECODE,
        mutate(REPORT, setting("description", "")),
        "description",
        "string_too_short",
    ),
    (
        "description too long",
        REPORT_DECODE,
        mutate(REPORT, setting("description", "字" * 501)),
        "description",
        "string_too_long",
    ),
    ("severity_hint 6", REPORT_DECODE, mutate(REPORT, setting("severity_hint", 6)), "severity_hint", None),
    (
        "bad phone",
        REPORT_DECODE,
        mutate(REPORT, setting("reporter.phone", "12345")),
        "reporter.phone",
        "string_pattern_mismatch",
    ),
    (
        "landline phone",
        REPORT_DECODE,
        mutate(REPORT, setting("reporter.phone", "04788888888")),
        "reporter.phone",
        None,
    ),
    (
        "reporter id too long",
        REPORT_DECODE,
        mutate(REPORT, setting("reporter.id", "w" * 33)),
        "reporter.id",
        None,
    ),
    # --- camera alerts
    (
        "confidence above 1",
        by(CameraAlert),
        mutate(ALERT, setting("confidence", 1.01)),
        "confidence",
        "less_than_equal",
    ),
    ("confidence negative", by(CameraAlert), mutate(ALERT, setting("confidence", -0.1)), "confidence", None),
    (
        "short hash",
        by(CameraAlert),
        mutate(ALERT, setting("snapshot_sha256", "a" * 63)),
        "snapshot_sha256",
        None,
    ),
    (
        "uppercase hash",
        by(CameraAlert),
        mutate(ALERT, setting("snapshot_sha256", "AB" * 32)),
        "snapshot_sha256",
        None,
    ),
    (
        "non-hex hash",
        by(CameraAlert),
        mutate(ALERT, setting("snapshot_sha256", "g" * 64)),
        "snapshot_sha256",
        None,
    ),
    ("bad camera id", by(CameraAlert), mutate(ALERT, setting("camera_id", "CAM-1")), "camera_id", None),
    (
        "camera in another grid",
        by(CameraAlert),
        mutate(ALERT, setting("camera_id", f"CAM-{OTHER_COUNTY_GRID.code}-01")),
        "grid_code",
        "camera_grid_mismatch",
    ),
    (
        "unknown alert type",
        by(CameraAlert),
        mutate(ALERT, setting("alert_type", "alien")),
        "alert_type",
        "enum",
    ),
    (
        "negative object count",
        by(CameraAlert),
        mutate(ALERT, setting("object_count", -1)),
        "object_count",
        None,
    ),
    # --- dispositions and clock ticks
    (
        "unknown unit",
        by(Disposition),
        mutate(DISPOSITION, setting("unit_code", "150899")),
        "unit_code",
        "unknown_unit",
    ),
    ("unknown action", by(Disposition), mutate(DISPOSITION, setting("action", "ignore")), "action", "enum"),
    ("note too long", by(Disposition), mutate(DISPOSITION, setting("note", "n" * 501)), "note", None),
    ("negative partition", by(ClockTick), mutate(TICK, setting("partition", -1)), "partition", None),
    ("empty tick source", by(ClockTick), mutate(TICK, setting("source", "")), "source", None),
    # --- the intake union
    ("missing kind", decode_intake, mutate(REPORT, dropping("kind")), "kind", "union_tag_not_found"),
    ("unknown kind", decode_intake, mutate(REPORT, setting("kind", "tweet")), "kind", "union_tag_invalid"),
    ("derived kind on intake", decode_intake, encode(INCIDENT_MSG), "kind", "union_tag_invalid"),
    ("union field error", decode_intake, mutate(ALERT, setting("confidence", 2)), "confidence", None),
    # --- derived messages
    (
        "township not of grid",
        by(Incident),
        mutate(INCIDENT_MSG, setting("township_code", "150821100")),
        "township_code",
        "not_ancestor",
    ),
    (
        "handler at wrong level",
        by(Incident),
        mutate(INCIDENT_MSG, setting("level", 3)),
        "handling_unit",
        "not_ancestor",
    ),
    (
        "merged_into while open",
        by(Incident),
        mutate(INCIDENT_MSG, setting("merged_into", str(EVENT))),
        "merged_into",
        "merge_mismatch",
    ),
    ("severity 0", by(Incident), mutate(INCIDENT_MSG, setting("severity", 0)), "severity", None),
    (
        "no source events",
        by(Incident),
        mutate(INCIDENT_MSG, setting("source_event_ids", [])),
        "source_event_ids",
        None,
    ),
    (
        "bad source event id",
        by(Incident),
        mutate(INCIDENT_MSG, setting("source_event_ids", ["x"])),
        "source_event_ids.0",
        None,
    ),
    ("level 6", by(Incident), mutate(INCIDENT_MSG, setting("level", 6)), "level", None),
    ("transition seq 0", by(Transition), mutate(TRANSITION, setting("seq", 0)), "seq", None),
    (
        "rule id with space",
        by(Transition),
        mutate(TRANSITION, setting("rule_ids", ["a b"])),
        "rule_ids.0",
        None,
    ),
    ("raw not base64", by(DeadLetter), mutate(DEAD, setting("raw", "***")), "raw", None),
    ("raw over 4096 bytes", by(DeadLetter), mutate(DEAD, setting("raw", "QUFB" * 1400)), "raw", None),
]


@pytest.mark.parametrize(
    ("decoder", "payload", "path", "code"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_malformed_payload_names_the_field(
    decoder: Decoder, payload: Any, path: str, code: str | None
) -> None:
    with pytest.raises(DecodeError) as info:
        decoder(payload)
    problems = info.value.problems
    assert path in [p.path for p in problems], problems
    if code is not None:
        assert code in [p.code for p in problems if p.path == path], problems
    assert all(p.expected for p in problems)
    assert path in str(info.value)


def test_table_has_at_least_thirty_cases() -> None:
    assert len(CASES) >= 30
    assert len({c[0] for c in CASES}) == len(CASES)


def test_every_problem_is_listed_not_just_the_first() -> None:
    raw = mutate(REPORT, lambda d: d.update(parties=-1, category="ufo", grid_code="1", extra=True))
    with pytest.raises(DecodeError) as info:
        decode(raw, GridReport)
    assert {"parties", "category", "grid_code", "extra"} <= set(info.value.paths)


def test_personal_data_never_appears_in_errors() -> None:
    raw = mutate(REPORT, setting("reporter.phone", "99912345678"))
    with pytest.raises(DecodeError) as info:
        decode(raw, GridReport)
    assert "99912345678" not in str(info.value)
    assert info.value.problems[0].value_excerpt == "<redacted>"
    # A missing field's "input" is the whole parent object; it must not be copied either.
    raw = mutate(REPORT, dropping("category"))
    with pytest.raises(DecodeError) as info:
        decode(raw, GridReport)
    assert PHONE not in str(info.value)


def test_oversized_payload_is_rejected_before_parsing() -> None:
    # Not even valid JSON: only the size check can produce this problem.
    with pytest.raises(DecodeError) as info:
        decode_intake(b"{" * (MAX_PAYLOAD_BYTES + 1))
    assert [p.code for p in info.value.problems] == ["payload_too_large"]


def test_error_text_is_bounded_for_dead_letters() -> None:
    raw = orjson.dumps({f"f{i}": "x" * 50 for i in range(200)})
    with pytest.raises(DecodeError) as info:
        decode(raw, GridReport)
    assert len(str(info.value)) <= 2000
    assert len(info.value.problems) > 100
