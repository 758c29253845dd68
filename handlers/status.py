"""/status: how the bot is doing, for admins; the same report as ``talentbot status``."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler

from bot.services.health import HealthService
from bot.status_view import status_text
from handlers.common import admin_only, send
from handlers.context import BotContext


@admin_only
async def show_status(update: Update, context: BotContext) -> None:
    """Show the health report in the admin's language."""
    health: HealthService = context.bot_data["health"]
    report = await health.check(max_silence=context.services.settings.health_max_silence)
    if isinstance(report, list):
        # The database did not answer; say so rather than fail.
        text = "\n".join(context.t("status.problem", problem=problem) for problem in report)
    else:
        services = context.services
        text = status_text(
            services.translator, context.viewer.locale, services.settings.tz, report
        )
    await send(update, context, text)


def setup(application: Application) -> None:
    """Register /status."""
    application.add_handler(CommandHandler("status", show_status))
