"""The analyst query pack: one SQL file per question in ``sinks/queries/``, loaded and run by name.

Each file begins with ``-- Question: …`` (the question it answers), may explain its definitions in further
``--`` lines, and names tables as ``{db}.table`` so the same file runs against any database. The SQL sticks
to what both engines have (Debian's clickhouse-server 18.16 and current ClickHouse/chdb): one JOIN per
SELECT with ``USING``, ``quantileExact``, ``countIf``, ``uniqExactIf``, ``argMax`` in the views.

    >>> from sinks.queries import load_queries, run_query
    >>> for query in load_queries().values():
    ...     print(query.name, "—", query.question)
    >>> run_query(writer, "reopen_rate").dicts()
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from sinks.writer import QueryResult, Writer

QUERIES_DIR: Final = Path(__file__).with_name("queries")
_QUESTION = re.compile(r"^--\s*Question:\s*(.+?)\s*$")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class QueryPackError(ValueError):
    """A query file without its question line, or an unknown query name."""


@dataclass(frozen=True, slots=True)
class Query:
    """One question of the pack: its file stem, the question, and the SQL with ``{db}`` placeholders."""

    name: str
    question: str
    template: str

    def render(self, database: str) -> str:
        """The SQL for ``database``."""
        if not _IDENTIFIER.match(database):
            raise QueryPackError(f"not a plain database name: {database!r}")
        return self.template.replace("{db}", database)


def load_queries(directory: Path = QUERIES_DIR) -> dict[str, Query]:
    """Every query in ``directory`` by name (file stem), in name order."""
    found: dict[str, Query] = {}
    for path in sorted(directory.glob("*.sql")):
        text = path.read_text(encoding="utf-8")
        first = text.split("\n", 1)[0]
        match = _QUESTION.match(first)
        if match is None:
            raise QueryPackError(f"{path}: the first line must be '-- Question: …'")
        found[path.stem] = Query(name=path.stem, question=match.group(1), template=text)
    return found


def get_query(name: str) -> Query:
    """The query called ``name``; raises QueryPackError listing the names that exist."""
    queries = load_queries()
    if name not in queries:
        raise QueryPackError(f"no query {name!r}; known: {', '.join(queries)}")
    return queries[name]


def run_query(writer: Writer, name: str) -> QueryResult:
    """Run the query ``name`` against the writer's database."""
    return writer.query(get_query(name).render(writer.database))
