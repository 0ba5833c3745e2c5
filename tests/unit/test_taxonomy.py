"""The bundled taxonomy's content, and precise errors for bad taxonomy files."""

from __future__ import annotations

import tomllib
from datetime import timedelta
from pathlib import Path

import pytest

from schemas import AlertType, DataFileError, Level, policy, taxonomy
from schemas.taxonomy import TAXONOMY_FILE, load_taxonomy

TAX = taxonomy()
REQUIRED_ZH = [
    "婚姻家庭",
    "相邻关系",
    "小额债务",
    "医疗纠纷",
    "物业纠纷",
    "交通事故",
    "劳动争议",
    "凌汛",
    "信访",
    "治安",
]
REQUIRED_GROUPS = [
    "dispute",
    "public_safety",
    "fire",
    "flood",
    "petition",
    "environment",
    "infrastructure",
    "public_health",
]


@pytest.mark.parametrize("name", REQUIRED_ZH)
def test_required_categories_present(name: str) -> None:
    assert any(name in c.name_zh for c in TAX.categories.values()), name


def test_required_groups_present_and_used() -> None:
    used = {c.group for c in TAX.categories.values()}
    for group in REQUIRED_GROUPS:
        assert group in TAX.groups and group in used


def test_every_alert_type_maps_to_its_own_category() -> None:
    assert set(TAX.alert_categories) == set(AlertType)
    targets = list(TAX.alert_categories.values())
    assert len(targets) == len(set(targets))
    assert TAX.for_alert(AlertType.ICE_JAM).group == "flood"
    assert TAX.for_alert(AlertType.FIRE_SMOKE).code == "fire"


def test_sla_is_complete_with_defaults_and_overrides() -> None:
    defaults = policy().default_sla
    for category in TAX.categories.values():
        assert set(category.sla) == set(Level)
        assert all(d > timedelta(0) for d in category.sla.values())
    assert TAX.category("neighbour").sla == defaults
    assert TAX.category("irrigation_water").sla[Level.GRID] == timedelta(hours=2)
    assert TAX.category("irrigation_water").sla[Level.VILLAGE] == defaults[Level.VILLAGE]


def test_severities_and_codes() -> None:
    assert all(1 <= c.base_severity <= 5 for c in TAX.categories.values())
    assert all(code == c.code for code, c in TAX.categories.items())
    assert TAX.category("marriage_family").base_severity == 1


# ---- bad files --------------------------------------------------------------------------------------------


def variant(tmp_path: Path, old: str, new: str) -> Path:
    text = TAXONOMY_FILE.read_text(encoding="utf-8")
    assert old in text, old
    path = tmp_path / "taxonomy.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


BAD_TAXONOMY = [
    (
        "severity too high",
        'name_en = "Medical dispute"\ngroup = "dispute"\nbase_severity = 2',
        'name_en = "Medical dispute"\ngroup = "dispute"\nbase_severity = 9',
        "categories[3] (medical)",
        "base_severity",
    ),
    (
        "severity as string",
        "base_severity = 1\nsla = { grid = { hours = 24 }",
        'base_severity = "1"\nsla = { grid = { hours = 24 }',
        "categories[2] (small_debt)",
        "base_severity",
    ),
    (
        "unknown sla level",
        "sla = { grid = { hours = 2 } }  # water",
        "sla = { hamlet = { hours = 2 } }  # water",
        "categories[8] (irrigation_water)",
        "sla",
    ),
    (
        "bad duration unit",
        "sla = { grid = { hours = 2 } }  # water",
        "sla = { grid = { fortnights = 2 } }  # water",
        "categories[8] (irrigation_water)",
        "sla.1",
    ),
    (
        "zero duration",
        "sla = { grid = { hours = 2 } }  # water",
        "sla = { grid = { hours = 0 } }  # water",
        "categories[8] (irrigation_water)",
        "sla.1",
    ),
    ("bad code", 'code = "labour"', 'code = "Labour!"', "categories[6]", "code"),
    (
        "unknown field",
        'code = "fight"\n',
        'code = "fight"\ncolour = "red"\n',
        "categories[10] (fight)",
        "colour",
    ),
    (
        "unknown group",
        'group = "petition"\nbase_severity = 2',
        'group = "petitions"\nbase_severity = 2',
        "categories[18] (petition)",
        "group",
    ),
    (
        "duplicate code",
        'code = "neighbour"',
        'code = "marriage_family"',
        "categories[1] (marriage_family)",
        "code",
    ),
    ("unknown alert type", 'fire_smoke = "fire"', 'smoke = "fire"', "alert_categories", "smoke"),
    (
        "alert to unknown category",
        'ice_jam = "ice_jam"',
        'ice_jam = "iceberg"',
        "alert_categories",
        "ice_jam",
    ),
    ("alert type missing", 'water_level = "water_level"\n', "", "alert_categories", "water_level"),
    ("missing english name", 'name_en = "Neighbour dispute"\n', "", "categories[1] (neighbour)", "name_en"),
]


@pytest.mark.parametrize(
    ("old", "new", "entry", "field"), [c[1:] for c in BAD_TAXONOMY], ids=[c[0] for c in BAD_TAXONOMY]
)
def test_bad_taxonomy_names_file_entry_and_field(
    tmp_path: Path, old: str, new: str, entry: str, field: str
) -> None:
    path = variant(tmp_path, old, new)
    with pytest.raises(DataFileError) as info:
        load_taxonomy(path)
    err = info.value
    assert err.file == str(path)
    assert err.entry.startswith(entry), err
    assert err.field == field, err
    assert str(path) in str(err) and entry in str(err) and field in str(err)


def test_taxonomy_syntax_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "taxonomy.toml"
    path.write_text("version = ", encoding="utf-8")
    with pytest.raises(DataFileError) as info:
        load_taxonomy(path)
    assert info.value.field == "(syntax)"
    with pytest.raises(DataFileError, match="cannot read"):
        load_taxonomy(tmp_path / "nope.toml")


def test_bundled_file_is_valid_toml_with_unique_codes() -> None:
    doc = tomllib.loads(TAXONOMY_FILE.read_text(encoding="utf-8"))
    codes = [c["code"] for c in doc["categories"]]
    assert len(codes) == len(set(codes)) == len(TAX.categories)
