"""The formatting helpers: one format per thing and language, and numbers read back as shown."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.i18n import Translator, fmt_date, fmt_datetime, fmt_list, fmt_month, fmt_signed, fmt_span
from bot.services.activities import parse_count
from bot.services.points import parse_delta

SHANGHAI = ZoneInfo("Asia/Shanghai")
MOMENT = datetime(2026, 11, 28, 2, 0, 45, tzinfo=UTC)


@pytest.mark.parametrize("style", [None, "short", "medium", "long", "full"])
def test_every_style_gives_the_one_format_of_the_language(style):
    assert fmt_date(MOMENT.date(), "zh", style=style) == "2026年11月28日"
    assert fmt_date(MOMENT.date(), "en", style=style) == "Nov 28, 2026"
    assert fmt_datetime(MOMENT, "zh", SHANGHAI, style=style) == "2026年11月28日 10:00"
    assert fmt_datetime(MOMENT, "en", SHANGHAI, style=style) == "Nov 28, 2026, 10:00\u202fAM"


def test_spans_months_lists_and_signs():
    end = MOMENT.replace(hour=4)
    assert fmt_span(MOMENT, end, "zh", SHANGHAI) == "2026年11月28日 10:00 – 12:00"
    assert fmt_month(2026, 11, "zh") == "2026年11月"
    assert fmt_month(2026, 11, "en") == "November 2026"
    assert fmt_list(["医疗卫生", "教育"], "zh") == "医疗卫生、教育"
    assert fmt_list(["Law", "Education"], "en") == "Law, Education"
    assert (fmt_signed(1200, "en"), fmt_signed(-5, "zh")) == ("+1,200", "-5")
    assert fmt_date(date(2027, 1, 2), "en") == "Jan 2, 2027"


def test_quantities_are_grouped_and_identifiers_are_not():
    t = Translator()
    assert t("en", "status.talents", count=12345) == "Talents registered: 12,345"
    assert t("zh", "common.user_id", id=10003) == "ID 10003"


@pytest.mark.parametrize("typed", ["1,200", "1 200", "1，200", "1200"])
def test_a_number_typed_as_it_was_shown_is_read(typed):
    assert parse_count(typed, maximum=5000) == 1200
    assert parse_delta("+" + typed) == 1200
