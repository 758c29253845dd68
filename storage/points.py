"""Check-ins, service hours and the points ledger; a check-in and its credit are one step."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from storage.database import Database, Transaction, utc_text
from storage.models import Attendance, LedgerEntry


class CheckinOutcome(StrEnum):
    CHECKED_IN = "checked_in"
    ALREADY = "already"
    UNKNOWN = "unknown"  # no activity has this code (never had, or it was replaced)
    TOO_EARLY = "too_early"
    OVER = "over"
    CANCELLED = "cancelled"
    NOT_OPEN = "not_open"  # a draft


_LATEST_HOURS = (
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
        """The newest ledger entries, older than ``before_id`` when paging."""
        rows = await self.db.fetch_all(
            "SELECT * FROM ledger WHERE talent_id = :talent"
            " AND (:before IS NULL OR id < :before) ORDER BY id DESC LIMIT :limit",
            {"talent": talent_id, "before": before_id, "limit": limit},
        )
        return [LedgerEntry(**dict(row)) for row in rows]

    async def hours(self, talent_id: int, *, since: datetime | None = None) -> float:
        """Service hours, corrections applied, optionally since a moment."""
        value = await self.db.fetch_value(
            f"SELECT coalesce(sum({_LATEST_HOURS}), 0) FROM attendance a"
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
        """Record attendance, its hours and its points at once, for the activity with this
        check-in code (or this id). Returns the outcome, the activity (id, title, start, end),
        the points credited and the balance. A second check-in credits nothing.

        A rush at the door runs this hundreds of times a second, so it is few statements.
        """
        where, key = ("checkin_token = ?", token) if token is not None else ("id = ?", activity_id)
        async with self.db.transaction() as tx:
            row = await tx.fetch_one(
                "SELECT id, title, status, starts_at, ends_at, points FROM activities"
                f" WHERE {where}",
                (key,),
            )
            if row is None:
                return CheckinOutcome.UNKNOWN, None, 0, 0
            activity = dict(row)
            starts = datetime.fromisoformat(activity["starts_at"])
            ends = datetime.fromisoformat(activity["ends_at"])
            activity.update(starts_at=starts, ends_at=ends)
            refused = None
            if activity["status"] == "cancelled":
                refused = CheckinOutcome.CANCELLED
            elif activity["status"] == "draft":
                refused = CheckinOutcome.NOT_OPEN
            elif now < starts - early:
                refused = CheckinOutcome.TOO_EARLY
            elif now > ends:
                refused = CheckinOutcome.OVER
            if refused is not None:
                return refused, activity, 0, await balance_in(tx, talent_id)
            # "WHERE true" lets SQLite tell the upsert clause from a join of the SELECT.
            added = await tx.execute_rowcount(
                "INSERT INTO attendance (activity_id, talent_id, checked_in_at, method, by_whom,"
                " walk_in, hours) SELECT :activity, :talent, :now, :method, :by,"
                " NOT EXISTS (SELECT 1 FROM signups WHERE activity_id = :activity"
                " AND talent_id = :talent AND status = 'going'), :hours WHERE true"
                " ON CONFLICT (activity_id, talent_id) DO NOTHING",
                {
                    "activity": activity["id"],
                    "talent": talent_id,
                    "now": utc_text(now),
                    "method": method,
                    "by": by,
                    "hours": round((ends - starts).total_seconds() / 3600, 2),
                },
            )
            if not added:
                return CheckinOutcome.ALREADY, activity, 0, await balance_in(tx, talent_id)
            points = int(activity["points"])
            if points:
                await tx.execute(
                    "INSERT INTO ledger (talent_id, delta, kind, reason, ref, by_whom, created_at,"
                    " idempotency_key) VALUES (:talent, :points, 'earn', NULL, :ref, :by, :now,"
                    " :key) ON CONFLICT (idempotency_key) DO NOTHING",
                    {
                        "talent": talent_id,
                        "points": points,
                        "ref": f"activity:{activity['id']}",
                        "by": by,
                        "now": utc_text(now),
                        "key": f"checkin:{activity['id']}:{talent_id}",
                    },
                )
            return CheckinOutcome.CHECKED_IN, activity, points, await balance_in(tx, talent_id)

    async def attendance(self, activity_id: int) -> list[Attendance]:
        """Who checked in, with their current hours."""
        rows = await self.db.fetch_all(
            "SELECT a.*, t.name, (SELECT c.hours FROM hour_corrections c"
            " WHERE c.attendance_id = a.id ORDER BY c.id DESC LIMIT 1) AS corrected_hours"
            " FROM attendance a JOIN talents t ON t.id = a.talent_id"
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
    ) -> None:
        """Record a correction; the original attendance row stays as it was."""
        await self.db.execute(
            "INSERT INTO hour_corrections (attendance_id, hours, reason, by_whom, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (attendance_id, hours, reason, by, utc_text(now)),
        )

    async def adjust(
        self, talent_id: int, delta: int, *, reason: str, by: int, now: datetime, key: str
    ) -> tuple[bool, int]:
        """Add or take points with a reason; refused (False) when the balance would go below 0."""
        async with self.db.transaction() as tx:
            balance = await balance_in(tx, talent_id)
            if balance + delta < 0:
                return False, balance
            await tx.execute(
                "INSERT INTO ledger (talent_id, delta, kind, reason, ref, by_whom, created_at,"
                " idempotency_key) VALUES (?, ?, 'adjust', ?, NULL, ?, ?, ?)"
                " ON CONFLICT (idempotency_key) DO NOTHING",
                (talent_id, delta, reason, by, utc_text(now), key),
            )
            return True, await balance_in(tx, talent_id)
