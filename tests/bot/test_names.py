"""Staff see who did something by name: the profile's, else the Telegram first name the bot has
seen, else "ID 9104"."""

from dataclasses import replace

from tests.bot.test_activities import STARTS, admin_viewer, make_activity
from tests.bot.test_rewards import REWARD, partner_of
from tests.support.flows import add_station, make_coordinator, register, seed_talent
from tests.support.harness import ADMIN_ID


async def names_kept(harness):
    rows = await harness.services.db.fetch_all(
        "SELECT telegram_id, first_name FROM telegram_names ORDER BY telegram_id"
    )
    return [tuple(row) for row in rows]


async def test_attendance_names_who_checked_in_and_who_corrected(harness):
    hub = await add_station(harness, "Downtown hub", "市民中心站")
    activity = await make_activity(harness, hub)
    await seed_talent(harness, 501, station=hub)
    await seed_talent(harness, 502, station=hub)
    door = await make_coordinator(harness, hub, first_name="Coco")  # no profile
    office = await make_coordinator(harness, hub, first_name="Telegram name")
    await register(harness, office)  # the profile says "Wang Li"
    harness.clock.set(STARTS)
    await door.press(f"mg:man:{activity.id}", forge=True)
    await door.send("Talent 501")
    await door.tap("Talent 501 · Harbin")
    await office.press(f"mg:att:{activity.id}", forge=True)
    await office.tap("✏️ Talent 501")
    await office.send("1")
    await office.send("Came late")
    assert (
        "• Talent 501 — 1 h (walk-in, checked in by hand by Coco, hours corrected by Wang Li)"
        in office.last_text()
    )
    # Someone the bot never heard from is shown by id, never as a bare number.
    await harness.services.checkins.points.check_in(
        (await harness.services.talents.by_telegram_id(502)).id,
        activity_id=activity.id,
        now=STARTS,
        early=harness.services.checkins.early,
        method="manual",
        by=9104,
    )
    await office.press(f"mg:att:{activity.id}", forge=True)
    assert "• Talent 502 — 2 h (walk-in, checked in by hand by ID 9104)" in office.last_text()


async def test_the_desk_card_names_who_used_it(harness):
    hotel = await add_station(harness, "Spa hotel", "温泉酒店")
    admin = await admin_viewer(harness)
    reward = await harness.services.rewards.add(
        admin, {**REWARD, "per_talent_limit": 0, "station_id": hotel.id}
    )
    talent = await seed_talent(harness, 501)
    await harness.services.points.adjust(admin, talent.id, 100, "Seed points")
    _, by_desk, _ = await harness.services.rewards.redeem(talent.id, reward.id)
    _, by_stranger, _ = await harness.services.rewards.redeem(talent.id, reward.id)
    desk = await partner_of(harness, hotel, name="Hotel desk")
    await desk.send(f"/verify {by_desk.code}")
    await desk.tap("☑️ Mark used")
    await desk.tap("✅ Yes, mark it used")
    stranger = replace(await harness.services.people.viewer(9104, "en"), is_admin=True)
    await harness.services.rewards.use(stranger, by_stranger.code)
    office = harness.admin(language="zh")
    await office.send(f"/verify {by_desk.code}")
    assert office.last_text().endswith("使用（核销人：Hotel desk）")
    await office.send(f"/verify {by_stranger.code}")
    assert office.last_text().endswith("使用（核销人：ID 9104）")


async def test_the_adjust_question_names_the_last_adjustment(harness):
    await seed_talent(harness, 501)
    first = harness.admin()
    await first.send("/admin")
    await first.tap("⭐ Adjust points")
    await first.send("Talent 501")
    await first.tap("Talent 501 · Harbin")
    assert first.last_text().startswith("How many points for Talent 501?")
    await first.send("+20")
    await first.send("Spring fair")
    await first.send("/admin")
    await first.tap("⭐ Adjust points")
    await first.send("Talent 501")
    await first.tap("Talent 501 · Harbin")
    assert first.last_text().startswith(
        "Last adjustment: Nov 26, 2026, +20 (Spring fair), by Admin.\nHow many points"
    )


async def test_only_staff_names_are_kept_and_a_new_name_replaces_the_old(harness):
    plain = harness.user("Just visiting")
    await plain.send("/start")
    await plain.tap("I do not agree")
    hub = await add_station(harness)
    coordinator = await make_coordinator(harness, hub, first_name="Coco")
    admin = harness.admin()
    await admin.send("/help")
    assert await names_kept(harness) == [(coordinator.id, "Coco"), (ADMIN_ID, "Admin")]
    coordinator.first_name = "Coco Wang"
    await coordinator.send("/help")
    await coordinator.send("/help")
    assert await names_kept(harness) == [(coordinator.id, "Coco Wang"), (ADMIN_ID, "Admin")]
    names = await harness.services.people.names([coordinator.id, plain.id], "en")
    assert names == {coordinator.id: "Coco Wang", plain.id: f"ID {plain.id}"}
