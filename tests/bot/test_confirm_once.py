"""Every confirm button acts once: a double tap, or two presses arriving at the same moment."""

import pytest

from bot.services.activities import ActivityDraft
from tests.bot.test_activities import STARTS, WINTER, admin_viewer, announcements, make_activity
from tests.bot.test_rewards import REWARD, partner_of
from tests.support.flows import add_station, make_coordinator, received, seed_talent

ALREADY = "Already done. Pressing again changes nothing."
ALREADY_ZH = "已经办好了，再按一次不会重复办理。"
# Two presses delivered one after the other (a double tap), or at the same moment: the
# Application handles one user's updates in order, but nothing may depend on that.
WAYS = pytest.mark.parametrize("together", [False, True], ids=["in_turn", "at_once"])


async def count(harness, sql, *params):
    return await harness.services.db.fetch_value(sql, params)


@pytest.fixture
async def hub(harness):
    hub = await add_station(harness, "Downtown hub", "市民中心站")
    await seed_talent(harness, 501, station=hub, expertise=("medicine",), stay=WINTER)
    return hub


@WAYS
async def test_redeem(harness, together):
    hotel = await add_station(harness, "Spa hotel", "温泉酒店")
    admin = await admin_viewer(harness)
    reward = await harness.services.rewards.add(
        admin, {**REWARD, "stock": 5, "per_talent_limit": 0, "station_id": hotel.id}
    )
    talent = await seed_talent(harness, 501)
    await harness.services.points.adjust(admin, talent.id, 500, "Seed points")
    user = harness.user("T", id=501)

    async def to_confirm():
        await user.send("/rewards")
        await user.tap(user.buttons()[0])  # "✅ A night at the spa hotel · 50 points · 5 left"
        await user.tap("🎁 Redeem")

    await to_confirm()
    await user.double_tap("Yes, redeem", together=together)
    assert user.alerts() == [ALREADY]
    assert await count(harness, "SELECT count(*) FROM vouchers") == 1
    assert await harness.services.checkins.points.balance(talent.id) == 450
    assert (await harness.services.rewards.rewards.get(reward.id)).stock == 4
    assert sum("photo" in m for m in harness.api.bot_messages(501)) == 1
    # Buying a second one on purpose is a new confirmation, and works.
    await to_confirm()
    await user.tap("Yes, redeem")
    assert await count(harness, "SELECT count(*) FROM vouchers") == 2
    assert await harness.services.checkins.points.balance(talent.id) == 400


@WAYS
async def test_publish_from_manage(harness, hub, together):
    admin = await admin_viewer(harness)
    await harness.services.activities.create(
        admin,
        ActivityDraft(
            station_id=hub.id, kind="clinic", title="Free eye clinic", place="Hub, room 2",
            starts_at=STARTS, ends_at=STARTS.replace(hour=3), points=10,
        ),
    )  # fmt: skip
    coordinator = await make_coordinator(harness, hub, language="zh")
    await coordinator.send("/manage")
    await coordinator.tap("📝 草稿 · 12月5日周六 09:30 · Free eye clinic")
    await coordinator.double_tap("📢 发布", together=together)
    assert coordinator.alerts() == [ALREADY_ZH]
    assert sum(t.startswith("已发布") for t in coordinator.texts()) == 1
    await harness.outbox.drain()
    assert len(announcements(harness, 501)) == 1


@WAYS
@pytest.mark.parametrize("button", ["📢 Publish", "💾 Save as draft"])
async def test_publish_or_save_a_new_activity(harness, hub, together, button):
    coordinator = await make_coordinator(harness, hub)
    await coordinator.send("/new_activity")
    await coordinator.tap("Lectures")
    for answer in ("Winter health talk", "About", "Library", "12/5 9:30", "1h", "0", "0"):
        await coordinator.send(answer)
    await coordinator.tap("Anyone")
    await coordinator.double_tap(button, together=together)
    assert coordinator.alerts() == [ALREADY]
    assert await count(harness, "SELECT count(*) FROM activities") == 1
    await harness.outbox.drain()
    assert len(announcements(harness, 501)) == (1 if button == "📢 Publish" else 0)


@WAYS
async def test_send_broadcast(harness, hub, together):
    await seed_talent(harness, 502, station=hub, stay=WINTER)
    coordinator = await make_coordinator(harness, hub)
    await coordinator.send("/broadcast")
    await coordinator.send("Free clinic on Saturday, 9:00 at the hub.")
    await coordinator.tap("Any field")
    await coordinator.tap("Everyone")
    await coordinator.double_tap("📣 Send", together=together)
    assert coordinator.alerts() == [ALREADY]
    assert await count(harness, "SELECT count(*) FROM broadcasts") == 1
    assert await count(harness, "SELECT count(*) FROM deliveries") == 2
    await harness.outbox.drain()
    for talent in (501, 502):
        assert received(harness, talent) == ["Free clinic on Saturday, 9:00 at the hub."]


@WAYS
async def test_cancel_activity(harness, hub, together):
    activity = await make_activity(harness, hub)
    talent = await harness.services.talents.by_telegram_id(501)
    await harness.services.activities.sign_up(talent.id, activity.id, waitlist=False)
    coordinator = await make_coordinator(harness, hub)
    await coordinator.send("/manage")
    await coordinator.tap("✅ Published · Sat, Dec 5 9:30\u202fAM · Free eye clinic")
    await coordinator.tap("❌ Cancel the activity")
    before = len(received(harness, 501))
    await coordinator.double_tap("Yes, cancel it", together=together)
    assert coordinator.alerts() == [ALREADY]
    assert coordinator.last_text() == "Cancelled: Free eye clinic. 1 talents are being told."
    assert (await harness.services.activities.activities.get(activity.id)).status == "cancelled"
    await harness.outbox.drain()
    told = received(harness, 501)[before:]
    assert len(told) == 1 and told[0].startswith("❌ Free eye clinic")


@WAYS
async def test_mark_used_and_cancel_voucher(harness, together):
    hotel = await add_station(harness, "Spa hotel", "温泉酒店")
    admin = await admin_viewer(harness)
    reward = await harness.services.rewards.add(
        admin, {**REWARD, "per_talent_limit": 0, "station_id": hotel.id}
    )
    talent = await seed_talent(harness, 501)
    await harness.services.points.adjust(admin, talent.id, 100, "Seed points")
    _, used, _ = await harness.services.rewards.redeem(talent.id, reward.id)
    _, cancelled, _ = await harness.services.rewards.redeem(talent.id, reward.id)
    desk = await partner_of(harness, hotel)
    await desk.send(f"/verify {used.code}")
    await desk.tap("☑️ Mark used")
    await desk.double_tap("✅ Yes, mark it used", together=together)
    assert sorted(desk.alerts()) == sorted(["Marked used.", ALREADY])
    assert (await harness.services.rewards.rewards.voucher(used.code)).used_by == desk.id
    office = harness.admin()
    await office.send(f"/verify {cancelled.code}")
    await office.double_tap("❌ Cancel voucher (refund)", together=together)
    assert sorted(office.alerts()[-2:]) == sorted(
        ["Cancelled; the points and the stock are back.", ALREADY]
    )
    refunds = await count(harness, "SELECT count(*) FROM ledger WHERE kind = 'refund'")
    assert refunds == 1
    assert await harness.services.checkins.points.balance(talent.id) == 50
