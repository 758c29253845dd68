"""The partner's desk: /verify and voucher links, Mark used, and /statement for settlement.

Partners verify their own rewards; coordinators of the partner's station and admins may too.
"""

from __future__ import annotations

import warnings
from enum import IntEnum

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.exports import csv_bytes, safe_filename
from bot.i18n import Html, fmt_date, fmt_datetime, fmt_month, fmt_number
from bot.services.errors import InvalidInput, NotAllowed
from bot.services.rewards import VOUCHER_PREFIX, normalise_code, show_code
from handlers.common import (
    ONCE,
    admin_only,
    already_done,
    answer,
    callback_arg,
    edit_or_send,
    inline,
    int_arg,
    once,
    person_name,
    press_of,
    refuse,
    say,
    send,
    show,
)
from handlers.context import BotContext
from handlers.dialogs import leave_on_command
from handlers.paging import page_arg, pager, paginate, stations_among
from handlers.rewards import send_voucher
from storage.models import Reward, Voucher
from storage.presses import AlreadyDone

# Years a statement button may name; the upper end leaves room for "the month after".
STATEMENT_YEARS = (2000, 9998)

# -- partners and coordinators at the desk ------------------------------------------------------


ASK_CANCEL = "vc:askcancel"


class VerifyStep(IntEnum):
    CODE = 1


async def verify_command(update: Update, context: BotContext) -> int:
    """/verify CODE; without the code, ask for it."""
    if not (context.viewer.is_partner or context.viewer.is_coordinator):
        await refuse(update, context)
        return ConversationHandler.END
    typed = " ".join(context.args or [])
    if not typed.strip():
        return await ask_code(update, context)
    await show_for_desk(update, context, typed)
    return ConversationHandler.END


async def ask_code(update: Update, context: BotContext, *, note: str | None = None) -> int:
    """Ask for the voucher's code, with a way out."""
    text = context.t("rewards.ask_code")
    markup = inline([[(context.t("reg.cancel"), ASK_CANCEL)]])
    await send(update, context, f"{note}\n\n{text}" if note else text, markup=markup)
    return VerifyStep.CODE


async def typed_code(update: Update, context: BotContext) -> int:
    """The next text after /verify is the code (who may see what is checked as ever)."""
    await show_for_desk(update, context, update.effective_message.text or "")
    return ConversationHandler.END


async def not_a_code(update: Update, context: BotContext) -> int:
    """A photo, a sticker or a command the bot does not have, while the code is asked for."""
    command = (update.effective_message.text or "").startswith("/")
    key = "common.unknown_command" if command else "rewards.type_code"
    return await ask_code(update, context, note=context.t(key))


async def stale_while_asking(update: Update, context: BotContext) -> int:
    """A button of another message while the code is asked for."""
    await answer(update)
    return await ask_code(update, context, note=context.t("common.stale_button"))


async def cancel_verify(update: Update, context: BotContext) -> int:
    """Stop asking for a code."""
    await answer(update)
    await say(update, context, "rewards.verify_cancelled")
    return ConversationHandler.END


async def voucher_link(update: Update, context: BotContext) -> None:
    """``/start v-<code>``: the desk sees it to verify; its owner just sees it."""
    payload = (context.args or [""])[0].removeprefix(VOUCHER_PREFIX)
    await show_for_desk(update, context, payload)


async def show_for_desk(update: Update, context: BotContext, typed: str) -> None:
    """The voucher with its reward and owner; Mark used for those who may."""
    code = normalise_code(typed)
    if code is None:
        await say(update, context, "rewards.bad_code")
        return
    try:
        voucher, reward, may = await context.services.rewards.look_up(context.viewer, code)
    except InvalidInput as exc:
        await say(update, context, exc.key, **exc.params)
        return
    except NotAllowed:
        await refuse(update, context)
        return
    if not may:
        await send_voucher(update, context, voucher)
        return
    text, markup = await desk_view(context, voucher, reward)
    await send(update, context, text, markup=markup)


async def desk_view(
    context: BotContext, voucher: Voucher, reward: Reward
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The desk's card of a voucher, with Mark used (and for admins Cancel) while it is valid."""
    rows = []
    if voucher.status == "valid":
        rows.append([(context.t("rewards.mark_used"), f"vc:ask:{voucher.code}")])
        if context.viewer.is_admin:
            rows.append([(context.t("rewards.cancel_voucher"), once(f"vc:cancel:{voucher.id}"))])
    return await desk_text(context, voucher, reward), inline(rows) if rows else None


async def desk_voucher(update: Update, context: BotContext) -> tuple[Voucher, Reward] | None:
    """The voucher a desk button names, if the viewer may mark it used; else they are told."""
    code = normalise_code(callback_arg(update, 2))
    try:
        if code is None:
            raise InvalidInput("common.stale_button")
        voucher, reward, may = await context.services.rewards.look_up(context.viewer, code)
        if not may:  # its owner may look at it, not mark it
            raise NotAllowed
    except InvalidInput:
        await answer(update, context.t("common.stale_button"), alert=True)
        return None
    except NotAllowed:
        await refuse(update, context)
        return None
    return voucher, reward


async def confirm_use(update: Update, context: BotContext) -> None:
    """Ask before marking used: it cannot be undone."""
    found = await desk_voucher(update, context)
    if found is None:
        return
    voucher, reward = found
    await answer(update)
    text, markup = await desk_view(context, voucher, reward)
    if voucher.status == "valid":
        text = f"{text}\n\n{context.t('rewards.use_confirm', talent=voucher.talent_name or '?')}"
        markup = inline(
            [
                [(context.t("rewards.use_yes"), once(f"vc:use:{voucher.code}"))],
                [(context.t("reg.back"), f"vc:desk:{voucher.code}")],
            ]
        )
    await edit_or_send(update, context, text, markup=markup)


async def back_to_desk(update: Update, context: BotContext) -> None:
    """Not now: the voucher's card again, in place."""
    found = await desk_voucher(update, context)
    if found is not None:
        await answer(update)
        text, markup = await desk_view(context, *found)
        await edit_or_send(update, context, text, markup=markup)


async def desk_text(context: BotContext, voucher: Voucher, reward: Reward) -> str:
    """What the desk needs to see."""
    locale = context.viewer.locale
    tz = context.services.settings.tz
    status = context.t(f"rewards.status_{voucher.status}")
    if voucher.status == "used" and voucher.used_at is not None:
        status = context.t(
            "rewards.used_when",
            when=fmt_datetime(voucher.used_at, locale, tz),
            by=await context.services.people.name_of(voucher.used_by or 0, locale),
        )
    return context.t(
        "rewards.desk",
        name=reward.name(locale),
        talent=person_name(context, voucher.talent_name),
        code=show_code(voucher.code),
        until=fmt_date(voucher.valid_until.astimezone(tz).date(), locale),
        status=status,
    )


async def mark_used(update: Update, context: BotContext) -> None:
    """Mark used, once; a second time says when and by whom."""
    code = normalise_code(callback_arg(update, 2))
    if code is None:
        await answer(update, context.t("common.stale_button"), alert=True)
        return
    try:
        outcome = await context.services.rewards.use(
            context.viewer, code, press=press_of(update, context, "use")
        )
    except AlreadyDone:
        await already_done(update, context)
        return
    except NotAllowed:
        await refuse(update, context)
        return
    except InvalidInput as exc:
        await answer(update, context.t(exc.key, **exc.params), alert=True)
        return
    await answer(update, context.t(f"rewards.use_{outcome}"), alert=outcome != "used")
    voucher, reward, _ = await context.services.rewards.look_up(context.viewer, code)
    await edit_or_send(update, context, await desk_text(context, voucher, reward))


@admin_only
async def cancel_voucher(update: Update, context: BotContext) -> None:
    """An admin cancels a voucher: points and stock go back."""
    voucher_id = int_arg(update, 2) or 0
    try:
        done = await context.services.rewards.cancel(
            context.viewer, voucher_id, press=press_of(update, context, "cancel_voucher")
        )
    except AlreadyDone:
        await already_done(update, context)
        return
    await answer(
        update, context.t("rewards.cancelled" if done else "rewards.not_valid"), alert=True
    )
    voucher = await context.services.rewards.rewards.voucher_by_id(voucher_id)
    if voucher is not None:
        reward = await context.services.rewards.rewards.get(voucher.reward_id)
        assert reward is not None
        await edit_or_send(update, context, await desk_text(context, voucher, reward))


# -- statements ---------------------------------------------------------------------------------


async def statement_command(update: Update, context: BotContext) -> None:
    """/statement: pick a partner (admins: any, ten a page) and a month."""
    allowed = context.services.rewards.stations_for_statement(context.viewer)
    if allowed == []:
        await refuse(update, context)
        return
    await answer(update)
    stations = await stations_among(context, allowed)
    now = context.services.clock.now().astimezone(context.services.settings.tz)
    months = [(now.year, now.month), (now.year - (now.month == 1), (now.month - 2) % 12 + 1)]
    page = callback_arg(update, 1)
    shown = paginate(stations, page_arg(page))
    rows = []
    for station in shown.items:
        for year, month in months:
            rows.append(
                [(f"{station.name(context.viewer.locale)} · "
                  f"{fmt_month(year, month, context.viewer.locale)}",
                  f"st:{station.id}:{year}:{month}")]
            )  # fmt: skip
    rows.append(pager(context, shown.number, shown.count, lambda n: f"stp:{n}"))
    text = context.t("rewards.statement_pick")
    await show(update, context, text, markup=inline(rows), edit=page is not None)


def statement_args(update: Update) -> tuple[int, int, int] | None:
    """Station, year and month of a statement button (``st:<station>:<year>:<month>``).

    Only the buttons /statement makes (this month and last) are in range; anything else is a
    button from some other message, or a forged one.
    """
    station_id, year, month = (int_arg(update, i) for i in (1, 2, 3))
    if station_id is None or year is None or month is None:
        return None
    if not (STATEMENT_YEARS[0] <= year <= STATEMENT_YEARS[1] and 1 <= month <= 12):
        return None
    return station_id, year, month


async def statement_button(update: Update, context: BotContext) -> None:
    """The statement as a message and a CSV file."""
    args = statement_args(update)
    if args is None:
        await answer(update, context.t("common.stale_button"), alert=True)
        return
    station_id, year, month = args
    services = context.services
    try:
        rows = await services.rewards.statement(
            context.viewer, station_id, year, month, services.settings.tz
        )
    except NotAllowed:
        await refuse(update, context)
        return
    station = await services.stations.get(station_id)
    if station is None:
        await answer(update, context.t("common.stale_button"), alert=True)
        return
    await answer(update)
    locale = context.viewer.locale
    name = station.name(locale)
    month_shown = fmt_month(year, month, locale)
    total = sum(row["cost"] for row in rows)
    await say(
        update,
        context,
        "rewards.statement",
        partner=name,
        month=month_shown,
        count=fmt_number(len(rows), locale),
        points=fmt_number(total, locale),
    )
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_document(
        chat.id,
        statement_csv(context, rows),
        filename=safe_filename(
            context.t("rewards.statement_file", partner=Html(name), month=f"{year}-{month:02d}"),
            ".csv",
        ),
    )


def statement_csv(context: BotContext, rows: list[dict]) -> bytes:
    """The statement as the reader's spreadsheet shows it: their language's column names and
    reward names, times in the programme's zone; points stay numbers, to be added up."""
    locale = context.viewer.locale
    tz = context.services.settings.tz
    columns = ("code", "used_at", "reward", "talent", "points")
    return csv_bytes(
        [context.t(f"rewards.statement_col_{column}") for column in columns],
        (
            [show_code(row["code"]), fmt_datetime(row["used_at"], locale, tz),
             row[f"name_{locale}"] or row["name_zh"], row["talent"], row["cost"]]
            for row in rows
        ),
    )  # fmt: skip


def setup_deep_links(application: Application) -> None:
    """The voucher link; before the plain /start."""
    application.add_handler(
        CommandHandler(
            "start",
            voucher_link,
            filters=filters.ChatType.PRIVATE & filters.Regex(f"^/start {VOUCHER_PREFIX}"),
        )
    )


def setup_dialog(application: Application) -> None:
    """/verify, which asks for the code when it was not typed; with the other dialogs."""
    private = filters.ChatType.PRIVATE
    with warnings.catch_warnings():
        # per_message=False is deliberate: the code arrives as a message, not a button.
        warnings.filterwarnings("ignore", message=".*per_message.*")
        application.add_handler(
            ConversationHandler(
                entry_points=[CommandHandler("verify", verify_command, filters=private)],
                states={
                    VerifyStep.CODE: [
                        MessageHandler(filters.TEXT & ~filters.COMMAND & private, typed_code),
                        CallbackQueryHandler(cancel_verify, pattern=f"^{ASK_CANCEL}$"),
                        MessageHandler(~filters.COMMAND & private, not_a_code),
                        CallbackQueryHandler(stale_while_asking),
                    ]
                },
                fallbacks=[
                    CommandHandler("cancel", cancel_verify, filters=private),
                    leave_on_command(cancel_verify),
                    MessageHandler(filters.COMMAND & private, not_a_code),
                ],
                name="verify",
            )
        )


def setup(application: Application) -> None:
    """Register /statement and the desk's buttons."""
    private = filters.ChatType.PRIVATE
    application.add_handler(CommandHandler("statement", statement_command, filters=private))
    for pattern, callback in (
        (r"^vc:ask:\w+$", confirm_use),
        (r"^vc:desk:\w+$", back_to_desk),
        (rf"^vc:use:\w+:{ONCE}$", mark_used),
        (rf"^vc:cancel:\d+:{ONCE}$", cancel_voucher),
        (r"^st:\d+:\d+:\d+$", statement_button),
        (r"^stp:\d+$", statement_command),
    ):
        application.add_handler(CallbackQueryHandler(callback, pattern=pattern))
