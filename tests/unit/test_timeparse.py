"""Dates and times as people type them, read by the rules the bot's questions use.

"Now" is fixed: Thursday 26 November 2026, 10:00 in Asia/Shanghai. Each row is a real phrasing
and what the bot does with it: takes a moment or a day, asks back about a guess, or refuses.
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.services.activities import parse_end, parse_start, start_on_day
from bot.services.errors import InvalidInput
from bot.services.profile import parse_departure, parse_stay
from bot.timeparse import Reading, parse_duration, read_clock, read_date, read_range

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)  # Thursday, 10:00 in Shanghai
TODAY = date(2026, 11, 26)
REFUSED = "refused"


def at(month: int, day: int, hour: int, minute: int = 0, *, year: int = 2026) -> Reading:
    """Taken as typed: this moment in Shanghai."""
    return Reading(datetime(year, month, day, hour, minute, tzinfo=TZ), sure=True)


def ask(reading: Reading) -> Reading:
    """The same reading, asked back before it is stored."""
    return Reading(reading.value, sure=False)


def on(month: int, day: int, *, year: int = 2026) -> Reading:
    """A day without its time: the bot asks for the time next."""
    return Reading(date(year, month, day), sure=True)


def read_start(text: str) -> Reading | str:
    try:
        return parse_start(text, tz=TZ, now=NOW)
    except InvalidInput as exc:
        return exc.key


START_PHRASINGS = [
    # Chinese, as people say it
    ("明天上午九点半", at(11, 27, 9, 30)),
    ("明天上午9:30", at(11, 27, 9, 30)),
    ("明天 9:30", at(11, 27, 9, 30)),
    ("明天九点三十分", at(11, 27, 9, 30)),
    ("明天 9.30", at(11, 27, 9, 30)),
    ("今天下午3点", at(11, 26, 15)),
    ("今天下午三点", at(11, 26, 15)),
    ("12月5日 下午3点", at(12, 5, 15)),
    ("12月5日下午3点", at(12, 5, 15)),
    ("12月5号下午两点", at(12, 5, 14)),
    ("十二月五日上午十点", at(12, 5, 10)),
    ("十二月五日 三点一刻", ask(at(12, 5, 15, 15))),
    ("１２月５日（周六）下午３点", at(12, 5, 15)),
    ("１２月５日　１５：００", at(12, 5, 15)),
    ("12月5日 星期六 下午3点", at(12, 5, 15)),
    ("12月5日 周五 下午3点", "activity.bad_moment"),  # 5 December is a Saturday
    ("下周六上午9点", at(12, 5, 9)),
    ("下个星期六上午9点", at(12, 5, 9)),
    ("周六上午9点", at(11, 28, 9)),
    ("星期六上午9点", at(11, 28, 9)),
    ("礼拜六上午9点", at(11, 28, 9)),
    ("週六上午9點", at(11, 28, 9)),
    ("本周六下午2点半", at(11, 28, 14, 30)),
    ("这周日上午10点", at(11, 29, 10)),
    ("下周一上午9点", at(11, 30, 9)),
    ("下下周一上午9点", at(12, 7, 9)),
    ("后天晚上7点", at(11, 28, 19)),
    ("明晚8点", at(11, 27, 20)),
    ("大后天中午", at(11, 29, 12)),
    ("明天中午12点", at(11, 27, 12)),
    ("明天中午1点", at(11, 27, 13)),
    ("明天早上8点一刻", at(11, 27, 8, 15)),
    ("明天下午三点三刻", at(11, 27, 15, 45)),
    ("明天凌晨3点", at(11, 27, 3)),
    ("明天上午9点开始", at(11, 27, 9)),
    ("5号下午3点", at(12, 5, 15)),
    ("12/5 9:30", at(12, 5, 9, 30)),
    ("12.5 14.00", at(12, 5, 14)),
    ("12-05 09:30", at(12, 5, 9, 30)),
    ("2026-12-05 09:30", at(12, 5, 9, 30)),
    ("2026年12月5日 9:30", at(12, 5, 9, 30)),
    ("二〇二六年十二月五日 上午九点", at(12, 5, 9)),
    ("明年1月10日上午9点", at(1, 10, 9, year=2027)),
    ("1月10日上午9点", at(1, 10, 9, year=2027)),  # the next 10 January
    # Guesses are asked back: a bare hour, a time without a day, a date far away
    ("明天3点", ask(at(11, 27, 15))),
    ("12月5日 3点", ask(at(12, 5, 15))),
    ("下午3点", ask(at(11, 26, 15))),
    ("9:30", ask(at(11, 27, 9, 30))),  # 9:30 today has passed
    ("11月20日 上午9点", ask(at(11, 20, 9, year=2027))),  # a year rolled over
    ("明天 03:00", at(11, 27, 3)),  # a leading zero is a 24-hour time
    # A day alone: the time is asked next
    ("12月5日", on(12, 5)),
    ("十二月五号", on(12, 5)),
    ("下周六", on(12, 5)),
    ("12.5", on(12, 5)),
    ("12/5", on(12, 5)),
    ("12-05", on(12, 5)),
    ("2026-12-05", on(12, 5)),
    # Refused, never guessed
    ("明天下午", "activity.bad_moment"),
    ("明天上午15点", "activity.bad_moment"),
    ("13月5日 9点", "activity.bad_moment"),
    ("2月30日 9点", "activity.bad_moment"),
    ("今天明天 9点", "activity.bad_moment"),
    ("大概明天吧", "activity.bad_moment"),
    ("今天上午9点", "activity.in_past"),  # it is 10:00
    ("2025-12-05 09:30", "activity.in_past"),
    # English
    ("tomorrow 9:30am", at(11, 27, 9, 30)),
    ("Tomorrow 9:30 AM", at(11, 27, 9, 30)),
    ("tomorrow morning 8:30", at(11, 27, 8, 30)),
    ("3pm tomorrow", at(11, 27, 15)),
    ("Dec 5 3pm", at(12, 5, 15)),
    ("5 Dec 15:00", at(12, 5, 15)),
    ("December 5th at 3 pm", at(12, 5, 15)),
    ("5th of December, 10am", at(12, 5, 10)),
    ("Dec 5, 2026 9:30 a.m.", at(12, 5, 9, 30)),
    ("12/5 3:00 pm", at(12, 5, 15)),
    ("Saturday 10:30am", at(11, 28, 10, 30)),
    ("this Saturday 10am", at(11, 28, 10)),
    ("sat 2pm", at(11, 28, 14)),
    ("next Monday 9am", at(11, 30, 9)),  # no Monday is left this week
    ("tomorrow noon", at(11, 27, 12)),
    ("tonight at 7", at(11, 26, 19)),
    ("day after tomorrow 6pm", at(11, 28, 18)),
    ("next Saturday 9am", ask(at(12, 5, 9))),  # this Saturday or next week's?
    ("tomorrow at 3", ask(at(11, 27, 15))),
    ("noon", ask(at(11, 26, 12))),
    ("in 3 days at 5pm", ask(at(11, 29, 17))),  # read by dateparser: always asked back
    ("Dec 5", on(12, 5)),
    ("next Saturday", Reading(date(2026, 12, 5), sure=False)),
    ("tomorrow 25:00", "activity.bad_moment"),
    ("someday", "activity.bad_moment"),
    ("next week", "activity.bad_moment"),
    ("tomorrow 9pm 10am", "activity.bad_moment"),
    ("x" * 200, "activity.bad_moment"),
]


@pytest.mark.parametrize(("typed", "expected"), START_PHRASINGS)
def test_activity_start_as_typed(typed, expected):
    assert read_start(typed) == expected


def stay(start: tuple[int, int, int], end: tuple[int, int, int], *, sure: bool = True) -> Reading:
    return Reading((date(*start), date(*end)), sure=sure)


WINTER = stay((2026, 12, 1), (2027, 3, 15))

STAY_PHRASINGS = [
    ("12月1日到明年3月15日", WINTER),
    ("12月1日到3月15日", WINTER),
    ("12月1日至3月15日", WINTER),
    ("12月1号到3月15号", WINTER),
    ("十二月一日到三月十五日", WINTER),
    ("十二月一号至明年三月十五号", WINTER),
    ("１２月１日～３月１５日", WINTER),
    ("12月1日—3月15日", WINTER),
    ("12月1日 - 3月15日", WINTER),
    ("从12月1日到3月15日", WINTER),
    ("2026年12月1日至2027年3月15日", WINTER),
    ("12/1-3/15", WINTER),
    ("12.1~3.15", WINTER),
    ("12-01 到 03-15", WINTER),
    ("2026-12-01 to 2027-03-15", WINTER),
    ("2026-12-01 - 2027-03-15", WINTER),
    ("from Dec 1 to March 15", WINTER),
    ("1 Dec – 15 Mar", WINTER),
    ("December 1st until March 15th", WINTER),
    ("12月1日到15日", stay((2026, 12, 1), (2026, 12, 15))),
    ("明天到3月15日", stay((2026, 11, 27), (2027, 3, 15))),
    ("10月1日到4月30日", stay((2026, 10, 1), (2027, 4, 30))),  # arrived already
    ("1月10日到3月1日", stay((2027, 1, 10), (2027, 3, 1))),
    # Guesses: both ends land next summer; a stay of almost a year
    ("6月1日到9月1日", stay((2027, 6, 1), (2027, 9, 1), sure=False)),
    ("12月1日到11月30日", stay((2026, 12, 1), (2027, 11, 30), sure=False)),
    # Refused with a reason
    ("12月1日", "input.bad_stay"),
    ("soon", "input.bad_stay"),
    ("12月1日到3月15日到4月1日", "input.bad_stay"),
    ("2027-03-15 to 2026-12-01", "input.stay_backwards"),
    ("2025-12-01 to 2026-03-01", "input.stay_past"),
    ("2026-12-01 to 2028-03-01", "input.stay_too_long"),
]


@pytest.mark.parametrize(("typed", "expected"), STAY_PHRASINGS)
def test_stay_as_typed(typed, expected):
    try:
        assert parse_stay(typed, today=TODAY) == expected
    except InvalidInput as exc:
        assert exc.key == expected


DEPARTURE_PHRASINGS = [
    ("3月15日", date(2027, 3, 15)),
    ("三月十五号", date(2027, 3, 15)),
    ("明年3月15日", date(2027, 3, 15)),
    ("３月１５日", date(2027, 3, 15)),
    ("3/15", date(2027, 3, 15)),
    ("15 March", date(2027, 3, 15)),
    ("Mar 15", date(2027, 3, 15)),
    ("2027-03-15", date(2027, 3, 15)),
    ("明天", date(2026, 11, 27)),
    ("下周日", date(2026, 12, 6)),
    ("5号", date(2026, 12, 5)),
    ("11月20日", Reading(date(2027, 11, 20), sure=False)),  # a year away: asked back
    ("2026-11-01", "input.stay_past"),
    ("whenever", "input.bad_date"),
    ("明天下午3点", "input.bad_date"),
]


@pytest.mark.parametrize(("typed", "expected"), DEPARTURE_PHRASINGS)
def test_departure_as_typed(typed, expected):
    try:
        reading = parse_departure(typed, today=TODAY)
    except InvalidInput as exc:
        assert exc.key == expected
        return
    if isinstance(expected, Reading):
        assert reading == Reading((TODAY, expected.value), sure=False)
    else:
        assert reading == Reading((TODAY, expected), sure=True)


CLOCK_PHRASINGS = [
    ("9:30", Reading(time(9, 30))),
    ("14.00", Reading(time(14))),
    ("九点半", Reading(time(9, 30))),
    ("上午9点半", Reading(time(9, 30))),
    ("下午3点", Reading(time(15))),
    ("晚上七点", Reading(time(19))),
    ("9am", Reading(time(9))),
    ("12am", Reading(time(0))),
    ("noon", Reading(time(12))),
    ("3点", Reading(time(15), sure=False)),
    ("两点", Reading(time(14), sure=False)),
    ("25:00", None),
    ("明天", None),
]


@pytest.mark.parametrize(("typed", "expected"), CLOCK_PHRASINGS)
def test_time_of_day(typed, expected):
    assert read_clock(typed) == expected


def test_a_picked_day_and_a_typed_time():
    assert start_on_day("2026-12-05", "下午3点", tz=TZ, now=NOW) == at(12, 5, 15)
    assert start_on_day("2026-12-05", "3点", tz=TZ, now=NOW) == ask(at(12, 5, 15))
    assert start_on_day("2026-12-05", "9:30", tz=TZ, now=NOW, sure=False) == ask(at(12, 5, 9, 30))


@pytest.mark.parametrize(
    ("typed", "hours"),
    [("2h", 2), ("两小时", 2), ("两个小时", 2), ("一个半小时", 1.5), ("半小时", 0.5), ("90m", 1.5),
     ("45分钟", 0.75), ("1.5 hours", 1.5)],
)  # fmt: skip
def test_durations(typed, hours):
    assert parse_duration(typed) == timedelta(hours=hours)


def test_a_bare_hour_ends_at_the_first_such_hour_after_the_start():
    morning = at(12, 5, 9).value
    assert parse_end("11点", start=morning, tz=TZ, now=NOW) == at(12, 5, 11).value
    assert parse_end("5点", start=morning, tz=TZ, now=NOW) == at(12, 5, 17).value
    assert parse_end("两小时", start=morning, tz=TZ, now=NOW) == at(12, 5, 11).value


def test_the_yearless_date_follows_today_and_the_arrival():
    assert read_date("3月15日", today=date(2027, 3, 15)) == Reading(date(2027, 3, 15))
    assert read_date("2月29日", today=TODAY) == Reading(date(2028, 2, 29), sure=False)
    # In January, an arrival "12月1日" was last December.
    assert read_range("12月1日到3月15日", today=date(2027, 1, 10)) == stay(
        (2026, 12, 1), (2027, 3, 15)
    )
