"""The health report as lines of text: the same words in ``/status`` and ``talentbot status``."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.i18n import Translator, fmt_date, fmt_datetime, fmt_number
from bot.services.health import HealthReport


def megabytes(size: int, locale: str) -> str:
    """A size in megabytes, to one decimal."""
    return fmt_number(round(size / 1_000_000, 1), locale)


def status_text(t: Translator, locale: str, tz: ZoneInfo, report: HealthReport) -> str:
    """The report in ``locale``, one fact a line."""

    def when(moment: datetime) -> str:
        return fmt_datetime(moment, locale, tz)

    lines = [
        t(locale, "status.title"),
        t(
            locale,
            "status.database",
            path=report.database,
            size=megabytes(report.database_bytes, locale),
            version=report.schema_version,
        ),
    ]
    if report.schema_version < report.newest_schema:
        lines.append(
            t(
                locale,
                "status.schema_behind",
                version=report.schema_version,
                newest=report.newest_schema,
            )
        )
    if report.bot_pid is not None:
        lines.append(t(locale, "status.bot_running", pid=report.bot_pid))
    else:
        lines.append(t(locale, "status.bot_stopped"))
    lines.append(t(locale, "status.talents", count=fmt_number(report.talents, locale)))
    lines.append(
        t(
            locale,
            "status.activities",
            since=fmt_date(report.season_from, locale),
            count=fmt_number(report.activities_this_season, locale),
        )
    )
    if not report.broadcasts_running:
        lines.append(t(locale, "status.broadcasts_none"))
    for line in report.broadcasts_running:
        lines.append(
            t(
                locale,
                "status.broadcast",
                id=line.id,
                sent=fmt_number(line.sent, locale),
                total=fmt_number(line.total, locale),
                pending=fmt_number(line.pending, locale),
            )
        )
    lines.append(t(locale, "status.reminders_due", count=fmt_number(report.reminders_due, locale)))
    if report.last_update_at is not None:
        lines.append(
            t(
                locale,
                "status.last_update",
                when=when(report.last_update_at),
                id=report.last_update_id,
            )
        )
    else:
        lines.append(t(locale, "status.last_update_none"))
    if report.last_backup_at is not None and report.last_backup_bytes is not None:
        lines.append(
            t(
                locale,
                "status.last_backup",
                when=when(report.last_backup_at),
                size=megabytes(report.last_backup_bytes, locale),
                path=report.last_backup,
            )
        )
    else:
        lines.append(t(locale, "status.last_backup_none"))
    for problem in report.problems:
        lines.append(t(locale, "status.problem", problem=problem))
    return "\n".join(lines)
