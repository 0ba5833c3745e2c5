"""``gridflow simulate --handlers reactive``: handlers answer the incidents a live worker produces.

A worker runs on fresh topics; the simulator publishes three simulated hours at 360× (about 30 s) with
reactive handlers. Every disposition on the topic then answers an incident the worker had emitted, from
the unit holding it (its handling unit at some version), no earlier than the incident opened; none is
the simulator's scripted kind (those carry a note, the reactor's do not); and matters get settled by them.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path

from pipeline_harness import Pipeline, wait_until


def test_reactive_handlers_answer_the_workers_incidents(kafka_bootstrap: str, tmp_path: Path) -> None:
    pipeline = Pipeline(kafka_bootstrap, f"loop-{uuid.uuid4().hex[:8]}.", tmp_path)
    with pipeline.workers(1) as proc:
        result = pipeline.cli(
            "simulate", "--duration", "3h", "--scale", "0.5", "--speed", "360", "--handlers", "reactive"
        )
        wait_until(lambda: pipeline.stream_lag() == 0, 180, "the worker to drain", proc)
    assert "reactive handlers:" in result.stdout, result.stdout

    incidents = pipeline.read("incidents")
    units: dict[str, set[str]] = {}
    opened: dict[str, datetime] = {}
    for inc in incidents:
        units.setdefault(inc["incident_id"], set()).add(inc["handling_unit"])
        opened[inc["incident_id"]] = datetime.fromisoformat(inc["opened_at"])
    dispositions = [m for m in pipeline.read("dispositions") if m.get("kind") == "disposition"]
    assert len(dispositions) > 50, len(dispositions)
    for d in dispositions:
        assert d["note"] == "", d  # not a scripted disposition
        assert d["incident_id"] in units, d  # answers an incident the worker produced
        assert d["unit_code"] in units[d["incident_id"]], d
        assert datetime.fromisoformat(d["at"]) >= opened[d["incident_id"]], d
    settled = {i["incident_id"] for i in incidents if i["status"] in ("resolved", "closed")}
    assert len(settled) > 20, len(settled)
