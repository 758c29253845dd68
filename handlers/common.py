"""Small pieces every feature's glue uses: replying, keyboards, permission guards."""

from __future__ import annotations

import functools
import logging
import re
import secrets
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import BadRequest
from telegram.ext import ConversationHandler

from bot.render import plain
from handlers.context import BotContext
from storage.presses import Press

log = logging.getLogger(__name__)

# A confirm button's data ends with a random key (12 bytes: 16 characters) that is spent when
# it acts, so a double tap, or a press delivered twice, acts once. Patterns end with ONCE.
ONCE = r"[A-Za-z0-9_-]{16}"
_ONCE_KEY = re.compile(ONCE)

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None
Callback = Callable[[Update, BotContext], Awaitable[Any]]


def inline(rows: Sequence[Sequence[tuple[str, str]]]) -> InlineKeyboardMarkup:
    """An inline keyboard from rows of (label, callback data); empty rows are left out."""
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(label, callback_data=data) for label, data in row]
            for row in rows
            if row
        ]
    )


async def send(
    update: Update, context: BotContext, text: str, *, markup: Markup = None
) -> Message:
    """Send ``text`` (HTML) to the chat the update came from."""
    chat = update.effective_chat
    assert chat is not None
    return await context.bot.send_message(chat_id=chat.id, text=text, reply_markup=markup)


async def say(
    update: Update, context: BotContext, key: str, *, markup: Markup = None, **params: Any
) -> Message:
    """Send the catalog text ``key`` in the viewer's language."""
    return await send(update, context, context.t(key, **params), markup=markup)


async def answer(update: Update, text: str | None = None, *, alert: bool = False) -> None:
    """Answer a button press (stops the spinner), quietly if the query already expired."""
    query = update.callback_query
    if query is None:
        return
    try:
        await query.answer(text=text, show_alert=alert)
    except BadRequest as exc:
        # A query older than Telegram's limit can no longer be answered; the rest still works.
        log.info("could not answer callback query: %s", exc)


async def edit_or_send(
    update: Update, context: BotContext, text: str, *, markup: InlineKeyboardMarkup | None = None
) -> None:
    """Replace the message a button sits on; send a new one when it cannot be edited."""
    query = update.callback_query
    if query is not None and query.message is not None:
        try:
            await query.edit_message_text(text=text, reply_markup=markup)
            return
        except BadRequest as exc:
            if "not modified" in str(exc).lower():
                return
            log.info("could not edit message, sending a new one: %s", exc)
    await send(update, context, text, markup=markup)


async def show(
    update: Update,
    context: BotContext,
    text: str,
    *,
    markup: InlineKeyboardMarkup | None = None,
    edit: bool,
) -> None:
    """Send ``text``; or, with ``edit`` (a page turned, a card refreshed), put it in place of
    the message the pressed button sits on."""
    if edit:
        await edit_or_send(update, context, text, markup=markup)
    else:
        await send(update, context, text, markup=markup)


async def refuse(update: Update, context: BotContext) -> None:
    """Tell the user they may not do this; nothing else happens."""
    text = context.t("common.not_allowed")
    if update.callback_query is not None:
        await answer(update, text, alert=True)
    else:
        await send(update, context, text)


def admin_only(callback: Callback) -> Callback:
    """Run ``callback`` only for admins; everyone else is refused and any dialog ends."""

    @functools.wraps(callback)
    async def guarded(update: Update, context: BotContext) -> Any:
        if not context.viewer.is_admin:
            await refuse(update, context)
            return ConversationHandler.END
        return await callback(update, context)

    return guarded


def coordinators_only(callback: Callback) -> Callback:
    """Run ``callback`` for coordinators and admins only, on every step and button.

    The check repeats on every step because a role can be lost in the middle of a dialog; a
    refused user's half-written activity or broadcast is dropped.
    """

    @functools.wraps(callback)
    async def guarded(update: Update, context: BotContext) -> Any:
        if not context.viewer.is_coordinator:
            await refuse(update, context)
            context.user_data.activity = None
            context.user_data.broadcast = None
            return ConversationHandler.END
        return await callback(update, context)

    return guarded


def label(context: BotContext, key: str, /, **params: object) -> str:
    """A catalog text for a button: plain text, so a name with ``&`` or ``<`` is not escaped."""
    return plain(context.services.translator, context.viewer.locale, key, **params)


def person_name(context: BotContext, name: str | None) -> str:
    """A talent's name in a list; a talent who has no name any more deleted their account."""
    return name or context.t("privacy.deleted_name")


def callback_arg(update: Update, index: int) -> str | None:
    """The ``index``-th colon-separated part of the pressed button's data, or None."""
    query = update.callback_query
    if query is None or not isinstance(query.data, str):
        return None
    parts = query.data.split(":")
    return parts[index] if len(parts) > index else None


def int_arg(update: Update, index: int) -> int | None:
    """Like ``callback_arg`` but a non-negative integer, or None for anything else."""
    value = callback_arg(update, index)
    return int(value) if value is not None and value.isdigit() and len(value) < 12 else None


def once(data: str) -> str:
    """Callback data for a confirm button: ``data`` and a fresh key, so that it acts once."""
    return f"{data}:{secrets.token_urlsafe(12)}"


def once_key(update: Update) -> str | None:
    """The key at the end of a pressed confirm button's data, or None."""
    query = update.callback_query
    if query is None or not isinstance(query.data, str):
        return None
    key = query.data.rsplit(":", 1)[-1]
    return key if _ONCE_KEY.fullmatch(key) else None


def press_of(update: Update, context: BotContext, action: str) -> Press | None:
    """The press of a confirm button, for the service that acts once; None without a key."""
    key = once_key(update)
    return None if key is None else Press(key=key, action=action, by=context.viewer.telegram_id)


async def already_done(update: Update, context: BotContext) -> None:
    """Tell a second press of a confirm button that the first one did it; nothing changed."""
    await answer(update, context.t("common.already_done"), alert=True)
