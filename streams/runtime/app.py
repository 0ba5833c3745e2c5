"""The faust-streaming shell around the escalation core: topics, the checkpoint table and the agent.

faust keeps the group: one agent subscribes to the three intake topics with concurrency 1 — faust-streaming
loses messages with concurrency > 1 (its issue #606) and its exactly-once mode has known loss/duplicate
bugs, so the guarantee here is at-least-once with deterministic ids that the sink deduplicates — so the
group assigns the intake partitions together with the checkpoint table's. The records themselves are
read raw (bytes in, so a malformed record reaches our decoder) in batches by
`streams.runtime.intake.IntakeReader`, an aiokafka consumer of the worker's own that follows faust's
assignment: faust's per-record path cost more than the escalation step.

Per fetched batch the worker feeds each record to the `PartitionRunner` of its partition and sends what
the runners emit as whole producer batches (`streams.runtime.outbox`), without waiting: the next batch is read
while the broker takes them. Every few seconds per busy partition, and as soon as a partition's input
pauses, it waits until the broker has every output sent so far, writes the partition's checkpoint record
to the ``checkpoints`` table (a full snapshot or a delta, one changelog record each, so never half
written: `streams.core.chain`), waits for the broker to have it, and only then commits the offsets it resumes
from through faust's consumer (see `streams.runtime.checkpoints`). After a rebalance the reader starts each
partition at the offset its state takes next, and a record past that offset makes it seek back.
A worker killed anywhere therefore restarts from a checkpoint that is
consistent with what it published and loses nothing; at worst it emits again what it had emitted after the
checkpoint, with the same ids.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import faust
from aiokafka import TopicPartition
from faust.types import TP

from infra.settings import KafkaSettings, PrivacySettings, ServiceSettings, load
from schemas.personal import Tokeniser
from schemas.topics import Topics, TopicSpec, topics
from streams.core.escalation import Engine
from streams.core.runner import Emit, PartitionRunner
from streams.runtime import faust_internals
from streams.runtime.checkpoints import commit, write_checkpoint
from streams.runtime.county_shell import CountyShell
from streams.runtime.heap import Heap
from streams.runtime.intake import Batch, IntakeReader, hold_unread
from streams.runtime.outbox import Outbox
from streams.runtime.pacing import to_pause

log = logging.getLogger(__name__)

BATCH_MAX = 2000
# Outputs go out at the end of a batch, or as soon as this many wait: a tick that releases a minute of
# records should not hold the first of them back until the last is decided.
SEND_AT = 500
MAX_BYTES = 64 * 1024 * 1024
# A busy partition is checkpointed this often: a restart reads again at most about this much input.
CHECKPOINT_EVERY_S = 5.0
# A partition that got no record for this long is checkpointed at once, so its offsets are committed soon
# after the input pauses.
QUIET_S = 1.0
# A partition's checkpoints take at most this share of its time: a large state is written less often.
CHECKPOINT_SHARE = 0.1


def wall_clock() -> datetime:
    """Processing time, recorded on dead letters only; decisions never read it."""
    return datetime.now(UTC)


def broker_credentials(kafka: KafkaSettings) -> Any:
    """faust's spelling of the GRIDFLOW_KAFKA_* security settings (None: PLAINTEXT)."""
    context = None
    if kafka.security_protocol in ("SSL", "SASL_SSL"):
        cafile = str(kafka.ssl_cafile) if kafka.ssl_cafile else None
        context = ssl.create_default_context(cafile=cafile)
    if kafka.sasl_mechanism:
        password = kafka.sasl_password.get_secret_value() if kafka.sasl_password else None
        return faust.SASLCredentials(
            username=kafka.sasl_username,
            password=password,
            mechanism=kafka.sasl_mechanism,
            ssl_context=context,
        )
    return faust.SSLCredentials(context) if context is not None else None


class StreamsApp:
    """Builds the faust app for one topic namespace and holds the per-partition runners of this worker."""

    def __init__(self, kafka: KafkaSettings, engine: Engine | None = None, app_id: str | None = None) -> None:
        self.kafka = kafka
        self.engine = engine or Engine.bundled()
        self.names: Topics = topics(kafka.topic_prefix)
        self.runners: dict[int, PartitionRunner] = {}
        privacy = load(PrivacySettings)
        self.personal = Tokeniser(privacy.key_bytes(), enabled=privacy.tokenise)
        self.sources = tuple(spec.name for spec in self.names.intake)
        partitions = self.names.grid_reports.partitions
        app_id = app_id or f"{kafka.topic_prefix}gridflow-streams"
        # faust keeps a directory per app even with in-memory tables: under the state directory, not
        # wherever the worker was started (faust creates only the last level).
        datadir = load(ServiceSettings).state / "streams"
        datadir.mkdir(parents=True, exist_ok=True)
        self.app = faust.App(
            app_id,
            datadir=str(datadir / app_id),
            broker=f"kafka://{kafka.servers}",
            broker_credentials=broker_credentials(kafka),
            store="memory://",
            topic_partitions=partitions,
            topic_disable_leader=True,
            web_enabled=False,
            producer_acks=-1,
            producer_max_request_size=MAX_BYTES,
            producer_linger_ms=5,
            # Outputs go out as whole batches (streams.runtime.outbox); below the brokers' default message
            # limit.
            producer_max_batch_size=512 * 1024,
            consumer_auto_offset_reset="earliest",
            broker_max_poll_records=BATCH_MAX,
            stream_buffer_maxsize=4 * BATCH_MAX,
            table_standby_replicas=0,
            processing_guarantee="at_least_once",
            # Records are never acked (offsets are committed from checkpoints); faust's wait for an empty
            # stream before committing (on rebalance and shutdown) would wait on them forever.
            stream_wait_empty=False,
            # A killed worker's partitions move on after this long, not faust's default minute.
            broker_session_timeout=10.0,
            broker_heartbeat_interval=3.0,
        )
        self.intake = self.app.topic(*self.sources, key_serializer="raw", value_serializer="raw")
        self.table = self.app.Table(
            "checkpoints",
            default=None,
            partitions=partitions,
            changelog_topic=self.app.topic(
                self.changelog_name,
                partitions=partitions,
                key_serializer="raw",
                value_serializer="raw",
                compacting=True,
                config={"max.message.bytes": str(MAX_BYTES)},
                internal=True,
            ),
        )
        self.outputs: dict[str, str] = {
            "incidents": self.names.incidents.name,
            "incident_transitions": self.names.incident_transitions.name,
            "cluster_signals": self.names.cluster_signals.name,
            "deadletter": self.names.deadletter.name,
        }
        # Partitions fed since their last checkpoint, and when they were last fed (monotonic).
        self.dirty: dict[int, float] = {}
        self.next_checkpoint: dict[int, float] = {}  # per partition, when a checkpoint is due (monotonic)
        self.lock = asyncio.Lock()
        # Names this process's checkpoint records (streams.core.chain), apart from any other writer's.
        self.writer = uuid.uuid4().hex[:8]
        self.unacked: list[asyncio.Future[Any]] = []  # sent outputs the broker has not acknowledged yet
        self._outbox: Outbox | None = None
        self.reader: IntakeReader | None = None
        # The agent makes faust subscribe to the intake (so the group assigns its partitions with the
        # checkpoint table's); the records themselves are read by `_read`.
        self.app.agent(self.intake, name="escalate", concurrency=1)(hold_unread)
        self.app.task(self._read)
        self.county = CountyShell(
            self.app,
            source=self.names.cluster_signals.name,
            sink=self.names.county_alerts.name,
            upstream=partitions,
            partitions=self.names.cluster_signals.partitions,
            window=self.engine.policy.cluster_window,
            min_townships=self.engine.policy.county_cluster_townships,
            servers=kafka.servers,
            options=kafka.client_options(),
        )
        self.heap = Heap()
        self.app.on_partitions_revoked.connect(self._on_revoked)
        self.app.timer(QUIET_S)(self._checkpoint_idle)

    @property
    def changelog_name(self) -> str:
        return f"{self.kafka.topic_prefix}gridflow-streams-checkpoints-changelog"

    def changelog_specs(self) -> list[TopicSpec]:
        """The checkpoint tables' changelog topics, created before the worker starts.

        faust declares them itself too, but a worker that races that declaration can wait on a topic it
        has just been told is missing; creating them first removes the race.
        """
        return [
            TopicSpec(name, self.names.grid_reports.partitions, "partition", "compact", None, MAX_BYTES)
            for name in (self.changelog_name, self.county.changelog_name)
        ]

    async def _checkpoint_idle(self) -> None:
        # Input paused: checkpoint what waits, so its offsets are committed. While a batch is being fed
        # the input has not paused, and that batch ends with a checkpoint of its own.
        if not self.lock.locked():
            async with self.lock:
                await self._checkpoint()
                if self.reader is not None:  # a paused topic resumes even when no batch comes
                    self._pace(list(self.reader.held_back))
        self.heap.settle()

    async def _on_revoked(self, sender: Any, /, *args: Any, **kwargs: Any) -> None:
        # A partition may come back after the table caught up with another worker's checkpoints; its
        # runner is then rebuilt from the table. Taking the lock lets a batch in progress finish with the
        # runners it started with.
        revoked = args[0] if args else kwargs.get("revoked", ())
        async with self.lock:
            for tp in revoked:
                self.runners.pop(tp.partition, None)
                self.dirty.pop(tp.partition, None)

    def runner(self, partition: int) -> PartitionRunner:
        runner = self.runners.get(partition)
        if runner is None:
            runner = PartitionRunner(
                self.engine, partition, self.sources, wall_clock, writer=self.writer, personal=self.personal
            )
            prefix = b"p%d/" % partition
            records = faust_internals.table_items(self.table)
            runner.restore({k: v for k, v in records if k.startswith(prefix) and v})
            self.runners[partition] = runner
        return runner

    async def _read(self) -> None:
        """Read the intake partitions faust assigned to this worker in batches, and feed their runners."""
        reader = self.reader = IntakeReader.create(
            self.app, self.sources, self.kafka.servers, self.kafka.client_options(), BATCH_MAX
        )
        skipped = {*self.sources, self.changelog_name, self.county.source, self.county.changelog_name}
        faust_internals.skip_livelock_check(self.app, lambda tp: tp.topic in skipped)
        await reader.run(self.lock, self._position(reader), self._feed)

    def _position(self, reader: IntakeReader) -> Callable[[TP], Awaitable[int]]:
        async def position(tp: TP) -> int:
            """Where a newly taken intake partition is read from: the next offset its state takes."""
            runner = self.runner(tp.partition)
            expected = runner.expected(tp.topic)
            if expected is None:  # a topic no checkpoint of this partition covers yet
                expected = await reader.beginning(tp)
                runner.begin(tp.topic, expected)
            return expected

        return position

    async def _feed(self, reader: IntakeReader, batch: Batch) -> None:
        outbox = await self.outbox()
        fed_at = time.monotonic()
        for part, records in batch.items():
            topic, partition = part.topic, part.partition
            runner = self.runner(partition)
            expected = runner.expected(topic)
            for record in records:
                if reader.skipped(part, record.offset, expected):
                    break
                for emit in runner.feed(topic, record.offset, record.value):
                    self._queue(outbox, emit)
                expected = record.offset + 1
                if outbox.queued >= SEND_AT:
                    self.unacked += await outbox.send()
            self.dirty[partition] = fed_at
        self._pace(part.partition for part in batch)
        # Not awaited here: the next batch is read while the broker takes this one. A checkpoint waits
        # for them first, so none moves past an output the broker does not have.
        self.unacked += await outbox.send()
        await self._checkpoint()

    def _pace(self, partitions: Iterable[int]) -> None:
        """Pause the topics of ``partitions`` that run ahead of the rest in their sequencer, or resume
        them (`streams.runtime.pacing`)."""
        reader = self.reader
        if reader is None:
            return
        for partition in set(partitions):
            runner = self.runners.get(partition)
            if runner is None:
                continue
            sequencer = runner.sequencer

            def more(topic: str, partition: int = partition, runner: PartitionRunner = runner) -> bool:
                return reader.more(TopicPartition(topic, partition), runner.expected(topic))

            paused = reader.held_back.get(partition, frozenset())
            held = len(sequencer.heap)
            reader.hold_back(partition, to_pause(sequencer.ticks, self.sources, held, paused, more))

    async def _checkpoint(self) -> None:
        """Write the checkpoint of each partition fed since its last one, then commit where they resume.

        A busy partition is checkpointed every ``CHECKPOINT_EVERY_S`` (less often when writing it takes
        more than ``CHECKPOINT_SHARE`` of the time), a quiet one at once. Outputs are acknowledged before a
        checkpoint is written, and its offsets committed only once the broker has it, so a committed
        offset is never ahead of what some checkpoint includes, nor a checkpoint of what was published.
        """
        now = time.monotonic()
        writes, offsets, busy = [], {}, False
        # The most overdue first, and one busy partition per call: checkpoints of all partitions at once
        # would stall the stream for their sum.
        for partition, fed_at in sorted(
            self.dirty.items(), key=lambda item: self.next_checkpoint.get(item[0], 0.0)
        ):
            quiet = now - fed_at >= QUIET_S
            if not quiet and (now < self.next_checkpoint.get(partition, 0.0) or busy):
                continue
            busy = busy or not quiet
            if self.unacked:  # outputs first: a checkpoint never covers what the broker does not have
                await asyncio.gather(*self.unacked)
                self.unacked.clear()
            runner = self.runners[partition]
            started = time.monotonic()
            record = runner.checkpoint()
            cost = time.monotonic() - started
            self.next_checkpoint[partition] = now + max(CHECKPOINT_EVERY_S, cost / CHECKPOINT_SHARE)
            for key, blob in ((record.key, record.blob), *((old, None) for old in record.obsolete)):
                writes.append(
                    await write_checkpoint(self.app, self.table, self.changelog_name, partition, key, blob)
                )
            offsets.update({TP(topic, partition): offset for topic, offset in runner.next_offsets.items()})
            del self.dirty[partition]
        if writes:
            await asyncio.gather(*writes)
            await commit(self.app, offsets)

    async def outbox(self) -> Outbox:
        if self._outbox is None:
            # The aiokafka producer inside faust's: its batch API is what the outbox needs.
            producer = faust_internals.aiokafka_producer(self.app)
            self._outbox = await Outbox.open(producer, self.outputs.values())
        return self._outbox

    def _queue(self, outbox: Outbox, emit: Emit) -> None:
        if emit.role == "watermarks":  # every county-stage partition needs every upstream frontier
            topic = self.outputs["cluster_signals"]
            for partition in range(outbox.partitions[topic]):
                outbox.add(topic, None, emit.value, partition)
        else:
            outbox.add(self.outputs[emit.role], emit.key, emit.value)
