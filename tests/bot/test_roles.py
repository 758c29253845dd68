"""Roles can be taken away and invitations withdrawn, and what they allowed stops at once."""

import re
from datetime import timedelta

import pytest

from localapi.chat import sent_to
from storage.models import RoleName
from tests.bot.test_activities import make_activity
from tests.support.flows import add_station, make_coordinator, register
from tests.support.harness import ADMIN_ID, START

LINK = re.compile(r"https://t\.me/talentbot_test\?start=(inv-[A-Za-z0-9_-]+)")


async def invite(harness, station, role=RoleName.COORDINATOR):
    admin = await harness.services.people.viewer(ADMIN_ID, "en")
    return await harness.services.admin.create_invitation(admin, station_id=station.id, role=role)


def menu_of(harness, user) -> list[str]:
    """The commands in the user's own menu, as last set."""
    menus = sent_to(harness.api, "setMyCommands", scope={"type": "chat", "chat_id": user.id})
    return [command["command"] for command in menus[-1]["commands"]]


async def test_admin_ends_a_coordinators_role(harness):
    hub = await add_station(harness)
    carol = harness.user("Carol")
    await register(harness, carol)  # her name is "Wang Li"
    await carol.send(f"/start inv-{(await invite(harness, hub)).token}")
    await invite(harness, hub, RoleName.PARTNER)  # an open invitation, listed too
    assert "manage" in menu_of(harness, carol)

    admin = harness.admin()
    await admin.send("/admin")
    await admin.tap("👥 Roles and invitations")
    assert admin.last_text() == "Whose roles and invitations do you want to see?"
    await admin.tap("Downtown hub")
    assert admin.last_text() == (
        "Downtown hub\nCoordinators:\n• Wang Li · since Nov 26, 2026\nPartners:\n—\n"
        "Open invitations:\n• partner, expires Dec 10, 2026\n\n"
        "Tap a person to end their role, or an invitation to withdraw it."
    )
    assert admin.buttons() == [
        "✖ Wang Li · coordinator",
        "🗑 Withdraw: partner, expires Dec 10, 2026",
        "◀ Back",
    ]
    await admin.tap("✖ Wang Li · coordinator")
    assert admin.last_text() == (
        "End the role of Wang Li as coordinator of Downtown hub? They are told, and lose "
        "what the role allows at once. Their profile and points stay."
    )
    await admin.tap("No, keep it")
    assert await harness.services.roles.of_telegram_user(carol.id) != []
    await admin.tap("✖ Wang Li · coordinator")
    await admin.tap("Yes, end the role")
    assert "Done: Wang Li is no longer a coordinator of Downtown hub." in admin.texts()
    assert admin.last_text().startswith("Downtown hub\nCoordinators:\n—\n")

    assert carol.last_text() == (
        "The programme office has ended your role as coordinator of Downtown hub. Thank you "
        "for your work! Your profile and points stay as they were."
    )
    assert "manage" not in menu_of(harness, carol) and "points" in menu_of(harness, carol)
    assert await harness.services.roles.of_telegram_user(carol.id) == []
    talent = await harness.services.talents.by_telegram_id(carol.id)
    assert talent.registered and talent.name == "Wang Li"
    [record] = await harness.services.db.fetch_all("SELECT * FROM role_revocations")
    assert (record["talent_id"], record["station_id"], record["role"]) == (
        talent.id,
        hub.id,
        "coordinator",
    )
    assert (record["revoked_by"], record["revoked_at"], record["reason"]) == (
        ADMIN_ID,
        START.isoformat(),
        "revoked",
    )


async def test_a_revoked_coordinators_old_buttons_are_refused(harness):
    hub = await add_station(harness)
    activity = await make_activity(harness, hub)
    coco = await make_coordinator(harness, hub)
    await coco.send("/manage")
    await coco.tap(next(b for b in coco.buttons() if b.endswith(f" · {activity.title}")))
    card = coco.messages()[-1]["message_id"]
    assert "📣 Message those signed up" in coco.buttons()
    await coco.send("/broadcast")
    await coco.send("Meet at nine.")
    assert coco.last_text() == "Only talents with a certain field of expertise?"

    before = await harness.services.db.fetch_value("SELECT count(*) FROM broadcasts")
    [role] = await harness.services.roles.of_telegram_user(coco.id)
    admin = harness.admin()
    await admin.send("/admin")
    await admin.press(f"adm:rv:{role.id}", forge=True)
    await admin.tap("Yes, end the role")

    refused = "Sorry, you are not allowed to do that."
    await coco.tap("Any field")  # the broadcast dialog's next step
    assert coco.alerts()[-1] == refused
    [card_message] = [m for m in coco.messages() if m["message_id"] == card]
    old_buttons = [
        button["callback_data"]
        for row in card_message["reply_markup"]["inline_keyboard"]
        for button in row
    ]
    assert len(old_buttons) == 6 and f"bc:act:{activity.id}" in old_buttons
    for data in old_buttons:
        await coco.press(data, message_id=card)
        assert coco.alerts()[-1] == refused, data
    for command in ("/manage", "/broadcast", "/new_activity", "/verify ABC-DEF-234"):
        await coco.send(command)
        assert coco.last_text() == refused, command
    assert await harness.services.db.fetch_value("SELECT count(*) FROM broadcasts") == before
    unchanged = await harness.services.activities.activities.get(activity.id)
    assert unchanged.status == "published"


async def test_a_revoked_partner_can_no_longer_verify(harness):
    hotel = await add_station(harness, "Spa hotel", "温泉酒店")
    desk = harness.user("Desk", language="zh")
    await desk.send(f"/start inv-{(await invite(harness, hotel, RoleName.PARTNER)).token}")
    admin = harness.admin(language="zh")
    await admin.send("/admin")
    await admin.tap("👥 身份与邀请")
    await admin.tap("温泉酒店")
    # Named by the Telegram first name the bot saw, before any profile exists.
    assert "合作商家：\n• Desk · 2026年11月26日 起" in admin.last_text()
    await admin.tap("✖ Desk · 合作商家")
    assert admin.last_text().startswith("确定取消 Desk 在")
    confirmation = admin.messages()[-1]
    yes = confirmation["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    await admin.tap("确定取消")
    assert desk.last_text() == (
        "人才办公室已取消您在温泉酒店的合作商家身份。感谢您的付出！您的资料和积分保持不变。"
    )
    assert "verify" not in menu_of(harness, desk)
    await desk.send("/verify ABC-DEF-234")
    assert desk.last_text() == "抱歉，您没有权限进行此操作。"
    # The old confirmation does nothing a second time, nor to a role given again later (which
    # SQLite may give the same id).
    harness.clock.advance(timedelta(minutes=5))
    await desk.send(f"/start inv-{(await invite(harness, hotel, RoleName.PARTNER)).token}")
    await admin.press(yes, message_id=confirmation["message_id"], forge=True)
    assert admin.alerts()[-1] == "这个身份已经取消了。"
    [again] = await harness.services.roles.of_telegram_user(desk.id)
    assert f"adm:rvy:{again.id}:" in yes  # the same id, a newer grant: it stays


async def test_an_unused_invitation_can_be_withdrawn(harness):
    await add_station(harness)
    admin = harness.admin()
    await admin.send("/admin")
    await admin.tap("🎟 Invitation link")
    await admin.tap("Downtown hub")
    await admin.tap("coordinator")
    payload = LINK.search(admin.last_text()).group(1)
    await admin.send("/admin")
    await admin.tap("👥 Roles and invitations")
    await admin.tap("Downtown hub")
    await admin.tap("🗑 Withdraw: coordinator, expires Dec 10, 2026")
    assert admin.alerts()[-1] == "Withdrawn: the link no longer works."
    assert "Open invitations:\n—" in admin.last_text()
    [row] = await harness.services.db.fetch_all(
        "SELECT withdrawn_by, withdrawn_at, used_at FROM invitations"
    )
    assert tuple(row) == (ADMIN_ID, START.isoformat(), None)

    for language, expected in (
        ("en", "This invitation was withdrawn. Please ask the programme office for a new one."),
        ("zh", "这个邀请已被撤回，请向人才办公室索取新的链接。"),
    ):
        eve = harness.user("Eve", language=language)
        await eve.send(f"/start {payload}")
        assert eve.last_text() == expected
        assert await harness.services.roles.of_telegram_user(eve.id) == []
    invitation_id = await harness.services.db.fetch_value("SELECT id FROM invitations")
    await admin.press(f"adm:wd:{invitation_id}", forge=True)
    assert admin.alerts()[-1] == "This invitation was already used or withdrawn."


async def test_a_used_invitation_cannot_be_withdrawn(harness):
    hub = await add_station(harness)
    invitation = await invite(harness, hub)
    carol = harness.user("Carol")
    await carol.send(f"/start inv-{invitation.token}")
    admin = harness.admin()
    await admin.send("/admin")
    await admin.press(f"adm:wd:{invitation.id}", forge=True)
    assert admin.alerts()[-1] == "This invitation was already used or withdrawn."
    assert len(await harness.services.roles.of_telegram_user(carol.id)) == 1


@pytest.mark.parametrize(
    "data", ["adm:roles", "adm:ppl:1", "adm:rv:1", "adm:rvy:1:1764122400", "adm:wd:1"]
)
async def test_only_admins_see_and_end_roles(harness, data):
    hub = await add_station(harness)
    mallory = await make_coordinator(harness, hub, first_name="Mallory")
    await invite(harness, hub)
    await mallory.press(data, forge=True)
    assert mallory.alerts()[-1] == "Sorry, you are not allowed to do that."
    assert len(await harness.services.roles.of_telegram_user(mallory.id)) == 1
    assert await harness.services.db.fetch_value(
        "SELECT count(*) FROM invitations WHERE withdrawn_at IS NULL"
    ) == 2  # fmt: skip
    assert not any(LINK.search(text) for text in mallory.texts())
