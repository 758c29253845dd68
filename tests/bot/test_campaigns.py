"""Produce campaigns (爱心助农): open, announce, pledge, progress in one message, close."""

import io
import json
from datetime import timedelta

import openpyxl
import pytest

from bot import campaign_view
from bot.app import CAMPAIGN_JOB
from bot.services.campaigns import EDIT_EVERY
from localapi.chat import sent_to
from storage.campaigns import Totals
from tests.support.flows import add_station, make_coordinator, seed_talent
from tests.support.harness import eventually


@pytest.fixture
async def city(harness):
    """Two stations; two talents and a coordinator at the village, one talent downtown."""
    village = await add_station(harness, "Village station", "乡村振兴站")
    hub = await add_station(harness, "Downtown hub", "市民中心站")
    await seed_talent(harness, 601, station=village)
    await seed_talent(harness, 602, station=village, language="zh")
    await seed_talent(harness, 501, station=hub)
    coordinator = await make_coordinator(harness, village)
    return village, hub, coordinator


def talent(harness, telegram_id, language="en"):
    return harness.user(f"Talent {telegram_id}", language=language, id=telegram_id)


async def open_campaign(coordinator, *, goal="20000", closes="tomorrow 20:00"):
    await coordinator.send("/new_campaign")
    await coordinator.send("Fresh chillies")
    await coordinator.tap("jin")
    await coordinator.send(goal)
    await coordinator.send("6.50")
    await coordinator.send("Village office gate, 5 Dec 9:00-11:00")
    await coordinator.send("Mr Wang 138 0000 0000")
    await coordinator.send(closes)
    await coordinator.tap("✅ Open the campaign")


async def campaign_id(harness):
    return await harness.services.db.fetch_value("SELECT max(id) FROM campaigns")


async def view(harness, user, cid):
    """Open the campaign from its announcement, as a talent would."""
    await harness.outbox.drain()
    label = "查看并认购" if user.language_code == "zh" else "See it and pledge"
    await user.tap(label)


async def pledge(user, text, *, way="🛒 I will buy"):
    await user.tap(way)
    await user.send(text)


async def refresh(harness):
    """What the campaign job does, once the per-person pause has passed."""
    harness.clock.advance(EDIT_EVERY)
    return await campaign_view.refresh(harness.app.bot, harness.services)


async def test_coordinator_opens_and_the_station_hears(harness, city):
    village, _, coordinator = city
    await coordinator.send("/new_campaign")
    assert coordinator.last_text().startswith("<b>New produce campaign</b>") is False
    assert coordinator.last_text().startswith("New produce campaign")
    await coordinator.send("Fresh chillies")
    await coordinator.tap("jin")
    await coordinator.send("lots")
    assert coordinator.last_text().startswith("Please send a whole number from 1 to 1,000,000")
    await coordinator.send("20,000")
    await coordinator.send("six yuan")
    assert coordinator.last_text().startswith("Please send a price like 6 or 6.50")
    await coordinator.send("6.50")
    await coordinator.send("Village office gate, 5 Dec 9:00-11:00")
    await coordinator.send("Mr Wang 138 0000 0000")
    await coordinator.send("today 9:00")
    assert coordinator.last_text().startswith("That time has already passed")
    await coordinator.send("tomorrow 20:00")
    assert coordinator.last_text() == (
        "Ready to open\nProduce: Fresh chillies\nGoal: 20,000 jin\nPrice: ¥6.50 per jin\n"
        "Collect: Village office gate, 5 Dec 9:00-11:00\nSeller: Mr Wang 138 0000 0000\n"
        "Closes: Nov 27, 2026, 8:00\u202fPM\n\nThe station's talents will be told."
    )
    await coordinator.double_tap("✅ Open the campaign")
    assert await harness.services.db.fetch_value("SELECT count(*) FROM campaigns") == 1
    row = await harness.services.db.fetch_one("SELECT * FROM campaigns")
    assert (row["station_id"], row["goal"], row["price_minor"], row["unit"]) == (
        village.id,
        20000,
        650,
        "jin",
    )
    assert "The campaign is open. The announcement is going to 2 talents." in coordinator.texts()
    assert coordinator.last_text().startswith("🌾 Fresh chillies · ¥6.50 per jin")
    assert "0 / 20,000 jin\n░░░░░░░░░░ 0%" in coordinator.last_text()
    assert "🔒 Close now" in coordinator.inline_buttons()
    await harness.outbox.drain()
    en = talent(harness, 601)
    assert en.last_text().startswith("🌾 Help farmers sell: Fresh chillies\nVillage station")
    zh = talent(harness, 602, "zh")
    assert zh.last_text().startswith("🌾 爱心助农：Fresh chillies\n乡村振兴站帮农户卖 20,000斤")
    assert talent(harness, 501).texts() == []  # another station's talent


async def test_opted_out_talents_are_not_told(harness, city):
    _, _, coordinator = city
    en = talent(harness, 601)
    await en.send("/settings")
    await en.tap("✅ Produce campaigns (help farmers sell)")
    await open_campaign(coordinator)
    assert "The announcement is going to 1 talents." in coordinator.texts()[-2]
    await harness.outbox.drain()
    assert not any("Help farmers sell" in text for text in en.texts())


async def test_pledge_change_withdraw_and_one_message_edited_in_place(harness, city):
    _, _, coordinator = city
    await open_campaign(coordinator)
    cid = await campaign_id(harness)
    alice = talent(harness, 601)
    await view(harness, alice, cid)
    card = alice.messages()[-1]
    await pledge(alice, "50")
    assert alice.last_text() == (
        "Thank you! You will buy 50 jin of Fresh chillies. "
        "Send another number with the button to change it."
    )
    assert await refresh(harness) == 2  # Alice's message and the coordinator's
    edited = next(m for m in alice.messages() if m["message_id"] == card["message_id"])
    assert "50 / 20,000 jin\n░░░░░░░░░░ 0%" in edited["text"]
    assert "You will buy: 50 jin" in edited["text"]
    # Changes in quick succession: one edit per person, with the latest figures.
    bob = talent(harness, 602, "zh")
    await view(harness, bob, cid)
    await pledge(bob, "一万二千三百", way="🛒 我要买")
    assert bob.last_text().startswith("谢谢您！您认购了 12,300斤")
    await pledge(alice, "40")
    edits_before = len(sent_to(harness.api, "editMessageText", chat_id=alice.id))
    assert await refresh(harness) == 3
    assert await campaign_view.refresh(harness.app.bot, harness.services) == 0  # too soon
    edits = sent_to(harness.api, "editMessageText", chat_id=alice.id)
    assert len(edits) == edits_before + 1
    assert {e["message_id"] for e in edits} == {card["message_id"]}
    assert "<b>12,340 / 20,000 jin</b>\n▓▓▓▓▓▓░░░░ 61%" in edits[-1]["text"]
    # Helping to sell counts too, beside buying.
    await pledge(alice, "60", way="🤝 I will sell to others")
    assert await harness.services.campaigns.totals(cid) == Totals(buy=12340, sell=60, people=2)
    await refresh(harness)
    await alice.tap("↩ Take back my pledge")
    assert alice.last_text() == "Your pledge is taken back."
    assert (await harness.services.campaigns.totals(cid)).quantity == 12300
    await refresh(harness)
    [coordinator_card] = [
        m for m in coordinator.messages() if m.get("text", "").startswith("🌾 Fresh chillies")
    ]
    assert "12,300 / 20,000 jin\n▓▓▓▓▓▓░░░░ 61%" in coordinator_card["text"]
    assert "People pledging: 1" in coordinator_card["text"]


@pytest.mark.parametrize(
    ("typed", "answer"),
    [
        ("-5", "The quantity cannot be negative."),
        ("0", "Zero is not a pledge."),
        ("200001", "That is more than this campaign can take. At most 200,000."),
        ("a few", "Please send a number, for example 20."),
        ("2.5", "Please send a whole number, without decimals."),
    ],
)
async def test_bad_quantities_get_an_answer_and_the_same_question(harness, city, typed, answer):
    _, _, coordinator = city
    await open_campaign(coordinator)
    cid = await campaign_id(harness)
    alice = talent(harness, 601)
    await view(harness, alice, cid)
    await pledge(alice, typed)
    assert alice.last_text().startswith(answer)
    assert alice.last_text().endswith("How many jin will you buy? Send a whole number, for "
                                      "example 20. Your name and phone go to the seller to "
                                      "arrange collection. /cancel to stop.")  # fmt: skip
    await alice.send_sticker()
    assert alice.last_text().startswith("Please send a number")
    await alice.send("五十斤")
    assert alice.last_text().startswith("Thank you! You will buy 50 jin")
    assert (await harness.services.campaigns.totals(cid)).quantity == 50


async def test_closing_by_the_job_sends_the_list_and_tells_pledgers(harness, city):
    _, _, coordinator = city
    await open_campaign(coordinator, closes="tomorrow 20:00")
    cid = await campaign_id(harness)
    alice, bob = talent(harness, 601), talent(harness, 602, "zh")
    for user, amount, way in ((alice, "50", "🛒 I will buy"), (bob, "=1+2", None)):
        await view(harness, user, cid)
        if way:
            await pledge(user, amount, way=way)
    await bob.send("/cancel")
    await pledge(bob, "=20", way="🛒 我要买")
    assert bob.last_text().startswith("请发一个数字")
    await bob.send("20")
    await harness.services.db.execute(
        "UPDATE talents SET name = '=HYPERLINK(\"x\")', phone = '+8613800138000' WHERE id ="
        " (SELECT id FROM talents WHERE telegram_id = 601)"
    )
    job_queue = harness.app.job_queue
    assert job_queue.get_jobs_by_name(CAMPAIGN_JOB)
    harness.clock.advance(timedelta(days=2))
    await job_queue.start()
    try:

        async def closed() -> bool:
            row = await harness.services.db.fetch_one("SELECT status FROM campaigns")
            return row["status"] == "closed" and any(
                "document" in m for m in coordinator.messages()
            )

        await eventually(closed)
    finally:
        await job_queue.stop()
    row = await harness.services.db.fetch_one("SELECT closed_by FROM campaigns")
    assert row["closed_by"] is None
    document = [m for m in coordinator.messages() if "document" in m][-1]
    assert document["caption"] == (
        "Fresh chillies: 70 / 20,000 jin pledged; people pledging: 2. "
        "The list to fulfil is attached."
    )
    sheet = openpyxl.load_workbook(
        io.BytesIO(harness.api.file_bytes(document["document"]["file_id"]))
    ).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0] == [
        "Name", "Phone", "Buy or sell", "Quantity (jin)", "Amount (CNY)", "Last changed",
    ]  # fmt: skip
    assert rows[1][:5] == ['\'=HYPERLINK("x")', "138 0013 8000", "Buys", 50, 325]
    assert rows[2][:5] == ["Talent 602", None, "Buys", 20, 130]
    assert rows[3][:5] == ["Total", None, None, 70, 455]
    await harness.outbox.send_due_reminders()
    assert alice.last_text().startswith(
        "🌾 Pledges for Fresh chillies are closed. You pledged 50 jin."
    )
    assert bob.last_text().startswith("🌾 Fresh chillies 认购已截止。您认购了 20斤。")
    # Too late to pledge now.
    await alice.press(f"cp:p:{cid}:buy", forge=True)  # an old button
    assert alice.last_text() == "This campaign is already closed."


async def test_coordinator_closes_by_hand_once(harness, city):
    _, _, coordinator = city
    await open_campaign(coordinator)
    cid = await campaign_id(harness)
    alice = talent(harness, 601)
    await view(harness, alice, cid)
    await pledge(alice, "50")
    await coordinator.tap("🔒 Close now")
    await coordinator.double_tap("Yes, close now")
    assert len([m for m in coordinator.messages() if "document" in m]) == 1
    assert coordinator.alerts()[-1] == "Already done. Pressing again changes nothing."
    row = await harness.services.db.fetch_one("SELECT closed_by FROM campaigns")
    assert row["closed_by"] == coordinator.id
    await harness.outbox.send_due_reminders()
    assert alice.last_text().startswith("🌾 Pledges for Fresh chillies are closed.")
    assert len([t for t in alice.texts() if "are closed" in t]) == 1
    await refresh(harness)
    [card] = [m for m in alice.messages() if m.get("text", "").startswith("🌾 Fresh chillies")]
    assert card["text"].endswith("You will buy: 50 jin\n\nPledges are closed. Thank you!")
    assert not card.get("reply_markup", {}).get("inline_keyboard")


async def test_others_may_not_manage_and_forged_presses_change_nothing(harness, city):
    _, hub, coordinator = city
    await open_campaign(coordinator)
    cid = await campaign_id(harness)
    await harness.outbox.drain()
    alice = talent(harness, 601)
    other = await make_coordinator(harness, hub, first_name="Other")
    for user in (alice, other):
        await user.press(f"cp:x:{cid}", forge=True)
        await user.press(f"cp:xc:{cid}:AAAAAAAAAAAAAAAA", forge=True)
        assert user.alerts()[-1] == "Sorry, you are not allowed to do that."
    outsider = talent(harness, 501)  # another station's talent
    await outsider.send("/campaigns")
    assert outsider.last_text() == "There are no open produce campaigns right now."
    await outsider.press(f"cp:p:{cid}:buy", forge=True)
    assert outsider.alerts()[-1] == "Sorry, you are not allowed to do that."
    await alice.send("/new_campaign")
    assert alice.last_text() == "Sorry, you are not allowed to do that."
    row = await harness.services.db.fetch_one("SELECT status FROM campaigns")
    assert row["status"] == "open"
    admin = harness.admin()
    await admin.send("/campaigns")
    await admin.tap("Fresh chillies")
    await admin.tap("🔒 Close now")
    await admin.tap("Yes, close now")
    row = await harness.services.db.fetch_one("SELECT status, closed_by FROM campaigns")
    assert (row["status"], row["closed_by"]) == ("closed", admin.id)


async def test_admins_campaign_is_city_wide(harness, city):
    admin = harness.admin()
    await open_campaign(admin)
    row = await harness.services.db.fetch_one("SELECT station_id FROM campaigns")
    assert row["station_id"] is None
    await harness.outbox.drain()
    assert talent(harness, 501).last_text().startswith("🌾 Help farmers sell: Fresh chillies")
    await talent(harness, 501).send("/campaigns")
    assert talent(harness, 501).buttons() == ["Fresh chillies"]


async def test_pledges_count_in_the_report(harness, city):
    _, _, coordinator = city
    await open_campaign(coordinator)
    cid = await campaign_id(harness)
    alice, bob = talent(harness, 601), talent(harness, 602, "zh")
    await view(harness, alice, cid)
    await pledge(alice, "50")
    await pledge(alice, "30", way="🤝 I will sell to others")
    await view(harness, bob, cid)
    await pledge(bob, "20", way="🛒 我要买")
    admin = harness.admin()
    await open_campaign(admin, goal="500")  # city-wide, nothing pledged yet
    await admin.send("/report")
    await admin.tap("🏙 All stations")
    await admin.tap("This month")
    summary = admin.texts()[-3]
    assert summary.endswith(
        "\n\n🌾 Produce campaigns\n"
        "Fresh chillies (Village station): 100 / 20,000 jin pledged by 2\n"
        "Fresh chillies (City-wide): 0 / 500 jin pledged by 0\n"
        "Village station in all: 100 jin\n"
        "City-wide in all: 0 jin"
    )
    document = admin.messages()[-1]
    book = openpyxl.load_workbook(
        io.BytesIO(harness.api.file_bytes(document["document"]["file_id"]))
    )
    rows = list(book["Produce campaigns"].iter_rows(values_only=True))
    assert rows == [
        ("Station", "Produce", "Unit", "Goal", "Pledged", "People who pledged"),
        ("Village station", "Fresh chillies", "jin", 20000, 100, 2),
        ("City-wide", "Fresh chillies", "jin", 500, 0, 0),
    ]
    # The station's coordinator sees their own campaign only.
    await coordinator.send("/report")
    await coordinator.tap("This month")
    assert coordinator.texts()[-3].endswith(
        "Fresh chillies (Village station): 100 / 20,000 jin pledged by 2\n"
        "Village station in all: 100 jin"
    )


async def test_a_pledge_is_in_mydata(harness, city):
    _, _, coordinator = city
    await open_campaign(coordinator)
    cid = await campaign_id(harness)
    alice = talent(harness, 601)
    await view(harness, alice, cid)
    await pledge(alice, "50")
    await alice.send("/mydata")
    document = harness.api.bot_messages(alice.id)[-1]["document"]
    data = json.loads(harness.api.file_bytes(document["file_id"]).decode("utf-8"))
    assert [
        (p["campaign_id"], p["product"], p["unit"], p["way"], p["quantity"])
        for p in data["pledges"]
    ] == [(cid, "Fresh chillies", "jin", "buy", 50)]
