"""Property tests: every message type survives encode → decode unchanged, and decoding garbage only ever
raises DecodeError."""

from __future__ import annotations

import json
import random

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from schemas import (
    CameraAlert,
    ClockTick,
    DeadLetter,
    DecodeError,
    Disposition,
    GridReport,
    Incident,
    Transition,
    decode,
    decode_intake,
    decode_message,
    encode,
)
from schemas import strategies as gs
from schemas.examples import examples

ROUND_TRIP_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

CASES: list[tuple[type[BaseModel], st.SearchStrategy[BaseModel]]] = [
    (GridReport, gs.grid_reports()),
    (CameraAlert, gs.camera_alerts()),
    (Disposition, gs.dispositions()),
    (ClockTick, gs.clock_ticks()),
    (Incident, gs.incidents()),
    (Transition, gs.transitions()),
    (DeadLetter, gs.dead_letters()),
]


@pytest.mark.parametrize(("model", "strategy"), CASES, ids=[m.__name__ for m, _ in CASES])
def test_encode_then_decode_gives_an_equal_message(
    model: type[BaseModel], strategy: st.SearchStrategy[BaseModel]
) -> None:
    @ROUND_TRIP_SETTINGS
    @given(strategy)
    def check(msg: BaseModel) -> None:
        raw = encode(msg)
        assert isinstance(raw, bytes)
        decoded = decode(raw, model)
        assert decoded == msg
        assert type(decoded) is model
        assert decode_message(raw) == msg
        assert encode(decoded) == raw  # the wire form is canonical

    check()


@ROUND_TRIP_SETTINGS
@given(gs.intake_messages())
def test_decode_intake_dispatches_on_kind(msg: BaseModel) -> None:
    decoded = decode_intake(encode(msg))
    assert type(decoded) is type(msg)
    assert decoded == msg


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048))
def test_arbitrary_bytes_raise_only_decode_error(raw: bytes) -> None:
    with pytest.raises(DecodeError) as info:
        decode_intake(raw)
    assert info.value.problems


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(gs.intake_messages(), st.data())
def test_mutated_messages_decode_or_raise_decode_error(msg: BaseModel, data: st.DataObject) -> None:
    doc = orjson.loads(encode(msg))
    key = data.draw(st.sampled_from(sorted(doc)))
    doc[key] = data.draw(json_values)
    raw = json.dumps(doc).encode()  # stdlib: also writes integers beyond 64 bits
    try:
        decoded = decode_intake(raw)
    except DecodeError as exc:
        assert exc.problems
    else:
        assert encode(decoded)  # accepted means it is a valid, encodable message


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(gs.messages(), st.randoms(use_true_random=False))
def test_key_order_and_whitespace_do_not_matter(msg: BaseModel, rnd: random.Random) -> None:
    # encode() writes "kind" first and decode takes a shortcut on that; other producers may not.
    doc = orjson.loads(encode(msg))
    items = list(doc.items())
    rnd.shuffle(items)
    raw = json.dumps(dict(items), indent=1, ensure_ascii=rnd.random() < 0.5).encode()
    assert decode_message(raw) == msg
    assert decode(raw, type(msg)) == msg
    if msg.kind in {"grid_report", "camera_alert", "disposition", "clock_tick"}:
        assert decode_intake(raw) == msg


@pytest.mark.parametrize("kind", ["grid_reportx", "gridiron", "dead", "clock"])
def test_kind_sharing_a_prefix_is_still_rejected(kind: str) -> None:
    doc = orjson.loads(encode(examples().report))
    doc["kind"] = kind
    with pytest.raises(DecodeError) as info:
        decode_message(orjson.dumps(doc))
    assert info.value.paths == ["kind"]
