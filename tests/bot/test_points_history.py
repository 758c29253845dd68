"""/points names what each entry was for: the activity, the reward, the voucher, the reason."""

from datetime import timedelta

import pytest

from bot.services.rewards import show_code
from tests.bot.test_activities import admin_viewer
from tests.bot.test_rewards import REWARD
from tests.support.flows import add_station, seed_talent


@pytest.fixture
async def hotel_night(harness):
    hotel = await add_station(harness, "Spa hotel", "温泉酒店")
    admin = await admin_viewer(harness)
    return await harness.services.rewards.add(
        admin, {**REWARD, "cost": 100, "per_talent_limit": 0, "station_id": hotel.id}
    )


async def history_of(harness, telegram_id, reward, *, language):
    """Points in, a voucher cancelled, one expired and one kept; then /points."""
    admin = await admin_viewer(harness)
    talent = await seed_talent(harness, telegram_id, language=language)
    await harness.services.points.adjust(admin, talent.id, 300, "Welcome points")
    _, cancelled, _ = await harness.services.rewards.redeem(talent.id, reward.id)
    await harness.services.rewards.cancel(admin, cancelled.id)
    _, expired, _ = await harness.services.rewards.redeem(talent.id, reward.id)
    harness.clock.advance(timedelta(days=31))
    await harness.services.rewards.expire_due()
    await harness.services.rewards.redeem(talent.id, reward.id)
    user = harness.user("T", id=telegram_id, language=language)
    await user.send("/points")
    return user, cancelled, expired


async def test_each_line_says_what_it_was_for_in_chinese(harness, hotel_night):
    user, cancelled, expired = await history_of(harness, 501, hotel_night, language="zh")
    lines = user.last_text().split("\n")[4:]
    assert [line.split(" · ", 1)[1] for line in lines] == [
        "-100 · 兑换 · 温泉酒店一晚",
        f"+100 · 退还 · 温泉酒店一晚（兑换券 {show_code(expired.code)} 已过期）",
        "-100 · 兑换 · 温泉酒店一晚",
        f"+100 · 退还 · 温泉酒店一晚（兑换券 {show_code(cancelled.code)} 已取消）",
        "-100 · 兑换 · 温泉酒店一晚",
    ]
    await user.tap("更多 ▾")
    assert user.last_text().split("\n")[1].endswith(" · +300 · 调整 · Welcome points")


async def test_each_line_says_what_it_was_for_in_english(harness, hotel_night):
    user, cancelled, _ = await history_of(harness, 502, hotel_night, language="en")
    text = user.last_text()
    assert " · -100 · redeemed · A night at the spa hotel\n" in text
    assert (
        f" · +100 · refund · A night at the spa hotel (voucher {show_code(cancelled.code)} "
        "cancelled)"
    ) in text
    await user.tap("More ▾")
    assert user.last_text().endswith(" · +300 · adjustment · Welcome points")
