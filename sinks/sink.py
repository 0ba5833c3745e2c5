"""The ClickHouse sink process: Kafka → native column blocks → ClickHouse, commit only after the insert.

Run it with ``gridflow sink`` or ``python -m sinks sink``; ``SIGINT``/``SIGTERM`` stop it cleanly (the
current batch is inserted and committed first). What it does, per batch:

1. poll the intake topics, ``incidents``, ``incident_transitions`` and ``deadletter`` (kafka-python,
   ``enable_auto_commit=False``) until ``batch_rows`` rows or ``batch_seconds`` have gone by;
2. decode each record and build its row in ClickHouse's native form (:mod:`sinks.rows`); a record that does
   not decode becomes a dead-letter row with its topic/partition/offset (same id as the stream's dead
   letter for it, so the two collapse); clock ticks and tombstones are consumed but not stored;
3. insert per table (:func:`sinks.landing.land`): an outage is retried with backoff, holding the offsets
   and polling nothing meanwhile; refused rows are isolated and dead-lettered with the engine's reason;
4. commit the offsets of everything consumed, only now.

A crash between 3 and 4 redelivers the batch: the rows land again and are collapsed by id
(ReplacingMergeTree keys, the ``*_distinct``/``*_latest`` views, and ``insert_deduplication_token`` on
engines that have it). ``dedup=False`` (``--no-dedup``) is the fault tests' negative control only
(:mod:`sinks.nodedup`).

Scale-out: every sink of one topic prefix joins the group ``<prefix>gridflow-sink`` with kafka-python's
cooperative-sticky assignor (KIP-429), so N ``gridflow sink`` processes share the partitions and a member
joining or leaving moves only the partitions that change owner. A partition is given up only after the
sink has landed and committed what it read from it (:class:`_Revocations`): the listener merely notes the
revocation, and the loop flushes before its next poll, which is when kafka-python rejoins for the second,
cooperative round that hands the partition on. Whatever a rebalance still redelivers (a killed member's
uncommitted batch) lands again and is collapsed by id like any redelivery.

Outages: clickhouse-driver is given a send/receive timeout (:data:`SEND_RECEIVE_TIMEOUT`), so a frozen
server shows as a logged, retried stall instead of a silent hang; while an insert is retried nothing is
polled (memory stays at one batch) and ``max_poll_interval_ms`` is long enough that the member keeps its
partitions through a long outage (kafka-python heartbeats from its own thread meanwhile).
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FrameType
from typing import Any, Final

from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.subscription_state import ConsumerRebalanceListener
from kafka.coordinator.assignors.cooperative_sticky import CooperativeStickyAssignor
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata

from schemas.decode import decode, decode_message
from schemas.enums import MessageStatus
from schemas.errors import DecodeError
from schemas.messages import DeadLetter, Incident, MessageUnion
from schemas.personal import Tokeniser
from schemas.stages import CountyAlert
from schemas.topics import TopicSpec, topics
from sinks.backoff import Backoff, Stopped, retry_unavailable
from sinks.connection import connect
from sinks.ddl import applied_versions, migrations
from sinks.errors import SinkError
from sinks.landing import LandingStats, Origin, Pending, land
from sinks.nodedup import nodedup_tables
from sinks.rows import Source, dead_letter_row, message_row, now_epoch
from sinks.writer import Writer

POLL_MS: Final = 200  # the longest a poll blocks, so a stop request is seen quickly
# A healthy insert of one batch takes well under a second; a server that answers nothing for this long is
# stalled (frozen, partitioned) and the insert is retried on a fresh connection.
SEND_RECEIVE_TIMEOUT: Final = 15.0
# A member that does not poll for this long is dropped from the group. The sink polls nothing while it
# retries an insert through an outage, and should keep its partitions meanwhile: a dead sink is still
# noticed within the session timeout, since its heartbeats stop.
MAX_POLL_INTERVAL_MS: Final = 3_600_000
SESSION_TIMEOUT_MS: Final = 10_000
FETCH_MAX_BYTES: Final = 64 * 1024 * 1024
MAX_PARTITION_FETCH_BYTES: Final = 8 * 1024 * 1024
HEARTBEAT_INTERVAL_MS: Final = 1_000
# A member without partitions for this long joins again with a new consumer. kafka-python 3.0.12 can leave a
# consumer that never finds its group coordinator (seen: a soak's sink idle 13 min, never a group member,
# while a new consumer in the same group joined within a second). A sink that is idle because its group has
# more members than partitions merely rejoins, once per period.
UNASSIGNED_REJOIN_S: Final = 30.0


@dataclass(frozen=True, slots=True)
class SinkConfig:
    """Where the sink reads and writes, and how it batches."""

    bootstrap: str
    url: str
    prefix: str = ""
    group: str | None = None  # default: ``<prefix>gridflow-sink``
    batch_rows: int = 50_000
    batch_seconds: float = 1.0
    dedup: bool = True
    # A stable name for this member (Kafka static membership): restarted under the same name, the sink takes
    # its partitions back at once instead of waiting out the dead member's session. Unique per process.
    instance: str | None = None
    kafka_options: Mapping[str, Any] = field(default_factory=dict)
    # The sink is the warehouse's edge: personal data is tokenised here (redacted when no key is given).
    personal: Tokeniser = field(default_factory=lambda: Tokeniser(None))

    @property
    def group_id(self) -> str:
        return self.group or f"{self.prefix}gridflow-sink"

    def sources(self) -> list[TopicSpec]:
        return sink_topics(self.prefix)


def sink_topics(prefix: str) -> list[TopicSpec]:
    """The topics the sink lands: the intake, incidents, transitions, dead letters and county alerts."""
    names = topics(prefix)
    return [*names.intake, names.incidents, names.incident_transitions, names.deadletter, names.county_alerts]


@dataclass(slots=True)
class SinkStats:
    """Totals since the sink started."""

    batches: int = 0
    records: int = 0
    inserted: int = 0
    undecodable: int = 0
    rejected: int = 0
    retries: int = 0
    first_record_at: float | None = None  # time.monotonic() when the first record was polled

    def line(self) -> str:
        return (
            f"{self.records:,} records in {self.batches:,} batches: {self.inserted:,} rows inserted, "
            f"{self.undecodable:,} undecodable and {self.rejected:,} refused rows dead-lettered, "
            f"{self.retries:,} retried inserts"
        )


class _Revocations(ConsumerRebalanceListener):  # type: ignore[misc]
    """Notes the partitions a rebalance takes away; the sink flushes before it polls (and rejoins) again.

    The listener runs on kafka-python's network loop, so it does nothing blocking itself.
    """

    def __init__(self) -> None:
        self.revoked: set[TopicPartition] = set()

    def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        self.revoked |= set(revoked)

    def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        pass

    def on_partitions_lost(self, lost: set[TopicPartition]) -> None:
        self.revoked |= set(lost)  # owned by another member already: a commit would fail, the rows collapse


def with_send_receive_timeout(url: str, seconds: float = SEND_RECEIVE_TIMEOUT) -> str:
    """``url`` with a send/receive timeout for clickhouse-driver, unless it names one (servers only)."""
    if not url.startswith("clickhouse") or "send_receive_timeout=" in url:
        return url
    return f"{url}{'&' if '?' in url else '?'}send_receive_timeout={seconds:g}"


def _connect_with_timeout(url: str) -> Writer:
    return connect(with_send_receive_timeout(url))


def _status_of(msg: MessageUnion | CountyAlert) -> MessageStatus:
    # Incident's ``status`` is its lifecycle; every other message's is the envelope flag. (A getattr probe
    # for a missing attribute goes through pydantic's slow __getattr__: 5 % of the sink's time.)
    return msg.message_status if isinstance(msg, Incident) else msg.status


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while a poll's records become rows.

    Rows are tuples without cycles, but the collector is triggered by allocations and, with a batch of
    50,000 rows pending, its passes over the young rows cost about 15 % of turning records into rows
    (measured on a recorded load). Turned back on afterwards, it runs once over what was allocated meanwhile.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class Sink:
    """One sink process's loop; :meth:`run` until :meth:`request_stop`."""

    def __init__(
        self, config: SinkConfig, open_writer: Callable[[str], Writer] = _connect_with_timeout
    ) -> None:
        if config.batch_rows < 1 or config.batch_seconds <= 0:
            raise SinkError("the sink needs batch_rows >= 1 and batch_seconds > 0")
        self.config = config
        self.stats = SinkStats()
        self._open_writer = open_writer
        self._stop = threading.Event()
        self._backoff = Backoff(wake=self._stop)
        self._pending = Pending()
        self._next: dict[TopicPartition, int] = {}  # next offset to commit, per partition consumed
        self._committed: dict[TopicPartition, int] = {}
        self._table_map: dict[str, str] = {}
        self._revocations = _Revocations()
        self._county_alerts = topics(config.prefix).county_alerts.name

    def committed(self) -> dict[TopicPartition, int]:
        """The offsets this sink has committed (next offset per partition); safe from another thread."""
        return dict(self._committed)

    def request_stop(self) -> None:
        """Land and commit the current batch, then return from :meth:`run`; safe in a signal handler."""
        self._stop.set()

    def run(self) -> SinkStats:
        """Consume, land and commit until stopped; returns the totals.

        Raises :class:`~sinks.backoff.Stopped` when stopped during an outage (the batch's offsets are not
        committed, so the next sink re-reads it), and :class:`~sinks.errors.SinkError` when the schema is
        missing (run ``gridflow init``).
        """
        writer = self._writer()
        consumer: KafkaConsumer | None = None
        try:
            self._check_schema(writer)
            if not self.config.dedup:
                self._table_map = nodedup_tables(writer)
            consumer = self._consumer()
            while not self._loop(writer, consumer):
                # No partitions for too long: a fresh consumer (see UNASSIGNED_REJOIN_S). Nothing is
                # pending, since a partition given up is landed and committed first.
                consumer.close(autocommit=False)
                consumer = None
                consumer = self._consumer()
            self._flush(writer, consumer)  # the clean stop: what was consumed lands and is committed
            return self.stats
        finally:
            if consumer is not None:
                consumer.close(autocommit=False)
            writer.close()

    def _writer(self) -> Writer:
        opened: list[Writer] = []
        self.stats.retries += retry_unavailable(
            lambda: opened.append(self._open_writer(self.config.url)), self._backoff, self._stop.is_set
        )
        return opened[0]

    def _check_schema(self, writer: Writer) -> None:
        done: set[int] = set()
        retry_unavailable(lambda: done.update(applied_versions(writer)), self._backoff, self._stop.is_set)
        missing = [m.version for m in migrations() if m.version not in done]
        if missing:
            raise SinkError(
                f"{writer.url}: schema migrations {missing} are not applied to database "
                f"{writer.database!r}; run `gridflow init` first"
            )

    def _consumer(self) -> KafkaConsumer:
        consumer = KafkaConsumer(
            bootstrap_servers=self.config.bootstrap,
            group_id=self.config.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=self.config.batch_rows,
            # Larger fetches: kafka-python's per-fetch overhead otherwise caps the sink below its decoder.
            fetch_max_bytes=FETCH_MAX_BYTES,
            # kafka-python backs off reconnects up to 30 s by default: a broker back after a crash would then
            # wait that long for the sink. Retry at least every second.
            reconnect_backoff_max_ms=1_000,
            # Partitions added to a topic are seen at the next metadata refresh (default: 5 min). Topics
            # created after the sink started are seen within a second whatever this is: kafka-python re-asks
            # for a subscribed topic it does not know (tests/e2e/test_sink_group.py).
            metadata_max_age_ms=5_000,
            max_partition_fetch_bytes=MAX_PARTITION_FETCH_BYTES,
            partition_assignment_strategy=(CooperativeStickyAssignor,),
            session_timeout_ms=SESSION_TIMEOUT_MS,
            heartbeat_interval_ms=HEARTBEAT_INTERVAL_MS,
            max_poll_interval_ms=MAX_POLL_INTERVAL_MS,
            group_instance_id=self.config.instance,
            **dict(self.config.kafka_options),
        )
        consumer.subscribe(topics=[s.name for s in self.config.sources()], listener=self._revocations)
        return consumer

    def _loop(self, writer: Writer, consumer: KafkaConsumer) -> bool:
        """Poll, land and commit until stopped (True) or left without partitions for too long (False)."""
        started: float | None = None  # when the current batch took its first record
        unassigned_since = time.monotonic()
        while not self._stop.is_set():
            timeout = POLL_MS
            if started is not None:
                left = started + self.config.batch_seconds - time.monotonic()
                timeout = max(0, min(POLL_MS, int(left * 1000)))
            room = max(1, self.config.batch_rows - len(self._pending))
            polled = consumer.poll(timeout_ms=timeout, max_records=room)
            if polled:
                if self.stats.first_record_at is None:
                    self.stats.first_record_at = time.monotonic()
                ingested_at = now_epoch()  # recorded only: when the row landed
                take = self._take
                with _collector_paused():
                    for tp, records in polled.items():
                        for record in records:
                            take(record, ingested_at)
                        if records:  # offsets only grow within a partition's records
                            self._next[tp] = records[-1].offset + 1
                if started is None:
                    started = time.monotonic()
            if self._revocations.revoked:
                # Land and commit before the next poll hands these partitions to another member.
                self._flush(writer, consumer)
                self._forget(self._revocations.revoked)
                self._revocations.revoked = set()
                started = None
            if consumer.assignment():
                unassigned_since = time.monotonic()
            elif time.monotonic() - unassigned_since > UNASSIGNED_REJOIN_S and not len(self._pending):
                print(
                    f"gridflow sink: no partitions assigned for {UNASSIGNED_REJOIN_S:g} s in group "
                    f"{self.config.group_id}; joining again with a new consumer",
                    file=sys.stderr,
                    flush=True,
                )
                return False
            if started is None:
                continue
            full = len(self._pending) >= self.config.batch_rows
            if full or time.monotonic() - started >= self.config.batch_seconds:
                self._flush(writer, consumer)
                started = None
        return True

    def _forget(self, partitions: set[TopicPartition]) -> None:
        """Drop given-up partitions' offsets, so a later commit never rewinds their new owner's."""
        for tp in partitions:
            self._next.pop(tp, None)
            self._committed.pop(tp, None)

    def _take(self, record: Any, ingested_at: int) -> None:
        """Add one record's row (or dead letter) to the pending batch; the caller notes its offset."""
        self.stats.records += 1
        raw: bytes | None = record.value
        if raw is None:
            return  # a tombstone on the compacted incidents topic: nothing to land
        source = Source(record.topic, record.partition, record.offset)
        try:
            msg: MessageUnion | CountyAlert = (
                decode(raw, CountyAlert) if record.topic == self._county_alerts else decode_message(raw)
            )
        except DecodeError as error:
            self.stats.undecodable += 1
            raw = self.config.personal.scrub(raw)
            # Same id as the stream's dead letter for this record (schemas.ids), so the two collapse.
            letter = DeadLetter.for_record(
                status=MessageStatus.EXERCISE,
                topic=record.topic,
                partition=record.partition,
                offset=record.offset,
                raw=raw,
                error=error,
                error_message=self.config.personal.text(str(error)),
                processed_at=dt.datetime.now(dt.UTC),
            )
            origin = Origin(source, raw, MessageStatus.EXERCISE)
            self._pending.add("dead_letters", dead_letter_row(letter, ingested_at), origin)
            return
        msg, raw = self.config.personal.message(msg, raw)
        built = message_row(msg, source, raw, ingested_at)
        if built is not None:  # None: a clock tick, consumed but not stored
            self._pending.add(built[0], built[1], Origin(source, raw, _status_of(msg)))

    def _flush(self, writer: Writer, consumer: KafkaConsumer) -> None:
        try:
            if len(self._pending):
                # On a clean stop the batch still lands; only an outage during the stop gives up (Stopped),
                # leaving the offsets uncommitted for the next sink.
                done: LandingStats = land(
                    writer,
                    self._pending,
                    ingested_at=now_epoch(),
                    processed_at=dt.datetime.now(dt.UTC),
                    backoff=self._backoff,
                    table_map=self._table_map,
                    use_tokens=self.config.dedup,
                    should_stop=self._stop.is_set,
                )
                self.stats.inserted += done.inserted
                self.stats.rejected += done.rejected
                self.stats.retries += done.retries
                self.stats.batches += 1
        finally:
            self._pending.clear()
        self._commit(consumer)

    def _commit(self, consumer: KafkaConsumer) -> None:
        due = {tp: off for tp, off in self._next.items() if self._committed.get(tp) != off}
        if not due:
            return
        try:
            consumer.commit({tp: OffsetAndMetadata(off, "", -1) for tp, off in due.items()})
        except KafkaError as e:
            # The rows are in ClickHouse; the next commit carries these offsets too (they only grow), and a
            # redelivery in between is collapsed by id.
            print(f"gridflow sink: offset commit failed ({e}); retried with the next batch", file=sys.stderr)
            return
        self._committed.update(due)


def run_sink(config: SinkConfig) -> int:
    """Run a sink until SIGINT/SIGTERM; print its totals on stderr; return the exit status."""
    # clickhouse-driver logs every failed reconnect with a traceback; the sink reports an outage in one line.
    logging.getLogger("clickhouse_driver").setLevel(logging.CRITICAL)
    sink = Sink(config)

    def stop(signum: int, frame: FrameType | None) -> None:
        sink.request_stop()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        stats = sink.run()
    except Stopped as e:
        print(f"gridflow sink: {e}", file=sys.stderr)
        print(f"gridflow sink: {sink.stats.line()}", file=sys.stderr)
        return 1
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print(f"gridflow sink: stopped after {stats.line()}", file=sys.stderr)
    return 0
