"""Logs an operator can read, and trace a complaint in, that never hold the token or a person.

Two formats: readable text (the default) and one JSON object a line for a log collector. Either
way the bot token and the webhook secret are replaced wherever they would appear (an HTTP
client's URL, an exception's text), and libraries never log below INFO: at DEBUG,
python-telegram-bot writes every update and API call in full (names, phone numbers, messages),
httpx every URL (which holds the token) and aiosqlite every row it reads. Our own modules log
at the level asked for, and they log ids, never names or phones. A user appears as a short keyed
hash, the same for one user across the log, so their lines can be found without naming them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import sys
from collections.abc import Iterable
from contextvars import ContextVar
from datetime import UTC, datetime
from urllib.parse import quote

# Our packages; everything else is a library and is kept at INFO or above.
OWN_LOGGERS = ("bot", "handlers", "storage", "localapi", "talentbot")
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# Anything shaped like a bot token, ours or not (a token pasted into a chat, say).
_TOKEN_SHAPE = re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{30,}\b")
REDACTED = "[redacted]"

_current: ContextVar[tuple[int, str | None] | None] = ContextVar("talentbot_update", default=None)
_NO_TOKEN_KEY = b"talentbot"
_hash_key = _NO_TOKEN_KEY


def user_ref(user_id: int) -> str:
    """The short keyed hash that stands for a user in the log."""
    return hmac.new(_hash_key, str(user_id).encode(), hashlib.sha256).hexdigest()[:12]


def bind_update(update_id: int, user_id: int | None) -> None:
    """Tag every line logged while this update is handled with its id and its user's hash."""
    _current.set((update_id, user_ref(user_id) if user_id is not None else None))


class _Redactor:
    def __init__(self, secrets: Iterable[str | None]) -> None:
        words = set()
        for secret in secrets:
            if secret:
                words.update({secret, quote(secret, safe="")})
        # Longest first, so a secret is never half replaced by a shorter one inside it.
        self._words = sorted(words, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for word in self._words:
            text = text.replace(word, REDACTED)
        return _TOKEN_SHAPE.sub(REDACTED, text)


class TextFormatter(logging.Formatter):
    """``time LEVEL logger: message (update N)``, with secrets taken out."""

    def __init__(self, redact: _Redactor) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self._redact = redact

    def format(self, record: logging.LogRecord) -> str:
        """Format, tag with the update being handled, and redact (tracebacks included)."""
        text = super().format(record)
        bound = _current.get()
        if bound is not None:
            first, newline, rest = text.partition("\n")
            text = f"{first} (update {bound[0]}){newline}{rest}"
        return self._redact(text)


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, event, update_id, user, error."""

    def __init__(self, redact: _Redactor) -> None:
        super().__init__()
        self._redact = redact

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON, secrets taken out."""
        data: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "event": self._redact(record.getMessage()),
        }
        bound = _current.get()
        if bound is not None:
            data["update_id"] = bound[0]
            if bound[1] is not None:
                data["user"] = bound[1]
        if record.exc_info:
            data["error"] = self._redact(self.formatException(record.exc_info))
        return json.dumps(data, ensure_ascii=False)


def configure_logging(
    level: str = "INFO", *, fmt: str = "text", secrets: Iterable[str | None] = ()
) -> None:
    """Send logs to stderr in ``fmt``, our modules at ``level``, libraries at INFO or above."""
    global _hash_key
    secrets = list(secrets)
    # Keyed by the token: the hash of a Telegram id cannot be reversed by trying all ids
    # without it, and stays the same across restarts of the same bot.
    token = next((s for s in secrets if s), None)
    _hash_key = (
        hashlib.sha256(b"talentbot-log:" + token.encode()).digest() if token else _NO_TOKEN_KEY
    )
    redact = _Redactor(secrets)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(redact) if fmt == "json" else TextFormatter(redact))
    root = logging.getLogger()
    for old in root.handlers[:]:
        root.removeHandler(old)
    root.addHandler(handler)
    wanted = logging.getLevelNamesMapping()[level.upper()]
    root.setLevel(max(wanted, logging.INFO))
    for name in OWN_LOGGERS:
        logging.getLogger(name).setLevel(wanted)
    # The HTTP client's request lines and the scheduler's job lines drown everything else.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
