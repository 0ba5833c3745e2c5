"""The bundled policy's values (docs/CONTRACTS.md) and precise errors for bad policy files."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from schemas import DataFileError, Level, policy
from schemas.policy import POLICY_FILE, load_policy


def test_contract_defaults() -> None:
    p = policy()
    assert p.version
    assert p.camera_verify_below == 0.6
    assert p.crowd_upgrade_count == 50
    assert p.fight_upgrade_confidence == 0.9
    assert p.camera_merge_window == timedelta(minutes=10)
    assert p.report_alarm_window == timedelta(minutes=15)
    assert p.repeat_window == timedelta(days=30)
    assert p.repeat_threshold == 3
    assert p.cluster_window == timedelta(hours=1)
    assert p.cluster_threshold == 5
    assert p.severity5_ack == timedelta(minutes=15)
    assert p.unknown_incident_bound == timedelta(hours=2)
    assert p.allowed_lateness == timedelta(minutes=5)
    assert p.default_sla == {
        Level.GRID: timedelta(hours=4),
        Level.VILLAGE: timedelta(hours=24),
        Level.TOWNSHIP: timedelta(hours=72),
        Level.COUNTY: timedelta(days=7),
        Level.CITY: timedelta(days=14),
    }


def test_policy_is_frozen_and_cached() -> None:
    assert policy() is policy()
    with pytest.raises(ValidationError):
        policy().cluster_threshold = 1  # type: ignore[misc]


def variant(tmp_path: Path, old: str, new: str) -> Path:
    text = POLICY_FILE.read_text(encoding="utf-8")
    assert old in text, old
    path = tmp_path / "policy.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


BAD_POLICY = [
    ("ratio above one", "camera_verify_below = 0.6", "camera_verify_below = 1.6", "camera_verify_below"),
    ("count as string", "crowd_upgrade_count = 50", 'crowd_upgrade_count = "50"', "crowd_upgrade_count"),
    ("window not a table", "cluster_window = { hours = 1 }", 'cluster_window = "1h"', "cluster_window"),
    ("negative window", "repeat_window = { days = 30 }", "repeat_window = { days = -30 }", "repeat_window"),
    ("unknown unit", "severity5_ack = { minutes = 15 }", "severity5_ack = { moments = 15 }", "severity5_ack"),
    ("threshold of one", "repeat_threshold = 3", "repeat_threshold = 1", "repeat_threshold"),
    ("missing field", "allowed_lateness = { minutes = 5 }\n", "", "allowed_lateness"),
    ("unknown field", "version = ", "colour = 1\nversion = ", "colour"),
]


@pytest.mark.parametrize(("old", "new", "field"), [c[1:] for c in BAD_POLICY], ids=[c[0] for c in BAD_POLICY])
def test_bad_policy_names_file_entry_and_field(tmp_path: Path, old: str, new: str, field: str) -> None:
    path = variant(tmp_path, old, new)
    with pytest.raises(DataFileError) as info:
        load_policy(path)
    err = info.value
    assert err.file == str(path) and err.field == field and err.entry == "(top level)", err


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("city = { days = 14 }\n", "", "default_sla"),
        ("county = { days = 7 }", "county = { days = 0 }", "default_sla.4"),
        ("grid = { hours = 4 }", "hamlet = { hours = 4 }", "default_sla"),
    ],
)
def test_bad_default_sla(tmp_path: Path, old: str, new: str, field: str) -> None:
    with pytest.raises(DataFileError) as info:
        load_policy(variant(tmp_path, old, new))
    assert (info.value.entry, info.value.field) in {
        ("(top level)", field),
        ("default_sla", field.split(".")[-1]),
    }, info.value


def test_policy_names_itself_for_the_record() -> None:
    assert policy().label == f"{policy().name}/{policy().version}" == "fengqiao/2026.1"


def test_one_severity_table_with_the_county_notified_at_severity_5() -> None:
    p = policy()
    assert [p.routing(s).level for s in range(1, 6)] == list(Level)
    assert p.routing(5).notify == (Level.COUNTY,)
    assert [p.routing(s).notify for s in range(1, 5)] == [(), (), (), ()]


def test_severity_table_must_cover_each_severity_once(tmp_path: Path) -> None:
    bad = variant(tmp_path, 'severity = 4\nlevel = "county"', 'severity = 3\nlevel = "county"')
    with pytest.raises(DataFileError, match="severity_levels"):
        load_policy(bad)


def test_severity_table_rejects_an_unknown_level(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match="province"):
        load_policy(variant(tmp_path, 'level = "county"', 'level = "province"'))


def test_future_bound_and_verification_sla_are_policy(tmp_path: Path) -> None:
    assert policy().future_event_bound == timedelta(days=7)
    assert policy().verification_sla == timedelta(hours=2)
    assert load_policy(
        variant(tmp_path, "verification_sla = { hours = 2 }", "verification_sla = { hours = 3 }")
    ).verification_sla == timedelta(hours=3)
