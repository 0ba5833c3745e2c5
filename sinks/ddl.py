"""The ClickHouse schema: versioned migrations applied idempotently, recorded in ``schema_version``.

Migrations are the files ``sinks/migrations/NNNN_name.sql``: statements separated by a ``;`` at the end of
a line, ``--`` comments, and ``{placeholders}`` filled per engine — ``{db}``, the version-gated fragments of
:meth:`sinks.dialect.Dialect.placeholders` and the ``Enum8`` types of :mod:`sinks.codes`. Every statement
is ``IF NOT EXISTS``, so re-running a migration that stopped half-way is safe.

``gridflow init`` calls :func:`apply_migrations`; running it again applies nothing and changes nothing.
Tables (all in the configured database, ``gridflow`` by default):

============================  ===========================================================================
grid_reports                  raw 网格员上报, one row per delivery (ReplacingMergeTree by event_id)
camera_alerts                 raw camera alarms (by event_id)
dispositions                  raw 处置反馈 (by event_id)
incidents                     each published version of an incident (ReplacingMergeTree(version))
transitions                   incident transitions (by transition_id)
dead_letters                  rejected input with its source coordinates (by dead_letter_id)
county_alerts                 county stage alerts: several townships clustering on one category
intake_hourly                 hourly distinct intake counts, fed by materialized views
units                         every unit of the five levels, Chinese and pinyin names (``gridflow init``)
categories                    the taxonomy's categories with Chinese and English names (filled likewise)
rules, policy_parameters      what each rule id means; the policy's settings (filled likewise)
transitions_named             transitions_distinct with plain string levels/statuses ('' for none)
schema_version                applied migrations
``*_distinct``, ``*_latest``  views that collapse redelivered rows; what analysts query
============================  ===========================================================================
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from sinks import codes
from sinks.dialect import Dialect
from sinks.errors import MigrationError
from sinks.writer import Writer

MIGRATIONS_DIR: Final = Path(__file__).with_name("migrations")
_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
_STATEMENT_END = re.compile(r";[ \t]*$", re.MULTILINE)

TABLES: Final = (
    "grid_reports",
    "camera_alerts",
    "dispositions",
    "incidents",
    "transitions",
    "dead_letters",
    "county_alerts",
)
VIEWS: Final = (
    "grid_reports_distinct",
    "camera_alerts_distinct",
    "dispositions_distinct",
    "events_distinct",
    "incidents_latest",
    "transitions_distinct",
    "dead_letters_distinct",
    "county_alerts_distinct",
)

_SCHEMA_VERSION_DDL = """
CREATE TABLE IF NOT EXISTS {db}.schema_version
(
    version UInt32,
    name String,
    checksum String,
    engine_version String,
    applied_at DateTime('Asia/Shanghai')
)
ENGINE = ReplacingMergeTree()
ORDER BY version
"""


@dataclass(frozen=True, slots=True)
class Migration:
    """One migration file: its number, name and SQL template (statements with placeholders)."""

    version: int
    name: str
    template: str

    @property
    def checksum(self) -> str:
        """SHA-256 of the template, recorded so a later edit of an applied migration can be noticed."""
        return hashlib.sha256(self.template.encode()).hexdigest()

    def statements(self, database: str, dialect: Dialect) -> list[str]:
        """The migration's statements rendered for ``database`` on an engine with ``dialect``."""
        values = {"db": database, **dialect.placeholders(), **codes.placeholders()}

        def fill(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in values:
                raise MigrationError(
                    f"migration {self.version:04d}_{self.name}: unknown placeholder {{{name}}}"
                )
            return values[name]

        rendered = _PLACEHOLDER.sub(fill, self.template)
        return [s for s in (_strip_comments(part) for part in _STATEMENT_END.split(rendered)) if s]


def migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """All migrations in ``directory``, in version order; raises MigrationError on a misnamed file."""
    found: list[Migration] = []
    for path in sorted(directory.glob("*.sql")):
        match = _FILE_NAME.match(path.name)
        if match is None:
            raise MigrationError(f"{path}: migration files are named NNNN_name.sql")
        found.append(Migration(int(match.group(1)), match.group(2), path.read_text(encoding="utf-8")))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"{directory}: two migrations share a version number: {versions}")
    return found


def applied_versions(writer: Writer) -> set[int]:
    """Versions recorded in ``schema_version`` (empty if the database or table does not exist yet)."""
    exists = writer.query(
        f"SELECT count() FROM system.tables WHERE database = '{writer.database}' AND name = 'schema_version'"
    ).scalar()
    if not exists:
        return set()
    rows = writer.query(f"SELECT DISTINCT version FROM {writer.database}.schema_version").rows
    return {int(str(row[0])) for row in rows}


@dataclass(frozen=True, slots=True)
class MigrationState:
    """Whether one migration file is applied, and whether the file still matches what was applied."""

    version: int
    name: str
    applied: bool
    edited_since: bool  # applied, but the file's checksum differs from the recorded one


def migration_status(writer: Writer) -> list[MigrationState]:
    """Every migration file with its state in the writer's database (for ``gridflow init`` output)."""
    recorded: dict[int, str] = {}
    if applied_versions(writer):
        rows = writer.query(
            f"SELECT version, argMax(checksum, applied_at) FROM {writer.database}.schema_version "
            "GROUP BY version"
        ).rows
        recorded = {int(str(version)): str(checksum) for version, checksum in rows}
    return [
        MigrationState(
            version=m.version,
            name=m.name,
            applied=m.version in recorded,
            edited_since=m.version in recorded and recorded[m.version] != m.checksum,
        )
        for m in migrations()
    ]


def apply_migrations(writer: Writer, only: Iterable[Migration] | None = None) -> list[int]:
    """Create the database and apply every migration not yet recorded; returns the versions applied now.

    Idempotent: a second call returns ``[]``. Two processes racing through it are harmless too, because
    every statement is ``IF NOT EXISTS`` and ``schema_version`` collapses repeated records.
    """
    database = writer.database
    dialect = writer.dialect
    settings = dialect.ddl_settings()
    writer.execute(f"CREATE DATABASE IF NOT EXISTS {database}")
    writer.execute(_SCHEMA_VERSION_DDL.format(db=database))
    done = applied_versions(writer)
    newly: list[int] = []
    for migration in only if only is not None else migrations():
        if migration.version in done:
            continue
        for statement in migration.statements(database, dialect):
            try:
                writer.execute(statement, settings=settings)
            except Exception as e:
                first = statement.strip().split("\n", 1)[0]
                raise MigrationError(
                    f"migration {migration.version:04d}_{migration.name} failed on {writer.url} "
                    f"(ClickHouse {dialect.version_text}) at {first!r}: {e}"
                ) from e
        writer.insert_block(
            "schema_version",
            {
                "version": [migration.version],
                "name": [migration.name],
                "checksum": [migration.checksum],
                "engine_version": [dialect.version_text],
                # Recorded only, never used for a decision.
                "applied_at": [int(dt.datetime.now(dt.UTC).timestamp())],
            },
        )
        newly.append(migration.version)
    return newly


def drop_database(writer: Writer) -> None:
    """Drop the writer's database with everything in it (tests and ``gridflow`` resets)."""
    writer.execute(f"DROP DATABASE IF EXISTS {writer.database}")


def _strip_comments(statement: str) -> str:
    lines = [line for line in statement.splitlines() if not line.strip().startswith("--")]
    return "\n".join(lines).strip()
