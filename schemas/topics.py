"""The Kafka topic registry (docs/CONTRACTS.md, "Topics"): names, partition counts, keys and retention.

``topics(prefix)`` returns a :class:`Topics` tuple with one :class:`TopicSpec` per topic, so callers can
iterate over all of them (to create them) or pick one by attribute (``topics().grid_reports.name``). The
optional prefix is prepended verbatim — include your own separator, e.g. ``topics("t42.")`` — and lets tests
and what-if runs use their own topics on a shared broker.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal, NamedTuple

GRID_REPORTS: Final = "intake.grid_reports"
CAMERA_ALERTS: Final = "intake.camera_alerts"
DISPOSITIONS: Final = "intake.dispositions"
INCIDENTS: Final = "incidents"
INCIDENT_TRANSITIONS: Final = "incident_transitions"
CLUSTER_SIGNALS: Final = "cluster_signals"
COUNTY_ALERTS: Final = "county_alerts"
DEADLETTER: Final = "deadletter"

_DAY_MS = 24 * 60 * 60 * 1000
_LEGAL = re.compile(r"^[A-Za-z0-9._-]*$")  # Kafka's legal topic characters
_MAX_TOPIC_LENGTH = 249


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """One topic: full ``name`` (prefix included), ``partitions``, what the record ``key`` is,
    ``cleanup_policy`` and ``retention_ms`` (None for compacted topics, which keep the latest per key);
    ``max_message_bytes`` raises the broker's record size limit where a topic needs it (checkpoints)."""

    name: str
    partitions: int
    key: str
    cleanup_policy: Literal["delete", "compact"]
    retention_ms: int | None
    max_message_bytes: int | None = None

    def config(self) -> dict[str, str]:
        """Topic-level configs for an admin client's create-topics call."""
        out: dict[str, str] = {"cleanup.policy": self.cleanup_policy}
        if self.retention_ms is not None:
            out["retention.ms"] = str(self.retention_ms)
        if self.max_message_bytes is not None:
            out["max.message.bytes"] = str(self.max_message_bytes)
        return out


class Topics(NamedTuple):
    """Every gridflow topic; iterate for all of them, or use the attributes."""

    grid_reports: TopicSpec
    camera_alerts: TopicSpec
    dispositions: TopicSpec
    incidents: TopicSpec
    incident_transitions: TopicSpec
    cluster_signals: TopicSpec
    county_alerts: TopicSpec
    deadletter: TopicSpec

    @property
    def intake(self) -> tuple[TopicSpec, TopicSpec, TopicSpec]:
        """The three intake topics (clock ticks travel on every partition of each)."""
        return (self.grid_reports, self.camera_alerts, self.dispositions)

    @property
    def prefix(self) -> str:
        """The prefix these names were built with."""
        return self.grid_reports.name[: len(self.grid_reports.name) - len(GRID_REPORTS)]

    def by_name(self, name: str) -> TopicSpec:
        """The spec for a base name (``"incidents"``) or a full, prefixed name; KeyError if neither."""
        prefixed = self.prefix + name
        for spec in self:
            if spec.name in (name, prefixed):
                return spec
        raise KeyError(name)


def topics(prefix: str = "") -> Topics:
    """The topic registry, with ``prefix`` prepended verbatim to every name."""
    if not _LEGAL.match(prefix):
        raise ValueError(f"topic prefix {prefix!r} may only contain letters, digits, '.', '_' and '-'")
    if len(prefix) + len(INCIDENT_TRANSITIONS) > _MAX_TOPIC_LENGTH:
        raise ValueError(f"topic prefix {prefix!r} is too long")

    def spec(
        base: str, partitions: int, key: str, cleanup: Literal["delete", "compact"], days: int | None
    ) -> TopicSpec:
        return TopicSpec(prefix + base, partitions, key, cleanup, None if days is None else days * _DAY_MS)

    return Topics(
        grid_reports=spec(GRID_REPORTS, 6, "township code", "delete", 7),
        camera_alerts=spec(CAMERA_ALERTS, 6, "township code", "delete", 7),
        dispositions=spec(DISPOSITIONS, 6, "township code of the incident's grid", "delete", 7),
        incidents=spec(INCIDENTS, 6, "incident id", "compact", None),
        incident_transitions=spec(INCIDENT_TRANSITIONS, 6, "incident id", "delete", 30),
        cluster_signals=spec(CLUSTER_SIGNALS, 6, "county code", "delete", 1),
        county_alerts=spec(COUNTY_ALERTS, 6, "county code", "delete", 30),
        deadletter=spec(DEADLETTER, 1, "source topic", "delete", 30),
    )
