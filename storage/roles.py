"""Roles of talents at stations, and the one-time invitations that grant them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from storage.database import Database, utc_text
from storage.models import Invitation, Role, RoleName
from storage.talents import ensure_talent


class RedeemOutcome(StrEnum):
    GRANTED = "granted"
    ALREADY_HAD = "already_had"
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"


class RoleRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def of_telegram_user(self, telegram_id: int) -> list[Role]:
        """Return every role held by the talent with this Telegram id."""
        rows = await self.db.fetch_all(
            "SELECT roles.* FROM roles JOIN talents ON talents.id = roles.talent_id"
            " WHERE talents.telegram_id = ? ORDER BY roles.station_id, roles.role",
            (telegram_id,),
        )
        return [Role(**dict(row)) for row in rows]

    async def holders(self, station_id: int, role: RoleName) -> list[int]:
        """Return the talent ids holding ``role`` at ``station_id``."""
        rows = await self.db.fetch_all(
            "SELECT talent_id FROM roles WHERE station_id = ? AND role = ? ORDER BY talent_id",
            (station_id, role),
        )
        return [row[0] for row in rows]


class InvitationRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(
        self,
        *,
        token: str,
        station_id: int,
        role: RoleName,
        created_by: int,
        now: datetime,
        expires_at: datetime,
    ) -> Invitation:
        """Store a new invitation and return it."""
        invitation_id = await self.db.execute(
            "INSERT INTO invitations (token, station_id, role, created_by, created_at, expires_at)"
            " VALUES (:token, :station, :role, :by, :now, :expires)",
            {
                "token": token,
                "station": station_id,
                "role": role,
                "by": created_by,
                "now": utc_text(now),
                "expires": utc_text(expires_at),
            },
        )
        row = await self.db.fetch_one("SELECT * FROM invitations WHERE id = ?", (invitation_id,))
        return Invitation(**dict(row))

    async def get(self, token: str) -> Invitation | None:
        """Return the invitation with this token, or None."""
        row = await self.db.fetch_one("SELECT * FROM invitations WHERE token = ?", (token,))
        return None if row is None else Invitation(**dict(row))

    async def redeem(
        self, token: str, telegram_id: int, *, now: datetime
    ) -> tuple[RedeemOutcome, Invitation | None]:
        """Use the invitation for this user, granting its role, all in one transaction.

        The conditional UPDATE is what makes an invitation one-time even when two people open
        the same link at the same moment.
        """
        async with self.db.transaction() as tx:
            row = await tx.fetch_one("SELECT * FROM invitations WHERE token = ?", (token,))
            if row is None:
                return RedeemOutcome.UNKNOWN, None
            invitation = Invitation(**dict(row))
            if invitation.used_at is not None:
                # The person who used it may open their link again; tell them they have the role.
                mine = await tx.fetch_one(
                    "SELECT 1 FROM talents WHERE id = ? AND telegram_id = ?",
                    (invitation.used_by, telegram_id),
                )
                return (RedeemOutcome.ALREADY_HAD if mine else RedeemOutcome.USED), invitation
            if invitation.expires_at <= now:
                return RedeemOutcome.EXPIRED, invitation
            talent_id = await ensure_talent(tx, telegram_id, now=now)
            granted = await tx.execute_rowcount(
                "INSERT INTO roles (talent_id, station_id, role, granted_by, granted_at)"
                " VALUES (:talent, :station, :role, :by, :now)"
                " ON CONFLICT (talent_id, station_id, role) DO NOTHING",
                {
                    "talent": talent_id,
                    "station": invitation.station_id,
                    "role": invitation.role,
                    "by": invitation.created_by,
                    "now": utc_text(now),
                },
            )
            await tx.execute(
                "UPDATE invitations SET used_by = :talent, used_at = :now"
                " WHERE id = :id AND used_at IS NULL",
                {"talent": talent_id, "now": utc_text(now), "id": invitation.id},
            )
        outcome = RedeemOutcome.GRANTED if granted else RedeemOutcome.ALREADY_HAD
        return outcome, invitation
