"""The rules of produce campaigns that need no bot: quantities, prices, the progress bar."""

import pytest

from bot.services.campaigns import (
    dialable,
    parse_price,
    parse_quantity,
    progress_bar,
    zh_numeral,
)
from bot.services.errors import InvalidInput


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("五十", 50), ("十", 10), ("十五", 15), ("一百二十", 120), ("两千零五", 2005),
        ("三万", 30000), ("一万二千三百", 12300), ("五五", None), ("abc", None), ("", None),
    ],
)  # fmt: skip
def test_chinese_numerals(text, value):
    assert zh_numeral(text) == value


@pytest.mark.parametrize(
    ("text", "value"),
    [("50", 50), ("1,200", 1200), ("５０", 50), ("50斤", 50), ("20 kg", 20), ("五十斤", 50)],
)
def test_quantities_read(text, value):
    assert parse_quantity(text, goal=20000) == value


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("0", "campaign.qty_zero"), ("零", "campaign.qty_zero"), ("-5", "campaign.qty_negative"),
        ("2.5", "campaign.qty_whole"), ("many", "campaign.qty_not_number"),
        (None, "campaign.qty_not_number"), ("101", "campaign.qty_too_much"),
        ("99999999999", "campaign.qty_not_number"),
    ],
)  # fmt: skip
def test_bad_quantities(text, key):
    with pytest.raises(InvalidInput) as caught:
        parse_quantity(text, goal=10)
    assert caught.value.key == key


def test_the_fixed_maximum_caps_a_large_goal():
    with pytest.raises(InvalidInput) as caught:
        parse_quantity("1000001", goal=500_000)
    assert caught.value.params == {"max": 1_000_000}


@pytest.mark.parametrize(
    ("text", "fen"), [("6", 600), ("6.5", 650), ("¥6.50", 650), ("6.05元", 605), ("0", 0)]
)
def test_prices_are_exact(text, fen):
    assert parse_price(text) == fen


@pytest.mark.parametrize("text", ["6.555", "-1", "six", "", "1000000"])
def test_bad_prices(text):
    with pytest.raises(InvalidInput):
        parse_price(text)


def test_progress_bar():
    assert progress_bar(0, 20000) == ("░░░░░░░░░░", 0)
    assert progress_bar(12340, 20000) == ("▓▓▓▓▓▓░░░░", 61)
    assert progress_bar(25000, 20000) == ("▓▓▓▓▓▓▓▓▓▓", 125)


def test_phones_as_a_seller_dials_them():
    assert dialable("+8613800138000") == "138 0013 8000"
    assert dialable("+12025550123") == "+1 202-555-0123"
    assert dialable(None) == ""
