"""Dates, times and names as people type them, through the real Application.

The clock stands at Thursday 26 November 2026, 10:00 in Shanghai.
"""

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.services.activities import ActivityDraft
from tests.support.flows import add_station, label, make_coordinator, register, walk_to
from tests.support.harness import ADMIN_ID


def shanghai(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A moment typed in Shanghai, as stored (UTC)."""
    return datetime(2026, month, day, hour - 8, minute, tzinfo=UTC)


async def stored_starts(harness) -> list[datetime]:
    rows = await harness.services.db.fetch_all("SELECT starts_at FROM activities ORDER BY id")
    return [datetime.fromisoformat(row["starts_at"]).astimezone(UTC) for row in rows]


@pytest.fixture
async def hub(harness):
    return await add_station(harness, "Downtown hub", "市民中心站")


async def write_activity_until_start(harness, coordinator, locale: str) -> None:
    """/new_activity up to the start question."""
    await coordinator.send("/new_activity")
    await coordinator.tap(label(harness, locale, "kind.lecture"))
    for answer in ("冬季养生讲座", "讲讲冬天怎么养生。", "市民中心二楼"):
        await coordinator.send(answer)
    assert coordinator.last_text().startswith(label(harness, locale, "activity.ask_start")[:6])


async def finish_activity(harness, coordinator, locale: str) -> None:
    """From the end question to a saved draft."""
    t = lambda key, **kw: label(harness, locale, key, **kw)  # noqa: E731
    assert coordinator.last_text().startswith(t("activity.ask_end")[:6])
    await coordinator.tap(t("activity.hours", hours=2))
    await coordinator.tap(t("activity.unlimited"))
    await coordinator.tap("0")
    await coordinator.tap(t("activity.anyone"))
    await coordinator.tap(t("activity.save_draft"))


# -- a talent's stay ------------------------------------------------------------------------------


async def test_stay_typed_as_spoken_is_stored_as_meant(harness):
    wang = harness.user("王", language="zh-hans")
    await walk_to(harness, wang, "stay", locale="zh")
    await wang.send("12月1日到明年3月15日")
    assert wang.last_text().endswith("居留：2026年12月1日 至 2027年3月15日")
    await wang.tap("✅ 确认")
    talent = await harness.services.talents.by_telegram_id(wang.id)
    assert (talent.stay_from, talent.stay_to) == (date(2026, 12, 1), date(2027, 3, 15))


async def test_a_guessed_stay_is_asked_back_no_asks_again_yes_stores_it(harness):
    alice = harness.user()
    await register(harness, alice)
    before = await harness.services.talents.by_telegram_id(alice.id)
    await alice.send("/profile")
    await alice.tap("Stay dates")
    await alice.send("6月1日到9月1日")  # in November: next summer, a guess
    assert alice.last_text() == "Tuesday 1 Jun 2027 to Wednesday 1 Sep 2027 — is that right?"
    assert alice.buttons() == ["✅ Yes", "✏️ No, type it again"]
    asked = alice.messages()[-1]["message_id"]
    await alice.tap("✏️ No, type it again")
    assert alice.last_text().startswith("All right, please type it again.\n\nWhen are you in")
    after = await harness.services.talents.by_telegram_id(alice.id)
    assert (after.stay_from, after.stay_to) == (before.stay_from, before.stay_to)
    # The answered question's Yes no longer stores anything.
    await alice.press("reg:9:sure:yes", message_id=asked)
    assert alice.last_text().startswith(
        "That button has expired; please use the buttons of the newest message."
    )
    await alice.send("June 1 to Sep 1")
    assert alice.last_text() == "Tuesday 1 Jun 2027 to Wednesday 1 Sep 2027 — is that right?"
    await alice.tap("✅ Yes")
    assert alice.texts()[-2] == "Saved."
    after = await harness.services.talents.by_telegram_id(alice.id)
    assert (after.stay_from, after.stay_to) == (date(2027, 6, 1), date(2027, 9, 1))


async def test_a_departure_a_year_away_is_asked_back_in_chinese(harness):
    wang = harness.user("王", language="zh-hans")
    await walk_to(harness, wang, "stay", locale="zh")
    await wang.tap("我已经在本地")
    await wang.send("11月20日")  # passed this year: next November is a guess
    assert wang.last_text() == "2026年11月26日 星期四 至 2027年11月20日 星期六，对吗？"
    await wang.tap("✅ 对")
    assert wang.last_text().endswith("居留：2026年11月26日 至 2027年11月20日")


# -- an activity's start --------------------------------------------------------------------------


async def test_start_typed_as_spoken(harness, hub):
    coordinator = await make_coordinator(harness, hub, language="zh")
    await write_activity_until_start(harness, coordinator, "zh")
    await coordinator.send("明天上午九点半")
    await finish_activity(harness, coordinator, "zh")
    assert await stored_starts(harness) == [shanghai(11, 27, 9, 30)]


async def test_a_bare_hour_is_asked_back_and_yes_stores_it(harness, hub):
    coordinator = await make_coordinator(harness, hub, language="zh")
    await write_activity_until_start(harness, coordinator, "zh")
    await coordinator.send("12月5日 3点")
    assert coordinator.last_text() == "2026年12月5日 星期六 15:00，对吗？"
    assert coordinator.buttons() == ["✅ 对", "✏️ 不对，重新输入"]
    await coordinator.tap("✅ 对")
    await finish_activity(harness, coordinator, "zh")
    assert await stored_starts(harness) == [shanghai(12, 5, 15)]


async def test_a_guessed_start_rejected_with_no_is_asked_again(harness, hub):
    coordinator = await make_coordinator(harness, hub)
    await write_activity_until_start(harness, coordinator, "en")
    await coordinator.send("next Saturday 9am")
    assert coordinator.last_text() == "Saturday 5 Dec 2026, 09:00 — is that right?"
    await coordinator.tap("✏️ No, type it again")
    assert coordinator.last_text().startswith(
        "All right, please type it again.\n\nWhen does it start?"
    )
    await coordinator.send("Sat 28 Nov 9am")
    await finish_activity(harness, coordinator, "en")
    assert await stored_starts(harness) == [shanghai(11, 28, 9)]


async def test_a_day_alone_asks_for_the_time(harness, hub):
    coordinator = await make_coordinator(harness, hub, language="zh")
    await write_activity_until_start(harness, coordinator, "zh")
    await coordinator.send("下周六")
    assert coordinator.last_text().startswith("2026年12月5日 几点开始？")
    await coordinator.send("下午两点半")
    await finish_activity(harness, coordinator, "zh")
    assert await stored_starts(harness) == [shanghai(12, 5, 14, 30)]


async def test_a_confirmed_guess_that_has_passed_meanwhile_is_refused(harness, hub):
    coordinator = await make_coordinator(harness, hub)
    await write_activity_until_start(harness, coordinator, "en")
    await coordinator.send("noon")
    assert coordinator.last_text() == "Thursday 26 Nov 2026, 12:00 — is that right?"
    harness.clock.advance(timedelta(hours=3))
    await coordinator.tap("✅ Yes")
    assert coordinator.last_text().startswith("That moment has already passed.")
    assert await stored_starts(harness) == []


async def test_editing_the_start_from_manage_reads_chinese(harness, hub):
    admin = await harness.services.people.viewer(ADMIN_ID, "en")
    draft = ActivityDraft(
        station_id=hub.id, kind="lecture", title="Winter health talk", place="Library",
        starts_at=shanghai(12, 1, 9), ends_at=shanghai(12, 1, 11),
    )  # fmt: skip
    activity = await harness.services.activities.create(admin, draft)
    await harness.services.activities.publish(admin, activity.id)
    coordinator = await make_coordinator(harness, hub)
    await coordinator.send("/manage")
    await coordinator.tap("✅ Published · Tue, Dec 1 9:00\u202fAM · Winter health talk")
    await coordinator.tap("✏️ Edit")
    await coordinator.tap("Start")
    await coordinator.send("下周六上午9点")
    assert coordinator.texts()[-2] == "Saved."
    assert await stored_starts(harness) == [shanghai(12, 5, 9)]


# -- names ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["😀😀", "...", "？？"])
async def test_a_name_without_letters_is_refused(harness, typed):
    alice = harness.user()
    await walk_to(harness, alice, "name")
    await alice.send(typed)
    assert alice.last_text() == (
        "A name needs letters; emoji or punctuation alone won't do.\n\nWhat is your name?"
    )
    await alice.send("阿卜杜拉·艾买提")
    assert "share your phone number" in alice.last_text()


async def test_a_name_without_letters_is_refused_in_profile_too(harness):
    wang = harness.user("王", language="zh-hans")
    await register(harness, wang, locale="zh")
    await wang.send("/profile")
    await wang.tap("姓名")
    await wang.send("？？")
    assert wang.last_text() == "姓名里要有文字，不能只有表情或标点符号。\n\n请问您的姓名是？"
    assert (await harness.services.talents.by_telegram_id(wang.id)).name == "Wang Li"
    await wang.send("阿卜杜拉·艾买提")
    assert (await harness.services.talents.by_telegram_id(wang.id)).name == "阿卜杜拉·艾买提"


async def test_a_guess_is_forgotten_once_another_question_is_shown(harness, hub):
    coordinator = await make_coordinator(harness, hub)
    await write_activity_until_start(harness, coordinator, "en")
    await coordinator.send("noon")
    asked = coordinator.messages()[-1]["message_id"]
    await coordinator.tap("Fri 27 Nov")
    await coordinator.tap("◀ Back")  # the start question again
    await coordinator.press("na:6:sure:yes", message_id=asked)
    assert coordinator.last_text().startswith(
        "That button has expired; please use the buttons of the newest message."
    )
    assert await stored_starts(harness) == []
