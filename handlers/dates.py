"""Asking back about a date the bot had to guess: spelled out in full, with Yes and No.

Registration's stay questions and the activity dialog's start question both use it, so a guess
reads the same everywhere: "2026年12月5日 星期六 15:00，对吗？".
"""

from __future__ import annotations

from datetime import date, datetime

from telegram import Update

from bot.i18n import Html, fmt_spelled
from handlers.common import inline, send
from handlers.context import BotContext

YES, NO = "yes", "no"


def spelled(context: BotContext, value: date | datetime) -> str:
    """A date, or a moment in the programme's zone, spelled out with its weekday."""
    return fmt_spelled(value, context.viewer.locale, context.services.settings.tz)


def spelled_range(context: BotContext, start: date, end: date) -> Html:
    """Two dates spelled out: "2026年12月1日 星期二 至 2027年3月15日 星期一"."""
    return Html(context.t("when.range", start=spelled(context, start), end=spelled(context, end)))


async def ask_back(update: Update, context: BotContext, when: str, *, data: str) -> None:
    """Ask whether ``when`` is what was meant; the buttons carry ``data`` + ``:yes`` / ``:no``."""
    buttons = [(context.t("when.yes"), f"{data}:{YES}"), (context.t("when.no"), f"{data}:{NO}")]
    await send(update, context, context.t("when.ask", when=when), markup=inline([buttons]))
