"""Personal data → keyed tokens (schemas.personal): stable per person, unlinkable without the key."""

from __future__ import annotations

import base64
import hashlib
import hmac

import orjson
import pytest

from schemas import personal
from schemas.decode import decode_intake, encode
from schemas.examples import examples
from schemas.messages import DeadLetter, Disposition, GridReport
from schemas.personal import PHONE, REDACTED, Tokeniser

KEY = b"unit-test-key-0123456789"


def _report(
    phone: str = "13912345678", reporter: str = "W-150802-0001", text: str = "邻里纠纷"
) -> GridReport:
    report = examples().report
    return report.model_copy(
        update={
            "reporter": report.reporter.model_copy(update={"id": reporter, "phone": phone}),
            "description": text,
        }
    )


def test_a_token_is_stable_per_value_and_differs_by_key_and_value() -> None:
    tokens = Tokeniser(KEY)
    assert tokens.token("13912345678") == tokens.token("13912345678")
    assert tokens.token("13912345678") != tokens.token("13912345679")
    assert tokens.token("13912345678") != Tokeniser(b"another-key-0123456789").token("13912345678")
    assert tokens.token(tokens.token("13912345678")) == tokens.token("13912345678")  # idempotent


def test_no_token_looks_like_a_phone_number() -> None:
    tokens = Tokeniser(KEY)
    for n in range(5000):
        assert PHONE.search(tokens.token(f"1{n:010d}")) is None


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("请回电 13912345678。", True),
        ("tel:19800001111", True),
        ("grid 150802001001001", False),  # a grid code contains 1[3-9]+9 digits but is longer
        ("40.13912345678", False),  # a decimal, not a number someone dialled
        ("a13912345678", False),  # inside an identifier
        ("12912345678", False),
    ],
)
def test_phone_pattern(text: str, found: bool) -> None:
    assert (PHONE.search(text) is not None) is found


def test_a_report_keeps_nothing_personal_in_its_row_fields_or_its_raw_json() -> None:
    tokens = Tokeniser(KEY)
    report = _report(text="打我电话 15000001111")
    safe, raw = tokens.message(report, encode(report))
    assert isinstance(safe, GridReport)
    assert safe.reporter.id == tokens.token("W-150802-0001")
    assert safe.reporter.phone == tokens.token("13912345678")
    assert "15000001111" not in safe.description and tokens.token("15000001111") in safe.description
    for secret in (b"13912345678", b"15000001111", b"W-150802-0001"):
        assert secret not in raw
    assert orjson.loads(raw)["event_id"] == str(report.event_id)


def test_same_reporter_same_token_so_repeat_reporters_can_be_counted() -> None:
    tokens = Tokeniser(KEY)
    a, b = tokens.report(_report()), tokens.report(_report(text="另一件事"))
    assert a.reporter == b.reporter


def test_scrub_walks_json_and_falls_back_to_the_pattern_for_other_bytes() -> None:
    tokens = Tokeniser(KEY)
    bad = orjson.dumps(
        {
            "kind": "grid_report",
            "reporter": {"id": "W-1", "phone": 13912345678},
            "email": "a@b.cn",
            "x": ["18800001111"],
        }
    )
    out = tokens.scrub(bad)
    assert (
        b"13912345678" not in out
        and b"18800001111" not in out
        and b"a@b.cn" not in out
        and b'"W-1"' not in out
    )
    assert tokens.token("a@b.cn").encode() in out
    assert (
        tokens.scrub(b"\xff not json 13912345678 ...")
        == b"\xff not json " + tokens.token("13912345678").encode() + b" ..."
    )


def test_dead_letters_and_notes_are_scrubbed_too() -> None:
    tokens = Tokeniser(KEY)
    letter = examples().dead_letter.model_copy(update={"raw": b'{"phone":"13912345678"}'})
    safe, raw = tokens.message(letter, encode(letter))
    assert isinstance(safe, DeadLetter) and b"13912345678" not in safe.raw
    assert b"13912345678" not in base64.b64decode(orjson.loads(raw)["raw"])
    note = examples().disposition.model_copy(update={"note": "联系 13912345678"})
    safe_note, raw = tokens.message(note, encode(note))
    assert isinstance(safe_note, Disposition) and b"13912345678" not in raw


def test_without_a_key_personal_data_is_redacted_and_the_control_passes_it_through() -> None:
    report = _report()
    assert Tokeniser(None).report(report).reporter.phone == REDACTED
    off = Tokeniser(KEY, enabled=False)
    assert off.message(report, encode(report))[1] == encode(report)
    assert decode_intake(encode(report)) == report


def test_a_short_key_is_refused() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        Tokeniser(b"short")


def test_a_citizen_report_keeps_no_number_in_its_text() -> None:
    from schemas.messages import CitizenReport

    base = examples().report
    citizen = CitizenReport(
        status=base.status,
        event_id=base.event_id,
        grid_code=base.grid_code,
        category=base.category,
        description="路灯坏了，电话 13912345678",
        location=base.location,
        reported_at=base.reported_at,
        address="某小区 13900001111",
    )
    safe, raw = Tokeniser(KEY).message(citizen, encode(citizen))
    assert isinstance(safe, CitizenReport)
    assert b"13912345678" not in raw and b"13900001111" not in raw
    assert PHONE.search(safe.description) is None and PHONE.search(safe.address) is None


def test_tokens_are_the_keyed_hmac_whether_remembered_or_not(monkeypatch: pytest.MonkeyPatch) -> None:
    # The sink remembers tokens of repeat reporters; the bytes must stay those of the HMAC itself.
    def expected(value: str) -> str:
        digest = hmac.new(KEY, value.encode(), hashlib.sha256).digest()[:16]
        return "pii_" + base64.b32encode(digest).decode("ascii").rstrip("=").lower()

    monkeypatch.setattr(personal, "_REMEMBERED_TOKENS", 3)
    tokens = Tokeniser(KEY)
    values = [f"1391234567{i}" for i in range(8)] * 3  # past the bound: the memory is emptied and refilled
    assert [tokens.token(v) for v in values] == [expected(v) for v in values]
    assert len(tokens._tokens) <= 3
