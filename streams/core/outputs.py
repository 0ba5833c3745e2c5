"""What the escalation step emits besides Incident and Transition messages.

- `ClusterSignal` (a wire contract of `schemas.stages`, re-exported here): many incidents of one category in
  one township within the cluster window; published for the county-keyed stage (topic ``cluster_signals``,
  key county code).
- `DeadLetterRequest`: an intake message the core could not use, with an error class; the faust shell turns
  it into a `schemas.messages.DeadLetter` with the source coordinates from `SourceRef`.

`DeadLetterRequest` and `SourceRef` are plain frozen dataclasses: they never leave the process, and building
them must cost next to nothing on the hot path.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from schemas.messages import CameraAlert, ClockTick, Disposition, GridReport, Incident, Transition
from schemas.stages import CLUSTER_NAMESPACE, ClusterSignal

__all__ = [
    "CLUSTER_NAMESPACE",
    "ClusterSignal",
    "DeadLetterRequest",
    "ErrorClass",
    "Output",
    "SourceRef",
]


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


Output = Incident | Transition | ClusterSignal | DeadLetterRequest
"""Anything `streams.core.escalation.step` emits."""
