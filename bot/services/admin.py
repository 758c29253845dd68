"""Stations and invitations: what admins manage, and what an invitation grants."""

from __future__ import annotations

import secrets
from datetime import timedelta

from bot.clock import Clock
from bot.services.errors import NotAllowed
from bot.services.people import Viewer
from bot.services.profile import clean_text
from storage.models import Invitation, RoleName, Station, StationKind
from storage.roles import InvitationRepository, RedeemOutcome
from storage.stations import StationRepository

INVITATION_PREFIX = "inv-"
INVITATION_VALID = timedelta(days=14)
STATION_NAME_MAX = 60


class AdminService:
    def __init__(
        self, *, stations: StationRepository, invitations: InvitationRepository, clock: Clock
    ) -> None:
        self.stations = stations
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
