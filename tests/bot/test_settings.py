"""/settings: a switch per topic, kept in the database, shown in the talent's language."""

from tests.support.flows import register


async def test_switches_are_listed_on_and_flip(harness):
    alice = harness.user()
    await register(harness, alice)
    await alice.send("/settings")
    assert alice.last_text().startswith("What you hear about")
    assert alice.buttons() == [
        "✅ Messages from coordinators",
        "✅ Announcements: Events",
        "✅ Announcements: Volunteer calls",
        "✅ Announcements: Lectures",
        "✅ Announcements: Clinics",
        "✅ Announcements: Surgery guidance",
        "✅ Announcements: Teaching support",
        "✅ Announcements: Mentoring",
        "✅ Announcements: Other activities",
        "✅ Produce campaigns (help farmers sell)",
        "✅ Reminders before activities",
        "✅ Changes to my points and hours",
    ]
    await alice.tap("✅ Announcements: Lectures")
    assert alice.alerts()[-1] == "Switched off."
    assert "🔕 Announcements: Lectures" in alice.buttons()
    talent = await harness.services.talents.by_telegram_id(alice.id)
    assert await harness.services.preferences.enabled(talent.id) == {
        **{topic: True for topic in await harness.services.preferences.enabled(talent.id)},
        "announce.lecture": False,
    }
    await alice.tap("🔕 Announcements: Lectures")
    assert alice.alerts()[-1] == "Switched on."
    assert all(on for on in (await harness.services.preferences.enabled(talent.id)).values())


async def test_chinese_labels(harness):
    wang = harness.user("王", language="zh-hans")
    await register(harness, wang, locale="zh")
    await wang.send("/settings")
    assert wang.buttons()[:2] == ["✅ 协调员群发的消息", "✅ 活动通知"]


async def test_unregistered_and_forged(harness):
    bob = harness.user("Bob")
    await bob.send("/settings")
    assert bob.last_text() == "You have not registered yet. Send /start to register."
    await bob.press("set:news", forge=True)
    assert bob.alerts()[-1] == "You have not registered yet. Send /start to register."
    alice = harness.user()
    await register(harness, alice)
    await alice.send("/settings")
    await alice.press("set:everything", forge=True)
    assert (
        alice.alerts()[-1]
        == "That button has expired; please use the buttons of the newest message."
    )
    talent = await harness.services.talents.by_telegram_id(alice.id)
    assert await harness.services.preferences.preferences.optouts(talent.id) == set()
