"""/mydata and /deleteme: a talent sees everything stored about them, and can erase it."""

from __future__ import annotations

import logging

from telegram import BotCommandScopeChat, Update
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot.i18n import fmt_number
from handlers.activities import tell_promoted
from handlers.common import answer, edit_or_send, inline, int_arg, say
from handlers.context import BotContext
from handlers.middleware import reload_viewer

log = logging.getLogger(__name__)

PREFIX = "priv"


async def my_data(update: Update, context: BotContext) -> None:
    """Send everything stored about the user as a file, with a short summary."""
    talent = context.viewer.talent
    services = context.services
    data = await services.privacy.export(talent.id) if talent is not None else None
    if data is None:
        await say(update, context, "privacy.nothing_stored")
        return
    figures = services.privacy.summary(data)
    locale = context.viewer.locale
    await say(
        update,
        context,
        "privacy.mydata",
        roles=fmt_number(figures.roles, locale),
        signups=fmt_number(figures.signups, locale),
        checkins=fmt_number(figures.checkins, locale),
        hours=fmt_number(figures.hours, locale),
        entries=fmt_number(figures.ledger_entries, locale),
        balance=fmt_number(figures.balance, locale),
        vouchers=fmt_number(figures.vouchers, locale),
        off=fmt_number(figures.notifications_off, locale),
        reminders=fmt_number(figures.reminders, locale),
    )
    day = services.clock.now().astimezone(services.settings.tz).date().isoformat()
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_document(
        chat.id,
        services.privacy.export_file(data),
        filename=f"mydata-{day}.json",
    )


async def delete_me(update: Update, context: BotContext) -> None:
    """Explain what erasing removes and what stays, and ask to confirm."""
    talent = context.viewer.talent
    if talent is None:
        await say(update, context, "privacy.nothing_stored")
        return
    balance = await context.services.checkins.points.balance(talent.id)
    t = context.t
    await say(
        update,
        context,
        "privacy.delete_confirm",
        balance=fmt_number(balance, context.viewer.locale),
        # The button names the talent row it erases: an old button pressed after the person
        # registered again must not erase their new account.
        markup=inline(
            [
                [(t("privacy.delete_yes"), f"{PREFIX}:erase:{talent.id}")],
                [(t("privacy.delete_no"), f"{PREFIX}:keep")],
            ]
        ),
    )


async def erase(update: Update, context: BotContext) -> None:
    """Erase the user's personal data, after they confirmed."""
    talent = context.viewer.talent
    if talent is None or int_arg(update, 2) != talent.id:
        await answer(update, context.t("common.stale_button"), alert=True)
        return
    await answer(update)
    services = context.services
    erasure = await services.privacy.erase(talent.id)
    if erasure is None:
        await edit_or_send(update, context, context.t("privacy.nothing_stored"))
        return
    # Half-filled forms may hold answers typed before the erasure.
    context.application.drop_user_data(context.viewer.telegram_id)
    await edit_or_send(update, context, context.t("privacy.deleted"))
    await reload_viewer(update, context)
    try:
        # The person is a stranger now: the menus for everyone apply again.
        await context.bot.delete_my_commands(scope=BotCommandScopeChat(context.viewer.telegram_id))
    except TelegramError as exc:
        # The erasure is done either way; a leftover menu only offers commands that refuse.
        log.warning("could not reset the menu of %s: %s", context.viewer.telegram_id, exc)
    for activity_id, promoted in erasure.promoted:
        await tell_promoted(context, promoted, activity_id)


async def keep(update: Update, context: BotContext) -> None:
    """The user changed their mind."""
    await answer(update)
    await edit_or_send(update, context, context.t("privacy.kept"))


def setup(application: Application) -> None:
    """Register /mydata, /deleteme and the confirmation buttons."""
    private = filters.ChatType.PRIVATE
    application.add_handler(CommandHandler("mydata", my_data, filters=private))
    application.add_handler(CommandHandler("deleteme", delete_me, filters=private))
    application.add_handler(CallbackQueryHandler(erase, pattern=rf"^{PREFIX}:erase:\d+$"))
    application.add_handler(CallbackQueryHandler(keep, pattern=rf"^{PREFIX}:keep$"))
