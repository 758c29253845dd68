"""The home screen of buttons, staff without a profile, and commands that leave a question."""

import pytest
from telegram.ext import CommandHandler, ConversationHandler

from bot.services.rewards import show_code
from handlers.dialogs import LEAVING
from localapi.chat import sent_to
from storage.models import RoleName
from tests.bot.test_activities import STARTS, make_activity
from tests.bot.test_checkin import code_of
from tests.bot.test_rewards import REWARD, give_points, partner_of
from tests.support.flows import add_station, make_coordinator, register, seed_talent, walk_to
from tests.support.harness import ADMIN_ID

TALENT_EN = ["Activities", "My signups", "Points", "Rewards", "My vouchers", "My profile",
             "Settings", "Help"]  # fmt: skip
TALENT_ZH = ["活动", "我的报名", "积分", "兑换", "我的兑换券", "我的资料", "设置", "帮助"]
BUTTONS_EN = dict(zip(TALENT_EN, ["/activities", "/my", "/points", "/rewards", "/vouchers",
                                  "/profile", "/settings", "/help"], strict=True))  # fmt: skip


def keyboard_sent(harness, user):
    """The newest reply keyboard the bot sent this user, as sent."""
    sent = [
        m["reply_markup"]
        for m in sent_to(harness.api, "sendMessage", chat_id=user.id)
        if "keyboard" in (m.get("reply_markup") or {})
    ]
    return sent[-1]


@pytest.fixture
async def shop(harness):
    hotel = await add_station(harness, "Spa hotel", "温泉酒店")
    admin = await harness.services.people.viewer(ADMIN_ID, "en")
    reward = await harness.services.rewards.add(admin, {**REWARD, "station_id": hotel.id})
    return hotel, reward


# -- the home screen -------------------------------------------------------------------------


async def test_registration_ends_on_the_home_screen_with_its_buttons(harness):
    alice = harness.user()
    await register(harness, alice)
    assert alice.reply_keyboard() == TALENT_EN
    markup = keyboard_sent(harness, alice)
    assert markup["is_persistent"] is True and markup["resize_keyboard"] is True
    assert [len(row) for row in markup["keyboard"]] == [2, 2, 2, 2]
    home = alice.last_text()
    assert "Points — your points and service hours" in home
    assert "My profile — see and change your details" in home


async def test_chinese_home_screen(harness):
    wang = harness.user("王", language="zh")
    await register(harness, wang, locale="zh")
    assert wang.reply_keyboard() == TALENT_ZH
    assert "积分 — 积分和服务时长" in wang.last_text()
    before = wang.mark()
    await wang.send("/start")
    assert wang.texts(before)[0].startswith("Wang Li，欢迎您！")
    assert wang.reply_keyboard() == TALENT_ZH


@pytest.mark.parametrize(("label", "command"), BUTTONS_EN.items())
async def test_each_button_answers_as_its_command(harness, label, command):
    await add_station(harness)
    alice = harness.user()
    await register(harness, alice)
    before = alice.mark()
    await alice.send(command)
    by_command = [(m.get("text"), m.get("reply_markup")) for m in alice.messages()[before:]]
    before = alice.mark()
    await alice.tap(label)
    by_button = [(m.get("text"), m.get("reply_markup")) for m in alice.messages()[before:]]
    assert by_button == by_command and by_button


async def test_buttons_follow_the_language(harness):
    alice = harness.user()
    await register(harness, alice)
    await alice.send("积分")  # another language's label is just text
    assert alice.last_text().startswith("I didn't understand")
    await alice.send("/language")
    await alice.tap("中文")
    assert alice.reply_keyboard() == TALENT_ZH
    await alice.tap("积分")
    assert alice.last_text().startswith("我的积分：0")
    await alice.send("Points")
    assert "没有看懂" in alice.last_text()


async def test_coordinator_and_admin_rows(harness):
    hub = await add_station(harness)
    coco = await make_coordinator(harness, hub)
    await coco.tap("📝 Register as a talent")
    await register(harness, coco)
    assert coco.reply_keyboard() == [*TALENT_EN, "New activity", "Manage activities", "Broadcast"]
    await coco.tap("New activity")
    assert "What kind of activity" in coco.last_text()
    await coco.tap("Manage activities")  # leaves the new activity for /manage
    assert coco.texts()[-2] == "Cancelled; no activity was saved."
    admin = harness.admin()
    await admin.send("/start")
    assert admin.reply_keyboard() == ["New activity", "Manage activities", "Broadcast", "Admin",
                                      "Help"]  # fmt: skip
    await admin.tap("Admin")
    assert admin.last_text().startswith("Administration")


async def test_a_button_leaves_a_profile_edit(harness):
    alice = harness.user()
    await register(harness, alice)
    await alice.send("/profile")
    await alice.tap("Name")
    await alice.tap("Points")
    assert alice.texts()[-2] == "Nothing was changed."
    assert alice.last_text().startswith("Your points: 0")
    await alice.send("Help")  # the edit is over: not taken as a name
    assert (await harness.services.talents.by_telegram_id(alice.id)).name == "Wang Li"


# -- staff without a profile -----------------------------------------------------------------


async def test_admin_start_is_the_admin_home_not_the_privacy_notice(harness):
    admin = harness.admin(language="zh")
    await admin.send("/start")
    assert "隐私声明" not in " ".join(admin.texts())
    assert admin.texts()[-2].startswith("您好！\n您是人才办公室的管理员。")
    assert admin.reply_keyboard() == ["发布活动", "管理活动", "群发", "管理", "帮助"]
    assert admin.inline_buttons() == ["📝 注册为人才"]
    assert await harness.services.talents.count_registered() == 0


async def test_partner_works_the_desk_without_registering(harness, shop):
    hotel, reward = shop
    talent = await seed_talent(harness, 501)
    await give_points(harness, talent, 80)
    _, voucher, _ = await harness.services.rewards.redeem(talent.id, reward.id)
    desk = await partner_of(harness, hotel)
    await desk.send("/start")
    assert "Privacy notice" not in desk.texts()[-2]
    assert "You are a partner of Spa hotel." in desk.texts()[-2]
    assert desk.reply_keyboard() == ["Verify", "Help"]
    await desk.send(f"/verify {show_code(voucher.code)}")
    assert desk.last_text().startswith("🎟 A night at the spa hotel\nFor: Talent 501")
    await desk.tap("☑️ Mark used")
    await desk.tap("✅ Yes, mark it used")
    assert desk.alerts()[-1] == "Marked used."
    assert (await harness.services.rewards.rewards.voucher(voucher.code)).status == "used"
    # Registering as a talent is still theirs to choose, from the home screen.
    await desk.send("/start")
    await desk.tap("📝 Register as a talent")
    assert "Privacy notice" in desk.last_text()


async def test_staff_register_from_the_button_and_keep_their_row(harness, shop):
    hotel, _ = shop
    desk = await partner_of(harness, hotel)
    await desk.tap("📝 Register as a talent")
    await desk.tap("I agree")
    await desk.send("Zhao Min")
    await desk.tap("Skip")
    # The contact keyboard gives way to the desk's home buttons, not to nothing.
    assert desk.reply_keyboard() == ["Verify", "Help"]
    await desk.tap("Medicine & health")
    await desk.tap("Done")
    await desk.tap("Skip")
    await desk.send("Sanya")
    await desk.tap("Not sure yet")
    await desk.send("2026-12-01 to 2027-03-15")
    await desk.tap("✅ Confirm")
    assert desk.last_text().startswith("Welcome, Zhao Min!")
    assert desk.reply_keyboard() == [*TALENT_EN, "Verify"]


# -- commands in the middle of a question ----------------------------------------------------


async def test_points_in_the_middle_of_registration_then_start_resumes(harness):
    alice = harness.user()
    await walk_to(harness, alice, "region")
    await alice.send("/points")
    assert alice.texts()[-2:] == [
        "Registration paused; your answers so far are kept. Send /start to carry on.",
        "You have not registered yet. Send /start to register.",
    ]
    await alice.send("Harbin")  # no question is open now
    assert "Send /start to register" in alice.last_text()
    await alice.send("/start")
    assert alice.last_text().startswith("Welcome back! Let's carry on where you left off.")
    assert alice.last_text().endswith("Where do you come from (city and province)?")
    await alice.send("Harbin, Heilongjiang")
    await alice.tap("Not sure yet")
    await alice.send("2026-12-01 to 2027-03-15")
    assert "Name: Wang Li" in alice.last_text() and "Title: Chief physician" in alice.last_text()
    await alice.tap("✅ Confirm")
    assert (await harness.services.talents.by_telegram_id(alice.id)).registered


async def test_start_in_the_middle_of_registration_asks_the_same_question(harness):
    alice = harness.user()
    await walk_to(harness, alice, "title")
    before = alice.mark()
    await alice.send("/start")
    assert len(alice.texts(before)) == 1
    assert alice.last_text().startswith("Welcome back!")
    assert "professional title" in alice.last_text()


async def test_a_command_at_the_phone_question_takes_the_contact_button_away(harness):
    alice = harness.user()
    await walk_to(harness, alice, "phone")
    await alice.send("/help")
    assert alice.reply_keyboard() == []
    assert alice.last_text().startswith("What you can do")
    await alice.send("/start")
    assert "📱 Share my phone number" in alice.reply_keyboard()


async def test_cancel_still_cancels_and_forgets(harness):
    alice = harness.user()
    await walk_to(harness, alice, "region")
    await alice.send("/cancel")
    assert alice.last_text().startswith("Registration cancelled")
    await alice.send("/start")
    assert "Privacy notice" in alice.last_text()


async def test_scan_in_the_middle_of_registration_is_kept_for_the_end(harness):
    hub = await add_station(harness)
    activity = await make_activity(harness, hub)
    token = await code_of(harness, activity)
    harness.clock.set(STARTS)
    alice = harness.user()
    await walk_to(harness, alice, "region")
    await alice.send(f"/start ci-{token}")
    assert alice.last_text().startswith("Welcome! To check in, please register first")
    assert alice.last_text().endswith("Where do you come from (city and province)?")
    await alice.send("Harbin")
    await alice.tap("Downtown hub")
    await alice.send("2026-12-01 to 2027-03-15")
    await alice.tap("✅ Confirm")
    assert alice.last_text() == "✅ Checked in: Free eye clinic. +10 points; your balance is 10."
    assert alice.reply_keyboard() == TALENT_EN


async def test_a_command_leaves_another_dialog_and_can_open_one(harness):
    hub = await add_station(harness)
    coco = await make_coordinator(harness, hub)
    await coco.send("/new_activity")
    await coco.send("/points")
    assert coco.texts()[-2:] == [
        "Cancelled; no activity was saved.",
        "You have not registered yet. Send /start to register.",
    ]
    await coco.send("/new_activity")
    await coco.send("/broadcast")  # the entry of another dialog, registered before this one
    assert coco.texts()[-2] == "Cancelled; no activity was saved."
    assert "Send the message for the talents" in coco.last_text()
    await coco.send("Hello all")
    assert coco.last_text() == "Only talents with a certain field of expertise?"
    await coco.send("/cancel")
    await coco.send("Lecture")  # both dialogs are over: no question takes this
    assert coco.last_text().startswith("I didn't understand that.")
    await coco.send("/new_activity")
    await coco.send("/start")  # registration's entry, before every other dialog
    assert "Cancelled; no activity was saved." in coco.texts()[-3:]
    await coco.send("Lecture")
    assert coco.last_text().startswith("I didn't understand that.")
    assert await harness.services.db.fetch_value("SELECT count(*) FROM activities") == 0


async def test_a_command_leaves_the_admin_dialogs(harness):
    admin = harness.admin()
    await admin.send("/admin")
    await admin.tap("➕ Add station")
    await admin.send("/help")
    assert admin.texts()[-2] == "Cancelled; nothing was changed."
    assert admin.last_text().startswith("What you can do")
    await admin.send("站")
    assert admin.last_text() != "What is the station's name in English?"
    assert await harness.services.stations.list() == []


async def test_roles_show_on_the_home_of_a_registered_partner(harness):
    hotel = await add_station(harness, "Spa hotel", "温泉酒店")
    erin = harness.user("Erin")
    await register(harness, erin)
    admin = await harness.services.people.viewer(ADMIN_ID, "en")
    invitation = await harness.services.admin.create_invitation(
        admin, station_id=hotel.id, role=RoleName.PARTNER
    )
    await erin.send(f"/start inv-{invitation.token}")
    await erin.send("/start")
    assert "You are a partner of Spa hotel." in erin.last_text()
    assert "Verify — type a voucher code and mark it used" in erin.last_text()
    assert erin.reply_keyboard() == [*TALENT_EN, "Verify"]


def command_names(handlers):
    """Every command some handler answers, dialogs' entry points and fallbacks included."""
    names = set()
    for handler in handlers:
        if isinstance(handler, CommandHandler):
            names |= set(handler.commands)
        elif isinstance(handler, ConversationHandler):
            inner = [*handler.entry_points, *handler.fallbacks]
            inner += [h for state in handler.states.values() for h in state]
            names |= command_names(inner)
    return names


async def test_every_command_of_the_bot_leaves_a_question(harness):
    # A command missing from handlers.menus.COMMANDS would be "unknown" inside a dialog.
    answered = command_names(h for group in harness.app.handlers.values() for h in group)
    assert answered - {"cancel"} <= set(LEAVING), answered - set(LEAVING)
