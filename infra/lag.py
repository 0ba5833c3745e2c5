"""Consumer-group facts: end offsets, committed offsets, lag over some topics, and stable members.

Used wherever a process must wait until a consumer group has caught up (tests, benchmarks, the demo) —
waiting on this condition rather than sleeping. ``options`` are the client's security settings
(:meth:`infra.settings.KafkaSettings.client_options`), so the same checks work on the secured broker.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.errors import CoordinatorLoadInProgressError, CoordinatorNotAvailableError, NotCoordinatorError

from infra.topics_admin import TopicLike


def partitions_of(specs: Iterable[TopicLike]) -> list[TopicPartition]:
    return [TopicPartition(spec.name, p) for spec in specs for p in range(spec.partitions)]


def end_offsets(
    bootstrap: str, specs: Iterable[TopicLike], options: Mapping[str, Any] | None = None
) -> dict[TopicPartition, int]:
    """The next offset to be written on every partition of ``specs``."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, **(options or {}))
    try:
        return dict(consumer.end_offsets(partitions_of(specs)))
    finally:
        consumer.close()


def committed(
    bootstrap: str, group: str, options: Mapping[str, Any] | None = None
) -> dict[TopicPartition, int]:
    """The group's committed offsets; empty while its coordinator is still loading (nothing visible yet)."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, **(options or {}))
    try:
        offsets = admin.list_group_offsets(group).get(group, {})
    except (NotCoordinatorError, CoordinatorNotAvailableError, CoordinatorLoadInProgressError):
        return {}
    finally:
        admin.close()
    return {tp: meta.offset for tp, meta in offsets.items()}


def lag(
    bootstrap: str, group: str, specs: Iterable[TopicLike], options: Mapping[str, Any] | None = None
) -> int:
    """Records on ``specs`` that ``group`` has not committed yet."""
    done = committed(bootstrap, group, options)
    ends = end_offsets(bootstrap, specs, options)
    return sum(end - max(done.get(tp, 0), 0) for tp, end in ends.items())


def stable_members(bootstrap: str, group: str, options: Mapping[str, Any] | None = None) -> int:
    """Members of ``group`` once it is stable; 0 while it rebalances or has no coordinator yet."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, **(options or {}))
    try:
        described = admin.describe_groups([group]).get(group, {})
    except (NotCoordinatorError, CoordinatorNotAvailableError, CoordinatorLoadInProgressError):
        return 0
    finally:
        admin.close()
    return len(described.get("members", [])) if described.get("group_state") == "Stable" else 0
