"""What the escalation step emits besides Incident and Transition messages.

- `ClusterSignal`: many incidents of one category in one township within the cluster window; published for
  a later county-keyed stage (topic ``cluster_signals``, key county code).
- `DeadLetterRequest`: an intake message the core could not use, with an error class; the faust shell turns
  it into a `schemas.messages.DeadLetter` with the source coordinates from `SourceRef`.

Both are plain frozen dataclasses: they are not wire contracts of their own (yet), and building them must
cost next to nothing on the hot path.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from schemas.messages import CameraAlert, ClockTick, Disposition, GridReport, Incident, Transition

__all__ = [
    "CLUSTER_NAMESPACE",
    "ClusterSignal",
    "DeadLetterRequest",
    "ErrorClass",
    "Output",
    "SourceRef",
]

# Fixed namespace so a cluster signal's id is the same on every replay (uuid5 of township/category/time).
CLUSTER_NAMESPACE = uuid.UUID("0f9b6a3e-2f51-5c6e-9a43-6c1d2b7e8a10")


class ErrorClass(StrEnum):
    """Why the core dead-letters an intake message (``DeadLetter.error_class``).

    A subset of the contracts' :class:`schemas.enums.DeadLetterReason`, the one vocabulary worker and sink
    share (a unit test holds every value to it).
    """

    UNKNOWN_INCIDENT = "unknown_incident"  # disposition whose incident never appeared within the bound
    INVALID_DISPOSITION = "invalid_disposition"  # action not allowed in the incident's status
    UNCLASSIFIABLE = "unclassifiable"  # category or alarm type missing from the taxonomy
    LATE_EVENT = "late_event"  # older than the dedup horizon: cannot tell a duplicate from a new event
    FUTURE_EVENT = "future_event"  # further ahead of the partition's clock than policy.future_event_bound


@dataclass(frozen=True, slots=True)
class SourceRef:
    """Where an intake message was read; opaque to the core, echoed back on dead-letter requests."""

    topic: str
    partition: int
    offset: int


@dataclass(frozen=True, slots=True)
class DeadLetterRequest:
    """Ask the shell to dead-letter ``message`` (read at ``ref``, if known) with ``error_class``."""

    error_class: ErrorClass
    error_message: str
    message: GridReport | CameraAlert | Disposition | ClockTick
    at: datetime  # event time at which the decision was taken
    ref: SourceRef | None = None


@dataclass(frozen=True, slots=True)
class ClusterSignal:
    """``count`` incidents of ``category`` opened in ``township_code`` between ``window_start`` and ``at``."""

    signal_id: UUID
    county_code: str
    township_code: str
    category: str
    count: int
    window_start: datetime
    at: datetime
    incident_ids: tuple[UUID, ...]
    rule_id: str

    @staticmethod
    def id_for(township_code: str, category: str, at: datetime) -> UUID:
        """Deterministic id: the same cluster detected on a replay gets the same id."""
        return uuid.uuid5(CLUSTER_NAMESPACE, f"{township_code}/{category}/{at.isoformat()}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "cluster_signal",
            "signal_id": str(self.signal_id),
            "county_code": self.county_code,
            "township_code": self.township_code,
            "category": self.category,
            "count": self.count,
            "window_start": self.window_start.isoformat(),
            "at": self.at.isoformat(),
            "incident_ids": [str(i) for i in self.incident_ids],
            "rule_id": self.rule_id,
        }

    def to_json(self) -> bytes:
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, raw: bytes | str) -> ClusterSignal:
        d = json.loads(raw)
        return cls(
            signal_id=UUID(d["signal_id"]),
            county_code=d["county_code"],
            township_code=d["township_code"],
            category=d["category"],
            count=d["count"],
            window_start=datetime.fromisoformat(d["window_start"]),
            at=datetime.fromisoformat(d["at"]),
            incident_ids=tuple(UUID(i) for i in d["incident_ids"]),
            rule_id=d["rule_id"],
        )


Output = Incident | Transition | ClusterSignal | DeadLetterRequest
"""Anything `streams.core.escalation.step` emits."""
