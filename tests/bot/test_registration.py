"""Registration through the real Application, as a talent experiences it."""

from datetime import date

import pytest

from localapi.chat import sent_to
from tests.support.flows import (
    QUESTION,
    STEPS,
    add_station,
    label,
    make_coordinator,
    register,
    walk_to,
)


def plain(html: str) -> str:
    """Catalog HTML as Telegram shows it (tags gone)."""
    import re

    return re.sub(r"<[^>]+>", "", html)


async def test_whole_registration_in_english(harness):
    await add_station(harness, "Downtown hub", "市民中心站")
    alice = harness.user("Alice", language="en")
    await alice.send("/start")
    assert "Privacy notice" in alice.last_text()
    await alice.tap("I agree")
    assert alice.last_text() == "What is your name?"
    await alice.send("Wang Li")
    assert "share your phone number" in alice.last_text()
    assert alice.buttons() == ["📱 Share my phone number", "Skip", "◀ Back", "✖ Cancel"]
    await alice.tap("📱 Share my phone number")
    assert alice.texts()[-2] == "Noted."  # the note that takes the contact keyboard away
    assert alice.reply_keyboard() == []
    assert "fields of expertise" in alice.last_text()
    await alice.tap("Medicine & health")
    await alice.tap("Education")
    assert "✓ Medicine & health" in alice.buttons() and "✓ Education" in alice.buttons()
    await alice.tap("✓ Education")  # untick
    await alice.tap("Agriculture")
    await alice.tap("Done")
    assert "professional title" in alice.last_text()
    await alice.send("Chief physician")
    await alice.send("Harbin, Heilongjiang")
    assert "Which talent station" in alice.last_text()
    await alice.tap("Downtown hub")
    await alice.send("2026-12-01 to 2027-03-15")
    assert alice.last_text() == (
        "Please check your details\n"
        "Name: Wang Li\n"
        "Phone: +8613800138000\n"
        "Expertise: Medicine & health, Agriculture\n"
        "Title: Chief physician\n"
        "Home region: Harbin, Heilongjiang\n"
        "Station: Downtown hub\n"
        "Stay: Dec 1, 2026 – Mar 15, 2027"
    )
    await alice.tap("✅ Confirm")
    talent = await harness.services.talents.by_telegram_id(alice.id)
    assert talent.registered and talent.language == "en"
    assert talent.name == "Wang Li" and talent.phone == "+8613800138000"
    assert talent.expertise == ("agriculture", "medicine")
    assert talent.title == "Chief physician" and talent.region == "Harbin, Heilongjiang"
    assert (talent.stay_from, talent.stay_to) == (date(2026, 12, 1), date(2027, 3, 15))
    assert talent.consent_at == harness.clock.now()
    assert "you are registered" in alice.texts()[-2]
    assert alice.last_text().startswith("Welcome, Wang Li!\nStation: Downtown hub")
    # The menu of this chat is set in the talent's language.
    menus = sent_to(harness.api, "setMyCommands")
    mine = [m for m in menus if (m.get("scope") or {}).get("chat_id") == alice.id]
    assert mine and mine[-1]["commands"][0]["description"] == "Start, or go to your home screen"


async def test_whole_registration_in_chinese(harness):
    await add_station(harness, "Village station", "乡村振兴站")
    wang = harness.user("王", language="zh-hans")
    await wang.send("/start")
    assert "隐私声明" in wang.last_text()
    await wang.tap("我同意")
    assert wang.last_text() == "请问您的姓名是？"
    await wang.send("王丽")
    await wang.tap("跳过")
    await wang.tap("医疗卫生")
    await wang.tap("完成")
    await wang.tap("跳过")
    await wang.send("黑龙江哈尔滨")
    await wang.tap("乡村振兴站")
    await wang.tap("我已经在本地")
    assert "待到什么时候" in wang.last_text()
    await wang.send("3月15日")
    assert wang.last_text() == (
        "请核对您的信息\n"
        "姓名：王丽\n"
        "电话：未提供\n"
        "专业领域：医疗卫生\n"
        "职称：—\n"
        "来源地：黑龙江哈尔滨\n"
        "工作站：乡村振兴站\n"
        "居留：2026年11月26日 至 2027年3月15日"
    )
    await wang.tap("✅ 确认")
    talent = await harness.services.talents.by_telegram_id(wang.id)
    assert talent.registered and talent.language == "zh" and talent.phone is None
    assert talent.stay_from == date(2026, 11, 26)
    assert wang.last_text().startswith("王丽，欢迎您！")


async def test_unknown_telegram_language_is_asked_first(harness):
    pierre = harness.user("Pierre", language="fr")
    await pierre.send("/start")
    assert pierre.buttons()[:2] == ["中文", "English"]
    await pierre.tap("English")
    assert "Privacy notice" in pierre.last_text()
    assert (await harness.services.talents.by_telegram_id(pierre.id)).language == "en"
    await pierre.tap("◀ Back")
    assert pierre.buttons()[:2] == ["中文", "English"]


async def test_refusing_consent_stores_nothing(harness):
    bob = harness.user("Bob")
    await bob.send("/start")
    await bob.tap("I do not agree")
    assert "Without your consent" in bob.last_text()
    assert await harness.services.talents.by_telegram_id(bob.id) is None


@pytest.mark.parametrize(
    ("choice", "how", "answer"),
    [
        ("English", "decline", "Without your consent we cannot register you, and nothing"),
        ("中文", "decline", "未经您的同意我们无法为您注册，也没有保存任何信息。"),
        ("English", "cancel", "Registration cancelled; nothing was stored."),
    ],
)
async def test_a_language_chosen_before_declining_is_not_kept(harness, choice, how, answer):
    """Choosing a language stores it; declining the notice (or cancelling) must undo that."""
    db = harness.services.db
    pierre = harness.user("Pierre", language="fr")
    await pierre.send("/start")
    assert await db.fetch_value("SELECT count(*) FROM talents") == 0
    await pierre.tap(choice)
    assert await db.fetch_value("SELECT count(*) FROM talents") == 1
    if how == "decline":
        await pierre.tap("我不同意" if choice == "中文" else "I do not agree")
    else:
        await pierre.send("/cancel")
    assert answer in pierre.last_text()
    assert await db.fetch_value("SELECT count(*) FROM talents") == 0
    await pierre.send("/start")  # a stranger again: the language is asked anew
    assert pierre.buttons()[:2] == ["中文", "English"]


async def test_declining_keeps_the_role_an_invitation_gave(harness):
    station = await add_station(harness)
    carol = await make_coordinator(harness, station)
    await carol.send("/start")  # staff get their own home, with a way to register as a talent
    await carol.tap("📝 Register as a talent")
    await carol.tap("I do not agree")
    roles = await harness.services.roles.of_telegram_user(carol.id)
    assert [(r.station_id, r.role) for r in roles] == [(station.id, "coordinator")]


@pytest.mark.parametrize("step", STEPS[1:])
async def test_back_returns_to_the_previous_question(harness, step):
    alice = harness.user()
    await walk_to(harness, alice, step)
    await alice.tap("◀ Back")
    previous = STEPS[STEPS.index(step) - 1]
    assert plain(label(harness, "en", QUESTION[previous])) in alice.last_text()


async def test_back_keeps_earlier_answers(harness):
    alice = harness.user()
    await walk_to(harness, alice, "confirm")
    await alice.tap("◀ Back")  # to the stay question
    await alice.send("2026-12-10 to 2027-02-01")
    assert "Name: Wang Li" in alice.last_text()
    assert "Stay: Dec 10, 2026 – Feb 1, 2027" in alice.last_text()


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("how", ["command", "button"])
async def test_cancel_at_every_step(harness, step, how):
    alice = harness.user()
    await walk_to(harness, alice, step)
    if how == "command":
        await alice.send("/cancel")
    else:
        await alice.tap("✖ Cancel")
    assert (
        alice.last_text()
        == "Registration cancelled; nothing was stored. Send /start to begin again."
    )
    talent = await harness.services.talents.by_telegram_id(alice.id)
    assert talent is None or not talent.registered
    await alice.send("hello")  # the dialog is over: free text gets the general answer
    assert "Send /start to register" in alice.last_text()


async def test_cancel_at_the_phone_step_removes_the_contact_keyboard(harness):
    alice = harness.user()
    await walk_to(harness, alice, "phone")
    await alice.send("/cancel")
    assert alice.reply_keyboard() == []


async def test_registered_user_gets_the_home_screen(harness):
    alice = harness.user()
    await register(harness, alice)
    before = alice.mark()
    await alice.send("/start")
    assert alice.texts(before) == [
        "Welcome, Wang Li!\nStation: not chosen yet\n\nTap a button below:\n"
        "Activities — upcoming activities to sign up for\n"
        "My signups — your places and waitlist places\n"
        "Points — your points and service hours\n"
        "Rewards — spend points on gifts\n"
        "My vouchers — show a voucher you redeemed\n"
        "My profile — see and change your details\n"
        "Settings — what you hear about\n"
        "Help — everything you can do\n\n"
        "/language — 切换语言 · Language"
    ]
    assert await harness.services.talents.count_registered() == 1


async def test_old_confirm_button_after_registration_does_nothing(harness):
    alice = harness.user()
    await walk_to(harness, alice, "confirm")
    confirm_message = alice.messages()[-1]["message_id"]
    await alice.tap("✅ Confirm")
    registered = await harness.services.talents.by_telegram_id(alice.id)
    await alice.press("reg:11:confirm", message_id=confirm_message)
    assert alice.alerts()[-1] == "This button has expired. Send /start or /help to carry on."
    again = await harness.services.talents.by_telegram_id(alice.id)
    assert again.updated_at == registered.updated_at
