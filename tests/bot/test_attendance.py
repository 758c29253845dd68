"""Hours corrections, manual check-in and admins' point adjustments."""

import pytest

from tests.bot.test_activities import STARTS, admin_viewer, make_activity
from tests.support.flows import add_station, make_coordinator, seed_talent


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
    assert "• Talent 501 — 2 h walk-in" in coordinator.last_text()
    await coordinator.tap("✏️ Talent 501")
    assert coordinator.last_text().startswith("How many hours did Talent 501 actually serve?")
    await coordinator.send("lots")
    assert coordinator.last_text().startswith("Please type hours from 0 to 24")
    await coordinator.send("1,5")
    await coordinator.send_sticker()
    assert coordinator.last_text().startswith("Please answer with a text message.")
    await coordinator.send("Left early to see a patient")
    assert coordinator.texts()[-2].startswith("Saved: Talent 501's hours are corrected")
    assert "• Talent 501 — 1.5 h walk-in" in coordinator.last_text()
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
    await admin.send("0")
    assert admin.last_text().startswith("Please type a whole number of points")
    await admin.send("-15")
    await admin.send("   ")
    assert admin.last_text().startswith("This can't be empty.")
    await admin.send("Returned a ticket")
    assert admin.last_text() == (
        "Not done: Talent 501 has 10 points, and a balance never goes below zero (-15)."
    )
    await admin.press("adm:points", forge=True)
    await admin.send("Talent")
    await admin.tap("Talent 501 · Harbin")
    await admin.send("+20")
    await admin.send("Helped at the spring fair")
    assert admin.last_text() == "Done: Talent 501 +20 points; the balance is now 30."
    rows = await harness.services.db.fetch_all(
        "SELECT delta, kind, reason, by_whom FROM ledger WHERE talent_id = ? ORDER BY id",
        (talent.id,),
    )
    assert [tuple(r) for r in rows] == [
        (10, "earn", None, None),
        (20, "adjust", "Helped at the spring fair", admin.id),
    ]
    total = await harness.services.db.fetch_value("SELECT sum(delta) FROM ledger")
    assert total == await harness.services.checkins.points.balance(talent.id) == 30


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
