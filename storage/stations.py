"""Stations."""

from __future__ import annotations

from datetime import datetime

from storage.database import Database, utc_text
from storage.models import Station, StationKind


class StationRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(
        self, *, name_zh: str, name_en: str, kind: StationKind, created_by: int, now: datetime
    ) -> Station:
        """Create a station and return it."""
        station_id = await self.db.execute(
            "INSERT INTO stations (name_zh, name_en, kind, created_by, created_at)"
            " VALUES (:name_zh, :name_en, :kind, :by, :now)",
            {
                "name_zh": name_zh,
                "name_en": name_en,
                "kind": kind,
                "by": created_by,
                "now": utc_text(now),
            },
        )
        station = await self.get(station_id)
        assert station is not None
        return station

    async def rename(
        self, station_id: int, *, name_zh: str, name_en: str, by: int, now: datetime
    ) -> bool:
        """Set both names of a station; return False when it does not exist."""
        async with self.db.transaction() as tx:
            changed = await tx.execute_rowcount(
                "UPDATE stations SET name_zh = :name_zh, name_en = :name_en,"
                " updated_by = :by, updated_at = :now WHERE id = :id",
                {
                    "id": station_id,
                    "name_zh": name_zh,
                    "name_en": name_en,
                    "by": by,
                    "now": utc_text(now),
                },
            )
        return changed == 1

    async def get(self, station_id: int) -> Station | None:
        """Return one station, or None."""
        row = await self.db.fetch_one("SELECT * FROM stations WHERE id = ?", (station_id,))
        return None if row is None else Station(**dict(row))

    async def list(self) -> list[Station]:
        """Return all stations in the order they were created."""
        rows = await self.db.fetch_all("SELECT * FROM stations ORDER BY id")
        return [Station(**dict(row)) for row in rows]
