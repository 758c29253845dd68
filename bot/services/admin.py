"""Stations and invitations: what admins manage, and what an invitation grants."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.services.errors import NotAllowed
from bot.services.people import Viewer
from bot.services.profile import clean_text
from storage.models import Invitation, RoleHolder, RoleName, Station, StationKind
from storage.roles import InvitationRepository, RedeemOutcome, RoleRepository
from storage.stations import StationRepository

INVITATION_PREFIX = "inv-"
INVITATION_VALID = timedelta(days=14)
STATION_NAME_MAX = 60


class AdminService:
    def __init__(
        self,
        *,
        stations: StationRepository,
        roles: RoleRepository,
        invitations: InvitationRepository,
        clock: Clock,
    ) -> None:
        self.stations = stations
        self.roles = roles
        self.invitations = invitations
        self.clock = clock

    @staticmethod
    def _require_admin(actor: Viewer) -> None:
        if not actor.is_admin:
            raise NotAllowed

    @staticmethod
    def station_name(text: str | None) -> str:
        """Validate a station name typed by an admin."""
        return clean_text(text, max_len=STATION_NAME_MAX)

    async def add_station(
        self, actor: Viewer, *, name_zh: str, name_en: str, kind: StationKind
    ) -> Station:
        """Create a station (admins only)."""
        self._require_admin(actor)
        return await self.stations.add(
            name_zh=self.station_name(name_zh),
            name_en=self.station_name(name_en),
            kind=kind,
            created_by=actor.telegram_id,
            now=self.clock.now(),
        )

    async def rename_station(
        self, actor: Viewer, station_id: int, *, name_zh: str, name_en: str
    ) -> Station | None:
        """Give a station new names (admins only); None when it does not exist."""
        self._require_admin(actor)
        found = await self.stations.rename(
            station_id,
            name_zh=self.station_name(name_zh),
            name_en=self.station_name(name_en),
            by=actor.telegram_id,
            now=self.clock.now(),
        )
        return await self.stations.get(station_id) if found else None

    async def create_invitation(
        self, actor: Viewer, *, station_id: int, role: RoleName
    ) -> Invitation | None:
        """Make a one-time invitation (admins only); None when the station does not exist."""
        self._require_admin(actor)
        if await self.stations.get(station_id) is None:
            return None
        now = self.clock.now()
        # 16 random bytes = 128 bits; token_urlsafe stays inside the deep-link alphabet.
        return await self.invitations.create(
            token=secrets.token_urlsafe(16),
            station_id=station_id,
            role=role,
            created_by=actor.telegram_id,
            now=now,
            expires_at=now + INVITATION_VALID,
        )

    async def station_people(
        self, actor: Viewer, station_id: int
    ) -> tuple[list[RoleHolder], list[Invitation]]:
        """Who holds a role at a station, and its invitations still open (admins only)."""
        self._require_admin(actor)
        holders = await self.roles.at_station(station_id)
        open_ = await self.invitations.open_at(station_id, now=self.clock.now())
        return holders, open_

    async def role(self, actor: Viewer, role_id: int) -> RoleHolder | None:
        """One role in force, to confirm taking it away (admins only); None when gone."""
        self._require_admin(actor)
        return await self.roles.holder(role_id)

    async def revoke_role(
        self, actor: Viewer, role_id: int, *, granted_at: datetime
    ) -> RoleHolder | None:
        """Take away the role granted at ``granted_at`` (admins only).

        Returns the holder as they were, or None when that grant had already ended. What the
        role allowed stops at once: every action reads the roles afresh.
        """
        self._require_admin(actor)
        holder = await self.roles.holder(role_id)
        if holder is None:
            return None
        revoked = await self.roles.revoke(
            role_id, granted_at=granted_at, by=actor.telegram_id, now=self.clock.now()
        )
        return holder if revoked else None

    async def withdraw_invitation(self, actor: Viewer, invitation_id: int) -> Invitation | None:
        """Withdraw an invitation nobody used (admins only); None when it was used or gone."""
        self._require_admin(actor)
        if not await self.invitations.withdraw(
            invitation_id, by=actor.telegram_id, now=self.clock.now()
        ):
            return None
        return await self.invitations.by_id(invitation_id)

    async def accept_invitation(
        self, telegram_id: int, token: str
    ) -> tuple[RedeemOutcome, Invitation | None, Station | None]:
        """Use an invitation for this user; says what happened and for which station."""
        if not token or len(token) > 60:
            return RedeemOutcome.UNKNOWN, None, None
        outcome, invitation = await self.invitations.redeem(
            token, telegram_id, now=self.clock.now()
        )
        station = await self.stations.get(invitation.station_id) if invitation else None
        return outcome, invitation, station
