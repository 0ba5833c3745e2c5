"""The Kafka publisher: records → the intake topics, idempotent, paced, bounded, with a delivery ledger.

:class:`Publisher` wraps one kafka-python ``KafkaProducer`` configured for safe delivery —
``enable_idempotence=True``, ``acks="all"``, compression, batching (``linger_ms``, ``batch_size``) — and
sends each :class:`~producers.record.Record` to ``prefix + record.topic``: keyed records by their township key
(the default murmur2 partitioner places them, as every Kafka client would), clock ticks to their explicit
partition without a key.

Acknowledgements and back-pressure: every send's future waits in a FIFO; the sender settles the finished
ones from the front every few hundred records (counting acknowledgements and errors, writing the ledger),
and when ``max_in_flight`` records are still unsettled it blocks on the oldest (until the client's delivery
timeout decides it, so a slow acknowledgement is never miscounted as an error). So a slow broker slows the
sender instead of growing memory; ``max_block_ms`` bounds each wait inside the client.

Throughput: kafka-python spends most of its time per record in Python, so the hot path adds little of its
own: no per-record callbacks or locks (registering two callbacks per future cost about a third of the
throughput), cached encoded keys and topic names, and a memoised default partitioner
(`producers.partitioner`). The ``crc32c`` package gives kafka-python native record checksums, and
`producers.compression` picks the codec.

Before anything is sent, the broker is probed (``check_kafka``: one line within seconds if it does not
answer) and the intake topics are created if missing, or checked for the contract's partition counts.

Usage::

    with Publisher.from_settings(load(KafkaSettings), ledger=Ledger(path)) as publisher:
        stats = publish(Simulator(...), publisher, Pacer(speed=60))
"""

from __future__ import annotations

import contextlib
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any, Final

from kafka import KafkaProducer
from kafka.errors import KafkaError

from infra.errors import ConfigError, GridflowError
from infra.probe import check_kafka
from infra.settings import KafkaSettings
from infra.topics_admin import ensure_topics
from producers.compression import COMPRESSIONS, compression_available, default_compression
from producers.ledger import Ledger
from producers.pacing import Pacer
from producers.partitioner import MemoPartitioner
from producers.record import Record
from schemas.topics import topics

# How often (in records) send() settles finished futures and checks the in-flight bound.
_SETTLE_EVERY: Final = 256


class PublishError(GridflowError):
    """Kafka refused or failed to take records (the message names the topic and the cause)."""


@dataclass(slots=True)
class PublishStats:
    """Running counts of one publishing run (updated by the sending thread as it settles acknowledgements)."""

    sent: int = 0
    acked: int = 0
    errors: int = 0
    ticks_sent: int = 0
    waits: int = 0  # records send() waited for before sending more (back-pressure engaged)
    first_error: str | None = None
    sim_at: datetime | None = None
    started: float = field(default_factory=time.perf_counter)
    finished: float | None = None

    @property
    def elapsed(self) -> float:
        return (self.finished or time.perf_counter()) - self.started

    @property
    def in_flight(self) -> int:
        return self.sent - self.acked - self.errors

    @property
    def rate(self) -> float:
        """Records sent per wall second so far."""
        elapsed = self.elapsed
        return self.sent / elapsed if elapsed > 0 else 0.0


class Publisher:
    """One idempotent producer for the intake topics (see the module docstring)."""

    def __init__(
        self,
        servers: str,
        *,
        topic_prefix: str = "",
        options: dict[str, Any] | None = None,
        ledger: Ledger | None = None,
        compression: str | None = None,
        linger_ms: int = 20,
        batch_size: int = 256 * 1024,
        max_in_flight: int = 20_000,
        max_block_ms: int = 10_000,
        create_topics: bool = True,
        probe_timeout_s: float = 5.0,
        client_id: str = "gridflow-producer",
    ) -> None:
        compression = compression or default_compression()
        if compression not in COMPRESSIONS:
            raise ConfigError(f"compression {compression!r}: expected one of {', '.join(COMPRESSIONS)}")
        if not compression_available(compression):
            raise ConfigError(
                f"compression {compression!r}: its Python library is not installed; expected gzip or none"
            )
        if max_in_flight < 1:
            raise ConfigError(f"max_in_flight {max_in_flight}: expected at least 1")
        options = options or {}
        check_kafka(servers, probe_timeout_s, options)
        self.prefix = topic_prefix
        self.topics = topics(topic_prefix)
        if create_topics:
            ensure_topics(servers, self.topics.intake, options)
        self._producer = KafkaProducer(
            bootstrap_servers=servers,
            client_id=client_id,
            enable_idempotence=True,
            acks="all",
            compression_type=None if compression == "none" else compression,
            linger_ms=linger_ms,
            batch_size=batch_size,
            max_block_ms=max_block_ms,
            partitioner=MemoPartitioner(),
            # A topic that is not there is a configuration error, not something to create with defaults.
            allow_auto_create_topics=False,
            # kafka-python backs reconnects off up to 30 s: a broker back after a crash would wait that long.
            reconnect_backoff_max_ms=1_000,
            **options,
        )
        self.compression = compression
        self.ledger = ledger
        self.stats = PublishStats()
        self.max_in_flight = max_in_flight
        self.max_block_s = max_block_ms / 1000
        self._pending: deque[tuple[Any, Record]] = deque()
        self._names: dict[str, str] = {}
        self._keys: dict[str, bytes] = {}
        self._send = self._producer.send
        self._closed = False

    @classmethod
    def from_settings(cls, kafka: KafkaSettings, **kwargs: Any) -> Publisher:
        """A publisher for the configured cluster, topic prefix and TLS/SASL options."""
        kwargs.setdefault("topic_prefix", kafka.topic_prefix)
        return cls(kafka.servers, options=kafka.client_options(), **kwargs)

    def send(self, record: Record) -> None:
        """Send one record; blocks while ``max_in_flight`` records await acknowledgement."""
        stats = self.stats
        key = record.key
        if key is None:
            key_bytes = None
            stats.ticks_sent += 1
        else:
            key_bytes = self._keys.get(key)
            if key_bytes is None:
                key_bytes = self._keys[key] = key.encode()
        topic = self._names.get(record.topic)
        if topic is None:
            topic = self._names[record.topic] = self.prefix + record.topic
        try:
            future = self._send(topic, value=record.value, key=key_bytes, partition=record.partition)
        except KafkaError as exc:
            # e.g. no metadata or buffer space within max_block_ms: one line, not a client traceback.
            raise PublishError(f"sending to {topic} failed: {type(exc).__name__}: {exc}") from None
        pending = self._pending
        pending.append((future, record))
        stats.sent += 1
        stats.sim_at = record.emit_at
        if stats.sent % _SETTLE_EVERY == 0:
            self.settle()
            while len(pending) >= self.max_in_flight:
                stats.waits += 1
                self._settle_one(*pending.popleft(), block=True)

    def settle(self) -> None:
        """Account for every finished send at the front of the queue (acks, errors, ledger lines)."""
        pending, stats, ledger = self._pending, self.stats, self.ledger
        while pending and pending[0][0].is_done:
            future, record = pending.popleft()
            if future.exception is not None:
                self._failed(future.exception)
                continue
            stats.acked += 1
            if ledger is not None and record.key is not None:
                metadata = future.value
                ledger.acknowledged(record, metadata.topic, metadata.partition, metadata.offset)

    def _settle_one(self, future: Any, record: Record, block: bool = False) -> None:
        if block:
            # Wait as long as the client keeps trying: its delivery timeout ends every send one way or
            # the other, and counting a slow acknowledgement as an error would corrupt the ledger.
            while not future.is_done:
                with contextlib.suppress(KafkaError):
                    future.get(self.max_block_s)
        if future.exception is not None:
            self._failed(future.exception)
            return
        self.stats.acked += 1
        if self.ledger is not None and record.key is not None:
            metadata = future.value
            self.ledger.acknowledged(record, metadata.topic, metadata.partition, metadata.offset)

    def _failed(self, error: BaseException) -> None:
        self.stats.errors += 1
        if self.stats.first_error is None:
            self.stats.first_error = f"{type(error).__name__}: {error}"

    def flush(self, timeout_s: float | None = None) -> None:
        """Send everything buffered and settle every outstanding record."""
        self._producer.flush(timeout=timeout_s)
        while self._pending:
            self._settle_one(*self._pending.popleft(), block=True)

    def close(self, timeout_s: float = 30.0) -> None:
        """Flush what is pending, close the client and the ledger."""
        if self._closed:
            return
        self._closed = True
        try:
            self.flush(timeout_s)
        finally:
            self._producer.close(timeout=timeout_s)
            self.stats.finished = time.perf_counter()
            if self.ledger is not None:
                self.ledger.close()

    def __enter__(self) -> Publisher:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def publish(
    records: Iterable[Record],
    publisher: Publisher,
    pacer: Pacer | None = None,
    on_progress: Callable[[PublishStats], None] | None = None,
    progress_interval_s: float = 0.25,
) -> PublishStats:
    """Send every record, paced; flush; return the stats. ``on_progress`` runs a few times a second."""
    stats = publisher.stats
    stats.started = time.perf_counter()
    send = publisher.send
    wait = pacer.wait if pacer is not None and not pacer.unpaced else None
    clock = time.perf_counter
    next_report = clock() + progress_interval_s
    for record in records:
        if wait is not None:
            wait(record.emit_at)
        send(record)
        if on_progress is not None and clock() >= next_report:
            publisher.settle()
            on_progress(stats)
            next_report = clock() + progress_interval_s
    publisher.flush()
    stats.finished = time.perf_counter()
    if on_progress is not None:
        on_progress(stats)
    return stats
