"""Chinese free text for simulated messages: report descriptions and disposition notes from templates.

Templates live in ``data/texts.toml`` (several per category and per action) with ``{slots}``; a slot is
either a seeded pick from the file's ``[slots]`` lists or a fact of the event (grid, village, township,
county names, number of parties, ...). Only the slots a template names are computed, and every pick comes
from the caller's ``random.Random``, so the same seed gives the same sentence.
"""

from __future__ import annotations

import functools
import random
import string
import tomllib
from dataclasses import dataclass
from pathlib import Path

from infra.errors import ConfigError
from schemas.enums import DispositionAction

TEXTS_FILE = Path(__file__).parent / "data" / "texts.toml"
MAX_TEXT = 500  # the contract's bound on description and note length


@dataclass(frozen=True, slots=True)
class Template:
    """One format string and the slot names it uses (parsed once)."""

    text: str
    fields: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Facts:
    """What a template may say about the event itself."""

    grid: str = ""
    village: str = ""
    township: str = ""
    county: str = ""
    n: int = 2
    injured: int = 0


class Texts:
    """Report and note templates plus slot vocabularies; obtain the bundled set with :func:`texts`."""

    def __init__(
        self,
        slots: dict[str, tuple[str, ...]],
        reports: dict[str, tuple[Template, ...]],
        notes: dict[str, tuple[Template, ...]],
    ) -> None:
        self.slots = slots
        self.reports = reports
        self.notes = notes

    def description(self, category: str, rng: random.Random, facts: Facts) -> str:
        """A report description for ``category`` (a generic sentence if the file has none for it)."""
        choices = self.reports.get(category)
        if not choices:
            return f"{facts.grid}网格员上报{category}事项，待核实。"
        return self._fill(rng.choice(choices), rng, facts)

    def note(self, action: DispositionAction, rng: random.Random, facts: Facts) -> str:
        """A disposition note for ``action``."""
        choices = self.notes.get(action.value)
        return self._fill(rng.choice(choices), rng, facts) if choices else ""

    def _fill(self, template: Template, rng: random.Random, facts: Facts) -> str:
        values: dict[str, object] = {}
        for field in template.fields:
            if field in values:
                continue
            if field == "surname2":
                first = values.get("surname")
                pool = [s for s in self.slots["surname"] if s != first]
                values[field] = rng.choice(pool)
            elif field == "amount":
                # Wage and debt sums: round hundreds, skewed towards small sums as real cases are.
                values[field] = int(rng.paretovariate(1.3) * 20) * 100
            elif field == "hour":
                values[field] = rng.randrange(24)
            elif field in ("grid", "village", "township", "county", "n", "injured"):
                values[field] = getattr(facts, field)
            else:
                values[field] = rng.choice(self.slots[field])
        return template.text.format_map(values)[:MAX_TEXT]


def _templates(raw: object, where: str, slots: dict[str, tuple[str, ...]]) -> tuple[Template, ...]:
    if not isinstance(raw, list) or not raw or not all(isinstance(t, str) for t in raw):
        raise ConfigError(f"{TEXTS_FILE.name}: {where}: expected a non-empty list of strings")
    computed = {"grid", "village", "township", "county", "n", "injured", "amount", "hour", "surname2"}
    out = []
    for text in raw:
        fields = tuple(name for _, name, _, _ in string.Formatter().parse(text) if name)
        unknown = [f for f in fields if f not in computed and f not in slots]
        if unknown:
            raise ConfigError(f"{TEXTS_FILE.name}: {where}: unknown slot {unknown[0]!r} in {text!r}")
        out.append(Template(text, fields))
    return tuple(out)


@functools.cache
def texts() -> Texts:
    """The bundled templates, loaded and checked once."""
    try:
        doc = tomllib.loads(TEXTS_FILE.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{TEXTS_FILE}: {exc}") from None
    slots = {name: tuple(values) for name, values in doc["slots"].items()}
    reports = {cat: _templates(raw, f"reports.{cat}", slots) for cat, raw in doc["reports"].items()}
    notes = {action: _templates(raw, f"notes.{action}", slots) for action, raw in doc["notes"].items()}
    return Texts(slots, reports, notes)
