"""Session fixtures: one real Kafka broker and one real ClickHouse for the whole test run.

Where they come from, in order:
1. ``GRIDFLOW_KAFKA_BOOTSTRAP`` / ``GRIDFLOW_CLICKHOUSE_URL`` when set (an existing cluster);
2. testcontainers, when a Docker engine answers;
3. the local services of ``gridflow services`` (Kafka from Maven jars, Debian's clickhouse-server), started
   once in a fresh state directory on free ports and stopped at the end.

Every test gets its own topics, consumer group and database, so tests never see each other's data.
In CI (``CI=true``) a missing server fails the run instead of skipping tests.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from gridflow.services.clickhouse import ClickHouseService
from gridflow.services.kafka import KafkaService
from gridflow.services.process import free_port
from infra.settings import ServiceSettings, local_clickhouse_binary

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@dataclass(frozen=True)
class Endpoints:
    kafka_bootstrap: str
    clickhouse_url: str | None  # a server URL without database; None when no server could be had


def _docker_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        result = subprocess.run(["docker", "info"], capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def _unavailable(what: str) -> None:
    message = f"{what} is not available: set the GRIDFLOW_* address, install it, or run `make test`"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def test_settings(tmp_path_factory: pytest.TempPathFactory) -> ServiceSettings:
    """Settings for test-owned local services: a fresh state dir, free ports, the shared jar cache."""
    return ServiceSettings(
        state_dir=tmp_path_factory.mktemp("gridflow-state"),
        kafka_port=free_port(),
        kafka_controller_port=free_port(),
        clickhouse_tcp_port=free_port(),
        clickhouse_http_port=free_port(),
        start_timeout_s=90,
    )


@pytest.fixture(scope="session")
def endpoints(test_settings: ServiceSettings) -> Iterator[Endpoints]:
    bootstrap = os.environ.get("GRIDFLOW_KAFKA_BOOTSTRAP")
    ch_url = os.environ.get("GRIDFLOW_CLICKHOUSE_URL")
    started: list[KafkaService | ClickHouseService] = []
    containers: list[object] = []
    if (bootstrap is None or ch_url is None) and _docker_answers():
        from testcontainers.clickhouse import ClickHouseContainer
        from testcontainers.kafka import KafkaContainer

        if bootstrap is None:
            kafka_container = KafkaContainer("apache/kafka:4.1.0").with_kraft()
            kafka_container.start()
            containers.append(kafka_container)
            bootstrap = kafka_container.get_bootstrap_server()
        if ch_url is None:
            ch_container = ClickHouseContainer("clickhouse/clickhouse-server:25.8")
            ch_container.start()
            containers.append(ch_container)
            host, port = ch_container.get_container_host_ip(), ch_container.get_exposed_port(9000)
            ch_url = f"clickhouse://{ch_container.username}:{ch_container.password}@{host}:{port}/default"
    if bootstrap is None and shutil.which("java") and shutil.which("mvn"):
        kafka = KafkaService(test_settings)
        kafka.up()
        started.append(kafka)
        bootstrap = kafka.bootstrap
    if ch_url is None and local_clickhouse_binary() is not None:
        clickhouse = ClickHouseService(test_settings)
        clickhouse.up()
        started.append(clickhouse)
        ch_url = f"clickhouse://default:@127.0.0.1:{test_settings.clickhouse_tcp_port}/default"
    try:
        if bootstrap is None:
            _unavailable("Kafka")
        assert bootstrap is not None
        yield Endpoints(kafka_bootstrap=bootstrap, clickhouse_url=ch_url)
    finally:
        for service in started:
            service.down()
        for container in containers:
            container.stop()  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def kafka_bootstrap(endpoints: Endpoints) -> str:
    return endpoints.kafka_bootstrap


@pytest.fixture(scope="session")
def clickhouse_url(endpoints: Endpoints) -> str:
    """The ClickHouse *server* (native protocol), as ``clickhouse://user:pass@host:port/default``."""
    if endpoints.clickhouse_url is None:
        _unavailable("clickhouse-server")
    assert endpoints.clickhouse_url is not None
    return endpoints.clickhouse_url


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


@pytest.fixture
def ch_database(clickhouse_url: str) -> Iterator[str]:
    """A fresh database on the server, dropped afterwards."""
    from clickhouse_driver import Client

    name = unique("gftest")
    client = Client.from_url(clickhouse_url)
    client.execute(f"CREATE DATABASE {name}")
    try:
        yield name
    finally:
        client.execute(f"DROP DATABASE IF EXISTS {name}")
        client.disconnect()


@pytest.fixture
def chdb_url(tmp_path: Path) -> str:
    """A fresh embedded (chdb) store. chdb allows one data directory per process at a time."""
    return f"chdb://{tmp_path / 'chdb'}"


@pytest.fixture
def topic_prefix() -> str:
    """A prefix that gives this test its own copy of every gridflow topic."""
    return unique("t") + "."


@pytest.fixture
def group_id() -> str:
    return unique("group")


@pytest.fixture
def kafka_topic(kafka_bootstrap: str) -> Iterator[str]:
    """A fresh topic with 4 partitions, deleted afterwards."""
    from kafka.admin import KafkaAdminClient, NewTopic

    name = unique("topic")
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    admin.create_topics([NewTopic(name, num_partitions=4, replication_factor=1)])
    try:
        yield name
    finally:
        admin.delete_topics([name])
        admin.close()
