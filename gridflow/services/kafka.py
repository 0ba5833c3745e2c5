"""The local Kafka broker: Apache Kafka 4.x in KRaft mode, one combined broker+controller node.

Its jars come from Maven Central through Maven, driven by ``templates/kafka-pom.xml`` beside this module, and
are copied into a cache outside the work tree keyed by the pom's hash, so a second run downloads nothing.
Storage is formatted on first start; ``up`` returns once the broker answers a metadata request.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import uuid
from pathlib import Path

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


class KafkaService:
    """Fetch, start, stop and describe the local broker."""

    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        self.home = settings.state / "kafka"
        self.process = ManagedProcess("kafka", self.home)

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.settings.kafka_port}"

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
        java = _require("java")
        ensure_port_free(self.settings.kafka_port, "Kafka listener")
        ensure_port_free(self.settings.kafka_controller_port, "Kafka controller")
        libs = self.fetch()
        config = self._write_config()
        classpath = f"{libs}/*"
        if not (self.home / "data" / "meta.properties").exists():
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
        pid = self.process.start(argv, cwd=self.home)
        self.process.wait_ready(lambda: kafka_answers(self.bootstrap, 1.0), self.settings.start_timeout_s)
        return f"kafka running at {self.bootstrap} (pid {pid}, KRaft, logs {self.process.log_file})"

    def down(self) -> str:
        return "kafka stopped" if self.process.stop() else "kafka was not running"

    def status(self) -> str:
        pid = self.process.pid()
        if pid is None:
            return "kafka: not running"
        state = "answering" if kafka_answers(self.bootstrap, 2.0) else "NOT answering"
        return f"kafka: pid {pid} at {self.bootstrap}, {state}; data {self.home / 'data'}"

    def _write_config(self) -> Path:
        self.home.mkdir(parents=True, exist_ok=True)
        (self.home / "log").mkdir(exist_ok=True)
        values = {
            "state": str(self.settings.state),
            "port": str(self.settings.kafka_port),
            "controller_port": str(self.settings.kafka_controller_port),
        }
        config = self.home / "server.properties"
        config.write_text(render("kafka-server.properties", values))
        (self.home / "log4j2.xml").write_text(render("kafka-log4j2.xml", values))
        return config

    def _format(self, java: str, classpath: str, config: Path) -> None:
        cluster_id = _cluster_id()
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
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise ServiceError(f"formatting Kafka storage failed: {result.stdout}{result.stderr}".strip())


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
