"""Hours corrections, manual check-in and admins' point adjustments."""

from dataclasses import replace
from datetime import timedelta

import pytest

from bot.services.errors import InvalidInput
from tests.bot.test_activities import STARTS, WINTER, admin_viewer, make_activity
from tests.support.flows import add_station, make_coordinator, seed_talent
from tests.support.harness import ADMIN_ID, START


@pytest.fixture
async def scene(harness):
    hub = await add_station(harness, "Downtown hub", "市民中心站")
    activity = await make_activity(harness, hub)
    talent = await seed_talent(harness, 501, station=hub)
    coordinator = await make_coordinator(harness, hub)
    return hub, activity, talent, coordinator


async def check_in(harness, activity, telegram_id=501):
    token = await harness.services.checkins.code(await admin_viewer(harness), activity.id)
    harness.clock.set(STARTS)
    await harness.user("T", id=telegram_id).send(f"/start ci-{token}")


async def test_correcting_hours_keeps_the_original(harness, scene):
    _, activity, talent, coordinator = scene
    await check_in(harness, activity)
    await coordinator.press(f"mg:att:{activity.id}", forge=True)
    assert coordinator.last_text().startswith("Free eye clinic: 1 checked in.")
    assert "• Talent 501 — 2 h (walk-in)" in coordinator.last_text()
    await coordinator.tap("✏️ Talent 501")
    assert coordinator.last_text().startswith("How many hours did Talent 501 actually serve?")
    await coordinator.send("lots")
    assert coordinator.last_text().startswith("Please type hours from 0 to 24")
    await coordinator.send("1,5")
    await coordinator.send_sticker()
    assert coordinator.last_text().startswith("Please answer with a text message.")
    await coordinator.send("Left early to see a patient")
    assert coordinator.texts()[-2].startswith("Saved: Talent 501's hours are corrected")
    assert "• Talent 501 — 1.5 h (walk-in" in coordinator.last_text()
    [row] = await harness.services.checkins.points.attendance(activity.id)
    assert (row.hours, row.current_hours) == (2.0, 1.5)
    corrections = await harness.services.checkins.points.corrections(row.id)
    assert [(c["hours"], c["reason"], c["by_whom"]) for c in corrections] == [
        (1.5, "Left early to see a patient", coordinator.id)
    ]
    assert await harness.services.checkins.points.hours(talent.id) == 1.5


async def test_manual_check_in(harness, scene):
    _, activity, talent, coordinator = scene
    harness.clock.set(STARTS)
    await coordinator.press(f"mg:att:{activity.id}", forge=True)
    await coordinator.tap("➕ Check someone in by hand")
    await coordinator.send("Nobody Like This")
    assert coordinator.last_text().startswith("No registered talent matches.")
    await coordinator.send("talent 5")
    await coordinator.tap("Talent 501 · Harbin")
    assert coordinator.texts()[-2] == "✅ Talent 501 is checked in by hand (+10 points)."
    [row] = await harness.services.checkins.points.attendance(activity.id)
    assert (row.method, row.by_whom) == ("manual", coordinator.id)
    assert await harness.services.checkins.points.balance(talent.id) == 10


async def test_manual_check_in_outside_the_window(harness, scene):
    _, activity, _, coordinator = scene
    await coordinator.press(f"mg:man:{activity.id}", forge=True)
    await coordinator.send("Talent 501")
    await coordinator.tap("Talent 501 · Harbin")
    assert coordinator.texts()[-2] == (
        "Talent 501 could not be checked in: check-in has not opened yet."
    )


async def test_admin_adjusts_points_never_below_zero(harness, scene):
    _, activity, talent, _ = scene
    await check_in(harness, activity)
    admin = harness.admin()
    await admin.send("/admin")
    await admin.tap("⭐ Adjust points")
    await admin.send("Nobody 9999")
    assert admin.last_text().startswith("No registered talent matches.")
    await admin.send("Talent")
    await admin.tap("Talent 501 · Harbin")
    assert "Their balance is 10." in admin.last_text()
    # An amount that cannot be done is refused at once, before a reason is asked for.
    for amount, why in (
        ("0", "Please type a whole number of points"),
        ("ten", "Please type a whole number of points"),
        ("+100001", "Please type a whole number of points"),
        ("-15", "-15 would take the balance below zero: it is 10 points now."),
    ):
        await admin.send(amount)
        assert admin.last_text().startswith(why), amount
        assert admin.last_text().endswith("Type +20 to add or -5 to take."), amount
    await admin.send("-10")
    assert admin.last_text().startswith("Why?")
    await admin.send("   ")
    assert admin.last_text().startswith("This can't be empty.")
    # Meanwhile the balance dropped: the rule is kept when the change is written, too.
    other = replace(await harness.services.people.viewer(ADMIN_ID + 1, "en"), is_admin=True)
    await harness.services.points.adjust(other, talent.id, -5, "Returned a ticket")
    await admin.send("Returned a ticket")
    assert admin.last_text() == (
        "Not done: Talent 501 has 5 points, and a balance never goes below zero (-10)."
    )
    await admin.press("adm:points", forge=True)
    await admin.send("Talent")
    await admin.tap("Talent 501 · Harbin")
    await admin.send("+20")
    await admin.send("Helped at the spring fair")
    assert admin.last_text() == "Done: +20 points for Talent 501; their balance is now 25."
    rows = await harness.services.db.fetch_all(
        "SELECT delta, kind, reason, by_whom FROM ledger WHERE talent_id = ? ORDER BY id",
        (talent.id,),
    )
    assert [tuple(r) for r in rows] == [
        (10, "earn", None, None),
        (-5, "adjust", "Returned a ticket", ADMIN_ID + 1),
        (20, "adjust", "Helped at the spring fair", admin.id),
    ]
    total = await harness.services.db.fetch_value("SELECT sum(delta) FROM ledger")
    assert total == await harness.services.checkins.points.balance(talent.id) == 25


async def test_refused_to_others(harness, scene):
    _, activity, talent, coordinator = scene
    await check_in(harness, activity)
    [row] = await harness.services.checkins.points.attendance(activity.id)
    village = await add_station(harness, "Village station", "乡村振兴站")
    outsider = await make_coordinator(harness, village, first_name="Outsider")
    plain = harness.user("Plain")
    await plain.send("/help")
    for user in (outsider, plain):
        for data in (f"mg:att:{activity.id}", f"mg:hrs:{row.id}", f"mg:man:{activity.id}"):
            await user.press(data, forge=True)
            assert user.alerts()[-1] == "Sorry, you are not allowed to do that.", data
    for user in (coordinator, plain):
        await user.press("adm:points", forge=True)
        assert user.alerts()[-1] == "Sorry, you are not allowed to do that."
        await user.press(f"mg:pick:{talent.id}", forge=True)
        await user.send("+500")
    assert await harness.services.checkins.points.balance(talent.id) == 10
    assert await harness.services.checkins.points.corrections(row.id) == []


async def named(harness, telegram_id, station, name, phone):
    talent = await seed_talent(harness, telegram_id, station=station)
    return await harness.services.people.update_profile(talent.id, {"name": name, "phone": phone})


async def test_the_hand_check_in_search_stays_in_the_station_and_hides_phones(harness, scene):
    hub, activity, _, coordinator = scene
    village = await add_station(harness, "Village station", "乡村振兴站")
    ours = await named(harness, 601, hub, "Wang Li", "+8613912345678")
    theirs = await named(harness, 602, village, "Wang Fang", "+8613987655678")
    harness.clock.set(STARTS)
    await coordinator.press(f"mg:man:{activity.id}", forge=True)
    await coordinator.send("Wang")
    assert coordinator.buttons() == ["Wang Li · +86 139****5678 · Harbin", "✖ Cancel"]
    await coordinator.send("5678")
    assert coordinator.buttons() == ["Wang Li · +86 139****5678 · Harbin", "✖ Cancel"]
    # A longer tail of the number, or the whole of it, confirms nothing.
    for query in ("45678", "345678", "13912345678", "+86 139 1234 5678", "567"):
        await coordinator.send(query)
        assert coordinator.last_text().startswith(
            "To find someone by phone, type exactly the last 4 digits, like 5678."
        ), query
    await coordinator.send("Fang")
    assert coordinator.last_text().startswith("No registered talent matches.")
    # A talent of another station cannot be checked in with a forged button either.
    await coordinator.press(f"mg:pick:{theirs.id}", forge=True)
    assert coordinator.alerts()[-1] == "Sorry, you are not allowed to do that."
    assert await harness.services.checkins.points.attendance(activity.id) == []
    # Someone from elsewhere who signed up for this activity can be found.
    harness.clock.set(START)
    await harness.services.activities.sign_up(theirs.id, activity.id, waitlist=False)
    harness.clock.set(STARTS)
    await coordinator.press(f"mg:man:{activity.id}", forge=True)
    await coordinator.send("Fang")
    await coordinator.tap("Wang Fang · +86 139****5678 · Harbin")
    assert coordinator.texts()[-2] == "✅ Wang Fang is checked in by hand (+10 points)."
    # The admin's points search is the same search, over every station.
    admin = harness.admin()
    await admin.send("/admin")
    await admin.tap("⭐ Adjust points")
    await admin.send("5678")
    assert admin.buttons() == [
        "Wang Fang · +86 139****5678 · Harbin",
        "Wang Li · +86 139****5678 · Harbin",
        "✖ Cancel",
    ]
    assert ours.phone not in " ".join(admin.texts() + coordinator.texts())


async def test_searches_are_limited_to_ten_a_minute(harness, scene):
    hub, activity, _, coordinator = scene
    await named(harness, 601, hub, "Wang Li", "+8613912345678")
    await coordinator.press(f"mg:man:{activity.id}", forge=True)
    for digits in range(1000, 1010):
        await coordinator.send(str(digits))
        assert coordinator.last_text().startswith("No registered talent matches.")
    await coordinator.send("5678")
    assert coordinator.last_text().startswith("Too many searches; please try again in a minute.")
    assert coordinator.buttons() == ["✖ Cancel"]
    harness.clock.advance(timedelta(seconds=61))
    await coordinator.send("5678")
    assert coordinator.buttons() == ["Wang Li · +86 139****5678 · Harbin", "✖ Cancel"]
    # In Chinese too; the limit is per person, so another coordinator is not held up.
    other = await make_coordinator(harness, hub, first_name="Lin", language="zh")
    await other.press(f"mg:man:{activity.id}", forge=True)
    for _ in range(10):
        await other.send("王")
    await other.send("王")
    assert other.last_text().startswith("查找次数太多了，请一分钟后再试。")
    await coordinator.send("Wang")
    assert coordinator.buttons()[0] == "Wang Li · +86 139****5678 · Harbin"


async def test_nobody_credits_themselves(harness, scene):
    hub, activity, _, coordinator = scene
    await harness.services.talents.register(
        coordinator.id, language="en", name="Coco", phone=None, expertise=("medicine",),
        title=None, region="Harbin", station_id=hub.id, stay_from=WINTER[0], stay_to=WINTER[1],
        consent_at=START, now=START,
    )  # fmt: skip
    harness.clock.set(STARTS)
    await coordinator.press(f"mg:man:{activity.id}", forge=True)
    await coordinator.send("Coco")
    await coordinator.tap("Coco · Harbin")
    assert coordinator.last_text() == (
        "You can't check yourself in by hand. Please scan the activity's code, or ask another"
        " coordinator."
    )
    me = await harness.services.talents.by_telegram_id(coordinator.id)
    for _ in range(2):
        await coordinator.press(f"mg:man:{activity.id}", forge=True)
        await coordinator.press(f"mg:pick:{me.id}", forge=True)
    assert await harness.services.checkins.points.balance(me.id) == 0
    # Checking someone else in is marked with the coordinator's name.
    await coordinator.press(f"mg:man:{activity.id}", forge=True)
    await coordinator.send("Talent 501")
    await coordinator.tap("Talent 501 · Harbin")
    assert "• Talent 501 — 2 h (walk-in, checked in by hand by Coco)" in coordinator.last_text()
    # Their own hours, after scanning like everyone else, are for someone else to correct.
    token = await harness.services.checkins.code(await admin_viewer(harness), activity.id)
    await coordinator.send(f"/start ci-{token}")
    row = next(r for r in await harness.services.checkins.points.attendance(activity.id)
               if r.talent_id == me.id)  # fmt: skip
    await coordinator.press(f"mg:hrs:{row.id}", forge=True)
    assert coordinator.alerts()[-1] == (
        "You can't correct your own service hours. Please ask another coordinator."
    )
    assert await harness.services.checkins.points.corrections(row.id) == []
    # An admin may not adjust their own balance, in the chat or through the service.
    await harness.services.talents.register(
        ADMIN_ID, language="en", name="Ada Admin", phone=None, expertise=("law",),
        title=None, region="Sanya", station_id=None, stay_from=WINTER[0], stay_to=WINTER[1],
        consent_at=START, now=START,
    )  # fmt: skip
    admin = harness.admin()
    await admin.send("/admin")
    await admin.tap("⭐ Adjust points")
    await admin.send("Ada")
    await admin.tap("Ada Admin · Sanya")
    assert admin.last_text() == "You can't adjust your own points. Please ask another admin."
    own = await harness.services.talents.by_telegram_id(ADMIN_ID)
    with pytest.raises(InvalidInput):
        await harness.services.points.adjust(await admin_viewer(harness), own.id, 1000, "Mine")
    assert await harness.services.checkins.points.balance(own.id) == 0
