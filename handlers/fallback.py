"""Last in line: whatever no feature took still gets a clear answer."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from handlers.common import already_done, answer, once_key, say
from handlers.context import BotContext
from handlers.home import is_staff


async def nothing_to_cancel(update: Update, context: BotContext) -> None:
    """/cancel outside any dialog."""
    await say(update, context, "common.nothing_to_cancel")


async def unknown_command(update: Update, context: BotContext) -> None:
    """A command the bot does not have (or this user may not use)."""
    await say(update, context, "common.unknown_command")


async def not_understood(update: Update, context: BotContext) -> None:
    """Free text, stickers and the like outside a dialog."""
    # Staff need no profile, so they are not sent to register.
    known = context.viewer.registered or is_staff(context.viewer)
    key = "common.not_understood" if known else "common.please_start"
    await say(update, context, key)


async def expired_button(update: Update, context: BotContext) -> None:
    """A button of a dialog that is over, or of a message from before a restart.

    A confirm button pressed again after its dialog ended lands here: it says it was done.
    """
    key = once_key(update)
    if key is not None and await context.services.presses.spent(key):
        await already_done(update, context)
        return
    await answer(update, context.t("common.button_expired"), alert=True)


def setup(application: Application) -> None:
    """Register the catch-alls; must come after every feature."""
    private = filters.ChatType.PRIVATE
    application.add_handler(CommandHandler("cancel", nothing_to_cancel, filters=private))
    application.add_handler(MessageHandler(filters.COMMAND & private, unknown_command))
    application.add_handler(MessageHandler(private, not_understood))
    application.add_handler(CallbackQueryHandler(expired_button))
