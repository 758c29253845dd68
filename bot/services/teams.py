"""Teams: who may create and run one, who may see who belongs to it, joining and leaving.

Every rule is checked here, on every call, from the actor's roles read afresh: a handler's
buttons are only a convenience, and a forged button reaches these same checks.

- Admins run every team; a coordinator runs the teams of the stations they coordinate, except
  party branches, which only admins create and run.
- A team's leaders see its members and may message them, nothing more.
- Who belongs to a party branch is seen by its leaders and admins only (and by each member,
  of their own membership).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from bot.clock import Clock
from bot.services.errors import NotAllowed
from bot.services.people import Viewer
from bot.services.profile import parse_name
from storage.models import Audience, Team, TeamKind, TeamMember
from storage.stations import StationRepository
from storage.teams import TeamRepository

TEAM_PREFIX = "team-"
# 16 random bytes (128 bits) as 22 URL-safe characters: with the prefix well under Telegram's 64.
TOKEN_BYTES = 16
KINDS = tuple(TeamKind)
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{16,40}")


@dataclass(frozen=True, slots=True)
class TeamView:
    """A team as one viewer may see it."""

    team: Team
    size: int
    members: tuple[TeamMember, ...] | None  # None: this viewer may not see who belongs
    may_manage: bool
    may_message: bool


class TeamService:
    def __init__(
        self, *, teams: TeamRepository, stations: StationRepository, clock: Clock
    ) -> None:
        self.teams = teams
        self.stations = stations
        self.clock = clock

    # -- who may do what -----------------------------------------------------------------------

    @staticmethod
    def may_create(actor: Viewer, *, station_id: int | None, kind: TeamKind) -> bool:
        """Admins create any team; coordinators a team of their station, not a party branch."""
        if actor.is_admin:
            return True
        return (
            station_id is not None
            and kind != TeamKind.PARTY
            and station_id in actor.stations_where_coordinator()
        )

    def may_manage(self, actor: Viewer, team: Team) -> bool:
        """Whether ``actor`` may add members, name leaders and hand out the invitation link."""
        return self.may_create(actor, station_id=team.station_id, kind=team.kind)

    async def leads(self, actor: Viewer, team_id: int) -> bool:
        """Whether ``actor`` is a leader of the team."""
        if actor.talent is None or not actor.registered:
            return False
        return bool(await self.teams.membership(team_id, actor.talent.id))

    async def team(self, team_id: int) -> Team:
        """A team, or NotAllowed for one that does not exist (a forged button)."""
        team = await self.teams.get(team_id)
        if team is None:
            raise NotAllowed
        return team

    async def managed(self, actor: Viewer, team_id: int) -> Team:
        """A team ``actor`` runs; NotAllowed otherwise."""
        team = await self.team(team_id)
        if not self.may_manage(actor, team):
            raise NotAllowed
        return team

    async def view(self, actor: Viewer, team_id: int) -> TeamView:
        """The team's page for one who runs or leads it; NotAllowed for anyone else."""
        team = await self.team(team_id)
        manages = self.may_manage(actor, team)
        leads = await self.leads(actor, team_id)
        # A coordinator of the station sees a party branch exists, never who is in it.
        sees_station = team.station_id is not None and actor.may_coordinate(team.station_id)
        if not (manages or leads or sees_station):
            raise NotAllowed
        sees_members = manages or leads
        return TeamView(
            team=team,
            size=await self.teams.count(team_id),
            members=tuple(await self.teams.members(team_id)) if sees_members else None,
            may_manage=manages,
            may_message=manages or leads,
        )

    async def visible(self, actor: Viewer) -> list[Team]:
        """The teams ``actor`` runs, leads, or (coordinators) has at their stations."""
        if actor.is_admin:
            found = await self.teams.list(station_ids=None)
        else:
            found = await self.teams.list(station_ids=actor.stations_where_coordinator())
        known = {team.id for team in found}
        if actor.talent is not None and actor.registered:
            for team, leader in await self.teams.of_talent(actor.talent.id):
                if leader and team.id not in known:
                    found.append(team)
        return found

    async def messageable(self, actor: Viewer) -> list[Team]:
        """The teams ``actor`` may message: those they run and those they lead."""
        return [
            team
            for team in await self.visible(actor)
            if self.may_manage(actor, team) or await self.leads(actor, team.id)
        ]

    # -- changes -------------------------------------------------------------------------------

    async def create(
        self,
        actor: Viewer,
        *,
        name_zh: str,
        name_en: str,
        kind: TeamKind,
        station_id: int | None,
    ) -> Team:
        """Create a team with a fresh invitation link."""
        if not self.may_create(actor, station_id=station_id, kind=kind):
            raise NotAllowed
        if station_id is not None and await self.stations.get(station_id) is None:
            raise NotAllowed
        return await self.teams.create(
            name_zh=parse_name(name_zh),
            name_en=parse_name(name_en),
            kind=kind,
            station_id=station_id,
            invite_token=secrets.token_urlsafe(TOKEN_BYTES),
            created_by=actor.telegram_id,
            now=self.clock.now(),
        )

    async def add(self, actor: Viewer, team_id: int, talent_id: int, *, leader: bool) -> bool:
        """Add a talent found by the search (or a member) to the team, or name them a leader;
        False when nothing changed."""
        await self.managed(actor, team_id)
        return await self.teams.add(
            team_id, talent_id, added_by=actor.telegram_id, now=self.clock.now(), leader=leader
        )

    async def join(self, actor: Viewer, token: str) -> tuple[Team, bool] | None:
        """Join the team of an invitation link: (team, whether newly joined); None for a link
        that opens no team."""
        if actor.talent is None or not actor.registered:
            raise NotAllowed
        team = await self.teams.by_token(token)
        if team is None:
            return None
        joined = await self.teams.add(
            team.id, actor.talent.id, added_by=None, now=self.clock.now()
        )
        return team, joined

    async def leave(self, actor: Viewer, team_id: int) -> Team | None:
        """Leave one of the actor's teams; None when they were not in it."""
        team = await self.teams.get(team_id)
        if team is None or actor.talent is None:
            return None
        return team if await self.teams.remove(team_id, actor.talent.id) else None

    async def of(self, actor: Viewer) -> list[tuple[Team, bool]]:
        """The actor's own teams, each with whether they lead it."""
        if actor.talent is None or not actor.registered:
            return []
        return await self.teams.of_talent(actor.talent.id)

    async def run_or_led(self, actor: Viewer, team_id: int) -> Team:
        """A team ``actor`` runs or leads: they may message it and publish activities for it."""
        team = await self.team(team_id)
        if not (self.may_manage(actor, team) or await self.leads(actor, team_id)):
            raise NotAllowed
        return team

    async def audience(self, actor: Viewer, team_id: int, *, topic: str) -> Audience:
        """The team's members, for one who runs or leads it."""
        team = await self.run_or_led(actor, team_id)
        return Audience(topic=topic, team_id=team.id)


def parse_token(payload: str) -> str | None:
    """The token of a ``team-`` deep link, or None when the payload is not one we could make."""
    token = payload.removeprefix(TEAM_PREFIX)
    if not payload.startswith(TEAM_PREFIX) or not TOKEN_SHAPE.fullmatch(token):
        return None
    return token
