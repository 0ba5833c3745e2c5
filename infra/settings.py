"""Typed settings for every gridflow process, read from ``GRIDFLOW_*`` environment variables.

One small class per concern (local services, Kafka clients, ClickHouse). ``load(cls)`` turns a bad value into
a one-line :class:`ConfigError` that names the variable, the value and what was expected, so no process ever
greets a user with a pydantic traceback.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import quote

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from infra.errors import ConfigError

PREFIX = "GRIDFLOW_"
Port = Field(ge=1, le=65535)


class ServiceSettings(BaseSettings):
    """Where the locally started Kafka broker and clickhouse-server live, and on which ports."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, extra="ignore", frozen=True)

    state_dir: Path = Path("~/.local/state/gridflow")
    cache_dir: Path = Path("~/.cache/gridflow")
    kafka_port: int = Field(default=9092, ge=1, le=65535)
    kafka_controller_port: int = Field(default=9093, ge=1, le=65535)
    kafka_heap_mb: int = Field(default=512, ge=128, le=512)
    clickhouse_tcp_port: int = Field(default=9000, ge=1, le=65535)
    clickhouse_http_port: int = Field(default=8123, ge=1, le=65535)
    analyst_password: SecretStr = SecretStr("analyst")
    start_timeout_s: float = Field(default=60.0, gt=0)

    @property
    def state(self) -> Path:
        return self.state_dir.expanduser()

    @property
    def cache(self) -> Path:
        return self.cache_dir.expanduser()


class KafkaSettings(BaseSettings):
    """How clients reach Kafka. ``bootstrap`` unset means the local broker on ``GRIDFLOW_KAFKA_PORT``."""

    model_config = SettingsConfigDict(env_prefix=PREFIX + "KAFKA_", extra="ignore", frozen=True)

    bootstrap: str | None = None
    port: int = Field(default=9092, ge=1, le=65535)
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: Path | None = None
    topic_prefix: str = ""

    @property
    def servers(self) -> str:
        return self.bootstrap or f"127.0.0.1:{self.port}"

    def client_options(self) -> dict[str, Any]:
        """Security options in the spelling kafka-python and aiokafka share."""
        options: dict[str, Any] = {"security_protocol": self.security_protocol}
        if self.sasl_mechanism:
            options["sasl_mechanism"] = self.sasl_mechanism
            options["sasl_plain_username"] = self.sasl_username
            options["sasl_plain_password"] = (
                self.sasl_password.get_secret_value() if self.sasl_password else None
            )
        if self.ssl_cafile:
            options["ssl_cafile"] = str(self.ssl_cafile)
        return options


class PolicySettings(BaseSettings):
    """Which escalation policy file the streams and the simulator decide under (unset: the bundled one)."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, extra="ignore", frozen=True)

    policy: Path | None = None


class PrivacySettings(BaseSettings):
    """The key that turns personal data into tokens (``schemas.personal``) before it is stored.

    ``GRIDFLOW_PII_TOKENISE=false`` stores personal data in clear: the privacy tests' negative control only.
    """

    model_config = SettingsConfigDict(env_prefix=PREFIX + "PII_", extra="ignore", frozen=True)

    key: SecretStr | None = Field(default=None, min_length=16)
    tokenise: bool = True

    def key_bytes(self) -> bytes | None:
        return self.key.get_secret_value().encode() if self.key is not None else None


class ClickHouseSettings(BaseSettings):
    """Which ClickHouse to use: a server URL, a chdb path, or (unset) the local default."""

    model_config = SettingsConfigDict(env_prefix=PREFIX + "CLICKHOUSE_", extra="ignore", frozen=True)

    url: SecretStr | None = None
    database: str = Field(default="gridflow", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    # A cluster of clickhouse-server shards (remote_servers): `init` puts the warehouse on every shard behind
    # Distributed tables (sinks/shards.py). Unset: one server or chdb.
    cluster: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")


S = TypeVar("S", bound=BaseSettings)


def load(cls: type[S]) -> S:
    """Build settings from the environment, or raise a one-line ConfigError naming the bad variable."""
    try:
        return cls()
    except ValidationError as exc:
        prefix = str(cls.model_config.get("env_prefix", PREFIX))
        first = exc.errors()[0]
        name = prefix + "_".join(str(part) for part in first["loc"]).upper()
        field = cls.model_fields.get(str(first["loc"][0])) if first["loc"] else None
        # A secret's value is never echoed, even a wrong one: it may be the real secret, mistyped.
        shown = (
            "<hidden>" if field is not None and "SecretStr" in str(field.annotation) else first.get("input")
        )
        raise ConfigError(f"{name}={shown!r}: {first['msg']}") from None


def clickhouse_url(services: ServiceSettings, clickhouse: ClickHouseSettings) -> str:
    """The ClickHouse URL processes use: the configured one, else the local server, else embedded chdb."""
    if clickhouse.url is not None:
        return clickhouse.url.get_secret_value()
    if local_clickhouse_binary() is not None:
        return f"clickhouse://default:@127.0.0.1:{services.clickhouse_tcp_port}/{clickhouse.database}"
    return f"chdb://{services.state / 'chdb'}"


WRITER_USER = "gridflow_writer"


def sink_url(services: ServiceSettings, clickhouse: ClickHouseSettings) -> str:
    """The URL the sink writes through: the configured one, else the local server as ``gridflow_writer``
    (inserts only, its password from the state directory: :mod:`infra.passwords`), else embedded chdb."""
    if clickhouse.url is not None or local_clickhouse_binary() is None:
        return clickhouse_url(services, clickhouse)
    from infra.passwords import passwords_file, read_passwords

    password = read_passwords(services.state).get(WRITER_USER)
    if password is None:
        raise ConfigError(
            f"no password for {WRITER_USER} in {passwords_file(services.state)}: (re)start the local server "
            "(`gridflow services down; gridflow services up`), or set GRIDFLOW_CLICKHOUSE_URL"
        )
    host = f"127.0.0.1:{services.clickhouse_tcp_port}"
    return f"clickhouse://{WRITER_USER}:{quote(password, safe='')}@{host}/{clickhouse.database}"


def local_clickhouse_binary() -> str | None:
    """``clickhouse-server`` (Debian's package) or the single ``clickhouse`` binary, if on PATH."""
    return shutil.which("clickhouse-server") or shutil.which("clickhouse")
