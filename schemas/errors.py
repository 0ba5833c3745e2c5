"""The message contract's errors, under the project's root :class:`infra.errors.GridflowError`.

Everything gridflow raises on purpose derives from ``GridflowError`` (re-exported here), so callers can
catch the project's errors without catching programming mistakes::

    GridflowError
     ├── ContractError          a value breaks the agreed message contract
     │    └── DecodeError       bytes that do not decode into a valid message (carries ``problems``)
     ├── DataFileError          a bundled data file (geography, taxonomy, policy) is malformed
     └── UnknownUnitError       a geography lookup for a code that does not exist (also a ``KeyError``)

Stream processors route a ``DecodeError`` to the dead-letter topic instead of crashing the partition,
which is why it carries a structured list of :class:`Problem` rather than only a message.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from infra.errors import GridflowError

__all__ = [
    "ContractError",
    "DataFileError",
    "DecodeError",
    "GridflowError",
    "Problem",
    "UnknownUnitError",
]

# A dead letter keeps at most 2000 characters of error text; stay well under it so the summary survives.
_MAX_MESSAGE_CHARS = 1500


class ContractError(GridflowError):
    """A value does not satisfy the message contract in docs/CONTRACTS.md."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason a payload was rejected.

    ``path`` is the dotted field path inside the message (``location.lon``, ``source_event_ids.2``) or ``$``
    for the payload as a whole; ``value_excerpt`` is a short, personal-data-safe rendering of the offending
    value; ``expected`` says what would have been accepted; ``code`` is a stable machine-readable error type.
    """

    path: str
    value_excerpt: str
    expected: str
    code: str = ""

    def __str__(self) -> str:
        return f"{self.path}: {self.expected} (got {self.value_excerpt})"


class DecodeError(ContractError):
    """Bytes that are not a valid message; ``problems`` lists every reason, not just the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(self._summary())

    def _summary(self) -> str:
        count = len(self.problems)
        text = f"{count} problem{'s' if count != 1 else ''}: " + "; ".join(str(p) for p in self.problems)
        if len(text) > _MAX_MESSAGE_CHARS:
            text = text[: _MAX_MESSAGE_CHARS - 1] + "…"
        return text

    @property
    def paths(self) -> list[str]:
        """The field paths named by the problems, in order (handy for tests and metrics)."""
        return [p.path for p in self.problems]


class DataFileError(GridflowError):
    """A data file is unreadable or invalid; names the file, the entry and the field at fault."""

    def __init__(self, file: Path | str, entry: str, field: str, message: str) -> None:
        self.file = str(file)
        self.entry = entry
        self.field = field
        self.message = message
        super().__init__(f"{self.file}: entry {entry}: field {field}: {message}")


class UnknownUnitError(GridflowError, KeyError):
    """A geography lookup named a code that is not in the geography."""

    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(code)

    def __str__(self) -> str:
        return f"unknown administrative unit code {self.code!r}"
