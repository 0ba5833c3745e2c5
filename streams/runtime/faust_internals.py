"""Every reliance of the stream runtime on faust-streaming internals, in one place.

The shells (`streams.runtime.app`, `streams.runtime.county_shell`, `streams.runtime.checkpoints`) take
offsets and checkpoints out of faust's hands (see `streams.runtime.checkpoints` for why), which needs a few
attributes and methods faust-streaming does not document as its API. They are reached only through the
functions below, each checked against faust-streaming 0.15.3 (the version installed when this was written)
and exercised on a real broker by tests/integration/test_faust_internals.py: after upgrading faust-streaming,
run that test first.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from aiokafka import TopicPartition


def table_get(table: Any, key: bytes) -> Any:
    """The value a faust table holds under ``key``, None if none, read without faust's table machinery.

    faust-streaming 0.15.3: ``Table.data`` is the in-memory store (a dict-like) that recovery fills from
    the changelog when a partition is assigned; reading it directly skips the per-key event context.
    """
    return table.data.get(key)


def table_items(table: Any) -> Iterator[tuple[Any, Any]]:
    """Every (key, value) a faust table holds on this worker (faust-streaming 0.15.3: ``Table.data``)."""
    return iter(table.data.items())


def table_put(table: Any, key: bytes, blob: bytes | None) -> None:
    """Set (or with None delete) ``key`` in the table's store without faust sending a changelog record.

    faust-streaming 0.15.3: writing ``Table.data`` bypasses ``Table.__setitem__``, whose changelog send
    goes through the producer buffer a commit does not reliably wait for; the caller sends the changelog
    record itself with a send it can await (`streams.runtime.checkpoints.write_checkpoint`).
    """
    if blob is None:
        table.data.pop(key, None)
    else:
        table.data[key] = blob


async def commit_offsets(app: Any, offsets: Mapping[Any, int]) -> None:
    """Commit ``offsets`` (TP -> next offset) for the app's consumer group, whatever faust has acked.

    faust-streaming 0.15.3: ``Consumer._commit_offsets`` is the commit path under ``Consumer.commit``
    without its ack bookkeeping; it skips partitions no longer assigned and keeps commit monitoring informed.
    """
    await app.consumer._commit_offsets(offsets)


def aiokafka_producer(app: Any) -> Any:
    """The aiokafka producer inside faust's producer (its batch API is what `Outbox` needs).

    faust-streaming 0.15.3: ``Producer._ensure_producer()`` returns the started ``AIOKafkaProducer``.
    """
    return app.producer._ensure_producer()


def hold_ack(message: Any) -> None:
    """Keep faust from acknowledging ``message`` (and so from ever committing its offset).

    faust-streaming 0.15.3: ``stream.take_events`` acks each event's message when its reference count
    drops to zero; one more reference (``Message.incref``) that is never released keeps it unacked.
    """
    message.incref()


def settled(app: Any) -> bool:
    """Whether the group has settled: no rebalance under way and the tables recovered.

    faust-streaming 0.15.3: ``App.rebalancing`` is set when a rebalance starts and cleared once table
    recovery has ended and the streams resumed; ``App.in_recovery`` while tables are being recovered.
    """
    return not (app.rebalancing or app.in_recovery)


def generation(app: Any) -> int:
    """The consumer group's current generation (faust-streaming 0.15.3: ``App.consumer_generation_id``)."""
    return int(app.consumer_generation_id)


def pause_fetching(app: Any, tps: Iterable[Any]) -> None:
    """Stop faust fetching ``tps``: its stream gets none of their records, its aiokafka consumer sends no
    fetch requests for them. Until the next assignment, which resumes them.

    faust-streaming 0.15.3: ``Consumer.pause_partitions`` only filters what faust's fetcher hands on; the
    aiokafka consumer inside (``Consumer._thread._ensure_consumer()``) is paused too so it stops fetching.
    """
    tps = list(tps)
    app.consumer.pause_partitions(tps)
    inner = app.consumer._thread._ensure_consumer()
    inner.pause(*(TopicPartition(tp.topic, tp.partition) for tp in tps))


def polled(app: Any) -> None:
    """Count a fetch of the intake readers as a poll of faust's consumer.

    Once the readers have paused every partition faust holds, faust's consumer fetches nothing itself,
    and its aiokafka consumer, after ``broker_max_poll_interval`` (faust's default 1000 s) without a fetch,
    leaves the group and then refuses to rejoin it: the worker would stop for good. aiokafka 0.14:
    ``SubscriptionState.fetcher_idle_time`` counts from ``_last_fetch_ended``, which ``fetch_context()``
    sets; one attribute store, so it is safe from the worker's thread while faust's consumer thread reads it.
    """
    inner = app.consumer._thread._ensure_consumer()
    inner._subscription._last_fetch_ended = time.monotonic()


def skip_livelock_check(app: Any, skip: Callable[[Any], bool]) -> None:
    """Keep faust's livelock monitor from checking the topic-partitions ``skip`` names.

    faust-streaming 0.15.3: ``Consumer.verify_event_path(now, tp)``, run every few commit intervals for every
    assigned partition, logs "Stream has not started processing …" (and the like) for a partition whose
    highwater moves while no faust stream reads it: the inputs `streams.runtime.intake` readers read and
    the checkpoint changelogs (written by the shells, read only in recovery).
    """
    consumer = app.consumer
    verify = consumer.verify_event_path

    def verify_streamed(now: float, tp: Any) -> None:
        if not skip(tp):
            verify(now, tp)

    consumer.verify_event_path = verify_streamed
