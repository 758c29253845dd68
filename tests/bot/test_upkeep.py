"""A season's upkeep in the real Application: /status, the heartbeat, the nightly job (backup,
clean-up, space given back) as the application's job queue schedules and runs it."""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.services.messaging import Draft
from localapi.chat import sent_to
from storage.database import newest_version, utc_text
from storage.files import file_bytes
from storage.models import Audience
from tests.support.flows import add_station, make_coordinator, seed_talent
from tests.support.harness import START, start_harness, stop_harness

SHANGHAI = ZoneInfo("Asia/Shanghai")


def job(harness, name):
    [found] = harness.app.job_queue.get_jobs_by_name(name)
    return found


def last_update(harness) -> int:
    return harness.app.bot_data["heartbeat"].update_id


async def runtime(harness):
    rows = await harness.services.db.fetch_all("SELECT key, value, updated_at FROM runtime")
    return [tuple(row) for row in rows]


async def test_admin_sees_how_the_bot_is_doing(harness):
    hub = await add_station(harness)
    for telegram_id in (501, 502, 503):
        await seed_talent(harness, telegram_id, station=hub)
    await harness.services.db.execute(
        "INSERT INTO activities (station_id, kind, title, place, starts_at, ends_at, status,"
        " created_by, created_at, updated_at) VALUES (?, 'clinic', 'Clinic', 'Hub', ?, ?,"
        " 'published', 1, ?, ?)",
        (hub.id, utc_text(START), utc_text(START + timedelta(hours=2)), *[utc_text(START)] * 2),
    )
    await harness.services.reminder_rows.schedule(
        talent_id=1, subject="activity", subject_id=1, kind="1h",
        due_at=START - timedelta(minutes=5), expires_at=START + timedelta(hours=1),
        text_key="reminder.activity", params={}, now=START,
    )  # fmt: skip
    coordinator = await make_coordinator(harness, hub)
    await coordinator.send("/broadcast")
    await coordinator.send("Free clinic on Saturday")
    await coordinator.tap("Any field")
    await coordinator.tap("Everyone")
    await coordinator.tap("📣 Send")

    admin = harness.admin()
    await admin.send("/status")
    assert admin.last_text().splitlines()[0] == "📊 talentbot status"
    lines = admin.last_text().splitlines()[1:]
    assert lines[0].startswith(f"Database: {harness.services.db.path}, ")
    assert lines[0].endswith(f" MB, schema version {newest_version()}")
    assert lines[1:] == [
        f"Bot: running (pid {os.getpid()})",
        "Talents registered: 3",  # the coordinator has not filled in a profile
        "Activities this season (since Oct 1, 2026): 1",
        "Broadcast #1 running: 0 of 3 sent, 3 pending",
        "Reminders due and not yet sent: 1",
        f"Last update handled: Nov 26, 2026, 10:00\u202fAM (#{last_update(harness)})",
        "Last backup: none yet ⚠️",
    ]

    talent = harness.user("Plain", id=501)
    await talent.send("/status")
    assert talent.last_text() == "Sorry, you are not allowed to do that."


async def test_status_is_in_the_admins_menu_in_both_languages(harness):
    admin = harness.admin()
    await admin.send("/language")
    await admin.tap("中文")
    [*_, menu] = sent_to(harness.api, "setMyCommands", scope={"type": "chat", "chat_id": admin.id})
    assert {"command": "status", "description": "机器人运行状况"} in menu["commands"]
    await admin.send("/status")
    assert admin.last_text().splitlines()[0] == "📊 机器人运行状况"
    assert "已登记人才：0 人" in admin.last_text()
    await admin.send("/language")
    await admin.tap("English")
    [*_, menu] = sent_to(harness.api, "setMyCommands", scope={"type": "chat", "chat_id": admin.id})
    assert {"command": "status", "description": "How the bot is doing"} in menu["commands"]
    talent = harness.user("Plain")
    await talent.send("/help")
    assert "/status" not in talent.last_text()


async def test_the_last_update_is_written_down_once_a_minute_not_per_update(harness):
    alice = harness.user()
    for _ in range(5):
        await alice.send("/help")
    assert await runtime(harness) == []  # five updates, no write
    heartbeat = job(harness, "heartbeat")
    assert heartbeat.job.trigger.interval == timedelta(minutes=1)
    await heartbeat.run(harness.app)
    last = last_update(harness)
    assert await runtime(harness) == [("last_update", str(last), utc_text(START))]
    harness.clock.advance(timedelta(minutes=3))
    await heartbeat.run(harness.app)  # nothing new: nothing written
    assert await runtime(harness) == [("last_update", str(last), utc_text(START))]
    await alice.send("/help")
    await harness.app.post_stop(harness.app)  # a stopping bot writes down what it has
    assert await runtime(harness) == [
        ("last_update", str(last + 1), utc_text(START + timedelta(minutes=3)))
    ]


async def test_the_nightly_job_runs_at_the_configured_hour_and_keeps_the_newest_backups(tmp_path):
    harness = await start_harness(
        tmp_path, TALENTBOT_NIGHTLY_AT="02:15", TALENTBOT_BACKUP_KEEP="2"
    )
    try:
        backups = tmp_path / "backups"
        backups.mkdir()
        for day in (20, 21, 22):
            (backups / f"talentbot-202611{day}-021500.sqlite3").write_bytes(b"old")
        nightly = job(harness, "nightly")
        after = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
        fires = nightly.job.trigger.get_next_fire_time(None, after)
        assert fires.astimezone(SHANGHAI).time() == time(2, 15)

        await nightly.run(harness.app)

        made = "talentbot-20261126-100000.sqlite3"  # START in Shanghai time
        assert sorted(p.name for p in backups.iterdir()) == [
            "talentbot-20261122-021500.sqlite3",
            made,
        ]
        with sqlite3.connect(backups / made) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert (
                conn.execute("SELECT max(version) FROM schema_migrations").fetchone()[0]
                == newest_version()
            )
        admin = harness.admin()
        await admin.send("/status")
        [line] = [x for x in admin.last_text().splitlines() if x.startswith("Last backup: ")]
        size = round((backups / made).stat().st_size / 1_000_000, 1)
        assert line.endswith(f", {size} MB, {backups / made}")  # when the file was written
    finally:
        await stop_harness(harness)


async def test_old_deliveries_and_reminders_go_and_totals_stay(harness):
    hub = await add_station(harness)
    for telegram_id in range(501, 511):
        await seed_talent(harness, telegram_id, station=hub)
    admin = await harness.services.people.viewer(harness.admin().id, "en")
    services = harness.services
    audience = services.broadcasts.audience(
        admin, station_id=hub.id, expertise=None, in_city_on=None
    )
    old = await services.broadcasts.start(admin, audience, Draft(text="Autumn news"))
    await harness.outbox.drain()
    for talent_id in (1, 2):
        await services.reminder_rows.schedule(
            talent_id=talent_id, subject="activity", subject_id=7, kind="24h",
            due_at=START, expires_at=START + timedelta(hours=1), text_key="reminder.activity",
            params={}, now=START,
        )  # fmt: skip
    await services.db.execute("UPDATE reminders SET status = 'sent' WHERE talent_id = 1")

    harness.clock.advance(timedelta(days=181))
    recent = await services.broadcasts.start(admin, audience, Draft(text="Spring news"))
    await harness.outbox.drain()
    await job(harness, "nightly").run(harness.app)

    count = services.db.fetch_value
    assert await count("SELECT count(*) FROM deliveries WHERE broadcast_id = ?", (old.id,)) == 0
    assert (
        await count("SELECT count(*) FROM deliveries WHERE broadcast_id = ?", (recent.id,)) == 10
    )
    for broadcast in (old, recent):
        progress = await services.broadcasts.progress(broadcast.id)
        assert (progress.total, progress.sent, progress.failed) == (10, 10, 0)
    # The sent reminder is gone; the one still pending (however late) is the sender's to drop.
    assert await count("SELECT group_concat(status) FROM reminders") == "pending"


async def test_an_old_file_is_switched_to_incremental_vacuum_and_stops_growing(tmp_path):
    path = tmp_path / "bot.sqlite3"
    with sqlite3.connect(path) as conn:
        # A file as the earlier versions made it: write-ahead log, no auto-vacuum.
        conn.execute("PRAGMA journal_mode = WAL")
    harness = await start_harness(tmp_path)
    try:
        db = harness.services.db
        assert await db.fetch_value("PRAGMA auto_vacuum") == 0
        await db.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)"
            " INSERT INTO talents (telegram_id, language, name, registered_at, created_at,"
            " updated_at) SELECT 800000 + i, 'zh', 'T' || i, :t, :t, :t FROM n",
            {"t": utc_text(START)},
        )
        rows = harness.services.broadcast_rows

        async def broadcast_to_everyone() -> None:
            now = harness.clock.now()
            made = await rows.create(
                Audience(topic="coordinator"), text="x" * 300, entities=None,
                photo_file_id=None, created_by=1, author_locale="zh", now=now,
            )  # fmt: skip
            await db.execute(
                "UPDATE deliveries SET status = 'sent', attempts = 1, message_id = id,"
                " updated_at = :now, last_error = NULL WHERE broadcast_id = :id",
                {"id": made.id, "now": utc_text(now)},
            )
            assert await rows.finish(made.id, now=now)

        async def settled_size() -> int:
            await db.run_script("PRAGMA wal_checkpoint(TRUNCATE);")
            return file_bytes(path)

        # Without the clean-up every broadcast adds its delivery rows for good.
        base = await settled_size()
        await broadcast_to_everyone()
        grown = await settled_size()
        assert grown - base > 150_000

        nightly = job(harness, "nightly")
        sizes = []
        for _ in range(4):
            harness.clock.advance(timedelta(days=181))
            await nightly.run(harness.app)
            sizes.append(await settled_size())
            await broadcast_to_everyone()
        assert await db.fetch_value("PRAGMA auto_vacuum") == 2  # switched by the first night
        # After every night the file is back to the same size: it no longer grows.
        assert max(sizes) - min(sizes) <= 4 * 4096, sizes
        assert sizes[-1] < grown
    finally:
        await stop_harness(harness)


async def test_a_database_that_does_not_answer_is_reported_not_raised(harness):
    health = harness.app.bot_data["health"]
    await harness.services.db.close()
    problems = await health.check(max_silence=timedelta(hours=1))
    assert problems == [
        "the database does not answer: RuntimeError: Database is not connected;"
        " call connect() first"
    ]
    await harness.services.db.connect()  # for the fixture's orderly shutdown
