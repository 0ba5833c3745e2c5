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
