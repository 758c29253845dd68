"""/profile edits one field at a time; /language and /help follow the user."""

from datetime import date

from telegram import Update

from localapi.chat import sent_to
from tests.support.flows import add_station, register
from tests.support.harness import ADMIN_ID


async def test_profile_shows_every_field_with_edit_buttons(harness):
    alice = harness.user()
    await register(harness, alice)
    await alice.send("/profile")
    assert alice.last_text().startswith("Your profile\nName: Wang Li\nPhone: +8613800138000")
    assert alice.buttons() == [
        "Name",
        "Phone",
        "Expertise",
        "Title",
        "Home region",
        "Station",
        "Stay dates",
    ]


async def test_profile_before_registration(harness):
    bob = harness.user("Bob")
    await bob.send("/profile")
    assert bob.last_text() == "You have not registered yet. Send /start to register."


async def test_edit_name_only(harness):
    alice = harness.user()
    await register(harness, alice)
    before = await harness.services.talents.by_telegram_id(alice.id)
    await alice.send("/profile")
    await alice.tap("Name")
    assert alice.last_text() == "What is your name?"
    await alice.send("  ")
    assert "This can't be empty." in alice.last_text()
    await alice.send("Li Wang")
    assert alice.texts()[-2] == "Saved."
    assert "Name: Li Wang" in alice.last_text()
    after = await harness.services.talents.by_telegram_id(alice.id)
    assert after.name == "Li Wang"
    assert after.model_dump(exclude={"name", "updated_at"}) == before.model_dump(
        exclude={"name", "updated_at"}
    )


async def test_edit_back_returns_to_the_profile_unchanged(harness):
    alice = harness.user()
    await register(harness, alice)
    await alice.send("/profile")
    await alice.tap("Phone")
    assert "📱 Share my phone number" in alice.reply_keyboard()
    await alice.tap("◀ Back")
    assert alice.texts()[-2] == "Nothing was changed."
    # The contact button gives way to the home buttons again.
    assert "📱 Share my phone number" not in alice.reply_keyboard()
    assert alice.reply_keyboard()[:2] == ["Activities", "My signups"]
    assert alice.last_text().startswith("Your profile")


async def test_edit_phone_skip_forgets_the_number(harness):
    alice = harness.user()
    await register(harness, alice)
    await alice.send("/profile")
    await alice.tap("Phone")
    await alice.tap("Skip")
    assert "Phone: not shared" in alice.last_text()
    assert (await harness.services.talents.by_telegram_id(alice.id)).phone is None


async def test_edit_expertise_starts_from_the_current_choice(harness):
    alice = harness.user()
    await register(harness, alice)  # medicine
    await alice.send("/profile")
    await alice.tap("Expertise")
    assert "✓ Medicine & health" in alice.buttons()
    await alice.tap("Law")
    await alice.tap("Done")
    assert (await harness.services.talents.by_telegram_id(alice.id)).expertise == (
        "law",
        "medicine",
    )


async def test_edit_station_and_stay_here_now(harness):
    station = await add_station(harness, "Hospital station", "医院工作站")
    alice = harness.user()
    await register(harness, alice)
    await alice.send("/profile")
    await alice.tap("Station")
    await alice.tap("Hospital station")
    assert "Station: Hospital station" in alice.last_text()
    await alice.tap("Stay dates")
    await alice.tap("I'm here now")
    await alice.tap("◀ Back")  # back to the stay question, not out of the edit
    assert "When are you in the city" in alice.last_text()
    await alice.tap("I'm here now")
    await alice.send("2027-02-28")
    talent = await harness.services.talents.by_telegram_id(alice.id)
    assert talent.station_id == station.id
    assert (talent.stay_from, talent.stay_to) == (date(2026, 11, 26), date(2027, 2, 28))


async def test_edit_cancel(harness):
    alice = harness.user()
    await register(harness, alice)
    await alice.send("/profile")
    await alice.tap("Home region")
    await alice.send("/cancel")
    assert alice.last_text() == "Nothing was changed."


async def test_forged_edit_button(harness):
    alice = harness.user()
    await register(harness, alice)
    await alice.send("/profile")
    await alice.press("prof:edit:telegram_id", forge=True)
    assert (
        alice.last_text()
        == "That button has expired; please use the buttons of the newest message."
    )
    bob = harness.user("Bob")
    await bob.send("/help")
    await bob.press("prof:edit:name", forge=True)  # not registered
    assert (
        bob.last_text() == "That button has expired; please use the buttons of the newest message."
    )


async def test_language_switch_changes_replies_and_menu(harness):
    alice = harness.user(language="en")
    await register(harness, alice)
    await alice.send("/language")
    await alice.tap("中文")
    assert alice.texts()[-2] == "好的，接下来我会用中文与您交流。"
    # The home screen again, with its buttons in the new language.
    assert alice.last_text().startswith("Wang Li，欢迎您！")
    assert alice.reply_keyboard()[:2] == ["活动", "我的报名"]
    assert (await harness.services.talents.by_telegram_id(alice.id)).language == "zh"
    menu = sent_to(harness.api, "setMyCommands")[-1]
    assert menu["scope"] == {"type": "chat", "chat_id": alice.id}
    assert menu["commands"][0] == {"command": "start", "description": "开始，或回到主页"}
    await alice.send("/help")
    assert alice.last_text().startswith("您可以使用的功能")


async def test_language_choice_before_registration_is_kept(harness):
    pierre = harness.user("Pierre", language=None)
    await pierre.send("/language")
    await pierre.tap("English")
    await pierre.send("/start")
    assert "Privacy notice" in pierre.last_text()  # not asked for the language again


async def test_help_lists_what_each_user_may_use(harness):
    alice = harness.user()
    await alice.send("/help")
    assert "/profile — See and edit your profile" in alice.last_text()
    assert "/admin" not in alice.last_text()
    admin = harness.admin()
    await admin.send("/help")
    assert "/admin — Stations, invitations and settings" in admin.last_text()


async def test_default_menus_are_set_per_language_at_start(harness):
    menus = sent_to(harness.api, "setMyCommands")
    by_language = {m.get("language_code", ""): m for m in menus[:3]}
    assert set(by_language) == {"zh", "en", ""}
    assert by_language["en"]["commands"][0]["description"] == "Start, or go to your home screen"
    assert (
        by_language[""]["commands"][0]["description"] == "开始，或回到主页"
    )  # the default locale
    assert all("admin" not in [c["command"] for c in m["commands"]] for m in menus[:3])
    assert ADMIN_ID not in [m.get("scope", {}).get("chat_id") for m in menus]


async def test_free_text_and_unknown_commands(harness):
    alice = harness.user()
    await alice.send("hello?")
    assert alice.last_text() == "Welcome! Send /start to register with the talent programme."
    await register(harness, alice)
    await alice.send("hello?")
    assert alice.last_text().startswith("I didn't understand that.")
    await alice.send_sticker()
    assert alice.last_text().startswith("I didn't understand that.")
    await alice.send("/frobnicate")
    assert alice.last_text().startswith("I don't know that command.")
    await alice.send("/cancel")
    assert alice.last_text() == "There is nothing to cancel right now."


async def test_blocking_and_coming_back(harness):
    alice = harness.user()
    await register(harness, alice)
    await alice.block()
    assert (await harness.services.talents.by_telegram_id(alice.id)).reachable is False
    await alice.send("/start")
    assert (await harness.services.talents.by_telegram_id(alice.id)).reachable is True


async def test_error_handler_answers_briefly_and_logs(harness, caplog, monkeypatch):
    alice = harness.user()

    async def broken(*args, **kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(harness.services.stations, "list", broken)
    await walk_to_station(harness, alice)
    text = alice.last_text()
    assert text.startswith(
        "Sorry, something went wrong on our side. Please try again in a moment."
    )
    assert "database on fire" not in text
    # The apology names the update, and so does the log line with the traceback.
    ref = text.rsplit("this number: ", 1)[1].rstrip(".")
    [record] = [r for r in caplog.records if "database on fire" in (r.exc_text or "")]
    assert record.getMessage() == f"unhandled error while handling update {ref}"
    assert [type(e) for e in harness.errors] == [RuntimeError]
    harness.errors.clear()


async def walk_to_station(harness, user):
    from tests.support.flows import walk_to

    await walk_to(harness, user, "station")


async def test_groups_are_ignored(harness):
    before = len(harness.api.calls)
    update = {
        "update_id": 1,
        "message": {
            "message_id": 1,
            "date": 0,
            "chat": {"id": -100, "type": "group", "title": "g"},
            "from": {"id": 5, "is_bot": False, "first_name": "G"},
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }
    await harness.app.process_update(Update.de_json(update, harness.app.bot))
    assert len(harness.api.calls) == before


async def test_error_handler_ignores_forbidden_and_answers_other_errors(harness):
    from telegram.error import Forbidden

    alice = harness.user()
    await alice.send("/help")
    update = Update.de_json(harness.api.user_message(alice.user, text="hi"), harness.app.bot)
    before = alice.mark()
    await harness.app.process_error(update, Forbidden("Forbidden: bot was blocked by the user"))
    assert alice.mark() == before
    await harness.app.process_error(update, ValueError("internal detail"))
    assert alice.texts(before) == [
        "Sorry, something went wrong on our side. Please try again in a moment. If you need"
        f" help, tell the office this number: {update.update_id}."
    ]
    harness.errors.clear()
