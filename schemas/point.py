"""Points and boxes on the map: :class:`GeoPoint` (a message field) and :class:`BBox` (a unit's extent).

They live apart from ``messages`` and ``geography`` because both need them: messages check that a point lies
in the grid's county box, and the geography gives every unit a centroid and a box.
Coordinates are WGS-84 degrees, longitude first, as in GeoJSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

# Bayannur's extent rounded outwards (real extent ≈ 105°12′–109°53′ E, 40°13′–42°28′ N). Every county box
# in the geography data file must lie inside it; the loader checks that.
CITY_MIN_LON = 105.2
CITY_MAX_LON = 109.9
CITY_MIN_LAT = 40.2
CITY_MAX_LAT = 42.5

Longitude = Annotated[float, Field(ge=CITY_MIN_LON, le=CITY_MAX_LON, allow_inf_nan=False)]
Latitude = Annotated[float, Field(ge=CITY_MIN_LAT, le=CITY_MAX_LAT, allow_inf_nan=False)]


class GeoPoint(BaseModel):
    """A finite point inside Bayannur's bounding box (bounds checked in Rust by pydantic-core)."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    lon: Longitude
    lat: Latitude


@dataclass(frozen=True, slots=True)
class BBox:
    """An axis-aligned box in degrees; a plain dataclass because thousands are built at start-up."""

    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float

    def contains(self, lon: float, lat: float) -> bool:
        """True when the point lies inside the box or on its edge."""
        return self.min_lon <= lon <= self.max_lon and self.min_lat <= lat <= self.max_lat

    def contains_box(self, other: BBox) -> bool:
        """True when ``other`` lies entirely inside this box."""
        return (
            self.min_lon <= other.min_lon
            and other.max_lon <= self.max_lon
            and self.min_lat <= other.min_lat
            and other.max_lat <= self.max_lat
        )

    @property
    def centre(self) -> tuple[float, float]:
        """The centre as ``(lon, lat)``."""
        return ((self.min_lon + self.max_lon) / 2, (self.min_lat + self.max_lat) / 2)

    def tile(self, index: int, count: int, inset: float = 0.1) -> BBox:
        """The ``index``-th of ``count`` cells of a near-square tiling of this box, shrunk by ``inset``.

        Used to give generated units deterministic, non-overlapping boxes strictly inside their parent;
        the inset keeps them off the parent's edges so rounding to 6 decimals cannot push them outside.
        """
        if not 0 <= index < count:
            raise ValueError(f"tile index {index} outside 0..{count - 1}")
        cols = 1
        while cols * cols < count:
            cols += 1
        rows = -(-count // cols)
        col, row = index % cols, index // cols
        width = (self.max_lon - self.min_lon) / cols
        height = (self.max_lat - self.min_lat) / rows
        min_lon = self.min_lon + col * width
        min_lat = self.min_lat + row * height
        return BBox(
            round(min_lon + inset * width, 6),
            round(min_lat + inset * height, 6),
            round(min_lon + (1 - inset) * width, 6),
            round(min_lat + (1 - inset) * height, 6),
        )
