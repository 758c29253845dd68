"""Requests from institutions: post, announce, apply, choose, close, check in, permissions."""

import json
from datetime import date, timedelta

import pytest

from handlers.common import once
from storage.models import StationKind
from tests.bot.test_activities import STARTS, WINTER, admin_viewer, make_activity
from tests.support.flows import make_coordinator, received, seed_talent
from tests.support.harness import ADMIN_ID, START

NOT_ALLOWED = "Sorry, you are not allowed to do that."


@pytest.fixture
async def hospital(harness):
    return await harness.services.stations.add(
        name_zh="市人民医院站",
        name_en="City hospital",
        kind=StationKind.PROFESSIONAL,
        created_by=ADMIN_ID,
        now=START,
    )


@pytest.fixture
async def hub(harness):
    return await harness.services.stations.add(
        name_zh="市民中心站",
        name_en="Downtown hub",
        kind=StationKind.COMMUNITY,
        created_by=ADMIN_ID,
        now=START,
    )


def wanted(harness, telegram_id):
    return [text for text in received(harness, telegram_id) if text.startswith("🙋")]


async def post_request(coordinator, *, capacity="2"):
    """Walk /new_request the way a hospital coordinator would, and publish."""
    await coordinator.send("/new_request")
    assert coordinator.last_text() == "What do you need experts for?"
    assert coordinator.buttons()[:4] == [
        "Clinics", "Surgery guidance", "Lectures", "Mentoring",
    ]  # fmt: skip
    await coordinator.tap("Surgery guidance")
    await coordinator.send("Knee replacement guidance")
    await coordinator.send("Guide our team through two knee replacements.")
    assert coordinator.last_text().startswith("Which department, and where exactly?")
    await coordinator.send("Orthopaedics, building 3")
    await coordinator.send("12/5 9:30")
    await coordinator.tap("2 h")
    assert coordinator.last_text().startswith("How many experts do you need?")
    await coordinator.send(capacity)
    await coordinator.tap("10")
    assert coordinator.last_text() == "Which field of expertise do you need?"
    await coordinator.tap("Medicine & health")
    assert "Surgery guidance · City hospital" in coordinator.last_text()
    await coordinator.tap("📢 Publish")


async def scene(harness, hospital, hub):
    """A published request, and the talents around it."""
    await seed_talent(harness, 501, station=hub, expertise=("medicine",), stay=WINTER)
    await seed_talent(harness, 502, station=hospital, expertise=("medicine",), language="zh")
    await seed_talent(harness, 503, station=hub, expertise=("law",), stay=WINTER)
    await seed_talent(harness, 504, station=hub, expertise=("medicine",),
                      stay=(date(2027, 1, 1), date(2027, 3, 1)))  # fmt: skip
    coordinator = await make_coordinator(harness, hospital)
    await post_request(coordinator)
    await harness.outbox.drain()
    [activity] = await harness.services.activities.activities.of_stations(None, since=START)
    return coordinator, activity


async def apply(harness, telegram_id, note="Thirty years of knee surgery."):
    """Open the request's page and apply, in the talent's own language."""
    talent = harness.user("T", id=telegram_id)
    language = (await harness.services.talents.by_telegram_id(telegram_id)).language
    t = lambda key: harness.services.translator(language, key)  # noqa: E731
    await talent.send(f"/start act-{(await current(harness)).id}")
    await talent.tap(t("request.apply"))
    if note is None:
        await talent.tap(t("request.no_note"))
    else:
        await talent.send(note)
    return talent


async def current(harness):
    """The request (some tests add an ordinary activity beside it)."""
    activities = await harness.services.activities.activities.of_stations(None, since=START)
    return next(a for a in activities if a.request is not None)


async def test_post_announces_to_the_right_talents_and_apply(harness, hospital, hub):
    coordinator, activity = await scene(harness, hospital, hub)
    assert coordinator.last_text().startswith("Published: Knee replacement guidance.")
    assert activity.request == "open" and activity.kind == "surgery"
    assert (activity.capacity, activity.points, activity.expertise) == (2, 10, "medicine")
    # Every talent in the city with the expertise, whatever their station, in their language.
    assert wanted(harness, 501)[0].startswith("🙋 Experts wanted: Knee replacement guidance")
    assert wanted(harness, 502)[0].startswith("🙋 诚邀专家：Knee replacement guidance\n手术指导")
    assert wanted(harness, 503) == [] and wanted(harness, 504) == []

    talent = harness.user("T", id=501)
    await talent.send("/activities")  # an open request is listed for every station's talents
    assert talent.buttons()[0].startswith("Knee replacement guidance · Dec 5, 2026")
    await talent.tap("View and apply")
    assert "The station chooses from those who apply." in talent.last_text()
    assert talent.buttons() == ["🙋 Apply", "◀ All activities"]
    await talent.press(f"act:join:{activity.id}", forge=True)  # places are given, not taken
    assert await harness.services.activities.activities.going_talents(activity.id) == []
    await talent.tap("🙋 Apply")
    assert talent.last_text().startswith("In a few words, what can you offer?")
    await talent.send_sticker()
    assert talent.last_text().startswith("Please answer with a text message.")
    await talent.send("x" * 301)
    assert talent.last_text().startswith("That is too long (301 characters)")
    await talent.send("/nonsense")
    assert talent.last_text().startswith("I don't know that command.")
    await talent.send("/cancel")
    assert talent.last_text() == "Cancelled; you did not apply."
    assert await harness.services.requests.requests.of_request(activity.id) == []
    await talent.press(f"act:view:{activity.id}", forge=True)
    await talent.tap("🙋 Apply")
    await talent.send("Thirty years of knee surgery.")
    assert talent.texts()[-2] == "✅ You applied. The station will tell you when it has decided."
    assert "⏳ You applied." in talent.last_text() and "🙋 Apply" not in talent.buttons()
    [offer] = await harness.services.requests.requests.of_request(activity.id)
    assert (offer.status, offer.note) == ("pending", "Thirty years of knee surgery.")
    await talent.press(f"rq:apply:{activity.id}", forge=True)
    await talent.send("again")
    assert talent.last_text() == "You have already applied to this request."


async def test_accept_decline_close_and_the_accepted_talent_checks_in(harness, hospital, hub):
    coordinator, activity = await scene(harness, hospital, hub)
    await seed_talent(harness, 505, station=hub, expertise=("medicine",), language="zh")
    first = await apply(harness, 501)
    second = await apply(harness, 502, note=None)
    third = await apply(harness, 505, note="可以带教")
    await coordinator.send("/requests")
    assert coordinator.buttons() == [
        "Sat, Dec 5 9:30\u202fAM · Knee replacement guidance · 3 to decide"
    ]
    await coordinator.tap(coordinator.buttons()[0])
    page = coordinator.last_text()
    assert page.startswith("Knee replacement guidance\n🕘 Dec 5, 2026")
    assert "Chosen: 0 of 2" in page
    assert (
        "1. Talent 501 · —\nMedicine & health · ⏳ to decide\n“Thirty years of knee surgery.”"
        in page
    )
    assert (
        "✅ Accept 1" in coordinator.buttons() and "🔒 Close the request" in coordinator.buttons()
    )

    await coordinator.double_tap("✅ Accept 1")
    assert coordinator.alerts()[-1] == "Already done. Pressing again changes nothing."
    assert "Accepted; they have been told." in coordinator.last_text()
    assert "Chosen: 1 of 2" in coordinator.last_text()
    assert first.last_text().startswith("🎉 You were chosen: Knee replacement guidance")
    assert await harness.services.activities.activities.going_talents(activity.id) == [
        (await harness.services.talents.by_telegram_id(501)).id
    ]
    await coordinator.tap("✖ Decline 2")
    assert second.last_text().startswith("感谢您报名Knee replacement guidance")
    assert "这次工作站选了其他专家" in second.last_text()
    await coordinator.double_tap("🔒 Close the request", together=True)
    assert coordinator.alerts()[-1] == "Already done. Pressing again changes nothing."
    assert sum("这项需求已停止报名" in text for text in received(harness, 505)) == 1
    assert "Closed. 1 applicants not yet decided have been told." in coordinator.last_text()
    assert "这项需求已停止报名" in third.last_text()
    statuses = [o.status for o in await harness.services.requests.requests.of_request(activity.id)]
    assert sorted(statuses) == ["accepted", "closed", "declined"]
    late = await seed_talent(harness, 506, station=hub)
    latecomer = harness.user("L", id=506)
    await latecomer.send(f"/start act-{activity.id}")
    assert "This request no longer takes applications." in latecomer.last_text()
    assert "🙋 Apply" not in latecomer.buttons()
    await latecomer.press(f"rq:apply:{activity.id}", forge=True)
    assert latecomer.last_text() == "This request no longer takes applications."
    assert await harness.services.requests.requests.of_talent(activity.id, late.id) is None

    # The accepted talent has reminders, checks in by QR and earns hours and points.
    reminders = await harness.services.db.fetch_all(
        "SELECT kind FROM reminders WHERE subject_id = ? ORDER BY kind", (activity.id,)
    )
    assert [r[0] for r in reminders] == ["1440m", "60m"]
    token = await harness.services.checkins.code(await admin_viewer(harness), activity.id)
    harness.clock.set(STARTS)
    await first.send(f"/start ci-{token}")
    assert first.last_text().startswith("✅ Checked in: Knee replacement guidance. +10 points")
    talent = await harness.services.talents.by_telegram_id(501)
    assert await harness.services.checkins.points.hours(talent.id) == 2.0
    assert await harness.services.points.points.balance(talent.id) == 10
    # The station's report counts the request by its kind, with its hours, once it is over.
    harness.clock.set(STARTS + timedelta(hours=3))
    await coordinator.send("/report")
    await coordinator.tap("This month")
    summary = coordinator.texts()[-3]
    assert summary.startswith("📊 City hospital · December 2026")
    assert "Activities: 1 held (Surgery guidance 1) · 0 cancelled" in summary
    assert "Signups 1 · check-ins 1 (0 walk-ins)" in summary
    assert "Service hours: 2 · 2 per engaged talent" in summary


async def test_permissions_forged_self_accept_and_other_station(harness, hospital, hub):
    coordinator, activity = await scene(harness, hospital, hub)
    # The coordinator is also a talent and applies: they may not accept themselves.
    await harness.services.talents.register(
        coordinator.id, language="en", name="Coco", phone=None, expertise=("medicine",),
        title="Chief physician", region="Harbin", station_id=hospital.id,
        stay_from=WINTER[0], stay_to=WINTER[1], consent_at=START, now=START,
    )  # fmt: skip
    await apply(harness, coordinator.id)
    await apply(harness, 501)
    mine, other = await harness.services.requests.requests.of_request(activity.id)
    await coordinator.press(once(f"rq:ok:{mine.id}:0"), forge=True)
    assert coordinator.alerts()[-1] == NOT_ALLOWED
    outsider = await make_coordinator(harness, hub, first_name="Outsider")
    talent = harness.user("T", id=501)
    for user in (talent, outsider):
        for data in (
            f"rq:view:{activity.id}:0",
            once(f"rq:ok:{other.id}:0"),
            once(f"rq:no:{other.id}:0"),
            once(f"rq:close:{activity.id}"),
        ):
            await user.press(data, forge=True)
            assert user.alerts()[-1] == NOT_ALLOWED, data
    await talent.send("/requests")
    assert talent.last_text() == NOT_ALLOWED
    stranger = harness.user("Stranger")
    await stranger.send("/start")
    await stranger.press(f"rq:apply:{activity.id}", forge=True)
    # Registration is open: its question answers the button, and nothing is stored.
    assert stranger.last_text().startswith(
        "That button has expired; please use the buttons of the newest message."
    )
    assert len(await harness.services.requests.requests.of_request(activity.id)) == 2
    ordinary = await make_activity(harness, hospital, title="Open day")
    await coordinator.press(f"rq:view:{ordinary.id}:0", forge=True)  # not a request
    assert coordinator.alerts()[-1] == NOT_ALLOWED
    await outsider.send("/requests")
    assert outsider.last_text().startswith("Your station has no requests now.")
    statuses = {o.status for o in await harness.services.requests.requests.of_request(activity.id)}
    assert statuses == {"pending"}
    assert (await current(harness)).request == "open"
    # An admin may decide.
    admin = harness.admin()
    await admin.send("/requests")
    await admin.tap(admin.buttons()[0])
    await admin.press(once(f"rq:ok:{mine.id}:0"), forge=True)
    assert "Accepted; they have been told." in admin.last_text()


async def test_full_request_refuses_more_and_report_counts_by_kind(harness, hospital, hub):
    coordinator, activity = await scene(harness, hospital, hub)
    await harness.services.activities.edit(
        await admin_viewer(harness), activity.id, {"capacity": 1}
    )
    await apply(harness, 501)
    await apply(harness, 502)
    await coordinator.send("/requests")
    await coordinator.tap(coordinator.buttons()[0])
    await coordinator.tap("✅ Accept 1")
    await coordinator.tap("✅ Accept 2")
    assert coordinator.alerts()[-1].startswith("Every place is taken.")
    assert len(await harness.services.activities.activities.going_talents(activity.id)) == 1


async def test_opted_out_talents_are_not_told(harness, hospital, hub):
    await seed_talent(harness, 507, station=hub, expertise=("medicine",), stay=WINTER)
    quiet = harness.user("Q", id=507)
    await quiet.send("/settings")
    await quiet.tap("✅ Announcements: Surgery guidance")
    await scene(harness, hospital, hub)
    assert wanted(harness, 507) == [] and len(wanted(harness, 501)) == 1


async def test_manage_card_opens_applicants_and_a_place_given_up_says_so(harness, hospital, hub):
    coordinator, activity = await scene(harness, hospital, hub)
    talent = await apply(harness, 501)
    await coordinator.send("/manage")
    await coordinator.tap(coordinator.buttons()[0])
    assert "🙋 Taking applications" in coordinator.last_text()
    await coordinator.tap("🙋 Applicants")
    assert "1. Talent 501 · —" in coordinator.last_text()
    await coordinator.tap("✅ Accept 1")
    await talent.send(f"/start act-{activity.id}")
    assert "✅ You are signed up." in talent.last_text()
    await talent.tap("Cancel my signup")
    await talent.tap("Yes, give up my place")
    assert "You gave up your place at this request." in talent.last_text()
    assert "🙋 Apply" not in talent.buttons()
    assert await harness.services.activities.activities.going_talents(activity.id) == []
    reminders = await harness.services.db.fetch_value(
        "SELECT count(*) FROM reminders WHERE subject_id = ? AND status = 'pending'",
        (activity.id,),
    )
    assert reminders == 0


async def test_mydata_holds_the_note_and_deleteme_erases_it(harness, hospital, hub):
    _, activity = await scene(harness, hospital, hub)
    talent = await apply(harness, 501)
    await talent.send("/mydata")
    document = harness.api.bot_messages(talent.id)[-1]["document"]
    data = json.loads(harness.api.file_bytes(document["file_id"]).decode("utf-8"))
    assert [(a["request"], a["note"], a["status"]) for a in data["applications"]] == [
        ("Knee replacement guidance", "Thirty years of knee surgery.", "pending")
    ]
    await talent.send("/deleteme")
    await talent.tap("🗑 Yes, erase my data")
    assert await harness.services.requests.requests.of_request(activity.id) == []


async def test_applicants_are_paginated(harness, hospital, hub):
    coordinator, _ = await scene(harness, hospital, hub)
    for telegram_id in range(601, 613):
        await seed_talent(harness, telegram_id, station=hub, expertise=("medicine", "law"))
        await apply(harness, telegram_id, note=None)
    await coordinator.send("/requests")
    await coordinator.tap(coordinator.buttons()[0])
    page = coordinator.last_text()
    assert "1. Talent 601 · —\nLaw, Medicine & health · ⏳ to decide" in page, page
    assert "5. Talent 605" in page and "6. Talent 606" not in page
    assert "1 / 3" in coordinator.buttons()
    await coordinator.tap("Next ▶")
    assert "6. Talent 606" in coordinator.last_text()
    await coordinator.tap("✅ Accept 7")
    assert "7. Talent 607 · —\nLaw, Medicine & health · ✅ accepted" in (coordinator.last_text())
    assert "2 / 3" in coordinator.buttons()


async def test_coordinators_hear_of_each_application(harness, hospital, hub):
    coordinator, _ = await scene(harness, hospital, hub)
    other = await make_coordinator(harness, hub, first_name="Other")
    # Staff who never chose a language are told in the programme's default one (zh).
    await harness.services.people.set_language(coordinator.id, "en")
    await apply(harness, 502, note=None)
    assert coordinator.last_text() == (
        "🙋 Talent 502 applied to Knee replacement guidance (Dec 5, 2026, 9:30\u202fAM –"
        " 11:30\u202fAM)."
    )
    await coordinator.tap("🙋 Applicants")
    assert "1. Talent 502 · —" in coordinator.last_text()
    assert not any("applied to" in text for text in received(harness, other.id))
