"""Invariants of the generated geography, checked against the counts documented in its data file."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from schemas import CITY_CODE, Level, UnknownUnitError, geography
from schemas.errors import DataFileError
from schemas.geography import GEOGRAPHY_FILE, load_geography
from schemas.point import CITY_MAX_LAT, CITY_MAX_LON, CITY_MIN_LAT, CITY_MIN_LON, BBox

ROOT = Path(__file__).resolve().parents[2]
GEO = geography()
DOC = json.loads(GEOGRAPHY_FILE.read_text(encoding="utf-8"))
REAL_COUNTIES = {
    "150802": "临河区",
    "150821": "五原县",
    "150822": "磴口县",
    "150823": "乌拉特前旗",
    "150824": "乌拉特中旗",
    "150825": "乌拉特后旗",
    "150826": "杭锦后旗",
}
CODE_LENGTH = {Level.GRID: 15, Level.VILLAGE: 12, Level.TOWNSHIP: 9, Level.COUNTY: 6, Level.CITY: 6}


def test_the_seven_real_counties_under_the_city() -> None:
    assert {u.code: u.name for u in GEO.counties()} == REAL_COUNTIES
    assert GEO.city.code == CITY_CODE == "150800" and GEO.city.name == "巴彦淖尔市"
    assert all(u.parent == CITY_CODE and not u.simulated for u in GEO.counties())


def test_counts_equal_the_documented_counts() -> None:
    assert len(GEO.grids()) == DOC["grid_total"]
    assert len(GEO.villages()) == DOC["village_total"]
    assert 2_500 <= len(GEO.grids()) <= 3_500
    grids_per_township = Counter(GEO.township_of(g.code) for g in GEO.grids())
    villages_per_township = Counter(v.parent for v in GEO.villages())
    for county in DOC["counties"]:
        assert sum(1 for g in GEO.grids() if g.code.startswith(county["code"])) == county["grids"]
        assert len(GEO.children(county["code"])) == len(county["townships"])
        for town in county["townships"]:
            unit = GEO.unit(town["code"])
            assert (unit.name, unit.parent, unit.kind) == (town["name"], county["code"], town["kind"])
            assert villages_per_township[town["code"]] == town["villages"]
            assert grids_per_township[town["code"]] == town["grids"]


@pytest.mark.parametrize("level", list(Level))
def test_code_lengths_and_levels(level: Level) -> None:
    for unit in GEO.at_level(level):
        assert len(unit.code) == CODE_LENGTH[level] and unit.code.isdigit()
        assert GEO.level_of(unit.code) is level is unit.level


def test_each_grid_has_exactly_one_village_township_and_county() -> None:
    for grid in GEO.grids():
        village = GEO.unit(grid.parent or "")
        township = GEO.unit(village.parent or "")
        county = GEO.unit(township.parent or "")
        assert (village.level, township.level, county.level) == (Level.VILLAGE, Level.TOWNSHIP, Level.COUNTY)
        # prefix-consistent: the parent chain and the O(1) prefix lookup agree
        assert GEO.ancestor(grid.code, Level.VILLAGE) == village.code == grid.code[:12]
        assert GEO.township_of(grid.code) == township.code == grid.code[:9]
        assert GEO.county_of(grid.code) == county.code == grid.code[:6]
        assert GEO.ancestor(grid.code, Level.CITY) == CITY_CODE == county.parent
        assert GEO.ancestor(grid.code, Level.GRID) == grid.code


def test_every_parent_exists_and_is_one_level_up() -> None:
    for level in (Level.GRID, Level.VILLAGE, Level.TOWNSHIP, Level.COUNTY):
        for unit in GEO.at_level(level):
            parent = GEO.unit(unit.parent or "")
            assert parent.level == level + 1
            assert unit.code.startswith(parent.code) or parent.code == CITY_CODE
            assert unit in GEO.children(parent.code)


def test_codes_are_unique() -> None:
    codes = [u.code for level in Level for u in GEO.at_level(level)]
    assert len(codes) == len(set(codes)) == len(GEO)


def test_every_centroid_and_box_inside_its_county_box() -> None:
    city = BBox(CITY_MIN_LON, CITY_MIN_LAT, CITY_MAX_LON, CITY_MAX_LAT)
    for county in GEO.counties():
        assert city.contains_box(county.bbox)
    for level in (Level.GRID, Level.VILLAGE, Level.TOWNSHIP, Level.COUNTY):
        for unit in GEO.at_level(level):
            county_box = GEO.unit(GEO.county_of(unit.code)).bbox
            assert county_box.contains(unit.centroid.lon, unit.centroid.lat), unit
            assert county_box.contains_box(unit.bbox), unit
            parent = GEO.unit(unit.parent or "")
            assert parent.bbox.contains_box(unit.bbox), unit


def test_names_unique_among_siblings_and_simulated_below_townships() -> None:
    for unit in [GEO.city, *GEO.counties(), *GEO.townships(), *GEO.villages()]:
        names = [c.name for c in GEO.children(unit.code)]
        assert len(names) == len(set(names)), unit.code
    assert all(u.simulated for u in (*GEO.villages(), *GEO.grids()))


def test_weights_sum_to_one_per_level_and_follow_population() -> None:
    for level in Level:
        assert sum(u.weight for u in GEO.at_level(level)) == pytest.approx(1.0)
    heaviest = max(GEO.counties(), key=lambda u: u.weight)
    assert heaviest.name == "临河区"
    grids = Counter(g.code[:6] for g in GEO.grids())
    assert max(grids, key=lambda c: grids[c]) == "150802"


def test_generation_is_deterministic() -> None:
    again = load_geography()
    assert [(u.code, u.name, u.bbox, u.centroid, u.weight) for u in again.grids()] == [
        (u.code, u.name, u.bbox, u.centroid, u.weight) for u in GEO.grids()
    ]


def test_lookups() -> None:
    grid = GEO.grids()[123]
    assert GEO.unit(grid.code) is grid and GEO.get("nope") is None and grid.code in GEO
    with pytest.raises(UnknownUnitError):
        GEO.unit("150802999")
    with pytest.raises(KeyError):  # UnknownUnitError is a KeyError too
        GEO.ancestor("150899000000000", Level.COUNTY)
    with pytest.raises(ValueError):
        GEO.ancestor(grid.code[:9], Level.GRID)
    assert GEO.county_of("150826") == "150826"
    assert GEO.ancestor("150826", Level.CITY) == CITY_CODE
    assert GEO.level_of(CITY_CODE) is Level.CITY
    assert geography() is GEO  # cached


def test_loads_fast_in_a_fresh_process() -> None:
    # CPU time of a fresh load (importing schemas already loads the cached one): robust on shared machines.
    code = (
        "import time; from schemas.geography import load_geography; t = time.process_time(); "
        "load_geography(); print(time.process_time() - t)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert float(out.stdout) < 0.2


# ---- bad data files -------------------------------------------------------------------------------------


def write_variant(tmp_path: Path, change: object) -> Path:
    doc = json.loads(GEOGRAPHY_FILE.read_text(encoding="utf-8"))
    change(doc)  # type: ignore[operator]
    path = tmp_path / "geography.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def _town(doc: dict, ci: int = 0, ti: int = 0) -> dict:  # type: ignore[type-arg]
    return doc["counties"][ci]["townships"][ti]  # type: ignore[no-any-return]


BAD_GEOGRAPHY = [
    (
        "township villages not int",
        lambda d: _town(d).update(villages="8"),
        "counties[0].townships[0]",
        "villages",
    ),
    ("township kind unknown", lambda d: _town(d, 1, 2).update(kind="区"), "counties[1].townships[2]", "kind"),
    ("county grids mismatch", lambda d: d["counties"][2].update(grids=1), "counties[2] (磴口县)", "grids"),
    ("grid total mismatch", lambda d: d.update(grid_total=1), "(top level)", "grid_total"),
    ("township code outside county", lambda d: _town(d, 3).update(code="150802999"), "乌拉山镇", "code"),
    ("duplicate township code", lambda d: _town(d, 0, 1).update(code=_town(d)["code"]), "铁南街道", "code"),
    (
        "county box outside city",
        lambda d: d["counties"][0].update(bbox=[100.0, 40.5, 107.7, 41.0]),
        "counties[0]",
        "bbox",
    ),
    (
        "county box inverted",
        lambda d: d["counties"][4].update(bbox=[109.0, 41.1, 107.0, 42.5]),
        "乌拉特中旗",
        "bbox",
    ),
    ("seat outside county", lambda d: d["counties"][0].update(seat=[109.0, 42.0]), "临河区", "seat"),
    ("more villages than grids", lambda d: _town(d).update(villages=500), "车站街道", "grids"),
    ("missing field", lambda d: _town(d, 6, 0).pop("grids"), "counties[6].townships[0]", "grids"),
    ("unknown field", lambda d: d["counties"][5].update(area=1), "counties[5]", "area"),
    ("bad format version", lambda d: d.update(format=2), "(top level)", "format"),
]


@pytest.mark.parametrize(
    ("change", "entry", "field"), [c[1:] for c in BAD_GEOGRAPHY], ids=[c[0] for c in BAD_GEOGRAPHY]
)
def test_bad_geography_file_names_file_entry_and_field(
    tmp_path: Path, change: object, entry: str, field: str
) -> None:
    path = write_variant(tmp_path, change)
    with pytest.raises(DataFileError) as info:
        load_geography(path)
    err = info.value
    assert err.file == str(path) and str(path) in str(err)
    assert entry in err.entry, err
    assert err.field == field or err.field.startswith(field), err


def test_unreadable_geography_files(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match="cannot read"):
        load_geography(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    with pytest.raises(DataFileError) as info:
        load_geography(broken)
    assert info.value.field == "(syntax)"
