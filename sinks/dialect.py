"""What a ClickHouse engine of a given version supports, and the DDL fragments that depend on it.

gridflow runs on Debian's ``clickhouse-server`` 18.16 as well as on the current engine (chdb or a current
server). Rather than scattering version checks, every difference lives here:

=============================  ==========================================  ===========================
feature                        18.16                                       current
=============================  ==========================================  ===========================
LowCardinality(String)         experimental: needs the setting below       plain
column TTL                     absent                                      drop raw JSON after 90 days
insert dedup, non-replicated   absent (only Replicated* tables)            ``non_replicated_dedup…``
``insert_deduplication_token``  absent                                      22.2 and later
``ADD COLUMN IF NOT EXISTS``   absent: plain ``ADD COLUMN``                  re-run safe (used from 20.1)
=============================  ==========================================  ===========================

Pure: no I/O; the backends read the version from the engine and hand it here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

# Raw JSON carries personal data (the reporter's phone number); where the engine has TTL it is dropped after
# this many days while the parsed columns stay for the KPIs.
RAW_RETENTION_DAYS: Final = 90
# How many recent insert blocks a non-replicated MergeTree remembers for deduplication.
DEDUP_WINDOW_BLOCKS: Final = 1000


@dataclass(frozen=True, slots=True)
class Dialect:
    """Capabilities of one engine version, plus the rendered DDL fragments used by the migrations."""

    version: tuple[int, ...]

    @property
    def version_text(self) -> str:
        """The version as dotted text, e.g. ``18.16.1``."""
        return ".".join(str(part) for part in self.version)

    @property
    def low_cardinality_experimental(self) -> bool:
        """True where ``LowCardinality`` still needs ``allow_experimental_low_cardinality_type``."""
        return self.version < (19, 0)

    @property
    def has_ttl(self) -> bool:
        """Table and column TTL (19.6 and later)."""
        return self.version >= (19, 6)

    @property
    def has_non_replicated_dedup(self) -> bool:
        """Insert deduplication on plain MergeTree tables (``non_replicated_deduplication_window``, 20.8+)."""
        return self.version >= (20, 8)

    @property
    def has_dedup_token(self) -> bool:
        """The ``insert_deduplication_token`` setting (22.2 and later)."""
        return self.version >= (22, 2)

    @property
    def has_add_column_if_not_exists(self) -> bool:
        """``ALTER TABLE … ADD COLUMN IF NOT EXISTS``: absent in 18.16, relied on from 20.1."""
        return self.version >= (20, 1)

    def ddl_settings(self) -> dict[str, int]:
        """Settings every DDL statement is sent with."""
        if self.low_cardinality_experimental:
            return {"allow_experimental_low_cardinality_type": 1}
        return {}

    def insert_settings(self, dedup_token: str | None) -> dict[str, str | int]:
        """Settings for one insert; the dedup token only where the engine understands it."""
        if dedup_token is not None and self.has_dedup_token:
            return {"insert_deduplication_token": dedup_token}
        return {}

    def placeholders(self) -> dict[str, str]:
        """Values for the ``{name}`` placeholders of the migration files (besides ``{db}``)."""
        table_settings = (
            f"SETTINGS non_replicated_deduplication_window = {DEDUP_WINDOW_BLOCKS}"
            if self.has_non_replicated_dedup
            else ""
        )
        raw_ttl = f"TTL ingested_at + INTERVAL {RAW_RETENTION_DAYS} DAY" if self.has_ttl else ""
        return {
            "lc_string": "LowCardinality(String)",
            "table_settings": table_settings,
            "raw_ttl": raw_ttl,
            "add_column": "ADD COLUMN IF NOT EXISTS" if self.has_add_column_if_not_exists else "ADD COLUMN",
        }


def parse_version(text: str) -> tuple[int, ...]:
    """``'18.16.1'`` or ``'26.9.2.1'`` → a tuple of ints; non-numeric tails (``-testing``) are ignored."""
    parts: list[int] = []
    for piece in text.strip().strip('"').split("."):
        digits = ""
        for char in piece:
            if not char.isdigit():
                break
            digits += char
        if not digits:
            break
        parts.append(int(digits))
    if not parts:
        raise ValueError(f"not a ClickHouse version: {text!r}")
    return tuple(parts)
