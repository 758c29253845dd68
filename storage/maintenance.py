"""Upkeep of the database over a season: the counts ``status`` shows, the values the bot notes
now and then, and the nightly clean-up that keeps the file from growing for ever."""

from __future__ import annotations

from datetime import datetime

from storage.database import Database, utc_text
from storage.models import Row

# Reminders in these states will never be sent again.
_SETTLED_REMINDERS = ("sent", "dropped", "cancelled", "unreachable", "failed")
_BATCH = 5000  # rows deleted per statement, so the bot's own writes never wait long


class Counts(Row):
    talents: int
    activities: int
    reminders_due: int


class Purged(Row):
    broadcasts: int = 0
    deliveries: int = 0
    reminders: int = 0


class Reclaimed(Row):
    converted: bool  # the one-time VACUUM that switched the file to incremental vacuuming
    free_pages_before: int
    free_pages_after: int


class MaintenanceRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def counts(self, *, now: datetime, season_from: datetime) -> Counts:
        """Registered talents, activities held or planned since ``season_from``, reminders due."""
        row = await self.db.fetch_one(
            "SELECT"
            " (SELECT count(*) FROM talents WHERE registered_at IS NOT NULL),"
            " (SELECT count(*) FROM activities"
            "   WHERE status IN ('published', 'finished') AND starts_at >= :season),"
            " (SELECT count(*) FROM reminders WHERE status = 'pending' AND due_at <= :now)",
            {"season": utc_text(season_from), "now": utc_text(now)},
        )
        assert row is not None
        return Counts(talents=row[0], activities=row[1], reminders_due=row[2])

    async def ping(self) -> bool:
        """Whether the database answers a query."""
        return await self.db.fetch_value("SELECT 1") == 1

    async def put_value(self, key: str, value: str, *, now: datetime) -> None:
        """Note a value the bot wants to find again (and ``status`` to read)."""
        await self.db.execute(
            "INSERT INTO runtime (key, value, updated_at) VALUES (:key, :value, :now)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value,"
            " updated_at = excluded.updated_at",
            {"key": key, "value": value, "now": utc_text(now)},
        )

    async def value(self, key: str) -> tuple[str, datetime] | None:
        """A noted value and when it was noted, or None."""
        row = await self.db.fetch_one(
            "SELECT value, updated_at FROM runtime WHERE key = ?", (key,)
        )
        return None if row is None else (row[0], datetime.fromisoformat(row[1]))

    async def purge(self, *, before: datetime, now: datetime) -> Purged:
        """Delete the deliveries of broadcasts that ended before ``before`` and the reminders
        of activities that started before it; a broadcast keeps its totals on its own row."""
        cutoff = utc_text(before)
        done = await self.db.fetch_all(
            "SELECT id FROM broadcasts WHERE status != 'running' AND purged_at IS NULL"
            " AND finished_at < ? ORDER BY id",
            (cutoff,),
        )
        deliveries = 0
        for (broadcast_id,) in done:
            # One broadcast per transaction: its totals are stored and its rows go together.
            async with self.db.transaction() as tx:
                await tx.execute(
                    "UPDATE broadcasts SET"
                    " sent_count = (SELECT count(*) FROM deliveries"
                    "   WHERE broadcast_id = :id AND status = 'sent'),"
                    " unreachable_count = (SELECT count(*) FROM deliveries"
                    "   WHERE broadcast_id = :id AND status = 'unreachable'),"
                    " failed_count = (SELECT count(*) FROM deliveries"
                    "   WHERE broadcast_id = :id AND status = 'failed'),"
                    " cancelled_count = (SELECT count(*) FROM deliveries"
                    "   WHERE broadcast_id = :id AND status = 'cancelled'),"
                    " purged_at = :now WHERE id = :id",
                    {"id": broadcast_id, "now": utc_text(now)},
                )
                deliveries += await tx.execute_rowcount(
                    "DELETE FROM deliveries WHERE broadcast_id = ?", (broadcast_id,)
                )
        reminders = 0
        settled = ", ".join(f"'{status}'" for status in _SETTLED_REMINDERS)
        while True:
            async with self.db.transaction() as tx:
                gone = await tx.execute_rowcount(
                    "DELETE FROM reminders WHERE id IN (SELECT id FROM reminders"
                    f" WHERE status IN ({settled}) AND expires_at < ? LIMIT {_BATCH})",
                    (cutoff,),
                )
            reminders += gone
            if gone < _BATCH:
                break
        return Purged(broadcasts=len(done), deliveries=deliveries, reminders=reminders)

    async def reclaim(self) -> Reclaimed:
        """Give the pages freed by deletions back to the file system.

        A file made before incremental vacuuming was switched on needs one full VACUUM for the
        switch to take effect; it is done the first time, after that only the free pages move.
        """
        before = await self.db.fetch_value("PRAGMA freelist_count")
        mode = await self.db.fetch_value("PRAGMA auto_vacuum")
        converted = mode != 2  # 2 is INCREMENTAL
        if converted:
            await self.db.run_script("PRAGMA auto_vacuum = INCREMENTAL; VACUUM;")
        else:
            await self.db.run_script("PRAGMA incremental_vacuum;")
        # The shrinking reaches the file when the log is copied back; an empty log stays small.
        await self.db.run_script("PRAGMA wal_checkpoint(TRUNCATE);")
        after = await self.db.fetch_value("PRAGMA freelist_count")
        return Reclaimed(converted=converted, free_pages_before=before, free_pages_after=after)
