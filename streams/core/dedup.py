"""Event ids already applied on a partition, kept for a bounded window of event time.

Kafka redelivers after a crash (at-least-once), so the escalation step must recognise an event it has
already applied. A redelivered message is byte-identical, so its event time is the original one: ids are
filed in *generations* of one window of event time each, a lookup reads only the generation of the event's
own time, and expiry drops a whole generation at once — no per-event timer. A generation is dropped when
every id in it is older than the watermark minus the window; the step dead-letters such old events as late
instead of applying them, so an expired id can never be applied twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from streams.core.pmap import PMap

__all__ = ["SeenSet"]


@dataclass(frozen=True, slots=True)
class SeenSet:
    """Event ids by generation (``floor(epoch seconds / span)``), oldest generation first.

    Each id maps to its generation number, which is what a per-key changelog stores for it.
    """

    span: int  # seconds of event time per generation (the dedup window)
    generations: tuple[tuple[int, PMap[UUID, int]], ...] = ()

    @classmethod
    def empty(cls, window: timedelta) -> SeenSet:
        return cls(max(1, int(window.total_seconds())))

    def _generation(self, at: datetime) -> int:
        return int(at.timestamp()) // self.span

    def __len__(self) -> int:
        return sum(len(ids) for _, ids in self.generations)

    def __iter__(self) -> Iterator[UUID]:
        for _, ids in self.generations:
            yield from ids

    def __contains__(self, item: object) -> bool:
        return any(item in ids for _, ids in self.generations)

    def contains(self, event_id: UUID, at: datetime) -> bool:
        """Whether the event (id and event time, as redelivered) was applied."""
        gen = self._generation(at)
        for number, ids in self.generations:
            if number == gen:
                return event_id in ids
        return False

    def add(self, event_id: UUID, at: datetime) -> SeenSet:
        return self.added(event_id, at) or self

    def added(self, event_id: UUID, at: datetime) -> SeenSet | None:
        """The set with the event added, or None if it was already there (one generation lookup)."""
        gen = self._generation(at)
        gens = self.generations
        for i, (number, ids) in enumerate(gens):
            if number == gen:
                if event_id in ids:
                    return None
                return SeenSet(self.span, (*gens[:i], (gen, ids.set(event_id, gen)), *gens[i + 1 :]))
        fresh: PMap[UUID, int] = PMap(((event_id, gen),))
        return SeenSet(self.span, tuple(sorted((*gens, (gen, fresh)), key=lambda item: item[0])))

    def expire(self, watermark: datetime) -> SeenSet:
        """Drop generations whose every event is at least one span behind the watermark."""
        # Every event of generation g is earlier than (g + 1) * span, so once that is at most the watermark
        # minus one span, each of them is one the step now refuses as late.
        gens = self.generations
        cutoff = int(watermark.timestamp()) - self.span
        if not gens or (gens[0][0] + 1) * self.span > cutoff:
            return self  # the oldest generation still counts, and so do the later ones
        kept = tuple(item for item in gens if (item[0] + 1) * self.span > cutoff)
        return SeenSet(self.span, kept)

    def diff(self, older: SeenSet) -> tuple[list[UUID], list[UUID]]:
        """Ids added and ids dropped since ``older``."""
        old = dict(older.generations)
        new = dict(self.generations)
        changed: list[UUID] = []
        removed: list[UUID] = []
        for number, ids in new.items():
            before = old.get(number)
            changed += list(ids) if before is None else ids.diff(before)[0]
        for number, ids in old.items():
            if number not in new:
                removed += list(ids)
        return changed, removed

    def to_json_obj(self) -> dict[str, Any]:
        return {
            "span": self.span,
            "generations": {str(number): sorted(str(i) for i in ids) for number, ids in self.generations},
        }

    @classmethod
    def from_json_obj(cls, obj: dict[str, Any]) -> SeenSet:
        gens = [(int(n), PMap((UUID(i), int(n)) for i in ids)) for n, ids in obj["generations"].items()]
        return cls(obj["span"], tuple(sorted(gens, key=lambda item: item[0])))

    def generation_of(self, event_id: UUID) -> int | None:
        """The generation holding ``event_id`` (the value a per-key changelog stores), or None."""
        for _, ids in self.generations:
            gen = ids.get(event_id)
            if gen is not None:
                return gen
        return None

    @classmethod
    def from_generations(cls, span: int, pieces: dict[UUID, int]) -> SeenSet:
        """Rebuild from per-id pieces (event id → generation)."""
        by_gen: dict[int, list[tuple[UUID, int]]] = {}
        for event_id, gen in pieces.items():
            by_gen.setdefault(gen, []).append((event_id, gen))
        return cls(span, tuple((gen, PMap(items)) for gen, items in sorted(by_gen.items())))
