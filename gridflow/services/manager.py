"""`gridflow services up|down|status|fetch`: the local Kafka broker and clickhouse-server together.

``up --brokers N`` starts a local KRaft cluster of N nodes instead of one broker; the count is remembered in
the state folder, so ``down`` and ``status`` address the same nodes.

A service whose address is configured (``GRIDFLOW_KAFKA_BOOTSTRAP``, ``GRIDFLOW_CLICKHOUSE_URL``) is not
started: it is only checked, so the same commands work against an existing cluster.
"""

from __future__ import annotations

from gridflow.services.clickhouse import ClickHouseService
from gridflow.services.kafka import KafkaCluster, KafkaService
from infra.errors import GridflowError
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
    ) -> None:
        self.settings = services or load(ServiceSettings)
        self.kafka_settings = kafka or load(KafkaSettings)
        self.clickhouse_settings = clickhouse or load(ClickHouseSettings)
        self._brokers_file = self.settings.state / "kafka-brokers"
        self.brokers = 1 if secure else brokers or self._recorded_brokers()  # the secured broker: one node
        self.kafka: KafkaService | KafkaCluster = (
            KafkaService(self.settings, secure=secure)
            if self.brokers == 1
            else KafkaCluster(self.settings, self.brokers)
        )
        self.clickhouse = ClickHouseService(self.settings)

    def fetch(self) -> list[str]:
        if self.kafka_settings.bootstrap:
            return [f"kafka: using {self.kafka_settings.bootstrap}; nothing to fetch"]
        return [f"kafka jars cached in {self.kafka.fetch()}"]

    def up(self) -> list[str]:
        lines = []
        started_kafka = False
        if self.kafka_settings.bootstrap:
            check_kafka(self.kafka_settings.bootstrap, 5.0, self.kafka_settings.client_options())
            lines.append(
                f"kafka: using {self.kafka_settings.bootstrap} (GRIDFLOW_KAFKA_BOOTSTRAP); started nothing"
            )
        else:
            if self.clickhouse_settings.url is None and self.clickhouse.process.pid() is None:
                self.clickhouse.check_ports()  # before Kafka starts: a busy port then leaves nothing running
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
                lines.append(self.clickhouse.up())
        except GridflowError:
            if started_kafka:
                self.kafka.down()  # all or nothing: do not leave behind the broker this call started
            raise
        return lines

    def down(self) -> list[str]:
        lines = [self.kafka.down(), self.clickhouse.down()]
        self._brokers_file.unlink(missing_ok=True)
        return lines

    def _kafka_running(self) -> bool:
        members = self.kafka.members if isinstance(self.kafka, KafkaCluster) else [self.kafka]
        return all(member.process.pid() is not None for member in members)

    def _recorded_brokers(self) -> int:
        try:
            return max(1, int(self._brokers_file.read_text().strip()))
        except (FileNotFoundError, ValueError):
            return 1

    def status(self) -> list[str]:
        lines = []
        if self.kafka_settings.bootstrap:
            lines.append(f"kafka: external at {self.kafka_settings.bootstrap}")
        else:
            lines.append(self.kafka.status())
        if self.clickhouse_settings.url is not None:
            lines.append("clickhouse: external (GRIDFLOW_CLICKHOUSE_URL)")
        else:
            lines.append(self.clickhouse.status())
        return lines
