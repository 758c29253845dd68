"""Dates and times as people type them, in zh and en."""

from __future__ import annotations

import re
import warnings
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# "12月5日" and "2026年12月5日" are common in Chinese but not read by dateparser.
_ZH_FULL = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?")
_ZH_SHORT = re.compile(r"(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?")
_RANGE_SPLIT = re.compile(
    r"\s*(?:\bto\b|\buntil\b|\btill\b|\bthrough\b|~|～|至|到|—|–|\s-\s)\s*", re.IGNORECASE
)
_FROM = re.compile(r"^\s*(?:from|从|自)\s*", re.IGNORECASE)
_MAX_LEN = 80


def normalise(text: str) -> str:
    """Rewrite the Chinese month-day forms into ones the parser reads."""
    text = _ZH_FULL.sub(lambda m: f"{m[1]}-{int(m[2]):02d}-{int(m[3]):02d} ", text)
    text = _ZH_SHORT.sub(lambda m: f"{int(m[1])}/{int(m[2])} ", text)
    return text.strip()


def parse_date(text: str, *, today: date, future: bool = False) -> date | None:
    """Read one calendar date.

    A date typed without a year falls in the current year, or with ``future`` on the next such
    date from ``today`` (what "until 3/15" means in November).
    """
    text = normalise(text)
    if not text or len(text) > _MAX_LEN:
        return None
    parsed = _dateparser(text, today=today, future=future)
    return None if parsed is None else parsed.date()


def parse_date_range(text: str, *, today: date) -> tuple[date, date] | None:
    """Read "from A to B" in either language; None unless both ends are dates."""
    if len(text) > _MAX_LEN * 2:
        return None
    parts = [p for p in _RANGE_SPLIT.split(_FROM.sub("", text.strip())) if p.strip()]
    if len(parts) != 2:
        return None
    start = parse_date(parts[0], today=today)
    end = parse_date(parts[1], today=today)
    if start is None or end is None:
        return None
    # "12/1 to 3/15" in winter means next March, not the March before December.
    if end < start and not re.search(r"\d{4}", parts[1]):
        try:
            end = end.replace(year=end.year + 1)
        except ValueError:  # 29 February
            end = end.replace(year=end.year + 1, day=28)
    return start, end


def _dateparser(text: str, *, today: date, future: bool) -> datetime | None:
    import dateparser  # imported late: it takes a second to load and few paths need it

    settings = {
        "PREFER_DATES_FROM": "future" if future else "current_period",
        "DATE_ORDER": "MDY",
        "RELATIVE_BASE": datetime(today.year, today.month, today.day, 12, 0),
        "RETURN_AS_TIMEZONE_AWARE": False,
        "STRICT_PARSING": False,
    }
    with warnings.catch_warnings():
        # dateparser's use of the regex library can emit deprecation warnings we do not own.
        warnings.simplefilter("ignore")
        return dateparser.parse(text, languages=["en", "zh"], settings=settings)


_HAS_TIME = re.compile(r"\d{1,2}\s*[:：.]\s*\d{2}|\d{1,2}\s*(?:am|pm)|\d{1,2}\s*[点時时]", re.I)
_CLOCK = re.compile(
    r"^\s*(?:(上午|下午|晚上)\s*)?(\d{1,2})(?:\s*[:：.]\s*(\d{2})|\s*[点时]\s*(半|\d{1,2})?\s*分?)?"
    r"\s*(am|pm)?\s*$",
    re.I,
)
_DURATION = re.compile(
    r"^\s*(\d+(?:[.,]\d+)?)\s*(h|hr|hrs|hours?|小时|个小时|m|min|mins|minutes?|分钟)\s*$", re.I
)


def parse_clock(text: str) -> time | None:
    """A time of day: ``9:30``, ``14.00``, ``9am``, ``下午3点``, ``9点半``."""
    match = _CLOCK.match(text or "")
    if match is None:
        return None
    half, hour = match[1], int(match[2])
    minute = 30 if match[4] == "半" else int(match[3] or match[4] or 0)
    suffix = (match[5] or "").lower()
    if suffix == "pm" or half in ("下午", "晚上"):
        hour = hour + 12 if hour < 12 else hour
    elif suffix == "am" and hour == 12:
        hour = 0
    if not (0 <= hour < 24 and 0 <= minute < 60):
        return None
    return time(hour, minute)


def parse_duration(text: str) -> timedelta | None:
    """A length of time: ``2h``, ``1.5 hours``, ``90m``, ``2小时``, ``45分钟``."""
    match = _DURATION.match(text or "")
    if match is None:
        return None
    amount = float(match[1].replace(",", "."))
    unit = match[2].lower()
    minutes = amount if unit.startswith("m") or unit == "分钟" else amount * 60
    return timedelta(minutes=round(minutes)) if minutes > 0 else None


def parse_moment(text: str, *, tz: ZoneInfo, now: datetime) -> datetime | None:
    """A date and a time typed in the programme's zone (``2026-12-05 09:30``, ``12/5 9:30``,
    ``明天 9:30``), as an aware time; None when either part is missing or unreadable."""
    text = normalise(text)
    if not text or len(text) > _MAX_LEN or not _HAS_TIME.search(text):
        return None
    local_now = now.astimezone(tz)
    parsed = _dateparser(text, today=local_now.date(), future=True)
    if parsed is None:
        return None
    return parsed.replace(tzinfo=tz)
