"""Bytes ↔ messages at the edge: :func:`decode`, :func:`decode_intake`, :func:`encode`.

Decoding never raises anything but :class:`~schemas.errors.DecodeError`, whatever the bytes are (too big,
not UTF-8, not JSON, wrong shape, breaking the contract), so a stream processor can send every failure to the
dead-letter topic with one ``except``. Parsing uses pydantic-core's Rust JSON parser (``validate_json``)
straight from bytes; payloads over 64 KiB are rejected before any parsing.

Usage::

    report = decode(raw, GridReport)
    message = decode_intake(raw)      # GridReport | CameraAlert | Disposition | ClockTick, by "kind"
    raw = encode(message)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final, TypeVar, cast

from pydantic import BaseModel, TypeAdapter, ValidationError

from schemas.errors import DecodeError, Problem
from schemas.messages import (
    AnyIntake,
    CameraAlert,
    CitizenReport,
    ClockTick,
    DeadLetter,
    Disposition,
    GridReport,
    Incident,
    IntakeMessage,
    Message,
    MessageUnion,
    Transition,
)

MAX_PAYLOAD_BYTES: Final = 64 * 1024
_EXCERPT_CHARS = 60
# Field names whose values are personal data: never copied into errors, logs or dead letters.
_PERSONAL_FIELDS = frozenset({"phone", "contact_ref"})
_KINDS = frozenset(
    {
        "grid_report",
        "camera_alert",
        "disposition",
        "clock_tick",
        "citizen_report",
        "incident",
        "transition",
        "dead_letter",
    }
)

M = TypeVar("M", bound=BaseModel)
U = TypeVar("U")

# encode() always writes "kind" first, so a payload usually names its model in its first 13 bytes:
# b'{"kind":"' plus the kind's first four letters, which differ between all eight kinds. One slice and one
# dict lookup then pick the model, cheaper than the discriminated union's dispatch; the model's own kind
# Literal still checks the whole value. Anything else takes the general union path.
_PREFIX_LENGTH = len(b'{"kind":"') + 4
_INTAKE_MODELS: dict[bytes, type[AnyIntake]] = {
    f'{{"kind":"{m.model_fields["kind"].default}"'.encode()[:_PREFIX_LENGTH]: m
    for m in (GridReport, CameraAlert, Disposition, ClockTick, CitizenReport)
}
_ALL_MODELS: dict[bytes, type[MessageUnion]] = {
    f'{{"kind":"{m.model_fields["kind"].default}"'.encode()[:_PREFIX_LENGTH]: m
    for m in (
        GridReport,
        CameraAlert,
        Disposition,
        ClockTick,
        CitizenReport,
        Incident,
        Transition,
        DeadLetter,
    )
}
if len(_ALL_MODELS) != len(_KINDS):  # a new kind sharing four letters with another must not shadow it
    raise RuntimeError("message kinds must differ in their first four letters")
# The general path (a payload that does not start with a known kind) keeps the core's union, so its error
# messages, and the dead letters that quote them, stay what they were; a citizen's report, encoded by the
# web command centre, always starts with its kind and takes the fast path.
_intake_adapter: TypeAdapter[AnyIntake] = TypeAdapter(IntakeMessage)
_message_adapter: TypeAdapter[MessageUnion] = TypeAdapter(Message)


def decode(raw: bytes, model: type[M]) -> M:
    """Decode and validate one JSON message of type ``model``; raise DecodeError listing every problem."""
    # The common case (bytes under the limit) costs one type check and one len; see bench/bench_decode.py.
    if type(raw) is not bytes or len(raw) > MAX_PAYLOAD_BYTES:
        _check_payload(raw)
    try:
        # The model's validator directly: model_validate_json adds a Python frame and keyword passing
        # that cost about 10% of a grid report's decode.
        decoded: M = model.__pydantic_validator__.validate_json(raw)  # typed variable, not cast(): no call
        return decoded
    except ValidationError as exc:
        raise DecodeError(_problems(exc, strip_tag=False)) from None
    except Exception as exc:  # a bug in a validator must still be a DecodeError, never a crash
        raise _internal(raw, exc) from exc


def decode_intake(raw: bytes) -> AnyIntake:
    """Decode any intake message (grid report, camera alert, disposition, clock tick, citizen report)."""
    return _decode_by_kind(raw, _INTAKE_MODELS, _intake_adapter)


def decode_message(raw: bytes) -> MessageUnion:
    """Decode any gridflow message, intake or derived, by its ``kind``."""
    return _decode_by_kind(raw, _ALL_MODELS, _message_adapter)


def _decode_by_kind(raw: bytes, models: Mapping[bytes, type[BaseModel]], adapter: TypeAdapter[U]) -> U:
    """The model named by the payload's leading ``kind`` when it is there, else the whole union."""
    if type(raw) is bytes:
        model = models.get(raw[:_PREFIX_LENGTH])
        if model is not None:
            try:
                return cast(U, decode(raw, model))
            except DecodeError as exc:
                if "kind" not in exc.paths:
                    raise
                # The kind only shares its first letters with the model's: the union reports it properly.
    return _decode_union(raw, adapter)


def encode(msg: BaseModel) -> bytes:
    """Serialise a message to compact JSON bytes (the wire format); the inverse of :func:`decode`."""
    return msg.__pydantic_serializer__.to_json(msg)


def _decode_union(raw: bytes, adapter: TypeAdapter[U]) -> U:
    if type(raw) is not bytes or len(raw) > MAX_PAYLOAD_BYTES:
        _check_payload(raw)
    try:
        return adapter.validate_json(raw)
    except ValidationError as exc:
        raise DecodeError(_problems(exc, strip_tag=True)) from None
    except Exception as exc:
        raise _internal(raw, exc) from exc


def _check_payload(raw: object) -> None:
    """Raise DecodeError unless ``raw`` is bytes-like and within the size limit."""
    if not isinstance(raw, bytes | bytearray | memoryview):
        # Kafka tombstones arrive as None; anything that is not bytes is a bad record, not a crash.
        raise DecodeError([Problem("$", _excerpt(raw), "JSON bytes", "not_bytes")])
    size = len(raw)
    if size > MAX_PAYLOAD_BYTES:
        expected = f"a payload of at most {MAX_PAYLOAD_BYTES} bytes"
        raise DecodeError([Problem("$", f"<{size} bytes>", expected, "payload_too_large")])


def _internal(raw: object, exc: Exception) -> DecodeError:
    return DecodeError([Problem("$", _excerpt(raw), f"JSON bytes ({type(exc).__name__})", "internal")])


def _problems(exc: ValidationError, strip_tag: bool) -> list[Problem]:
    problems = []
    for err in exc.errors(include_url=False):
        loc: Sequence[int | str] = err["loc"]
        # A discriminated union puts the tag first ("grid_report", "location", "lon"); paths are per message.
        if strip_tag and loc and loc[0] in _KINDS:
            loc = loc[1:]
        code = err["type"]
        if code in ("union_tag_invalid", "union_tag_not_found"):
            path = "kind"
        else:
            path = ".".join(str(part) for part in loc) or "$"
        if code in ("missing", "union_tag_not_found"):
            excerpt = "<missing>"
        elif code == "union_tag_invalid":
            excerpt = repr(err.get("ctx", {}).get("tag"))[:_EXCERPT_CHARS]
        elif loc and str(loc[-1]) in _PERSONAL_FIELDS:
            excerpt = "<redacted>"
        else:
            excerpt = _excerpt(err["input"])
        problems.append(Problem(path, excerpt, err["msg"], code))
    return problems


def _excerpt(value: object) -> str:
    """A short rendering of a bad value; containers are summarised so nested personal data never leaks."""
    if isinstance(value, dict):
        small = len(value) <= 4 and not any(isinstance(v, dict | list) for v in value.values())
        if small and _PERSONAL_FIELDS.isdisjoint(value):
            text = repr(value)  # e.g. a location {'lon': 200.0, 'lat': 41.0}: worth showing
            return text if len(text) <= _EXCERPT_CHARS else text[: _EXCERPT_CHARS - 1] + "…"
        return f"<object with {len(value)} keys>"
    if isinstance(value, list | tuple):
        return f"<array of {len(value)}>"
    if isinstance(value, bytes | bytearray | memoryview):
        data = bytes(value[:_EXCERPT_CHARS])
        text = repr(data) + ("…" if len(value) > _EXCERPT_CHARS else "")
        return text
    text = repr(value)
    return text if len(text) <= _EXCERPT_CHARS else text[: _EXCERPT_CHARS - 1] + "…"
