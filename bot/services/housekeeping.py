"""The nightly upkeep: a backup, then rows nobody will read again deleted and their space given
back, so a season of broadcasts does not leave the file ever larger."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from pathlib import Path

from pydantic import BaseModel

from bot.clock import Clock
from bot.settings import Settings
from storage import files
from storage.database import Database
from storage.files import BackupFile
from storage.maintenance import MaintenanceRepository, Purged, Reclaimed

log = logging.getLogger(__name__)


def backup_path(settings: Settings, moment: datetime) -> Path:
    """Where a backup made at ``moment`` goes when no file is named: the backup folder, named
    by the local time."""
    return settings.backup_dir / files.backup_name(moment.astimezone(settings.tz))


class Nightly(BaseModel):
    backup: BackupFile | None = None
    pruned: int = 0
    purged: Purged | None = None
    reclaimed: Reclaimed | None = None


class Housekeeping:
    def __init__(self, *, db: Database, settings: Settings, clock: Clock) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock
        self.rows = MaintenanceRepository(db)

    async def backup(self) -> BackupFile:
        """Back up into the backup folder while the bot goes on, in a thread of its own."""
        dest = backup_path(self.settings, self.clock.now())
        return await asyncio.to_thread(files.backup, self.db.path, dest)

    async def nightly(self) -> Nightly:
        """Back up, keep the newest backups, delete what is past its retention, reclaim space.

        Nothing is deleted on a night whose backup failed.
        """
        result = Nightly()
        try:
            result.backup = await self.backup()
        except files.DatabaseFileError as exc:
            log.error("nightly backup failed, so nothing is deleted tonight: %s", exc)
            return result
        removed = await asyncio.to_thread(
            files.prune_backups, self.settings.backup_dir, self.settings.backup_keep
        )
        result.pruned = len(removed)
        now = self.clock.now()
        before = now - timedelta(days=self.settings.retention_days)
        result.purged = await self.rows.purge(before=before, now=now)
        result.reclaimed = await self.rows.reclaim()
        log.info(
            "nightly upkeep: backup %s (%d bytes), %d old backups removed, %d deliveries of %d"
            " broadcasts and %d reminders deleted, %d free pages given back%s",
            result.backup.path,
            result.backup.bytes,
            result.pruned,
            result.purged.deliveries,
            result.purged.broadcasts,
            result.purged.reminders,
            result.reclaimed.free_pages_before - result.reclaimed.free_pages_after,
            " (switched to incremental vacuum)" if result.reclaimed.converted else "",
        )
        return result
