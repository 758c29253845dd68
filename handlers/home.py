"""The home screen, /help and /language."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot.settings import SUPPORTED_LOCALES
from handlers.common import answer, edit_or_send, inline, say, send
from handlers.context import BotContext
from handlers.menus import help_text, refresh_user_menu
from handlers.middleware import reload_viewer

LANGUAGE_PREFIX = "lang:"


async def home(update: Update, context: BotContext) -> None:
    """Show a registered talent where they are and what they can do."""
    viewer = context.viewer
    assert viewer.talent is not None
    station = None
    if viewer.talent.station_id is not None:
        found = await context.services.stations.get(viewer.talent.station_id)
        station = found.name(viewer.locale) if found else None
    await say(
        update,
        context,
        "home.text",
        name=viewer.talent.name,
        station=station or context.t("profile.no_station"),
    )


async def show_help(update: Update, context: BotContext) -> None:
    """List the commands this user may use."""
    await send(update, context, help_text(context.services.translator, context.viewer))


def language_keyboard(prefix: str) -> list[list[tuple[str, str]]]:
    """One button per supported language, each named in its own language."""
    names = {"zh": "中文", "en": "English"}
    return [[(names[code], f"{prefix}{code}") for code in SUPPORTED_LOCALES]]


async def ask_language(update: Update, context: BotContext) -> None:
    """Offer the supported languages."""
    await say(update, context, "language.ask", markup=inline(language_keyboard(LANGUAGE_PREFIX)))


async def set_language(update: Update, context: BotContext) -> None:
    """Switch the user's language and their command menu with it."""
    code = (update.callback_query.data or "").removeprefix(LANGUAGE_PREFIX)
    if code not in SUPPORTED_LOCALES:
        await answer(update, context.t("common.stale_button"), alert=True)
        return
    await context.services.people.set_language(context.viewer.telegram_id, code)
    await reload_viewer(update, context)
    await answer(update)
    await edit_or_send(update, context, context.t("language.set"))
    await refresh_user_menu(context.bot, context.services.translator, context.viewer)


def setup(application: Application) -> None:
    """Register /help and /language."""
    private = filters.ChatType.PRIVATE
    application.add_handler(CommandHandler("help", show_help, filters=private))
    application.add_handler(CommandHandler("language", ask_language, filters=private))
    application.add_handler(CallbackQueryHandler(set_language, pattern=f"^{LANGUAGE_PREFIX}"))
