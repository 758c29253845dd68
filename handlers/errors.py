"""The one error handler: log with the traceback, tell the user briefly, ignore blocked chats."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import Forbidden

from handlers.context import BotContext

log = logging.getLogger(__name__)


async def on_error(update: object, context: BotContext) -> None:
    """Log an unexpected error and say something went wrong, without internals."""
    error = context.error
    if isinstance(error, Forbidden):
        # The user blocked the bot; there is nobody to tell.
        log.info("forbidden while handling an update: %s", error)
        return
    if not isinstance(update, Update):
        log.error("unhandled error outside an update", exc_info=error)
        return
    # The update id is in the log line and in the apology, so a complaint can be traced.
    log.error("unhandled error while handling update %s", update.update_id, exc_info=error)
    if update.effective_chat is None:
        return
    translator = context.services.translator
    locale = translator.default_locale
    user = update.effective_user
    try:
        if user is not None:
            locale = (await context.services.people.viewer(user.id, user.language_code)).locale
    except Exception:
        log.exception("could not load the user's language for the error message")
    text = translator(locale, "common.error_ref", ref=update.update_id)
    try:
        await context.bot.send_message(chat_id=update.effective_chat.id, text=text)
    except Exception:
        log.exception("could not tell the user about the error")
