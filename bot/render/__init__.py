"""What reports and certificates look like as files: a PNG chart, a spreadsheet, a PDF.

Free of Telegram: the handlers and the monthly job send what these functions return.
"""

from __future__ import annotations

from bot.i18n import Html, Translator


def plain(translator: Translator, locale: str, key: str, /, **params: object) -> str:
    """A catalog text for a file rather than a Telegram message: parameters not HTML-escaped."""
    return translator(
        locale, key, **{k: Html(v) if isinstance(v, str) else v for k, v in params.items()}
    )
