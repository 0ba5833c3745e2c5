"""Web command-centre benchmark: 50 pages on the event stream while the topics carry 200 transitions/s.

Run against a running broker (``gridflow services up``; the address comes from the GRIDFLOW_* settings)::

    .venv/bin/python bench/bench_web.py [--clients 50 --rate 200 --seconds 30]

1. Starts ``gridflow web`` on a free port over fresh topics (a prefix of its own).
2. Opens ``--clients`` server-sent-event streams (``/api/events``, the city's scope: every change), as
   that many pages would, and waits until each has its starting state.
3. Publishes, at ``--rate`` transitions per second for ``--seconds``, what the stream worker would: each
   transition with the incident state it produced (one in ten an escalation to county, which also makes a
   CAP alert), stamping the send time.
4. Ceiling, in the same run: a bare kafka-python consumer reading the same two topics — the
   produce→consume latency any reader of Kafka pays before it can push anything.

Prints, for the pages: incident updates received per client, p50/p99/max push latency (from the send to
the moment a client has parsed the batch that holds it), and the ratio of the pages' p99 to the bare
consumer's p99. A page "keeps up" when every client received every update and the p99 stays bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
import orjson
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from web_factories import T0, escalation

from infra.settings import KafkaSettings, load
from infra.topics_admin import ensure_topics
from schemas import encode
from schemas.enums import Level
from schemas.messages import Incident, Transition
from schemas.topics import topics

COUNTIES = ["150802", "150821", "150822", "150823", "150824", "150825", "150826"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _messages(n: int) -> list[tuple[Incident, Transition]]:
    """``n`` (incident, transition) pairs: each incident moves one step; one in ten goes to county."""
    out: list[tuple[Incident, Transition]] = []
    for i in range(n):
        county = COUNTIES[i % len(COUNTIES)]
        level = Level.COUNTY if i % 10 == 0 else Level.TOWNSHIP
        incident, transition = escalation(
            county=county, name=f"bench-{i}", level=level, severity=4 if level == Level.COUNTY else 3
        )
        at = T0 + timedelta(seconds=i)
        incident = incident.model_copy(update={"updated_at": at, "opened_at": at})
        transition = transition.model_copy(update={"at": at})
        out.append((incident, transition))
    return out


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def _client(url: str, ready: asyncio.Event, got: dict[str, float], stop: asyncio.Event) -> None:
    async with httpx.AsyncClient(timeout=None) as client, client.stream("GET", f"{url}/api/events") as resp:
        event = ""
        async for line in resp.aiter_lines():
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                if event == "state":
                    ready.set()
                elif event == "batch":
                    now = time.perf_counter()
                    for row in orjson.loads(line[6:]).get("incidents", ()):
                        got.setdefault(row["id"], now)
            if stop.is_set():
                return


def _bare_consumer(bootstrap: str, prefix: str, got: dict[str, float], stop: threading.Event) -> None:
    names = topics(prefix)
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, auto_offset_reset="latest", enable_auto_commit=False
    )
    parts = [TopicPartition(names.incidents.name, p) for p in range(names.incidents.partitions)]
    consumer.assign(parts)
    consumer.seek_to_end()
    while not stop.is_set():
        for records in consumer.poll(timeout_ms=100).values():
            now = time.perf_counter()
            for r in records:
                got.setdefault(orjson.loads(r.value)["incident_id"], now)
    consumer.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    kafka = load(KafkaSettings)
    prefix = f"benchweb-{uuid.uuid4().hex[:8]}."
    ensure_topics(kafka.servers, list(topics(prefix)))
    port = _free_port()
    env = {**os.environ, "GRIDFLOW_KAFKA_BOOTSTRAP": kafka.servers, "GRIDFLOW_KAFKA_TOPIC_PREFIX": prefix}
    web = subprocess.Popen(
        [sys.executable, "-m", "gridflow.cli", "web", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/api/state", timeout=1).json()["live"]:
                    break
            except (httpx.HTTPError, ValueError):
                pass
            if time.monotonic() > deadline or web.poll() is not None:
                raise SystemExit("bench_web: gridflow web did not come up")
            await asyncio.sleep(0.1)
        n = int(args.rate * args.seconds)
        pairs = _messages(n)
        stop = asyncio.Event()
        readies = [asyncio.Event() for _ in range(args.clients)]
        received: list[dict[str, float]] = [{} for _ in range(args.clients)]
        tasks = [
            asyncio.create_task(_client(url, r, g, stop)) for r, g in zip(readies, received, strict=True)
        ]
        await asyncio.gather(*(r.wait() for r in readies))
        bare: dict[str, float] = {}
        bare_stop = threading.Event()
        bare_thread = threading.Thread(target=_bare_consumer, args=(kafka.servers, prefix, bare, bare_stop))
        bare_thread.start()
        await asyncio.sleep(2)  # the bare consumer is at the end of its partitions
        names = topics(prefix)
        producer = KafkaProducer(bootstrap_servers=kafka.servers, acks=1, linger_ms=0)
        sent: dict[str, float] = {}

        def produce() -> None:
            start = time.perf_counter()
            for i, (incident, transition) in enumerate(pairs):
                wait = start + i / args.rate - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
                key = str(incident.incident_id).encode()
                sent[str(incident.incident_id)] = time.perf_counter()
                producer.send(names.incident_transitions.name, key=key, value=encode(transition))
                producer.send(names.incidents.name, key=key, value=encode(incident))
            producer.flush()

        await asyncio.to_thread(produce)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and min(len(g) for g in received) < n:
            await asyncio.sleep(0.2)
        stop.set()
        bare_stop.set()
        bare_thread.join()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        producer.close()
    finally:
        web.terminate()
        web.wait(timeout=20)

    latencies = [(g[i] - sent[i]) * 1000 for g in received for i in g if i in sent]
    bare_lat = [(bare[i] - sent[i]) * 1000 for i in bare if i in sent]
    counts = [sum(1 for i in g if i in sent) for g in received]
    p99, bare_p99 = _percentile(latencies, 0.99), _percentile(bare_lat, 0.99)
    print(f"bench_web: {args.clients} clients, {n} transitions at {args.rate:.0f}/s for {args.seconds:.0f} s")
    print(f"  received per client: min {min(counts)}, max {max(counts)} of {n}")
    print(
        f"  push latency (send → parsed by the page): p50 {_percentile(latencies, 0.5):.0f} ms, "
        f"p99 {p99:.0f} ms, max {max(latencies):.0f} ms"
    )
    print(
        f"  ceiling, bare Kafka consumer (send → polled): p50 {_percentile(bare_lat, 0.5):.0f} ms, "
        f"p99 {bare_p99:.0f} ms ({len(bare_lat)} of {n})"
    )
    print(f"  ratio: pages' p99 / bare consumer's p99 = {p99 / bare_p99:.1f}x" if bare_p99 > 0 else "")


if __name__ == "__main__":
    asyncio.run(main())
