"""Every table the migrations create has a place on a sharded warehouse (sinks/shards.py).

A base table is sharded by the id its view collapses on, or held whole by every shard; a table with neither
would make ``gridflow init`` on a cluster fail, so a new migration's table must be placed when it is added.
"""

from __future__ import annotations

import re

from sinks.ddl import migrations
from sinks.shards import EVERY_SHARD, SHARD_BY

TABLE = re.compile(r"CREATE TABLE IF NOT EXISTS \{db\}\.([a-z_0-9]+)")


def test_every_migrated_table_is_sharded_or_on_every_shard() -> None:
    tables = {name for m in migrations() for name in TABLE.findall(m.template)}
    assert {"grid_reports", "incidents", "transitions", "units"} <= tables
    unplaced = sorted(tables - set(SHARD_BY) - EVERY_SHARD)
    assert not unplaced, f"add these to sinks.shards.SHARD_BY or EVERY_SHARD: {unplaced}"
    assert not set(SHARD_BY) & EVERY_SHARD


def test_a_table_is_sharded_by_a_column_it_has() -> None:
    checked = set()
    for m in migrations():
        for name, body in re.findall(
            r"CREATE TABLE IF NOT EXISTS \{db\}\.([a-z_0-9]+)\s*\((.*?)\)\s*ENGINE", m.template, re.S
        ):
            key = SHARD_BY.get(name)
            if key:
                assert re.search(rf"^\s*{key}\s", body, re.M), (name, key)
                checked.add(name)
    assert checked == {name for name, key in SHARD_BY.items() if key}
