"""Check-ins, service hours and the points ledger; a check-in and its credit are one step."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from storage.database import Database, Transaction, utc_text
from storage.models import Activity, Attendance, LedgerEntry


class CheckinOutcome(StrEnum):
    CHECKED_IN = "checked_in"
    ALREADY = "already"
    UNKNOWN = "unknown"  # no activity has this code (never had, or it was replaced)
    TOO_EARLY = "too_early"
    OVER = "over"
    CANCELLED = "cancelled"
    NOT_OPEN = "not_open"  # a draft


# The hours an attendance row (aliased ``a``) counts for: its latest correction, else its own.
LATEST_HOURS = (
    "coalesce((SELECT c.hours FROM hour_corrections c WHERE c.attendance_id = a.id"
    " ORDER BY c.id DESC LIMIT 1), a.hours)"
)


async def balance_in(tx: Transaction, talent_id: int) -> int:
    """A talent's balance inside a transaction."""
    row = await tx.fetch_one(
        "SELECT coalesce(sum(delta), 0) FROM ledger WHERE talent_id = ?", (talent_id,)
    )
    return int(row[0])


class PointsRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def balance(self, talent_id: int) -> int:
        """The sum of the talent's ledger."""
        return int(
            await self.db.fetch_value(
                "SELECT coalesce(sum(delta), 0) FROM ledger WHERE talent_id = ?", (talent_id,)
            )
        )

    async def entries(
        self, talent_id: int, *, before_id: int | None, limit: int
    ) -> list[LedgerEntry]:
        """The newest ledger entries, older than ``before_id`` when paging, each with the name
        of what it was for (the activity, or the voucher's reward) in the same query."""
        rows = await self.db.fetch_all(
            "SELECT l.*, a.title AS activity_title, v.code AS voucher_code,"
            " r.name_zh AS reward_zh, r.name_en AS reward_en FROM ledger l"
            " LEFT JOIN activities a ON l.ref LIKE 'activity:%'"
            " AND a.id = CAST(substr(l.ref, 10) AS INTEGER)"
            " LEFT JOIN vouchers v ON l.ref LIKE 'voucher:%'"
            " AND v.id = CAST(substr(l.ref, 9) AS INTEGER)"
            " LEFT JOIN rewards r ON r.id = v.reward_id"
            " WHERE l.talent_id = :talent AND (:before IS NULL OR l.id < :before)"
            " ORDER BY l.id DESC LIMIT :limit",
            {"talent": talent_id, "before": before_id, "limit": limit},
        )
        return [LedgerEntry(**dict(row)) for row in rows]

    async def hours(self, talent_id: int, *, since: datetime | None = None) -> float:
        """Service hours, corrections applied, optionally since a moment."""
        value = await self.db.fetch_value(
            f"SELECT coalesce(sum({LATEST_HOURS}), 0) FROM attendance a"
            " WHERE a.talent_id = :talent AND (:since IS NULL OR a.checked_in_at >= :since)",
            {"talent": talent_id, "since": utc_text(since) if since else None},
        )
        return float(value)

    async def set_token(self, activity_id: int, token: str) -> None:
        """Give an activity a new check-in code; the old one stops working."""
        await self.db.execute(
            "UPDATE activities SET checkin_token = ? WHERE id = ?", (token, activity_id)
        )

    async def token_of(self, activity_id: int) -> str | None:
        """The activity's current check-in code."""
        return await self.db.fetch_value(
            "SELECT checkin_token FROM activities WHERE id = ?", (activity_id,)
        )

    async def activity_with_token(self, token: str) -> Activity | None:
        """The activity whose current check-in code this is."""
        row = await self.db.fetch_one("SELECT * FROM activities WHERE checkin_token = ?", (token,))
        return None if row is None else Activity(**dict(row))

    async def check_in(
        self,
        talent_id: int,
        *,
        now: datetime,
        early: timedelta,
        token: str | None = None,
        activity_id: int | None = None,
        method: str = "scan",
        by: int | None = None,
    ) -> tuple[CheckinOutcome, dict | None, int, int]:
        """Record attendance, its hours and its points (the ``attendance_credit`` trigger) for
        the activity with this check-in code (or this id). Returns the outcome, the activity
        (id, title, start, end), the points credited and the balance.

        The write is one statement, so it is one transaction and takes the writer only once:
        a rush at the door runs this hundreds of times a second. A second check-in of the same
        talent inserts nothing and so credits nothing.
        """
        where, key = ("checkin_token", token) if token is not None else ("id", activity_id)
        added = await self.db.execute_rowcount(
            "INSERT INTO attendance (activity_id, talent_id, checked_in_at, method, by_whom,"
            " walk_in, hours)"
            " SELECT a.id, :talent, :now, :method, :by,"
            " NOT EXISTS (SELECT 1 FROM signups s WHERE s.activity_id = a.id"
            " AND s.talent_id = :talent AND s.status = 'going'),"
            " round((julianday(a.ends_at) - julianday(a.starts_at)) * 24, 2)"
            f" FROM activities a WHERE a.{where} = :key AND a.status = 'published'"
            " AND julianday(:now) >= julianday(a.starts_at) - :early"
            " AND julianday(:now) <= julianday(a.ends_at)"
            " ON CONFLICT (activity_id, talent_id) DO NOTHING",
            {
                "talent": talent_id,
                "now": utc_text(now),
                "method": method,
                "by": by,
                "key": key,
                "early": early.total_seconds() / 86400,
            },
        )
        row = await self.db.fetch_one(
            "SELECT a.id, a.title, a.status, a.starts_at, a.ends_at, a.points,"
            " EXISTS (SELECT 1 FROM attendance t WHERE t.activity_id = a.id"
            " AND t.talent_id = :talent) AS present,"
            " (SELECT coalesce(sum(delta), 0) FROM ledger WHERE talent_id = :talent) AS balance"
            f" FROM activities a WHERE a.{where} = :key",
            {"talent": talent_id, "key": key},
        )
        if row is None:
            return CheckinOutcome.UNKNOWN, None, 0, 0
        activity = dict(row)
        balance = int(activity.pop("balance"))
        starts = datetime.fromisoformat(activity["starts_at"])
        ends = datetime.fromisoformat(activity["ends_at"])
        activity.update(starts_at=starts, ends_at=ends)
        if added:
            return CheckinOutcome.CHECKED_IN, activity, int(activity["points"]), balance
        if activity["status"] == "cancelled":
            outcome = CheckinOutcome.CANCELLED
        elif activity["status"] == "draft":
            outcome = CheckinOutcome.NOT_OPEN
        elif activity["present"]:
            outcome = CheckinOutcome.ALREADY
        elif now < starts - early:
            outcome = CheckinOutcome.TOO_EARLY
        else:
            outcome = CheckinOutcome.OVER
        return outcome, activity, 0, balance

    async def attendance(self, activity_id: int) -> list[Attendance]:
        """Who checked in, with their current hours."""
        rows = await self.db.fetch_all(
            "SELECT a.*, t.name, c.hours AS corrected_hours, c.by_whom AS corrected_by"
            " FROM attendance a JOIN talents t ON t.id = a.talent_id"
            " LEFT JOIN hour_corrections c ON c.id = (SELECT max(l.id) FROM hour_corrections l"
            " WHERE l.attendance_id = a.id)"
            " WHERE a.activity_id = ? ORDER BY a.checked_in_at, a.id",
            (activity_id,),
        )
        return [Attendance(**dict(row)) for row in rows]

    async def attendance_by_id(self, attendance_id: int) -> Attendance | None:
        """One attendance row, with its current hours."""
        row = await self.db.fetch_one(
            "SELECT a.*, t.name, (SELECT c.hours FROM hour_corrections c"
            " WHERE c.attendance_id = a.id ORDER BY c.id DESC LIMIT 1) AS corrected_hours"
            " FROM attendance a JOIN talents t ON t.id = a.talent_id WHERE a.id = ?",
            (attendance_id,),
        )
        return None if row is None else Attendance(**dict(row))

    async def last_adjustment(self, talent_id: int) -> LedgerEntry | None:
        """The talent's latest adjustment by an admin, if any."""
        row = await self.db.fetch_one(
            "SELECT * FROM ledger WHERE talent_id = ? AND kind = 'adjust'"
            " ORDER BY id DESC LIMIT 1",
            (talent_id,),
        )
        return None if row is None else LedgerEntry(**dict(row))

    async def corrections(self, attendance_id: int) -> list[dict]:
        """Every correction of an attendance, oldest first."""
        rows = await self.db.fetch_all(
            "SELECT hours, reason, by_whom, created_at FROM hour_corrections"
            " WHERE attendance_id = ? ORDER BY id",
            (attendance_id,),
        )
        return [dict(row) for row in rows]

    async def correct_hours(
        self, attendance_id: int, hours: float, *, reason: str, by: int, now: datetime
    ) -> int:
        """Record a correction (and return its id); the original attendance row stays as it was."""
        return await self.db.execute(
            "INSERT INTO hour_corrections (attendance_id, hours, reason, by_whom, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (attendance_id, hours, reason, by, utc_text(now)),
        )

    async def adjust(
        self, talent_id: int, delta: int, *, reason: str, by: int, now: datetime, key: str
    ) -> tuple[bool, int, int | None]:
        """Add or take points with a reason; refused (False) when the balance would go below 0.

        Returns whether it was done, the balance, and the new ledger entry's id (None when
        refused, or when an entry with ``key`` was written before).
        """
        async with self.db.transaction() as tx:
            balance = await balance_in(tx, talent_id)
            if balance + delta < 0:
                return False, balance, None
            added = await tx.execute_rowcount(
                "INSERT INTO ledger (talent_id, delta, kind, reason, ref, by_whom, created_at,"
                " idempotency_key) VALUES (?, ?, 'adjust', ?, NULL, ?, ?, ?)"
                " ON CONFLICT (idempotency_key) DO NOTHING",
                (talent_id, delta, reason, by, utc_text(now), key),
            )
            entry = await tx.fetch_one("SELECT last_insert_rowid()") if added else None
            return True, await balance_in(tx, talent_id), entry[0] if entry else None
