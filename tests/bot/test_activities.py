"""Activities: publishing to the right talents, fair signups, reminders, changes, permissions."""

from datetime import date, datetime, timedelta

import pytest

from bot.services.activities import ActivityDraft
from handlers.common import once
from tests.support.flows import add_station, make_coordinator, received, register, seed_talent
from tests.support.harness import ADMIN_ID, START

WINTER = (date(2026, 11, 1), date(2027, 3, 31))
STARTS = datetime(2026, 12, 5, 1, 30, tzinfo=START.tzinfo)  # 09:30 in Asia/Shanghai


async def admin_viewer(harness):
    return await harness.services.people.viewer(ADMIN_ID, "en")


async def make_activity(harness, station, **overrides):
    """A published activity, created through the service."""
    values = dict(
        station_id=station.id if station else None,
        city_wide=station is None,
        kind="clinic",
        title="Free eye clinic",
        description="Eye checks.",
        place="Hub, room 2",
        starts_at=STARTS,
        ends_at=STARTS + timedelta(hours=2),
        capacity=0,
        points=10,
        expertise=None,
    )
    values.update(overrides)
    admin = await admin_viewer(harness)
    activity = await harness.services.activities.create(admin, ActivityDraft(**values))
    activity, _ = await harness.services.activities.publish(admin, activity.id)
    await harness.outbox.drain()
    return activity


def announcements(harness, telegram_id):
    return [text for text in received(harness, telegram_id) if text.startswith("📢")]


@pytest.fixture
async def hub(harness):
    return await add_station(harness, "Downtown hub", "市民中心站")


async def test_coordinator_creates_and_publishes_to_the_talents_it_fits(harness, hub):
    village = await add_station(harness, "Village station", "乡村振兴站")
    await seed_talent(harness, 501, station=hub, expertise=("medicine",), stay=WINTER)
    await seed_talent(harness, 502, station=village, expertise=("medicine",), stay=WINTER)
    await seed_talent(harness, 503, station=hub, expertise=("law",), stay=WINTER)
    await seed_talent(harness, 504, station=hub, expertise=("medicine",),
                      stay=(date(2027, 1, 1), date(2027, 3, 1)))  # fmt: skip
    await seed_talent(harness, 505, station=hub, expertise=("medicine",), language="zh")
    coordinator = await make_coordinator(harness, hub)
    await coordinator.send("/new_activity")
    await coordinator.tap("Clinics")
    await coordinator.send("Free eye clinic")
    await coordinator.send("Eye checks for older residents.")
    await coordinator.send("Hub, room 2")
    await coordinator.send("12/5 9:30")
    await coordinator.tap("2 h")
    await coordinator.send("20")
    await coordinator.tap("10")
    await coordinator.tap("Medicine & health")
    assert coordinator.last_text().startswith("Preview\n\nFree eye clinic\nClinics · Downtown hub")
    assert "🕘 Dec 5, 2026, 9:30\u202fAM – 11:30\u202fAM" in coordinator.last_text()
    await coordinator.tap("📢 Publish")
    assert coordinator.last_text() == (
        "Published: Free eye clinic. It is being announced to 2 talents."
    )
    await harness.outbox.drain()
    assert len(announcements(harness, 501)) == 1
    assert announcements(harness, 505)[0].startswith("📢 Free eye clinic\n坐诊 · 市民中心站")
    for other in (502, 503, 504):
        assert announcements(harness, other) == []
    [activity] = await harness.services.activities.activities.of_stations(None, since=START)
    assert (activity.status, activity.capacity, activity.points, activity.expertise) == (
        "published",
        20,
        10,
        "medicine",
    )
    assert activity.starts_at == STARTS


async def test_announcement_button_and_deep_link_open_the_activity(harness, hub):
    await seed_talent(harness, 501, station=hub)
    activity = await make_activity(harness, hub)
    talent = harness.user("T", id=501)
    await talent.tap("View and sign up")
    assert talent.last_text().startswith("Free eye clinic\nClinics · Downtown hub")
    assert talent.buttons() == ["✅ Sign up", "◀ All activities"]
    await talent.send(f"/start act-{activity.id}")
    assert talent.last_text().startswith("Free eye clinic")
    await talent.send("/start act-99999")
    assert talent.last_text() == "That activity does not exist or is not open."


async def test_opted_out_talents_are_not_announced_to(harness, hub):
    await seed_talent(harness, 501, station=hub)
    talent = harness.user("T", id=501)
    await talent.send("/settings")
    await talent.tap("✅ Announcements: Clinics")
    await make_activity(harness, hub)
    assert announcements(harness, 501) == []
    await make_activity(harness, hub, kind="lecture", title="Talk")
    assert len(announcements(harness, 501)) == 1


async def test_capacity_waitlist_and_promotion(harness, hub):
    for telegram_id in (501, 502, 503):
        await seed_talent(harness, telegram_id, station=hub)
    activity = await make_activity(harness, hub, capacity=2)
    a, b, c = (harness.user(f"T{i}", id=i) for i in (501, 502, 503))
    for talent in (a, b):
        await talent.send(f"/start act-{activity.id}")
        await talent.tap("✅ Sign up")
        assert talent.alerts()[-1] == "You are signed up!"
    await c.send(f"/start act-{activity.id}")
    assert c.buttons()[0] == "⏳ Join the waitlist"
    await c.press(f"act:join:{activity.id}", forge=True)  # a stale Sign up button
    assert c.alerts()[-1] == "Sorry, the last place was just taken. You can join the waitlist."
    await c.tap("⏳ Join the waitlist")
    assert "You are number 1 on the waitlist." in c.last_text()
    await c.press(f"act:wait:{activity.id}", forge=True)
    assert c.alerts()[-1] == "You are already on the waitlist."
    await a.press(f"act:join:{activity.id}", forge=True)
    assert a.alerts()[-1] == "You are already signed up."
    await a.tap("Cancel my signup")
    assert a.last_text() == (
        "Give up your place at Free eye clinic? It goes at once to the first talent on the"
        " waitlist."
    )
    await a.tap("Yes, give up my place")
    assert a.alerts()[-1] == "Done: your place is given up."
    assert received(harness, 503)[-1].startswith(
        "🎉 A place became free and it is yours: Free eye"
    )
    signups = await harness.services.activities.activities.signups(activity.id)
    assert sorted((s.telegram_id, s.status) for s in signups) == [(502, "going"), (503, "going")]
    await c.send("/my")
    assert "✅ Free eye clinic" in c.last_text()


async def test_concurrent_signups_never_overfill(harness, hub):
    import asyncio

    talents = [await seed_talent(harness, 600 + i, station=hub) for i in range(20)]
    activity = await make_activity(harness, hub, capacity=5)
    outcomes = await asyncio.gather(
        *(harness.services.activities.sign_up(t.id, activity.id, waitlist=True) for t in talents)
    )
    assert sorted(outcomes).count("signed_up") == 5
    assert sorted(outcomes).count("waitlisted") == 15


async def test_no_signup_after_the_start_or_for_a_cancelled_activity(harness, hub):
    talent = await seed_talent(harness, 501, station=hub)
    activity = await make_activity(harness, hub)
    harness.clock.set(STARTS + timedelta(minutes=1))
    assert await harness.services.activities.sign_up(talent.id, activity.id, waitlist=False) == (
        "started"
    )
    harness.clock.set(START)
    other = await make_activity(harness, hub, title="Other")
    await harness.services.activities.cancel(await admin_viewer(harness), other.id)
    user = harness.user("T", id=501)
    await user.press(f"act:join:{other.id}", forge=True)
    assert user.alerts()[-1] == "This activity is not open for signups."


async def test_reminders_fire_at_the_right_moments_and_not_after_cancelling(harness, hub):
    stay, go = (
        await seed_talent(harness, 501, station=hub),
        await seed_talent(harness, 502, station=hub),
    )
    activity = await make_activity(harness, hub)
    for talent in (stay, go):
        await harness.services.activities.sign_up(talent.id, activity.id, waitlist=False)
    await harness.services.activities.leave(go.id, activity.id)

    async def reminders_at(moment):
        harness.clock.set(moment)
        await harness.outbox.send_due_reminders()
        return [t for t in received(harness, 501) if t.startswith("⏰")]

    assert await reminders_at(STARTS - timedelta(hours=24, minutes=1)) == []
    assert len(await reminders_at(STARTS - timedelta(hours=24))) == 1
    assert len(await reminders_at(STARTS - timedelta(hours=2))) == 1
    assert len(await reminders_at(STARTS - timedelta(hours=1))) == 2
    assert len(await reminders_at(STARTS - timedelta(minutes=30))) == 2
    assert [t for t in received(harness, 502) if t.startswith("⏰")] == []


async def test_cancelled_activity_sends_no_reminders_and_tells_everyone(harness, hub):
    talent = await seed_talent(harness, 501, station=hub)
    activity = await make_activity(harness, hub)
    await harness.services.activities.sign_up(talent.id, activity.id, waitlist=False)
    coordinator = await make_coordinator(harness, hub)
    await coordinator.send("/manage")
    await coordinator.tap("✅ Published · Sat, Dec 5 9:30\u202fAM · Free eye clinic")
    await coordinator.tap("❌ Cancel the activity")
    assert "The 1 talents signed up or waiting will be told." in coordinator.last_text()
    await coordinator.tap("Yes, cancel it")
    assert coordinator.last_text() == "Cancelled: Free eye clinic. 1 talents are being told."
    await harness.outbox.drain()
    assert received(harness, 501)[-1].startswith("❌ Free eye clinic (Dec 5, 2026")
    harness.clock.set(STARTS - timedelta(hours=1))
    await harness.outbox.send_due_reminders()
    assert [t for t in received(harness, 501) if t.startswith("⏰")] == []


async def test_a_time_change_tells_and_moves_reminders_a_description_change_does_not(harness, hub):
    talent = await seed_talent(harness, 501, station=hub)
    activity = await make_activity(harness, hub)
    await harness.services.activities.sign_up(talent.id, activity.id, waitlist=False)
    coordinator = await make_coordinator(harness, hub)
    before = len(received(harness, 501))
    await coordinator.send("/manage")
    await coordinator.tap("✅ Published · Sat, Dec 5 9:30\u202fAM · Free eye clinic")
    await coordinator.tap("✏️ Edit")
    await coordinator.tap("Description")
    await coordinator.send("Eye checks, now with free glasses.")
    assert coordinator.texts()[-2] == "Saved."
    await harness.outbox.drain()
    assert len(received(harness, 501)) == before
    await coordinator.tap("✏️ Edit")
    await coordinator.tap("Start")
    await coordinator.send("12/6 14:00")
    assert coordinator.texts()[-2] == "Saved. 1 talents who signed up are being told."
    await harness.outbox.drain()
    assert received(harness, 501)[-1] == (
        "✏️ Change of plans for Free eye clinic\n🕘 Dec 6, 2026, 2:00\u202fPM – 4:00\u202fPM\n"
        "📍 Hub, room 2"
    )
    # The reminders moved with the start: nothing at the old time, one at the new.
    harness.clock.set(STARTS - timedelta(hours=1))
    await harness.outbox.send_due_reminders()
    assert [t for t in received(harness, 501) if t.startswith("⏰")] == []
    harness.clock.set(datetime(2026, 12, 5, 6, 0, tzinfo=START.tzinfo))  # 24 h before
    await harness.outbox.send_due_reminders()
    assert len([t for t in received(harness, 501) if t.startswith("⏰")]) == 1
    harness.clock.set(datetime(2026, 12, 6, 5, 0, tzinfo=START.tzinfo))  # 1 h before
    await harness.outbox.send_due_reminders()
    assert len([t for t in received(harness, 501) if t.startswith("⏰")]) == 2


async def test_activities_list_pages_and_filters(harness, hub):
    await seed_talent(harness, 501, station=hub)
    for i in range(7):
        await make_activity(harness, hub, title=f"Lecture {i}", kind="lecture",
                            starts_at=STARTS + timedelta(days=i),
                            ends_at=STARTS + timedelta(days=i, hours=1))  # fmt: skip
    await make_activity(harness, None, title="City clean-up", kind="volunteer")
    talent = harness.user("T", id=501)
    await talent.send("/activities")
    assert talent.last_text().startswith("Upcoming activities (page 1 of 2, 8 in all)")
    assert len([b for b in talent.buttons() if b.startswith(("Lecture ", "City "))]) == 5
    await talent.tap("Next ▶")
    assert talent.last_text().startswith("Upcoming activities (page 2 of 2, 8 in all)")
    await talent.tap("Volunteer calls")
    assert talent.last_text().startswith("Upcoming activities (page 1 of 1, 1 in all)")
    assert talent.buttons()[0].startswith("City clean-up")


@pytest.mark.parametrize(
    ("step_inputs", "typed", "explanation"),
    [
        ([], "x" * 5000, "That is too long (5,000 characters); please keep it under 100."),
        (["Title", "About", "Place"], "2025-12-05 09:30", "That moment has already passed."),
        (["Title", "About", "Place"], "someday", "I couldn't read that."),
        (["Title", "About", "Place", "12/5 9:30"], "8:00", "The end must be after the start."),
        (["Title", "About", "Place", "12/5 9:30"], "12/20 9:00", "An activity can last at most"),
        (["Title", "About", "Place", "12/5 9:30", "2h"], "-3", "Please type a whole number"),
        (["Title", "About", "Place", "12/5 9:30", "2h"], "abc", "Please type a whole number"),
        (["Title", "About", "Place", "12/5 9:30", "2h", "5"], "99999", "Please type a whole"),
    ],
)
async def test_hostile_input_while_creating(harness, hub, step_inputs, typed, explanation):
    coordinator = await make_coordinator(harness, hub)
    await coordinator.send("/new_activity")
    await coordinator.tap("Lectures")
    for answer in step_inputs:
        await coordinator.send(answer)
    question = coordinator.last_text()
    await coordinator.send(typed)
    assert coordinator.last_text().startswith(explanation)
    assert coordinator.last_text().endswith(question)
    await coordinator.send_sticker()
    assert coordinator.last_text().startswith("Please answer with a text message.")
    await coordinator.send("/cancel")
    assert coordinator.last_text() == "Cancelled; no activity was saved."
    assert await harness.services.db.fetch_value("SELECT count(*) FROM activities") == 0


async def test_sticker_and_text_on_button_questions(harness, hub):
    coordinator = await make_coordinator(harness, hub)
    await coordinator.send("/new_activity")
    await coordinator.send_sticker()
    assert coordinator.last_text().startswith("Please use the buttons below.")
    await coordinator.send("a lecture please")
    assert coordinator.last_text().startswith("Please use the buttons below.")
    await coordinator.press("na:2:kind:party", forge=True)
    assert coordinator.last_text().startswith(
        "That button has expired; please use the buttons of the newest message."
    )


async def test_day_buttons_and_back(harness, hub):
    coordinator = await make_coordinator(harness, hub)
    await coordinator.send("/new_activity")
    await coordinator.tap("Lectures")
    for answer in ("Title", "About", "Place"):
        await coordinator.send(answer)
    await coordinator.tap("Fri 27 Nov")
    assert coordinator.last_text().startswith("At what time on Nov 27, 2026?")
    await coordinator.send("25:00")
    assert coordinator.last_text().startswith("I couldn't read that time.")
    await coordinator.send("9:30")
    await coordinator.tap("◀ Back")
    assert coordinator.last_text().startswith("When does it start?")
    await coordinator.tap("Thu 26 Nov")
    await coordinator.send("9:00")  # 09:00 today has passed (it is 10:00)
    assert coordinator.last_text().startswith("That moment has already passed.")


async def test_save_draft_then_publish_from_manage(harness, hub):
    await seed_talent(harness, 501, station=hub)
    coordinator = await make_coordinator(harness, hub)
    await coordinator.send("/new_activity")
    await coordinator.tap("Lectures")
    for answer in ("Winter health talk", "About", "Library", "12/5 9:30", "1h", "0", "0"):
        await coordinator.send(answer)
    await coordinator.tap("Anyone")
    await coordinator.tap("💾 Save as draft")
    assert coordinator.last_text().startswith("Saved as a draft: Winter health talk.")
    await harness.outbox.drain()
    assert announcements(harness, 501) == []
    talent = harness.user("T", id=501)
    await talent.send("/start act-1")
    assert talent.last_text() == "That activity does not exist or is not open."
    await coordinator.send("/manage")
    await coordinator.tap("📝 Draft · Sat, Dec 5 9:30\u202fAM · Winter health talk")
    await coordinator.tap("📢 Publish")
    assert coordinator.last_text().startswith("Published: Winter health talk.")
    await harness.outbox.drain()
    assert len(announcements(harness, 501)) == 1


async def test_non_coordinators_are_refused_everywhere(harness, hub):
    activity = await make_activity(harness, hub)
    other_station = await add_station(harness, "Village station", "乡村振兴站")
    outsider = await make_coordinator(harness, other_station, first_name="Outsider")
    talent = harness.user("Plain")
    for user in (talent, outsider):
        if user is talent:
            await user.send("/new_activity")
            assert user.last_text() == "Sorry, you are not allowed to do that."
            await user.send("/manage")
            assert user.last_text() == "Sorry, you are not allowed to do that."
        for data in (
            f"mg:open:{activity.id}",
            f"mg:fields:{activity.id}",
            once(f"mg:publish:{activity.id}"),
            f"mg:cancel:{activity.id}",
            once(f"mg:really:{activity.id}"),
            f"mg:signups:{activity.id}",
            f"mg:edit:{activity.id}:title",
        ):
            await user.press(data, forge=True)
            assert user.alerts()[-1] == "Sorry, you are not allowed to do that.", data
    await outsider.send("/manage")
    assert outsider.last_text() == "No upcoming activities. Create one with /new_activity."
    unchanged = await harness.services.activities.activities.get(activity.id)
    assert (unchanged.status, unchanged.title) == ("published", "Free eye clinic")


async def test_coordinator_cannot_create_for_another_station(harness, hub):
    village = await add_station(harness, "Village station", "乡村振兴站")
    coordinator = await make_coordinator(harness, hub)
    await coordinator.send("/new_activity")
    await coordinator.press(f"na:1:station:{village.id}", forge=True)
    assert coordinator.last_text().startswith(
        "That button has expired; please use the buttons of the newest message."
    )
    await coordinator.press("na:1:station:0", forge=True)  # city-wide is for admins
    assert coordinator.last_text().startswith(
        "That button has expired; please use the buttons of the newest message."
    )


async def test_admin_creates_a_city_wide_call(harness, hub):
    await seed_talent(harness, 501, station=hub)
    await seed_talent(harness, 502, station=None)
    admin = harness.admin()
    await admin.send("/new_activity")
    assert admin.buttons()[:2] == ["Downtown hub", "City-wide"]
    await admin.tap("City-wide")
    await admin.tap("Volunteer calls")
    for answer in (
        "Snow clearing",
        "Help clear paths",
        "City square",
        "12/5 9:30",
        "3h",
        "0",
        "5",
    ):
        await admin.send(answer)
    await admin.tap("Anyone")
    await admin.tap("📢 Publish")
    assert admin.last_text() == "Published: Snow clearing. It is being announced to 2 talents."


async def test_more_places_move_the_waitlist_up_and_signups_are_listed(harness, hub):
    for telegram_id in (501, 502, 503):
        await seed_talent(harness, telegram_id, station=hub)
    activity = await make_activity(harness, hub, capacity=1)
    for telegram_id in (501, 502, 503):
        talent = await harness.services.talents.by_telegram_id(telegram_id)
        await harness.services.activities.sign_up(talent.id, activity.id, waitlist=True)
    coordinator = await make_coordinator(harness, hub)
    await coordinator.send("/manage")
    await coordinator.tap("✅ Published · Sat, Dec 5 9:30\u202fAM · Free eye clinic")
    await coordinator.tap("👥 Signups and waitlist")
    assert coordinator.last_text() == (
        "Free eye clinic\nGoing: 1 of 1 · Waitlist: 2\n"
        "• Talent 501\n⏳ 1. Talent 502\n⏳ 2. Talent 503"
    )
    await coordinator.tap("◀ Back")
    await coordinator.tap("✏️ Edit")
    await coordinator.tap("Places")
    await coordinator.send("2")
    assert received(harness, 502)[-1].startswith("🎉 A place became free and it is yours")
    assert not received(harness, 503)[-1].startswith("🎉")
    signups = await harness.services.activities.activities.signups(activity.id)
    assert [(s.telegram_id, s.status) for s in signups] == [
        (501, "going"),
        (502, "going"),
        (503, "waitlist"),
    ]


async def test_no_station_lists_every_station_and_offers_to_choose(harness):
    hub = await add_station(harness, "Downtown hub", "市民中心站")
    village = await add_station(harness, "Village station", "乡村振兴站")
    await make_activity(harness, hub, title="Hub talk")
    await make_activity(harness, village, title="Village clinic")
    await make_activity(harness, None, title="City clean-up")
    alice = harness.user()
    await register(harness, alice)  # "not sure yet"
    await alice.send("/activities")
    listed = alice.inline_buttons()
    assert {"Hub talk", "Village clinic", "City clean-up"} <= {b.split(" · ")[0] for b in listed}
    assert "You have not chosen a station yet" in alice.last_text()
    await alice.tap("🏠 Choose a station")
    assert "Which talent station" in alice.last_text()
    await alice.tap("Village station")
    assert alice.texts()[-2] == "Saved."
    await alice.send("/activities")
    listed = {b.split(" · ")[0] for b in alice.inline_buttons()}
    assert {"Village clinic", "City clean-up"} <= listed and "Hub talk" not in listed
    assert "not chosen a station" not in alice.last_text()
    assert "🏠 Choose a station" not in alice.inline_buttons()
