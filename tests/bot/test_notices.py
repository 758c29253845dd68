"""Talents are told when their points or hours change: in their language, through the outbox,
unless they turned it off in /settings."""

from datetime import timedelta

import pytest

from bot.app import VOUCHER_EXPIRY_JOB
from tests.bot.test_activities import STARTS, admin_viewer, make_activity
from tests.bot.test_rewards import REWARD
from tests.support.flows import add_station, make_coordinator, received, seed_talent
from tests.support.harness import eventually, start_harness, stop_harness

POINTS_SWITCH = "✅ Changes to my points and hours"


async def adjust_in_chat(harness, delta, reason, *, name="Talent 501"):
    """The admin adjusts a talent's points through /admin, as they would on their phone."""
    admin = harness.admin()
    await admin.send("/admin")
    await admin.tap("⭐ Adjust points")
    await admin.send(name)
    await admin.tap(f"{name} · Harbin")
    await admin.send(delta)
    await admin.send(reason)
    return admin


async def told(harness, telegram_id):
    """Send what is due (the outbox's periodic look) and return what the talent received."""
    await harness.outbox.send_due_reminders()
    return received(harness, telegram_id)


async def test_an_adjustment_is_told_in_each_talents_language(harness):
    wang = await seed_talent(harness, 501, language="zh")
    await seed_talent(harness, 502, language="en")
    admin = await adjust_in_chat(harness, "+20", "春季集市帮忙")
    assert admin.last_text() == "Done: +20 points for Talent 501; their balance is now 20."
    await adjust_in_chat(harness, "+1000", "Translated the guide", name="Talent 502")
    # Nothing went out from the handler: the notices wait in the outbox's rows.
    assert received(harness, 501) == [] and received(harness, 502) == []
    assert await told(harness, 501) == [
        "⭐ 人才办公室为您调整了积分：+20（春季集市帮忙）。当前余额 20 积分。"
    ]
    assert await told(harness, 502) == [
        "⭐ The talent office adjusted your points: +1000 (Translated the guide). "
        "Your balance is 1,000 points."
    ]
    rows = await harness.services.db.fetch_all(
        "SELECT topic, status FROM reminders WHERE talent_id = ?", (wang.id,)
    )
    assert [tuple(r) for r in rows] == [("points", "sent")]
    # Sending again sends nothing twice.
    assert len(await told(harness, 501)) == 1


async def test_turned_off_in_settings_means_not_told(harness):
    await seed_talent(harness, 501)
    talent = harness.user("T", id=501)
    await talent.send("/settings")
    await talent.tap(POINTS_SWITCH)
    assert "🔕 Changes to my points and hours" in talent.buttons()
    before = talent.mark()
    await adjust_in_chat(harness, "+5", "Thank you")
    assert (await told(harness, 501))[before:] == []
    statuses = await harness.services.db.fetch_all("SELECT status FROM reminders")
    assert [r[0] for r in statuses] == ["dropped"]
    await talent.tap("🔕 Changes to my points and hours")
    await adjust_in_chat(harness, "+5", "Thank you again")
    assert (await told(harness, 501))[before:] == [
        "⭐ The talent office adjusted your points: +5 (Thank you again). "
        "Your balance is 10 points."
    ]


async def test_hand_check_in_and_corrected_hours_are_told(harness):
    hub = await add_station(harness, "Downtown hub", "市民中心站")
    activity = await make_activity(harness, hub)
    await seed_talent(harness, 501, station=hub)
    await seed_talent(harness, 502, station=hub, language="zh")
    coordinator = await make_coordinator(harness, hub)
    harness.clock.set(STARTS)
    for name in ("Talent 501", "Talent 502"):
        await coordinator.press(f"mg:man:{activity.id}", forge=True)
        await coordinator.send(name)
        await coordinator.tap(f"{name} · Harbin")
    assert await told(harness, 501) == [
        "✅ A coordinator checked you in: Free eye clinic. +10 points; your balance is 10."
    ]
    assert await told(harness, 502) == [
        "✅ 协调员已为您签到：Free eye clinic，获得 10 积分，当前余额 10 积分。"
    ]
    await coordinator.tap("✏️ Talent 501")
    await coordinator.send("1,5")
    await coordinator.send("Left early to see a patient")
    assert (await told(harness, 501))[1:] == [
        "🕘 Your service hours for Free eye clinic are corrected to 1.5 h "
        "(Left early to see a patient)."
    ]
    # A second correction is a change of its own, and is told too.
    await coordinator.tap("✏️ Talent 501")
    await coordinator.send("2")
    await coordinator.send("Stayed after all")
    assert (await told(harness, 501))[2:] == [
        "🕘 Your service hours for Free eye clinic are corrected to 2 h (Stayed after all)."
    ]


@pytest.fixture
async def reward(harness):
    hotel = await add_station(harness, "Spa hotel", "温泉酒店")
    admin = await admin_viewer(harness)
    return await harness.services.rewards.add(
        admin, {**REWARD, "per_talent_limit": 0, "station_id": hotel.id}
    )


async def test_a_cancelled_and_an_expired_voucher_are_told(harness, reward):
    admin = await admin_viewer(harness)
    zh = await seed_talent(harness, 501, language="zh")
    en = await seed_talent(harness, 502)
    for talent in (zh, en):
        await harness.services.points.adjust(admin, talent.id, 50, "Seed points")
    _, cancelled, _ = await harness.services.rewards.redeem(zh.id, reward.id)
    _, expiring, _ = await harness.services.rewards.redeem(en.id, reward.id)
    await harness.outbox.send_due_reminders()  # the seed points' notices
    office = harness.admin()
    await office.send(f"/verify {cancelled.code}")
    await office.tap("❌ Cancel voucher (refund)")
    code = cancelled.code
    assert (await told(harness, 501))[-1] == (
        f"❌ 您的兑换券“温泉酒店一晚”（{code[:3]}-{code[3:6]}-{code[6:]}）已取消，"
        "50 积分已退回，当前余额 50 积分。"
    )
    # The application's own hourly job expires it, and the talent hears of it.
    harness.clock.advance(timedelta(days=31))
    job_queue = harness.app.job_queue
    assert job_queue.get_jobs_by_name(VOUCHER_EXPIRY_JOB)
    await job_queue.start()
    try:
        expired = "⌛ Your voucher for A night at the spa hotel"

        async def heard() -> bool:
            await harness.outbox.send_due_reminders()
            return any(text.startswith(expired) for text in received(harness, 502))

        await eventually(heard)
    finally:
        await job_queue.stop()
    code = expiring.code
    assert received(harness, 502)[-1] == (
        f"⌛ Your voucher for A night at the spa hotel ({code[:3]}-{code[3:6]}-{code[6:]}) "
        "has expired; its 50 points are back. Your balance is 50."
    )
    assert sum(text.startswith("⌛") for text in received(harness, 502)) == 1


async def test_a_running_bot_sends_at_once_and_a_restart_loses_none(tmp_path):
    first = await start_harness(tmp_path)
    await seed_talent(first, 501)
    admin = await admin_viewer(first)
    talent = await first.services.talents.by_telegram_id(501)
    # Stored, but the bot stops before sending it.
    await first.services.points.adjust(admin, talent.id, 7, "Before the restart")
    await stop_harness(first)
    second = await start_harness(tmp_path, api=first.api)
    try:
        await second.outbox.send_due_reminders()
        assert received(second, 501) == [
            "⭐ The talent office adjusted your points: +7 (Before the restart). "
            "Your balance is 7 points."
        ]
        # With the outbox running, as in `talentbot run`, a notice goes out without waiting
        # for the periodic look at the reminders.
        await second.outbox.start()
        await second.services.points.adjust(admin, talent.id, 3, "While running")

        async def arrived() -> bool:
            return len(received(second, 501)) == 2

        await eventually(arrived)
        assert received(second, 501)[-1].endswith("(While running). Your balance is 10 points.")
    finally:
        await stop_harness(second)
