"""Far-future, far-past and malformed records sent into a running worker do not change what it decides.

One recorded scenario is replayed twice into a running worker on the session's broker: as recorded, and
with records injected a third of the way in, on a partition that has been flowing — a grid report dated
2099 (future_event), one dated 2020 (late_event), a clock tick dated 2099 (future_event: it would otherwise
hold the partition's clock) and bytes that are not a message (decode_error). The valid events after them on
the same partitions must be decided exactly as without them: same transitions, same final incidents, and
the dead letters of the clean run plus one per injected record.
"""

from __future__ import annotations

import subprocess
import uuid
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from pipeline_harness import GRIDFLOW, Pipeline, final_view, wait_until

from infra.placement import key_partition
from producers.record import Record, Summary
from producers.recording import RecordingReader, RecordingWriter
from schemas.topics import topics

ARGS = ["--scenario", "normal_day", "--seed", "5", "--start", "2026-03-02T10:00:00+08:00", "--scale", "60"]
FUTURE = datetime.fromisoformat("2099-12-31T09:00:00+08:00")
PAST = datetime.fromisoformat("2020-01-01T09:00:00+08:00")
INTAKE = ("intake.grid_reports", "intake.camera_alerts", "intake.dispositions")


@pytest.fixture(scope="module")
def recordings(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the clean recording, the same with the injected records)."""
    return build_recordings(tmp_path_factory.mktemp("rec"))


def build_recordings(folder: Path) -> tuple[Path, Path]:
    """Write the clean recording and the one with injected records into ``folder``."""
    clean = folder / "clean.jsonl"
    command = [*GRIDFLOW, "simulate", *ARGS, "--duration", "90s", "--dry-run", "--out", str(clean)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    reader = RecordingReader(clean)
    records = list(reader)
    assert reader.header is not None
    # A grid report a third of the way in, on a partition all three intake topics have ticked on: its
    # clock runs (before a partition's first tick there is no clock to be far ahead of).
    partitions = topics("").grid_reports.partitions
    ticked: set[tuple[str, int | None]] = set()
    at = -1
    for n, r in enumerate(records):
        if r.is_tick:
            ticked.add((r.topic, r.partition))
        elif n > len(records) // 3 and r.kind == "grid_report" and r.key:
            p = key_partition(r.key.encode(), partitions)
            if all((t, p) in ticked for t in INTAKE):
                at = n
                break
    assert at > 0, "no grid report on a ticking partition"
    anchor = records[at]
    injected = [
        _report_at(anchor, FUTURE, "future"),
        _report_at(anchor, PAST, "past"),
        Record(
            anchor.topic,
            anchor.key,
            None,
            anchor.at,
            anchor.emit_at,
            "malformed",
            None,
            b'{"kind": "grid_rep',
        ),
        _tick_at(records, anchor, FUTURE),
    ]
    dirty = folder / "dirty.jsonl"
    summary = Summary()
    with RecordingWriter(dirty, reader.header) as writer:
        for record in [*records[: at + 1], *injected, *records[at + 1 :]]:
            writer.write(record)
            summary.add(record)
        writer.close(summary)
    return clean, dirty


def _report_at(anchor: Record, when: datetime, name: str) -> Record:
    message = orjson.loads(anchor.value)
    event_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"gridflow-test/{name}"))
    message.update(event_id=event_id, occurred_at=when.isoformat(), reported_at=when.isoformat())
    value = orjson.dumps(message)
    return Record(anchor.topic, anchor.key, None, when, anchor.emit_at, "grid_report", event_id, value)


def _tick_at(records: list[Record], anchor: Record, when: datetime) -> Record:
    # A tick on the anchor's topic and partition (where its township key goes), copied from the next one
    # the recording sends there.
    assert anchor.key is not None
    partition = key_partition(anchor.key.encode(), topics("").grid_reports.partitions)
    later = [
        r
        for r in records
        if r.is_tick and r.topic == anchor.topic and r.partition == partition and r.emit_at >= anchor.emit_at
    ]
    tick = orjson.loads(later[0].value)
    tick.update(at=when.isoformat(), seq=10**9)
    return Record(anchor.topic, None, partition, when, anchor.emit_at, "clock_tick", None, orjson.dumps(tick))


def _run(bootstrap: str, workdir: Path, recording: Path) -> dict[str, Any]:
    prefix = f"implausible-{uuid.uuid4().hex[:6]}."
    workdir.mkdir(parents=True, exist_ok=True)
    pipeline = Pipeline(bootstrap, prefix, workdir)
    with pipeline.workers() as proc:
        wait_until(lambda: pipeline.group_members() == 1, 120, "the worker to join", proc)
        replay = pipeline.cli("replay", str(recording), "--speed", "1000")
        assert "errors 0" in replay.stdout
        wait_until(lambda: pipeline.stream_lag() == 0, 180, "the worker to consume everything", proc)
    return final_view(pipeline)


def test_injected_records_change_no_decision(
    kafka_bootstrap: str, recordings: tuple[Path, Path], tmp_path: Path
) -> None:
    clean_recording, dirty_recording = recordings
    clean = _run(kafka_bootstrap, tmp_path / "clean", clean_recording)
    dirty = _run(kafka_bootstrap, tmp_path / "dirty", dirty_recording)
    assert len(clean["incidents"]) > 20
    assert dirty["transitions"] == clean["transitions"]
    assert dirty["incidents"] == clean["incidents"]
    classes = Counter(d["error_class"] for d in dirty["deadletters"].values())
    classes.subtract(d["error_class"] for d in clean["deadletters"].values())
    assert +classes == Counter({"future_event": 2, "late_event": 1, "decode_error": 1})
