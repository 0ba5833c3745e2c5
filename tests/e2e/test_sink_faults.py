"""Fault tests of the ClickHouse sink, judged by the producer's ledger of acknowledged event ids.

- crash: the sink is SIGKILLed at least 10 times mid-batch while a scenario streams: 0 lost, 0 duplicates
  visible to analysts;
- negative control: the same kills with ``--no-dedup`` leave duplicates the oracle reports (so it can fail);
- outage: a clickhouse-server of this test's own is stopped for 30 s mid-stream and restarted: 0 lost,
  0 duplicates, the sink catches up, and the outage dead-letters nothing.
"""

from __future__ import annotations

import random
import signal
import subprocess
import time
from pathlib import Path

import own_servers
import pytest
from sink_harness import INTAKE_TABLES, SinkPipeline, delivery, landed_rows, stop, wait_until

from gridflow.services.clickhouse import ClickHouseService
from sinks import with_database
from sinks.nodedup import SUFFIX, nodedup_tables
from sinks.writer import Writer

pytestmark = pytest.mark.slow

own_clickhouse = own_servers.own_clickhouse

# A 2 h slice of a normal day at 5x city scale: ~3,500 events plus ticks, streamed at a bounded rate so
# that the kills (a restart costs ~4 s here, far more on a loaded box) land while it is published or while
# the backlog it left drains. Small batches keep a restarted sink busy with insert/commit cycles through the
# backlog that built up while it was down.
SCENARIO = ("--scenario", "normal_day", "--seed", "5", "--duration", "2h", "--scale", "5")
MIN_KILLS = 10
BATCH = ("--batch-rows", "50", "--batch-seconds", "0.2")


def _stream(pipeline: SinkPipeline, ledger: Path, rate: int) -> subprocess.Popen[bytes]:
    return pipeline.start(
        "simulate", *SCENARIO, "--rate", str(rate), "--ledger", str(ledger), name="simulate"
    )


def _kill_mid_batch(
    pipeline: SinkPipeline,
    producer: subprocess.Popen[bytes],
    dedup: bool,
    kills: int,
    until_duplicates: bool = False,
) -> list[int]:
    """SIGKILL fresh sinks right after they land something new; returns the rows landed at each kill.

    With ``until_duplicates`` it goes on (up to 2x ``kills``) until a kill has left a redelivered row.
    """
    extra = () if dedup else ("--no-dedup",)
    rng = random.Random(7)
    at_kill: list[int] = []
    with pipeline.writer() as writer:
        if not dedup:
            nodedup_tables(
                writer
            )  # what the sink would create: here so progress can be polled from the start
        while len(at_kill) < kills or (until_duplicates and len(at_kill) < 2 * kills and _no_dups(writer)):
            before = landed_rows(writer, dedup) if at_kill else 0
            # One stable member name: each restart takes the killed member's partitions back at once.
            sink = pipeline.start_sink(*BATCH, *extra, "--instance", "kill-test")
            # Once the producer is done, a backlog can still be landing: the kills go on through it, as
            # long as the new sink has something left to land (on a loaded box the restarts are slow, and
            # most kills fall after the last publish).
            wait_until(
                lambda: (
                    landed_rows(writer, dedup) > before  # noqa: B023
                    or (producer.poll() is not None and pipeline.sink_lag() == 0)
                ),
                60,
                "the sink to land a batch",
                sink,
            )
            if landed_rows(writer, dedup) == before:
                stop(sink)
                break  # the stream is over and landed: no kill can be mid-stream any more
            # Jitter spreads the kills over every phase of a batch: decode, insert per table, commit.
            time.sleep(rng.uniform(0.0, 0.15))
            at_kill.append(landed_rows(writer, dedup))
            stop(sink, signal.SIGKILL)
    return at_kill


def _no_dups(writer: Writer) -> bool:
    """No event id twice in the negative control's plain tables."""
    db = writer.database
    parts = " UNION ALL ".join(f"SELECT event_id FROM {db}.{t}{SUFFIX}" for t in INTAKE_TABLES)
    row = writer.query(f"SELECT count(), uniqExact(event_id) FROM ({parts})").rows[0]
    return row[0] == row[1]


def _finish(pipeline: SinkPipeline, producer: subprocess.Popen[bytes], dedup: bool) -> None:
    """Let the producer finish and one last sink land the rest, then stop it cleanly."""
    assert producer.wait(120) == 0
    sink = pipeline.start_sink(
        "--batch-rows",
        "400",
        "--batch-seconds",
        "0.3",
        "--instance",
        "kill-test",
        *(() if dedup else ("--no-dedup",)),
    )
    try:
        wait_until(lambda: pipeline.sink_lag() == 0, 90, "the restarted sink to catch up", sink)
    finally:
        stop(sink)
    assert sink.returncode == 0


@pytest.mark.parametrize("dedup", [True, False], ids=["dedup", "negative-control-no-dedup"])
def test_sigkill_mid_batch_loses_nothing_and_shows_no_duplicates(
    kafka_bootstrap: str,
    clickhouse_url: str,
    ch_database: str,
    topic_prefix: str,
    tmp_path: Path,
    dedup: bool,
) -> None:
    pipeline = SinkPipeline(
        kafka_bootstrap, topic_prefix, tmp_path, with_database(clickhouse_url, ch_database)
    )
    pipeline.cli("init")
    ledger = tmp_path / "ledger.jsonl"
    producer = _stream(pipeline, ledger, rate=100)
    try:
        at_kill = _kill_mid_batch(pipeline, producer, dedup, MIN_KILLS, until_duplicates=not dedup)
        _finish(pipeline, producer, dedup)
    finally:
        stop(producer)
    with pipeline.writer() as writer:
        oracle = delivery(ledger, writer, dedup=dedup)
    # Every kill happened mid-stream: something landed, and not yet everything.
    assert len([n for n in at_kill if 0 < n < oracle.expected]) >= MIN_KILLS, (at_kill, oracle)
    assert oracle.lost == 0, oracle
    if dedup:
        assert oracle.duplicated == 0, oracle
    else:
        # The oracle can fail: without the dedup layer the kills' redeliveries are visible.
        assert oracle.duplicated > 0, oracle


def test_clickhouse_outage_of_30s_mid_stream(
    kafka_bootstrap: str, topic_prefix: str, tmp_path: Path, own_clickhouse: ClickHouseService
) -> None:
    service = own_clickhouse
    service.up()
    try:
        url = f"clickhouse://default:@127.0.0.1:{service.settings.clickhouse_tcp_port}/gridflow?connect_timeout=1"
        pipeline = SinkPipeline(kafka_bootstrap, topic_prefix, tmp_path, url)
        pipeline.cli("init")
        ledger = tmp_path / "ledger.jsonl"
        producer = _stream(pipeline, ledger, rate=400)
        sink = pipeline.start_sink("--batch-rows", "1000", "--batch-seconds", "0.5")
        try:
            with pipeline.writer() as writer:
                wait_until(lambda: landed_rows(writer) > 0, 60, "the sink to land a first batch", sink)
            service.down()
            assert producer.poll() is None, "the scenario finished before the outage began"
            time.sleep(30)  # the outage itself: its length is the point of the test
            assert sink.poll() is None, "the sink died during the outage"
            service.up()
            assert producer.wait(120) == 0
            wait_until(lambda: pipeline.sink_lag() == 0, 90, "the sink to catch up after the outage", sink)
        finally:
            stop(sink)
            stop(producer)
        assert sink.returncode == 0
        log = b"".join(p.read_bytes() for p in tmp_path.glob("sink-*.log")).decode()
        assert "retrying" in log, "the sink never noticed the outage"
        with pipeline.writer() as writer:
            oracle = delivery(ledger, writer)
            letters = writer.query("SELECT count() FROM gridflow.dead_letters").scalar()
        assert (oracle.lost, oracle.duplicated) == (0, 0), oracle
        assert letters == 0
    finally:
        service.down()
