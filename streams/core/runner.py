"""One partition's processing, minus Kafka: raw records in, messages to publish out, checkpoints to keep.

`PartitionRunner.feed` takes a record read from partition *p* of an intake topic and does, in order:

1. skip it if the runner has already taken its offset (a redelivery after a crash or a rewind);
2. decode it with the contracts — a record that does not decode becomes a dead letter, and the partition
   keeps flowing;
3. hand it to the `Sequencer`, which releases intake messages in one deterministic order;
4. step the escalation engine with every released message, then with a clock tick at the new frontier, so
   SLA timers fire at the same logical moments however fast the input is replayed.

Records must come in offset order per topic: `expected` names the next offset of each topic, and the
shell's reader seeks back when Kafka hands it a later one (`streams.runtime.intake`).

A checkpoint is everything the runner took so far: the escalation state, the sequencer (its ticks, its
frontier and the messages it still holds) and the next offset of each topic. It is one table record,
so it is never half written: now and then a full snapshot, in between only the state that changed since
the previous record (`streams.core.chain`). The faust shell acknowledges the records a checkpoint covers only
once the broker has it. After a restart the runner resumes exactly there: records below the next
offsets are skipped, and outputs emitted after the checkpoint are emitted again with the same
deterministic ids, then dropped downstream.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson

from schemas.decode import decode_intake, encode
from schemas.enums import DeadLetterReason, MessageStatus
from schemas.errors import DecodeError
from schemas.messages import (
    CameraAlert,
    CitizenReport,
    ClockTick,
    DeadLetter,
    Disposition,
    GridReport,
    Incident,
    Transition,
)
from schemas.personal import Tokeniser
from schemas.stages import CheckpointRecord, Watermark
from streams.core.chain import ChainWriter, Checkpoint, decode, follow, merge
from streams.core.citizen import as_grid_report
from streams.core.escalation import Engine
from streams.core.outputs import ClusterSignal, DeadLetterRequest, ErrorClass, Output, SourceRef
from streams.core.sequencer import Held, Intake, Sequencer
from streams.core.state import PartitionState

Clock = Callable[[], datetime]  # wall clock, only for DeadLetter.processed_at


@dataclass(frozen=True, slots=True)
class Emit:
    """A message for a topic: which output topic (by role), its key and its encoded value."""

    role: str  # "incidents" | "incident_transitions" | "cluster_signals" | "deadletter" | "watermarks"
    key: bytes
    value: bytes


@dataclass
class PartitionRunner:
    """The escalation pipeline of one partition, fed record by record."""

    engine: Engine
    partition: int
    sources: tuple[str, ...]
    wall_clock: Clock
    state: PartitionState = field(init=False)
    sequencer: Sequencer = field(init=False)
    next_offsets: dict[str, int] = field(default_factory=dict)  # per topic, the next offset to take
    announced: datetime | None = None  # the last frontier sent to the county stage
    writer: str = "w"  # names this runner's checkpoint records; unique per worker process
    chain: ChainWriter = field(init=False)
    held_json: dict[tuple[str, int], orjson.Fragment] = field(default_factory=dict)  # encodings, by source
    # Dead letters leave the operational path (30 days, read by operators): personal data is tokenised
    # first; without a key it is redacted.
    personal: Tokeniser = field(default_factory=lambda: Tokeniser(None))

    def __post_init__(self) -> None:
        self.state = self.engine.initial_state()
        self.sequencer = Sequencer(
            self.sources, self.engine.policy.allowed_lateness, self.engine.policy.future_event_bound
        )
        self.chain = ChainWriter(self.partition, self.writer)

    def expected(self, topic: str) -> int | None:
        """The next offset this runner takes from ``topic``; None before its first record or `begin`."""
        return self.next_offsets.get(topic)

    def begin(self, topic: str, offset: int) -> None:
        """``topic``'s partition begins at ``offset``: unless it took a record of it already, the first
        one it takes must be that one (a later one means records were skipped)."""
        self.next_offsets.setdefault(topic, offset)

    def feed(self, topic: str, offset: int, raw: bytes | None) -> list[Emit]:
        expected = self.next_offsets.get(topic)
        if expected is not None:
            if offset < expected:
                return []  # taken already: a redelivery
            if offset > expected:
                raise ValueError(f"{topic}/{self.partition}: offset {offset} skips {expected}")
        self.next_offsets[topic] = offset + 1
        try:
            message = decode_intake(raw or b"")
        except DecodeError as error:
            return [self._dead_letter(topic, offset, raw, DeadLetterReason.DECODE_ERROR, str(error))]
        if isinstance(message, CitizenReport):
            message = as_grid_report(message)  # decided like a grid report of its category
        if isinstance(message, ClockTick) and message.partition != self.partition:
            return [
                self._dead_letter(
                    topic,
                    offset,
                    raw,
                    DeadLetterReason.MISROUTED_TICK,
                    f"tick for partition {message.partition}",
                )
            ]
        release = self.sequencer.offer(topic, offset, message)
        if release.future_tick:
            bound = self.engine.policy.future_event_bound
            return [
                self._dead_letter(
                    topic,
                    offset,
                    raw,
                    ErrorClass.FUTURE_EVENT.value,
                    f"tick more than {bound} ahead of its source's clock",
                )
            ]
        emits = [self._late(held) for held in release.late]
        emits += [self._future(held) for held in release.future]
        for held in release.ready:
            emits += self._step(held.message, SourceRef(held.topic, self.partition, held.offset))
        if release.ready or isinstance(message, ClockTick):
            frontier = self.sequencer.frontier()
            if frontier is not None and frontier != self.announced:
                # The core's watermark is a tick's time minus the lateness: hand it the frontier that way.
                tick = ClockTick(
                    status=message.status,
                    source="sequencer",
                    partition=self.partition,
                    at=frontier + self.engine.policy.allowed_lateness,
                    seq=0,
                )
                emits += self._step(tick, None)
                # Everything before the frontier is decided: tell the county stage (after its signals).
                self.announced = frontier
                emits.append(
                    Emit("watermarks", b"", Watermark(source_partition=self.partition, at=frontier).to_json())
                )
        return emits

    def _step(self, message: Any, ref: SourceRef | None) -> list[Emit]:
        self.state, outputs = self.engine.step(self.state, message, ref)
        return [self._emit(output) for output in outputs]

    def _emit(self, output: Output) -> Emit:
        # `encode` makes the bytes model_dump_json makes, without the str round trip.
        if isinstance(output, Incident):
            return Emit("incidents", _key(output.incident_id), encode(output))
        if isinstance(output, Transition):
            return Emit("incident_transitions", _key(output.incident_id), encode(output))
        if isinstance(output, ClusterSignal):
            return Emit("cluster_signals", output.county_code.encode(), output.to_json())
        assert isinstance(output, DeadLetterRequest)
        ref = output.ref or SourceRef("unknown", self.partition, -1)
        raw = encode(output.message)
        return self._dead_letter(ref.topic, ref.offset, raw, output.error_class.value, output.error_message)

    def _late(self, held: Held) -> Emit:
        raw = encode(held.message)
        lateness = self.engine.policy.allowed_lateness
        return self._dead_letter(
            held.topic,
            held.offset,
            raw,
            ErrorClass.LATE_EVENT.value,
            f"older than its source's tick by > {lateness}",
        )

    def _future(self, held: Held) -> Emit:
        raw = held.message.model_dump_json().encode()
        bound = self.engine.policy.future_event_bound
        return self._dead_letter(
            held.topic,
            held.offset,
            raw,
            ErrorClass.FUTURE_EVENT.value,
            f"more than {bound} ahead of its source's tick",
        )

    def _dead_letter(self, topic: str, offset: int, raw: bytes | None, error: str, text: str) -> Emit:
        letter = DeadLetter.for_record(
            status=MessageStatus.EXERCISE,
            topic=topic,
            partition=self.partition,
            offset=offset,
            raw=self.personal.scrub(raw) if raw else raw,
            error=error,
            error_message=self.personal.text(text),
            processed_at=self.wall_clock(),
        )
        return Emit("deadletter", topic.encode(), encode(letter))

    # ---- checkpoints ---------------------------------------------------------------------------------------

    def checkpoint(self) -> Checkpoint:
        """The record that saves everything taken so far (module docstring, `streams.core.chain`)."""
        fields = {
            "kind": "checkpoint",
            "schema_version": 1,
            "partition": self.partition,
            "next": self.next_offsets,
            **self._sequencer_json(),
        }
        return self.chain.write(self.state, fields)

    def _sequencer_json(self) -> dict[str, Any]:
        seq = self.sequencer
        # A held message is encoded once, not at every checkpoint while it waits.
        cache, kept = self.held_json, {}
        for h in seq.held:
            source = (h.topic, h.offset)
            fragment = cache.get(source)
            kept[source] = fragment if fragment is not None else orjson.Fragment(encode(h.message))
        self.held_json = kept
        return {
            "ticks": {topic: at.isoformat() for topic, at in seq.ticks.items()},
            "released_to": seq.released_to.isoformat() if seq.released_to else None,
            "held": [[topic, offset, fragment] for (topic, offset), fragment in kept.items()],
        }

    def restore(self, records: Mapping[bytes, bytes]) -> None:
        """Resume from this partition's checkpoint records (table key -> blob); no records, no change."""
        if not records:
            return
        bodies = follow(_checked(decode(blob)) for blob in records.values())
        if not bodies:  # its full snapshot is removed only after a newer one is written
            raise ValueError(
                f"partition {self.partition}: no full snapshot in {len(records)} checkpoint records"
            )
        state = bodies[0]["state"]
        for delta in bodies[1:]:
            merge(state, delta)
        last = bodies[-1]
        self.next_offsets = {str(k): int(v) for k, v in last["next"].items()}
        self.state = PartitionState.from_json_obj(state)
        self.chain.resume(records, last)
        self.sequencer = Sequencer(
            self.sources, self.engine.policy.allowed_lateness, self.engine.policy.future_event_bound
        )
        self.sequencer.ticks = {k: datetime.fromisoformat(v) for k, v in last["ticks"].items()}
        released = last["released_to"]
        self.sequencer.released_to = datetime.fromisoformat(released) if released else None
        for topic, offset, message in last["held"]:
            self.sequencer.hold(topic, offset, _intake(decode_intake(orjson.dumps(message))))
        self.held_json = {}
        self.announced = None  # announce the frontier again: the county stage may not have seen it


@functools.lru_cache(maxsize=1 << 12)
def _key(incident_id: UUID) -> bytes:
    # A step emits an incident's new version and its transition under one key: format the UUID once.
    return str(incident_id).encode()


def _checked(body: dict[str, Any]) -> dict[str, Any]:
    """A checkpoint record as read, checked against its contract (`schemas.stages.CheckpointRecord`)."""
    CheckpointRecord.model_validate(body, strict=False)
    return body


def _intake(message: object) -> Intake:
    assert isinstance(message, GridReport | CameraAlert | Disposition), "only intake messages are held"
    return message
