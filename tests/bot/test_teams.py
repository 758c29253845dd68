"""Teams: created by staff, joined by link or added, left, messaged; leaders and party branches."""

from datetime import timedelta

import pytest

from bot.services.activities import ActivityDraft
from bot.services.errors import NotAllowed
from storage.models import TeamKind
from tests.support.flows import (
    add_station,
    make_coordinator,
    received,
    register,
    seed_talent,
    walk_to,
)
from tests.support.harness import ADMIN_ID, START


@pytest.fixture
async def city(harness):
    """Two stations with talents, and a coordinator of the first."""
    hub = await add_station(harness, "Downtown hub", "市民中心站")
    village = await add_station(harness, "Village station", "乡村振兴站")
    for telegram_id in (501, 502, 503):
        await seed_talent(harness, telegram_id, station=hub)
    await seed_talent(harness, 601, station=village)
    coordinator = await make_coordinator(harness, hub)
    return hub, village, coordinator


async def make_team(harness, station, *, kind=TeamKind.VOLUNTEER, name="Clinic volunteers"):
    """A team made by the admin (the creating dialog is tested on its own)."""
    admin = await harness.services.people.viewer(ADMIN_ID, "en")
    return await harness.services.teams.create(
        admin, name_zh="社区志愿队", name_en=name, kind=kind, station_id=station.id
    )


async def add(harness, team, telegram_id, *, leader=False):
    admin = await harness.services.people.viewer(ADMIN_ID, "en")
    talent = await harness.services.talents.by_telegram_id(telegram_id)
    await harness.services.teams.add(admin, team.id, talent.id, leader=leader)
    return talent


async def member_ids(harness, team):
    rows = await harness.services.db.fetch_all(
        "SELECT t.telegram_id, m.leader FROM team_members m JOIN talents t ON t.id = m.talent_id"
        " WHERE m.team_id = ? ORDER BY t.telegram_id",
        (team.id,),
    )
    return {row[0]: bool(row[1]) for row in rows}


def talent_user(harness, telegram_id):
    return harness.user(f"Talent {telegram_id}", id=telegram_id)


async def test_coordinator_creates_a_team_and_gets_its_link(harness, city):
    hub, _, coordinator = city
    await coordinator.send("/teams")
    await coordinator.tap("➕ New team")
    assert coordinator.last_text() == "The team's name in Chinese?"
    await coordinator.send("😀😀")
    assert "letters" in coordinator.last_text()
    await coordinator.send("银发支教队")
    await coordinator.send("Silver teachers")
    # A coordinator may not create a party branch: it is not offered.
    assert "Party branch" not in coordinator.buttons()
    await coordinator.tap("Teaching team")
    [row] = await harness.services.db.fetch_all("SELECT * FROM teams")
    assert (row["name_zh"], row["name_en"], row["kind"], row["station_id"]) == (
        "银发支教队",
        "Silver teachers",
        "teaching",
        hub.id,
    )
    assert len(row["invite_token"]) >= 22  # 128 random bits
    text = coordinator.last_text()
    assert "Silver teachers" in text and "Station: Downtown hub" in text
    assert f"?start=team-{row['invite_token']}" in text


async def test_coordinator_cannot_create_for_another_station_or_a_party_branch(harness, city):
    _, village, coordinator = city
    coco = await harness.services.people.viewer(coordinator.id, "en")
    with pytest.raises(NotAllowed):
        await harness.services.teams.create(
            coco, name_zh="队", name_en="Team", kind=TeamKind.OTHER, station_id=village.id
        )
    with pytest.raises(NotAllowed):
        await harness.services.teams.create(
            coco, name_zh="党支部", name_en="Branch", kind=TeamKind.PARTY, station_id=None
        )
    assert await harness.services.db.fetch_value("SELECT count(*) FROM teams") == 0


async def test_registered_talent_joins_by_link_and_leaves(harness, city):
    hub, _, _ = city
    team = await make_team(harness, hub)
    alice = talent_user(harness, 501)
    await alice.send(f"/start team-{team.invite_token}")
    joined = "✅ You joined the team Clinic volunteers. You find it in /profile."
    assert alice.last_text() == joined
    await alice.send(f"/start team-{team.invite_token}")
    assert alice.last_text() == "You are in the team Clinic volunteers already."
    assert await member_ids(harness, team) == {501: False}
    await alice.send("/profile")
    assert "My teams\n• Clinic volunteers" in alice.last_text()
    await alice.tap("Leave Clinic volunteers")
    assert alice.last_text().startswith("Leave the team Clinic volunteers?")
    await alice.tap("No, stay")
    assert await member_ids(harness, team) == {501: False}
    await alice.send("/profile")
    await alice.tap("Leave Clinic volunteers")
    await alice.tap("Yes, leave")
    assert alice.last_text() == "You left the team Clinic volunteers."
    assert await member_ids(harness, team) == {}
    await alice.send("/start team-NoSuchTeamTokenAtAll123")
    assert alice.last_text() == "This team link does not work. Please ask for a new one."


async def test_unregistered_person_registers_then_joins(harness, city):
    hub, _, _ = city
    team = await make_team(harness, hub)
    newcomer = harness.user("Newcomer")
    await newcomer.send(f"/start team-{team.invite_token}")
    assert newcomer.texts()[-1].startswith("To join the team, please register first")
    await walk_to(harness, newcomer, "confirm")  # /start resumes where it was left
    await newcomer.tap("✅ Confirm")
    assert newcomer.last_text() == (
        "✅ You joined the team Clinic volunteers. You find it in /profile."
    )
    talent = await harness.services.talents.by_telegram_id(newcomer.id)
    assert (await member_ids(harness, team)) == {newcomer.id: False}
    assert talent.registered


async def test_coordinator_adds_a_talent_found_by_search_and_names_a_leader(harness, city):
    hub, _, coordinator = city
    team = await make_team(harness, hub)
    await coordinator.send("/teams")
    await coordinator.tap("Clinic volunteers")
    await coordinator.tap("➕ Add a member")
    await coordinator.send("Talent 50")
    # The coordinator's search finds their station's talents only (601 is at the village).
    assert coordinator.buttons() == ["Talent 501", "Talent 502", "Talent 503"]
    await coordinator.tap("Talent 502")
    assert await member_ids(harness, team) == {502: False}
    await coordinator.tap("⭐ Make Talent 502 a leader")
    assert await member_ids(harness, team) == {502: True}
    assert "⭐ Talent 502 (leader)" in coordinator.last_text()
    # A forged pick of a talent outside the coordinator's search is refused.
    village_talent = await harness.services.talents.by_telegram_id(601)
    await coordinator.press(f"tm:pick:{team.id}:{village_talent.id}:0", forge=True)
    assert coordinator.alerts()[-1] == "Sorry, you are not allowed to do that."
    assert await member_ids(harness, team) == {502: True}


async def test_team_broadcast_reaches_exactly_its_members(harness, city):
    hub, _, coordinator = city
    team = await make_team(harness, hub)
    await add(harness, team, 501)
    await add(harness, team, 601)  # an admin adds anyone, of any station
    await coordinator.send("/teams")
    await coordinator.tap("Clinic volunteers")
    await coordinator.tap("📣 Message the team")
    await coordinator.send("Meet at the gate at 8.")
    assert "Talents it will reach: 2" in coordinator.last_text()
    assert "Team: Clinic volunteers" in coordinator.last_text()
    await coordinator.tap("📣 Send")
    await harness.outbox.drain()
    assert received(harness, 501) == ["Meet at the gate at 8."]
    assert received(harness, 601) == ["Meet at the gate at 8."]
    assert received(harness, 502) == [] and received(harness, 503) == []


async def test_leader_messages_their_team_and_nothing_more(harness, city):
    hub, _, _ = city
    team = await make_team(harness, hub)
    other = await make_team(harness, hub, name="Other team")
    await add(harness, team, 501, leader=True)
    await add(harness, team, 502)
    await add(harness, other, 503)
    leader = talent_user(harness, 501)
    await leader.send("/broadcast")
    assert leader.last_text() == "Which team do you want to message?"
    assert leader.buttons() == ["Clinic volunteers"]
    await leader.tap("Clinic volunteers")
    await leader.send("Bring water.")
    await leader.tap("📣 Send")
    assert leader.buttons() == ["⏹ Cancel broadcast"]
    await harness.outbox.drain()
    assert received(harness, 502) == ["Bring water."]
    assert received(harness, 503) == []
    # Another team, by a forged button: refused, nothing starts.
    await leader.press(f"bc:team:{other.id}", forge=True)
    assert leader.alerts()[-1] == "Sorry, you are not allowed to do that."
    await leader.send("Sneaky message")
    assert await harness.services.db.fetch_value("SELECT count(*) FROM broadcasts") == 1
    # Nor may a leader add members, name leaders, or open another team's page.
    talent = await harness.services.talents.by_telegram_id(503)
    for data in (
        f"tm:pick:{team.id}:{talent.id}:0",
        f"tm:mk:{team.id}:{talent.id}",
        f"tm:add:{team.id}",
        f"tm:v:{other.id}",
        f"na:team:{other.id}",
    ):
        await leader.press(data, forge=True)
        assert leader.alerts()[-1] == "Sorry, you are not allowed to do that."
    assert await member_ids(harness, team) == {501: True, 502: False}
    # A talent who leads nothing has no /broadcast at all.
    plain = talent_user(harness, 502)
    await plain.send("/broadcast")
    assert plain.last_text() == "Sorry, you are not allowed to do that."
    # Their own team's page shows the members and the message button only.
    await leader.send("/teams")
    await leader.tap("Clinic volunteers")
    assert leader.inline_buttons() == ["📣 Message the team", "📅 New activity for the team"]
    assert "• Talent 502" in leader.last_text()


async def test_party_branch_members_are_seen_by_leaders_and_admins_only(harness, city):
    hub, _, coordinator = city
    branch = await make_team(harness, hub, kind=TeamKind.PARTY, name="Hub party branch")
    await add(harness, branch, 501, leader=True)
    await add(harness, branch, 502)
    hidden = "Who belongs to a party branch is shown to its leaders and admins only."
    # The station's coordinator sees that it exists, not who is in it, and cannot add anyone.
    await coordinator.send("/teams")
    await coordinator.tap("Hub party branch")
    assert hidden in coordinator.last_text()
    assert "Talent 50" not in coordinator.last_text()
    assert coordinator.inline_buttons() == []
    await coordinator.press(f"bc:team:{branch.id}", forge=True)
    assert coordinator.alerts()[-1] == "Sorry, you are not allowed to do that."
    # Its leader and the admin see the members.
    leader = talent_user(harness, 501)
    await leader.send("/teams")
    await leader.tap("Hub party branch")
    assert "• Talent 502" in leader.last_text()
    admin = harness.admin()
    await admin.send("/teams")
    await admin.tap("Hub party branch")
    assert "⭐ Talent 501 (leader)" in admin.last_text() and "• Talent 502" in admin.last_text()
    # A member sees their own membership in /profile and nobody else's.
    member = talent_user(harness, 502)
    await member.send("/profile")
    assert "• Hub party branch" in member.last_text()
    assert "Talent 501" not in member.last_text()
    await member.send("/teams")
    assert member.last_text() == "You run or lead no team. Your own teams are in /profile."


async def test_mydata_has_teams_and_deleteme_removes_memberships(harness, city):
    hub, _, _ = city
    team = await make_team(harness, hub)
    talent = await add(harness, team, 501)
    data = await harness.services.privacy.privacy.export(talent.id)
    [entry] = data["teams"]
    assert (entry["name_en"], entry["kind"], entry["leader"]) == (
        "Clinic volunteers",
        "volunteer",
        0,
    )
    alice = talent_user(harness, 501)
    await alice.send("/deleteme")
    await alice.tap("🗑 Yes, erase my data")
    assert await member_ids(harness, team) == {}


async def test_registration_still_works_without_a_team(harness, city):
    await register(harness, harness.user("Plain"))


def announced(harness, telegram_id):
    return [text for text in received(harness, telegram_id) if text.startswith("📢")]


async def test_activity_open_to_one_team_only(harness, city):
    hub, _, coordinator = city
    team = await make_team(harness, hub)
    await add(harness, team, 501)
    await add(harness, team, 601)  # a member from another station is told too
    await coordinator.send("/teams")
    await coordinator.tap("Clinic volunteers")
    await coordinator.tap("📅 New activity for the team")
    await coordinator.tap("Clinics")  # the station is the team's: not asked
    await coordinator.send("Team eye clinic")
    await coordinator.send("Eye checks.")
    await coordinator.send("Hub, room 2")
    await coordinator.send("12/5 9:30")
    await coordinator.tap("2 h")
    await coordinator.send("0")
    await coordinator.tap("10")
    await coordinator.tap("Anyone")
    await coordinator.tap("📢 Publish")
    assert coordinator.last_text() == (
        "Published: Team eye clinic. It is being announced to 2 talents."
    )
    await harness.outbox.drain()
    assert len(announced(harness, 501)) == 1 and len(announced(harness, 601)) == 1
    assert announced(harness, 502) == [] and announced(harness, 503) == []
    [activity] = await harness.services.activities.activities.of_stations(None, since=START)
    assert (activity.team_id, activity.station_id) == (team.id, hub.id)
    # Only members see it in /activities.
    member, outsider = talent_user(harness, 501), talent_user(harness, 502)
    await member.send("/activities")
    assert any(label.startswith("Team eye clinic") for label in member.buttons())
    await outsider.send("/activities")
    assert not any(label.startswith("Team eye clinic") for label in outsider.buttons())
    # An outsider who opens its link is told it is for a team, and cannot sign up.
    await outsider.send(f"/start act-{activity.id}")
    assert outsider.last_text() == "This activity is open to the members of one team only."
    await outsider.press(f"act:join:{activity.id}", forge=True)
    assert outsider.alerts()[-1] == "This activity is open to the members of one team only."
    await member.send(f"/start act-{activity.id}")
    assert member.last_text().startswith(
        "Team eye clinic\nClinics · Downtown hub · Team: Clinic volunteers"
    )
    await member.tap("✅ Sign up")
    going = await harness.services.activities.activities.going_talents(activity.id)
    member_row = await harness.services.talents.by_telegram_id(501)
    assert going == [member_row.id]


async def test_leader_can_stop_their_team_message(harness, city):
    hub, _, _ = city
    team = await make_team(harness, hub)
    await add(harness, team, 501, leader=True)
    await add(harness, team, 502)
    leader = talent_user(harness, 501)
    await leader.send("/broadcast")
    await leader.tap("Clinic volunteers")
    await leader.send("Wrong day, sorry.")
    await leader.tap("📣 Send")
    await leader.tap("⏹ Cancel broadcast")
    await harness.outbox.drain()
    assert received(harness, 502) == []
    status = await harness.services.db.fetch_value("SELECT status FROM broadcasts")
    assert status == "cancelled"


async def test_leader_publishes_an_activity_for_their_team_only(harness, city):
    hub, _, _ = city
    team = await make_team(harness, hub)
    await add(harness, team, 501, leader=True)
    await add(harness, team, 502)
    leader = talent_user(harness, 501)
    await leader.send("/teams")
    await leader.tap("Clinic volunteers")
    await leader.tap("📅 New activity for the team")
    await leader.tap("Volunteer calls")
    await leader.send("Stairs for the elderly")
    await leader.send("Carry shopping upstairs.")
    await leader.send("Block 3")
    await leader.send("12/5 9:30")
    await leader.tap("2 h")
    await leader.send("0")
    await leader.tap("10")
    await leader.tap("Anyone")
    # No draft to come back to: a leader has no /manage.
    assert "💾 Save as draft" not in leader.buttons()
    await leader.tap("📢 Publish")
    assert leader.texts()[-1] == (
        "Published: Stairs for the elderly. It is being announced to 2 talents."
    )
    await harness.outbox.drain()
    assert len(announced(harness, 502)) == 1 and announced(harness, 503) == []
    [activity] = await harness.services.activities.activities.of_stations(None, since=START)
    assert (activity.team_id, activity.status) == (team.id, "published")
    # Nothing more: no /new_activity of the station, no /manage.
    await leader.send("/new_activity")
    assert leader.last_text() == "Sorry, you are not allowed to do that."
    await leader.send("/manage")
    assert leader.last_text() == "Sorry, you are not allowed to do that."


async def test_broadcast_offers_the_teams_a_coordinator_runs(harness, city):
    hub, _, coordinator = city
    team = await make_team(harness, hub)
    await make_team(harness, hub, kind=TeamKind.PARTY, name="Hub party branch")
    await add(harness, team, 503)
    await coordinator.send("/broadcast")
    # The party branch is not theirs to message.
    assert coordinator.buttons() == ["Team: Clinic volunteers", "✖ Cancel"]
    await coordinator.tap("Team: Clinic volunteers")
    await coordinator.send("Team meeting on Friday.")
    assert "Talents it will reach: 1" in coordinator.last_text()
    await coordinator.tap("📣 Send")
    await harness.outbox.drain()
    assert received(harness, 503) == ["Team meeting on Friday."]
    assert received(harness, 501) == [] and received(harness, 502) == []


async def test_team_names_with_markup_characters_show_as_typed(harness, city):
    hub, _, _ = city
    team = await make_team(harness, hub, name="Eyes & <Ears>")
    await add(harness, team, 501)
    admin = await harness.services.people.viewer(ADMIN_ID, "en")
    starts = START + timedelta(days=9)
    draft = ActivityDraft(
        station_id=hub.id, kind="clinic", title="Check", place="Hub", starts_at=starts,
        ends_at=starts + timedelta(hours=1), team_id=team.id,
    )  # fmt: skip
    activity = await harness.services.activities.create(admin, draft)
    await harness.services.activities.publish(admin, activity.id)
    member = talent_user(harness, 501)
    await member.send(f"/start act-{activity.id}")
    assert "Clinics · Downtown hub · Team: Eyes & <Ears>" in member.last_text()
    await member.send("/profile")
    assert "• Eyes & <Ears>" in member.last_text()
    admin_chat = harness.admin()
    await admin_chat.send("/broadcast")
    await admin_chat.tap("Team: Eyes & <Ears>")
    await admin_chat.send("Hello")
    assert "Team: Eyes & <Ears>" in admin_chat.last_text()
