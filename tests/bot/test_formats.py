"""One way to write each thing, in the reader's language, wherever the bot shows it:
dates without seconds or numeric-only forms, lists joined as the language joins them, numbers
with thousands separators, and sentences that read as the person who receives them expects."""

from __future__ import annotations

from tests.bot.test_activities import make_activity
from tests.bot.test_attendance import check_in
from tests.bot.test_rewards import REWARD, give_points
from tests.support.flows import add_station, make_coordinator, seed_talent
from tests.support.harness import ADMIN_ID


async def test_a_chinese_profile_joins_fields_with_the_chinese_comma(harness):
    await seed_talent(harness, 501, expertise=("medicine", "education", "law"), language="zh")
    wang = harness.user("王丽", id=501, language="zh")
    await wang.send("/profile")
    assert "专业领域：医疗卫生、教育、法律\n" in wang.last_text()
    await seed_talent(harness, 502, expertise=("medicine", "education"))
    li = harness.user("Li", id=502)
    await li.send("/profile")
    assert "Expertise: Medicine & health, Education\n" in li.last_text()


async def test_points_past_a_thousand_are_grouped(harness):
    talent = await seed_talent(harness, 501, language="zh")
    await give_points(harness, talent, 12345)
    wang = harness.user("王丽", id=501, language="zh")
    await wang.send("/points")
    assert wang.last_text().startswith("我的积分：12,345\n")
    assert "· +12,345 · 调整 · Seed points" in wang.last_text()


async def test_the_reward_card_says_the_limit_per_person_in_words(harness):
    hotel = await add_station(harness, "Spa hotel", "温泉酒店")
    admin = await harness.services.people.viewer(ADMIN_ID, "en")
    await harness.services.rewards.add(
        admin, {**REWARD, "station_id": hotel.id, "per_talent_limit": 0, "stock": 1200}
    )
    talent = await seed_talent(harness, 501, language="zh")
    await give_points(harness, talent, 50)
    wang = harness.user("王丽", id=501, language="zh")
    await wang.send("/rewards")
    await wang.tap(next(b for b in wang.buttons() if "温泉酒店一晚" in b))
    assert wang.last_text().endswith("⭐ 50 积分 · 剩余 1,200 份 · 兑换后 30 天内有效 · 每人不限")
    await seed_talent(harness, 502)
    li = harness.user("Li", id=502)
    await li.send("/rewards")
    await li.tap(next(b for b in li.buttons() if "spa hotel" in b))
    assert li.last_text().endswith(
        "1,200 left · valid 30 days after redeeming · no limit per person"
    )


async def test_the_chinese_attendance_line_keeps_its_words_apart(harness):
    hub = await add_station(harness, "Downtown hub", "市民中心站")
    activity = await make_activity(harness, hub)
    await seed_talent(harness, 501, station=hub)
    coordinator = await make_coordinator(harness, hub, language="zh")
    await check_in(harness, activity)
    await coordinator.press(f"mg:att:{activity.id}", forge=True)
    assert "• Talent 501 — 2 小时（未报名现场参加）" in coordinator.last_text()


async def test_a_chinese_broadcast_says_whom_it_will_reach_before_sending(harness):
    hub = await add_station(harness, "Downtown hub", "市民中心站")
    for telegram_id in (501, 502, 503):
        await seed_talent(harness, telegram_id, station=hub)
    coordinator = await make_coordinator(harness, hub, language="zh")
    await coordinator.send("/broadcast")
    await coordinator.send("周六上午九点，市民中心义诊。")
    await coordinator.tap("不限领域")
    await coordinator.tap("所有人")
    assert coordinator.last_text().startswith("准备发送\n将发送给 3 位人才\n工作站：市民中心站\n")
