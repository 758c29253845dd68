"""Message catalogs, language choice and locale-aware formatting."""

from __future__ import annotations

import html
import re
import string
import tomllib
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, format_skeleton, format_time
from babel.numbers import format_decimal

from bot.settings import SUPPORTED_LOCALES


class Html(str):
    """Text that is already valid Telegram HTML and must not be escaped again."""

    __slots__ = ()


def load_catalog(locale: str) -> dict[str, str]:
    """Return the flat ``{"section.key": text}`` catalog of one language."""
    raw = resources.files("locales").joinpath(f"{locale}.toml").read_text("utf-8")
    flat: dict[str, str] = {}

    def walk(prefix: str, node: Mapping[str, object]) -> None:
        for key, value in node.items():
            name = f"{prefix}.{key}" if prefix else key
            if isinstance(value, Mapping):
                walk(name, value)
            elif isinstance(value, str):
                flat[name] = value
            else:
                raise ValueError(f"{locale}.toml: {name} must be text")

    walk("", tomllib.loads(raw))
    return flat


def placeholders(text: str) -> set[str]:
    """Return the ``{names}`` a catalog text expects."""
    return {field for _, field, _, _ in string.Formatter().parse(text) if field}


# Placeholders whose numbers name something rather than count it: never grouped ("ID 10003").
IDENTIFIERS = frozenset({"id", "pid", "ref", "version", "newest"})


class Translator:
    """Turns catalog keys into text in one of the supported languages."""

    def __init__(self, default_locale: str = "zh") -> None:
        self.default_locale = default_locale
        self.catalogs = {locale: load_catalog(locale) for locale in SUPPORTED_LOCALES}

    def __call__(self, locale: str, key: str, /, **params: object) -> str:
        """Return the text of ``key`` with ``params`` filled in, HTML-escaped unless ``Html``."""
        catalog = self.catalogs.get(locale) or self.catalogs[self.default_locale]
        template = catalog.get(key)
        if template is None:
            raise KeyError(f"no text {key!r} in the {locale} catalog")
        if not params:
            return template
        safe = {name: self._param(locale, name, value) for name, value in params.items()}
        return template.format(**safe)

    def _param(self, locale: str, name: str, value: object) -> object:
        """A parameter as the text shows it: a quantity with the locale's grouping (so a count
        or a balance past a thousand reads "1,200" wherever it is shown), an identifier as it
        is, anything else escaped."""
        if isinstance(value, Html):
            return value
        if isinstance(value, bool):
            return _escape(value)
        if isinstance(value, int | float | Decimal):
            if name in IDENTIFIERS:
                return value
            return fmt_number(value, locale if locale in self.catalogs else self.default_locale)
        return _escape(value)

    def resolve(self, stored: str | None, telegram_code: str | None) -> str:
        """Pick the user's language: their choice, else Telegram's, else the default."""
        if stored in SUPPORTED_LOCALES:
            return stored
        return supported_locale(telegram_code) or self.default_locale


def supported_locale(telegram_code: str | None) -> str | None:
    """Map a Telegram language code (``zh-hans``, ``en-US``) to a supported locale, or None."""
    if not telegram_code:
        return None
    base = telegram_code.replace("_", "-").split("-")[0].lower()
    return base if base in SUPPORTED_LOCALES else None


def _escape(value: object) -> str:
    return html.escape(str(value), quote=False)


@cache
def _babel_locale(locale: str) -> str:
    return {"zh": "zh_Hans_CN", "en": "en"}.get(locale, locale)


def fmt_date(value: date, locale: str, *, style: str | None = None) -> str:
    """A calendar date, written one way per language: "2026年11月28日" / "Nov 28, 2026".

    ``style`` is ignored: every date the bot shows uses the one format, so a reader never
    meets "11/28/26" in one message and "Nov 28, 2026" in the next.
    """
    return format_date(value, format="medium", locale=_babel_locale(locale))


def fmt_time(value: datetime, locale: str, tz: ZoneInfo) -> str:
    """A clock time in the programme's zone, never with seconds: "10:00" / "10:00 AM"."""
    return format_time(
        value.astimezone(tz), format="short", tzinfo=tz, locale=_babel_locale(locale)
    )


def fmt_datetime(value: datetime, locale: str, tz: ZoneInfo, *, style: str | None = None) -> str:
    """A moment in the programme's zone: "2026年11月28日 10:00" / "Nov 28, 2026, 10:00 AM".

    ``style`` is ignored, for the same reason as in ``fmt_date``.
    """
    local = value.astimezone(tz)
    joiner = " " if locale == "zh" else ", "
    return fmt_date(local.date(), locale) + joiner + fmt_time(local, locale, tz)


def fmt_month(year: int, month: int, locale: str) -> str:
    """A calendar month: "2026年11月" / "November 2026"."""
    return format_skeleton("yMMMM", date(year, month, 1), locale=_babel_locale(locale))


def fmt_list(items: Iterable[str], locale: str) -> str:
    """Items of a list in running text: "医疗、教育" / "Medicine, Education"."""
    return ("、" if locale == "zh" else ", ").join(items)


# Spelled out in full, weekday included, for asking back "is that right?" about a typed date.
_SPELLED_DAY = {"zh": "y年M月d日 EEEE", "en": "EEEE d MMM y"}
_SPELLED_MOMENT = {"zh": "y年M月d日 EEEE HH:mm", "en": "EEEE d MMM y, HH:mm"}


def fmt_spelled(value: date, locale: str, tz: ZoneInfo | None = None) -> str:
    """ "2026年12月5日 星期六 15:00" / "Saturday 5 Dec 2026, 15:00"; a date without the time."""
    babel = _babel_locale(locale)
    if isinstance(value, datetime):
        pattern = _SPELLED_MOMENT.get(locale, _SPELLED_MOMENT["en"])
        return format_datetime(value.astimezone(tz), pattern, tzinfo=tz, locale=babel)
    return format_date(value, _SPELLED_DAY.get(locale, _SPELLED_DAY["en"]), locale=babel)


def fmt_short_moment(value: datetime, locale: str, tz: ZoneInfo) -> str:
    """A moment short enough for a button, weekday included: "12月5日周六 09:30" /
    "Sat, Dec 5 9:30 AM"."""
    local = value.astimezone(tz)
    babel = _babel_locale(locale)
    day = format_skeleton("MMMEd", local, locale=babel)
    return f"{day} {format_time(local, format='short', tzinfo=tz, locale=babel)}"


def fmt_number(value: float | int | Decimal, locale: str) -> str:
    """A number with the locale's grouping and decimal signs."""
    return format_decimal(value, locale=_babel_locale(locale))


_GROUPING = re.compile(r"(?<=\d)[,，\u202f\u00a0 ](?=\d{3}(?!\d))")


def ungroup(text: str) -> str:
    """A number typed back as ``fmt_number`` showed it ("1,200", "1 200"), without grouping."""
    return _GROUPING.sub("", text)


def fmt_signed(value: int, locale: str) -> str:
    """A change of points with its sign and the locale's grouping: "+1,200" / "-30"."""
    return ("+" if value >= 0 else "-") + fmt_number(abs(value), locale)


def fmt_span(start: datetime, end: datetime, locale: str, tz: ZoneInfo) -> str:
    """When something happens: "Nov 28, 2026, 10:00 AM – 12:00 PM", or two full moments."""
    start, end = start.astimezone(tz), end.astimezone(tz)
    if start.date() == end.date():
        return f"{fmt_datetime(start, locale, tz)} – {fmt_time(end, locale, tz)}"
    return f"{fmt_datetime(start, locale, tz)} – {fmt_datetime(end, locale, tz)}"
