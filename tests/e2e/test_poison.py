"""Poison on the live pipeline: 1,000 malformed records interleaved with valid traffic on a running worker.

One recorded scenario is replayed twice into fresh topics, each time to a running worker: once clean, once
while a seeded generator sends 1,000 malformed records into the same intake partitions (wrong types,
truncated JSON, invalid UTF-8, huge values, null keys, times far in the future and the past). Then:

- every malformed record is on the dead-letter topic with a reason (``decode_error`` and the problems) and
  its exact topic/partition/offset;
- the valid traffic is decided exactly as without the poison: the same transitions, final incidents and
  county alerts, and the same dead letters of its own (compared by reason and bytes: offsets shift).

Negative control: a first version of the generator replaced string fields by other strings, so 4 of its
"malformed" records were in fact valid; this test reported them (4 records not dead-lettered) and failed.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from kafka import KafkaProducer

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))

from pipeline_harness import GRIDFLOW, Pipeline, final_view, stop, wait_until

from producers.recording import RecordingReader

pytestmark = pytest.mark.slow

ARGS = ["--scenario", "normal_day", "--seed", "21", "--start", "2026-03-02T10:00:00+08:00", "--scale", "60"]
POISON = 1_000


def _mutations(rng: random.Random) -> list[Callable[[bytes], bytes]]:
    def wrong_type(raw: bytes) -> bytes:
        obj = orjson.loads(raw)
        field = rng.choice([k for k in obj if k not in ("kind",)])
        # Of another JSON type than the field's, so it can never validate (the models are strict).
        obj[field] = "not-a-list" if isinstance(obj[field], list) else rng.choice([[1, 2], [], [None]])
        return orjson.dumps(obj)

    def truncated(raw: bytes) -> bytes:
        return raw[: rng.randrange(1, len(raw) - 1)]

    def invalid_utf8(raw: bytes) -> bytes:
        cut = raw.index(b'"', raw.index(b":") + 1) + 1  # inside the first string value
        return raw[:cut] + b"\xff\xfe\xc3" + raw[cut:]

    def huge(raw: bytes) -> bytes:
        obj = orjson.loads(raw)
        if rng.random() < 0.5:
            obj["description"] = "巨" * 70_000  # over the 64 KiB payload limit
            return orjson.dumps(obj)
        obj[rng.choice([k for k in obj if k != "kind"])] = 10**40
        return json.dumps(obj, ensure_ascii=False).encode()  # orjson refuses integers beyond 64 bits

    def far_time(raw: bytes) -> bytes:
        obj = orjson.loads(raw)
        year = rng.choice([1899, 1970, 1999, 2100, 2500, 9999])
        for name in ("occurred_at", "reported_at", "detected_at", "at"):
            if name in obj:
                obj[name] = f"{year}-06-01T12:00:00+08:00"
        return orjson.dumps(obj)

    def null_value(raw: bytes) -> bytes:
        return rng.choice([b"null", b"{}", b"[]", b""])

    return [wrong_type, truncated, invalid_utf8, huge, far_time, null_value]


def _record(path: Path) -> Path:
    command = [*GRIDFLOW, "simulate", *ARGS, "--duration", "90s", "--dry-run", "--out", str(path)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return path


def _poison(bootstrap: str, pipeline: Pipeline, recording: Path, seed: int) -> dict[str, str]:
    """Send the malformed records; returns ``topic/partition/offset`` → mutation name of each."""
    rng = random.Random(seed)
    valid = [r for r in RecordingReader(recording) if r.kind not in ("clock_tick", "malformed")]
    mutations = _mutations(rng)
    intake = pipeline.names.intake
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", max_request_size=1_048_576)
    sent: list[tuple[Any, str]] = []
    for i in range(POISON):
        record = rng.choice(valid)
        mutate = mutations[i % len(mutations)]
        topic = next(t for t in intake if t.name.endswith(record.topic))
        key = None if rng.random() < 0.3 else (record.key or "").encode()
        future = producer.send(
            topic.name, mutate(record.value), key=key, partition=rng.randrange(topic.partitions)
        )
        sent.append((future, mutate.__name__))
    producer.flush()
    producer.close()
    out = {}
    for future, name in sent:
        meta = future.get(timeout=30)
        out[f"{meta.topic.removeprefix(pipeline.prefix)}/{meta.partition}/{meta.offset}"] = name
    return out


def _run(
    bootstrap: str, workdir: Path, recording: Path, poison_seed: int | None
) -> tuple[dict[str, Any], dict[str, str], list[dict[str, Any]]]:
    prefix = f"poison{uuid.uuid4().hex[:6]}."
    workdir.mkdir(parents=True, exist_ok=True)
    pipeline = Pipeline(bootstrap, prefix, workdir)
    proc = pipeline.start_workers(1)
    poisoned: dict[str, str] = {}
    try:
        wait_until(lambda: pipeline.group_members() == 1, 120, "the worker to join", proc)
        feeder = subprocess.Popen(
            [*GRIDFLOW, "replay", str(recording), "--speed", "0", "--rate", "400"],
            env=pipeline.env,
            stdout=subprocess.PIPE,
            text=True,
        )
        if poison_seed is not None:
            # Sent while the replay process streams the valid traffic: the two interleave on the partitions.
            poisoned = _poison(bootstrap, pipeline, recording, poison_seed)
            assert feeder.poll() is None, "the valid traffic ended before the poison was sent"
        out, _ = feeder.communicate(timeout=300)
        assert feeder.returncode == 0 and "errors 0" in out, out
        wait_until(lambda: pipeline.stream_lag() == 0, 240, "the worker to consume everything", proc)
        assert proc.poll() is None, "the worker died of the poison"
    finally:
        stop(proc)
    view = final_view(pipeline)
    letters = list(view.pop("deadletters").values())
    for letter in letters:
        letter["where"] = (
            f"{letter['source_topic'].removeprefix(prefix)}/{letter['source_partition']}/"
            f"{letter['source_offset']}"
        )
    return view, poisoned, letters


def test_poison_is_dead_lettered_and_valid_traffic_decided_as_without_it(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    recording = _record(tmp_path / "plain.jsonl")
    clean, _, clean_letters = _run(kafka_bootstrap, tmp_path / "clean", recording, None)
    view, poisoned, letters = _run(kafka_bootstrap, tmp_path / "poisoned", recording, poison_seed=16)
    assert len(poisoned) == POISON
    by_where = {letter["where"]: letter for letter in letters}
    undead = sorted(set(poisoned) - set(by_where))
    assert not undead, f"{len(undead)} malformed records not dead-lettered, e.g. {undead[:3]}"
    for where in poisoned:
        letter = by_where[where]
        assert letter["error_class"] == "decode_error" and letter["error_message"], letter
    # The valid traffic: decided exactly as in the clean run.
    assert len(clean["incidents"]) > 20
    assert view == clean
    own = sorted((d["error_class"], d["raw"]) for d in letters if d["where"] not in poisoned)
    assert own == sorted((d["error_class"], d["raw"]) for d in clean_letters)
