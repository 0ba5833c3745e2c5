"""`PMap.diff` names exactly the keys set or removed between two versions, along one line of versions
(the journal), across a branch and across a journal reset (the entry-by-entry comparison)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from streams.core import pmap
from streams.core.pmap import PMap

# An operation: (key, value) sets, (key, None) removes; values are small ints, so some writes repeat the
# value a key holds already (no change).
_ops = st.lists(st.tuples(st.integers(0, 40), st.one_of(st.none(), st.integers(0, 3))), max_size=60)


def _apply(m: PMap[int, int], ops: list[tuple[int, int | None]]) -> PMap[int, int]:
    for key, value in ops:
        if value is None:
            m = m.remove(key)
        elif key % 3 == 0:
            m = m.update([(key, value), (key + 100, value)])
        else:
            m = m.set(key, value)
    return m


def _expected(new: PMap[int, int], old: PMap[int, int]) -> tuple[set[int], set[int]]:
    changed = {k for k, v in new.items() if k not in old or old[k] is not v}
    return changed, {k for k in old if k not in new}


@settings(max_examples=300, deadline=None)
@given(_ops, _ops, _ops)
def test_diff_names_every_change_along_a_line_and_across_a_branch(
    first: list[tuple[int, int | None]],
    second: list[tuple[int, int | None]],
    other: list[tuple[int, int | None]],
) -> None:
    base = _apply(PMap(), first)
    newer = _apply(base, second)
    branch = _apply(base, other)  # base is no longer the newest of its line: a new journal
    for new, old in ((newer, base), (branch, base), (branch, newer), (newer, branch), (base, newer)):
        changed, removed = new.diff(old)
        assert (set(changed), set(removed)) == _expected(new, old)
        assert len(changed) == len(set(changed)) and len(removed) == len(set(removed))


def test_diff_survives_a_journal_reset() -> None:
    m: PMap[int, int] = PMap({1: 1})
    start = m
    for i in range(3 * pmap._MIN_JOURNAL):  # long past the journal bound for so small a map
        m = m.set(i % 7, i)
    changed, removed = m.diff(start)
    assert (set(changed), set(removed)) == _expected(m, start)
    assert m._journal is not start._journal  # the line was restarted: the comparison was entry by entry
