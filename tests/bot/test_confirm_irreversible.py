"""What cannot be undone is asked first: giving up a place, marking a voucher used."""

import pytest

from handlers.common import once
from tests.bot.test_activities import admin_viewer, make_activity
from tests.bot.test_rewards import REWARD, partner_of
from tests.support.flows import add_station, received, seed_talent

ALREADY = "Already done. Pressing again changes nothing."


def labels(message):
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [button["text"] for row in rows for button in row]


async def signups(harness, activity):
    rows = await harness.services.activities.activities.signups(activity.id)
    return sorted((s.telegram_id, s.status) for s in rows)


@pytest.fixture
async def hub(harness):
    return await add_station(harness, "Downtown hub", "市民中心站")


@pytest.mark.parametrize("together", [False, True], ids=["in_turn", "at_once"])
async def test_giving_up_a_place_says_it_goes_to_the_waitlist(harness, hub, together):
    for telegram_id in (501, 502):
        await seed_talent(harness, telegram_id, station=hub)
    activity = await make_activity(harness, hub, capacity=1)
    going = harness.user("A", id=501)
    await harness.services.activities.sign_up(
        (await harness.services.talents.by_telegram_id(501)).id, activity.id, waitlist=False
    )
    await harness.services.activities.sign_up(
        (await harness.services.talents.by_telegram_id(502)).id, activity.id, waitlist=True
    )
    await going.send(f"/start act-{activity.id}")
    await going.tap("Cancel my signup")
    assert going.last_text() == (
        "Give up your place at Free eye clinic? It goes at once to the first talent on the"
        " waitlist."
    )
    assert going.buttons() == ["Yes, give up my place", "No, keep it"]
    # Changing one's mind changes nothing and shows the page again, in place.
    confirm = going.messages()[-1]["message_id"]
    await going.tap("No, keep it")
    assert going.messages()[-1]["message_id"] == confirm
    assert "You are signed up." in going.last_text()
    assert await signups(harness, activity) == [(501, "going"), (502, "waitlist")]
    await going.tap("Cancel my signup")
    await going.double_tap("Yes, give up my place", together=together)
    assert going.alerts()[-2:] in (
        ["Done: your place is given up.", ALREADY],
        [ALREADY, "Done: your place is given up."],
    )
    assert await signups(harness, activity) == [(502, "going")]
    promoted = [t for t in received(harness, 502) if t.startswith("🎉")]
    assert len(promoted) == 1
    # The question became the activity's page: nothing on it gives the place up again.
    assert all("Yes, give up my place" not in labels(m) for m in going.messages())
    assert going.last_text().startswith("Done: your place is given up.\n\nFree eye clinic\n")
    assert going.buttons()[0] == "⏳ Join the waitlist"


async def test_in_chinese_with_nobody_waiting_and_on_the_waitlist(harness, hub):
    for telegram_id in (501, 502, 503):
        await seed_talent(harness, telegram_id, station=hub, language="zh")
    activity = await make_activity(harness, hub, capacity=1)
    alone = harness.user("甲", id=501, language="zh")
    await alone.send(f"/start act-{activity.id}")
    await alone.tap("✅ 报名")
    await alone.tap("取消报名")
    assert alone.last_text() == "确定取消报名 Free eye clinic 吗？取消后名额会让给别人。"
    second, third = harness.user("乙", id=502), harness.user("丙", id=503)
    for user in (second, third):
        await user.send(f"/start act-{activity.id}")
        await user.tap("⏳ 加入候补")
    await third.tap("退出候补")
    assert third.last_text() == (
        "确定退出 Free eye clinic 的候补吗？您现在是第 2 位，退出后再加入要重新排队。"
    )
    await third.tap("确定退出候补")
    assert third.alerts()[-1] == "好的，已为您取消。"
    assert await signups(harness, activity) == [(501, "going"), (502, "waitlist")]
    await alone.tap("确定取消报名")
    assert alone.alerts()[-1] == "好的，已为您取消。"
    assert await signups(harness, activity) == [(502, "going")]


async def test_a_forged_or_stale_leave_changes_nothing(harness, hub):
    await seed_talent(harness, 501, station=hub)
    activity = await make_activity(harness, hub)
    user = harness.user("A", id=501)
    await user.send(f"/start act-{activity.id}")
    await user.press(f"act:leave:{activity.id}", forge=True)
    assert user.alerts()[-1] == "You are not signed up for this activity."
    await user.press(once(f"act:quit:{activity.id}"), forge=True)
    assert user.alerts()[-1] == "You are not signed up for this activity."


@pytest.fixture
async def voucher_at_desk(harness):
    hotel = await add_station(harness, "Spa hotel", "温泉酒店")
    admin = await admin_viewer(harness)
    reward = await harness.services.rewards.add(admin, {**REWARD, "station_id": hotel.id})
    talent = await seed_talent(harness, 501)
    await harness.services.points.adjust(admin, talent.id, 50, "Seed points")
    _, voucher, _ = await harness.services.rewards.redeem(talent.id, reward.id)
    return hotel, voucher


async def test_marking_used_is_asked_first(harness, voucher_at_desk):
    hotel, voucher = voucher_at_desk
    desk = await partner_of(harness, hotel, name="前台小李")
    desk.language_code = "zh"
    await desk.send(f"/verify {voucher.code}")
    card = desk.messages()[-1]["message_id"]
    assert desk.buttons() == ["☑️ 核销"]
    await desk.tap("☑️ 核销")
    assert desk.last_text().endswith("核销后不能撤销。确认 Talent 501 已在您这里使用这张券吗？")
    assert desk.buttons() == ["✅ 确认核销", "◀ 返回"]
    await desk.tap("◀ 返回")
    assert desk.buttons() == ["☑️ 核销"]
    assert (await harness.services.rewards.rewards.voucher(voucher.code)).status == "valid"
    await desk.tap("☑️ 核销")
    await desk.tap("✅ 确认核销")
    assert desk.alerts()[-1] == "已核销。"
    assert (await harness.services.rewards.rewards.voucher(voucher.code)).status == "used"
    # Everything happened on the one card, which now says who used it, with no buttons.
    assert desk.messages()[-1]["message_id"] == card
    assert "状态：☑️ 已于 2026年11月26日 10:00 使用（核销人：前台小李）" in desk.last_text()
    assert desk.inline_buttons() == []
    await desk.press(once(f"vc:use:{voucher.code}"), forge=True)
    assert desk.alerts()[-1] == "该兑换券已经使用过了。"


async def test_only_the_desk_may_ask(harness, voucher_at_desk):
    _, voucher = voucher_at_desk
    elsewhere = await partner_of(harness, await add_station(harness, "Scenic", "景区"), "W")
    owner = harness.user("Owner", id=501)
    await owner.send(f"/start v-{voucher.code}")
    for user in (elsewhere, owner):
        for data in (f"vc:ask:{voucher.code}", f"vc:desk:{voucher.code}"):
            await user.press(data, forge=True)
            assert user.alerts()[-1] == "Sorry, you are not allowed to do that.", data
    await elsewhere.press("vc:ask:NOTACODE1", forge=True)
    assert (
        elsewhere.alerts()[-1]
        == "That button has expired; please use the buttons of the newest message."
    )
    assert (await harness.services.rewards.rewards.voucher(voucher.code)).status == "valid"
