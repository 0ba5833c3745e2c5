"""The console command centre after a restart: old escalations are not announced again, new ones are."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from kafka import KafkaProducer
from pipeline_harness import wait_until
from web_factories import T0, escalation

from infra.topics_admin import ensure_topics
from schemas import encode
from schemas.messages import Incident, Transition
from schemas.topics import topics


def _publish(bootstrap: str, prefix: str, *messages: Incident | Transition) -> None:
    names = topics(prefix)
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    for m in messages:
        topic = names.incidents.name if isinstance(m, Incident) else names.incident_transitions.name
        producer.send(topic, key=str(m.incident_id).encode(), value=encode(m))
    producer.flush()
    producer.close()


@contextmanager
def _command_center(bootstrap: str, prefix: str, alerts: Path, out: Path) -> Iterator[Path]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDFLOW_")}
    env |= {"GRIDFLOW_KAFKA_BOOTSTRAP": bootstrap, "GRIDFLOW_KAFKA_TOPIC_PREFIX": prefix}
    with out.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gridflow.cli", "command-center", "--alerts", str(alerts), "--no-view"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            yield out
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def test_a_restart_announces_only_new_escalations(
    kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    ensure_topics(kafka_bootstrap, list(topics(topic_prefix)))
    alerts = tmp_path / "cap"
    old, to_county = escalation(county="150822", name="old")
    first_log = tmp_path / "first.log"
    with _command_center(kafka_bootstrap, topic_prefix, alerts, first_log):
        wait_until(lambda: "caught up" in first_log.read_text(), 60, "the first run to read the topics")
        _publish(kafka_bootstrap, topic_prefix, old, to_county)
        wait_until(
            lambda: f"gridflow-{old.incident_id}-1.xml" in first_log.read_text(), 60, "the first alert"
        )
    assert (alerts / f"gridflow-{old.incident_id}-1.xml").exists()

    second_log = tmp_path / "second.log"
    with _command_center(kafka_bootstrap, topic_prefix, alerts, second_log):
        wait_until(lambda: "caught up" in second_log.read_text(), 60, "the restart to read the topics")
        new, to_city = escalation(county="150822", name="new", at=T0 + timedelta(hours=1))
        _publish(kafka_bootstrap, topic_prefix, new, to_city)
        wait_until(lambda: f"gridflow-{new.incident_id}-1.xml" in second_log.read_text(), 60, "the new alert")
    assert str(old.incident_id) not in second_log.read_text()  # history: not announced again
    assert "caught up (1 alerts on file)" in second_log.read_text()
