"""Teams and who belongs to them."""

from __future__ import annotations

import json
from datetime import datetime

from storage.database import Database, utc_text
from storage.models import Team, TeamKind, TeamMember


class TeamRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(
        self,
        *,
        name_zh: str,
        name_en: str,
        kind: TeamKind,
        station_id: int | None,
        invite_token: str,
        created_by: int,
        now: datetime,
    ) -> Team:
        """Store a new team and return it."""
        team_id = await self.db.execute(
            "INSERT INTO teams (name_zh, name_en, kind, station_id, invite_token, created_by,"
            " created_at) VALUES (:zh, :en, :kind, :station, :token, :by, :now)",
            {
                "zh": name_zh,
                "en": name_en,
                "kind": kind,
                "station": station_id,
                "token": invite_token,
                "by": created_by,
                "now": utc_text(now),
            },
        )
        team = await self.get(team_id)
        assert team is not None
        return team

    async def get(self, team_id: int) -> Team | None:
        """One team, or None."""
        row = await self.db.fetch_one("SELECT * FROM teams WHERE id = ?", (team_id,))
        return None if row is None else Team(**dict(row))

    async def by_token(self, token: str) -> Team | None:
        """The team whose invitation link carries ``token``, or None."""
        row = await self.db.fetch_one("SELECT * FROM teams WHERE invite_token = ?", (token,))
        return None if row is None else Team(**dict(row))

    async def list(self, *, station_ids: list[int] | None) -> list[Team]:
        """Teams of these stations (None: every team, city-wide ones too), oldest first."""
        if station_ids is None:
            rows = await self.db.fetch_all("SELECT * FROM teams ORDER BY id")
        else:
            rows = await self.db.fetch_all(
                "SELECT * FROM teams WHERE station_id IN (SELECT value FROM json_each(?))"
                " ORDER BY id",
                (json.dumps(list(station_ids)),),
            )
        return [Team(**dict(row)) for row in rows]

    async def of_talent(self, talent_id: int) -> list[tuple[Team, bool]]:
        """The talent's teams, each with whether they lead it."""
        rows = await self.db.fetch_all(
            "SELECT t.*, m.leader AS is_leader FROM team_members m"
            " JOIN teams t ON t.id = m.team_id WHERE m.talent_id = ? ORDER BY t.id",
            (talent_id,),
        )
        found = []
        for row in rows:
            values = dict(row)
            leader = bool(values.pop("is_leader"))
            found.append((Team(**values), leader))
        return found

    async def membership(self, team_id: int, talent_id: int) -> bool | None:
        """None when the talent is not in the team, else whether they lead it."""
        value = await self.db.fetch_value(
            "SELECT leader FROM team_members WHERE team_id = ? AND talent_id = ?",
            (team_id, talent_id),
        )
        return None if value is None else bool(value)

    async def members(self, team_id: int) -> list[TeamMember]:
        """Who is in the team: leaders first, then by name."""
        rows = await self.db.fetch_all(
            "SELECT m.team_id, m.talent_id, t.name, m.leader, m.joined_at FROM team_members m"
            " JOIN talents t ON t.id = m.talent_id WHERE m.team_id = ?"
            " ORDER BY m.leader DESC, t.name, m.talent_id",
            (team_id,),
        )
        return [TeamMember(**dict(row)) for row in rows]

    async def count(self, team_id: int) -> int:
        """How many talents are in the team."""
        return await self.db.fetch_value(
            "SELECT count(*) FROM team_members WHERE team_id = ?", (team_id,)
        )

    async def add(
        self,
        team_id: int,
        talent_id: int,
        *,
        added_by: int | None,
        now: datetime,
        leader: bool = False,
    ) -> bool:
        """Put a talent in the team (as leader with ``leader``); False if they were in it and
        nothing changed."""
        async with self.db.transaction() as tx:
            added = await tx.execute_rowcount(
                "INSERT OR IGNORE INTO team_members (team_id, talent_id, leader, added_by,"
                " joined_at) VALUES (:team, :talent, :leader, :by, :now)",
                {
                    "team": team_id,
                    "talent": talent_id,
                    "leader": int(leader),
                    "by": added_by,
                    "now": utc_text(now),
                },
            )
            if added or not leader:
                return bool(added)
            return (
                await tx.execute_rowcount(
                    "UPDATE team_members SET leader = 1"
                    " WHERE team_id = ? AND talent_id = ? AND leader = 0",
                    (team_id, talent_id),
                )
                == 1
            )

    async def remove(self, team_id: int, talent_id: int) -> bool:
        """Take a talent out of the team; False if they were not in it."""
        async with self.db.transaction() as tx:
            return (
                await tx.execute_rowcount(
                    "DELETE FROM team_members WHERE team_id = ? AND talent_id = ?",
                    (team_id, talent_id),
                )
                == 1
            )
