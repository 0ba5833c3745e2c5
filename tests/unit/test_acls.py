"""The Kafka grants per principal (infra.acls.pipeline_grants): least privilege, as a table."""

from __future__ import annotations

from infra.acls import pipeline_grants
from schemas.topics import topics


def _grants() -> dict[str, set[tuple[str, str, str]]]:
    names = topics("p.")
    table = pipeline_grants(
        "p.", {r: getattr(names, r).name for r in names._fields}, [s.name for s in names.intake]
    )
    by: dict[str, set[tuple[str, str, str]]] = {}
    for g in table:
        by.setdefault(g.principal, set()).add((g.resource, g.name, g.op))
    return by


def test_the_publisher_writes_the_intake_and_reads_nothing() -> None:
    publisher = _grants()["publisher"]
    assert {op for _, _, op in publisher} == {"WRITE", "DESCRIBE"}
    assert {name for _, name, _ in publisher} == {s.name for s in topics("p.").intake}


def test_the_sink_only_reads() -> None:
    sink = _grants()["sink"]
    assert {op for _, _, op in sink} == {"READ", "DESCRIBE"}
    assert ("TOPIC", "p.incident_transitions", "READ") in sink


def test_only_the_worker_writes_outputs_and_nobody_else_reads_transitions_but_sink_worker_command() -> None:
    grants = _grants()
    writers = {p for p, gs in grants.items() if ("TOPIC", "p.incident_transitions", "WRITE") in gs}
    readers = {p for p, gs in grants.items() if ("TOPIC", "p.incident_transitions", "READ") in gs}
    assert writers == {"worker"}
    assert readers == {"sink", "command"}
