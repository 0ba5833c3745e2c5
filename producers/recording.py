"""Recordings: a generated stream as JSON lines (optionally gzip), and reading one back for replay.

Format (one JSON object per line, UTF-8)::

    {"header": {"format": "gridflow-recording", "version": 1, "scenario": ..., "seed": ..., ...}}
    {"topic": "intake.grid_reports", "key": "150802001", "partition": null, "at": "...+08:00",
     "emit_at": "...+08:00", "kind": "grid_report", "event_id": "...", "label": null, "message": {...}}
    {"topic": "intake.grid_reports", "key": null, "partition": 3, ..., "kind": "clock_tick", ...}
    {"topic": ..., "kind": "malformed", "event_id": null, "label": "malformed:bad_json", "raw": "<base64>"}
    {"summary": {"total": ..., "kinds": {...}, "topics": {...}, "labels": {...}}}

``topic`` is the base name (the publisher adds the prefix); ``key`` is the township code, or null for clock
ticks, which carry their explicit ``partition``; ``at`` is the message's event time and ``emit_at`` its
place in the simulated stream (later only for records an overlay held back). ``message`` is the payload
exactly as sent — the writer splices the encoded bytes in, and the reader cuts them back out, so a replay
sends the same bytes. Malformed payloads are not JSON, so they travel base64-encoded as ``raw``. The same
seed, scenario and period give a byte-identical file (gzip too: no name, mtime 0).

Reading never drops a line silently: a line that is not a valid record is counted in ``bad_lines`` and
described in ``problems``; a missing or disagreeing summary line is reported too.
"""

from __future__ import annotations

import base64
import binascii
import gzip
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Final, cast

import orjson

from infra.errors import ConfigError
from producers.record import KINDS, Record, Summary

_MESSAGE_FIELD: Final = b',"message":'
_GZIP_MAGIC: Final = b"\x1f\x8b"
_MAX_PROBLEMS: Final = 20  # problems kept verbatim; all are counted
_BUFFER: Final = 1 << 20


def _open_write(path: Path) -> tuple[IO[bytes], IO[bytes]]:
    """(the stream to write records to, the underlying file); the same object when not compressed."""
    raw = open(path, "wb", buffering=_BUFFER)  # noqa: SIM115 - closed by RecordingWriter.close
    if path.suffix == ".gz":
        # No file name and mtime 0 in the gzip header, so the same stream gives the same bytes.
        gz = gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6)
        return cast(IO[bytes], gz), raw
    return raw, raw


def encode_line(record: Record) -> bytes:
    """One record as a recording line (without the newline)."""
    head = orjson.dumps(
        {
            "topic": record.topic,
            "key": record.key,
            "partition": record.partition,
            "at": record.at.isoformat(),
            "emit_at": record.emit_at.isoformat(),
            "kind": record.kind,
            "event_id": record.event_id,
            "label": record.label,
        }
    )
    if record.kind == "malformed":
        return head[:-1] + b',"raw":' + orjson.dumps(base64.b64encode(record.value).decode()) + b"}"
    return head[:-1] + _MESSAGE_FIELD + record.value + b"}"


class RecordingWriter:
    """Writes a header, records as they come, and a summary line on :meth:`close`."""

    def __init__(self, path: Path, header: dict[str, Any]) -> None:
        self.path = path
        try:
            self._file, self._raw = _open_write(path)
        except OSError as exc:
            raise ConfigError(
                f"--out {str(path)!r}: cannot write ({exc.strerror or exc}); expected a writable file path"
            ) from None
        self._file.write(orjson.dumps({"header": header}) + b"\n")

    def write(self, record: Record) -> None:
        self._file.write(encode_line(record) + b"\n")

    def close(self, summary: Summary) -> None:
        self._file.write(orjson.dumps({"summary": summary.to_json_obj()}) + b"\n")
        self._file.close()
        self._raw.close()  # GzipFile.close leaves the file it wraps open

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if not self._file.closed:
            self._file.close()
        self._raw.close()


class BadLine(ValueError):
    """A recording line that is not a valid record."""


def decode_line(line: bytes) -> Record:
    """A record line back into a Record; BadLine says what is wrong with it."""
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise BadLine(f"not JSON ({exc.msg})") from None
    if not isinstance(obj, dict):
        raise BadLine("not a JSON object")
    topic, key, partition, kind = obj.get("topic"), obj.get("key"), obj.get("partition"), obj.get("kind")
    if not isinstance(topic, str) or not topic.startswith("intake."):
        raise BadLine(f"topic {topic!r}: expected an intake topic name")
    if kind not in KINDS:
        raise BadLine(f"kind {kind!r}: expected one of {', '.join(KINDS)}")
    if kind == "clock_tick":
        if not isinstance(partition, int) or isinstance(partition, bool) or partition < 0:
            raise BadLine(f"partition {partition!r}: a clock tick needs a partition number >= 0")
        key = None
    elif not isinstance(key, str) or not key:
        raise BadLine(f"key {key!r}: expected a township code")
    else:
        partition = None
    try:
        at = datetime.fromisoformat(obj["at"])
        emit_at = datetime.fromisoformat(obj.get("emit_at") or obj["at"])
    except (KeyError, TypeError, ValueError):
        raise BadLine(f"at {obj.get('at')!r}: expected an ISO time with offset") from None
    if at.tzinfo is None or emit_at.tzinfo is None:
        raise BadLine(f"at {obj.get('at')!r}: expected an ISO time with offset")
    if "raw" in obj:
        try:
            value = base64.b64decode(obj["raw"], validate=True)
        except (binascii.Error, TypeError, ValueError):
            raise BadLine("raw: expected base64") from None
    elif isinstance(obj.get("message"), dict):
        value = _message_bytes(line, obj["message"])
    else:
        raise BadLine("expected a message object or raw base64 bytes")
    event_id, label = obj.get("event_id"), obj.get("label")
    return Record(
        topic=topic,
        key=key,
        partition=partition,
        at=at,
        emit_at=emit_at,
        kind=kind,
        event_id=event_id if isinstance(event_id, str) else None,
        value=value,
        label=label if isinstance(label, str) else None,
    )


def _message_bytes(line: bytes, message: object) -> bytes:
    # The writer puts the encoded payload last, verbatim: cut it out so replay sends the recorded bytes.
    start = line.find(_MESSAGE_FIELD)
    body = line.rstrip()
    if start >= 0 and body.endswith(b"}}"):
        return body[start + len(_MESSAGE_FIELD) : -1]
    return orjson.dumps(message)  # a hand-edited or re-serialised line: same JSON, maybe other spacing


class RecordingReader:
    """Iterates the records of a recording; header, summary and bad lines are available as it goes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.header: dict[str, Any] | None = None
        self.summary: Summary | None = None
        self.bad_lines = 0
        self.problems: list[str] = []
        self.read = Summary()  # what was read (and yielded), by kind, topic and label
        try:
            with open(path, "rb") as probe:
                self._gzip = probe.read(2) == _GZIP_MAGIC
        except OSError as exc:
            raise ConfigError(
                f"replay file {str(path)!r}: cannot read ({exc.strerror or exc}); "
                "expected a recording written by `gridflow simulate --out`"
            ) from None
        # Read the header now, so a file that is not a recording fails before anything is sent.
        first = next(self._lines(), None)
        if first is not None:
            try:
                obj = orjson.loads(first[1])
            except orjson.JSONDecodeError:
                obj = None
            if isinstance(obj, dict) and isinstance(obj.get("header"), dict):
                self.header = obj["header"]
        if self.header is None:
            raise ConfigError(
                f"replay file {str(path)!r}: no gridflow recording header on line 1; "
                "expected a recording written by `gridflow simulate --out`"
            )

    def _lines(self) -> Iterator[tuple[int, bytes]]:
        raw = open(self.path, "rb", buffering=_BUFFER)  # noqa: SIM115 - closed below
        stream: IO[bytes] = cast(IO[bytes], gzip.GzipFile(fileobj=raw, mode="rb")) if self._gzip else raw
        try:
            yield from enumerate(stream, 1)
        except (OSError, EOFError) as exc:
            self._problem(0, f"file ends early or is corrupt ({exc})")
        finally:
            stream.close()
            raw.close()

    def _problem(self, number: int, text: str) -> None:
        self.bad_lines += 1
        if len(self.problems) < _MAX_PROBLEMS:
            self.problems.append(f"line {number}: {text}" if number else text)

    def __iter__(self) -> Iterator[Record]:
        for number, line in self._lines():
            if number == 1 or not line.strip():
                continue
            if line.startswith(b'{"summary"'):
                try:
                    self.summary = Summary.from_json_obj(orjson.loads(line)["summary"])
                except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError):
                    self._problem(number, "unreadable summary line")
                continue
            try:
                record = decode_line(line)
            except BadLine as exc:
                self._problem(number, str(exc))
                continue
            self.read.add(record)
            yield record

    def consistency(self) -> list[str]:
        """After iteration: disagreements between the file's summary line and what was read."""
        if self.summary is None:
            return ["no summary line: the recording may be truncated"]
        if self.summary.total != self.read.total:
            return [f"summary says {self.summary.total} records, read {self.read.total}"]
        return []
