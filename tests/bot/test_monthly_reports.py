"""The monthly report: scheduled on the real Application's job queue, sent on the 1st at 09:00
(programme time), once, even across restarts, and at start when the bot was down at 09:00."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.app import MONTHLY_AT_START, MONTHLY_JOB
from localapi import FakeBotApi
from tests.bot.test_activities import admin_viewer, make_activity
from tests.support.flows import add_station, make_coordinator, seed_talent
from tests.support.harness import ADMIN_ID, start_harness, stop_harness

TZ = ZoneInfo("Asia/Shanghai")
FIRST_OF_DECEMBER = datetime(2026, 12, 1, 9, 0, tzinfo=TZ)


async def run_job(harness, name):
    jobs = harness.app.job_queue.get_jobs_by_name(name)
    assert len(jobs) == 1
    await jobs[0].run(harness.app)


def reports_to(api, chat_id):
    """The monthly reports a chat received: (summary, chart caption, spreadsheet name)."""
    messages = api.bot_messages(chat_id)
    found = []
    for i, message in enumerate(messages):
        if (message.get("text") or "").startswith("📬"):
            photo, document = messages[i + 1], messages[i + 2]
            found.append(
                (message["text"], photo.get("caption"), document["document"]["file_name"])
            )
    return found


async def november(harness):
    """A station with a coordinator, an admin's chat, and a check-in in November."""
    hub = await add_station(harness, "Downtown hub", "市民中心站")
    coordinator = await make_coordinator(harness, hub, language="zh")
    talent = await seed_talent(harness, 801, station=hub)
    activity = await make_activity(
        harness, hub, starts_at=harness.clock.now() + timedelta(hours=2),
        ends_at=harness.clock.now() + timedelta(hours=4),
    )  # fmt: skip
    token = await harness.services.checkins.code(await admin_viewer(harness), activity.id)
    harness.clock.set(activity.starts_at)
    await harness.services.checkins.scan(talent.id, token)
    harness.api.open_chat({"id": ADMIN_ID, "first_name": "Admin", "language_code": "zh"})
    return coordinator


async def test_scheduled_daily_at_nine_and_at_start(harness):
    jobs = harness.app.job_queue.get_jobs_by_name(MONTHLY_JOB)
    assert len(jobs) == 1
    trigger = jobs[0].job.trigger
    after = trigger.get_next_fire_time(None, datetime(2026, 11, 30, 12, 0, tzinfo=TZ))
    assert after == FIRST_OF_DECEMBER
    before = trigger.get_next_fire_time(None, datetime(2026, 12, 1, 8, 59, tzinfo=TZ))
    assert before == FIRST_OF_DECEMBER
    assert len(harness.app.job_queue.get_jobs_by_name(MONTHLY_AT_START)) == 1


async def test_sent_once_on_the_first_even_across_restarts(tmp_path):
    api = FakeBotApi()
    harness = await start_harness(tmp_path, api=api)
    try:
        coordinator = await november(harness)
        harness.clock.set(FIRST_OF_DECEMBER - timedelta(minutes=1))
        await run_job(harness, MONTHLY_JOB)
        assert reports_to(api, ADMIN_ID) == []
        harness.clock.set(FIRST_OF_DECEMBER)
        await run_job(harness, MONTHLY_JOB)
        admin_reports = reports_to(api, ADMIN_ID)
        assert len(admin_reports) == 1
        text, caption, name = admin_reports[0]
        assert text.startswith(
            "📬 您的月度报表（每月 1 日自动发送）。\n\n📊 全部工作站 · 2026年11月"
        )
        assert "参与 1" in text and "服务时长：2 小时" in text
        assert caption == "📈 全部工作站 · 2026年11月"
        assert name == "报表-全部工作站-2026-11.xlsx"
        station_reports = reports_to(api, coordinator.id)
        assert len(station_reports) == 1
        assert station_reports[0][0].startswith(
            "📬 您的月度报表（每月 1 日自动发送）。\n\n📊 市民中心站 · 2026年11月"
        )
        await run_job(harness, MONTHLY_JOB)
        await run_job(harness, MONTHLY_AT_START)
        assert harness.errors == []
    finally:
        await stop_harness(harness)
    # Restarted twice that morning: the rows say it went, so nothing goes again.
    for minutes in (10, 20):
        again = await start_harness(tmp_path, api=api)
        try:
            again.clock.set(FIRST_OF_DECEMBER + timedelta(minutes=minutes))
            await run_job(again, MONTHLY_AT_START)
            assert again.errors == []
        finally:
            await stop_harness(again)
    assert len(reports_to(api, ADMIN_ID)) == 1
    assert len(reports_to(api, coordinator.id)) == 1
    check = await start_harness(tmp_path, api=api)
    try:
        rows = await check.services.reports.reports.deliveries("2026-11")
        assert [(r["scope"], r["status"], r["attempts"]) for r in rows] == [
            ("station:1", "sent", 1),
            ("all", "sent", 1),
        ]
    finally:
        await stop_harness(check)


async def test_down_at_nine_sent_at_start(tmp_path):
    api = FakeBotApi()
    harness = await start_harness(tmp_path, api=api)
    try:
        coordinator = await november(harness)
        await coordinator.block()
    finally:
        await stop_harness(harness)
    later = await start_harness(tmp_path, api=api)
    try:
        later.clock.set(FIRST_OF_DECEMBER + timedelta(hours=2))
        await run_job(later, MONTHLY_AT_START)
        assert len(reports_to(api, ADMIN_ID)) == 1
        assert reports_to(api, coordinator.id) == []
        rows = await later.services.reports.reports.deliveries("2026-11")
        assert {r["scope"]: r["status"] for r in rows} == {
            "station:1": "unreachable",
            "all": "sent",
        }
        # The next day's run sends nothing again, and does not retry a blocked chat.
        later.clock.set(FIRST_OF_DECEMBER + timedelta(days=1))
        await run_job(later, MONTHLY_JOB)
        assert len(reports_to(api, ADMIN_ID)) == 1
        assert later.errors == []
    finally:
        await stop_harness(later)


async def test_a_deployment_set_up_after_the_month_sends_no_report_of_it(harness):
    """A new bot's first start mid-month does not send the office last month's empty report."""
    await november(harness)
    installed = await harness.services.reports.reports.installed_at()
    # On the 1st of the month it was set up in, last month's report is due, but that month
    # ended before the bot existed.
    harness.clock.set(installed.astimezone(TZ).replace(day=1, hour=10))
    await run_job(harness, MONTHLY_AT_START)
    assert reports_to(harness.api, ADMIN_ID) == []
    # The month it was set up in is reported as usual, on the 1st of the next.
    next_first = (installed.astimezone(TZ).replace(day=28) + timedelta(days=4)).replace(day=1)
    harness.clock.set(next_first.replace(hour=9, minute=30))
    await run_job(harness, MONTHLY_JOB)
    assert len(reports_to(harness.api, ADMIN_ID)) == 1
    assert harness.errors == []
