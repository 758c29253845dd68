"""A talent's own data: everything stored about them, and erasing it (one transaction)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from storage.activities import _promote as promote_first_waiting
from storage.database import Database, utc_text
from storage.models import Row
from storage.rewards import _close as close_voucher
from storage.roles import revoke_in


class Erasure(Row):
    """What erasing an account did."""

    vouchers_cancelled: int = 0
    roles_removed: int = 0
    # (activity id, talent id) of each talent who got the place the erased talent held.
    promoted: tuple[tuple[int, int], ...] = ()


class PrivacyRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def export(self, talent_id: int) -> dict[str, Any]:
        """Every row about the talent, as plain values, grouped the way the talent reads them.

        Telegram ids of the staff who acted on a row (who checked them in by hand, corrected
        their hours, marked a voucher used) are someone else's data and are left out.
        """
        one = self.db.fetch_one
        every = self.db.fetch_all
        profile = await one(
            "SELECT t.id, t.telegram_id, t.language, t.name, t.phone, t.title, t.region,"
            " t.station_id, s.name_zh AS station_zh, s.name_en AS station_en, t.stay_from,"
            " t.stay_to, t.consent_at, t.registered_at, t.reachable, t.created_at, t.updated_at"
            " FROM talents t LEFT JOIN stations s ON s.id = t.station_id"
            " WHERE t.id = ? AND t.deleted_at IS NULL",
            (talent_id,),
        )
        if profile is None:
            return {}
        expertise = await every(
            "SELECT field FROM talent_expertise WHERE talent_id = ? ORDER BY field", (talent_id,)
        )
        attendance = [dict(row) for row in await every(
            "SELECT a.id, a.activity_id, ac.title AS activity, ac.station_id, a.checked_in_at,"
            " a.method, a.walk_in, a.hours AS hours_recorded FROM attendance a"
            " JOIN activities ac ON ac.id = a.activity_id WHERE a.talent_id = ?"
            " ORDER BY a.checked_in_at, a.id",
            (talent_id,),
        )]  # fmt: skip
        for row in attendance:
            corrections = await every(
                "SELECT hours, reason, created_at FROM hour_corrections"
                " WHERE attendance_id = ? ORDER BY id",
                (row.pop("id"),),
            )
            row["corrections"] = [dict(c) for c in corrections]
            row["hours"] = corrections[-1]["hours"] if corrections else row["hours_recorded"]
        ledger = await every(
            "SELECT id, delta, kind, reason, ref, created_at FROM ledger WHERE talent_id = ?"
            " ORDER BY id",
            (talent_id,),
        )
        return {
            "profile": {**dict(profile), "expertise": [row[0] for row in expertise]},
            "roles": await _rows(
                every,
                "SELECT r.station_id, s.name_en AS station, r.role, r.granted_at"
                " FROM roles r JOIN stations s ON s.id = r.station_id WHERE r.talent_id = ?"
                " ORDER BY r.station_id, r.role",
                talent_id,
            ),
            "roles_ended": await _rows(
                every,
                "SELECT station_id, role, granted_at, revoked_at, reason FROM role_revocations"
                " WHERE talent_id = ? ORDER BY id",
                talent_id,
            ),
            "invitations_used": await _rows(
                every,
                "SELECT station_id, role, used_at FROM invitations WHERE used_by = ? ORDER BY id",
                talent_id,
            ),
            "teams": await _rows(
                every,
                "SELECT m.team_id, t.name_zh, t.name_en, t.kind, t.station_id, m.leader,"
                " m.joined_at FROM team_members m JOIN teams t ON t.id = m.team_id"
                " WHERE m.talent_id = ? ORDER BY m.team_id",
                talent_id,
            ),
            "signups": await _rows(
                every,
                "SELECT s.activity_id, a.title AS activity, a.starts_at, s.status, s.position,"
                " s.created_at, s.updated_at FROM signups s"
                " JOIN activities a ON a.id = s.activity_id WHERE s.talent_id = ? ORDER BY s.id",
                talent_id,
            ),
            "pledges": await _rows(
                every,
                "SELECT p.campaign_id, c.product, c.unit, p.way, p.quantity, p.created_at,"
                " p.updated_at FROM pledges p JOIN campaigns c ON c.id = p.campaign_id"
                " WHERE p.talent_id = ? ORDER BY p.campaign_id, p.way",
                talent_id,
            ),
            "applications": await _rows(
                every,
                "SELECT p.activity_id, a.title AS request, a.starts_at, p.note, p.status,"
                " p.created_at, p.decided_at FROM applications p"
                " JOIN activities a ON a.id = p.activity_id WHERE p.talent_id = ? ORDER BY p.id",
                talent_id,
            ),
            "attendance": attendance,
            "points_balance": sum(row["delta"] for row in ledger),
            "ledger": [dict(row) for row in ledger],
            "vouchers": await _rows(
                every,
                "SELECT v.code, v.reward_id, r.name_zh AS reward_zh, r.name_en AS reward_en,"
                " v.cost, v.status, v.created_at, v.valid_until, v.used_at, v.closed_at"
                " FROM vouchers v JOIN rewards r ON r.id = v.reward_id WHERE v.talent_id = ?"
                " ORDER BY v.id",
                talent_id,
            ),
            "notifications_turned_off": [
                row[0]
                for row in await every(
                    "SELECT topic FROM notification_optouts WHERE talent_id = ? ORDER BY topic",
                    (talent_id,),
                )
            ],
            "reminders": await _rows(
                every,
                "SELECT subject, subject_id, kind, due_at, status, sent_at FROM reminders"
                " WHERE talent_id = ? ORDER BY due_at, id",
                talent_id,
            ),
            "messages_received": await _rows(
                every,
                "SELECT broadcast_id, status, updated_at FROM deliveries WHERE talent_id = ?"
                " ORDER BY id",
                talent_id,
            ),
        }

    async def erase(self, talent_id: int, *, now: datetime) -> Erasure | None:
        """Erase a talent's personal data in one transaction; None when there is no such talent.

        The row and its id stay, so attendance, hours and the ledger (which stay) keep counting
        for their stations; every personal column and the Telegram id are cleared. Valid
        vouchers are cancelled by the usual rule (the stock comes back, and so do the points,
        to an account nobody can use any more). Signups, applications to requests, reminders,
        deliveries, expertise, notification settings and roles go; a place given up goes to
        the first on the waitlist.
        """
        stamp = utc_text(now)
        key = {"talent": talent_id, "now": stamp}
        async with self.db.transaction() as tx:
            found = await tx.fetch_one(
                "SELECT 1 FROM talents WHERE id = ? AND deleted_at IS NULL", (talent_id,)
            )
            if found is None:
                return None
            vouchers = await tx.fetch_all(
                "SELECT id FROM vouchers WHERE talent_id = ? AND status = 'valid'", (talent_id,)
            )
            cancelled = 0
            for row in vouchers:
                cancelled += await close_voucher(tx, row[0], "cancelled", by=None, now=now)
            places = await tx.fetch_all(
                "SELECT a.id, a.capacity FROM signups s JOIN activities a ON a.id = s.activity_id"
                " WHERE s.talent_id = :talent AND s.status = 'going'"
                " AND a.status = 'published' AND a.ends_at > :now",
                key,
            )
            # Signups for what is still to come go (their places pass on); those of activities
            # already over stay, anonymous, so past reports keep their signups and no-shows.
            await tx.execute(
                "DELETE FROM signups WHERE talent_id = :talent AND activity_id IN"
                " (SELECT id FROM activities WHERE ends_at > :now)",
                key,
            )
            # An application's note is the talent's own words.
            await tx.execute("DELETE FROM applications WHERE talent_id = ?", (talent_id,))
            promoted = []
            for place in places:
                moved = await promote_first_waiting(tx, place["id"], place["capacity"], now)
                if moved is not None:
                    promoted.append((place["id"], moved))
            await tx.execute("DELETE FROM reminders WHERE talent_id = ?", (talent_id,))
            await tx.execute("DELETE FROM deliveries WHERE talent_id = ?", (talent_id,))
            roles = await revoke_in(tx, talent_id=talent_id, by=None, now=now)
            await tx.execute("DELETE FROM team_members WHERE talent_id = ?", (talent_id,))
            await tx.execute("DELETE FROM talent_expertise WHERE talent_id = ?", (talent_id,))
            await tx.execute("DELETE FROM notification_optouts WHERE talent_id = ?", (talent_id,))
            # The Telegram first name kept for staff without a profile goes with the link.
            await tx.execute(
                "DELETE FROM telegram_names WHERE telegram_id ="
                " (SELECT telegram_id FROM talents WHERE id = ?)",
                (talent_id,),
            )
            await tx.execute(
                "UPDATE talents SET telegram_id = NULL, language = NULL, name = NULL,"
                " phone = NULL, title = NULL, region = NULL, stay_from = NULL, stay_to = NULL,"
                " consent_at = NULL, registered_at = NULL, reachable = 0, deleted_at = :now,"
                " updated_at = :now WHERE id = :talent",
                key,
            )
        return Erasure(vouchers_cancelled=cancelled, roles_removed=roles, promoted=tuple(promoted))


async def _rows(every: Any, sql: str, talent_id: int) -> list[dict[str, Any]]:
    return [dict(row) for row in await every(sql, (talent_id,))]
