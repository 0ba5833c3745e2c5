"""Personal data in messages, and the keyed tokens that replace it before it is stored.

Reporters' phone numbers and ids (and citizens' contact details) are personal data. Wherever a message leaves
the operational path for a store that many people read or that keeps it long — the warehouse (the sink), the
dead-letter topic (the stream worker) — a :class:`Tokeniser` replaces each such value by a keyed
HMAC-SHA256 token, so the same person always gets the same token (analysts can count repeat reporters) but
nobody without the key can go back to the number.

A token looks like ``pii_`` plus 26 base32 letters/digits (the first 128 bits of the HMAC). base32's digits
are 2–7 only, so a token can never look like a phone number. Mobile numbers typed into free text (a report's
description, a disposition's note) are replaced too: :data:`PHONE` finds them.

Usage::

    tokens = Tokeniser(key)                     # key: bytes, from GRIDFLOW_PII_KEY
    report = tokens.report(report)              # reporter id and phone → tokens, numbers in the text too
    raw = tokens.scrub(raw)                     # any bytes: JSON is walked, anything else regex-scrubbed

Pure: no I/O, no settings; the caller passes the key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from typing import Any, Final, TypeVar, cast

import orjson
from pydantic import BaseModel

from schemas.messages import CitizenReport, DeadLetter, Disposition, GridReport, Reporter

M = TypeVar("M", bound=BaseModel)

# A mainland mobile number not glued to other letters or digits (grid codes, UUIDs, decimals don't count).
PHONE: Final = re.compile(r"(?<![0-9A-Za-z.])1[3-9]\d{9}(?![0-9A-Za-z])")
PHONE_BYTES: Final = re.compile(rb"(?<![0-9A-Za-z.])1[3-9][0-9]{9}(?![0-9A-Za-z])")
# In bytes that are not JSON (truncated, not UTF-8): a value after a personal key, up to its closing quote.
PERSONAL_VALUE_BYTES: Final = re.compile(
    rb'("(?:phone|email|first_name|last_name|device_id|account_id|contact|id)"\s*:\s*")([^"]*)'
)
TOKEN_PREFIX: Final = "pii_"
_REMEMBERED_TOKENS = 100_000  # tokens a Tokeniser remembers before it starts afresh (memory bound)
REDACTED: Final = "pii_redacted"
# JSON keys whose string values are personal data wherever they appear (GeoReport v2's contact fields too);
# every string inside a "reporter" object is as well.
PERSONAL_KEYS: Final = frozenset(
    {"phone", "email", "first_name", "last_name", "device_id", "account_id", "contact", "reporter"}
)


class Tokeniser:
    """Replaces personal values by keyed tokens (or, without a key, by one fixed redaction marker).

    ``enabled=False`` passes everything through unchanged: the negative control of the privacy tests only.
    """

    def __init__(self, key: bytes | None, *, enabled: bool = True) -> None:
        if key is not None and len(key) < 16:
            raise ValueError("a tokenisation key needs at least 16 bytes")
        self._key = key
        self.enabled = enabled
        # The same reporters file report after report: their tokens are remembered (bounded), since the
        # HMACs were most of tokenising a report in the sink (41 µs → 16 µs per report).
        self._tokens: dict[str, str] = {}

    def token(self, value: str) -> str:
        """The token for one personal value; a token stays as it is (tokenising twice changes nothing)."""
        if not self.enabled or value.startswith(TOKEN_PREFIX):
            return value
        if self._key is None:
            return REDACTED
        known = self._tokens.get(value)
        if known is not None:
            return known
        digest = hmac.digest(self._key, value.encode(), hashlib.sha256)[:16]
        made = TOKEN_PREFIX + base64.b32encode(digest).decode("ascii").rstrip("=").lower()
        if len(self._tokens) >= _REMEMBERED_TOKENS:
            self._tokens.clear()
        self._tokens[value] = made
        return made

    def text(self, value: str) -> str:
        """Free text with every mobile number in it tokenised."""
        if not self.enabled or PHONE.search(value) is None:
            return value
        return PHONE.sub(lambda m: self.token(m.group()), value)

    def report(self, msg: GridReport) -> GridReport:
        """The report with its reporter's id and phone, and numbers in its description, tokenised."""
        if not self.enabled:
            return msg
        # model_construct: a token is not a phone number, so the Reporter's own pattern must not re-run.
        reporter = Reporter.model_construct(
            id=self.token(msg.reporter.id), phone=self.token(msg.reporter.phone)
        )
        return msg.model_copy(update={"reporter": reporter, "description": self.text(msg.description)})

    def message(self, msg: M, raw: bytes) -> tuple[M, bytes]:
        """A decoded message and its raw bytes, both with personal data tokenised (others pass untouched)."""
        if not self.enabled:
            return msg, raw
        if isinstance(msg, GridReport):
            safe = self.report(msg)
            return cast(M, safe), safe.model_dump_json().encode()
        if isinstance(msg, CitizenReport) and (PHONE.search(msg.description) or PHONE.search(msg.address)):
            # Contact details arrive as a keyed ref already (web.open311); free text may hold a number.
            update = {"description": self.text(msg.description), "address": self.text(msg.address)}
            safe_citizen = msg.model_copy(update=update)
            return cast(M, safe_citizen), safe_citizen.model_dump_json().encode()
        if isinstance(msg, Disposition) and PHONE.search(msg.note):
            safe_note = msg.model_copy(update={"note": self.text(msg.note)})
            return cast(M, safe_note), safe_note.model_dump_json().encode()
        if isinstance(msg, DeadLetter):
            scrubbed = self.scrub(msg.raw)
            if scrubbed != msg.raw:
                letter = msg.model_copy(
                    update={"raw": scrubbed, "error_message": self.text(msg.error_message)}
                )
                return cast(M, letter), letter.model_dump_json().encode()
        return msg, raw

    def scrub(self, raw: bytes) -> bytes:
        """Any payload with its personal data tokenised: JSON walked key by key, other bytes by pattern."""
        if not self.enabled:
            return raw
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            keyed = PERSONAL_VALUE_BYTES.sub(lambda m: m.group(1) + self._token_bytes(m.group(2)), raw)
            return PHONE_BYTES.sub(lambda m: self._token_bytes(m.group()), keyed)
        return orjson.dumps(self._walk(data, personal=False))

    def _token_bytes(self, value: bytes) -> bytes:
        return self.token(value.decode("utf-8", "replace")).encode()

    def _walk(self, value: Any, *, personal: bool) -> Any:
        if isinstance(value, str):
            return self.token(value) if personal else self.text(value)
        if isinstance(value, dict):
            return {k: self._walk(v, personal=personal or k in PERSONAL_KEYS) for k, v in value.items()}
        if isinstance(value, list):
            return [self._walk(v, personal=personal) for v in value]
        if personal and isinstance(value, int | float) and not isinstance(value, bool):
            return self.token(str(value))  # a phone number sent as a JSON number is still a phone number
        return value


def new_key() -> bytes:
    """A fresh random key (the demo's, one per run)."""
    import secrets

    return secrets.token_bytes(32)
