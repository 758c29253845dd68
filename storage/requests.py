"""Applications to requests from institutions. Every decision is one transaction."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from storage.database import Database, utc_text
from storage.models import Application
from storage.presses import Press, spend


class ApplyOutcome(StrEnum):
    APPLIED = "applied"
    ALREADY = "already"
    CLOSED = "closed"  # not a request, closed, cancelled, or already started
    UNKNOWN = "unknown"


class DecideOutcome(StrEnum):
    ACCEPTED = "accepted"
    DECLINED = "declined"
    DECIDED = "decided"  # someone decided it before
    FULL = "full"  # every place is given
    CLOSED = "closed"
    UNKNOWN = "unknown"


class RequestRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def apply(
        self, activity_id: int, talent_id: int, note: str, *, now: datetime
    ) -> ApplyOutcome:
        """Offer to serve at an open request that has not started."""
        async with self.db.transaction() as tx:
            row = await tx.fetch_one(
                "SELECT status, request, starts_at FROM activities WHERE id = ?", (activity_id,)
            )
            if row is None:
                return ApplyOutcome.UNKNOWN
            if (
                row["status"] != "published"
                or row["request"] != "open"
                or datetime.fromisoformat(row["starts_at"]) <= now
            ):
                return ApplyOutcome.CLOSED
            added = await tx.execute_rowcount(
                "INSERT INTO applications (activity_id, talent_id, note, created_at)"
                " VALUES (:activity, :talent, :note, :now)"
                " ON CONFLICT (activity_id, talent_id) DO NOTHING",
                {"activity": activity_id, "talent": talent_id, "note": note, "now": utc_text(now)},
            )
        return ApplyOutcome.APPLIED if added else ApplyOutcome.ALREADY

    async def get(self, application_id: int) -> Application | None:
        """One application."""
        row = await self.db.fetch_one("SELECT * FROM applications WHERE id = ?", (application_id,))
        return None if row is None else Application(**dict(row))

    async def of_talent(self, activity_id: int, talent_id: int) -> Application | None:
        """The talent's application to a request, if any."""
        row = await self.db.fetch_one(
            "SELECT * FROM applications WHERE activity_id = ? AND talent_id = ?",
            (activity_id, talent_id),
        )
        return None if row is None else Application(**dict(row))

    async def of_request(self, activity_id: int) -> list[Application]:
        """Everyone who applied, in the order they came (so numbers stay put as they are
        decided)."""
        rows = await self.db.fetch_all(
            "SELECT * FROM applications WHERE activity_id = ? ORDER BY id",
            (activity_id,),
        )
        return [Application(**dict(row)) for row in rows]

    async def decide(
        self, application_id: int, *, accept: bool, by: int, now: datetime, press: Press | None
    ) -> DecideOutcome:
        """Accept (giving a place, as a signup, when one is left) or decline an application."""
        async with self.db.transaction() as tx:
            await spend(tx, press, now=now)
            row = await tx.fetch_one(
                "SELECT p.activity_id, p.talent_id, p.status, a.status AS activity_status,"
                " a.request, a.capacity, a.starts_at FROM applications p"
                " JOIN activities a ON a.id = p.activity_id WHERE p.id = ?",
                (application_id,),
            )
            if row is None:
                return DecideOutcome.UNKNOWN
            if row["status"] != "pending":
                return DecideOutcome.DECIDED
            if row["activity_status"] != "published" or row["request"] is None:
                return DecideOutcome.CLOSED
            if accept:
                if datetime.fromisoformat(row["starts_at"]) <= now:
                    return DecideOutcome.CLOSED
                going = await tx.fetch_one(
                    "SELECT count(*) FROM signups WHERE activity_id = ? AND status = 'going'",
                    (row["activity_id"],),
                )
                if row["capacity"] and going[0] >= row["capacity"]:
                    return DecideOutcome.FULL
                # The place is an ordinary signup: reminders, check-in and hours follow from it.
                await tx.execute(
                    "INSERT INTO signups (activity_id, talent_id, status, position, created_at,"
                    " updated_at) VALUES (:activity, :talent, 'going', 0, :now, :now)"
                    " ON CONFLICT (activity_id, talent_id) DO UPDATE SET status = 'going',"
                    " position = 0, updated_at = excluded.updated_at",
                    {
                        "activity": row["activity_id"],
                        "talent": row["talent_id"],
                        "now": utc_text(now),
                    },
                )
            await tx.execute(
                "UPDATE applications SET status = :status, decided_by = :by, decided_at = :now"
                " WHERE id = :id",
                {
                    "status": "accepted" if accept else "declined",
                    "by": by,
                    "now": utc_text(now),
                    "id": application_id,
                },
            )
        return DecideOutcome.ACCEPTED if accept else DecideOutcome.DECLINED

    async def close(
        self, activity_id: int, *, by: int, now: datetime, press: Press | None
    ) -> list[int] | None:
        """Take no more applications; the undecided are closed. Returns their talent ids, or
        None when the request was not open."""
        async with self.db.transaction() as tx:
            await spend(tx, press, now=now)
            changed = await tx.execute_rowcount(
                "UPDATE activities SET request = 'closed', updated_by = :by, updated_at = :now"
                " WHERE id = :id AND request = 'open'",
                {"by": by, "now": utc_text(now), "id": activity_id},
            )
            if not changed:
                return None
            rows = await tx.fetch_all(
                "SELECT talent_id FROM applications WHERE activity_id = ? AND status = 'pending'",
                (activity_id,),
            )
            await tx.execute(
                "UPDATE applications SET status = 'closed', decided_by = :by, decided_at = :now"
                " WHERE activity_id = :id AND status = 'pending'",
                {"by": by, "now": utc_text(now), "id": activity_id},
            )
        return [row[0] for row in rows]

    async def open_of_stations(
        self, station_ids: list[int] | None, *, now: datetime
    ) -> list[tuple[int, int]]:
        """(request id, undecided applications) of requests not over yet, soonest first."""
        rows = await self.db.fetch_all(
            "SELECT a.id, (SELECT count(*) FROM applications p WHERE p.activity_id = a.id"
            " AND p.status = 'pending') FROM activities a"
            " WHERE a.request IS NOT NULL AND a.status IN ('draft', 'published')"
            " AND a.ends_at > :now"
            " AND (:all OR a.station_id IN (SELECT value FROM json_each(:stations)))"
            " ORDER BY a.starts_at, a.id",
            {
                "now": utc_text(now),
                "all": station_ids is None,
                "stations": "[" + ",".join(str(s) for s in station_ids or []) + "]",
            },
        )
        return [(row[0], row[1]) for row in rows]
