"""Long lists come a page at a time, every page within what Telegram accepts."""

import re
from datetime import timedelta

import pytest

from bot.services.activities import ActivityDraft
from tests.bot.test_activities import STARTS, WINTER, admin_viewer
from tests.bot.test_rewards import REWARD
from tests.support.flows import add_station, make_coordinator, seed_talent

NEXT = "Next ▶"


def long_name(i: int) -> str:
    """A 64-character name (the most a name may have); one of them with HTML's own signs."""
    start = "<&> Zhang" if i == 6 else f"Talent {i:03d}"
    return f"{start} {'x' * 64}"[:64]


def check_limits(message: dict) -> None:
    """What Telegram accepts in one message (the local Bot API refuses more, too)."""
    text = message.get("text") or ""
    assert len(text.encode("utf-16-le")) // 2 <= 4096
    buttons = [b for row in (message.get("reply_markup") or {}).get("inline_keyboard", [])
               for b in row]  # fmt: skip
    assert len(buttons) <= 100
    assert all(len(b["callback_data"].encode()) <= 64 for b in buttons)


async def every_page(user, *, next_label: str = NEXT) -> list[dict]:
    """The list on screen and each page after it, following the Next button to the end."""
    pages = []
    while True:
        message = user.messages()[-1]
        check_limits(message)
        pages.append(message)
        if next_label not in user.buttons():
            return pages
        assert len(pages) < 100, "the pages never end"
        await user.tap(next_label)


def labels(page: dict) -> list[str]:
    return [b["text"] for row in page["reply_markup"]["inline_keyboard"] for b in row]


@pytest.fixture
async def crowd(harness):
    """A station with 300 talents whose names are as long as names may be."""
    hub = await add_station(harness, "Downtown hub", "市民中心站")
    talents = []
    for i in range(300):
        talent = await seed_talent(harness, 5000 + i, station=hub, stay=WINTER)
        talents.append(
            await harness.services.people.update_profile(talent.id, {"name": long_name(i)})
        )
    return hub, talents


async def activity_with(harness, hub, *, capacity=0, title="Free eye clinic"):
    admin = await admin_viewer(harness)
    draft = ActivityDraft(
        station_id=hub.id, kind="clinic", title=title, place="Hub, room 2", starts_at=STARTS,
        ends_at=STARTS + timedelta(hours=2), capacity=capacity, points=10,
    )  # fmt: skip
    activity = await harness.services.activities.create(admin, draft)
    activity, _ = await harness.services.activities.publish(admin, activity.id)
    return activity


async def test_three_hundred_attendees(harness, crowd):
    hub, talents = crowd
    activity = await activity_with(harness, hub)
    coordinator = await make_coordinator(harness, hub, first_name="Coco")
    await harness.services.talents.register(
        coordinator.id, language="en", name="C" * 64, phone=None, expertise=("law",),
        title=None, region="Harbin", station_id=hub.id, stay_from=WINTER[0], stay_to=WINTER[1],
        consent_at=STARTS, now=STARTS,
    )  # fmt: skip
    harness.clock.set(STARTS)
    token = await harness.services.checkins.code(await admin_viewer(harness), activity.id)
    me = await harness.services.people.viewer(coordinator.id, "en")
    for i, talent in enumerate(talents):
        if i % 3:
            await harness.services.checkins.scan(talent.id, token)
        else:  # the longest lines: by hand, by someone with a 64-character name
            await harness.services.checkins.manual(me, activity.id, talent.id)
    await coordinator.send("/manage")
    await coordinator.tap("✅ Published · Sat, Dec 5 9:30\u202fAM · Free eye clinic")
    await coordinator.tap("🧾 Attendance and hours")
    pages = await every_page(coordinator)
    assert len(pages) > 1
    seen = [
        re.match(r"• (.{64}) — 2 h", line).group(1)
        for page in pages
        for line in page["text"].splitlines()[1:]
    ]
    assert sorted(seen) == sorted(t.name for t in talents)
    assert (
        f"• {long_name(6)} — 2 h (walk-in, checked in by hand by {'C' * 64})" in (pages[0]["text"])
    )
    for number, page in enumerate(pages, 1):
        assert page["text"].startswith("Free eye clinic: 300 checked in.")
        assert f"{number} / {len(pages)}" in labels(page)
        assert "➕ Check someone in by hand" in labels(page)
    # The buttons on a later page work: correct the hours of someone listed there.
    last = talents[int(seen[-1][7:10])]
    await coordinator.tap(f"✏️ {last.name}")
    assert coordinator.last_text().startswith(f"How many hours did {last.name} actually serve?")
    await coordinator.send("1.5")
    await coordinator.send("Left early")
    assert coordinator.last_text().startswith("Free eye clinic: 300 checked in.")
    assert harness.errors == []


async def test_three_hundred_signups_and_waitlist(harness, crowd):
    hub, talents = crowd
    activity = await activity_with(harness, hub, capacity=200)
    for talent in talents:
        await harness.services.activities.sign_up(talent.id, activity.id, waitlist=True)
    coordinator = await make_coordinator(harness, hub, language="zh")
    await coordinator.send("/manage")
    await coordinator.tap("✅ 已发布 · 12月5日周六 09:30 · Free eye clinic")
    await coordinator.tap("👥 报名和候补")
    pages = await every_page(coordinator, next_label="下一页 ▶")
    lines = [line for page in pages for line in page["text"].splitlines()[2:]]
    going = [line[2:] for line in lines if line.startswith("• ")]
    waiting = [line for line in lines if line.startswith("⏳ ")]
    assert going == [t.name for t in talents[:200]]
    assert waiting == [f"⏳ {i}. {t.name}" for i, t in enumerate(talents[200:], 1)]
    assert all(
        p["text"].startswith("Free eye clinic\n已报名：200 / 200 · 候补：100") for p in pages
    )


async def test_every_other_list(harness):
    admin_user = harness.admin()
    admin = await admin_viewer(harness)
    stations = [
        await add_station(harness, f"Station {i:03d} " + "s" * 40, f"工作站 {i:03d}")
        for i in range(130)
    ]
    hub = stations[0]
    talent = await seed_talent(harness, 501, station=hub, stay=WINTER)
    await harness.services.points.adjust(admin, talent.id, 100_000, "Seed points")
    rewards = [
        await harness.services.rewards.add(
            admin,
            {
                **REWARD,
                "name_en": f"Reward {i:03d} " + "r" * 80,
                "cost": 1,
                "stock": 10,
                "per_talent_limit": 0,
                "station_id": hub.id,
            },
        )
        for i in range(120)
    ]
    for reward in rewards:
        await harness.services.rewards.redeem(talent.id, reward.id)
    for i in range(60):
        activity = await activity_with(harness, hub, title=f"Activity {i:02d} " + "a" * 86)
        await harness.services.activities.sign_up(talent.id, activity.id, waitlist=False)
    user = harness.user("T", id=501)
    coordinator = await make_coordinator(harness, hub)

    async def names_in(who, command, pattern, *, texts=False):
        await who.send(command)
        found = []
        for page in await every_page(who):
            items = page["text"].splitlines() if texts else labels(page)
            found += [m.group(1) for m in map(re.compile(pattern).search, items) if m]
        return found

    assert len(await names_in(user, "/rewards", r"(Reward \d{3})")) == 120
    assert len(await names_in(user, "/vouchers", r"(Reward \d{3})")) == 120
    assert len(await names_in(user, "/my", r"(Activity \d\d)", texts=True)) == 60
    assert len(await names_in(coordinator, "/manage", r"(Activity \d\d)")) == 60
    assert len(await names_in(admin_user, "/admin", r"(Station \d{3})", texts=True)) == 130
    await admin_user.tap("🎁 Rewards")
    assert len({b for page in await every_page(admin_user) for b in labels(page)
                if b.startswith("Reward")}) == 120  # fmt: skip
    # The station pickers: an admin's, a new talent's, a new activity's and a broadcast's.
    await admin_user.send("/admin")
    await admin_user.tap("🎟 Invitation link")
    pages = await every_page(admin_user)
    assert sum(b.startswith("Station") for p in pages for b in labels(p)) == 130
    await admin_user.tap("Station 129 " + "s" * 40)
    assert admin_user.last_text().startswith("Invite to Station 129")
    newcomer = harness.user("New")
    await newcomer.send("/start")
    await newcomer.tap("I agree")
    for answer in ("Wang Li",):
        await newcomer.send(answer)
    await newcomer.tap("Skip")
    await newcomer.tap("Medicine & health")
    await newcomer.tap("Done")
    await newcomer.tap("Skip")
    await newcomer.send("Harbin")
    assert newcomer.last_text() == "Which talent station would you like to join?"
    await every_page(newcomer)
    await newcomer.tap("Station 125 " + "s" * 40)
    assert newcomer.last_text().startswith("When are you in the city")
    await admin_user.send("/new_activity")
    await every_page(admin_user)
    await admin_user.tap("Station 128 " + "s" * 40)
    assert admin_user.last_text() == "What kind of activity is it?"
    await admin_user.send("/cancel")
    await admin_user.send("/broadcast")
    await admin_user.send("Hello")
    await every_page(admin_user)
    await admin_user.tap("All stations")
    assert admin_user.last_text() == "Only talents with a certain field of expertise?"
    await admin_user.send("/cancel")
    await admin_user.send("/statement")
    pages = await every_page(admin_user)
    assert sum(b.startswith("Station") for p in pages for b in labels(p)) == 260
