"""Bayannur's administrative geography: the five levels of 五级联动, from grids up to the city.

The seven county-level units are real; township names are real where we were confident; villages and
grids are generated deterministically from the counts in ``data/geography.json`` (see its ``notes``). Codes
nest by prefix — county 6 digits, township +3, village +3, grid +3 (15 digits) — so any unit's ancestor at
any level is an O(1) slice of its code. The city is always ``150800``.

Usage::

    from schemas.geography import geography
    geo = geography()                      # loaded once, cached
    geo.ancestor("150802001001001", Level.TOWNSHIP)   # "150802001"
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from schemas._datafile import DATA_DIR, raise_data_error, split_loc
from schemas.enums import Level
from schemas.errors import DataFileError, UnknownUnitError
from schemas.point import CITY_MAX_LAT, CITY_MAX_LON, CITY_MIN_LAT, CITY_MIN_LON, BBox, GeoPoint

CITY_CODE = "150800"
GEOGRAPHY_FILE = DATA_DIR / "geography.json"

# Code length → level. The city shares the county length and is told apart by its code.
_LEVEL_BY_LENGTH = {6: Level.COUNTY, 9: Level.TOWNSHIP, 12: Level.VILLAGE, 15: Level.GRID}
_LENGTH_BY_LEVEL = {Level.GRID: 15, Level.VILLAGE: 12, Level.TOWNSHIP: 9, Level.COUNTY: 6}

# Village code ranges inside a township (统计用区划代码 style): communities 001.., villages/gachas 201...
_FIRST_COMMUNITY = 1
_FIRST_VILLAGE = 201
_MAX_COMMUNITIES = 200
_MAX_VILLAGES = 799
_MAX_GRIDS_PER_VILLAGE = 999

_CN_DIGITS = "〇一二三四五六七八九"


@dataclass(frozen=True, slots=True)
class Unit:
    """One administrative unit at any of the five levels.

    ``weight`` is the unit's share of the city population (weights of one level sum to 1); ``simulated``
    is true for generated units; ``kind`` is the Chinese unit type
    (区/县/旗, 街道/镇/乡/苏木, 社区/村/嘎查, 网格).
    """

    code: str
    name: str
    level: Level
    parent: str | None
    simulated: bool
    centroid: GeoPoint
    bbox: BBox
    weight: float
    kind: str = ""


class Geography:
    """All units, indexed by code; immutable after construction. Obtain it through :func:`geography`."""

    def __init__(self, units: list[Unit], source: Path) -> None:
        self.source = source
        self._units: dict[str, Unit] = {u.code: u for u in units}
        children: dict[str, list[str]] = {}
        by_level: dict[Level, list[Unit]] = {level: [] for level in Level}
        for u in units:
            by_level[u.level].append(u)
            if u.parent is not None:
                children.setdefault(u.parent, []).append(u.code)
        self._children = {code: tuple(kids) for code, kids in children.items()}
        self._by_level = {level: tuple(sorted(us, key=lambda u: u.code)) for level, us in by_level.items()}
        # Precomputed lookups for the message validators, which run on every decoded event.
        self.grid_codes: frozenset[str] = frozenset(u.code for u in self._by_level[Level.GRID])
        self.unit_codes: frozenset[str] = frozenset(self._units)
        self.county_boxes: dict[str, BBox] = {u.code: u.bbox for u in self._by_level[Level.COUNTY]}

    def __contains__(self, code: object) -> bool:
        return code in self._units

    def __len__(self) -> int:
        return len(self._units)

    def unit(self, code: str) -> Unit:
        """The unit with this code; raises UnknownUnitError (a KeyError) if there is none."""
        try:
            return self._units[code]
        except KeyError:
            raise UnknownUnitError(code) from None

    def get(self, code: str) -> Unit | None:
        """The unit with this code, or None."""
        return self._units.get(code)

    def level_of(self, code: str) -> Level:
        """The level of a known code (by its length; the city by its code)."""
        if code not in self._units:
            raise UnknownUnitError(code)
        return Level.CITY if code == CITY_CODE else _LEVEL_BY_LENGTH[len(code)]

    def ancestor(self, code: str, level: Level) -> str:
        """The code of ``code``'s ancestor at ``level`` (the code itself at its own level); O(1) by prefix."""
        own = self.level_of(code)
        if level < own:
            raise ValueError(
                f"{code} is a {own.name.lower()}; it has no ancestor at level {level.name.lower()}"
            )
        if level == Level.CITY:
            return CITY_CODE
        return code[: _LENGTH_BY_LEVEL[level]]

    def township_of(self, code: str) -> str:
        """The township code above a grid or village (or the township itself)."""
        return self.ancestor(code, Level.TOWNSHIP)

    def county_of(self, code: str) -> str:
        """The county code above any unit below the city (or the county itself)."""
        return self.ancestor(code, Level.COUNTY)

    def children(self, code: str) -> tuple[Unit, ...]:
        """The units directly below ``code``, in code order."""
        if code not in self._units:
            raise UnknownUnitError(code)
        return tuple(self._units[c] for c in self._children.get(code, ()))

    @property
    def city(self) -> Unit:
        """The city unit (150800 巴彦淖尔市)."""
        return self._units[CITY_CODE]

    def at_level(self, level: Level) -> tuple[Unit, ...]:
        """All units of one level, in code order."""
        return self._by_level[level]

    def grids(self) -> tuple[Unit, ...]:
        """All grids, in code order."""
        return self._by_level[Level.GRID]

    def villages(self) -> tuple[Unit, ...]:
        """All villages, communities and gachas, in code order."""
        return self._by_level[Level.VILLAGE]

    def townships(self) -> tuple[Unit, ...]:
        """All townships, subdistricts and sumu, in code order."""
        return self._by_level[Level.TOWNSHIP]

    def counties(self) -> tuple[Unit, ...]:
        """The seven county-level units, in code order."""
        return self._by_level[Level.COUNTY]


# ---- the data file's shape -------------------------------------------------------------------------------

_STRICT = ConfigDict(frozen=True, extra="forbid", strict=True)
Lon = Annotated[float, Field(ge=CITY_MIN_LON, le=CITY_MAX_LON, allow_inf_nan=False)]
Lat = Annotated[float, Field(ge=CITY_MIN_LAT, le=CITY_MAX_LAT, allow_inf_nan=False)]
Name = Annotated[str, Field(min_length=1, max_length=32)]


class _TownshipEntry(BaseModel):
    model_config = _STRICT
    code: Annotated[str, Field(pattern=r"^\d{9}$")]
    name: Name
    kind: Literal["街道", "镇", "乡", "苏木"]
    simulated: bool
    villages: Annotated[int, Field(ge=1, le=_MAX_VILLAGES)]
    grids: Annotated[int, Field(ge=1)]


class _CountyEntry(BaseModel):
    model_config = _STRICT
    code: Annotated[str, Field(pattern=r"^1508\d\d$")]
    name: Name
    population_estimate: Annotated[int, Field(gt=0)]
    seat: tuple[Lon, Lat]
    bbox: tuple[Lon, Lat, Lon, Lat]
    grids: Annotated[int, Field(ge=1)]
    villages: Annotated[int, Field(ge=1)]
    townships: Annotated[list[_TownshipEntry], Field(min_length=1, max_length=999)]


class _CityEntry(BaseModel):
    model_config = _STRICT
    code: Literal["150800"]
    name: Name
    seat: tuple[Lon, Lat]
    bbox: tuple[Lon, Lat, Lon, Lat]


class _NameStems(BaseModel):
    model_config = _STRICT
    village: Annotated[list[Name], Field(min_length=1)]
    community: Annotated[list[Name], Field(min_length=1)]
    gacha: Annotated[list[Name], Field(min_length=1)]


class _GeographyFile(BaseModel):
    model_config = _STRICT
    format: Literal[1]
    notes: list[str]
    city: _CityEntry
    grid_total: Annotated[int, Field(ge=1)]
    village_total: Annotated[int, Field(ge=1)]
    name_stems: _NameStems
    counties: Annotated[list[_CountyEntry], Field(min_length=1)]


# ---- loading and generation ------------------------------------------------------------------------------


def _check(ok: bool, path: Path, entry: str, field: str, message: str) -> None:
    if not ok:
        raise DataFileError(path, entry, field, message)


def _box(values: tuple[float, float, float, float], path: Path, entry: str) -> BBox:
    box = BBox(*values)
    _check(box.min_lon < box.max_lon and box.min_lat < box.max_lat, path, entry, "bbox", "min must be < max")
    return box


def _point(lon: float, lat: float) -> GeoPoint:
    return GeoPoint(lon=round(lon, 6), lat=round(lat, 6))


def _cn_number(n: int) -> str:
    return "".join(_CN_DIGITS[int(d)] for d in str(n))


def _names(stems: list[str], count: int, seed: int, suffix: str) -> list[str]:
    """``count`` distinct names from ``stems``: a fixed permutation (step coprime with len) offset by seed.

    Past the first ``len(stems)`` names the stems repeat with a Chinese ordinal (永丰二村), so names stay
    unique inside one parent without any randomness.
    """
    n = len(stems)
    step = next(s for s in range(7, 7 + n + 1) if math.gcd(s, n) == 1) if n > 1 else 1
    names = []
    for i in range(count):
        stem = stems[(step * i + seed) % n]
        round_ = i // n
        names.append(f"{stem}{_cn_number(round_ + 1) if round_ else ''}{suffix}")
    return names


def _describe_loc(loc: Sequence[int | str]) -> tuple[str, str]:
    if len(loc) >= 4 and loc[0] == "counties" and loc[2] == "townships":
        field = ".".join(str(p) for p in loc[4:]) or "(entry)"
        return f"counties[{loc[1]}].townships[{loc[3]}]", field
    return split_loc(loc, "counties", lambda i: "")


def load_geography(path: Path | None = None) -> Geography:
    """Load, check and expand a geography data file (the bundled one by default)."""
    path = path or GEOGRAPHY_FILE
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataFileError(path, "(file)", "(file)", f"cannot read: {exc.strerror or exc}") from exc
    try:
        doc = _GeographyFile.model_validate_json(raw)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        if first["type"] == "json_invalid":
            raise DataFileError(path, "(file)", "(syntax)", first["msg"]) from exc
        raise_data_error(path, exc, _describe_loc)
    return Geography(_expand(doc, path), path)


def _expand(doc: _GeographyFile, path: Path) -> list[Unit]:
    """Check the document's consistency and generate every unit, top-down, in code order."""
    city_box = _box(doc.city.bbox, path, "city")
    city_seat = _point(*doc.city.seat)
    units = [Unit(CITY_CODE, doc.city.name, Level.CITY, None, False, city_seat, city_box, 1.0, "市")]
    total_population = sum(c.population_estimate for c in doc.counties)
    seen: set[str] = {CITY_CODE}
    for ci, county in enumerate(doc.counties):
        entry = f"counties[{ci}] ({county.name})"
        cbox = _box(county.bbox, path, entry)
        _check(county.code not in seen, path, entry, "code", f"duplicate code {county.code}")
        _check(city_box.contains_box(cbox), path, entry, "bbox", "county box must lie inside the city box")
        _check(cbox.contains(*county.seat), path, entry, "seat", "seat must lie inside the county box")
        seen.add(county.code)
        for ti, town in enumerate(county.townships):
            _check_township(town, county.code, seen, path, f"counties[{ci}].townships[{ti}] ({town.name})")
            seen.add(town.code)
        grids = sum(t.grids for t in county.townships)
        villages = sum(t.villages for t in county.townships)
        _check(county.grids == grids, path, entry, "grids", f"its townships hold {grids} grids")
        _check(
            county.villages == villages, path, entry, "villages", f"its townships hold {villages} villages"
        )

        cweight = county.population_estimate / total_population
        seat = _point(*county.seat)
        # The name's last character is the unit type: 区, 县 or 旗.
        units.append(
            Unit(
                county.code, county.name, Level.COUNTY, CITY_CODE, False, seat, cbox, cweight, county.name[-1]
            )
        )
        for ti, town in enumerate(county.townships):
            tbox = cbox.tile(ti, len(county.townships))
            tweight = cweight * town.grids / county.grids
            centre = _point(*tbox.centre)
            units.append(
                Unit(
                    town.code,
                    town.name,
                    Level.TOWNSHIP,
                    county.code,
                    town.simulated,
                    centre,
                    tbox,
                    tweight,
                    town.kind,
                )
            )
            units.extend(_villages_and_grids(town, tbox, tweight, doc.name_stems))

    grid_total = sum(c.grids for c in doc.counties)
    village_total = sum(c.villages for c in doc.counties)
    _check(
        grid_total == doc.grid_total, path, "(top level)", "grid_total", f"counties hold {grid_total} grids"
    )
    _check(
        village_total == doc.village_total,
        path,
        "(top level)",
        "village_total",
        f"counties hold {village_total}",
    )
    return units


def _check_township(town: _TownshipEntry, county: str, seen: set[str], path: Path, entry: str) -> None:
    _check(town.code.startswith(county), path, entry, "code", f"must start with the county code {county}")
    _check(town.code not in seen, path, entry, "code", f"duplicate code {town.code}")
    _check(town.grids >= town.villages, path, entry, "grids", "every village needs at least one grid")
    most = town.villages * _MAX_GRIDS_PER_VILLAGE
    _check(town.grids <= most, path, entry, "grids", f"at most {_MAX_GRIDS_PER_VILLAGE} grids per village")
    communities, rural = _village_split(town)
    _check(
        communities <= _MAX_COMMUNITIES, path, entry, "villages", f"at most {_MAX_COMMUNITIES} communities"
    )
    _check(rural <= _MAX_VILLAGES, path, entry, "villages", f"at most {_MAX_VILLAGES} villages")


def _village_split(town: _TownshipEntry) -> tuple[int, int]:
    """How many of a township's villages are communities (社区) and how many villages or gachas.

    All of a 街道's are communities, a 镇's seat has a few, a 乡 or 苏木 has none.
    """
    communities = {"街道": town.villages, "镇": max(1, town.villages // 8)}.get(town.kind, 0)
    return communities, town.villages - communities


def _villages_and_grids(town: _TownshipEntry, tbox: BBox, tweight: float, stems: _NameStems) -> list[Unit]:
    communities, rural = _village_split(town)
    rural_stems, rural_suffix = (stems.gacha, "嘎查") if town.kind == "苏木" else (stems.village, "村")
    seed = int(town.code)
    names = _names(stems.community, communities, seed, "社区") + _names(
        rural_stems, rural, seed, rural_suffix
    )
    kinds = ["社区"] * communities + [rural_suffix] * rural
    codes = [f"{town.code}{_FIRST_COMMUNITY + i:03d}" for i in range(communities)]
    codes += [f"{town.code}{_FIRST_VILLAGE + i:03d}" for i in range(rural)]
    # Spread the township's grids evenly; the first (grids % villages) villages get one more.
    base, extra = divmod(town.grids, town.villages)
    units: list[Unit] = []
    for j, (vcode, vname, vkind) in enumerate(zip(codes, names, kinds, strict=True)):
        n_grids = base + (1 if j < extra else 0)
        vbox = tbox.tile(j, town.villages)
        vweight = tweight * n_grids / town.grids
        vcentre = _point(*vbox.centre)
        units.append(Unit(vcode, vname, Level.VILLAGE, town.code, True, vcentre, vbox, vweight, vkind))
        gweight = vweight / n_grids
        for k in range(1, n_grids + 1):
            gbox = vbox.tile(k - 1, n_grids)
            gcentre = _point(*gbox.centre)
            units.append(
                Unit(
                    f"{vcode}{k:03d}",
                    f"{vname}第{k}网格",
                    Level.GRID,
                    vcode,
                    True,
                    gcentre,
                    gbox,
                    gweight,
                    "网格",
                )
            )
    return units


@functools.cache
def geography() -> Geography:
    """The bundled geography, loaded and checked once per process."""
    return load_geography()
