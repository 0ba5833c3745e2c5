"""The delivery ledger: one JSON line per record the broker acknowledged (the delivery oracle's input).

Each line is ``{"event_id", "kind", "label", "topic", "partition", "offset"}`` with the full (prefixed)
topic name. Grid reports, camera alerts and dispositions carry their event id; malformed payloads have
``"event_id": null`` and their ``malformed:<kind>`` label, and their coordinates give the id of the dead
letter the streams should write (``schemas.ids.dead_letter_id_for``). Clock ticks are not listed: they are
control messages, and a day holds tens of thousands of them. A duplicate injected by an overlay is
acknowledged, and listed, twice.

Lines are written as the publisher settles acknowledged sends (in send order per partition, not
necessarily across partitions); :func:`read_ledger` loads a ledger for tests and oracles.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson

from infra.errors import ConfigError
from producers.record import Record


@dataclass(frozen=True, slots=True)
class Entry:
    """One acknowledged record."""

    event_id: str | None
    kind: str
    label: str | None
    topic: str
    partition: int
    offset: int


class Ledger:
    """A JSONL file of acknowledged records, started afresh (thread-safe)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._file: IO[bytes] = open(path, "wb", buffering=1 << 16)  # noqa: SIM115 - closed in close()
        except OSError as exc:
            raise ConfigError(
                f"--ledger {str(path)!r}: cannot write ({exc.strerror or exc}); expected a writable file path"
            ) from None
        self._lock = threading.Lock()
        self.count = 0

    def acknowledged(self, record: Record, topic: str, partition: int, offset: int) -> None:
        line = orjson.dumps(
            {
                "event_id": record.event_id,
                "kind": record.kind,
                "label": record.label,
                "topic": topic,
                "partition": partition,
                "offset": offset,
            }
        )
        with self._lock:
            self._file.write(line + b"\n")
            self.count += 1

    def close(self) -> None:
        with self._lock:
            if not self._file.closed:
                self._file.close()


def read_ledger(path: Path) -> list[Entry]:
    """All entries of a ledger file, in file order."""
    entries = []
    with open(path, "rb") as file:
        for line in file:
            obj: dict[str, Any] = orjson.loads(line)
            entries.append(Entry(**obj))
    return entries
