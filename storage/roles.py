"""Roles of talents at stations, and the one-time invitations that grant them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from storage.database import Database, Transaction, utc_text
from storage.models import Invitation, Role, RoleHolder, RoleName
from storage.talents import ensure_talent


class RedeemOutcome(StrEnum):
    GRANTED = "granted"
    ALREADY_HAD = "already_had"
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"


# Who holds a role, by the name in their profile, else the Telegram first name the bot
# remembered for staff (see PeopleService.seen), so an admin reads a name, not a number.
_HOLDERS = (
    "SELECT r.*, coalesce(nullif(t.name, ''), n.first_name) AS name, t.telegram_id"
    " FROM roles r JOIN talents t ON t.id = r.talent_id"
    " LEFT JOIN telegram_names n ON n.telegram_id = t.telegram_id"
)


def _holder(row: Mapping[str, Any]) -> RoleHolder:
    values = dict(row)
    name, telegram_id = values.pop("name"), values.pop("telegram_id")
    return RoleHolder(role=Role(**values), name=name, telegram_id=telegram_id)


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

    async def at_station(self, station_id: int) -> list[RoleHolder]:
        """The roles in force at a station, coordinators first, with who holds them."""
        rows = await self.db.fetch_all(
            f"{_HOLDERS} WHERE r.station_id = ? ORDER BY r.role, t.name, r.id", (station_id,)
        )
        return [_holder(row) for row in rows]

    async def holder(self, role_id: int) -> RoleHolder | None:
        """One role in force, with who holds it."""
        row = await self.db.fetch_one(f"{_HOLDERS} WHERE r.id = ?", (role_id,))
        return None if row is None else _holder(row)

    async def revoke(self, role_id: int, *, granted_at: datetime, by: int, now: datetime) -> bool:
        """Take away the role granted at ``granted_at``, recording who did and when.

        False when that grant no longer holds. Role ids can come back (SQLite hands out the
        highest id again once it is deleted), so the id alone could name a newer grant.
        """
        async with self.db.transaction() as tx:
            held = await tx.fetch_one(
                "SELECT 1 FROM roles WHERE id = ? AND granted_at = ?",
                (role_id, utc_text(granted_at)),
            )
            if held is None:
                return False
            return await revoke_in(tx, role_id=role_id, by=by, now=now) == 1


async def revoke_in(
    tx: Transaction,
    *,
    role_id: int | None = None,
    talent_id: int | None = None,
    by: int | None,
    now: datetime,
) -> int:
    """Inside ``tx``, take away one role (``role_id``) or all of a talent's (``talent_id``).

    The rows move to role_revocations with who took them (``by``; None: the holder deleted
    their account) and when. Returns how many roles were taken.
    """
    if (role_id is None) == (talent_id is None):
        raise ValueError("revoke one role or all of one talent's")
    which = "id = :key" if role_id is not None else "talent_id = :key"
    params = {"key": role_id if role_id is not None else talent_id}
    await tx.execute(
        "INSERT INTO role_revocations (talent_id, station_id, role, granted_by, granted_at,"
        " revoked_by, revoked_at, reason) SELECT talent_id, station_id, role, granted_by,"
        f" granted_at, :by, :now, :reason FROM roles WHERE {which}",
        {
            **params,
            "by": by,
            "now": utc_text(now),
            "reason": "revoked" if by is not None else "account_deleted",
        },
    )
    return await tx.execute_rowcount(f"DELETE FROM roles WHERE {which}", params)


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

    async def open_at(self, station_id: int, *, now: datetime) -> list[Invitation]:
        """A station's invitations that nobody used, nobody withdrew and that have not expired."""
        rows = await self.db.fetch_all(
            "SELECT * FROM invitations WHERE station_id = ? AND used_at IS NULL"
            " AND withdrawn_at IS NULL AND expires_at > ? ORDER BY expires_at, id",
            (station_id, utc_text(now)),
        )
        return [Invitation(**dict(row)) for row in rows]

    async def by_id(self, invitation_id: int) -> Invitation | None:
        """One invitation by its id."""
        row = await self.db.fetch_one("SELECT * FROM invitations WHERE id = ?", (invitation_id,))
        return None if row is None else Invitation(**dict(row))

    async def withdraw(self, invitation_id: int, *, by: int, now: datetime) -> bool:
        """Withdraw an invitation nobody used; False when it was used or withdrawn already."""
        async with self.db.transaction() as tx:
            changed = await tx.execute_rowcount(
                "UPDATE invitations SET withdrawn_by = :by, withdrawn_at = :now"
                " WHERE id = :id AND used_at IS NULL AND withdrawn_at IS NULL",
                {"by": by, "now": utc_text(now), "id": invitation_id},
            )
        return changed == 1

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
            if invitation.withdrawn_at is not None:
                return RedeemOutcome.WITHDRAWN, invitation
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
                " WHERE id = :id AND used_at IS NULL AND withdrawn_at IS NULL",
                {"talent": talent_id, "now": utc_text(now), "id": invitation.id},
            )
        outcome = RedeemOutcome.GRANTED if granted else RedeemOutcome.ALREADY_HAD
        return outcome, invitation
