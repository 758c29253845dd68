"""QR check-in: the window, one credit per talent, revoked codes, registering first, /points."""

import asyncio
import io
import re
from datetime import timedelta

import pypdf
import pytest

from tests.bot.test_activities import STARTS, admin_viewer, make_activity
from tests.bot.test_certificates import poppler
from tests.support.flows import add_station, make_coordinator, received, register, seed_talent
from tests.support.harness import ADMIN_ID

LINK = re.compile(r"https://t\.me/talentbot_test\?start=ci-([A-Za-z0-9_-]+)")


@pytest.fixture
async def hub(harness):
    return await add_station(harness, "Downtown hub", "市民中心站")


async def code_of(harness, activity):
    return await harness.services.checkins.code(await admin_viewer(harness), activity.id)


async def ledger(harness, telegram_id):
    talent = await harness.services.talents.by_telegram_id(telegram_id)
    return await harness.services.db.fetch_all(
        "SELECT delta, kind, idempotency_key FROM ledger WHERE talent_id = ?", (talent.id,)
    )


async def test_coordinator_gets_a_printable_code_and_can_renew_it(harness, hub):
    await make_activity(harness, hub)
    coordinator = await make_coordinator(harness, hub)
    await coordinator.send("/manage")
    await coordinator.tap("✅ Published · Sat, Dec 5 9:30\u202fAM · Free eye clinic")
    await coordinator.tap("📱 Check-in QR code")
    page = harness.api.bot_messages(coordinator.id)[-1]
    assert page["document"]["file_name"].endswith(".pdf")
    assert harness.api.file_bytes(page["document"]["file_id"]).startswith(b"%PDF-")
    photo = harness.api.bot_messages(coordinator.id)[-2]
    png = harness.api.file_bytes(photo["photo"][-1]["file_id"])
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert photo["caption"].startswith("Free eye clinic\nDec 5, 2026, 9:30")
    first = LINK.search(photo["caption"]).group(1)
    assert len(first) >= 22  # 128 random bits
    await coordinator.tap("🔄 New code")
    second = LINK.search(harness.api.bot_messages(coordinator.id)[-2]["caption"]).group(1)
    assert second != first
    talent = await seed_talent(harness, 501, station=hub)
    user = harness.user("T", id=501)
    harness.clock.set(STARTS)
    await user.send(f"/start ci-{first}")
    assert user.last_text().startswith("This check-in code is not valid")
    await user.send(f"/start ci-{second}")
    assert user.last_text() == "✅ Checked in: Free eye clinic. +10 points; your balance is 10."
    assert await harness.services.points.points.balance(talent.id) == 10


# Forty characters: one line of this at the page's largest type would run off the paper.
LONG_TITLE = "二〇二六年冬季候鸟人才健康服务月暨市民中心站社区老年人眼科与慢性病免费义诊咨询会"


async def test_the_printable_page_is_an_a4_pdf_with_the_whole_title(harness, hub, tmp_path):
    assert len(LONG_TITLE) == 40
    await make_activity(harness, hub, title=LONG_TITLE, place="市民中心站 二楼 2 号教室")
    coordinator = await make_coordinator(harness, hub, language="zh")
    await coordinator.send("/manage")
    await coordinator.tap(next(b for b in coordinator.buttons() if b.startswith("✅")))
    await coordinator.tap("📱 签到二维码")
    page = harness.api.bot_messages(coordinator.id)[-1]
    assert page["caption"] == (
        "可打印的签到页（A4）：大号二维码，附活动名称、时间和地点，请贴在入口处。"
    )
    data = harness.api.file_bytes(page["document"]["file_id"])
    reader = pypdf.PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1
    width, height = (float(v) for v in reader.pages[0].mediabox.upper_right)
    assert (round(width / 72 * 25.4), round(height / 72 * 25.4)) == (210, 297)  # A4
    fonts = poppler("pdffonts", data, tmp_path).splitlines()
    assert "NotoSansCJKSC" in fonts[2] and " yes yes yes " in fonts[2]  # embedded
    text = poppler("pdftotext", data, tmp_path)
    joined = "".join(text.split())
    assert LONG_TITLE in joined  # all of it, over as many lines as it takes
    assert "2026年12月5日09:30–11:30" in joined
    assert "市民中心站二楼2号教室" in joined
    assert "用手机相机扫描二维码签到 · Scan with your phone's camera to check in" in text
    assert LINK.search(joined)
    caption = harness.api.bot_messages(coordinator.id)[-2]["caption"]
    assert LINK.search(joined).group(1) == LINK.search(caption).group(1)


@pytest.mark.parametrize(
    ("moment", "reply"),
    [
        (
            STARTS - timedelta(minutes=61),
            "Check-in for Free eye clinic opens at Dec 5, 2026, 8:30",
        ),
        (STARTS - timedelta(minutes=59), "✅ Checked in: Free eye clinic."),
        (STARTS + timedelta(hours=2, minutes=-1), "✅ Checked in: Free eye clinic."),
        (STARTS + timedelta(hours=2, minutes=1), "Free eye clinic has ended; check-in is closed."),
    ],
)
async def test_the_window_edges(harness, hub, moment, reply):
    activity = await make_activity(harness, hub)
    token = await code_of(harness, activity)
    await seed_talent(harness, 501, station=hub)
    user = harness.user("T", id=501)
    harness.clock.set(moment)
    await user.send(f"/start ci-{token}")
    assert user.last_text().startswith(reply)
    credited = reply.startswith("✅")
    assert len(await ledger(harness, 501)) == (1 if credited else 0)


async def test_cancelled_activity(harness, hub):
    activity = await make_activity(harness, hub)
    token = await code_of(harness, activity)
    await harness.services.activities.cancel(await admin_viewer(harness), activity.id)
    await seed_talent(harness, 501, station=hub)
    user = harness.user("T", id=501)
    harness.clock.set(STARTS)
    await user.send(f"/start ci-{token}")
    assert user.last_text() == "Free eye clinic was cancelled."
    assert await ledger(harness, 501) == []


async def test_unknown_code(harness, hub):
    await seed_talent(harness, 501, station=hub)
    user = harness.user("T", id=501)
    await user.send("/start ci-AAAAAAAAAAAAAAAAAAAAAA")
    assert user.last_text().startswith("This check-in code is not valid")


async def test_fifty_scans_at_once_credit_once(harness, hub):
    activity = await make_activity(harness, hub)
    token = await code_of(harness, activity)
    await seed_talent(harness, 501, station=hub)
    user = harness.user("T", id=501)
    harness.clock.set(STARTS)
    await asyncio.gather(*(user.send(f"/start ci-{token}") for _ in range(50)))
    assert [tuple(row) for row in await ledger(harness, 501)] == [
        (10, "earn", f"checkin:{activity.id}:1")
    ]
    texts = received(harness, 501)
    assert sum(t.startswith("✅ Checked in") for t in texts) == 1
    assert sum(t.startswith("You are already checked in") for t in texts) == 49


async def test_many_talents_at_once_and_walk_ins(harness, hub):
    activity = await make_activity(harness, hub)
    token = await code_of(harness, activity)
    talents = [await seed_talent(harness, 600 + i, station=hub) for i in range(30)]
    await harness.services.activities.sign_up(talents[0].id, activity.id, waitlist=False)
    harness.clock.set(STARTS)
    users = [harness.user("T", id=600 + i) for i in range(30)]
    await asyncio.gather(*(u.send(f"/start ci-{token}") for u in users))
    rows = await harness.services.points.points.attendance(activity.id)
    assert len(rows) == 30
    assert {row.talent_id: row.walk_in for row in rows}[talents[0].id] is False
    assert sum(row.walk_in for row in rows) == 29
    assert all(row.hours == 2.0 for row in rows)
    assert await harness.services.db.fetch_value("SELECT sum(delta) FROM ledger") == 300


async def test_register_then_check_in_without_scanning_again(harness, hub):
    activity = await make_activity(harness, hub)
    token = await code_of(harness, activity)
    harness.clock.set(STARTS)
    newcomer = harness.user("New", language="en")
    await newcomer.send(f"/start ci-{token}")
    assert newcomer.last_text().startswith("Welcome! To check in, please register first")
    await register_from_consent(harness, newcomer)
    assert newcomer.texts()[-2].startswith("Thank you, you are registered!")
    assert (
        newcomer.last_text() == "✅ Checked in: Free eye clinic. +10 points; your balance is 10."
    )
    assert len(await ledger(harness, newcomer.id)) == 1


async def register_from_consent(harness, user):
    await user.tap("I agree")
    await user.send("Wang Li")
    await user.tap("Skip")
    await user.tap("Medicine & health")
    await user.tap("Done")
    await user.tap("Skip")
    await user.send("Harbin")
    await user.tap("Not sure yet")
    await user.send("2026-11-01 to 2027-03-01")
    await user.tap("✅ Confirm")


async def test_points_page(harness, hub):
    user = harness.user("T")
    await register(harness, user)
    await user.send("/points")
    assert user.last_text() == (
        "Your points: 0\nService hours this season: 0 · in all: 0\n\nLatest entries:\n"
        "None yet. Check in at an activity to earn points."
    )
    for day in range(7):
        activity = await make_activity(harness, hub, title=f"Talk {day}",
                                       starts_at=STARTS + timedelta(days=day),
                                       ends_at=STARTS + timedelta(days=day, hours=1))  # fmt: skip
        harness.clock.set(activity.starts_at)
        await user.send(f"/start ci-{await code_of(harness, activity)}")
    await user.send("/points")
    text = user.last_text()
    assert text.startswith("Your points: 70\nService hours this season: 7 · in all: 7")
    assert "Dec 11, 2026 · +10 · activity · Talk 6" in text
    assert user.buttons() == ["More ▾", "📄 Service certificate 2026–2027"]
    await user.tap("More ▾")
    assert user.last_text().startswith("Older entries:\nDec 6, 2026 · +10 · activity · Talk 1")
    assert user.inline_buttons() == []


async def test_points_before_registering(harness):
    user = harness.user("Nobody")
    await user.send("/points")
    assert user.last_text() == "You have not registered yet. Send /start to register."


async def test_only_coordinators_of_the_station_get_codes(harness, hub):
    activity = await make_activity(harness, hub)
    village = await add_station(harness, "Village station", "乡村振兴站")
    outsider = await make_coordinator(harness, village, first_name="Outsider")
    talent = harness.user("Plain")
    await talent.send("/help")
    for user in (outsider, talent):
        for data in (f"mg:qr:{activity.id}", f"mg:newqr:{activity.id}"):
            await user.press(data, forge=True)
            assert user.alerts()[-1] == "Sorry, you are not allowed to do that."
            assert not any(m.get("photo") for m in harness.api.bot_messages(user.id))
    assert await harness.services.points.points.token_of(activity.id) is None


async def test_unknown_code_is_said_at_once_to_someone_unregistered(harness):
    newcomer = harness.user("New")
    await newcomer.send("/start ci-AAAAAAAAAAAAAAAAAAAAAA")
    assert newcomer.texts() == [
        "This check-in code is not valid; it may have been replaced. Please scan the code at "
        "the venue again or ask the coordinator."
    ]
    assert await harness.services.talents.count_registered() == 0


async def test_revoked_and_cancelled_codes_are_said_at_once(harness):
    hub = await add_station(harness)
    activity = await make_activity(harness, hub)
    old = await code_of(harness, activity)
    admin = await harness.services.people.viewer(ADMIN_ID, "en")
    await harness.services.checkins.code(admin, activity.id, renew=True)
    newcomer = harness.user("New")
    await newcomer.send(f"/start ci-{old}")
    assert newcomer.last_text().startswith("This check-in code is not valid")
    cancelled = await make_activity(harness, hub, title="Rained off")
    token = await code_of(harness, cancelled)
    await harness.services.activities.cancel(admin, cancelled.id)
    await newcomer.send(f"/start ci-{token}")
    assert newcomer.last_text() == "Rained off was cancelled."
    assert not any("Privacy notice" in text for text in newcomer.texts())
