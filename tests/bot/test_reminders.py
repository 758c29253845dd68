"""Stored reminders: sent once when due, moved, cancelled, dropped when too late or unwanted."""

from datetime import timedelta

from tests.support.flows import add_station, received, seed_talent
from tests.support.harness import START

STARTS = START + timedelta(days=1)  # the activity a reminder is about


async def schedule(harness, talent, *, kind="24h", due=None, expires=STARTS, subject_id=1):
    await harness.services.reminders.schedule(
        talent_id=talent.id,
        subject="activity",
        subject_id=subject_id,
        kind=kind,
        due_at=due or STARTS - timedelta(hours=24),
        expires_at=expires,
        text_key="reminder.activity",
        params={"title": "Free clinic <b>", "starts_at": STARTS, "place": "Hub & Co"},
    )


async def states(harness):
    rows = await harness.services.reminder_rows.of_subject("activity", 1)
    return [(r.kind, r.status) for r in rows]


async def test_sent_once_when_due_in_the_talents_language(harness):
    station = await add_station(harness)
    en = await seed_talent(harness, 801, station=station, language="en")
    zh = await seed_talent(harness, 802, station=station, language="zh")
    await schedule(harness, en)
    await schedule(harness, zh)
    assert await harness.outbox.send_due_reminders() == 2  # due now: 24 h before the start
    assert received(harness, 801) == [
        "⏰ Reminder: Free clinic <b> starts Nov 27, 2026, 10:00\u202fAM at Hub & Co."
    ]
    assert received(harness, 802) == [
        "⏰ 提醒：Free clinic <b> 将于 2026年11月27日 10:00 开始，地点：Hub & Co。"
    ]
    assert await harness.outbox.send_due_reminders() == 0
    assert len(received(harness, 801)) == 1
    assert await states(harness) == [("24h", "sent"), ("24h", "sent")]


async def test_not_before_its_time(harness):
    talent = await seed_talent(harness, 803, station=await add_station(harness))
    await schedule(harness, talent, kind="1h", due=STARTS - timedelta(hours=1))
    await harness.outbox.send_due_reminders()
    assert received(harness, 803) == []
    harness.clock.advance(timedelta(hours=23))
    await harness.outbox.send_due_reminders()
    assert len(received(harness, 803)) == 1


async def test_fell_due_while_down_sent_while_still_useful(harness):
    talent = await seed_talent(harness, 804, station=await add_station(harness))
    await schedule(harness, talent, kind="24h", due=START - timedelta(hours=3))
    await harness.outbox.send_due_reminders()
    assert len(received(harness, 804)) == 1


async def test_dropped_when_its_moment_has_passed(harness):
    talent = await seed_talent(harness, 805, station=await add_station(harness))
    await schedule(harness, talent, kind="1h", due=STARTS - timedelta(hours=1))
    harness.clock.set(STARTS + timedelta(minutes=5))  # the bot was down past the start
    await harness.outbox.send_due_reminders()
    assert received(harness, 805) == []
    assert await states(harness) == [("1h", "dropped")]


async def test_cancelled_reminder_is_not_sent(harness):
    talent = await seed_talent(harness, 806, station=await add_station(harness))
    await schedule(harness, talent)
    assert await harness.services.reminders.cancel(subject="activity", subject_id=1) == 1
    await harness.outbox.send_due_reminders()
    assert received(harness, 806) == []
    assert await states(harness) == [("24h", "cancelled")]


async def test_moving_a_reminder(harness):
    talent = await seed_talent(harness, 807, station=await add_station(harness))
    await schedule(harness, talent)
    await harness.outbox.send_due_reminders()
    # The activity moves a week later: the reminder goes out again at its new time.
    later = STARTS + timedelta(days=7)
    await schedule(harness, talent, due=later - timedelta(hours=24), expires=later)
    assert await states(harness) == [("24h", "pending")]
    await harness.outbox.send_due_reminders()
    assert len(received(harness, 807)) == 1
    harness.clock.set(later - timedelta(hours=24))
    await harness.outbox.send_due_reminders()
    assert len(received(harness, 807)) == 2
    # Scheduling the same moment again does not send it a third time.
    await schedule(harness, talent, due=later - timedelta(hours=24), expires=later)
    await harness.outbox.send_due_reminders()
    assert len(received(harness, 807)) == 2


async def test_opted_out_and_blocked_talents_are_skipped(harness):
    station = await add_station(harness)
    quiet = await seed_talent(harness, 808, station=station)
    blocked = await seed_talent(harness, 809, station=station, blocked=True)
    user = harness.user("Quiet", id=808)
    await user.send("/settings")
    await user.tap("✅ Reminders before activities")
    await schedule(harness, quiet)
    await schedule(harness, blocked)
    await harness.outbox.send_due_reminders()
    assert [m for m in received(harness, 808) if m.startswith("⏰")] == []
    rows = await harness.services.reminder_rows.of_subject("activity", 1)
    assert {r.telegram_id: r.status for r in rows} == {808: "dropped", 809: "unreachable"}
    assert (await harness.services.talents.by_telegram_id(809)).reachable is False


async def test_in_flight_reminder_is_resent_after_a_crash(tmp_path):
    from tests.support.harness import start_harness, stop_harness

    first = await start_harness(tmp_path)
    talent = await seed_talent(first, 810, station=await add_station(first))
    await schedule(first, talent)
    [reminder] = await first.services.reminder_rows.due(now=first.clock.now(), limit=5)
    await first.services.reminder_rows.mark_sending(reminder.id, now=first.clock.now())
    await stop_harness(first)
    second = await start_harness(tmp_path, api=first.api)
    await second.outbox.send_due_reminders()
    assert len(received(second, 810)) == 1
    await stop_harness(second)
