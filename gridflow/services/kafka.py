"""The local Kafka broker: Apache Kafka 4.x in KRaft mode, one combined broker+controller node, or a cluster.

Its jars come from Maven Central through Maven, driven by ``templates/kafka-pom.xml`` beside this module, and
are copied into a cache outside the work tree keyed by the pom's hash, so a second run downloads nothing.
Storage is formatted on first start; ``up`` returns once the broker answers a metadata request.

:class:`KafkaCluster` runs ``brokers`` such nodes from the same jars (``gridflow services up --brokers 3``):
node ``i`` (1-based) listens on ``kafka_port + 2(i-1)`` and its controller on ``kafka_controller_port +
2(i-1)``, every node votes in the controller quorum, and topics default to min(3, brokers) replicas with
``min.insync.replicas`` 2 where there are three, so a cluster keeps taking acks=all writes with one node down.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from gridflow.services.kafka_secure import SecureMaterial, write_private
from gridflow.services.process import ManagedProcess, ensure_port_free
from gridflow.services.templates import render
from infra.errors import ServiceError
from infra.probe import kafka_answers
from infra.settings import ServiceSettings

POM = Path(__file__).parent / "templates" / "kafka-pom.xml"
MISSING_TOOL = (
    "{tool} not found: install Java 17+ and Maven (Debian: apt-get install openjdk-17-jre-headless maven), "
    "or set GRIDFLOW_KAFKA_BOOTSTRAP to an existing broker, or use `docker compose up`"
)


@dataclass(frozen=True, slots=True)
class Node:
    """One KRaft node: its id and loopback ports."""

    node_id: int
    port: int
    controller_port: int


def cluster_nodes(settings: ServiceSettings, brokers: int) -> list[Node]:
    """The nodes of a local cluster of ``brokers``: ports step by 2 from the configured pair."""
    return [
        Node(i + 1, settings.kafka_port + 2 * i, settings.kafka_controller_port + 2 * i)
        for i in range(brokers)
    ]


class KafkaService:
    """Fetch, start, stop and describe the local broker (or one node of a :class:`KafkaCluster`)."""

    def __init__(
        self,
        settings: ServiceSettings,
        node: Node | None = None,
        nodes: Sequence[Node] = (),
        secure: bool = False,
    ) -> None:
        self.settings = settings
        self.node = node or Node(1, settings.kafka_port, settings.kafka_controller_port)
        self.nodes = list(nodes) or [self.node]
        clustered = len(self.nodes) > 1
        self.home = settings.state / (f"kafka-{self.node.node_id}" if clustered else "kafka")
        self.process = ManagedProcess(f"kafka node {self.node.node_id}" if clustered else "kafka", self.home)
        self.cluster_id_file = settings.state / "kafka-cluster-id"
        # --secure: SASL_SSL + SCRAM + ACLs (gridflow.services.kafka_secure); its own data directory.
        self.secure = SecureMaterial(self.home, self.node.port) if secure else None
        self.data = self.home / ("data-secure" if secure else "data")

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.node.port}"

    def libs(self) -> Path:
        """The cached classpath folder for the pom in this repository."""
        digest = hashlib.sha256(POM.read_bytes()).hexdigest()[:12]
        return self.settings.cache / f"kafka-libs-{digest}"

    def fetch(self) -> Path:
        """Resolve the broker's jars with Maven into the cache (no-op when already there)."""
        libs = self.libs()
        if (libs / ".complete").exists():
            return libs
        mvn = _require("mvn")
        partial = libs.with_name(libs.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        cmd = [
            mvn,
            "-B",
            "-q",
            "-f",
            str(POM),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={partial}",
        ]
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            tail = "\n".join((result.stdout + result.stderr).splitlines()[-15:])
            raise ServiceError(f"maven could not resolve the Kafka jars from {POM}:\n{tail}")
        (partial / ".complete").touch()
        shutil.rmtree(libs, ignore_errors=True)
        partial.rename(libs)
        return libs

    def up(self) -> str:
        """Start the broker unless it already runs; return a one-line description."""
        if self.process.pid() is not None:
            return f"kafka already running at {self.bootstrap} (pid {self.process.pid()})"
        pid = self.start()
        self.wait_ready()
        mode = f"SASL_SSL, credentials in {self.secure.dir}" if self.secure else "PLAINTEXT"
        return f"kafka running at {self.bootstrap} (pid {pid}, KRaft, {mode}, logs {self.process.log_file})"

    def wait_ready(self) -> None:
        """Return once the node answers a metadata request (a cluster node: once the quorum stands)."""
        options = self.admin_options()
        self.process.wait_ready(
            lambda: kafka_answers(self.bootstrap, 1.0, options), self.settings.start_timeout_s
        )

    def admin_options(self) -> dict[str, object]:
        """kafka-python options of the admin principal (none for the plain broker)."""
        if self.secure is None:
            return {}
        env = self.secure.env("admin")
        return {
            "security_protocol": "SASL_SSL",
            "sasl_mechanism": env["GRIDFLOW_KAFKA_SASL_MECHANISM"],
            "sasl_plain_username": "admin",
            "sasl_plain_password": env["GRIDFLOW_KAFKA_SASL_PASSWORD"],
            "ssl_cafile": env["GRIDFLOW_KAFKA_SSL_CAFILE"],
        }

    def start(self) -> int:
        """Start the node's process without waiting for it (a cluster's nodes need each other to be ready)."""
        java = _require("java")
        ensure_port_free(self.node.port, "Kafka listener")
        ensure_port_free(self.node.controller_port, "Kafka controller")
        libs = self.fetch()
        config = self._write_config()
        classpath = f"{libs}/*"
        if not (self.data / "meta.properties").exists():
            self._format(java, classpath, config)
        heap = f"-Xmx{self.settings.kafka_heap_mb}m"
        argv = [
            java,
            heap,
            f"-Xms{min(self.settings.kafka_heap_mb, 256)}m",
            "-XX:+UseG1GC",
            f"-Dlog4j2.configurationFile={self.home / 'log4j2.xml'}",
            f"-Dkafka.logs.dir={self.home / 'log'}",
            "-cp",
            classpath,
            "kafka.Kafka",
            str(config),
        ]
        return self.process.start(argv, cwd=self.home)

    def down(self) -> str:
        return "kafka stopped" if self.process.stop() else "kafka was not running"

    def status(self) -> str:
        pid = self.process.pid()
        if pid is None:
            return "kafka: not running"
        state = "answering" if kafka_answers(self.bootstrap, 2.0, self.admin_options()) else "NOT answering"
        return f"kafka: pid {pid} at {self.bootstrap}, {state}; data {self.data}"

    def _write_config(self) -> Path:
        self.home.mkdir(parents=True, exist_ok=True)
        (self.home / "log").mkdir(exist_ok=True)
        brokers = len(self.nodes)
        values = {
            "state": str(self.settings.state),
            "data": str(self.data),
            "node_id": str(self.node.node_id),
            "voters": ",".join(f"{n.node_id}@127.0.0.1:{n.controller_port}" for n in self.nodes),
            "replication": str(min(3, brokers)),
            "min_isr": "2" if brokers >= 3 else "1",
            "port": str(self.node.port),
            "controller_port": str(self.node.controller_port),
        }
        config = self.home / "server.properties"
        if self.secure is not None:
            self.secure.ensure()
            values["secure"] = str(self.secure.dir)
            values["admin_password"] = self.secure.passwords()["admin"]
            write_private(config, render("kafka-server-secure.properties", values))
        else:
            config.write_text(render("kafka-server.properties", values))
        (self.home / "log4j2.xml").write_text(render("kafka-log4j2.xml", values))
        return config

    def _format(self, java: str, classpath: str, config: Path) -> None:
        # Every node of a cluster is formatted with the same id: the first one to start draws it.
        if self.cluster_id_file.exists() and len(self.nodes) > 1:
            cluster_id = self.cluster_id_file.read_text().strip()
        else:
            cluster_id = _cluster_id()
            if len(self.nodes) > 1:
                self.cluster_id_file.parent.mkdir(parents=True, exist_ok=True)
                self.cluster_id_file.write_text(cluster_id)
        cmd = [
            java,
            "-cp",
            classpath,
            "kafka.tools.StorageTool",
            "format",
            f"--cluster-id={cluster_id}",
            "-c",
            str(config),
        ]
        if self.secure is not None:
            # The SCRAM users are made with the storage; their passwords go in a private argument file.
            cmd = [*cmd[:3], f"@{self.secure.scram_argfile(cmd[3:])}"]
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise ServiceError(f"formatting Kafka storage failed: {result.stdout}{result.stderr}".strip())


class KafkaCluster:
    """A local KRaft cluster of ``brokers`` nodes (see the module docstring for ports and replication)."""

    def __init__(self, settings: ServiceSettings, brokers: int) -> None:
        if brokers < 1:
            raise ServiceError(f"--brokers {brokers}: expected a whole number >= 1")
        nodes = cluster_nodes(settings, brokers)
        self.members = [KafkaService(settings, node, nodes) for node in nodes]

    @property
    def bootstrap(self) -> str:
        return ",".join(member.bootstrap for member in self.members)

    def fetch(self) -> Path:
        return self.members[0].fetch()

    def up(self) -> str:
        """Start every node that is not running, then wait for all (a quorum needs a majority up)."""
        pids = [m.process.pid() or m.start() for m in self.members]
        for member in self.members:
            member.wait_ready()
        return (
            f"kafka cluster of {len(self.members)} running at {self.bootstrap} "
            f"(pids {', '.join(map(str, pids))}, KRaft); clients: GRIDFLOW_KAFKA_BOOTSTRAP={self.bootstrap}"
        )

    def down(self) -> str:
        stopped = [m.process.stop() for m in self.members]
        return f"kafka cluster: {sum(stopped)} of {len(self.members)} nodes stopped"

    def status(self) -> str:
        return "; ".join(m.status() for m in self.members)


def _cluster_id() -> str:
    """A KRaft cluster id: 16 random bytes, URL-safe base64 without padding (what `random-uuid` prints).

    It may start with "-", which is why it is passed as ``--cluster-id=ID`` rather than as a separate word.
    """
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


def _require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise ServiceError(MISSING_TOOL.format(tool=tool))
    return path
