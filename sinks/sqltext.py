"""``gridflow sql``'s text handling: split a script into statements and print each result.

Statements are separated by ``;`` outside quotes, backticks and ``--`` comments (comments are dropped), and
``{db}`` becomes the configured database, so ``gridflow sql --file sinks/queries/reopen_rate.sql`` runs a
pack query as it stands.

Formats: ``table`` (rich; on a terminal the table fits its width, one line per row, long cells cut with
``…``; piped, rows keep their natural width so a UUID never wraps), ``csv``, ``tsv``, ``json`` (one array of
objects per statement) and ``markdown``. ``limit`` caps the rows shown (0 = all); the total is always said:
under a table or markdown, on stderr for the machine formats.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from typing import IO, Final, Literal

from rich.console import Console
from rich.table import Table
from rich.text import Text

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


FORMATS: Final = ("table", "csv", "tsv", "json", "markdown")
Format = Literal["table", "csv", "tsv", "json", "markdown"]


def _cell(value: Value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _shown(total: int, limit: int) -> str:
    if limit and total > limit:
        return f"{limit:,} of {total:,} rows shown (--limit 0 for all)"
    return f"{total:,} rows"


def render_result(
    writer: Writer,
    statement: str,
    fmt: Format = "table",
    limit: int = 0,
    out: IO[str] | None = None,
    err: IO[str] | None = None,
) -> None:
    """Run one statement; print its rows in ``fmt``, or ``ok`` for a statement without rows."""
    stream = out or sys.stdout
    if not _RETURNS_ROWS.match(statement):
        writer.execute(statement)
        print("ok", file=stream)
        return
    result = writer.query(statement)
    total = len(result.rows)
    rows = result.rows[:limit] if limit else result.rows
    if fmt == "table":
        _table(result.columns, result.types, rows, _shown(total, limit), stream)
    elif fmt == "markdown":
        _markdown(result.columns, rows, _shown(total, limit), stream)
    elif fmt == "json":
        records = [dict(zip(result.columns, row, strict=True)) for row in rows]
        print(json.dumps(records, ensure_ascii=False, default=str), file=stream)
    else:
        table = csv.writer(stream, delimiter="," if fmt == "csv" else "\t", lineterminator="\n")
        table.writerow(result.columns)
        table.writerows(
            ["" if v is None else _cell(v) if isinstance(v, float) else v for v in row] for row in rows
        )
    if fmt in ("csv", "tsv", "json") and limit and total > limit:
        print(f"gridflow sql: {_shown(total, limit)}", file=err or sys.stderr)


def _table(
    columns: tuple[str, ...],
    types: tuple[str, ...],
    rows: list[tuple[Value, ...]],
    caption: str,
    out: IO[str],
) -> None:
    terminal = out.isatty()
    # Piped: wide enough that no cell wraps (rich sizes the table to its content, not to this width).
    console = Console(file=out, soft_wrap=False, width=None if terminal else 1_000_000)
    table = Table(show_lines=False)
    numeric = [t.removeprefix("Nullable(").startswith(_NUMERIC) for t in types]
    for name, right in zip(columns, numeric, strict=True):
        table.add_column(name, justify="right" if right else "left", overflow="ellipsis", no_wrap=True)
    for row in rows:
        table.add_row(*(Text(_cell(value)) for value in row))  # Text: a "[…]" value is not markup
    console.print(table)
    console.print(Text(caption))


def _markdown(columns: tuple[str, ...], rows: list[tuple[Value, ...]], caption: str, out: IO[str]) -> None:
    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |"

    print(line(list(columns)), file=out)
    print("|" + "|".join("---" for _ in columns) + "|", file=out)
    for row in rows:
        print(line([_cell(v) for v in row]), file=out)
    print(f"\n{caption}", file=out)
