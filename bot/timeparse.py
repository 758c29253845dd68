"""Dates and times as people type them, in Chinese and English.

The one reader behind every question that asks for a date or a time: a talent's stay and
departure, an activity's start and end. Hand-written rules read what people over 60 actually type
(``明天上午九点半``, ``12月1日到明年3月15日``, ``１２月５日``, ``下周六上午9点``, ``Dec 5 3pm``,
``next Saturday 9am``) and refuse anything left over, so nothing is half-read. A reading that had
to guess — a date without a year that lands far away, a bare ``3点`` that may be 3:00 or 15:00,
English "next Saturday" when this week's is still ahead — is marked unsure, so the question is
asked back with the date spelled out instead of storing a wrong one. dateparser reads the
English long tail (``in 3 days at 5pm``); what only it could read is always asked back.
"""

from __future__ import annotations

import re
import unicodedata
import warnings
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Generic, TypeVar
from zoneinfo import ZoneInfo

T = TypeVar("T")

MAX_LEN = 80
# A date typed without its year that lands further ahead than this is asked back.
FAR = timedelta(days=183)
# A stay's departure typed without a year is counted from the arrival; a winter season is long.
SEASON = timedelta(days=300)
# A stay's arrival typed without a year may lie this far back: the talent is already here.
ARRIVED_WITHIN = timedelta(days=120)


@dataclass(frozen=True, slots=True)
class Reading(Generic[T]):
    """What was read, and whether it may be stored without asking the person first."""

    value: T
    sure: bool = True


@dataclass(frozen=True, slots=True)
class When:
    """The parts of one typed moment; either may be missing."""

    day: date | None
    at: time | None
    sure: bool


# -- normalising ----------------------------------------------------------------------------------

_ZH_DIGIT = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
             "七": 7, "八": 8, "九": 9}  # fmt: skip
# A run of Chinese numerals is a number only beside a unit of dates, times or durations; the
# 六 of 周六 is a weekday and stays as it is.
_ZH_NUMBER = re.compile(
    r"(?<![周期拜])[零〇一二两三四五六七八九十]+(?=\s*[年月日号点时分刻个小钟])"
    r"|(?<=[点时月])[零〇一二两三四五六七八九十]+"
)
_SPELLING = (
    ("點", "点"), ("時", "时"), ("號", "号"), ("週", "周"), ("禮拜", "礼拜"), ("後天", "后天"),
    ("今晚", "今天晚上"), ("明晚", "明天晚上"), ("今早", "今天早上"), ("明早", "明天早上"),
    ("tonight", "today evening"), ("〜", "~"), ("——", "—"),
)  # fmt: skip


def _zh_number(word: str) -> str:
    """``十二`` → ``12``, ``二十五`` → ``25``, ``二〇二六`` → ``2026``; anything odd is kept."""
    if "十" not in word:
        return "".join(str(_ZH_DIGIT[ch]) for ch in word)
    tens, _, ones = word.partition("十")
    if len(tens) > 1 or len(ones) > 1 or "十" in ones:
        return word
    return str((_ZH_DIGIT[tens] if tens else 1) * 10 + (_ZH_DIGIT[ones] if ones else 0))


def normalise(text: str) -> str:
    """Full-width forms, traditional spellings and Chinese numerals to one plain form."""
    text = unicodedata.normalize("NFKC", text).lower()
    for old, new in _SPELLING:
        text = text.replace(old, new)
    text = _ZH_NUMBER.sub(lambda m: _zh_number(m[0]), text)
    return re.sub(r"\s+", " ", text).strip()


# -- the parts of a moment ------------------------------------------------------------------------

_MONTH = (
    r"(?P<mon>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_MONTHS = {name: number for number, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
)}  # fmt: skip
_ORD = r"(?:st|nd|rd|th)?"
_YEAR_TAIL = r"(?:\s*,?\s*(?P<y>\d{4})\b)?"
# Tried in this order; the first that matches is the date, and a second date is refused.
_DATES = [
    re.compile(p)
    for p in (
        r"(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号]?",
        r"(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号]?",
        r"(?<!\d)(?P<y>\d{4})\s*[-/.]\s*(?P<m>\d{1,2})\s*[-/.]\s*(?P<d>\d{1,2})(?!\d)",
        rf"\b{_MONTH}\s*(?P<d>\d{{1,2}}){_ORD}\b{_YEAR_TAIL}",
        rf"\b(?P<d>\d{{1,2}}){_ORD}\s*(?:of\s+)?{_MONTH}\b{_YEAR_TAIL}",
        r"(?<![\d.:/-])(?P<m>\d{1,2})\s*[/.-]\s*(?P<d>\d{1,2})(?![\d:/.-])",
        r"(?<![\d月/.-])(?P<dom>\d{1,2})\s*[日号]",
    )
]
_RELATIVE_YEAR = re.compile(r"今年|明年|后年|\bthis year\b|\bnext year\b")
_YEAR_OFFSET = {"今年": 0, "明年": 1, "后年": 2, "this year": 0, "next year": 1}
_RELATIVE_DAY = re.compile(
    r"大后天|后天|今天|今日|明天|明日|\bday after tomorrow\b|\btoday\b|\btomorrow\b|\btmrw?\b"
)
_DAY_OFFSET = {"大后天": 3, "后天": 2, "今天": 0, "今日": 0, "明天": 1, "明日": 1,
               "day after tomorrow": 2, "today": 0, "tomorrow": 1, "tmr": 1,
               "tmrw": 1}  # fmt: skip
_ZH_WEEKDAY = re.compile(
    r"(?P<pre>下下个?|下个?|本|这个?|这)?\s*(?:周|星期|礼拜)(?P<wd>[一二三四五六日天1-7])"
)
_ZH_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_EN_WEEKDAY = re.compile(
    r"\b(?P<pre>this coming|this|next|coming)?\s*(?P<wd>mon(?:day)?|tue(?:s(?:day)?)?"
    r"|wed(?:nesday)?|thu(?:r(?:s(?:day)?)?)?|fri(?:day)?|sat(?:urday)?|sun(?:day)?)\b"
)
_EN_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_HALVES = re.compile(
    r"上午|早上|早晨|清晨|凌晨|中午|下午|午后|傍晚|晚上|夜里|夜间"
    r"|\b(?:in the )?(?:morning|afternoon|evening|night)\b"
)
_HALF = {"上午": "am", "早上": "am", "早晨": "am", "清晨": "am", "morning": "am",
         "凌晨": "small", "中午": "noon", "下午": "pm", "午后": "pm", "afternoon": "pm",
         "傍晚": "eve", "晚上": "eve", "夜里": "eve", "夜间": "eve", "evening": "eve",
         "night": "eve"}  # fmt: skip
_FITS = {"am": ("am", "small"), "pm": ("pm", "eve", "noon")}
_H = r"(?<![\d/.:-])(?P<h>\d{1,2})"
_CLOCKS = [
    re.compile(p)
    for p in (
        _H + r"\s*(?::\s*(?P<m>\d{2}))?\s*(?P<ap>a\.?m\.?|p\.?m\.?)(?![a-z])",
        _H + r"\s*:\s*(?P<m>\d{2})(?!\d)",
        _H
        + r"\s*[点时]\s*(?:钟|(?P<half>半)|(?P<q>[13])\s*刻|(?P<m>\d{1,2})(?![\d月/.-])\s*分?)?",
        r"\bat\s+" + _H + r"\b(?!\s*[/.-]\s*\d)",
    )
]
_NOON = re.compile(r"\b(?:noon|midday)\b|正午")
_DOT_CLOCK = re.compile(_H + r"\s*\.\s*(?P<m>\d{2})(?!\d)")
# What may stay over once the date and time are read: spaces, commas, little words.
_FILLER = re.compile(r"[\s,、。()的]|\b(?:at|on|from|the|of)\b|开始|起")


def _take(pattern: re.Pattern[str], text: str) -> tuple[re.Match[str] | None, str]:
    """The first match of ``pattern``, and the text with it blanked out."""
    match = pattern.search(text)
    if match is None:
        return None, text
    return match, text[: match.start()] + " " + text[match.end() :]


def _clock(text: str) -> tuple[time | None, bool, str] | None:
    """The time of day in ``text``: (time, sure, the rest); None when it cannot be right."""
    half_match, text = _take(_HALVES, text)
    half = None
    if half_match is not None:
        half = _HALF[half_match[0].removeprefix("in the ")]
        if _HALVES.search(text):
            return None  # "上午…下午": two halves of the day
    match = None
    for pattern in _CLOCKS:
        match, text = _take(pattern, text)
        if match is not None:
            break
    noon, text = _take(_NOON, text)
    if match is None:
        if half is None and noon is None:
            return None, True, text
        if half in (None, "noon"):
            return time(12), True, text  # "中午", "noon"
        return None  # "明天下午" says which part of the day, not the time
    if noon is not None:
        return None
    groups = match.groupdict()
    hour, written = int(match["h"]), match["h"]
    minute = 30 if groups.get("half") else 15 * int(groups["q"]) if groups.get("q") else 0
    minute = int(groups["m"]) if groups.get("m") else minute
    ap = (groups.get("ap") or "").replace(".", "")
    if ap and half and half not in _FITS[ap]:
        return None  # "下午9am"
    half = half or ap or None
    sure = True
    if half in ("am", "small"):
        if hour > 12:
            return None
        hour = 0 if hour == 12 and (ap == "am" or half == "small") else hour
    elif half == "noon":
        if hour in (1, 2, 3):
            hour += 12
        elif hour not in (11, 12):
            return None
    elif half in ("pm", "eve"):
        if hour == 12 and half == "eve":
            return None
        hour = hour + 12 if hour < 12 else hour
    elif 1 <= hour <= 6 and not written.startswith("0"):
        # "3点" for an activity is more likely 15:00, but it is a guess.
        hour, sure = hour + 12, False
    if not (0 <= hour < 24 and 0 <= minute < 60):
        return None
    return time(hour, minute), sure, text


def _on_or_after(month: int, day: int, after: date) -> date | None:
    """The first ``month``/``day`` on or after ``after`` (29 February waits for a leap year)."""
    for year in range(after.year, after.year + 9):
        try:
            found = date(year, month, day)
        except ValueError:
            if not 1 <= month <= 12 or not 1 <= day <= 31:
                return None
            continue
        if found >= after:
            return found
    return None


def _day_of_month(day: int, after: date) -> date | None:
    """The next date that is the ``day``-th of its month."""
    if not 1 <= day <= 31:
        return None
    year, month = after.year, after.month
    for _ in range(13):
        try:
            found = date(year, month, day)
        except ValueError:
            found = None
        if found is not None and found >= after:
            return found
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return None


def _weekday(text: str, today: date) -> tuple[date | None, int | None, bool, str]:
    """A weekday: (its date when a week is named, else the weekday alone; sure; the rest)."""
    match, text = _take(_ZH_WEEKDAY, text)
    if match is not None:
        wd = match["wd"]
        weekday = int(wd) - 1 if wd.isdigit() else _ZH_WEEKDAYS[wd]
        if not match["pre"]:
            return None, weekday, True, text
        weeks = 2 if match["pre"].startswith("下下") else 1 if match["pre"].startswith("下") else 0
        monday = today - timedelta(days=today.weekday())
        return monday + timedelta(days=7 * weeks + weekday), None, True, text
    match, text = _take(_EN_WEEKDAY, text)
    if match is None:
        return None, None, True, text
    weekday = _EN_WEEKDAYS.index(match["wd"][:3])
    if match["pre"] != "next":
        return None, weekday, True, text
    # "next Saturday" on a Thursday may mean the day after tomorrow or a week later.
    ahead = (weekday - today.weekday()) % 7
    monday = today - timedelta(days=today.weekday())
    sure = ahead == 0 or today.weekday() + ahead > 6
    return monday + timedelta(days=7 + weekday), None, sure, text


def _calendar_date(
    text: str, *, today: date, after: date, far: timedelta, recent: timedelta
) -> tuple[date | None, bool, str] | None:
    """A date written with its month and day (and maybe year): (date, sure, the rest)."""
    year_match, text = _take(_RELATIVE_YEAR, text)
    for pattern in _DATES:
        match, text = _take(pattern, text)
        if match is not None:
            break
    else:
        return (None, True, text) if year_match is None else None
    groups = match.groupdict()
    if groups.get("dom"):
        found = _day_of_month(int(groups["dom"]), after)
        return None if found is None or year_match else (found, True, text)
    month = _MONTHS[groups["mon"][:3]] if groups.get("mon") else int(groups["m"])
    day = int(groups["d"])
    if groups.get("m") and "月" not in match[0] and month > 12 and day <= 12:
        month, day = day, month  # 25/12 can only be the 25th of December
    if groups.get("y") or year_match is not None:
        if groups.get("y") and year_match is not None:
            return None
        year = int(groups["y"]) if groups.get("y") else today.year + _YEAR_OFFSET[year_match[0]]
        try:
            return date(year, month, day), True, text
        except ValueError:
            return None
    for year in (today.year, today.year - 1):
        try:
            past = date(year, month, day)
        except ValueError:
            continue
        if today - recent <= past < today:
            return past, True, text  # an arrival already made
    found = _on_or_after(month, day, after)
    return None if found is None else (found, found - after <= far, text)


def _date(
    text: str, *, today: date, after: date, far: timedelta, recent: timedelta
) -> tuple[date | None, bool, str] | None:
    """The date in ``text``: (date, sure, the rest); None when it is no date, or two that differ.

    A weekday may come with the date it names (``12月5日 周六``) but must agree with it.
    """
    days: list[date] = []
    sure = True
    match, text = _take(_RELATIVE_DAY, text)
    if match is not None:
        days.append(today + timedelta(days=_DAY_OFFSET[match[0]]))
    week_day, weekday, week_sure, text = _weekday(text, today)
    if week_day is not None:
        days.append(week_day)
        sure = week_sure
    calendar = _calendar_date(text, today=today, after=after, far=far, recent=recent)
    if calendar is None:
        return None
    if calendar[0] is not None:
        days.append(calendar[0])
        sure = sure and calendar[1]
    text = calendar[2]
    if len(set(days)) > 1:
        return None
    if weekday is not None:
        if not days:
            days.append(today + timedelta(days=(weekday - today.weekday()) % 7))
        elif days[0].weekday() != weekday:
            return None
    return (days[0] if days else None), sure, text


def read_when(
    text: str,
    *,
    today: date,
    after: date | None = None,
    far: timedelta = FAR,
    recent: timedelta = timedelta(0),
) -> When | None:
    """Read a date, a time of day, or both; None when anything typed is left unread.

    A date without a year is the next such date on or after ``after`` (default ``today``), or
    one at most ``recent`` back; it is unsure when it lands more than ``far`` after ``after``.
    """
    text = normalise(text or "")
    if not text or len(text) > MAX_LEN:
        return None
    when = _when(text, today=today, after=after or today, far=far, recent=recent)
    if when is not None:
        return when
    # "明天 9.30", "12.5 14.00": a dot between hour and minutes, tried last to first.
    for dotted in reversed(list(_DOT_CLOCK.finditer(text))):
        if _valid(dotted):
            retry = f"{text[: dotted.start()]} {dotted['h']}:{dotted['m']} {text[dotted.end() :]}"
            when = _when(retry, today=today, after=after or today, far=far, recent=recent)
            if when is not None and when.at is not None:
                return when
    return None


def _when(
    text: str, *, today: date, after: date, far: timedelta, recent: timedelta
) -> When | None:
    clock = _clock(text)
    if clock is None:
        return None
    at, at_sure, rest = clock
    read = _date(rest, today=today, after=after, far=far, recent=recent)
    if read is None:
        return None
    day, day_sure, rest = read
    if _FILLER.sub("", rest) or (day is None and at is None):
        return None
    return When(day=day, at=at, sure=at_sure and day_sure)


def _valid(match: re.Match[str]) -> bool:
    return int(match["h"]) < 24 and int(match["m"]) < 60


# -- what the questions ask for -------------------------------------------------------------------


def read_date(
    text: str,
    *,
    today: date,
    after: date | None = None,
    far: timedelta = FAR,
    recent: timedelta = timedelta(0),
) -> Reading[date] | None:
    """One calendar date, such as a departure; None when unreadable or when a time is given."""
    when = read_when(text, today=today, after=after, far=far, recent=recent)
    if when is None or when.day is None or when.at is not None:
        return _fallback_date(text, today=today)
    return Reading(when.day, sure=when.sure)


_RANGE_SPLIT = re.compile(
    r"\s*(?:\bto\b|\buntil\b|\btill\b|\bthrough\b|\bthru\b|~|至|到|—|–|\s-\s)\s*"
)
_FROM = re.compile(r"^\s*(?:from|从|自)\s*")


def read_range(text: str, *, today: date) -> Reading[tuple[date, date]] | None:
    """An arrival and a departure, "A to B" in either language; None unless both are dates.

    The departure without a year is the next such date on or after the arrival, so
    ``12月1日到3月15日`` in November ends next March.
    """
    if not text or len(text) > MAX_LEN * 2:
        return None
    plain = _FROM.sub("", normalise(text))
    for first, second in _splits(plain):
        start = read_date(first, today=today, recent=ARRIVED_WITHIN)
        if start is None:
            continue
        end = read_date(second, today=today, after=start.value, far=SEASON)
        if end is not None:
            return Reading((start.value, end.value), sure=start.sure and end.sure)
    return None


def _splits(text: str) -> list[tuple[str, str]]:
    """Where "A to B" may be cut: at a word or dash, else at each bare ``-`` (``12/1-3/15``)."""
    parts = [part for part in _RANGE_SPLIT.split(text) if part.strip()]
    if len(parts) == 2:
        return [(parts[0], parts[1])]
    if len(parts) > 2:
        return []
    return [(text[: m.start()], text[m.end() :]) for m in re.finditer("-", text)]


def read_clock(text: str) -> Reading[time] | None:
    """A time of day alone: ``9:30``, ``14.00``, ``9am``, ``下午3点``, ``九点半``, ``noon``.

    A bare hour from 1 to 6 reads as the afternoon and is unsure.
    """
    text = normalise(text or "")
    if not text or len(text) > MAX_LEN:
        return None
    dotted = _DOT_CLOCK.fullmatch(text)
    if dotted is not None:
        return Reading(time(int(dotted["h"]), int(dotted["m"]))) if _valid(dotted) else None
    clock = _clock(text)
    if clock is None or clock[0] is None or _FILLER.sub("", clock[2]):
        return None
    return Reading(clock[0], sure=clock[1])


def read_moment(text: str, *, tz: ZoneInfo, now: datetime) -> Reading[datetime | date] | None:
    """A date and a time in the programme's zone, as an aware moment.

    A date alone is returned as a ``date`` (the caller asks for the time); a time alone is the
    next such time from ``now``, and unsure.
    """
    local = now.astimezone(tz)
    when = read_when(text, today=local.date())
    if when is None:
        return _fallback_moment(text, tz=tz, now=now)
    if when.at is None:
        assert when.day is not None
        return Reading(when.day, sure=when.sure)
    if when.day is None:
        moment = datetime.combine(local.date(), when.at, tzinfo=tz)
        if moment <= local:
            moment = datetime.combine(local.date() + timedelta(days=1), when.at, tzinfo=tz)
        return Reading(moment, sure=False)
    return Reading(datetime.combine(when.day, when.at, tzinfo=tz), sure=when.sure)


_DURATION = re.compile(
    r"^(?:(?P<n>\d+(?:[.,]\d+)?)\s*(?P<more>个半|个)?\s*|(?=半))(?P<half>半)?\s*"
    r"(?P<unit>h|hr|hrs|hours?|小时|钟头|m|min|mins|minutes?|分钟)$"
)


def parse_duration(text: str) -> timedelta | None:
    """A length of time: ``2h``, ``1.5 hours``, ``90m``, ``两小时``, ``一个半小时``, ``45分钟``."""
    match = _DURATION.match(normalise(text or ""))
    if match is None:
        return None
    amount = float((match["n"] or "0").replace(",", "."))
    if match["half"] or (match["more"] or "").endswith("半"):
        amount += 0.5
    unit = match["unit"]
    minutes = amount if unit.startswith("m") or unit == "分钟" else amount * 60
    return timedelta(minutes=round(minutes)) if minutes > 0 else None


# -- dateparser, for the English long tail --------------------------------------------------------

_WORDS = re.compile(r"[a-z]{3,}")


def _dateparser(text: str, *, base: datetime) -> tuple[datetime, bool] | None:
    """dateparser's reading of English text, with whether it read a time of day."""
    text = normalise(text or "")
    if not text or len(text) > MAX_LEN or not _WORDS.search(text):
        return None
    from dateparser.date import DateDataParser  # late: it takes a second to load

    settings = {
        "PREFER_DATES_FROM": "future",
        "DATE_ORDER": "MDY",
        "RELATIVE_BASE": base,
        "RETURN_AS_TIMEZONE_AWARE": False,
        "RETURN_TIME_AS_PERIOD": True,
    }
    with warnings.catch_warnings():
        # dateparser's use of the regex library can emit deprecation warnings we do not own.
        warnings.simplefilter("ignore")
        data = DateDataParser(languages=["en"], settings=settings).get_date_data(text)
    # "next week" or "may" name a stretch of time, not a day: no reading at all.
    if data.date_obj is None or data.period not in ("day", "time"):
        return None
    return data.date_obj, data.period == "time"


def _fallback_date(text: str, *, today: date) -> Reading[date] | None:
    read = _dateparser(text, base=datetime.combine(today, time(12)))
    if read is None or read[1]:
        return None
    return Reading(read[0].date(), sure=False)


def _fallback_moment(text: str, *, tz: ZoneInfo, now: datetime) -> Reading[datetime] | None:
    read = _dateparser(text, base=now.astimezone(tz).replace(tzinfo=None))
    if read is None or not read[1]:
        return None
    return Reading(read[0].replace(tzinfo=tz), sure=False)
