"""A command is never refused because a question is open: it closes the dialog, then runs.

Every dialog (a ``ConversationHandler``) declares how it closes for a command of the bot
(``leave_on_command``): registration keeps what was answered, the others drop their half-filled
form and say so. Before the features see a command, every dialog the user has open is closed
that way, through the dialog's own handler so that PTB ends the conversation; then the command
reaches its own handler as if no question had been open — the entry point of another dialog
included, which an open dialog further down the handler list could not otherwise let through.
``/cancel`` stays each dialog's own; an unknown command leaves the question open.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import Application, ConversationHandler, MessageHandler, filters

from handlers.context import BotContext
from handlers.menus import COMMANDS
from handlers.middleware import ROUTING_GROUP

Close = Callable[[Update, BotContext], Awaitable[Any]]

# The commands that leave a dialog: all of the bot's, except /cancel, which each dialog answers.
LEAVING = sorted(command.name for command in COMMANDS if command.name != "cancel")
LEAVING_COMMAND = (
    filters.ChatType.PRIVATE
    & filters.COMMAND
    & filters.Regex(re.compile(rf"^/({'|'.join(LEAVING)})(@\w+)?(\s|$)", re.IGNORECASE))
)


class LeaveHandler(MessageHandler):
    """A dialog's fallback for the bot's commands: close the dialog its own way, and end it."""

    def __init__(self, close: Close) -> None:
        async def leave(update: Update, context: BotContext) -> int:
            await close(update, context)
            return ConversationHandler.END

        super().__init__(LEAVING_COMMAND, leave)


def leave_on_command(close: Close) -> LeaveHandler:
    """The fallback that closes a dialog with ``close`` when a command of the bot arrives."""
    return LeaveHandler(close)


def command_of(update: Update) -> str | None:
    """The command a message starts with (``/Points@bot 1`` → ``points``), or None."""
    message = update.effective_message
    text = message.text if message is not None else None
    if not text or not text.startswith("/"):
        return None
    return text[1:].split(maxsplit=1)[0].split("@")[0].lower()


async def close_dialogs(update: Update, context: BotContext) -> None:
    """Close every dialog the user has open, before the command goes to its own handler."""
    application = context.application
    for group in sorted(application.handlers):
        for handler in application.handlers[group]:
            if not isinstance(handler, ConversationHandler):
                continue
            check = handler.check_update(update)
            # (state, key, handler, its check): an open dialog that would leave on this command.
            if check is not None and check[0] is not None and isinstance(check[2], LeaveHandler):
                await handler.handle_update(update, application, check, context)


def setup(application: Application) -> None:
    """Register the closing of dialogs; it runs before the features see the update."""
    application.add_handler(MessageHandler(LEAVING_COMMAND, close_dialogs), ROUTING_GROUP)
