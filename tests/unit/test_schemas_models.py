"""Behaviour of the models, ids, topics and JSON Schema export beyond decoding."""

from __future__ import annotations

import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

import schemas
from schemas import (
    CITY_CODE,
    DeadLetter,
    DecodeError,
    GridReport,
    Incident,
    IncidentStatus,
    Level,
    MessageStatus,
    dead_letter_id_for,
    decode,
    encode,
    incident_id_for,
    topics,
    transition_id_for,
)
from schemas.examples import examples
from schemas.ids import DEAD_LETTER_NAMESPACE, INCIDENT_NAMESPACE, TRANSITION_NAMESPACE
from schemas.jsonschema import JSON_DIR, schema_documents, stale

ROOT = Path(__file__).resolve().parents[2]
EX = examples()
REPORT, INCIDENT_MSG, DEAD, T0 = EX.report, EX.incident, EX.dead_letter, EX.report.occurred_at
GRID = schemas.geography().unit(REPORT.grid_code)


def test_models_are_frozen() -> None:
    with pytest.raises(ValidationError):
        REPORT.parties = 3  # type: ignore[misc]


def test_python_construction_is_strict() -> None:
    with pytest.raises(ValidationError):
        GridReport.model_validate({**REPORT.model_dump(), "status": "exercise", "parties": "2"})


def test_construction_checks_cross_field_rules() -> None:
    with pytest.raises(ValidationError, match="reported_at"):
        REPORT.model_copy(update={}).model_validate(
            {**REPORT.model_dump(), "reported_at": REPORT.occurred_at - timedelta(minutes=6)}
        )
    # exactly the tolerated skew is fine
    ok = GridReport.model_validate(
        {**REPORT.model_dump(), "reported_at": REPORT.occurred_at - timedelta(minutes=5)}
    )
    assert ok.reported_at < ok.occurred_at


def test_envelope_defaults_and_exercise_flag() -> None:
    assert REPORT.kind == "grid_report"
    assert REPORT.schema_version == 1
    assert REPORT.is_exercise
    assert INCIDENT_MSG.is_exercise
    assert INCIDENT_MSG.status is IncidentStatus.OPEN


def test_wire_format_is_plain_json_with_offsets() -> None:
    raw = encode(REPORT)
    assert raw.startswith(b'{"kind":"grid_report","schema_version":1,"status":"exercise"')
    assert b'"occurred_at":"2024-05-01T09:30:00+08:00"' in raw
    assert "两户".encode() in raw  # UTF-8, not \\u escapes


def test_incident_at_city_level_is_handled_by_the_city() -> None:
    city = Incident.model_validate(
        {**INCIDENT_MSG.model_dump(), "level": Level.CITY, "handling_unit": CITY_CODE, "severity": 5}
    )
    assert decode(encode(city), Incident) == city


def test_merged_incident_needs_merged_into() -> None:
    with pytest.raises(ValidationError, match="merged_into"):
        Incident.model_validate({**INCIDENT_MSG.model_dump(), "status": IncidentStatus.MERGED})


def test_namespaces_are_the_documented_derivation() -> None:
    for ns, name in [
        (INCIDENT_NAMESPACE, "incident"),
        (TRANSITION_NAMESPACE, "transition"),
        (DEAD_LETTER_NAMESPACE, "dead_letter"),
    ]:
        assert ns == uuid.uuid5(uuid.NAMESPACE_URL, f"urn:gridflow:{name}")


def test_decoded_times_share_one_zone_object_per_offset() -> None:
    # schemas.fields._shared_zone: the core's datetime arithmetic is fast only between equal zone objects.
    first, second = decode(encode(REPORT), GridReport), decode(encode(REPORT), GridReport)
    assert first.reported_at.tzinfo is second.reported_at.tzinfo is second.occurred_at.tzinfo
    assert first == REPORT and encode(first) == encode(REPORT)
    utc = REPORT.model_copy(update={"reported_at": REPORT.reported_at.astimezone(UTC)})
    assert decode(encode(utc), GridReport).reported_at.tzinfo is UTC


def test_ids_are_uuid5_of_their_names() -> None:
    # schemas.ids hashes directly instead of calling uuid.uuid5: it must give the very same ids.
    for event in [uuid.UUID(int=0), uuid.UUID("5f0c6d8e-2b1a-4c3d-9e8f-0a1b2c3d4e5f"), uuid.uuid4()]:
        incident = incident_id_for(event)
        assert incident == uuid.uuid5(INCIDENT_NAMESPACE, str(event))
        assert str(incident) == str(uuid.uuid5(INCIDENT_NAMESPACE, str(event)))
        for seq in (1, 2, 9, 10, 12345):
            expected = uuid.uuid5(TRANSITION_NAMESPACE, f"{incident}/{seq}")
            assert transition_id_for(incident, seq) == expected
    assert dead_letter_id_for("gridflow.x", 3, 42) == uuid.uuid5(DEAD_LETTER_NAMESPACE, "gridflow.x/3/42")


def test_ids_are_deterministic_and_distinct() -> None:
    event = uuid.UUID("5f0c6d8e-2b1a-4c3d-9e8f-0a1b2c3d4e5f")
    assert incident_id_for(event) == incident_id_for(event)
    assert incident_id_for(event).version == 5
    assert transition_id_for(incident_id_for(event), 1) != transition_id_for(incident_id_for(event), 2)
    assert dead_letter_id_for("t", 0, 1) != dead_letter_id_for("t", 1, 0)
    with pytest.raises(ValueError):
        transition_id_for(event, 0)


def test_topic_registry_matches_contract() -> None:
    reg = topics()
    assert [t.name for t in reg] == [
        "intake.grid_reports",
        "intake.camera_alerts",
        "intake.dispositions",
        "incidents",
        "incident_transitions",
        "cluster_signals",
        "county_alerts",
        "deadletter",
    ]
    assert reg.incidents.cleanup_policy == "compact" and reg.incidents.retention_ms is None
    assert reg.deadletter.partitions == 1
    assert all(t.partitions == 6 for t in reg if t is not reg.deadletter)
    assert reg.grid_reports.retention_ms == 7 * 24 * 3600 * 1000
    assert reg.cluster_signals.config() == {"cleanup.policy": "delete", "retention.ms": str(24 * 3600 * 1000)}
    assert [t.name for t in reg.intake] == [
        "intake.grid_reports",
        "intake.camera_alerts",
        "intake.dispositions",
    ]


def test_topic_prefix() -> None:
    reg = topics("t42.")
    assert reg.incidents.name == "t42.incidents"
    assert reg.prefix == "t42."
    assert reg.by_name("incidents") is reg.incidents
    assert reg.by_name("t42.deadletter") is reg.deadletter
    with pytest.raises(KeyError):
        reg.by_name("nope")
    with pytest.raises(ValueError):
        topics("bad prefix/")


def test_dead_letter_for_record_bounds_and_identifies() -> None:
    raw = b"x" * 10_000
    err = DecodeError([])
    dl = DeadLetter.for_record(
        status=MessageStatus.EXERCISE,
        topic="intake.grid_reports",
        partition=3,
        offset=99,
        raw=raw,
        error=err,
        error_message="e" * 5000,
        processed_at=datetime(2024, 5, 1, tzinfo=UTC),
    )
    assert len(dl.raw) == 4096 and dl.raw_size == 10_000
    assert dl.error_class == "decode_error"
    assert len(dl.error_message) == 2000
    assert dl.dead_letter_id == dead_letter_id_for("intake.grid_reports", 3, 99)
    assert decode(encode(dl), DeadLetter) == dl
    tomb = DeadLetter.for_record(
        status=MessageStatus.ACTUAL,
        topic="intake.dispositions",
        partition=0,
        offset=1,
        raw=None,
        error="unknown_incident",
        processed_at=T0,
    )
    assert tomb.raw == b"" and tomb.error_class == "unknown_incident"
    assert b'"raw":""' in encode(tomb)
    assert b'"raw":"bm90IGpzb24="' in encode(DEAD)  # base64 on the wire


def test_dead_letter_raw_is_standard_base64_and_both_alphabets_decode() -> None:
    dl = DEAD.model_copy(update={"raw": b"\xff\xfe\xfb"})
    raw = encode(dl)
    assert b'"raw":"//77"' in raw  # standard alphabet, not URL-safe "__77"
    assert decode(raw, DeadLetter) == dl
    assert decode(raw.replace(b"//77", b"__77"), DeadLetter) == dl


def test_public_names_are_exported() -> None:
    for name in schemas.__all__:
        assert hasattr(schemas, name), name
    for name in [
        "decode",
        "decode_intake",
        "encode",
        "geography",
        "taxonomy",
        "policy",
        "topics",
        "GridReport",
    ]:
        assert name in schemas.__all__


def test_committed_json_schemas_are_current() -> None:
    assert not stale(), "run: python -m schemas export"
    assert {p.name for p in JSON_DIR.glob("*.json")} == set(schema_documents())


def test_export_command_checks(tmp_path: Path) -> None:
    run = [sys.executable, "-m", "schemas", "export", "--out", str(tmp_path)]
    assert subprocess.run([*run, "--check"], cwd=ROOT, capture_output=True).returncode == 1
    assert subprocess.run(run, cwd=ROOT, capture_output=True).returncode == 0
    assert subprocess.run([*run, "--check"], cwd=ROOT, capture_output=True).returncode == 0
    assert (tmp_path / "GridReport.json").is_file()


def test_grid_report_uses_the_grid_centroid_example() -> None:
    # the fixture itself: the centroid of a grid is a valid report location
    assert REPORT.location == GRID.centroid
