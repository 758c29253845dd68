"""/broadcast as coordinators and admins use it, and the outbox that sends it."""

from datetime import date, timedelta

import pytest

from handlers.common import once
from localapi import BotApiError
from tests.support.flows import add_station, make_coordinator, received, seed_talent

WINTER = (date(2026, 11, 1), date(2027, 3, 31))
LATER = (date(2027, 1, 10), date(2027, 3, 31))  # not in the city yet on 2026-11-26


@pytest.fixture
async def city(harness):
    """Two stations with talents, and a coordinator of the first."""
    hub = await add_station(harness, "Downtown hub", "市民中心站")
    village = await add_station(harness, "Village station", "乡村振兴站")
    await seed_talent(harness, 501, station=hub, expertise=("medicine",), stay=WINTER)
    await seed_talent(harness, 502, station=hub, expertise=("law", "medicine"), stay=WINTER)
    await seed_talent(harness, 503, station=hub, expertise=("law",), stay=LATER, language="zh")
    await seed_talent(harness, 601, station=village, expertise=("agriculture",), stay=WINTER)
    coordinator = await make_coordinator(harness, hub)
    return hub, village, coordinator


async def compose(
    user,
    text="Free clinic on Saturday, 9:00 at the hub.",
    *,
    field="Any field",
    presence="Everyone",
):
    await user.send("/broadcast")
    await user.send(text)
    await user.tap(field)
    await user.tap(presence)


async def deliveries(harness):
    rows = await harness.services.db.fetch_all(
        "SELECT chat_id, status, attempts FROM deliveries ORDER BY chat_id"
    )
    return {row[0]: (row[1], row[2]) for row in rows}


async def test_coordinator_broadcasts_to_their_station(harness, city):
    _, _, coordinator = city
    await coordinator.send("/broadcast")
    assert coordinator.last_text().startswith("Send the message for the talents")
    await coordinator.send("Free clinic on Saturday, 9:00 at the hub.")
    # A coordinator of one station is not asked for the station.
    assert coordinator.last_text() == "Only talents with a certain field of expertise?"
    await coordinator.tap("Any field")
    await coordinator.tap("Everyone")
    assert coordinator.last_text() == (
        "Ready to send\nTalents it will reach: 3\nStation: Downtown hub\nExpertise: Any field\n"
        "Who: Everyone\n\nFree clinic on Saturday, 9:00 at the hub."
    )
    await coordinator.tap("📣 Send")
    assert coordinator.last_text() == "Sending… 0 / 3 sent · 0 unreachable"
    assert coordinator.buttons() == ["⏹ Cancel broadcast"]
    await harness.outbox.drain()
    for talent in (501, 502, 503):
        assert received(harness, talent) == ["Free clinic on Saturday, 9:00 at the hub."]
    assert received(harness, 601) == []
    assert coordinator.last_text() == (
        "Broadcast finished: 3 of 3 sent · 0 unreachable · 0 failed."
    )
    assert coordinator.inline_buttons() == []
    assert await deliveries(harness) == {501: ("sent", 1), 502: ("sent", 1), 503: ("sent", 1)}
    [broadcast] = await harness.services.db.fetch_all("SELECT status, total FROM broadcasts")
    assert tuple(broadcast) == ("finished", 3)


async def test_formatting_is_kept_and_markup_characters_are_plain_text(harness, city):
    _, _, coordinator = city
    await compose(coordinator, "Bring <your> badge & smile")
    await coordinator.tap("📣 Send")
    await harness.outbox.drain()
    assert received(harness, 501) == ["Bring <your> badge & smile"]


async def test_expertise_filter(harness, city):
    _, _, coordinator = city
    await compose(coordinator, field="Law")
    assert "Talents it will reach: 2" in coordinator.last_text()
    await coordinator.tap("📣 Send")
    await harness.outbox.drain()
    assert set(await deliveries(harness)) == {502, 503}


async def test_in_the_city_now_filter(harness, city):
    _, _, coordinator = city
    await compose(coordinator, presence="Only those in the city now")
    assert "Talents it will reach: 2" in coordinator.last_text()
    await coordinator.tap("📣 Send")
    await harness.outbox.drain()
    assert set(await deliveries(harness)) == {501, 502}


async def test_opted_out_talents_are_left_out(harness, city):
    _, _, coordinator = city
    talent = harness.user("Optout", id=502)
    await talent.send("/settings")
    await talent.tap("✅ Messages from coordinators")
    assert "🔕 Messages from coordinators" in talent.buttons()
    await compose(coordinator)
    assert "Talents it will reach: 2" in coordinator.last_text()
    await coordinator.tap("📣 Send")
    await harness.outbox.drain()
    assert set(await deliveries(harness)) == {501, 503}


async def test_admin_chooses_any_station_or_all(harness, city):
    admin = harness.admin()
    await admin.send("/broadcast")
    await admin.send("Winter greetings from the talent office")
    assert admin.buttons()[:3] == ["Downtown hub", "Village station", "All stations"]
    await admin.tap("All stations")
    await admin.tap("Any field")
    await admin.tap("Everyone")
    assert "Talents it will reach: 4" in admin.last_text()
    await admin.tap("◀ Back")
    await admin.tap("◀ Back")
    await admin.tap("◀ Back")
    await admin.tap("Village station")
    await admin.tap("Any field")
    await admin.tap("Everyone")
    assert "Talents it will reach: 1" in admin.last_text()
    await admin.tap("📣 Send")
    await harness.outbox.drain()
    assert set(await deliveries(harness)) == {601}


async def test_nobody_matches(harness, city):
    _, _, coordinator = city
    await compose(coordinator, field="Engineering")
    assert "No talent matches this choice." in coordinator.last_text()
    assert "📣 Send" not in coordinator.buttons()


async def test_blocked_talent_is_marked_unreachable_and_left_out(harness, city):
    hub, _, coordinator = city
    await seed_talent(harness, 504, station=hub, blocked=True)
    await compose(coordinator)
    await coordinator.tap("📣 Send")
    await harness.outbox.drain()
    assert (await deliveries(harness))[504] == ("unreachable", 1)
    assert "1 unreachable" in coordinator.last_text()
    assert (await harness.services.talents.by_telegram_id(504)).reachable is False
    # The next broadcast leaves them out until they write to the bot again.
    await compose(coordinator)
    assert "Talents it will reach: 3" in coordinator.last_text()
    await harness.user("Back", id=504).send("hello")
    await compose(coordinator)
    assert "Talents it will reach: 4" in coordinator.last_text()


async def test_retry_after_is_honoured(harness, city, monkeypatch):
    _, _, coordinator = city
    api = harness.api
    original = api.call
    refused = []

    async def flood_once(method, raw_params, files=None):
        if method == "sendMessage" and str(raw_params.get("chat_id")) == "502" and not refused:
            refused.append(method)
            raise BotApiError(429, "Too Many Requests: retry after 1", retry_after=1)
        return await original(method, raw_params, files)

    monkeypatch.setattr(api, "call", flood_once)
    await compose(coordinator)
    await coordinator.tap("📣 Send")
    await harness.outbox.drain()
    assert refused == ["sendMessage"]
    assert harness.app.bot.rate_limiter.http_429 == 1
    assert await deliveries(harness) == {501: ("sent", 1), 502: ("sent", 1), 503: ("sent", 1)}
    assert received(harness, 502) == ["Free clinic on Saturday, 9:00 at the hub."]


async def test_other_errors_are_retried_three_times_then_failed(harness, city, monkeypatch):
    _, _, coordinator = city
    api = harness.api
    original = api.call

    async def broken_for_501(method, raw_params, files=None):
        if method == "sendMessage" and str(raw_params.get("chat_id")) == "501":
            raise BotApiError(500, "Internal Server Error")
        return await original(method, raw_params, files)

    monkeypatch.setattr(api, "call", broken_for_501)
    await compose(coordinator)
    await coordinator.tap("📣 Send")
    await harness.outbox.drain()
    assert (await deliveries(harness))[501] == ("pending", 1)
    for wait in (10, 60, 300):
        await harness.outbox.drain()  # not due yet: nothing happens
        harness.clock.advance(timedelta(seconds=wait))
        await harness.outbox.drain()
    assert (await deliveries(harness))[501] == ("failed", 4)
    assert coordinator.last_text() == (
        "Broadcast finished: 2 of 3 sent · 0 unreachable · 1 failed."
    )


async def test_cancel_a_running_broadcast(harness, city):
    _, _, coordinator = city
    await compose(coordinator)
    await coordinator.tap("📣 Send")
    await coordinator.tap("⏹ Cancel broadcast")
    assert coordinator.last_text() == (
        "Broadcast cancelled: 0 of 3 had been sent · 0 unreachable."
    )
    await harness.outbox.drain()
    assert [received(harness, t) for t in (501, 502, 503)] == [[], [], []]
    assert set((await deliveries(harness)).values()) == {("cancelled", 0)}
    await coordinator.press(f"bc:cancel:{1}", forge=True)
    assert coordinator.alerts()[-1] == "This broadcast is already over."


async def test_resume_after_a_restart(tmp_path):
    from tests.support.harness import start_harness, stop_harness

    first = await start_harness(tmp_path)
    hub = await add_station(first)
    for telegram_id in range(700, 720):
        await seed_talent(first, telegram_id, station=hub)
    admin = await first.services.people.viewer(first.admin().id, "en")
    audience = first.services.broadcasts.audience(
        admin, station_id=hub.id, expertise=None, in_city_on=None
    )
    from bot.services.messaging import Draft

    broadcast = await first.services.broadcasts.start(admin, audience, Draft(text="Hello"))
    # Five went out, and one was in flight when the process died.
    rows = first.services.broadcast_rows
    queue = await rows.queue(now=first.clock.now(), limit=6)
    for delivery in queue[:5]:
        await rows.mark_sending(delivery.id, now=first.clock.now())
        await rows.settle(delivery.id, "sent", now=first.clock.now())
    await rows.mark_sending(queue[5].id, now=first.clock.now())
    await stop_harness(first)

    second = await start_harness(tmp_path, api=first.api)  # same database file and chats
    progress = await second.services.broadcasts.progress(broadcast.id)
    assert (progress.sent, progress.pending, progress.sending) == (5, 15, 0)
    await second.outbox.drain()
    progress = await second.services.broadcasts.progress(broadcast.id)
    assert (progress.sent, progress.pending) == (20, 0)
    # Nobody was skipped; the five sent before the crash were not sent again.
    assert [len(received(second, t)) for t in range(700, 720)] == [0] * 5 + [1] * 15
    await stop_harness(second)


async def test_paid_broadcast_setting_reaches_the_sender(tmp_path):
    from tests.support.harness import start_harness, stop_harness

    harness = await start_harness(tmp_path, TALENTBOT_PAID_BROADCAST="1")
    hub = await add_station(harness)
    for telegram_id in (801, 802):
        await seed_talent(harness, telegram_id, station=hub)
    admin = harness.admin()
    await admin.send("/broadcast")
    await admin.send("Tickets for the spring gala")
    await admin.tap("Downtown hub")
    await admin.tap("Any field")
    await admin.tap("Everyone")
    await admin.tap("📣 Send")
    await harness.outbox.drain()
    sent = [c for c in harness.api.calls if c.params.get("text") == "Tickets for the spring gala"]
    assert sorted(c.params["chat_id"] for c in sent) == [801, 802]
    assert {c.params.get("allow_paid_broadcast") for c in sent} == {True}
    assert harness.api.paid_messages == 2  # 0.1 Stars each on Telegram
    # Replies are never paid for.
    assert not any(
        c.params.get("allow_paid_broadcast") for c in harness.api.calls if c not in sent
    )
    await stop_harness(harness)


async def test_broadcasts_are_not_paid_for_by_default(harness, city):
    _, _, coordinator = city
    await compose(coordinator)
    await coordinator.tap("📣 Send")
    await harness.outbox.drain()
    assert received(harness, 501) == ["Free clinic on Saturday, 9:00 at the hub."]
    assert not any(c.params.get("allow_paid_broadcast") for c in harness.api.calls)


async def test_talents_are_refused_broadcast(harness, city):
    talent = harness.user("Plain")
    await talent.send("/broadcast")
    assert talent.last_text() == "Sorry, you are not allowed to do that."
    for data in ("bc:1:cancel", "bc:2:station:0", once("bc:5:send"), "bc:cancel:1"):
        await talent.press(data, forge=True)
        assert talent.alerts()[-1] in (
            "Sorry, you are not allowed to do that.",
            "This button has expired. Send /start or /help to carry on.",
        )
    assert await harness.services.db.fetch_value("SELECT count(*) FROM broadcasts") == 0


async def test_coordinator_cannot_reach_another_station(harness, city):
    _, village, coordinator = city
    await coordinator.send("/broadcast")
    await coordinator.send("Hello")
    await coordinator.press(f"bc:2:station:{village.id}", forge=True)
    assert (
        "That button has expired; please use the buttons of the newest message."
        in coordinator.last_text()
    )
    await coordinator.press("bc:3:field:any", forge=True)
    await coordinator.press("bc:4:presence:all", forge=True)
    await coordinator.tap("📣 Send")
    await harness.outbox.drain()
    assert set(await deliveries(harness)) == {501, 502, 503}


async def test_coordinator_cannot_cancel_someone_elses_broadcast(harness, city):
    _, _, coordinator = city
    admin = harness.admin()
    await admin.send("/broadcast")
    await admin.send("Office news")
    await admin.tap("All stations")
    await admin.tap("Any field")
    await admin.tap("Everyone")
    await admin.tap("📣 Send")
    await coordinator.press("bc:cancel:1", forge=True)
    assert coordinator.alerts()[-1] == "Sorry, you are not allowed to do that."
    broadcast = await harness.services.broadcast_rows.get(1)
    assert broadcast.status == "running"


@pytest.mark.parametrize(
    ("act", "explanation"),
    [
        ("empty", "This can't be empty."),
        ("long", "That is too long (5,000 characters); please keep it under 4,096."),
        ("sticker", "Only a text or a photo can be broadcast."),
    ],
)
async def test_hostile_input_while_composing(harness, city, act, explanation):
    _, _, coordinator = city
    await coordinator.send("/broadcast")
    if act == "empty":
        await coordinator.send("   ")
    elif act == "long":
        await coordinator.send("x" * 5000)
    else:
        await coordinator.send_sticker()
    assert coordinator.last_text().startswith(explanation)
    assert "Send the message for the talents" in coordinator.last_text()
    await coordinator.send("/nonsense")
    assert coordinator.last_text().startswith("I don't know that command.")
    await coordinator.send("/cancel")
    assert coordinator.last_text() == "Broadcast cancelled; nothing was sent."
    assert await harness.services.db.fetch_value("SELECT count(*) FROM broadcasts") == 0


async def test_photo_broadcast(harness, city):
    _, _, coordinator = city
    await coordinator.send("/broadcast")
    await coordinator.send_photo()
    await coordinator.tap("Any field")
    await coordinator.tap("Everyone")
    assert "[photo]" in coordinator.last_text()
    await coordinator.tap("📣 Send")
    await harness.outbox.drain()
    photos = [m for m in harness.api.bot_messages(501) if m.get("photo")]
    assert len(photos) == 1


async def test_typing_instead_of_tapping(harness, city):
    _, _, coordinator = city
    await coordinator.send("/broadcast")
    await coordinator.send("Hello")
    await coordinator.send("Law please")
    assert coordinator.last_text().startswith("Please use the buttons below.")
    assert "Only talents with a certain field of expertise?" in coordinator.last_text()


async def test_message_the_talents_signed_up_for_an_activity(harness, city):
    from tests.bot.test_activities import make_activity

    hub, village, coordinator = city
    activity = await make_activity(harness, hub, capacity=2)
    for telegram_id in (501, 502, 503):
        talent = await harness.services.talents.by_telegram_id(telegram_id)
        await harness.services.activities.sign_up(talent.id, activity.id, waitlist=True)
    optout = harness.user("Quiet", id=502)
    await optout.send("/settings")
    await optout.tap("✅ Messages from coordinators")  # does not silence their own activity
    await coordinator.send("/manage")
    await coordinator.tap("✅ Published · Sat, Dec 5 9:30\u202fAM · Free eye clinic")
    await coordinator.tap("📣 Message those signed up")
    await coordinator.send("Please bring your ID card.")
    assert coordinator.last_text().startswith(
        "Ready to send\nTalents it will reach: 3\nStation: Signed up for Free eye clinic"
    )
    await coordinator.tap("◀ Back")
    await coordinator.send("Please bring your ID card and glasses.")
    await coordinator.tap("📣 Send")
    await harness.outbox.drain()
    for telegram_id in (501, 502, 503):
        assert received(harness, telegram_id)[-1] == "Please bring your ID card and glasses."
    assert received(harness, 601)[-1:] != ["Please bring your ID card and glasses."]
    outsider = await make_coordinator(harness, village, first_name="Outsider")
    await outsider.press(f"bc:act:{activity.id}", forge=True)
    assert outsider.alerts()[-1] == "Sorry, you are not allowed to do that."
