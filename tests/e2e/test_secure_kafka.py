"""The pipeline end to end on the secured broker (`gridflow services up --secure`): SASL_SSL, SCRAM, ACLs.

A broker of the test's own with TLS (a local CA made by openssl) and SCRAM-SHA-512 principals; every process
connects as its own principal through the GRIDFLOW_KAFKA_* settings only: ``gridflow init`` as ``admin``
(topics + ACLs), ``simulate`` as ``publisher``, the faust/aiokafka worker as ``worker``, the sink as ``sink``.
The delivery oracle then finds every acknowledged event in ClickHouse, once. A client without credentials
(PLAINTEXT, TLS only) or with a wrong password is refused, and the publisher's principal may not read
``incident_transitions``; nobody's password is on a command line or in a log.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from kafka import KafkaConsumer, TopicPartition
from kafka.errors import TopicAuthorizationFailedError
from sink_harness import GRIDFLOW, TEST_PII_KEY, delivery, stop, wait_until

from gridflow.services.kafka import KafkaService
from gridflow.services.process import free_port
from infra.probe import kafka_answers
from infra.settings import ServiceSettings
from schemas.topics import topics
from sinks import connect, with_database

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def secure_kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaService]:
    settings = ServiceSettings(
        state_dir=tmp_path_factory.mktemp("secure-kafka"),
        kafka_port=free_port(),
        kafka_controller_port=free_port(),
        start_timeout_s=120,
    )
    service = KafkaService(settings, secure=True)
    service.up()
    try:
        yield service
    finally:
        service.down()


def _options(env: dict[str, str]) -> dict[str, object]:
    return {
        "security_protocol": env["GRIDFLOW_KAFKA_SECURITY_PROTOCOL"],
        "sasl_mechanism": env["GRIDFLOW_KAFKA_SASL_MECHANISM"],
        "sasl_plain_username": env["GRIDFLOW_KAFKA_SASL_USERNAME"],
        "sasl_plain_password": env["GRIDFLOW_KAFKA_SASL_PASSWORD"],
        "ssl_cafile": env["GRIDFLOW_KAFKA_SSL_CAFILE"],
    }


def test_the_pipeline_runs_end_to_end_on_the_secured_broker(
    secure_kafka: KafkaService, clickhouse_url: str, ch_database: str, topic_prefix: str, tmp_path: Path
) -> None:
    assert secure_kafka.secure is not None
    material = secure_kafka.secure
    url = with_database(clickhouse_url, ch_database)
    base = {k: v for k, v in os.environ.items() if not k.startswith("GRIDFLOW_")}
    base.update(
        GRIDFLOW_KAFKA_TOPIC_PREFIX=topic_prefix,
        GRIDFLOW_CLICKHOUSE_URL=url,
        GRIDFLOW_STATE_DIR=str(tmp_path / "state"),
        GRIDFLOW_PII_KEY=TEST_PII_KEY,
    )

    def env(principal: str) -> dict[str, str]:
        return {**base, **material.env(principal)}

    def run(principal: str, *args: str) -> str:
        result = subprocess.run(
            [*GRIDFLOW, *args], env=env(principal), capture_output=True, text=True, timeout=300, check=False
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout + result.stderr

    def start(principal: str, *args: str) -> subprocess.Popen[bytes]:
        log = (tmp_path / f"{args[0]}.log").open("wb")
        return subprocess.Popen(
            [*GRIDFLOW, *args],
            env=env(principal),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    assert "ACLs granted" in run("admin", "init")
    bootstrap = secure_kafka.bootstrap
    names = topics(topic_prefix)
    ledger = tmp_path / "ledger.jsonl"
    sink = start("sink", "sink", "--batch-seconds", "0.5")
    worker = start("worker", "worker")
    try:
        run(
            "publisher",
            "simulate",
            "--seed",
            "3",
            "--duration",
            "1h",
            "--scale",
            "1",
            "--ledger",
            str(ledger),
        )
        with connect(url) as writer:

            def landed() -> bool:
                verdict = delivery(ledger, writer)
                transitions = int(
                    str(writer.query(f"SELECT count() FROM {ch_database}.transitions").scalar())
                )
                return verdict.lost == 0 and transitions > 0

            wait_until(
                landed, 240, "every event and some transitions to land through the secured broker", sink
            )
            verdict = delivery(ledger, writer)
            assert verdict.expected > 100 and (verdict.lost, verdict.duplicated) == (0, 0)
        for proc in (sink, worker):
            assert proc.poll() is None
            cmdline = Path(f"/proc/{proc.pid}/cmdline").read_bytes()
            assert all(p.encode() not in cmdline for p in material.passwords().values())
    finally:
        stop(sink)
        stop(worker)

    # Refused: no credentials (PLAINTEXT, or TLS alone), and a wrong password.
    ca = str(material.ca)
    assert kafka_answers(bootstrap, 5.0, _options(env("sink")))
    assert not kafka_answers(bootstrap, 5.0, {})
    assert not kafka_answers(bootstrap, 5.0, {"security_protocol": "SSL", "ssl_cafile": ca})
    assert not kafka_answers(bootstrap, 5.0, {**_options(env("sink")), "sasl_plain_password": "not-it"})

    # The publisher's principal writes the intake but may not read the transitions the worker wrote.
    transitions = TopicPartition(names.incident_transitions.name, 0)
    for principal, allowed in (("command", True), ("publisher", False)):
        consumer = KafkaConsumer(
            bootstrap_servers=bootstrap, enable_auto_commit=False, **_options(env(principal))
        )
        try:
            if allowed:
                assert consumer.end_offsets([transitions])[transitions] >= 0
            else:
                with pytest.raises(TopicAuthorizationFailedError):
                    consumer.end_offsets([transitions])
        finally:
            consumer.close()

    # No password of any principal in a log: the broker's, the pipeline's.
    logs = [*tmp_path.glob("*.log"), *(material.dir.parent / "log").glob("*")]
    for log in logs:
        text = log.read_text("utf-8", "replace")
        assert all(p not in text for p in material.passwords().values()), log
