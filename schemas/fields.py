"""The field types of the wire messages (`schemas.messages`): times, codes, counts and their bounds.

Code fields are checked against the bundled geography and taxonomy with `schemas.oneof.OneOf` (in Rust);
times must be timezone-aware and plausible, and share one zone object per offset (see `_shared_zone`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, Field

from schemas.geography import geography
from schemas.oneof import OneOf
from schemas.taxonomy import taxonomy

# Plausible event times. ClickHouse's DateTime ends in 2106 and starts in 1970; anything outside this
# range is a corrupt clock, and rejecting it here keeps it out of the sink.
EARLIEST_TIME = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_TIME = datetime(2100, 1, 1, tzinfo=UTC)


# One fixed-offset zone object per UTC offset, shared by every decoded time (see `_shared_zone`).
_ZONES: dict[timedelta, tzinfo] = {timedelta(0): UTC}


def _shared_zone(value: datetime) -> datetime:
    """The same instant and offset, with the one shared zone object for that offset.

    pydantic gives every decoded time a zone object of its own. Python compares, subtracts and orders aware
    datetimes cheaply only when both carry the *same* zone object; otherwise each operation asks both zones
    for their offset, several times slower. The escalation core does dozens of such operations per event.
    Same instant, same offset, same JSON and ISO text: only the object identity changes (and ``tzname()``).
    """
    offset = value.utcoffset()
    assert offset is not None  # AwareDatetime ran first
    zone = _ZONES.get(offset)
    if zone is None:
        zone = _ZONES.setdefault(offset, timezone(offset))
    return value if value.tzinfo is zone else value.replace(tzinfo=zone)


EventTime = Annotated[AwareDatetime, Field(ge=EARLIEST_TIME, lt=LATEST_TIME), AfterValidator(_shared_zone)]
"""A timezone-aware time between 2000 and 2100 (gridflow produces Asia/Shanghai, +08:00)."""

GridCode = Annotated[
    str,
    OneOf(
        lambda: geography().grid_codes,
        "unknown_grid",
        "Input should be a grid code known to the geography",
        r"^\d{15}$",
        "A 15-digit grid code listed in schemas/data/geography.json.",
    ),
]
UnitCode = Annotated[
    str,
    OneOf(
        lambda: geography().unit_codes,
        "unknown_unit",
        "Input should be a unit code known to the geography",
        r"^\d{6}(?:\d{3}){0,3}$",
        "A known unit code at any level: city/county 6 digits, township 9, village 12, grid 15.",
    ),
]
TownshipCode = Annotated[
    str,
    OneOf(
        lambda: (u.code for u in geography().townships()),
        "unknown_township",
        "Input should be a township code known to the geography",
        r"^\d{9}$",
        "A 9-digit township code listed in the geography.",
    ),
]
CountyCode = Annotated[
    str,
    OneOf(
        lambda: (u.code for u in geography().counties()),
        "unknown_county",
        "Input should be a county code known to the geography",
        r"^\d{6}$",
        "One of the seven 6-digit county codes.",
    ),
]
CategoryCode = Annotated[
    str,
    OneOf(
        lambda: taxonomy().categories,
        "unknown_category",
        "Input should be a category code of the taxonomy",
        r"^[a-z][a-z0-9_]*$",
        "A category code from schemas/data/taxonomy.toml.",
    ),
]
Severity = Annotated[int, Field(ge=1, le=5)]
RuleId = Annotated[str, Field(pattern=r"^[!-~]{1,64}$")]  # printable ASCII, no spaces
Count = Annotated[int, Field(ge=0, le=10_000)]
# Sequence numbers, offsets and sizes: non-negative and within ClickHouse's Int64/UInt64 columns.
NonNegative = Annotated[int, Field(ge=0, le=2**63 - 1)]
Positive = Annotated[int, Field(ge=1, le=2**63 - 1)]
