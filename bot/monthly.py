"""The monthly report: on the 1st at 09:00 programme time each admin receives last month's
report of every station, and each coordinator their station's.

Each (month, recipient, station) has a row, claimed before sending and settled after, so the
report goes once: a restart that morning finds it sent, and a bot that was down at 09:00 sends
it when it starts. Only a report that was in flight when the bot died can go twice.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from telegram import Bot
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.i18n import supported_locale
from bot.ratelimit import BulkSend
from bot.render.report import Composed, Sheet, compose, spreadsheet
from bot.services import Services
from bot.services.reports import Period, month_of

log = logging.getLogger(__name__)

SEND_AT = time(9, 0)
MAX_ATTEMPTS = 3
ALL = "all"


def due_month(now: datetime, tz: ZoneInfo) -> Period | None:
    """The month whose report is due at ``now``: last month, from 09:00 on the 1st."""
    local = now.astimezone(tz)
    send_at = datetime.combine(local.date().replace(day=1), SEND_AT, tzinfo=local.tzinfo)
    if local < send_at:
        return None
    return month_of(local.date().replace(day=1) - timedelta(days=1))


class MonthlyReports:
    """Sends what is due; safe to call at any time and as often as wanted."""

    def __init__(self, bot: Bot, services: Services) -> None:
        self.bot = bot
        self.services = services
        # The job at start and the daily one may meet; one at a time reads the rows right.
        self._lock = asyncio.Lock()

    async def send_due(self) -> int:
        """Send last month's reports not sent yet; return how many went out now."""
        async with self._lock:
            services = self.services
            period = due_month(services.clock.now(), services.settings.tz)
            if period is None:
                return 0
            month = f"{period.first:%Y-%m}"
            rows = services.reports.reports
            installed = await rows.installed_at()
            if installed is not None and installed >= period.bounds(services.settings.tz)[1]:
                # The bot was set up after that month: a report of nothing would only puzzle
                # the office (and a new deployment's first start is not the 1st of a month).
                return 0
            recipients: list[tuple[int, int | None, str | None]] = [
                (admin, None, await rows.language_of(admin))
                for admin in sorted(services.settings.admin_ids)
            ]
            recipients += [
                (telegram_id, station, language)
                for telegram_id, station, language in await rows.coordinators()
                if telegram_id not in services.settings.admin_ids
            ]
            made: dict[tuple[int | None, str], tuple[Composed, Sheet]] = {}
            sent = 0
            for telegram_id, station, language in recipients:
                scope = ALL if station is None else f"station:{station}"
                claimed = await rows.claim_delivery(
                    month, telegram_id, scope, now=services.clock.now(), max_attempts=MAX_ATTEMPTS
                )
                if not claimed:
                    continue
                locale = supported_locale(language) or services.translator.default_locale
                if (station, locale) not in made:
                    report = await services.reports.build(station, period)
                    made[station, locale] = (
                        await compose(services.translator, locale, report),
                        await spreadsheet(services.translator, locale, services.reports, report),
                    )
                status, error = await self._send(telegram_id, locale, *made[station, locale])
                await rows.settle_delivery(
                    month, telegram_id, scope, status, now=services.clock.now(), error=error
                )
                sent += status == "sent"
            return sent

    async def _send(
        self, chat_id: int, locale: str, composed: Composed, sheet: Sheet
    ) -> tuple[str, str | None]:
        """The summary, the chart and the spreadsheet, through the bulk lane."""
        intro = self.services.translator(locale, "reports.monthly_intro")
        bulk = BulkSend()
        try:
            await self.bot.send_message(
                chat_id, f"{intro}\n\n{composed.text}", rate_limit_args=bulk
            )
            await self.bot.send_photo(
                chat_id,
                composed.chart,
                caption=composed.caption,
                filename=composed.chart_name,
                rate_limit_args=bulk,
            )
            await self.bot.send_document(
                chat_id, sheet.data, filename=sheet.name, rate_limit_args=bulk
            )
        except Forbidden as exc:
            return "unreachable", str(exc)
        except BadRequest as exc:
            if "chat not found" in str(exc).lower():
                return "unreachable", str(exc)
            log.warning("monthly report to %s refused: %s", chat_id, exc)
            return "failed", str(exc)
        except TelegramError as exc:
            log.warning("monthly report to %s not sent: %s", chat_id, exc)
            return "failed", str(exc)
        return "sent", None
