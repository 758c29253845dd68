"""/mydata and /deleteme: a talent's copy of their data, and erasing it while totals stay."""

import json
from dataclasses import dataclass
from datetime import timedelta

import pytest

from bot.services.kinds import announce_topic
from localapi.chat import ChatUser, sent_to
from storage.models import Audience, RoleName, Talent
from tests.bot.test_activities import STARTS, admin_viewer, make_activity
from tests.support.flows import add_station, make_coordinator, received, register, seed_talent
from tests.support.harness import ADMIN_ID

REWARD = {
    "name_zh": "温泉酒店一晚",
    "name_en": "A night at the spa hotel",
    "cost": 20,
    "stock": 3,
    "per_talent_limit": 0,
    "valid_days": 30,
}
# What the reports count, per station: check-ins, hours (corrections applied) and points.
STATION_TOTALS = """
SELECT ac.station_id, count(*), sum(coalesce((SELECT c.hours FROM hour_corrections c
       WHERE c.attendance_id = a.id ORDER BY c.id DESC LIMIT 1), a.hours)),
       sum(ac.points)
FROM attendance a JOIN activities ac ON ac.id = a.activity_id GROUP BY ac.station_id
"""


@dataclass
class Life:
    """A talent with a bit of everything stored about them, and the people around them."""

    alice: ChatUser
    talent: Talent
    coordinator: ChatUser
    waiting: ChatUser
    hub: object
    hotel: object
    clinic: object  # an activity Alice came to
    later: object  # an upcoming activity with one place, which Alice holds
    valid_code: str
    used_code: str


@pytest.fixture
async def life(harness) -> Life:
    services = harness.services
    hub = await add_station(harness, "Downtown hub", "市民中心站")
    hotel = await add_station(harness, "Spa hotel", "温泉酒店")
    admin = await admin_viewer(harness)
    reward = await services.rewards.add(admin, {**REWARD, "station_id": hotel.id})
    clinic = await make_activity(harness, hub)
    later = await make_activity(
        harness,
        hub,
        title="Winter lecture",
        starts_at=STARTS + timedelta(days=3),
        ends_at=STARTS + timedelta(days=3, hours=2),
        capacity=1,
    )
    coordinator = await make_coordinator(harness, hub)

    alice = harness.user("Alice")
    await register(harness, alice)
    talent = await services.talents.by_telegram_id(alice.id)
    talent = await services.people.update_profile(talent.id, {"station_id": hub.id})
    hotel_invitation = await services.admin.create_invitation(
        admin, station_id=hotel.id, role=RoleName.PARTNER
    )
    await alice.send(f"/start inv-{hotel_invitation.token}")
    await services.points.adjust(admin, talent.id, 50, "Welcome gift")
    await services.preferences.toggle(talent.id, announce_topic("lecture"))
    await services.broadcast_rows.create(
        Audience(topic="news", station_ids=(hub.id,)),
        text="Hello, hub!",
        entities=None,
        photo_file_id=None,
        created_by=ADMIN_ID,
        author_locale="en",
        now=services.clock.now(),
    )
    await harness.outbox.drain()

    # The clinic: checked in, and the hours corrected by the coordinator.
    token = await services.checkins.code(admin, clinic.id)
    harness.clock.set(STARTS)
    await alice.send(f"/start ci-{token}")
    [attendance] = await services.checkins.points.attendance(clinic.id)
    coordinator_viewer = await services.people.viewer(coordinator.id, "en")
    await services.checkins.correct(coordinator_viewer, attendance.id, 1.5, "Left early")

    # The lecture: Alice has its only place, someone waits for it.
    assert await services.activities.sign_up(talent.id, later.id, waitlist=False) == "signed_up"
    other = await seed_talent(harness, 502, station=hub)
    assert await services.activities.sign_up(other.id, later.id, waitlist=True) == "waitlisted"

    # Two vouchers: one used at the desk, one still valid.
    _, used, _ = await services.rewards.redeem(talent.id, reward.id)
    _, valid, _ = await services.rewards.redeem(talent.id, reward.id)
    await services.rewards.use(admin, used.code)
    return Life(
        alice=alice,
        talent=talent,
        coordinator=coordinator,
        waiting=harness.user("Waiting", id=502),
        hub=hub,
        hotel=hotel,
        clinic=clinic,
        later=later,
        valid_code=valid.code,
        used_code=used.code,
    )


def exported(harness, user) -> dict:
    document = harness.api.bot_messages(user.id)[-1]["document"]
    assert document["file_name"].endswith(".json")
    return json.loads(harness.api.file_bytes(document["file_id"]).decode("utf-8"))


async def test_mydata_sends_everything_stored_with_a_summary(harness, life):
    alice = life.alice
    await alice.send("/mydata")
    assert alice.texts()[-2] == (
        "Your data\nThe file below holds everything stored about you:\n• your profile\n"
        "• roles: 1\n• signups: 1\n• check-ins: 1 (1.5 hours of service)\n"
        "• points history: 4 entries, balance 20\n• vouchers: 2\n"
        # two activity reminders, and the notices of the corrected hours and the adjustment
        "• notifications switched off: 1\n• reminders and notices: 4\n"
        "/profile changes your details; /deleteme erases them."
    )
    document = harness.api.bot_messages(alice.id)[-1]["document"]
    assert document["file_name"] == "mydata-2026-12-05.json"
    raw = harness.api.file_bytes(document["file_id"]).decode("utf-8")
    assert "\n  " in raw  # indented, for a person to read
    data = json.loads(raw)
    profile = data["profile"]
    assert (profile["name"], profile["phone"], profile["telegram_id"]) == (
        "Wang Li",
        "+8613800138000",
        alice.id,
    )
    assert (profile["title"], profile["region"], profile["station_en"]) == (
        "Chief physician",
        "Harbin, Heilongjiang",
        "Downtown hub",
    )
    assert profile["expertise"] == ["medicine"]
    assert (profile["stay_from"], profile["stay_to"]) == ("2026-12-01", "2027-03-15")
    assert [(r["station"], r["role"]) for r in data["roles"]] == [("Spa hotel", "partner")]
    assert [(s["activity"], s["status"]) for s in data["signups"]] == [("Winter lecture", "going")]
    [visit] = data["attendance"]
    assert (visit["activity"], visit["hours_recorded"], visit["hours"]) == (
        "Free eye clinic",
        2.0,
        1.5,
    )
    assert [(c["hours"], c["reason"]) for c in visit["corrections"]] == [(1.5, "Left early")]
    assert [(e["kind"], e["delta"]) for e in data["ledger"]] == [
        ("adjust", 50),
        ("earn", 10),
        ("redeem", -20),
        ("redeem", -20),
    ]
    assert data["points_balance"] == 20
    assert sorted((v["code"], v["status"]) for v in data["vouchers"]) == sorted(
        [(life.used_code, "used"), (life.valid_code, "valid")]
    )
    assert data["notifications_turned_off"] == ["announce.lecture"]
    kinds = [r["kind"] for r in data["reminders"]]
    # The activity's two reminders, and the stored notices of the adjustment and the hours.
    assert kinds == ["adjust", "corrected", "1440m", "60m"]
    assert [m["status"] for m in data["messages_received"]] == ["sent"]
    # Staff are someone else's data: who corrected the hours is not in Alice's copy.
    assert str(life.coordinator.id) not in raw


async def test_mydata_in_chinese_and_for_strangers(harness):
    wang = harness.user("Wang", language="zh")
    await wang.send("/mydata")
    assert wang.last_text() == "我们没有保存您的任何信息。"
    await register(harness, wang, locale="zh")
    await wang.send("/mydata")
    assert wang.texts()[-2].startswith("您的信息\n下面的文件包含我们保存的您的全部信息：")
    assert "• 签到：0 次（服务 0 小时）" in wang.texts()[-2]
    assert exported(harness, wang)["profile"]["name"] == "Wang Li"


async def test_deleteme_erases_the_person_and_keeps_every_total(harness, life):
    services, db = harness.services, harness.services.db
    alice, talent = life.alice, life.talent
    totals = await db.fetch_all(STATION_TOTALS)
    ledger_before = [tuple(r) for r in await db.fetch_all("SELECT * FROM ledger ORDER BY id")]
    registered = await services.talents.count_registered()
    hub_audience = Audience(topic="news", station_ids=(life.hub.id,))
    audience = await services.broadcasts.count(hub_audience)
    # Alice is a coordinator too: staff names seen on Telegram are kept to show who did what.
    await services.talents.remember_first_name(alice.id, "Ally", now=harness.clock.now())

    await alice.send("/deleteme")
    assert alice.last_text() == (
        "Erase your personal data?\nThis erases for good: your name, phone number, title, "
        "home region, fields of expertise, stay dates and the link to your Telegram account; "
        "your signups for what is still to come, applications, reminders, teams and any role "
        "at a station. Valid vouchers are cancelled, and your 20 points can no longer be "
        "used.\nWhat stays, "
        "without your name: your check-ins, signups for activities already over, service "
        "hours and points history, so that the stations' totals stay right.\nAfterwards the "
        "bot no longer knows you. You can register again as a new person."
    )
    assert alice.buttons() == ["🗑 Yes, erase my data", "No, keep my data"]
    harness.clock.advance(timedelta(hours=1))
    await alice.tap("🗑 Yes, erase my data")
    assert alice.last_text().startswith("Your personal data has been erased.")
    assert await services.talents.display_names([alice.id]) == {alice.id: None}

    # The row and its id stay, with nothing personal in it.
    row = dict(await db.fetch_one("SELECT * FROM talents WHERE id = ?", (talent.id,)))
    for column in ("telegram_id", "name", "phone", "title", "region", "stay_from", "stay_to",
                   "language", "consent_at", "registered_at"):  # fmt: skip
        assert row[column] is None, column
    assert row["deleted_at"] == services.clock.now().isoformat()
    assert await services.talents.by_telegram_id(alice.id) is None
    for table in ("talent_expertise", "notification_optouts", "signups", "reminders",
                  "deliveries", "roles"):  # fmt: skip
        count = await db.fetch_value(f"SELECT count(*) FROM {table} WHERE talent_id = ?",
                                     (talent.id,))  # fmt: skip
        assert count == 0, table
    [ended] = await db.fetch_all("SELECT * FROM role_revocations")
    assert (ended["role"], ended["revoked_by"], ended["reason"]) == (
        "partner",
        None,
        "account_deleted",
    )
    # Every station's totals, and every ledger line, are as they were; the valid voucher was
    # cancelled by the usual rule, which gives the stock back (and refunds, to nobody's use).
    assert await db.fetch_all(STATION_TOTALS) == totals
    ledger_after = [tuple(r) for r in await db.fetch_all("SELECT * FROM ledger ORDER BY id")]
    assert ledger_after[: len(ledger_before)] == ledger_before
    assert [(r[2], r[3]) for r in ledger_after[len(ledger_before) :]] == [(20, "refund")]
    valid = await services.rewards.rewards.voucher(life.valid_code)
    assert valid.status == "cancelled"
    reward = await services.rewards.rewards.get(valid.reward_id)
    assert reward.stock == 2
    # Nobody counts or reaches the deleted row any more.
    assert await services.talents.count_registered() == registered - 1
    assert await services.broadcasts.count(hub_audience) == audience - 1
    # The place Alice held went to the first on the waitlist, who was told, with reminders.
    assert received(harness, 502)[-1].startswith(
        "🎉 A place became free and it is yours: Winter lecture"
    )
    signups = await services.activities.activities.signups(life.later.id)
    assert [(s.telegram_id, s.status) for s in signups] == [(502, "going")]
    reminders = await services.reminder_rows.of_subject("activity", life.later.id)
    assert {(r.telegram_id, r.status) for r in reminders} == {(502, "pending")}
    # The menu is the everyone-menu again.
    assert sent_to(harness.api, "deleteMyCommands", scope={"type": "chat", "chat_id": alice.id})


async def test_after_erasing_the_bot_does_not_know_them_and_they_may_start_over(harness, life):
    alice = life.alice
    await alice.send("/deleteme")
    confirmation = alice.messages()[-1]
    await alice.tap("🗑 Yes, erase my data")
    await alice.send("/points")
    assert alice.last_text() == "You have not registered yet. Send /start to register."
    await alice.send("/verify ABC-DEF-234")  # the partner role went with the account
    assert alice.last_text() == "Sorry, you are not allowed to do that."
    await alice.send("/start")
    assert "Privacy notice" in alice.last_text()
    await alice.send("/cancel")
    await register(harness, alice)
    again = await harness.services.talents.by_telegram_id(alice.id)
    assert again.id != life.talent.id and again.registered
    assert await harness.services.checkins.points.balance(again.id) == 0
    # The old Yes button must not erase the new account.
    yes = confirmation["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    await alice.press(yes, message_id=confirmation["message_id"], forge=True)
    assert (
        alice.alerts()[-1]
        == "That button has expired; please use the buttons of the newest message."
    )
    assert (await harness.services.talents.by_telegram_id(alice.id)).name == "Wang Li"


async def test_staff_see_a_deleted_account_without_a_name(harness, life):
    alice = life.alice
    await alice.send("/deleteme")
    await alice.tap("🗑 Yes, erase my data")
    coordinator = life.coordinator
    await coordinator.send("/manage")
    await coordinator.press(f"mg:att:{life.clinic.id}", forge=True)
    assert "• (deleted account) — 1.5 h" in coordinator.last_text()
    admin = harness.admin(language="zh")
    await admin.send(f"/verify {life.used_code}")
    assert "持券人：（已注销）" in admin.last_text()


async def test_keeping_the_data_changes_nothing(harness, life):
    alice = life.alice
    for language, no, answer in (
        ("en", "No, keep my data", "Nothing was erased."),
        ("zh", "不删除，保留我的信息", "没有删除任何信息。"),
    ):
        await harness.services.people.update_profile(life.talent.id, {"language": language})
        await alice.send("/deleteme")
        await alice.tap(no)
        assert alice.last_text() == answer
    talent = await harness.services.talents.by_telegram_id(alice.id)
    assert talent.registered and talent.name == "Wang Li" and talent.deleted_at is None


async def test_deleteme_in_chinese_for_a_stranger_and_a_talent(harness):
    wang = harness.user("Wang", language="zh")
    await wang.send("/deleteme")
    assert wang.last_text() == "我们没有保存您的任何信息。"
    await register(harness, wang, locale="zh")
    await wang.send("/deleteme")
    assert wang.last_text().startswith("确定删除您的个人信息吗？\n将永久删除：")
    assert "您的 0 积分将无法再使用" in wang.last_text()
    await wang.tap("🗑 确定删除我的信息")
    assert wang.last_text().startswith("您的个人信息已删除。")
    assert await harness.services.talents.count_registered() == 0


async def test_the_new_commands_are_in_the_menus_and_help(harness):
    alice = harness.user("Alice")
    await alice.send("/help")
    assert "/mydata — Get a copy of everything stored about you" in alice.last_text()
    assert "/deleteme — Erase your personal data" in alice.last_text()
    for language in ("zh", "en"):
        [menu] = sent_to(
            harness.api, "setMyCommands", scope={"type": "all_private_chats"},
            language_code=language,
        )  # fmt: skip
        assert {"mydata", "deleteme"} <= {c["command"] for c in menu["commands"]}


@pytest.mark.parametrize(
    ("language", "fragments"),
    [
        ("en", ["Station coordinators: your name and home region", "see the number only masked",
                "Team leaders: who is in their team",
                "Partners (hotels, scenic spots): the name on a voucher",
                "The programme office (admins): everything.", "/mydata", "/deleteme"]),
        ("zh", ["工作站协调员：您报名或参加他们的活动时，能看到您的姓名和来源地",
                "只能看到隐去中间数字的号码",
                "团队负责人：您所在团队的成员名单",
                "合作商家（酒店、景区）：您出示的兑换券上的姓名",
                "人才办公室（管理员）：全部信息",
                "/mydata", "/deleteme"]),
    ],
)  # fmt: skip
async def test_the_privacy_notice_says_who_sees_what(harness, language, fragments):
    user = harness.user("New", language=language)
    await user.send("/start")
    for fragment in fragments:
        assert fragment in user.last_text()


async def test_erasing_is_one_transaction(harness, life, monkeypatch):
    async def power_cut(*args, **kwargs):
        raise RuntimeError("power cut half-way")

    monkeypatch.setattr("storage.privacy.revoke_in", power_cut)
    with pytest.raises(RuntimeError):
        await harness.services.privacy.erase(life.talent.id)
    talent = await harness.services.talents.by_telegram_id(life.alice.id)
    assert talent.registered and talent.name == "Wang Li"
    assert (await harness.services.rewards.rewards.voucher(life.valid_code)).status == "valid"
    signups = await harness.services.activities.activities.signups(life.later.id)
    assert [(s.telegram_id, s.status) for s in signups] == [
        (life.alice.id, "going"),
        (502, "waitlist"),
    ]
