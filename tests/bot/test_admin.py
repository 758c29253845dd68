"""/admin: stations and one-time invitations; every privileged action checked on our side."""

import re
from datetime import timedelta

import pytest

from localapi.chat import sent_to
from storage.models import RoleName
from tests.support.flows import add_station, register

LINK = re.compile(r"https://t\.me/talentbot_test\?start=(inv-[A-Za-z0-9_-]+)")


async def counts(harness):
    db = harness.services.db
    return (
        await db.fetch_value("SELECT count(*) FROM stations"),
        await db.fetch_value("SELECT count(*) FROM invitations"),
        await db.fetch_value("SELECT count(*) FROM roles"),
        await db.fetch_value("SELECT group_concat(name_en) FROM stations"),
    )


async def test_admin_adds_a_station(harness):
    admin = harness.admin()
    await admin.send("/admin")
    assert admin.last_text() == "Administration\nStations:\nnone yet"
    await admin.tap("➕ Add station")
    assert admin.last_text() == "What is the station's name in Chinese?"
    await admin.send("市民中心站")
    await admin.send("Downtown hub")
    await admin.tap("Community station")
    assert "Station added: Downtown hub." in admin.texts()
    assert admin.last_text() == "Administration\nStations:\n1. Downtown hub (Community station)"
    [station] = await harness.services.stations.list()
    assert (station.name_zh, station.name_en, station.kind) == (
        "市民中心站",
        "Downtown hub",
        "community",
    )
    assert station.created_by == admin.id


async def test_admin_renames_a_station(harness):
    station = await add_station(harness)
    admin = harness.admin(language="zh")
    await admin.send("/admin")
    await admin.tap("✏️ 重命名工作站")
    await admin.tap("市民中心站")
    assert admin.last_text() == "工作站的中文名称是？\n当前：市民中心站"
    await admin.send("中心站")
    await admin.send("Central station")
    assert "已重命名工作站：中心站。" in admin.texts()
    renamed = await harness.services.stations.get(station.id)
    assert (renamed.name_zh, renamed.name_en) == ("中心站", "Central station")


async def test_station_name_hostile_input(harness):
    admin = harness.admin()
    await admin.send("/admin")
    await admin.tap("➕ Add station")
    await admin.send_sticker()
    assert admin.texts()[-2:] == [
        "Please answer with a text message.",
        "What is the station's name in Chinese?",
    ]
    await admin.send("x" * 5000)
    assert admin.texts()[-2].startswith("That is too long (5,000 characters)")
    await admin.send("   ")
    assert admin.texts()[-2] == "This can't be empty."
    await admin.send("/nonsense")
    assert admin.texts()[-2].startswith("I don't know that command.")
    await admin.send("站")
    await admin.send("S")
    await admin.send("community")
    assert admin.texts()[-2:] == ["Please use the buttons below.", "What kind of station is it?"]
    await admin.press("adm:kind:spaceport", forge=True)
    assert (
        admin.alerts()[-1]
        == "That button has expired; please use the buttons of the newest message."
    )
    await admin.tap("✖ Cancel")
    assert admin.last_text() == "Cancelled; nothing was changed."
    assert (await counts(harness))[0] == 0


async def test_invitation_makes_a_coordinator_once(harness):
    station = await add_station(harness)
    admin = harness.admin()
    await admin.send("/admin")
    await admin.tap("🎟 Invitation link")
    await admin.tap("Downtown hub")
    assert admin.last_text() == "Invite to Downtown hub as:"
    await admin.tap("coordinator")
    text = admin.last_text()
    assert text.startswith("One-time invitation: coordinator of Downtown hub")
    assert "expires Dec 10, 2026" in text
    payload = LINK.search(text).group(1)
    assert len(payload) <= 64 and len(payload.removeprefix("inv-")) >= 22  # >= 128 random bits

    carol = harness.user("Carol")
    await carol.send(f"/start {payload}")
    # Her own home follows: the coordinator's buttons, and registering as a talent is offered.
    assert carol.texts()[-3] == "Welcome aboard! You are now a coordinator of Downtown hub."
    assert carol.texts()[-2].startswith("Hello!\nYou are a coordinator of Downtown hub.")
    assert carol.reply_keyboard() == ["New activity", "Manage activities", "Broadcast", "Help"]
    assert carol.inline_buttons() == ["📝 Register as a talent"]
    viewer = await harness.services.people.viewer(carol.id, "en")
    assert viewer.may_coordinate(station.id) and not viewer.is_admin
    menu = sent_to(harness.api, "setMyCommands", scope={"type": "chat", "chat_id": carol.id})
    assert menu, "the new coordinator's menu was not set"

    dave = harness.user("Dave")
    await dave.send(f"/start {payload}")
    assert dave.last_text().startswith("This invitation has already been used.")
    assert await harness.services.roles.of_telegram_user(dave.id) == []
    await carol.send(f"/start {payload}")
    assert carol.texts()[-3] == "You already are a coordinator of Downtown hub."


async def test_partner_invitation_for_a_registered_talent(harness):
    station = await add_station(harness)
    erin = harness.user("Erin")
    await register(harness, erin)
    invitation = await harness.services.admin.create_invitation(
        await harness.services.people.viewer(harness.admin().id, "en"),
        station_id=station.id,
        role=RoleName.PARTNER,
    )
    await erin.send(f"/start inv-{invitation.token}")
    assert erin.texts()[-2] == "Welcome aboard! You are now a partner of Downtown hub."
    assert "You are a partner of Downtown hub." in erin.last_text()
    assert erin.reply_keyboard()[-1] == "Verify"  # below her talent buttons
    roles = await harness.services.roles.of_telegram_user(erin.id)
    assert [(r.station_id, r.role) for r in roles] == [(station.id, "partner")]


async def test_unknown_and_expired_invitations(harness):
    station = await add_station(harness)
    frank = harness.user("Frank")
    await frank.send("/start inv-doesnotexist")
    assert frank.last_text().startswith("This invitation link is not valid.")
    invitation = await harness.services.admin.create_invitation(
        await harness.services.people.viewer(harness.admin().id, "en"),
        station_id=station.id,
        role=RoleName.COORDINATOR,
    )
    harness.clock.advance(timedelta(days=15))
    await frank.send(f"/start inv-{invitation.token}")
    assert frank.last_text().startswith("This invitation has expired.")
    assert await harness.services.roles.of_telegram_user(frank.id) == []


async def test_non_admin_is_refused_the_command(harness):
    await add_station(harness)
    for user in (harness.user("Talent"), await coordinator(harness)):
        before = await counts(harness)
        await user.send("/admin")
        assert user.last_text() == "Sorry, you are not allowed to do that."
        assert await counts(harness) == before


@pytest.mark.parametrize(
    "data",
    [
        "adm:menu",
        "adm:add",
        "adm:rename",
        "adm:invite",
        "adm:inv:1",
        "adm:rn:1",
        "adm:role:1:coordinator",
        "adm:role:1:partner",
        "adm:kind:community",
        "adm:cancel",
    ],
)
async def test_non_admin_is_refused_every_button(harness, data):
    await add_station(harness)
    mallory = await coordinator(harness)
    before = await counts(harness)
    await mallory.press(data, forge=True)
    # Buttons that only exist inside an admin's open dialog have expired for everyone else.
    expected = (
        "This button has expired. Send /start or /help to carry on."
        if data in ("adm:kind:community", "adm:cancel")
        else "Sorry, you are not allowed to do that."
    )
    assert mallory.alerts()[-1] == expected
    # Typing after a forged "add" must not create anything either.
    await mallory.send("Evil station")
    await mallory.send("Evil")
    assert await counts(harness) == before
    assert not any(LINK.search(text) for text in mallory.texts())


async def coordinator(harness):
    """A user holding a coordinator role (but no admin rights)."""
    station = (await harness.services.stations.list())[0]
    invitation = await harness.services.admin.create_invitation(
        await harness.services.people.viewer(harness.admin().id, "en"),
        station_id=station.id,
        role=RoleName.COORDINATOR,
    )
    user = harness.user("Mallory")
    await user.send(f"/start inv-{invitation.token}")
    return user


async def test_services_refuse_non_admins_too(harness):
    from bot.services.errors import NotAllowed
    from storage.models import StationKind

    viewer = await harness.services.people.viewer(12345, "en")
    with pytest.raises(NotAllowed):
        await harness.services.admin.add_station(
            viewer, name_zh="x", name_en="y", kind=StationKind.COMMUNITY
        )
    with pytest.raises(NotAllowed):
        await harness.services.admin.create_invitation(viewer, station_id=1, role=RoleName.PARTNER)
