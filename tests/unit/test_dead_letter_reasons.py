"""One dead-letter vocabulary: the worker, the core and the sink label dead letters with the same codes."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from schemas.decode import decode_intake
from schemas.enums import DeadLetterReason, MessageStatus
from schemas.errors import DecodeError
from schemas.messages import DeadLetter, reason_of
from sinks.landing import REJECTED
from streams.core.outputs import ErrorClass


def test_every_code_is_snake_case() -> None:
    assert all(re.fullmatch(r"[a-z]+(_[a-z]+)*", reason.value) for reason in DeadLetterReason)


def test_the_core_error_classes_are_contract_codes() -> None:
    assert {e.value for e in ErrorClass} <= {r.value for r in DeadLetterReason}


def test_the_sink_refusal_is_a_contract_code() -> None:
    assert REJECTED in set(DeadLetterReason)


@pytest.mark.parametrize("raw", [b"not json", b'{"kind": "grid_report"}', b"\xff\xfe", b""])
def test_a_decode_failure_is_dead_lettered_as_decode_error(raw: bytes) -> None:
    with pytest.raises(DecodeError) as caught:
        decode_intake(raw)
    letter = DeadLetter.for_record(
        status=MessageStatus.EXERCISE,
        topic="intake.grid_reports",
        partition=0,
        offset=3,
        raw=raw,
        error=caught.value,
        processed_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
    )
    assert letter.error_class == "decode_error"


def test_other_exceptions_get_their_snake_case_name() -> None:
    assert reason_of(UnicodeDecodeError("utf-8", b"\xff", 0, 1, "bad")) == "unicode_decode_error"
    assert reason_of(KeyError("x")) == "key_error"
