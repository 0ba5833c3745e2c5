"""Live push: a Kafka reader thread feeds the :class:`Board`, and a :class:`Hub` fans changes out to pages.

The reader assigns itself every partition of ``incidents`` and ``incident_transitions`` (and of
``cluster_signals``, for the streams' watermarks: where event time stands) from the beginning
(no consumer group, nothing committed: the picture is rebuilt from the topics on each start), notes the
ends at start, and marks the board live once it has read up to them. Changes go to the hub on the event
loop; the hub batches them (every ``FLUSH_S``) and hands each page one JSON batch, encoded once per scope
(the city, or one county), so one page keeps up with hundreds of transitions a second. A page whose queue
fills up (it stopped reading) is told to reload its state instead of being fed without end.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from gridflow.web.board import Board, Change
from schemas.errors import GridflowError

FLUSH_S = 0.05
QUEUE_BATCHES = 400  # about 20 s of batches a page may fall behind before it is told to reload


@dataclass(eq=False)
class Client:
    """One page's subscription: its county (None: the city) and its queue of encoded batches."""

    county: str | None
    queue: asyncio.Queue[bytes] = field(default_factory=lambda: asyncio.Queue(QUEUE_BATCHES))


class Hub:
    """Collects changes on the event loop and sends them to every subscribed page in batches."""

    def __init__(self) -> None:
        self.clients: set[Client] = set()
        self.pending: list[Change] = []
        self.batches = 0
        self._wake = asyncio.Event()

    def add(self, changes: list[Change]) -> None:
        """Called on the loop (from the reader thread through ``call_soon_threadsafe``)."""
        self.pending.extend(changes)
        self._wake.set()

    def subscribe(self, county: str | None) -> Client:
        client = Client(county)
        self.clients.add(client)
        return client

    def unsubscribe(self, client: Client) -> None:
        self.clients.discard(client)

    def flush(self) -> None:
        if not self.pending:
            return
        changes, self.pending = self.pending, []
        self.batches += 1
        encoded: dict[str | None, bytes] = {}
        for client in list(self.clients):
            body = encoded.get(client.county)
            if body is None:
                mine = [c for c in changes if client.county in (None, c.county) or c.kind == "live"]
                body = encoded[client.county] = _batch(mine) if mine else b""
            if not body:
                continue
            try:
                client.queue.put_nowait(body)
            except asyncio.QueueFull:
                # The page stopped reading: drop its backlog and ask it to reload the state.
                while not client.queue.empty():
                    client.queue.get_nowait()
                client.queue.put_nowait(b"event: reload\ndata: {}\n\n")

    async def run(self) -> None:
        """Flush every ``FLUSH_S`` while changes come in."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            self.flush()
            await asyncio.sleep(FLUSH_S)


def _batch(changes: list[Change]) -> bytes:
    incidents = [c.body for c in changes if c.kind == "incident"]
    feed = [c.body for c in changes if c.kind == "escalation"]
    body: dict[str, Any] = {"incidents": incidents, "feed": feed}
    if any(c.kind == "live" for c in changes):
        body["live"] = True
    return b"event: batch\ndata: " + orjson.dumps(body) + b"\n\n"


async def sse(client: Client, first: dict[str, Any], hub: Hub) -> AsyncIterator[bytes]:
    """The event stream of one page: its starting state, then batches, with a heartbeat when idle."""
    try:
        yield b"event: state\ndata: " + orjson.dumps(first) + b"\n\n"
        while True:
            try:
                yield await asyncio.wait_for(client.queue.get(), timeout=15)
            except TimeoutError:
                yield b": keep-alive\n\n"
    finally:
        hub.unsubscribe(client)


class Reader:
    """The thread that reads the two topics into the board and hands the changes to the hub."""

    def __init__(
        self,
        board: Board,
        lock: threading.Lock,
        bootstrap: str,
        prefix: str,
        options: dict[str, Any],
        deliver: Any,
    ) -> None:
        self.board, self.lock = board, lock
        self.bootstrap, self.prefix, self.options = bootstrap, prefix, options
        self.deliver = deliver  # called with each list of changes, from this thread
        self.stop = threading.Event()
        self.error: str | None = None
        self.thread = threading.Thread(target=self._run, name="gridflow-web-reader", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=10)

    def _run(self) -> None:
        from kafka import KafkaConsumer, TopicPartition

        from schemas import decode
        from schemas.messages import Incident, Transition
        from schemas.topics import topics

        names = topics(self.prefix)
        consumer = KafkaConsumer(
            bootstrap_servers=self.bootstrap,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            **self.options,
        )
        try:
            specs = (names.incidents, names.incident_transitions, names.cluster_signals)
            parts = [TopicPartition(s.name, p) for s in specs for p in range(s.partitions)]
            consumer.assign(parts)
            consumer.seek_to_beginning()
            ends = {tp: end for tp, end in consumer.end_offsets(parts).items() if end > 0}
            if not ends:
                self._go_live()
            while not self.stop.is_set():
                batches = consumer.poll(timeout_ms=200, max_records=2000)
                changes: list[Change] = []
                with self.lock:
                    for tp, records in batches.items():
                        for record in records:
                            if record.value is None:
                                continue
                            with contextlib.suppress(GridflowError, ValueError, KeyError, TypeError):
                                # A bad output record is the dead letters' business, not the page's.
                                if tp.topic == names.cluster_signals.name:
                                    signal = orjson.loads(record.value)
                                    if signal.get("kind") == "watermark":
                                        self.board.on_watermark(datetime.fromisoformat(signal["at"]))
                                elif tp.topic == names.incidents.name:
                                    changes += self.board.on_incident(decode(record.value, Incident))
                                else:
                                    changes += self.board.on_transition(decode(record.value, Transition))
                if changes:
                    self.deliver(changes)
                if ends and not self.board.live:
                    ends = {tp: end for tp, end in ends.items() if consumer.position(tp) < end}
                    if not ends:
                        self._go_live()
        except Exception as exc:  # the page shows it; the server keeps serving what it has
            self.error = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            consumer.close()

    def _go_live(self) -> None:
        with self.lock:
            self.board.live = True
        self.deliver([Change("live", "", {"live": True})])
