"""Wire contracts between the stream stages: cluster signals, watermarks, county alerts, checkpoint records.

The partition stage (`streams.escalation`) emits a `ClusterSignal` when one township sees a cluster; every
partition also announces its frontier as a `Watermark`. Both travel on the ``cluster_signals`` topic to the
county stage (`streams.county`), which raises a `CountyAlert` on ``county_alerts`` when several townships of
one county cluster on one category; the sink lands those alerts and the command centre shows them. A
`CheckpointRecord` is one record of a partition's checkpoint chain (`streams.chain`) in the workers' table.

Like every message (`schemas.messages`) they are frozen, strict, versioned (``schema_version``) and exported
as JSON Schema (``python -m schemas export``).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import Field, TypeAdapter

from schemas.enums import MessageStatus
from schemas.fields import (
    CategoryCode,
    CountyCode,
    EventTime,
    NonNegative,
    Positive,
    RuleId,
    TownshipCode,
)
from schemas.messages import PolicyVersion, _Message

__all__ = [
    "CLUSTER_NAMESPACE",
    "COUNTY_ALERT_NAMESPACE",
    "CheckpointRecord",
    "ClusterSignal",
    "CountyAlert",
    "SignalRecord",
    "Watermark",
    "parse_signal_record",
]

# Fixed namespaces so a signal's or alert's id is the same on every replay.
CLUSTER_NAMESPACE = uuid.UUID("0f9b6a3e-2f51-5c6e-9a43-6c1d2b7e8a10")
COUNTY_ALERT_NAMESPACE = uuid.UUID("5b1f0c52-8d3e-5f7a-9e61-2c4b8d0a7f13")
MAX_CLUSTER_MEMBERS = 10_000


class _Wire(_Message):
    def to_json(self) -> bytes:
        return self.model_dump_json().encode()


class ClusterSignal(_Wire):
    """``count`` incidents of ``category`` opened in ``township_code`` between ``window_start`` and ``at``."""

    kind: Literal["cluster_signal"] = "cluster_signal"
    schema_version: Literal[1] = 1
    status: MessageStatus
    signal_id: UUID
    county_code: CountyCode
    township_code: TownshipCode
    category: CategoryCode
    count: Positive
    window_start: EventTime
    at: EventTime
    incident_ids: Annotated[tuple[UUID, ...], Field(min_length=1, max_length=MAX_CLUSTER_MEMBERS)]
    rule_id: RuleId
    policy_version: PolicyVersion = ""

    @staticmethod
    def id_for(township_code: str, category: str, at: datetime) -> UUID:
        """Deterministic id: the same cluster detected on a replay gets the same id."""
        return uuid.uuid5(CLUSTER_NAMESPACE, f"{township_code}/{category}/{at.isoformat()}")

    @classmethod
    def from_json(cls, raw: bytes | str) -> ClusterSignal:
        return cls.model_validate_json(raw)


class Watermark(_Wire):
    """Upstream partition ``source_partition`` has decided everything before ``at``."""

    kind: Literal["watermark"] = "watermark"
    schema_version: Literal[1] = 1
    source_partition: Annotated[int, Field(ge=0, le=100_000)]
    at: EventTime


class CountyAlert(_Wire):
    """Several townships of one county clustering on one category within the cluster window."""

    kind: Literal["county_alert"] = "county_alert"
    schema_version: Literal[1] = 1
    status: MessageStatus
    alert_id: UUID
    county_code: CountyCode
    category: CategoryCode
    townships: Annotated[tuple[TownshipCode, ...], Field(min_length=1, max_length=1000)]
    signal_ids: Annotated[tuple[UUID, ...], Field(min_length=1, max_length=MAX_CLUSTER_MEMBERS)]
    window_start: EventTime
    at: EventTime
    rule_id: RuleId
    policy_version: PolicyVersion = ""

    @staticmethod
    def id_for(county_code: str, category: str, at: datetime) -> UUID:
        return uuid.uuid5(COUNTY_ALERT_NAMESPACE, f"{county_code}/{category}/{at.isoformat()}")


SignalRecord = Annotated[ClusterSignal | Watermark, Field(discriminator="kind")]
"""A record of the ``cluster_signals`` topic."""

_SIGNAL_RECORD: TypeAdapter[ClusterSignal | Watermark] = TypeAdapter(SignalRecord)


def parse_signal_record(raw: bytes | str) -> ClusterSignal | Watermark:
    """Decode a ``cluster_signals`` record; raises pydantic's ValidationError if it is not one."""
    return _SIGNAL_RECORD.validate_json(raw)


class CheckpointRecord(_Message):
    """One record of a partition's checkpoint chain (`streams.chain`, `streams.runner`), as stored (lz4 JSON).

    A full record carries ``state`` (the partition state, `streams.state.PartitionState.to_json_obj`); a
    delta carries the ``clock`` and the entries ``set`` and deleted (``del``) since its ``parent``. Both carry
    the runner's resume point: the next offset per intake topic and the sequencer (ticks, frontier, held
    messages as ``[topic, offset, message]``). The state's inner layout is the core's and not fixed here.
    """

    model_config = _Message.model_config | {"populate_by_name": True}

    kind: Literal["checkpoint"] = "checkpoint"
    schema_version: Literal[1] = 1
    seq: Positive
    writer: Annotated[str, Field(min_length=1, max_length=64)]
    parent: tuple[Positive, str] | None
    full: bool
    partition: Annotated[int, Field(ge=0, le=100_000)]
    next: dict[str, NonNegative]
    ticks: dict[str, str]
    released_to: str | None
    held: list[tuple[str, NonNegative, dict[str, Any]]]
    state: dict[str, Any] | None = None
    clock: Any = None
    set: dict[str, dict[str, Any]] | None = None
    deleted: Annotated[dict[str, list[str]] | None, Field(alias="del")] = None
