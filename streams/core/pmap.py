"""A persistent (immutable, structure-sharing) mapping for the streams' state, with a cheap diff.

The escalation state machine is a pure function ``step(state, event) -> (state, outputs)``, so every state
store (incidents, grid indexes, township windows, ...) must be an immutable value. `PMap` wraps
``immutables.Map`` (a hash array mapped trie in C: a write copies a few small nodes, two to three times
cheaper than the hand-written trie it replaced), and adds what the checkpoint chain needs: `PMap.diff`, the
keys set or removed since an older version.

For that, the versions of one line of history share a journal: the list of keys each write touched. A
version remembers how long the journal was when it was made, so the keys written between two versions are a
slice of it. A write to a version that is not the newest of its line (a branch) starts a new journal, and so
does a journal grown past twice the map's size (so it costs at most a few pointers per entry). Between
versions of different journals `diff` compares the two maps entry by entry: correct, only slower.

Iteration order follows the key hashes; ``str`` hashes are randomised per process, so nothing whose
output must be deterministic may depend on it — callers sort.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator, Mapping
from typing import Final, Generic, TypeVar, overload

import immutables

__all__ = ["PMap"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
D = TypeVar("D")

_MISSING: Final = object()
# A journal never needs to be reset below this length (a reset makes the next diff a full comparison).
_MIN_JOURNAL: Final = 4096
_new_pmap: Final = object.__new__


class PMap(Mapping[K, V], Generic[K, V]):
    """Immutable mapping; `set`/`remove`/`update` return new maps sharing unchanged parts."""

    __slots__ = ("_at", "_journal", "_map")

    _map: immutables.Map[K, V]
    _journal: list[K]  # keys written along this line of versions, shared by them (module docstring)
    _at: int  # length of the journal when this version was made

    def __init__(self, items: Mapping[K, V] | Iterable[tuple[K, V]] = ()) -> None:
        pairs = items.items() if isinstance(items, Mapping) else items
        self._map = immutables.Map(pairs)
        self._journal = []
        self._at = 0

    def _derive(self, new: immutables.Map[K, V], keys: Iterable[K]) -> PMap[K, V]:
        journal = self._journal
        if len(journal) == self._at and self._at < max(_MIN_JOURNAL, 2 * len(new)):
            journal.extend(keys)
        else:  # a branch, or a journal grown too long: start a new line
            journal = []
        derived: PMap[K, V] = _new_pmap(PMap)
        derived._map = new
        derived._journal = journal
        derived._at = len(journal)
        return derived

    # -- reading -------------------------------------------------------------------------------------

    def __getitem__(self, key: K) -> V:
        return self._map[key]

    @overload
    def get(self, key: K, /) -> V | None: ...
    @overload
    def get(self, key: K, default: V | D, /) -> V | D: ...
    def get(self, key: K, default: object = None, /) -> object:
        return self._map.get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self._map

    def __len__(self) -> int:
        return len(self._map)

    def __iter__(self) -> Iterator[K]:
        return iter(self._map)

    def __repr__(self) -> str:
        return f"PMap({dict(self._map.items())!r})"

    # -- writing (persistent) --------------------------------------------------------------------------

    def set(self, key: K, value: V) -> PMap[K, V]:
        # `_derive` written out: this is the hot write (most steps set one entry per store).
        current = self._map
        if current.get(key, _MISSING) is value:
            return self
        new = current.set(key, value)
        journal = self._journal
        if len(journal) == self._at and self._at < max(_MIN_JOURNAL, 2 * len(new)):
            journal.append(key)
        else:
            journal = []
        derived: PMap[K, V] = _new_pmap(PMap)
        derived._map = new
        derived._journal = journal
        derived._at = len(journal)
        return derived

    def remove(self, key: K) -> PMap[K, V]:
        """Without ``key``; the same map if it is absent."""
        if key not in self._map:
            return self
        return self._derive(self._map.delete(key), (key,))

    def update(self, pairs: Mapping[K, V] | Iterable[tuple[K, V]]) -> PMap[K, V]:
        """Many writes at once."""
        items = list(pairs.items() if isinstance(pairs, Mapping) else pairs)
        if len(items) <= 1:  # most steps write one entry per store
            return self.set(*items[0]) if items else self
        written: list[K] = []
        with self._map.mutate() as mutation:
            for key, value in items:
                if mutation.get(key, _MISSING) is not value:
                    mutation[key] = value
                    written.append(key)
            new = mutation.finish()
        return self._derive(new, written) if written else self

    # -- comparing versions ----------------------------------------------------------------------------

    def diff(self, older: PMap[K, V]) -> tuple[list[K], list[K]]:
        """Keys set (added or replaced by another object) and keys removed since ``older``.

        Along one line of versions the cost is proportional to the writes in between (module docstring).
        """
        new, old = self._map, older._map
        if new is old:
            return [], []
        changed: list[K] = []
        removed: list[K] = []
        if self._journal is older._journal and older._at <= self._at:
            for key in dict.fromkeys(self._journal[older._at : self._at]):
                value = new.get(key, _MISSING)
                if value is _MISSING:
                    if key in old:
                        removed.append(key)
                elif old.get(key, _MISSING) is not value:
                    changed.append(key)
            return changed, removed
        for key, value in new.items():
            if old.get(key, _MISSING) is not value:
                changed.append(key)
        removed.extend(key for key in old if key not in new)
        return changed, removed
