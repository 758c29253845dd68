"""Requests from institutions: talents apply with a note, coordinators choose from /requests.

A request is written with the /new_activity dialog (``/new_request`` opens it in request mode,
see ``handlers.new_activity``) and is an activity: once accepted, a talent holds an ordinary
place, so reminders, check-in, hours and points are the activity's own.
"""

from __future__ import annotations

import logging
import warnings
from enum import IntEnum

from telegram import Update
from telegram.error import Forbidden, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.i18n import fmt_short_moment, fmt_span
from bot.services.errors import InvalidInput, NotAllowed
from bot.services.requests import NOTE_MAX
from handlers.activities import send_card
from handlers.common import (
    ONCE,
    already_done,
    answer,
    callback_arg,
    coordinators_only,
    inline,
    int_arg,
    once,
    person_name,
    press_of,
    refuse,
    say,
    show,
)
from handlers.context import BotContext
from handlers.dialogs import leave_on_command
from handlers.paging import page_arg, pager, paginate, text_budget
from storage.models import Activity, RoleName
from storage.models import Application as Offer
from storage.presses import AlreadyDone
from storage.requests import ApplyOutcome, DecideOutcome

log = logging.getLogger(__name__)

PREFIX = "rq"
PER_PAGE = 5


class Step(IntEnum):
    NOTE = 1


# -- on a request's page ------------------------------------------------------------------------


async def apply_rows(
    context: BotContext, activity: Activity
) -> tuple[str, list[list[tuple[str, str]]]]:
    """What a talent without a place sees on a request's page: how their application stands,
    or the button to apply."""
    t = context.t
    talent = context.viewer.talent
    assert talent is not None
    offer = await context.services.requests.requests.of_talent(activity.id, talent.id)
    if offer is not None:
        # Here an accepted talent holds no place any more: they gave it up.
        status = "gave_up" if offer.status == "accepted" else offer.status
        return t(f"request.you_{status}"), []
    if activity.request != "open":
        return t("request.closed_line"), []
    return t("request.how_to_apply"), [[(t("request.apply"), f"{PREFIX}:apply:{activity.id}")]]


# -- applying -----------------------------------------------------------------------------------


async def begin_apply(update: Update, context: BotContext) -> int:
    """Ask for the short note that goes with an application."""
    await answer(update)
    activity_id = int_arg(update, 2)
    if not context.viewer.registered:
        await say(update, context, "activity.register_first")
        return ConversationHandler.END
    activity = await context.services.requests.request(activity_id or 0)
    if activity is None or activity.request != "open":
        await say(update, context, "request.not_open")
        return ConversationHandler.END
    context.user_data.application = activity.id
    return await ask_note(update, context)


async def ask_note(update: Update, context: BotContext, *, note: str | None = None) -> int:
    t = context.t
    text = t("request.ask_note", max=NOTE_MAX)
    if note:
        text = f"{note}\n\n{text}"
    rows = [[(t("request.no_note"), f"{PREFIX}:note:skip")],
            [(t("reg.cancel"), f"{PREFIX}:note:cancel")]]  # fmt: skip
    await show(update, context, text, markup=inline(rows), edit=False)
    return Step.NOTE


async def on_note(update: Update, context: BotContext) -> int:
    """The note, typed."""
    return await submit(update, context, update.effective_message.text or "")


async def on_note_button(update: Update, context: BotContext) -> int:
    """Apply without a note, or cancel."""
    await answer(update)
    if callback_arg(update, 2) == "skip":
        return await submit(update, context, "")
    return await cancel_apply(update, context)


async def on_other(update: Update, context: BotContext) -> int:
    """A sticker, a photo, a voice message, an unknown command: the note is text."""
    message = update.effective_message
    command = message is not None and (message.text or "").startswith("/")
    key = "common.unknown_command" if command else "input.need_text"
    return await ask_note(update, context, note=context.t(key))


async def submit(update: Update, context: BotContext, note: str) -> int:
    """Store the application and say what happens next."""
    activity_id = context.user_data.application
    if activity_id is None:
        await say(update, context, "common.stale_button")
        return ConversationHandler.END
    try:
        outcome = await context.services.requests.apply(context.viewer, activity_id, note)
    except InvalidInput as exc:
        return await ask_note(update, context, note=context.t(exc.key, **exc.params))
    except NotAllowed:
        context.user_data.application = None
        await refuse(update, context)
        return ConversationHandler.END
    context.user_data.application = None
    await say(update, context, f"request.outcome_{outcome}")
    if outcome == ApplyOutcome.APPLIED:
        await send_card(update, context, activity_id, edit=False)
        await tell_coordinators(context, activity_id)
    return ConversationHandler.END


async def tell_coordinators(context: BotContext, activity_id: int) -> None:
    """Tell the request's station's coordinators that someone applied, with a way to choose."""
    services = context.services
    activity = await services.activities.activities.get(activity_id)
    applicant = context.viewer.talent
    if activity is None or activity.station_id is None or applicant is None:
        return
    for talent_id in await services.roles.holders(activity.station_id, RoleName.COORDINATOR):
        if talent_id != applicant.id:
            await tell_talent(
                context, talent_id, activity_id, "request.new_applicant",
                name=applicant.name or "", view=f"{PREFIX}:view:{activity_id}:0",
            )  # fmt: skip


async def cancel_apply(update: Update, context: BotContext) -> int:
    """Leave without applying."""
    context.user_data.application = None
    await say(update, context, "request.apply_cancelled")
    return ConversationHandler.END


# -- coordinators: /requests, applicants, decisions ---------------------------------------------


@coordinators_only
async def list_requests(update: Update, context: BotContext) -> None:
    """/requests: the requests of the coordinator's stations, with how many wait for an answer."""
    await answer(update)
    found = await context.services.requests.open_requests(context.viewer)
    if not found:
        await say(update, context, "request.list_empty")
        return
    page = callback_arg(update, 2)
    shown = paginate(found, page_arg(page))
    locale, tz = context.viewer.locale, context.services.settings.tz
    t = context.t
    rows = [
        [(t("request.list_line", when=fmt_short_moment(a.starts_at, locale, tz), title=a.title,
            waiting=pending), f"{PREFIX}:view:{a.id}:0")]
        for a, pending in shown.items
    ]  # fmt: skip
    rows.append(pager(context, shown.number, shown.count, lambda n: f"{PREFIX}:list:{n}"))
    await show(
        update, context, t("request.list_title"), markup=inline(rows), edit=page is not None
    )


async def view_applicants(update: Update, context: BotContext) -> None:
    """The applicants of one request, a page at a time, with a button for each decision."""
    activity_id = int_arg(update, 2)
    try:
        await show_applicants(
            update, context, activity_id or 0, page=page_arg(callback_arg(update, 3))
        )
    except NotAllowed:
        await refuse(update, context)
        return
    await answer(update)


async def show_applicants(
    update: Update, context: BotContext, activity_id: int, *, page: int, note: str | None = None
) -> None:
    services = context.services
    activity, offers = await services.requests.applicants(context.viewer, activity_id)
    t = context.t
    locale, tz = context.viewer.locale, services.settings.tz
    talents = {o.talent_id: await services.talents.get(o.talent_id) for o in offers}

    def line(offer: Offer) -> str:
        talent = talents.get(offer.talent_id)
        fields = ", ".join(t(f"expertise.{code}") for code in (talent.expertise if talent else ()))
        return t(
            "request.applicant",
            name=person_name(context, talent.name if talent else None),
            title=(talent.title if talent else None) or t("profile.blank"),
            expertise=fields or t("profile.blank"),
            status=t(f"request.status_{offer.status}"),
        ) + ("\n" + t("request.applicant_note", note=offer.note) if offer.note else "")

    head = t(
        "request.applicants_title",
        title=activity.title,
        when=fmt_span(activity.starts_at, activity.ends_at, locale, tz),
        going=activity.going,
        capacity=activity.capacity or "∞",
    )
    if note:
        head = f"{note}\n\n{head}"
    shown = paginate(offers, page, per_page=PER_PAGE, line=line, budget=text_budget(head))
    lines = [f"{shown.start + i + 1}. {line(o)}" for i, o in enumerate(shown.items)]
    text = "\n\n".join([head, *lines]) if lines else f"{head}\n\n{t('request.no_applicants')}"
    rows: list[list[tuple[str, str]]] = []
    for i, offer in enumerate(shown.items):
        if offer.status == "pending":
            n = shown.start + i + 1
            rows.append([
                (t("request.accept", n=n), once(f"{PREFIX}:ok:{offer.id}:{shown.number}")),
                (t("request.decline", n=n), once(f"{PREFIX}:no:{offer.id}:{shown.number}")),
            ])  # fmt: skip
    rows.append(
        pager(context, shown.number, shown.count, lambda n: f"{PREFIX}:view:{activity.id}:{n}")
    )
    if activity.request == "open":
        rows.append([(t("request.close"), once(f"{PREFIX}:close:{activity.id}"))])
    rows.append([(t("request.back"), f"{PREFIX}:list:0")])
    await show(update, context, text, markup=inline(rows), edit=update.callback_query is not None)


async def decide(update: Update, context: BotContext) -> None:
    """Accept or decline one applicant; they are told either way."""
    accept = callback_arg(update, 1) == "ok"
    offer_id = int_arg(update, 2) or 0
    try:
        outcome, offer = await context.services.requests.decide(
            context.viewer,
            offer_id,
            accept=accept,
            press=press_of(update, context, "accept" if accept else "decline"),
        )
    except AlreadyDone:
        await already_done(update, context)
        return
    except NotAllowed:
        await refuse(update, context)
        return
    note = context.t(f"request.decided_{outcome}")
    await answer(update, note, alert=outcome not in (DecideOutcome.ACCEPTED,
                                                     DecideOutcome.DECLINED))  # fmt: skip
    if outcome in (DecideOutcome.ACCEPTED, DecideOutcome.DECLINED):
        await tell_talent(context, offer.talent_id, offer.activity_id, f"request.told_{outcome}")
    await show_applicants(
        update, context, offer.activity_id, page=page_arg(callback_arg(update, 3)), note=note
    )


async def close(update: Update, context: BotContext) -> None:
    """Take no more applications; the applicants not yet decided are told it closed."""
    activity_id = int_arg(update, 2) or 0
    try:
        closed = await context.services.requests.close(
            context.viewer, activity_id, press=press_of(update, context, "close_request")
        )
    except AlreadyDone:
        await already_done(update, context)
        return
    except NotAllowed:
        await refuse(update, context)
        return
    except InvalidInput as exc:
        await answer(update, context.t(exc.key), alert=True)
        return
    note = context.t("request.closed", count=len(closed))
    await answer(update, note)
    for talent_id in closed:
        await tell_talent(context, talent_id, activity_id, "request.told_closed")
    await show_applicants(update, context, activity_id, page=0, note=note)


async def tell_talent(
    context: BotContext,
    talent_id: int,
    activity_id: int,
    key: str,
    *,
    name: str = "",
    view: str | None = None,
) -> None:
    """Tell an applicant what became of their application (or a coordinator that someone
    applied, with a ``view`` button), in their language."""
    services = context.services
    talent = await services.talents.get(talent_id)
    activity = await services.activities.activities.get(activity_id)
    if talent is None or talent.telegram_id is None or activity is None:
        return
    locale = services.translator.resolve(talent.language, None)
    text = services.translator(
        locale,
        key,
        title=activity.title,
        when=fmt_span(activity.starts_at, activity.ends_at, locale, services.settings.tz),
        place=activity.place,
        name=name,
    )
    markup = None
    if view is not None:
        markup = inline([[(services.translator(locale, "request.applicants_button"), view)]])
    try:
        await context.bot.send_message(talent.telegram_id, text, reply_markup=markup)
    except Forbidden:
        await services.people.mark_reachable(talent.telegram_id, False)
    except TelegramError:
        # The decision stands either way; the request's page shows it.
        log.warning("could not tell talent %s about their application", talent_id, exc_info=True)


def setup(application: Application) -> None:
    """Register applying to a request and the coordinators' /requests."""
    private = filters.ChatType.PRIVATE
    with warnings.catch_warnings():
        # per_message=False is deliberate: the note is a typed message, not a button.
        warnings.filterwarnings("ignore", message=".*per_message.*")
        conversation = ConversationHandler(
            entry_points=[CallbackQueryHandler(begin_apply, pattern=rf"^{PREFIX}:apply:\d+$")],
            states={
                Step.NOTE: [
                    CallbackQueryHandler(on_note_button, pattern=rf"^{PREFIX}:note:"),
                    MessageHandler(filters.TEXT & ~filters.COMMAND, on_note),
                    MessageHandler(~filters.COMMAND, on_other),
                ]
            },
            fallbacks=[
                CommandHandler("cancel", cancel_apply),
                leave_on_command(cancel_apply),
                MessageHandler(filters.COMMAND, on_other),
            ],
            name="apply_request",
        )
    application.add_handler(conversation)
    application.add_handler(CommandHandler("requests", list_requests, filters=private))
    application.add_handler(CallbackQueryHandler(list_requests, pattern=rf"^{PREFIX}:list:\d+$"))
    application.add_handler(
        CallbackQueryHandler(view_applicants, pattern=rf"^{PREFIX}:view:\d+:\d+$")
    )
    application.add_handler(
        CallbackQueryHandler(decide, pattern=rf"^{PREFIX}:(ok|no):\d+:\d+:{ONCE}$")
    )
    application.add_handler(CallbackQueryHandler(close, pattern=rf"^{PREFIX}:close:\d+:{ONCE}$"))
