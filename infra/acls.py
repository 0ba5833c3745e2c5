"""Kafka ACLs for a secured broker: each principal gets only the operations its process needs.

:func:`pipeline_grants` is the table (pure); :func:`apply_grants` creates the ACLs as the admin principal
(kafka-python's admin client; creating an ACL that exists is a no-op on the broker). ``gridflow init`` runs
both when it connects with SASL, so every topic namespace (``GRIDFLOW_KAFKA_TOPIC_PREFIX``) gets its grants
when its topics are made.

Principals (``gridflow services up --secure`` makes them): ``publisher`` writes the intake; ``worker`` reads
the intake and the county stage's input, writes its outputs, and owns its checkpoint changelogs and consumer
group; ``sink`` only reads (its topics and its group); ``command`` (command centre and web) reads incidents,
transitions and county alerts and writes dispositions (an operator's action is one).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

Op = Literal["READ", "WRITE", "DESCRIBE", "CREATE", "ALL"]


@dataclass(frozen=True, slots=True)
class Grant:
    """Allow ``principal`` to ``op`` on a topic or group named ``name`` (or every name starting with it)."""

    principal: str
    resource: Literal["TOPIC", "GROUP"]
    name: str
    op: Op
    prefixed: bool = False


def pipeline_grants(prefix: str, topics: Mapping[str, str], intake: Sequence[str]) -> list[Grant]:
    """The grants of one topic namespace; ``topics`` maps a role (``incidents`` …) to its topic name."""
    grants: list[Grant] = []

    def topic(principal: str, names: Iterable[str], *ops: Op) -> None:
        grants.extend(Grant(principal, "TOPIC", n, op) for n in names for op in ops)

    outputs = [topics[r] for r in ("incidents", "incident_transitions", "cluster_signals", "deadletter")]
    outputs.append(topics["county_alerts"])
    topic("publisher", intake, "WRITE", "DESCRIBE")
    topic("worker", [*intake, topics["cluster_signals"]], "READ", "DESCRIBE")
    topic("worker", outputs, "WRITE", "DESCRIBE")
    county_changelog = f"{topics['cluster_signals']}-county-checkpoints-changelog"
    grants.append(Grant("worker", "TOPIC", county_changelog, "ALL"))
    grants.append(Grant("worker", "TOPIC", f"{prefix}gridflow-streams", "ALL", prefixed=True))
    grants.append(Grant("worker", "GROUP", f"{prefix}gridflow-streams", "ALL", prefixed=True))
    sink_reads = [*intake, topics["incidents"], topics["incident_transitions"], topics["deadletter"]]
    sink_reads.append(topics["county_alerts"])
    topic("sink", sink_reads, "READ", "DESCRIBE")
    grants.append(Grant("sink", "GROUP", f"{prefix}gridflow-sink", "READ", prefixed=True))
    topic("command", [topics["incidents"], topics["incident_transitions"], topics["county_alerts"]], "READ")
    topic(
        "command", [topics["incidents"], topics["incident_transitions"], topics["county_alerts"]], "DESCRIBE"
    )
    topic("command", [topics["dispositions"]], "WRITE", "DESCRIBE")
    grants.append(Grant("command", "GROUP", f"{prefix}gridflow-command", "READ", prefixed=True))
    return grants


def apply_grants(bootstrap: str, options: Mapping[str, Any], grants: Sequence[Grant]) -> int:
    """Create the ACLs (as the admin principal of ``options``); returns how many were asked for."""
    from kafka.admin import (
        ACL,
        ACLOperation,
        ACLPermissionType,
        ACLResourcePatternType,
        KafkaAdminClient,
        ResourcePattern,
        ResourceType,
    )

    admin = KafkaAdminClient(bootstrap_servers=bootstrap, **dict(options))
    try:
        acls = [
            ACL(
                principal=f"User:{g.principal}",
                host="*",
                operation=ACLOperation[g.op],
                permission_type=ACLPermissionType.ALLOW,
                resource_pattern=ResourcePattern(
                    ResourceType[g.resource],
                    g.name,
                    ACLResourcePatternType.PREFIXED if g.prefixed else ACLResourcePatternType.LITERAL,
                ),
            )
            for g in grants
        ]
        result = admin.create_acls(acls)
        failed = result.get("failed") or []
        if failed:
            raise RuntimeError(f"the broker refused {len(failed)} ACLs, e.g. {failed[0]}")
        return len(acls)
    finally:
        admin.close()
