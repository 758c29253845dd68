"""Lists say what their numbers and dates are; a reward's page leads back to its catalog page."""

from datetime import timedelta

from tests.bot.test_activities import STARTS, admin_viewer, make_activity
from tests.bot.test_rewards import REWARD
from tests.support.flows import add_station, make_coordinator, seed_talent


async def test_manage_shows_each_activitys_local_day_and_time(harness):
    hub = await add_station(harness, "Downtown hub", "市民中心站")
    await make_activity(harness, hub, title="Eye clinic")
    # 00:30 on Dec 7 in Shanghai is still Dec 6 in UTC: the day shown is the local one.
    late = STARTS + timedelta(days=1, hours=15)
    await make_activity(harness, hub, title="Night <walk>", starts_at=late,
                        ends_at=late + timedelta(hours=1))  # fmt: skip
    for language, expected in (
        ("en", ["✅ Published · Sat, Dec 5 9:30\u202fAM · Eye clinic",
                "✅ Published · Mon, Dec 7 12:30\u202fAM · Night <walk>"]),
        ("zh", ["✅ 已发布 · 12月5日周六 09:30 · Eye clinic",
                "✅ 已发布 · 12月7日周一 00:30 · Night <walk>"]),
    ):  # fmt: skip
        coordinator = await make_coordinator(harness, hub, language=language)
        await coordinator.send("/manage")
        assert coordinator.buttons() == expected


async def test_the_catalog_says_which_number_is_cost_and_which_stock(harness):
    hotel = await add_station(harness, "Spa hotel", "温泉酒店")
    admin = await admin_viewer(harness)
    await harness.services.rewards.add(
        admin, {**REWARD, "cost": 100, "stock": 5, "station_id": hotel.id}
    )
    talent = await seed_talent(harness, 501, language="zh")
    await harness.services.points.adjust(admin, talent.id, 1200, "Seed points")
    user = harness.user("T", id=501, language="zh")
    await user.send("/rewards")
    assert user.buttons() == ["✅ 温泉酒店一晚 · 100 积分 · 剩 5 份"]
    office = harness.admin()
    await office.send("/admin")
    await office.tap("🎁 Rewards")
    assert office.buttons()[0] == "A night at the spa hotel · 100 points · 5 left"


async def test_a_rewards_page_leads_back_to_its_catalog_page(harness):
    hotel = await add_station(harness, "Spa hotel", "温泉酒店")
    admin = await admin_viewer(harness)
    for cost in range(10, 130, 10):  # twelve rewards: two pages
        await harness.services.rewards.add(
            admin, {**REWARD, "name_en": f"Gift {cost}", "cost": cost, "station_id": hotel.id}
        )
    await seed_talent(harness, 501)
    user = harness.user("T", id=501)
    await user.send("/rewards")
    catalog = user.messages()[-1]["message_id"]
    await user.tap("Next ▶")
    await user.tap("🔒 Gift 120 · 120 points · 3 left")
    assert user.last_text().startswith("Gift 120\n")
    assert user.buttons() == ["🎁 Redeem", "◀ All rewards"]
    await user.tap("🎁 Redeem")
    await user.tap("◀ Back")
    await user.tap("◀ All rewards")
    # The same message, showing the page the reward was on.
    assert user.messages()[-1]["message_id"] == catalog
    assert "🔒 Gift 120 · 120 points · 3 left" in user.buttons()
    assert "2 / 2" in user.buttons()
