"""Deterministic ids (UUIDv5), so producers, streams, sinks and tests compute the same id independently.

An incident's id derives from the first source event, a transition's from its incident and sequence number,
a dead letter's from its source coordinates; re-processing after a crash therefore re-creates the same ids,
which is what lets the ClickHouse sink deduplicate redelivered rows.

The namespaces are fixed constants. They were derived once as ``uuid5(NAMESPACE_URL, "urn:gridflow:<name>")``
(a unit test re-derives them) and must never change: changing one changes every stored id.

The ids are computed here with hashlib directly rather than `uuid.uuid5`: the escalation core makes one
per transition and one per incoming event, and the generic function (bytes in, a UUID built through its
validating constructor) was a noticeable share of a step. The result is the same UUIDv5, bit for bit
(a unit test compares it with `uuid.uuid5`).
"""

from __future__ import annotations

import functools
import hashlib
from typing import TYPE_CHECKING, Final
from uuid import UUID

if TYPE_CHECKING:
    from hashlib import _Hash

INCIDENT_NAMESPACE: Final = UUID("7a84942d-bf63-59bd-adea-12f9f27aa091")
TRANSITION_NAMESPACE: Final = UUID("b7310415-e326-547a-a990-ec930a727868")
DEAD_LETTER_NAMESPACE: Final = UUID("169e8b80-1b60-5761-9e6d-bece48fdae2c")

# RFC 4122 §4.3: the first 128 bits of SHA-1(namespace bytes + name), with the version (5) and variant
# (10xx) bits overwritten.
_CLEAR: Final = ~((0xF000 << 64) | (0xC000 << 48))
_SET: Final = (0x5000 << 64) | (0x8000 << 48)


def _uuid5(hasher: _Hash) -> UUID:
    """The UUIDv5 of a SHA-1 that has taken the namespace and the name."""
    return UUID(int=int.from_bytes(hasher.digest()[:16]) & _CLEAR | _SET)


def _name5(namespace: UUID, name: str) -> UUID:
    return _uuid5(hashlib.sha1(namespace.bytes + name.encode()))


def incident_id_for(first_event_id: UUID) -> UUID:
    """The id of the incident opened by the event ``first_event_id``."""
    return _name5(INCIDENT_NAMESPACE, str(first_event_id))


@functools.lru_cache(maxsize=1 << 14)
def _transition_prefix(incident_id: UUID) -> _Hash:
    # An incident makes a few transitions in a row: hash "<namespace><incident id>/" once for all of them.
    return hashlib.sha1(TRANSITION_NAMESPACE.bytes + f"{incident_id}/".encode())


def transition_id_for(incident_id: UUID, seq: int) -> UUID:
    """The id of transition number ``seq`` (1, 2, …) of an incident."""
    if seq < 1:
        raise ValueError(f"transition seq starts at 1, got {seq}")
    hasher = _transition_prefix(incident_id).copy()
    hasher.update(b"%d" % seq)
    return _uuid5(hasher)


def dead_letter_id_for(topic: str, partition: int, offset: int) -> UUID:
    """The id of the dead letter for the record at ``topic``/``partition``/``offset`` (full topic name)."""
    return _name5(DEAD_LETTER_NAMESPACE, f"{topic}/{partition}/{offset}")
