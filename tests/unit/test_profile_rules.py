from datetime import date

import pytest

from bot.services.errors import InvalidInput
from bot.services.profile import (
    check_expertise,
    parse_departure,
    parse_name,
    parse_phone,
    parse_stay,
)
from bot.timeparse import read_date, read_range

TODAY = date(2026, 11, 26)


def key_of(call, *args, **kwargs):
    with pytest.raises(InvalidInput) as caught:
        call(*args, **kwargs)
    return caught.value.key


def test_names_are_cleaned_and_bounded():
    assert parse_name("  Wang   Li \n") == "Wang Li"
    assert parse_name("A<B & C") == "A<B & C"  # kept as typed; escaping is the renderer's job
    assert key_of(parse_name, "   ") == "input.empty"
    assert key_of(parse_name, "\u200b\u0007") == "input.empty"
    assert key_of(parse_name, "x" * 5000) == "input.too_long"
    assert key_of(parse_name, "/help") == "input.looks_like_command"
    assert key_of(parse_name, None) == "input.need_text"


@pytest.mark.parametrize("typed", ["😀😀", "...", "？？", "!!", "👍 👍", "—", "123"])
def test_names_need_letters(typed):
    assert key_of(parse_name, typed) == "input.name_needs_letters"


@pytest.mark.parametrize("typed", ["阿卜杜拉·艾买提", "王丽", "O'Brien", "Zoë", "李 😀", "Анна"])
def test_names_with_letters_are_fine(typed):
    assert parse_name(typed) == typed


def test_phone_numbers():
    assert parse_phone("138 0013 8000") == "+8613800138000"
    assert parse_phone("+49 30 901820") == "+4930901820"
    for bad in ("12345", "call me", "1" * 40):
        assert key_of(parse_phone, bad) == "input.bad_phone"


def test_expertise_needs_known_fields():
    assert check_expertise({"law", "medicine"}) == ["medicine", "law"]
    assert key_of(check_expertise, set()) == "input.pick_one"
    assert key_of(check_expertise, {"astrology"}) == "common.stale_button"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-01 to 2027-03-15", (date(2026, 12, 1), date(2027, 3, 15))),
        ("12/1 to 3/15", (date(2026, 12, 1), date(2027, 3, 15))),
        ("12月1日到3月15日", (date(2026, 12, 1), date(2027, 3, 15))),
        ("2026年12月1日至2027年3月15日", (date(2026, 12, 1), date(2027, 3, 15))),
        ("from Dec 1 to March 15", (date(2026, 12, 1), date(2027, 3, 15))),
        ("2026-11-01 - 2027-02-01", (date(2026, 11, 1), date(2027, 2, 1))),
    ],
)
def test_stay_ranges(text, expected):
    reading = parse_stay(text, today=TODAY)
    assert (reading.value, reading.sure) == (expected, True)


def test_stay_errors():
    assert key_of(parse_stay, "soon", today=TODAY) == "input.bad_stay"
    assert key_of(parse_stay, "2026-12-01", today=TODAY) == "input.bad_stay"
    assert key_of(parse_stay, "2027-03-15 to 2026-12-01", today=TODAY) == "input.stay_backwards"
    assert key_of(parse_stay, "2025-12-01 to 2026-03-01", today=TODAY) == "input.stay_past"
    assert key_of(parse_stay, "2026-12-01 to 2028-03-01", today=TODAY) == "input.stay_too_long"
    assert key_of(parse_stay, "x" * 5000, today=TODAY) == "input.bad_stay"


def test_departure_of_someone_here_now():
    assert parse_departure("3/15", today=TODAY).value == (TODAY, date(2027, 3, 15))
    assert parse_departure("明天", today=TODAY).value == (TODAY, date(2026, 11, 27))
    assert key_of(parse_departure, "2026-11-01", today=TODAY) == "input.stay_past"
    assert key_of(parse_departure, "whenever", today=TODAY) == "input.bad_date"


def test_date_parser_limits():
    assert read_date("2026-02-30", today=TODAY) is None
    assert read_date("", today=TODAY) is None
    assert read_range("12/1", today=TODAY) is None
