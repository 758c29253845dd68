"""The refusal the imitated Bot API answers with, shared by the parsers and the method code."""

from __future__ import annotations

from typing import Any


class BotApiError(Exception):
    """A Bot API refusal: the HTTP status and the JSON body Telegram would send."""

    def __init__(self, error_code: int, description: str, *, retry_after: int | None = None):
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body

    def __repr__(self) -> str:
        return f"BotApiError({self.error_code}, {self.description!r})"


def bad_request(message: str) -> BotApiError:
    return BotApiError(400, f"Bad Request: {message}")
