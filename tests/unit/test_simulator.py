"""The simulator, scenarios, overlay, recording and CLI validation, without any server."""

from __future__ import annotations

import collections
import gzip
import time
from datetime import datetime, timedelta
from pathlib import Path
from uuid import UUID

import orjson
import pytest

from infra.errors import ConfigError, UnreachableError
from producers.clock import tick_times
from producers.overlay import corrupt
from producers.pacing import Pacer
from producers.record import DUPLICATE, LATE, OUT_OF_ORDER, Record
from producers.recording import RecordingReader, RecordingWriter, decode_line, encode_line
from producers.scenario import (
    MALFORMED_KINDS,
    SHANGHAI,
    overlay,
    parse_duration,
    parse_start,
    scenario,
    scenario_names,
)
from producers.simulator import Simulator
from producers.texts import texts
from schemas import DecodeError, Disposition, decode_intake, geography, incident_id_for, policy, taxonomy
from schemas.enums import DispositionAction, MessageStatus

SCENARIOS = [
    "normal_day",
    "ice_jam_flood",
    "wage_arrears",
    "linhe_festival_crowds",
    "camera_false_alarm_storm",
]


def _record(sim: Simulator, path: Path) -> bytes:
    with RecordingWriter(path, sim.header) as writer:
        for record in sim:
            writer.write(record)
        writer.close(sim.summary)
    return path.read_bytes()


def _small(name: str = "normal_day", seed: int = 7, hours: float = 3, **kw: object) -> Simulator:
    return Simulator(scenario(name), seed, duration=timedelta(hours=hours), **kw)  # type: ignore[arg-type]


# ---- determinism ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz"])
def test_same_seed_and_scenario_give_a_byte_identical_recording(tmp_path: Path, suffix: str) -> None:
    first = _record(_small(overlay=overlay("data_quality_heavy")), tmp_path / f"a{suffix}")
    second = _record(_small(overlay=overlay("data_quality_heavy")), tmp_path / f"b{suffix}")

    assert first == second
    assert len(first) > 10_000


def test_iterating_a_simulator_twice_gives_the_same_records() -> None:
    sim = _small(hours=1)
    assert [encode_line(r) for r in sim] == [encode_line(r) for r in sim]


def test_a_different_seed_gives_a_different_stream(tmp_path: Path) -> None:
    assert _record(_small(seed=1), tmp_path / "a.jsonl") != _record(_small(seed=2), tmp_path / "b.jsonl")


def test_generation_is_lazy_a_month_starts_at_once() -> None:
    began = time.perf_counter()
    first = next(iter(Simulator(scenario("normal_day"), 1, duration=timedelta(days=30))))
    assert time.perf_counter() - began < 2.0
    assert first.emit_at >= scenario("normal_day").start


# ---- content -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_generated_message_decodes_and_is_an_exercise(name: str) -> None:
    sim = Simulator(scenario(name), 3, duration=timedelta(hours=8), scale=0.3)
    kinds: collections.Counter[str] = collections.Counter()
    previous: datetime | None = None
    for record in sim:
        message = decode_intake(record.value)
        assert message.kind == record.kind
        assert message.status == MessageStatus.EXERCISE
        assert previous is None or record.emit_at >= previous, "stream not in time order"
        previous = record.emit_at
        if record.is_tick:
            assert record.key is None and record.partition == message.partition  # type: ignore[union-attr]
        else:
            assert record.key == geography().township_of(message.grid_code)  # type: ignore[union-attr]
            assert record.event_id == str(message.event_id)  # type: ignore[union-attr]
        kinds[record.kind] += 1
    assert {"grid_report", "camera_alert", "disposition", "clock_tick"} <= set(kinds)
    assert kinds == sim.summary.kinds


def test_dispositions_address_the_incident_of_the_first_event_and_carry_its_grid() -> None:
    opened: dict[object, str] = {}
    actions: collections.Counter[str] = collections.Counter()
    for record in Simulator(scenario("camera_false_alarm_storm"), 5, duration=timedelta(hours=24), scale=0.3):
        message = decode_intake(record.value)
        if record.kind in ("grid_report", "camera_alert"):
            opened.setdefault(incident_id_for(message.event_id), message.grid_code)  # type: ignore[union-attr]
        elif isinstance(message, Disposition):
            actions[message.action] += 1
            # Merged events (extra cameras, corroborating reports) address the first event's incident.
            assert opened.get(message.incident_id) == message.grid_code
            assert geography().ancestor(message.grid_code, geography().level_of(message.unit_code)) == (
                message.unit_code
            )
    for action in DispositionAction:
        assert actions[action] > 0, f"no {action} disposition in a day"


def test_several_cameras_see_one_event_and_false_alarms_have_low_confidence() -> None:
    by_group: dict[tuple[str, str], list[float]] = collections.defaultdict(list)
    rejected: set[UUID] = set()
    alarms: dict[UUID, float] = {}
    for record in Simulator(scenario("camera_false_alarm_storm"), 9, duration=timedelta(hours=24), scale=0.3):
        message = decode_intake(record.value)
        if record.kind == "camera_alert":
            alarms[incident_id_for(message.event_id)] = message.confidence  # type: ignore[union-attr]
            by_group[(message.grid_code, message.alert_type)].append(message.confidence)  # type: ignore[union-attr]
        elif isinstance(message, Disposition) and message.action == DispositionAction.REJECT_FALSE_ALARM:
            rejected.add(message.incident_id)
    assert sum(len(v) > 1 for v in by_group.values()) > 10, "no event seen by several cameras"
    assert rejected and all(alarms[i] < policy().camera_verify_below for i in rejected)


def test_report_rates_follow_county_population_weights_and_time_of_day() -> None:
    per_county: collections.Counter[str] = collections.Counter()
    per_hour: collections.Counter[int] = collections.Counter()
    sim = Simulator(scenario("normal_day"), 11, duration=timedelta(days=1), scale=0.6)
    for record in sim:
        if record.kind == "grid_report":
            per_county[record.key[:6]] += 1  # type: ignore[index]
            per_hour[record.emit_at.hour] += 1
    total = sum(per_county.values())
    assert total > 4000
    for county in geography().counties():
        share = per_county[county.code] / total
        assert share == pytest.approx(county.weight, abs=0.025), county.name
    assert per_hour[10] > 5 * per_hour[3], "reports should peak mid-morning, not at 3 am"


def test_ice_jam_flood_concentrates_on_the_yellow_river_counties() -> None:
    river = {"150822", "150826", "150802", "150821", "150823"}
    ice: collections.Counter[str] = collections.Counter()
    for record in Simulator(scenario("ice_jam_flood"), 2, duration=timedelta(hours=24), scale=0.2):
        if record.kind == "grid_report":
            message = decode_intake(record.value)
            if message.category == "ice_jam":  # type: ignore[union-attr]
                ice[record.key[:6]] += 1  # type: ignore[index]
    assert sum(ice.values()) > 20
    assert set(ice) <= river


def test_clock_ticks_cover_every_intake_partition_each_interval_and_the_end() -> None:
    sim = _small(hours=1)
    ticks = [r for r in sim if r.is_tick]
    times = list(tick_times(sim.start, sim.end, timedelta(minutes=1)))
    assert len(times) == 60 and times[-1] == sim.end
    assert len(ticks) == 61 * 3 * 6  # one per interval, plus the closing ticks
    seen = collections.Counter((r.topic, r.partition) for r in ticks)
    assert len(seen) == 18 and set(seen.values()) == {61}
    # The closing ticks promise, past the end, that nothing at all follows; they are sent at the end.
    closing = [r for r in ticks if r.at > sim.end]
    assert len(closing) == 18
    assert {r.at for r in closing} == {sim.end + policy().allowed_lateness}
    assert {r.emit_at for r in closing} == {sim.end}


def test_every_report_category_has_several_templates_and_descriptions_vary() -> None:
    sc = scenario("normal_day")
    reported = set(sc.urban_mix) | set(sc.rural_mix)
    for name in scenario_names():
        for surge in scenario(name).surges:
            if surge.stream == "reports":
                reported |= set(surge.mix)
    for category in reported:
        assert len(texts().reports.get(category, ())) >= 3, category
    descriptions = {
        decode_intake(r.value).description  # type: ignore[union-attr]
        for r in _small(hours=2)
        if r.kind == "grid_report"
    }
    assert len(descriptions) > 100
    assert all(1 <= len(d) <= 500 for d in descriptions)
    assert all(category in taxonomy().categories for category in reported)


# ---- overlay -------------------------------------------------------------------------------------------


def test_overlay_labels_match_what_was_injected() -> None:
    sim = _small("normal_day", seed=4, hours=6, overlay=overlay("data_quality_heavy"))
    records = list(sim)
    labels: collections.Counter[str] = collections.Counter(r.label for r in records if r.label)
    summary = {name: sum(c.values()) for name, c in sim.summary.labels.items()}
    assert dict(labels) == summary
    assert labels[DUPLICATE] > 10 and labels[LATE] > 5 and labels[OUT_OF_ORDER] > 10
    assert sum(summary[f"malformed:{k}"] for k in MALFORMED_KINDS if f"malformed:{k}" in summary) == sum(
        1 for r in records if r.kind == "malformed"
    )

    lateness = policy().allowed_lateness
    first_seen: dict[str, int] = {}
    for index, record in enumerate(records):
        if record.kind == "malformed":
            with pytest.raises(DecodeError):
                decode_intake(record.value)
            continue
        if record.label == DUPLICATE:
            assert record.event_id in first_seen, "a duplicate must repeat an earlier message"
        elif record.label == LATE:
            assert record.emit_at - record.at > lateness
        elif record.label == OUT_OF_ORDER:
            assert timedelta(0) < record.emit_at - record.at < lateness
        if record.event_id is not None:
            first_seen.setdefault(record.event_id, index)
        assert not (record.anchor and record.label in (LATE, OUT_OF_ORDER)), "anchors are never moved"


@pytest.mark.parametrize("kind", MALFORMED_KINDS)
@pytest.mark.parametrize("source", ["grid_report", "camera_alert", "disposition"])
def test_every_malformed_kind_fails_decoding(kind: str, source: str) -> None:
    import random

    record = next(r for r in _small(hours=2) if r.kind == source)
    raw = corrupt(kind, record.value, source, random.Random(1))
    with pytest.raises(DecodeError):
        decode_intake(raw)


def test_no_overlay_means_no_labels_and_no_malformed() -> None:
    sim = _small(hours=2)
    assert not any(r.label for r in sim)
    assert sim.summary.labels == {}


# ---- recording and replay ------------------------------------------------------------------------------


def test_a_recording_reads_back_to_the_same_records_and_payload_bytes(tmp_path: Path) -> None:
    sim = _small(hours=2, overlay=overlay("data_quality_heavy"))
    path = tmp_path / "r.jsonl.gz"
    _record(sim, path)
    original = list(sim)
    reader = RecordingReader(path)
    replayed = list(reader)
    assert [(r.topic, r.key, r.partition, r.value, r.label) for r in replayed] == [
        (r.topic, r.key, r.partition, r.value, r.label) for r in original
    ]
    assert reader.bad_lines == 0 and reader.consistency() == []
    assert reader.header is not None and reader.header["seed"] == 7
    assert reader.read.kinds == sim.summary.kinds


def test_malformed_replay_lines_are_counted_and_reported_never_dropped_silently(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    sim = _small(hours=1)
    _record(sim, path)
    lines = path.read_bytes().splitlines()
    keyed = [i for i, line in enumerate(lines) if b'"key":"' in line]
    lines[5] = b"{not json"
    lines[6] = orjson.dumps({"topic": "elsewhere", "kind": "grid_report"})
    lines[keyed[10]] = lines[keyed[10]].replace(
        b'"key":"', b'"key":null,"x":"'
    )  # a keyed record lost its key
    path.write_bytes(b"\n".join(lines) + b"\n")

    reader = RecordingReader(path)
    read = list(reader)
    assert reader.bad_lines == 3
    assert len(read) == sim.summary.total - 3
    assert [p.split(":")[0] for p in reader.problems] == ["line 6", "line 7", f"line {keyed[10] + 1}"]
    assert "key None: expected a township code" in reader.problems[2]
    assert reader.consistency() == [f"summary says {sim.summary.total} records, read {sim.summary.total - 3}"]


def test_a_truncated_gzip_recording_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl.gz"
    _record(_small(hours=1), path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    reader = RecordingReader(path)
    list(reader)
    assert reader.bad_lines >= 1 or reader.consistency()


def test_a_record_line_round_trips() -> None:
    record = next(r for r in _small(hours=1) if r.kind == "grid_report")
    back = decode_line(encode_line(record))
    assert (back.topic, back.key, back.at, back.value) == (record.topic, record.key, record.at, record.value)
    assert gzip.decompress(gzip.compress(encode_line(record))) == encode_line(record)


# ---- pacing --------------------------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_pacer_rate_spaces_records_evenly() -> None:
    clock = FakeClock()
    pacer = Pacer(rate=2000, clock=clock, sleep=clock.sleep)
    at = datetime(2025, 1, 1, tzinfo=SHANGHAI)
    for _ in range(20_001):
        pacer.wait(at)
    assert clock.now - 100.0 == pytest.approx(10.0, rel=1e-3)


def test_pacer_speed_maps_simulated_to_wall_time_and_rate_caps_it() -> None:
    clock = FakeClock()
    pacer = Pacer(speed=60, clock=clock, sleep=clock.sleep)
    start = datetime(2025, 1, 1, tzinfo=SHANGHAI)
    pacer.wait(start)
    pacer.wait(start + timedelta(minutes=10))
    assert clock.now - 100.0 == pytest.approx(10.0)

    clock = FakeClock()
    both = Pacer(speed=60, rate=1, clock=clock, sleep=clock.sleep)
    for _ in range(5):
        both.wait(start)  # the same simulated instant: only the rate spaces them
    assert clock.now - 100.0 == pytest.approx(4.0)
    assert Pacer().unpaced


# ---- configuration and CLI -----------------------------------------------------------------------------


def test_scenarios_and_overlays_are_documented_data() -> None:
    assert scenario_names() == SCENARIOS
    for name in SCENARIOS:
        sc = scenario(name)
        assert sc.description or name == "normal_day"
        assert sc.start.tzinfo is not None and sc.duration > timedelta(0)
    assert parse_duration("90m") == timedelta(minutes=90)
    assert parse_start("2025-03-18T06:00").utcoffset() == timedelta(hours=8)
    with pytest.raises(ConfigError, match="expected one of"):
        scenario("atlantis")


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["simulate", "--scenario", "atlantis"], "scenario 'atlantis': expected one of normal_day"),
        (["simulate", "--speed=-1"], "--speed -1.0: expected a number >= 0"),
        (["simulate", "--rate=-5", "--dry-run"], "--rate -5.0: expected a number >= 0"),
        (["simulate", "--speed", "fast"], "--speed 'fast': expected a number >= 0"),
        (
            ["simulate", "--duration", "forever", "--dry-run"],
            "duration 'forever': expected a positive number",
        ),
        (["simulate", "--overlay", "chaos", "--dry-run"], "overlay 'chaos': expected one of data_quality"),
        (["replay", "/no/such/recording.jsonl"], "replay file '/no/such/recording.jsonl': cannot read"),
        (["replay", "/no/such.jsonl", "--rate=-1"], "--rate -1.0: expected a number >= 0"),
    ],
)
def test_bad_cli_values_give_one_line_and_exit_2(
    argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from gridflow.cli import main

    with pytest.raises(SystemExit) as exited:
        main(argv)
    err = capsys.readouterr().err
    assert exited.value.code == 2
    assert err.count("\n") == 1 and expected in err, err


def test_python_m_producers_reports_bad_values_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    from producers.__main__ import main

    with pytest.raises(SystemExit) as exited:
        main(["simulate", "--scenario", "atlantis", "--dry-run"])
    assert exited.value.code == 2
    assert capsys.readouterr().err.startswith("producers: scenario 'atlantis'")


def test_dry_run_records_without_a_broker(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from gridflow.cli import main

    out = tmp_path / "day.jsonl"
    main(["simulate", "--duration", "30m", "--dry-run", "--out", str(out), "--overlay", "data_quality"])
    printed = capsys.readouterr().out
    assert "records" in printed and str(out) in printed
    assert RecordingReader(out).header is not None


def test_an_unreachable_broker_is_reported_within_seconds() -> None:
    from producers.publisher import Publisher

    began = time.perf_counter()
    with pytest.raises(UnreachableError, match=r"127\.0\.0\.1:1"):
        Publisher("127.0.0.1:1")
    assert time.perf_counter() - began < 6.0


def test_records_are_immutable() -> None:
    record = next(iter(_small(hours=1)))
    with pytest.raises(AttributeError):
        record.key = "x"  # type: ignore[misc]
    assert isinstance(record, Record)


def test_overlay_never_holds_an_out_of_order_record_past_a_tick_that_covers_it() -> None:
    import random

    from producers.overlay import apply_overlay
    from producers.record import Kind
    from producers.scenario import Overlay

    start = datetime(2025, 6, 17, 12, 0, tzinfo=SHANGHAI)
    lateness = policy().allowed_lateness

    def record(kind: Kind, at: datetime, emit_at: datetime) -> Record:
        return Record(
            "intake.grid_reports",
            None if kind == "clock_tick" else "150802001",
            None,
            at,
            emit_at,
            kind,
            None,
            b"{}",
        )

    event = record("grid_report", start, start)
    # A closing tick: sent at the end of the period, promising everything up to its `at` minus the lateness.
    closing = record("clock_tick", start + lateness + timedelta(seconds=30), start + timedelta(seconds=5))
    for label, share in ((OUT_OF_ORDER, {"out_of_order": 1.0}), (LATE, {"late": 1.0})):
        out = list(apply_overlay([event, closing], Overlay(name="t", **share), random.Random(1), lateness))
        assert [r.kind for r in out] == (
            ["grid_report", "clock_tick"] if label == OUT_OF_ORDER else ["clock_tick", "grid_report"]
        )
        moved = next(r for r in out if r.kind == "grid_report")
        assert moved.label == label
        if label == OUT_OF_ORDER:
            assert moved.emit_at == closing.emit_at  # released with the tick, still inside the lateness


def test_a_surge_keeps_its_clock_hours_when_the_start_moves() -> None:
    festival = scenario("linhe_festival_crowds")  # crowds from 18:00 to 23:00 in Linhe's subdistricts

    def linhe_alarms(start: str) -> int:
        sim = Simulator(festival, 1, start=parse_start(start), duration=timedelta(hours=1))
        return sum(1 for r in sim if r.kind == "camera_alert" and r.key is not None and r.key[:6] == "150802")

    evening, noon = linhe_alarms("2025-02-12T19:00"), linhe_alarms("2025-02-12T12:00")
    assert evening > noon + 50
