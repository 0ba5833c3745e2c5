"""Login and roles for the web command centre: city operator, county operator, analyst.

Users come from a JSON file (``GRIDFLOW_WEB_USERS``): a list of ``{"name", "role", "county", "password"}``,
``password`` being :func:`hash_password`'s output (PBKDF2-HMAC-SHA256), never the password itself. Without the
file the command centre is open, as on a developer's machine.

- ``city``: sees every county and acts on any incident;
- ``county``: sees and acts on its own county only — another county's page, incident or action is a 403;
- ``analyst``: sees everything, acts on nothing.

A session is a cookie (HttpOnly, SameSite=Strict) holding the user's name, a CSRF token and an expiry, signed
with HMAC-SHA256 under a key made at start. Every state-changing request (an operator's action) must repeat
the session's CSRF token in the ``X-CSRF-Token`` header: a page on another site can make the browser send the
cookie but cannot read the token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from infra.errors import ConfigError

COOKIE = "gridflow_session"
SESSION_S = 8 * 3600
ITERATIONS = 200_000
Role = Literal["city", "county", "analyst"]


@dataclass(frozen=True, slots=True)
class WebUser:
    name: str
    role: Role
    county: str | None
    password: str  # pbkdf2_sha256$iterations$salt$hash

    def can_see(self, county: str | None) -> bool:
        return self.role != "county" or county == self.county

    @property
    def can_act(self) -> bool:
        return self.role != "analyst"


def hash_password(password: str, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return f"pbkdf2_sha256${iterations}${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, iterations, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "pbkdf2_sha256":
        return False
    mine = hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt), int(iterations))
    return hmac.compare_digest(mine.hex(), digest)


def load_users(path: Path, counties: set[str]) -> dict[str, WebUser]:
    """The users of ``path``; a bad file is one ConfigError naming what is wrong (never a password)."""
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"GRIDFLOW_WEB_USERS={str(path)!r}: cannot read a JSON list of users ({exc})"
        ) from None
    users: dict[str, WebUser] = {}
    for entry in entries if isinstance(entries, list) else [None]:
        if not isinstance(entry, dict) or entry.get("role") not in ("city", "county", "analyst"):
            raise ConfigError(f"GRIDFLOW_WEB_USERS={str(path)!r}: each user needs a role city|county|analyst")
        county = entry.get("county")
        if (entry["role"] == "county") != (county is not None) or (
            county is not None and county not in counties
        ):
            raise ConfigError(
                f"GRIDFLOW_WEB_USERS={str(path)!r}: user {entry.get('name')!r}: a county operator, and only "
                "one, names one of the seven county codes"
            )
        users[str(entry["name"])] = WebUser(str(entry["name"]), entry["role"], county, str(entry["password"]))
    return users


@dataclass(frozen=True, slots=True)
class Session:
    user: str
    csrf: str
    expires: float


class Sessions:
    """Signed session cookies (HMAC-SHA256 under a key of this process)."""

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key or secrets.token_bytes(32)

    def issue(self, user: str) -> tuple[str, Session]:
        session = Session(user, secrets.token_urlsafe(24), time.time() + SESSION_S)
        body = base64.urlsafe_b64encode(json.dumps([session.user, session.csrf, session.expires]).encode())
        return body.decode() + "." + self._sign(body), session

    def read(self, cookie: str | None) -> Session | None:
        if not cookie or "." not in cookie:
            return None
        body, signature = cookie.rsplit(".", 1)
        if not hmac.compare_digest(signature, self._sign(body.encode())):
            return None
        try:
            user, csrf, expires = json.loads(base64.urlsafe_b64decode(body))
        except ValueError:
            return None
        if float(expires) < time.time():
            return None
        return Session(str(user), str(csrf), float(expires))

    def _sign(self, body: bytes) -> str:
        return hmac.new(self._key, body, hashlib.sha256).hexdigest()
