"""The unit every producer stage passes on: one Kafka record-to-be, plus what it is and why it is there.

A :class:`Record` names its topic by *base* name (``intake.grid_reports``; the publisher adds the topic
prefix), carries the township key (or, for clock ticks, an explicit partition and no key), the message's
own event time ``at``, its position ``emit_at`` in the simulated stream (later than ``at`` only when an
overlay held it back), and the payload bytes exactly as they go on the wire. ``label`` marks records an
overlay injected or moved, so tests and the delivery oracle can tell them apart.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal

Kind = Literal["grid_report", "camera_alert", "disposition", "clock_tick", "malformed"]
KINDS: Final[tuple[Kind, ...]] = ("grid_report", "camera_alert", "disposition", "clock_tick", "malformed")

# Labels an overlay puts on records; malformed ones are "malformed:<kind>".
DUPLICATE: Final = "duplicate"
OUT_OF_ORDER: Final = "out_of_order"
LATE: Final = "late"
MALFORMED_PREFIX: Final = "malformed:"


@dataclass(frozen=True, slots=True)
class Record:
    """One message on its way to Kafka (see the module docstring for the fields' meaning)."""

    topic: str
    key: str | None
    partition: int | None
    at: datetime
    emit_at: datetime
    kind: Kind
    event_id: str | None
    value: bytes
    label: str | None = None
    # Other source events merge into this one's incident (extra cameras, a corroborating report): an
    # overlay must not move it, or the streams would open the incident from a different first event.
    anchor: bool = False

    @property
    def is_tick(self) -> bool:
        return self.kind == "clock_tick"


@dataclass(slots=True)
class Summary:
    """Counts of what a stream held: records per kind and per base topic, and overlay labels per kind.

    ``labels`` maps a label (duplicate, out_of_order, late, malformed:<kind>) to a Counter of the base
    topics the labelled records went to.
    """

    kinds: Counter[str] = field(default_factory=Counter)
    topics: Counter[str] = field(default_factory=Counter)
    labels: dict[str, Counter[str]] = field(default_factory=dict)
    first_at: str | None = None
    last_at: str | None = None

    def add(self, record: Record) -> None:
        self.kinds[record.kind] += 1
        self.topics[record.topic] += 1
        if record.label is not None:
            self.labels.setdefault(record.label, Counter())[record.topic] += 1
        stamp = record.emit_at.isoformat()
        if self.first_at is None:
            self.first_at = stamp
        self.last_at = stamp

    @property
    def total(self) -> int:
        return sum(self.kinds.values())

    @property
    def events(self) -> int:
        """Records that are not clock ticks (what the ledger lists)."""
        return self.total - self.kinds["clock_tick"]

    def label_total(self, label: str) -> int:
        """How many records carry ``label`` (``"malformed"`` sums every malformed kind)."""
        if label == "malformed":
            return sum(
                sum(c.values()) for name, c in self.labels.items() if name.startswith(MALFORMED_PREFIX)
            )
        return sum(self.labels.get(label, Counter()).values())

    def to_json_obj(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "kinds": dict(sorted(self.kinds.items())),
            "topics": dict(sorted(self.topics.items())),
            "labels": {name: dict(sorted(c.items())) for name, c in sorted(self.labels.items())},
            "first_at": self.first_at,
            "last_at": self.last_at,
        }

    @classmethod
    def from_json_obj(cls, obj: dict[str, Any]) -> Summary:
        return cls(
            kinds=Counter(obj.get("kinds", {})),
            topics=Counter(obj.get("topics", {})),
            labels={name: Counter(c) for name, c in obj.get("labels", {}).items()},
            first_at=obj.get("first_at"),
            last_at=obj.get("last_at"),
        )
