"""Errors services raise for handlers to turn into a reply."""

from __future__ import annotations


class NotAllowed(Exception):
    """The acting user may not do this; nothing was changed."""


class InvalidInput(ValueError):
    """A value a user typed is not acceptable.

    ``key`` names the catalog text that explains what works; ``params`` fill it in.
    """

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params
