"""The broker configs `gridflow services up --brokers N` writes: ports, quorum and replication per size."""

from __future__ import annotations

from pathlib import Path

import pytest

from gridflow.services.kafka import KafkaCluster, KafkaService
from infra.settings import ServiceSettings


def _props(service: KafkaService) -> dict[str, str]:
    text = service._write_config().read_text()
    return dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))


def _settings(tmp_path: Path) -> ServiceSettings:
    return ServiceSettings(state_dir=tmp_path, kafka_port=21092, kafka_controller_port=21093)


def test_one_broker_keeps_one_replica(tmp_path: Path) -> None:
    props = _props(KafkaService(_settings(tmp_path)))
    assert props["controller.quorum.voters"] == "1@127.0.0.1:21093"
    assert (props["default.replication.factor"], props["min.insync.replicas"]) == ("1", "1")
    assert props["log.dirs"] == str(tmp_path / "kafka" / "data")


@pytest.mark.parametrize(("brokers", "replicas", "min_isr"), [(2, "2", "1"), (3, "3", "2"), (5, "3", "2")])
def test_a_cluster_replicates_min_3_and_waits_for_2_of_3(
    tmp_path: Path, brokers: int, replicas: str, min_isr: str
) -> None:
    cluster = KafkaCluster(_settings(tmp_path), brokers)
    props = [_props(member) for member in cluster.members]
    assert [p["node.id"] for p in props] == [str(i + 1) for i in range(brokers)]
    ports = {p["listeners"] for p in props}
    assert len(ports) == brokers  # every node on its own listener and controller port
    voters = ",".join(f"{i + 1}@127.0.0.1:{21093 + 2 * i}" for i in range(brokers))
    assert all(p["controller.quorum.voters"] == voters for p in props)
    assert all(p["default.replication.factor"] == replicas for p in props)
    assert all(p["offsets.topic.replication.factor"] == replicas for p in props)
    assert all(p["min.insync.replicas"] == min_isr for p in props)
    assert len({p["log.dirs"] for p in props}) == brokers
    assert cluster.bootstrap == ",".join(f"127.0.0.1:{21092 + 2 * i}" for i in range(brokers))
