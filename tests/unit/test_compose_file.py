"""docker-compose.yml structure. The compose plugin is not installed on the development and CI machines, so
the file is parsed and its structure checked here in place of `docker compose config -q`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _compose() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert isinstance(data, dict)
    return data


def test_compose_has_kraft_kafka_and_current_clickhouse_with_health_checks() -> None:
    services = _compose()["services"]

    assert services["kafka"]["image"].startswith("apache/kafka:4")
    assert services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert services["clickhouse"]["image"].startswith("clickhouse/clickhouse-server:")
    for name in ("kafka", "clickhouse"):
        assert services[name]["healthcheck"]["test"], name


def test_compose_pipeline_services_point_at_the_compose_servers() -> None:
    services = _compose()["services"]

    for name in ("init", "worker", "sink"):
        env = services[name]["environment"]
        assert env["GRIDFLOW_KAFKA_BOOTSTRAP"] == "kafka:9092"
        assert env["GRIDFLOW_CLICKHOUSE_URL"].startswith("clickhouse://")
        assert services[name]["build"] == "."
    for volume in services["clickhouse"].get("volumes", []):
        assert (ROOT / volume.split(":")[0]).exists(), volume


def test_compose_cluster_profile_has_three_voting_brokers_and_two_shards() -> None:
    services = _compose()["services"]
    brokers = [services[f"kafka-{i}"] for i in (1, 2, 3)]
    for i, broker in enumerate(brokers, start=1):
        env = broker["environment"]
        assert broker["profiles"] == ["cluster"]
        assert env["KAFKA_NODE_ID"] == i
        assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == "1@kafka-1:9093,2@kafka-2:9093,3@kafka-3:9093"
        assert (env["KAFKA_DEFAULT_REPLICATION_FACTOR"], env["KAFKA_MIN_INSYNC_REPLICAS"]) == (3, 2)
        assert env["KAFKA_ADVERTISED_LISTENERS"] == f"PLAINTEXT://kafka-{i}:9092"
    shards = [services[f"clickhouse-shard-{i}"] for i in (1, 2)]
    config = (ROOT / "docker" / "clickhouse-shards.xml").read_text()
    for i, shard in enumerate(shards, start=1):
        assert shard["profiles"] == ["cluster"]
        assert (ROOT / shard["volumes"][0].split(":")[0]).exists()
        assert f"<host>clickhouse-shard-{i}</host>" in config


def test_compose_cluster_pipeline_writes_to_the_shards_through_their_cluster() -> None:
    services = _compose()["services"]
    config = (ROOT / "docker" / "clickhouse-shards.xml").read_text()
    for name in ("init-cluster", "worker-cluster", "sink-cluster"):
        env = services[name]["environment"]
        assert services[name]["profiles"] == ["cluster"]
        assert env["GRIDFLOW_KAFKA_BOOTSTRAP"] == "kafka-1:9092,kafka-2:9092,kafka-3:9092"
        assert env["GRIDFLOW_CLICKHOUSE_URL"].startswith("clickhouse://gridflow:gridflow@clickhouse-shard-1:")
        # The cluster `gridflow init` shards over is the one the shards' config defines.
        assert f"<{env['GRIDFLOW_CLICKHOUSE_CLUSTER']}>" in config
    assert "<user>gridflow</user>" in config  # the shards reach each other as the compose user


def test_compose_sink_logs_in_as_the_writer_the_roles_script_creates() -> None:
    services = _compose()["services"]
    sink_url = services["sink"]["environment"]["GRIDFLOW_CLICKHOUSE_URL"]
    password = "${CLICKHOUSE_GRIDFLOW_WRITER_PASSWORD"

    assert sink_url.startswith(f"clickhouse://gridflow_writer:{password}")
    assert services["clickhouse"]["environment"]["CLICKHOUSE_GRIDFLOW_WRITER_PASSWORD"].startswith(password)
    assert services["init"]["environment"]["GRIDFLOW_CLICKHOUSE_URL"].startswith("clickhouse://gridflow:")
    script = (ROOT / "docker" / "clickhouse-roles.sh").read_text()
    assert "CREATE USER IF NOT EXISTS gridflow_writer" in script
    assert "GRANT SELECT, INSERT ON gridflow.* TO gridflow_writer;" in script
