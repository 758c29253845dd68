"""The one error handler: log with the traceback, tell the user briefly, ignore blocked chats."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import Forbidden
from telegram.ext import Application

from bot.services import Services
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
    services = context.services
    locale = await locale_of(update, services)
    text = services.translator(locale, "common.error_ref", ref=update.update_id)
    try:
        await context.bot.send_message(chat_id=update.effective_chat.id, text=text)
    except Exception:
        log.exception("could not tell the user about the error")


async def slow_down(application: Application, update: Update) -> None:
    """Tell someone whose messages were dropped for coming too fast to wait for the replies."""
    if update.effective_chat is None:
        return
    services: Services = application.bot_data["services"]
    text = services.translator(await locale_of(update, services), "common.slow_down")
    try:
        await application.bot.send_message(chat_id=update.effective_chat.id, text=text)
    except Forbidden:
        log.info("could not ask a user who blocked the bot to slow down")


async def locale_of(update: Update, services: Services) -> str:
    """The language of whoever sent ``update``, outside the handlers that load the viewer."""
    user = update.effective_user
    try:
        if user is not None:
            return (await services.people.viewer(user.id, user.language_code)).locale
    except Exception:
        log.exception("could not load the user's language")
    return services.translator.default_locale
