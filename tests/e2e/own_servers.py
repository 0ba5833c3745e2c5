"""Fixtures of the fault tests: servers of a test's own, which it may stop, freeze or kill.

The session's broker and clickhouse-server (tests/conftest.py) are shared by every test, so a test that
kills or freezes a server starts its own on free ports and a private state folder, and stops it after.
A test module takes a fixture by naming it at module level (``own_kafka = own_servers.own_kafka``).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from gridflow.services.clickhouse import ClickHouseService
from gridflow.services.kafka import KafkaCluster, KafkaService
from gridflow.services.process import free_port
from infra.settings import ServiceSettings, local_clickhouse_binary


def own_settings(state: Path) -> ServiceSettings:
    return ServiceSettings(
        state_dir=state,
        kafka_port=free_port(),
        kafka_controller_port=free_port(),
        clickhouse_tcp_port=free_port(),
        clickhouse_http_port=free_port(),
        start_timeout_s=120,
    )


@pytest.fixture
def own_clickhouse(tmp_path: Path) -> Iterator[ClickHouseService]:
    """A clickhouse-server of this test's own (not started: the test calls ``up``); stopped afterwards."""
    if local_clickhouse_binary() is None:
        pytest.skip("the test stops a clickhouse-server of its own: none is installed")
    service = ClickHouseService(own_settings(tmp_path / "own-clickhouse"))
    try:
        yield service
    finally:
        service.down()


@pytest.fixture
def own_shards(tmp_path: Path) -> Iterator[list[ClickHouseService]]:
    """Two clickhouse-servers of this test's own, started, as cluster ``gridflow_shards``; stopped after."""
    if local_clickhouse_binary() is None:
        pytest.skip("the test shards a warehouse over two clickhouse-servers: none is installed")
    settings = [own_settings(tmp_path / f"own-shard-{n}") for n in (1, 2)]
    ports = [s.clickhouse_tcp_port for s in settings]
    shards = [ClickHouseService(s, shard_ports=ports) for s in settings]
    try:
        for shard in shards:
            shard.up()
        yield shards
    finally:
        for shard in shards:
            shard.down()


@pytest.fixture
def own_kafka(tmp_path: Path) -> Iterator[KafkaService]:
    """A single-node broker of this test's own, started; stopped afterwards."""
    if not (shutil.which("java") and shutil.which("mvn")):
        pytest.skip("the test kills a broker of its own: Java and Maven are needed to run one")
    service = KafkaService(own_settings(tmp_path / "own-kafka"))
    service.up()
    try:
        yield service
    finally:
        service.down()


@pytest.fixture
def own_kafka_not_started(tmp_path: Path) -> Iterator[KafkaService]:
    """A single-node broker of this test's own, on reserved ports but not started; stopped afterwards."""
    if not (shutil.which("java") and shutil.which("mvn")):
        pytest.skip("the test starts a broker of its own late: Java and Maven are needed to run one")
    service = KafkaService(own_settings(tmp_path / "own-kafka-later"))
    try:
        yield service
    finally:
        service.down()


@pytest.fixture
def own_cluster(tmp_path: Path) -> Iterator[KafkaCluster]:
    """A three-node KRaft cluster of this test's own, started; stopped afterwards."""
    if not (shutil.which("java") and shutil.which("mvn")):
        pytest.skip("the test kills a node of a cluster of its own: Java and Maven are needed to run one")
    cluster = KafkaCluster(own_settings(tmp_path / "own-cluster"), brokers=3)
    cluster.up()
    try:
        yield cluster
    finally:
        cluster.down()
