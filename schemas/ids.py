"""Deterministic ids (UUIDv5), so producers, streams, sinks and tests compute the same id independently.

An incident's id derives from the first source event, a transition's from its incident and sequence number,
a dead letter's from its source coordinates; re-processing after a crash therefore re-creates the same ids,
which is what lets the ClickHouse sink deduplicate redelivered rows.

The namespaces are fixed constants. They were derived once as ``uuid5(NAMESPACE_URL, "urn:gridflow:<name>")``
(a unit test re-derives them) and must never change: changing one changes every stored id.
"""

from __future__ import annotations

from typing import Final
from uuid import UUID, uuid5

INCIDENT_NAMESPACE: Final = UUID("7a84942d-bf63-59bd-adea-12f9f27aa091")
TRANSITION_NAMESPACE: Final = UUID("b7310415-e326-547a-a990-ec930a727868")
DEAD_LETTER_NAMESPACE: Final = UUID("169e8b80-1b60-5761-9e6d-bece48fdae2c")


def incident_id_for(first_event_id: UUID) -> UUID:
    """The id of the incident opened by the event ``first_event_id``."""
    return uuid5(INCIDENT_NAMESPACE, str(first_event_id))


def transition_id_for(incident_id: UUID, seq: int) -> UUID:
    """The id of transition number ``seq`` (1, 2, …) of an incident."""
    if seq < 1:
        raise ValueError(f"transition seq starts at 1, got {seq}")
    return uuid5(TRANSITION_NAMESPACE, f"{incident_id}/{seq}")


def dead_letter_id_for(topic: str, partition: int, offset: int) -> UUID:
    """The id of the dead letter for the record at ``topic``/``partition``/``offset`` (full topic name)."""
    return uuid5(DEAD_LETTER_NAMESPACE, f"{topic}/{partition}/{offset}")
