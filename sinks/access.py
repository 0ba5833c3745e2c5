"""Users, GRANTs and row policies for the current ClickHouse engine: the one source of the roles.

The roles (what 18.16 gets through role databases, see :mod:`sinks.roles`):

- ``gridflow_writer``, the sink: SELECT and INSERT on the store, nothing else (no DDL, no ALTER, no DROP);
- ``analyst``: read-only, SELECT on the store but not the ``raw`` column (the payload as received) of any
  table or view that has one; the other columns hold no personal data in clear (``reporter_id`` is a keyed
  token, :mod:`schemas.personal`);
- ``county_<code>``, one per county: read-only, SELECT on the tables and views that have a ``county_code``
  (without ``raw``), and a ROW POLICY on each such table keeping that county's rows. Views are read with the
  reader's rights (SQL SECURITY INVOKER, the engine's default), so the policy holds through them too.

A permissive policy (``USING 1``) on the same tables for everyone else keeps their rows visible whatever
``users_without_row_policies_can_read_rows`` says.

The model is rendered two ways, so the two cannot drift:

- :func:`statements`: SQL (CREATE USER, GRANT, REVOKE, CREATE ROW POLICY) for a server with SQL access
  control. ``docker/clickhouse-roles.sh`` (the compose init script) is generated from it:
  ``python -m sinks.access`` rewrites it, ``--check`` fails if it is not current;
- :func:`users_xml`: one role as a users.xml user, its grants as the same GRANT/REVOKE text and its row
  policy as the same filter expression. chdb, the embedded engine, has no writable access storage (CREATE
  USER fails) and always runs as ``default``; loading a role this way as chdb's ``default`` is how the
  tests make the engine enforce it (tests/integration/test_clickhouse_access.py).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from infra.generated import write_or_check
from schemas.geography import geography
from sinks import catalog
from sinks.dimensions import TABLES as DIMENSION_TABLES
from sinks.writer import Writer

WRITER: Final = "gridflow_writer"
ANALYST: Final = "analyst"
# The payload as received, and a dead letter's undecodable bytes and their preview.
HIDDEN_COLUMNS: Final = ("raw", "raw_base64", "raw_preview")
COUNTY_COLUMN: Final = "county_code"
SCRIPT: Final = Path(__file__).resolve().parents[1] / "docker" / "clickhouse-roles.sh"
COMPOSE_DATABASE: Final = "gridflow"


def county_user(county: str) -> str:
    return f"county_{county}"


@dataclass(frozen=True)
class Shape:
    """What the roles depend on in a store: its tables and views, and which have ``raw``/``county_code``."""

    tables: tuple[str, ...]  # base tables (row policies go here)
    views: tuple[str, ...]
    columns: dict[str, frozenset[str]]

    def with_column(self, column: str) -> list[str]:
        return sorted(t for t in (*self.tables, *self.views) if column in self.columns[t])


def read_shape(writer: Writer) -> Shape:
    """The shape of ``writer.database``; materialized views' triggers and their inner tables left out."""
    kept = {t: e for t, e in catalog.engines(writer, writer.database).items() if catalog.readable(e, t)}
    columns = {
        t: {name for name, _ in found} for t, found in catalog.columns(writer, writer.database).items()
    }
    return Shape(
        tables=tuple(sorted(t for t, e in kept.items() if e != "View")),
        views=tuple(sorted(t for t, e in kept.items() if e == "View")),
        columns={t: frozenset(columns.get(t, ())) for t in kept},
    )


@dataclass(frozen=True)
class Role:
    """One user's rights: grant clauses without their grantee (``GRANT SELECT ON db.t``), read-only or not,
    and a row filter with the tables it applies to."""

    user: str
    readonly: bool
    grants: tuple[str, ...]
    row_filter: str | None = None
    filtered: tuple[str, ...] = ()


def roles(database: str, shape: Shape) -> list[Role]:
    """Every role on ``database``: the writer, the analyst, then one per county."""
    hidden = [
        f"REVOKE SELECT({column}) ON {database}.{table}"
        for column in HIDDEN_COLUMNS
        for table in shape.with_column(column)
    ]
    made = [
        Role(WRITER, False, (f"GRANT SELECT, INSERT ON {database}.*",)),
        Role(ANALYST, True, (f"GRANT SELECT ON {database}.*", *hidden)),
    ]
    mine = shape.with_column(COUNTY_COLUMN)
    policed = tuple(t for t in shape.tables if t in mine)
    names = [t for t in DIMENSION_TABLES if t in shape.columns]
    for county in (unit.code for unit in geography().counties()):
        readable = tuple(f"GRANT SELECT ON {database}.{t}" for t in (*mine, *names))
        revoked = tuple(r for r in hidden if r.endswith(tuple(f".{t}" for t in mine)))
        made.append(
            Role(county_user(county), True, readable + revoked, f"{COUNTY_COLUMN} = '{county}'", policed)
        )
    return made


def statements(database: str, shape: Shape, password: dict[str, str]) -> list[str]:
    """SQL making every role on a server with SQL access control. ``password[user]`` is the SQL text of the
    user's password (a quoted literal, or a shell variable in the generated script)."""
    made = roles(database, shape)
    sql: list[str] = []
    for role in made:
        settings = " SETTINGS readonly = 1" if role.readonly else ""
        sql.append(
            f"CREATE USER IF NOT EXISTS {role.user} IDENTIFIED WITH sha256_password BY "
            f"{password[role.user]}{settings}"
        )
        for clause in role.grants:
            grantee = " FROM " if clause.startswith("REVOKE") else " TO "
            sql.append(clause + grantee + role.user)
        if role.row_filter:
            on = ", ".join(f"{database}.{t}" for t in role.filtered)
            sql.append(
                f"CREATE ROW POLICY IF NOT EXISTS {role.user} ON {on} "
                f"FOR SELECT USING {role.row_filter} TO {role.user}"
            )
    filtered = [r for r in made if r.row_filter]
    if filtered:
        on = ", ".join(f"{database}.{t}" for t in filtered[0].filtered)
        others = ", ".join(r.user for r in filtered)
        sql.append(
            f"CREATE ROW POLICY IF NOT EXISTS everyone ON {on} FOR SELECT USING 1 TO ALL EXCEPT {others}"
        )
    return sql


def users_xml(role: Role, database: str) -> str:
    """A users.xml whose ``default`` has exactly ``role``'s rights (chdb always runs as ``default``)."""
    grants = "".join(f"<query>{clause}</query>" for clause in role.grants)
    tables = "".join(f"<{t}><filter>{_xml(role.row_filter)}</filter></{t}>" for t in role.filtered)
    policy = f"<databases><{database}>{tables}</{database}></databases>" if role.row_filter else ""
    readonly = "<readonly>1</readonly>" if role.readonly else ""
    return (
        "<clickhouse><users><default><no_password/><profile>default</profile><quota>default</quota>"
        f"<grants>{grants}</grants>{policy}</default></users>"
        f"<profiles><default>{readonly}</default></profiles><quotas><default/></quotas></clickhouse>\n"
    )


def _xml(text: str | None) -> str:
    return (text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def password_variable(user: str) -> str:
    """The environment variable the compose init script reads a user's password from."""
    return f"CLICKHOUSE_{user.upper()}_PASSWORD"


def script(shape: Shape) -> str:
    """docker/clickhouse-roles.sh: the compose server's init script (the image sources ``*.sh``)."""
    made = roles(COMPOSE_DATABASE, shape)
    quoted = {r.user: f"'${{pw_{r.user}}}'" for r in made}
    lines = [
        "# Generated by `python -m sinks.access` from sinks/access.py; do not edit by hand.",
        "# The roles of the compose ClickHouse (sourced by the image's entrypoint at its first start).",
        "# Each user's password comes from its CLICKHOUSE_<USER>_PASSWORD variable; a user whose variable is",
        "# unset gets a random password nobody knows, so it cannot log in until an operator sets one:",
        "#   ALTER USER county_150802 IDENTIFIED WITH sha256_password BY '...'",
        "_gf_pw() {  # the value for an SQL string literal: quotes and backslashes escaped",
        "  printf '%s' \"$1\" | sed -e 's/\\\\/\\\\\\\\/g' -e \"s/'/\\\\\\\\'/g\"",
        "}",
    ]
    for role in made:
        var = password_variable(role.user)
        lines.append(f'pw_{role.user}=$(_gf_pw "${{{var}:-$(head -c 24 /dev/urandom | base64)}}")')
    # The image's entrypoint defines clickhouseclient (clickhouse-client --multiquery as CLICKHOUSE_USER).
    lines.append('"${clickhouseclient[@]}" <<EOSQL')
    lines.extend(f"{s};" for s in statements(COMPOSE_DATABASE, shape, quoted))
    lines.append("EOSQL")
    return "\n".join(lines) + "\n"


def migrated_shape() -> Shape:
    """The shape the migrations make, read from a fresh embedded store."""
    from sinks.connection import connect
    from sinks.ddl import apply_migrations

    with tempfile.TemporaryDirectory() as tmp, connect(f"chdb://{tmp}?database=gridflow") as writer:
        apply_migrations(writer)
        return read_shape(writer)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sinks.access", description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the script is not current")
    args = parser.parse_args(argv)
    return write_or_check(SCRIPT, script(migrated_shape()), "python -m sinks.access", check=args.check)


if __name__ == "__main__":
    sys.exit(main())
