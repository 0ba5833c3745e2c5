"""``gridflow sql``'s text handling: split a script into statements and print each result as a table.

Statements are separated by ``;`` outside quotes, backticks and ``--`` comments (comments are dropped), and
``{db}`` becomes the configured database, so ``gridflow sql --file sinks/queries/reopen_rate.sql`` runs a
pack query as it stands. Results print as rich tables: a row-count caption, right-aligned numbers,
``NULL`` for nulls.
"""

from __future__ import annotations

import re
from typing import Final

from rich.console import Console
from rich.table import Table

from sinks.writer import Value, Writer

# A statement separator is a ``;`` outside quoted strings and quoted identifiers.
_PIECES: Final = re.compile(r"--[^\n]*|'(?:[^'\\]|\\.)*'|`[^`]*`|\"[^\"]*\"|;|[^'`\";-]+|-|['`\"]")
# Statements that return rows; anything else is executed and acknowledged.
_NUMERIC: Final = ("UInt", "Int", "Float", "Decimal")
_RETURNS_ROWS: Final = re.compile(r"^\s*(SELECT|WITH|SHOW|DESC|DESCRIBE|EXISTS|EXPLAIN)\b", re.IGNORECASE)


def statements(text: str, database: str) -> list[str]:
    """The non-empty statements of ``text`` with ``{db}`` filled in and comments dropped."""
    parts: list[str] = []
    current: list[str] = []
    for piece in _PIECES.findall(text.replace("{db}", database)):
        if piece.startswith("--"):
            continue  # a comment (it may hold a ';')
        if piece == ";":
            parts.append("".join(current))
            current = []
        else:
            current.append(piece)
    parts.append("".join(current))
    return [part.strip() for part in parts if part.strip()]


def _cell(value: Value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def render_result(writer: Writer, statement: str, console: Console | None = None) -> None:
    """Run one statement; print its rows as a table, or ``ok`` for a statement without rows."""
    out = console or Console(soft_wrap=False)
    if not _RETURNS_ROWS.match(statement):
        writer.execute(statement)
        out.print("ok")
        return
    result = writer.query(statement)
    table = Table(caption=f"{len(result.rows):,} rows", show_lines=False)
    numeric = [t.removeprefix("Nullable(").startswith(_NUMERIC) for t in result.types]
    for name, right in zip(result.columns, numeric, strict=True):
        table.add_column(name, justify="right" if right else "left", overflow="fold")
    for row in result.rows:
        table.add_row(*(_cell(value) for value in row))
    out.print(table)
