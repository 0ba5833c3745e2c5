"""`gridflow services up|down|status|fetch`: the local Kafka broker and clickhouse-server together.

``up --brokers N`` starts a local KRaft cluster of N nodes instead of one broker, and ``up --shards N`` N
clickhouse-servers that form cluster ``gridflow_shards`` (``GRIDFLOW_CLICKHOUSE_CLUSTER=gridflow_shards``
then makes ``gridflow init`` put Distributed tables over them). Both counts are remembered in the state
folder, so ``down`` and ``status`` address the same processes.

A service whose address is configured (``GRIDFLOW_KAFKA_BOOTSTRAP``, ``GRIDFLOW_CLICKHOUSE_URL``) is not
started: it is only checked, so the same commands work against an existing cluster.
"""

from __future__ import annotations

from pathlib import Path

from gridflow.services.clickhouse import SHARD_CLUSTER, shard_services
from gridflow.services.kafka import KafkaCluster, KafkaService
from infra.errors import GridflowError, ServiceError
from infra.probe import check_clickhouse, check_kafka
from infra.settings import ClickHouseSettings, KafkaSettings, ServiceSettings, load


class Services:
    """Both local services, honouring configured external addresses."""

    def __init__(
        self,
        services: ServiceSettings | None = None,
        kafka: KafkaSettings | None = None,
        clickhouse: ClickHouseSettings | None = None,
        brokers: int | None = None,
        secure: bool = False,
        shards: int | None = None,
    ) -> None:
        self.settings = services or load(ServiceSettings)
        self.kafka_settings = kafka or load(KafkaSettings)
        self.clickhouse_settings = clickhouse or load(ClickHouseSettings)
        self._brokers_file = self.settings.state / "kafka-brokers"
        self._shards_file = self.settings.state / "clickhouse-shards"
        self.brokers = (
            1 if secure else brokers or _recorded(self._brokers_file)
        )  # the secured broker: one node
        self.running_shards = _recorded(self._shards_file)
        self.shards = shards or self.running_shards
        self.kafka: KafkaService | KafkaCluster = (
            KafkaService(self.settings, secure=secure)
            if self.brokers == 1
            else KafkaCluster(self.settings, self.brokers)
        )
        self.clickhouse_servers = shard_services(self.settings, self.shards)
        self.clickhouse = self.clickhouse_servers[0]

    def fetch(self) -> list[str]:
        if self.kafka_settings.bootstrap:
            return [f"kafka: using {self.kafka_settings.bootstrap}; nothing to fetch"]
        return [f"kafka jars cached in {self.kafka.fetch()}"]

    def up(self) -> list[str]:
        lines = []
        started_kafka = False
        if self.clickhouse_settings.url is None:
            self._check_clickhouse_ports()  # before Kafka starts: a busy port then leaves nothing running
        if self.kafka_settings.bootstrap:
            check_kafka(self.kafka_settings.bootstrap, 5.0, self.kafka_settings.client_options())
            lines.append(
                f"kafka: using {self.kafka_settings.bootstrap} (GRIDFLOW_KAFKA_BOOTSTRAP); started nothing"
            )
        else:
            started_kafka = not self._kafka_running()
            if self.brokers > 1:
                self._brokers_file.parent.mkdir(parents=True, exist_ok=True)
                self._brokers_file.write_text(f"{self.brokers}\n")
            lines.append(self.kafka.up())
        url = self.clickhouse_settings.url
        try:
            if url is not None:
                check_clickhouse(url.get_secret_value(), 5.0)
                lines.append("clickhouse: using GRIDFLOW_CLICKHOUSE_URL; started nothing")
            else:
                lines += self._clickhouse_up()
        except GridflowError:
            if started_kafka:
                self.kafka.down()  # all or nothing: do not leave behind the broker this call started
            raise
        return lines

    def _check_clickhouse_ports(self) -> None:
        if self.clickhouse.process.pid() is not None and self.shards != self.running_shards:
            raise ServiceError(
                f"--shards {self.shards}: clickhouse-server already runs as {self.running_shards} "
                "shard(s); run `gridflow services down` first"
            )
        for server in self.clickhouse_servers:
            if server.process.pid() is None:
                server.check_ports()

    def _clickhouse_up(self) -> list[str]:
        lines = [server.up() for server in self.clickhouse_servers]
        if self.shards > 1:
            self._shards_file.parent.mkdir(parents=True, exist_ok=True)
            self._shards_file.write_text(f"{self.shards}\n")
            lines.append(
                f"clickhouse: {self.shards} shards as cluster {SHARD_CLUSTER}; clients: "
                f"GRIDFLOW_CLICKHOUSE_CLUSTER={SHARD_CLUSTER} (init then puts Distributed tables over them)"
            )
        return lines

    def down(self) -> list[str]:
        lines = [self.kafka.down(), *(server.down() for server in self.clickhouse_servers)]
        self._brokers_file.unlink(missing_ok=True)
        self._shards_file.unlink(missing_ok=True)
        return lines

    def _kafka_running(self) -> bool:
        members = self.kafka.members if isinstance(self.kafka, KafkaCluster) else [self.kafka]
        return all(member.process.pid() is not None for member in members)

    def status(self) -> list[str]:
        lines = []
        if self.kafka_settings.bootstrap:
            lines.append(f"kafka: external at {self.kafka_settings.bootstrap}")
        else:
            lines.append(self.kafka.status())
        if self.clickhouse_settings.url is not None:
            lines.append("clickhouse: external (GRIDFLOW_CLICKHOUSE_URL)")
        else:
            lines += [server.status() for server in self.clickhouse_servers]
        return lines


def _recorded(count_file: Path) -> int:
    """A process count ``up`` remembered (1 when none was)."""
    try:
        return max(1, int(count_file.read_text().strip()))
    except (FileNotFoundError, ValueError):
        return 1
