"""/report for coordinators (their station) and admins (any or all), and funding rates in /admin.

Every button checks again who may see which station: a forged ``rp:`` callback for another
station gets "not allowed".
"""

from __future__ import annotations

import warnings
from enum import IntEnum

from telegram import Update
from telegram.constants import ChatAction
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.render.report import compose, money, spreadsheet
from bot.services.errors import InvalidInput, NotAllowed
from bot.services.reports import Period, PeriodKind, parse_dates
from handlers.common import (
    admin_only,
    answer,
    callback_arg,
    edit_or_send,
    inline,
    int_arg,
    refuse,
    say,
    send,
)
from handlers.context import BotContext
from storage.models import StationKind

PREFIX = "rp"
FUNDING = "fr"
ALL = 0  # the station id a button uses for "all stations"
PERIOD_BUTTONS = (
    (PeriodKind.THIS_MONTH, "reports.this_month"),
    (PeriodKind.LAST_MONTH, "reports.last_month"),
    (PeriodKind.THIS_SEASON, "reports.this_season"),
    (PeriodKind.LAST_SEASON, "reports.last_season"),
)


class Step(IntEnum):
    TYPING = 1


def _scope(station_id: int) -> int | None:
    return None if station_id == ALL else station_id


def _allowed(context: BotContext, station_id: int) -> bool:
    try:
        context.services.reports.check(context.viewer, _scope(station_id))
    except NotAllowed:
        return False
    return True


# -- /report ------------------------------------------------------------------------------------


async def report_command(update: Update, context: BotContext) -> None:
    """/report: admins pick a station or all; a coordinator of one station goes to the period."""
    allowed = context.services.reports.stations_of(context.viewer)
    if allowed == []:
        await refuse(update, context)
        return
    stations = await context.services.stations.list()
    if allowed is not None:
        stations = [s for s in stations if s.id in allowed]
        if len(stations) == 1:
            await ask_period(update, context, stations[0].id)
            return
    if not stations:
        await say(update, context, "reports.no_stations")
        return
    locale = context.viewer.locale
    rows = [[(s.name(locale), f"{PREFIX}:s:{s.id}")] for s in stations]
    if allowed is None:
        rows.insert(0, [(context.t("reports.all_button"), f"{PREFIX}:s:{ALL}")])
    await send(update, context, context.t("reports.pick_station"), markup=inline(rows))


async def station_button(update: Update, context: BotContext) -> None:
    """A station (or all) was picked: which period?"""
    station_id = int_arg(update, 2)
    if station_id is None or not _allowed(context, station_id):
        await refuse(update, context)
        return
    await answer(update)
    await ask_period(update, context, station_id)


async def ask_period(update: Update, context: BotContext, station_id: int) -> None:
    """The period buttons for a station (or all)."""
    if station_id == ALL:
        scope = context.t("reports.all_stations")
    else:
        station = await context.services.stations.get(station_id)
        if station is None:
            await say(update, context, "common.stale_button")
            return
        scope = station.name(context.viewer.locale)
    t = context.t
    buttons = [(t(key), f"{PREFIX}:p:{station_id}:{kind}") for kind, key in PERIOD_BUTTONS]
    rows = [buttons[:2], buttons[2:], [(t("reports.dates"), f"{PREFIX}:d:{station_id}")]]
    await edit_or_send(update, context, t("reports.pick_period", scope=scope), markup=inline(rows))


async def period_button(update: Update, context: BotContext) -> None:
    """This or last month or season: make the report."""
    station_id = int_arg(update, 2)
    kind = callback_arg(update, 3)
    if station_id is None or not _allowed(context, station_id):
        await refuse(update, context)
        return
    try:
        period = context.services.reports.period(kind or "")
    except InvalidInput as exc:
        await answer(update, context.t(exc.key), alert=True)
        return
    await answer(update)
    await edit_or_send(update, context, context.t("reports.working"))
    await send_report(update, context, station_id, period)


async def send_report(
    update: Update, context: BotContext, station_id: int, period: Period
) -> None:
    """Count, then send the summary, the chart and the spreadsheet."""
    services = context.services
    try:
        report = await services.reports.report(context.viewer, _scope(station_id), period)
    except NotAllowed:
        await refuse(update, context)
        return
    except InvalidInput as exc:
        await say(update, context, exc.key)
        return
    locale = context.viewer.locale
    composed = await compose(services.translator, locale, report)
    chat = update.effective_chat
    assert chat is not None
    await send(update, context, composed.text)
    await context.bot.send_photo(
        chat.id, composed.chart, caption=composed.caption, filename=composed.chart_name
    )
    await context.bot.send_chat_action(chat.id, ChatAction.UPLOAD_DOCUMENT)
    sheet = await spreadsheet(services.translator, locale, services.reports, report)
    await context.bot.send_document(chat.id, sheet.data, filename=sheet.name)


async def start_dates(update: Update, context: BotContext) -> int:
    """Other dates: ask for the first and last day."""
    station_id = int_arg(update, 2)
    if station_id is None or not _allowed(context, station_id):
        await refuse(update, context)
        return ConversationHandler.END
    await answer(update)
    context.user_data.report = {"what": "dates", "station": station_id}
    return await ask_typed(update, context)


# -- funding rates in /admin --------------------------------------------------------------------


async def rates_text(context: BotContext) -> str:
    """The rates of each kind of station."""
    rates = await context.services.reports.rates()
    locale = context.viewer.locale
    currency = next(iter(rates.values())).currency
    lines = [
        context.t(
            "reports.rate_line",
            kind=context.t(f"station_kind.{kind}"),
            per_talent=money(rate.per_talent, rate.currency, locale),
            per_hour=money(rate.per_hour, rate.currency, locale),
        )
        for kind, rate in sorted(rates.items())
    ]
    return context.t("reports.rates_title", lines="\n".join(lines), currency=currency)


@admin_only
async def show_rates(update: Update, context: BotContext) -> None:
    """The funding rates, with a button for each amount and the currency."""
    await answer(update)
    t = context.t
    rows = []
    for kind in StationKind:
        name = t(f"station_kind.{kind}")
        rows.append(
            [
                (t("reports.set_talent", kind=name), f"{FUNDING}:set:{kind}:talent"),
                (t("reports.set_hour", kind=name), f"{FUNDING}:set:{kind}:hour"),
            ]
        )
    rows.append([(t("reports.set_currency"), f"{FUNDING}:cur")])
    rows.append([(t("reg.back"), "adm:menu")])
    await edit_or_send(update, context, await rates_text(context), markup=inline(rows))


@admin_only
async def start_rate(update: Update, context: BotContext) -> int:
    """Ask for one amount of a kind's rate."""
    await answer(update)
    kind, which = callback_arg(update, 2), callback_arg(update, 3)
    if kind not in set(StationKind) or which not in ("talent", "hour"):
        await say(update, context, "common.stale_button")
        return ConversationHandler.END
    context.user_data.report = {"what": "rate", "kind": kind, "which": which}
    return await ask_typed(update, context)


@admin_only
async def start_currency(update: Update, context: BotContext) -> int:
    """Ask for the currency."""
    await answer(update)
    context.user_data.report = {"what": "currency"}
    return await ask_typed(update, context)


# -- the typed answers --------------------------------------------------------------------------


async def ask_typed(update: Update, context: BotContext, *, note: str | None = None) -> int:
    """Ask the open question again (with what was wrong, if anything)."""
    form = context.user_data.report or {}
    t = context.t
    if form.get("what") == "dates":
        text = t("reports.ask_dates")
    elif form.get("what") == "rate":
        kind = t(f"station_kind.{form['kind']}")
        what = t(f"reports.set_{form['which']}", kind=kind)
        rates = await context.services.reports.rates()
        text = t("reports.ask_amount", what=what, currency=rates[StationKind.COMMUNITY].currency)
    else:
        text = t("reports.ask_currency")
    if note:
        text = f"{note}\n\n{text}"
    await send(update, context, text, markup=inline([[(t("reg.cancel"), f"{PREFIX}:cancel")]]))
    return Step.TYPING


async def typed(update: Update, context: BotContext) -> int:
    """Two dates, an amount or a currency, as the open question asks."""
    form = context.user_data.report
    if form is None:
        return await cancel(update, context)
    text = update.effective_message.text
    services = context.services
    try:
        if form["what"] == "dates":
            period = parse_dates(text, today=services.reports.today())
        elif form["what"] == "rate":
            await services.reports.set_rate(
                context.viewer, StationKind(form["kind"]), form["which"], text
            )
        else:
            await services.reports.set_currency(context.viewer, text)
    except InvalidInput as exc:
        return await ask_typed(update, context, note=context.t(exc.key, **exc.params))
    except NotAllowed:
        context.user_data.report = None
        await refuse(update, context)
        return ConversationHandler.END
    context.user_data.report = None
    if form["what"] == "dates":
        await say(update, context, "reports.working")
        await send_report(update, context, form["station"], period)
    else:
        await say(update, context, "reports.rate_saved")
        await show_rates(update, context)
    return ConversationHandler.END


async def not_text(update: Update, context: BotContext) -> int:
    """A sticker, photo or another command while a typed answer is awaited."""
    message = update.effective_message
    key = "reports.finish_first" if (message.text or "").startswith("/") else "input.need_text"
    return await ask_typed(update, context, note=context.t(key))


async def stale(update: Update, context: BotContext) -> int:
    """Another button while a typed answer is awaited."""
    await answer(update, context.t("common.stale_button"), alert=True)
    return Step.TYPING


async def cancel(update: Update, context: BotContext) -> int:
    """Leave; nothing is made or changed."""
    await answer(update)
    context.user_data.report = None
    await say(update, context, "reports.stopped")
    return ConversationHandler.END


def setup(application: Application) -> None:
    """Register /report, its buttons, the funding rates and the typed answers."""
    private = filters.ChatType.PRIVATE
    with warnings.catch_warnings():
        # per_message=False is deliberate: the dialog waits for a typed answer.
        warnings.filterwarnings("ignore", message=".*per_message.*")
        application.add_handler(
            ConversationHandler(
                entry_points=[
                    CallbackQueryHandler(start_dates, pattern=rf"^{PREFIX}:d:\d+$"),
                    CallbackQueryHandler(start_rate, pattern=rf"^{FUNDING}:set:\w+:\w+$"),
                    CallbackQueryHandler(start_currency, pattern=rf"^{FUNDING}:cur$"),
                ],
                states={
                    Step.TYPING: [
                        MessageHandler(filters.TEXT & ~filters.COMMAND, typed),
                        CallbackQueryHandler(cancel, pattern=rf"^{PREFIX}:cancel$"),
                    ]
                },
                fallbacks=[
                    CommandHandler("cancel", cancel),
                    MessageHandler(filters.ALL, not_text),
                    CallbackQueryHandler(stale),
                ],
                name="report",
            )
        )
    application.add_handler(CommandHandler("report", report_command, filters=private))
    for pattern, callback in (
        (rf"^{PREFIX}:s:\d+$", station_button),
        (rf"^{PREFIX}:p:\d+:\w+$", period_button),
        (rf"^{FUNDING}:menu$", show_rates),
    ):
        application.add_handler(CallbackQueryHandler(callback, pattern=pattern))
