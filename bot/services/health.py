"""How the bot is doing: one report for ``talentbot status``, ``GET /healthz`` and ``/status``."""

from __future__ import annotations

import os
from datetime import date, datetime, time, timedelta

from pydantic import BaseModel

from bot.clock import Clock
from bot.settings import Settings
from storage.database import Database, newest_version
from storage.files import RunLock, file_bytes, list_backups
from storage.maintenance import MaintenanceRepository
from storage.outbox import BroadcastRepository

LAST_UPDATE = "last_update"  # the runtime value the heartbeat writes
SEASON_STARTS = (10, 1)  # the programme's season runs from October to April


def season_start(today: date) -> date:
    """The first day of the season ``today`` belongs to."""
    month, day = SEASON_STARTS
    start = date(today.year, month, day)
    return start if today >= start else date(today.year - 1, month, day)


class Heartbeat:
    """The last update the bot handled, kept in memory and written down now and then.

    Writing a row per update would cost a transaction per message at a rush; ``status`` can
    live with a time that is up to a minute old.
    """

    def __init__(self, started_at: datetime) -> None:
        self.started_at = started_at
        self.update_id: int | None = None
        self.at: datetime | None = None
        self._flushed: int | None = None

    def seen(self, update_id: int, at: datetime) -> None:
        """Note an update as it is taken up."""
        self.update_id = update_id
        self.at = at

    async def flush(self, rows: MaintenanceRepository) -> bool:
        """Write the last update down if it changed since the last flush."""
        if self.update_id is None or self.at is None or self.update_id == self._flushed:
            return False
        await rows.put_value(LAST_UPDATE, str(self.update_id), now=self.at)
        self._flushed = self.update_id
        return True


class BroadcastLine(BaseModel):
    id: int
    total: int
    sent: int
    pending: int
    unreachable: int
    failed: int


class HealthReport(BaseModel):
    """What an operator wants to know at a glance."""

    database: str
    database_bytes: int
    schema_version: int
    newest_schema: int
    talents: int
    season_from: date
    activities_this_season: int
    broadcasts_running: list[BroadcastLine]
    reminders_due: int
    last_update_id: int | None
    last_update_at: datetime | None
    last_backup: str | None
    last_backup_at: datetime | None
    last_backup_bytes: int | None
    bot_pid: int | None
    checked_at: datetime
    ok: bool = True
    problems: list[str] = []


class HealthService:
    """Collects the report from the database, the backup folder and the running bot."""

    def __init__(
        self,
        *,
        db: Database,
        settings: Settings,
        clock: Clock,
        heartbeat: Heartbeat | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock
        self.heartbeat = heartbeat
        self.rows = MaintenanceRepository(db)
        self.broadcasts = BroadcastRepository(db)

    async def report(self) -> HealthReport:
        """Everything ``status`` prints, read now.

        Raises:
            Exception: whatever the database raises when it does not answer.
        """
        now = self.clock.now()
        today = now.astimezone(self.settings.tz).date()
        season = season_start(today)
        season_from = datetime.combine(season, time(), tzinfo=self.settings.tz)
        counts = await self.rows.counts(now=now, season_from=season_from)
        lines = []
        for broadcast in await self.broadcasts.running():
            progress = await self.broadcasts.progress(broadcast.id)
            lines.append(
                BroadcastLine(
                    id=broadcast.id,
                    total=progress.total,
                    sent=progress.sent,
                    pending=progress.pending + progress.sending,
                    unreachable=progress.unreachable,
                    failed=progress.failed,
                )
            )
        update_id, update_at = await self._last_update()
        backups = list_backups(self.settings.backup_dir)
        latest = backups[0] if backups else None
        pid = os.getpid() if self.heartbeat is not None else RunLock(self.db.path).holder()
        return HealthReport(
            database=str(self.db.path),
            database_bytes=file_bytes(self.db.path),
            schema_version=await self.db.schema_version(),
            newest_schema=newest_version(),
            talents=counts.talents,
            season_from=season,
            activities_this_season=counts.activities,
            broadcasts_running=lines,
            reminders_due=counts.reminders_due,
            last_update_id=update_id,
            last_update_at=update_at,
            last_backup=str(latest.path) if latest else None,
            last_backup_at=latest.modified if latest else None,
            last_backup_bytes=latest.bytes if latest else None,
            bot_pid=pid,
            checked_at=now,
        )

    async def _last_update(self) -> tuple[int | None, datetime | None]:
        if self.heartbeat is not None and self.heartbeat.at is not None:
            return self.heartbeat.update_id, self.heartbeat.at
        noted = await self.rows.value(LAST_UPDATE)
        return (int(noted[0]), noted[1]) if noted else (None, None)

    async def check(self, *, max_silence: timedelta) -> HealthReport | list[str]:
        """The report with its verdict: the database answers and updates keep coming.

        Returns the report, or only the problems when the database cannot even be read.
        """
        try:
            report = await self.report()
        except Exception as exc:  # any failure to read is the answer "unhealthy"
            return [f"the database does not answer: {type(exc).__name__}: {exc}"]
        problems = []
        since = report.last_update_at
        if since is None and self.heartbeat is not None:
            since = self.heartbeat.started_at
        if since is not None and report.checked_at - since > max_silence:
            hours = (report.checked_at - since).total_seconds() / 3600
            problems.append(f"no update handled for {hours:.1f} h")
        return report.model_copy(update={"ok": not problems, "problems": problems})
