"""Passwords of the local clickhouse-server's users, made once into the state directory.

``<state>/clickhouse/passwords`` holds one ``user=password`` line for ``gridflow_writer`` (the sink) and one
per county user, and only its owner may read it. ``gridflow services up`` gives every user without a line a
random password and keeps the lines that exist, so a password survives restarts. To set or rotate one, edit
or delete its line and restart the server (``gridflow services down; gridflow services up``): the server's
users.xml, which holds only SHA-256 digests, is written from this file at each start. The passwords travel
only through this file and the environment (a sink's ``GRIDFLOW_CLICKHOUSE_URL``), never a command line.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable
from pathlib import Path

from infra.errors import ConfigError


def passwords_file(state: Path) -> Path:
    return state / "clickhouse" / "passwords"


def read_passwords(state: Path) -> dict[str, str]:
    """Every ``user=password`` line of the file; empty when it does not exist yet."""
    path = passwords_file(state)
    if not path.exists():
        return {}
    found: dict[str, str] = {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        user, sep, password = line.partition("=")
        if not sep or not user.strip() or not password:
            # The line is not shown: it may be a password typed without its user.
            raise ConfigError(f"{path}: line {number} is not user=password")
        found[user.strip()] = password
    return found


def ensure_passwords(state: Path, users: Iterable[str]) -> dict[str, str]:
    """The password of each of ``users``, made (random, 32 characters) for those without one yet."""
    known = read_passwords(state)
    wanted = list(users)
    missing = [user for user in wanted if user not in known]
    if missing or not passwords_file(state).exists():
        known.update({user: secrets.token_urlsafe(24) for user in missing})
        path = passwords_file(state)
        path.parent.mkdir(parents=True, exist_ok=True)
        body = "".join(f"{user}={password}\n" for user, password in known.items())
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write("# ClickHouse users of the local server: edit or delete a line, then restart it.\n")
            out.write(body)
    passwords_file(state).chmod(0o600)
    return {user: known[user] for user in wanted}
