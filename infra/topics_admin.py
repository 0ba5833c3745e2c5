"""Create gridflow's Kafka topics idempotently (used by `gridflow simulate`/`replay` and `gridflow init`).

:func:`ensure_topics` creates every missing topic with its partitions and configs and checks that the
existing ones have the partition count the contract fixes: keys are hashed over partitions and clock ticks
are sent to each partition by number, so a topic with another count would silently mis-route. Calling it
twice, or from two processes at once, is harmless.

Usage::

    from infra.topics_admin import ensure_topics
    ensure_topics("127.0.0.1:9092", topics("t42.").intake)     # -> names it created
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from infra.errors import ConfigError, UnreachableError


class TopicLike(Protocol):
    """What creating a topic needs to know of it (`schemas.topics.TopicSpec` is one)."""

    @property
    def name(self) -> str: ...

    @property
    def partitions(self) -> int: ...

    def config(self) -> dict[str, str]: ...


def ensure_topics(
    bootstrap: str,
    specs: Iterable[TopicLike],
    options: dict[str, Any] | None = None,
    *,
    replication_factor: int = -1,
    timeout_s: float = 30.0,
) -> list[str]:
    """Create the missing topics of ``specs``; return their names. ``-1`` replicas = the broker default.

    Raises ConfigError if an existing topic has another partition count, UnreachableError if the
    cluster does not answer.
    """
    from kafka.admin import KafkaAdminClient
    from kafka.errors import KafkaError, TopicAlreadyExistsError

    wanted = {spec.name: spec for spec in specs}
    ms = int(timeout_s * 1000)
    try:
        admin = KafkaAdminClient(
            bootstrap_servers=bootstrap, request_timeout_ms=ms, bootstrap_timeout_ms=ms, **(options or {})
        )
    except (KafkaError, OSError) as exc:
        raise UnreachableError(f"Kafka at {bootstrap}: admin client failed ({exc})") from None
    try:
        existing = set(admin.list_topics()) & set(wanted)
        missing = [wanted[name] for name in wanted if name not in existing]
        created: list[str] = []
        if missing:
            request = {
                spec.name: {
                    "num_partitions": spec.partitions,
                    "replication_factor": replication_factor,
                    "configs": spec.config(),
                }
                for spec in missing
            }
            result = admin.create_topics(request, timeout_ms=ms, raise_errors=False)
            for topic in result["topics"]:
                # Another process may have created it in between: that is the same outcome.
                if topic["error_code"] == 0:
                    created.append(topic["name"])
                elif topic["error_code"] != TopicAlreadyExistsError.errno:
                    raise ConfigError(
                        f"topic {topic['name']}: creation failed "
                        f"({topic.get('error_message') or 'error ' + str(topic['error_code'])})"
                    )
            admin.wait_for_topics([spec.name for spec in missing], timeout_ms=ms)
        for described in admin.describe_topics(sorted(set(wanted) - set(created))):
            name = described["name"]
            count = len(described["partitions"])
            if count != wanted[name].partitions:
                raise ConfigError(
                    f"topic {name} has {count} partitions; expected {wanted[name].partitions} "
                    "(delete it, or choose another GRIDFLOW_KAFKA_TOPIC_PREFIX)"
                )
        return sorted(created)
    except KafkaError as exc:
        raise UnreachableError(f"Kafka at {bootstrap}: {exc}") from None
    finally:
        admin.close()
