"""Attendance for coordinators (list, hours corrections, manual check-in) and admins' point
adjustments: short dialogs of typed answers, every step checked on our side."""

from __future__ import annotations

import warnings
from enum import IntEnum
from typing import Any

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.i18n import Html, fmt_date, fmt_list, fmt_number, fmt_signed
from bot.services.errors import InvalidInput, NotAllowed
from bot.services.points import parse_delta, parse_hours, parse_reason
from bot.services.profile import mask_phone
from handlers.common import (
    admin_only,
    answer,
    callback_arg,
    inline,
    int_arg,
    person_name,
    refuse,
    say,
    send,
    show,
)
from handlers.context import BotContext
from handlers.dialogs import leave_on_command
from handlers.paging import page_arg, pager, paginate, text_budget
from storage.models import Attendance, Talent
from storage.points import CheckinOutcome

MANAGE = "mg"
ADMIN = "adm"
# A line and a button per person: 20 fit a phone's screen and Telegram's limits.
ATTENDANCE_PER_PAGE = 20


class Step(IntEnum):
    HOURS = 1
    HOURS_REASON = 2
    SEARCH = 3
    DELTA = 4
    DELTA_REASON = 5


def form_of(context: BotContext) -> dict[str, Any]:
    if context.user_data.attendance is None:
        context.user_data.attendance = {}
    return context.user_data.attendance


def cancel_row(context: BotContext) -> list[tuple[str, str]]:
    return [(context.t("reg.cancel"), f"{MANAGE}:attcancel")]


async def ask(update: Update, context: BotContext, step: Step, *, note: str | None = None) -> int:
    """Ask the question of ``step``."""
    form = form_of(context)
    form["step"] = int(step)
    t = context.t
    if step == Step.HOURS:
        text = t("points.ask_hours", name=form["name"], hours=form["current"])
    elif step in (Step.HOURS_REASON, Step.DELTA_REASON):
        text = t("points.ask_reason")
    elif step == Step.SEARCH:
        text = t("points.ask_search")
    else:
        text = t(
            "points.ask_delta",
            name=form["name"],
            balance=fmt_number(form["balance"], context.viewer.locale),
        )
        if form.get("last"):
            text = f"{form['last']}\n{text}"
    if note:
        text = f"{note}\n\n{text}"
    await send(update, context, text, markup=inline([cancel_row(context)]))
    return step


# -- the attendance list ----------------------------------------------------------------------


def attendance_line(context: BotContext, row: Attendance, names: dict[int, str]) -> str:
    """One person who checked in: hours, whether they walked in or were checked in by hand,
    and who corrected their hours; ``names`` says who is who."""
    t = context.t
    marks = []
    if row.walk_in:
        marks.append(t("points.walk_in"))
    if row.method == "manual" and row.by_whom is not None:
        marks.append(t("points.manual_by", name=names[row.by_whom]))
    if row.corrected_by is not None:
        marks.append(t("points.corrected_by", name=names[row.corrected_by]))
    locale = context.viewer.locale
    return t(
        "points.attendance_line",
        name=person_name(context, row.name),
        hours=fmt_number(row.current_hours, locale),
        # The marks are catalog texts with their names already escaped.
        marks=Html(t("points.attendance_marks", marks=Html(fmt_list(marks, locale))))
        if marks
        else "",
    )


async def show_attendance(
    update: Update, context: BotContext, activity_id: int, *, page: int = 0, edit: bool = False
) -> None:
    """Who checked in, with hours, a page at a time; a button to correct each person's hours,
    and one for manual check-in on every page."""
    services = context.services
    activity = await services.activities.activities.get(activity_id)
    assert activity is not None
    rows = await services.checkins.points.attendance(activity_id)
    t = context.t
    title = t("points.attendance_title", title=activity.title, count=len(rows))
    staff = {who for row in rows for who in (row.by_whom, row.corrected_by) if who is not None}
    names = await services.people.names(staff, context.viewer.locale)
    shown = paginate(
        rows,
        page,
        per_page=ATTENDANCE_PER_PAGE,
        line=lambda row: attendance_line(context, row, names),
        budget=text_budget(title),
    )
    lines = [title, *(attendance_line(context, row, names) for row in shown.items)]
    buttons = [
        [(f"✏️ {person_name(context, row.name)}", f"{MANAGE}:hrs:{row.id}")] for row in shown.items
    ]
    turn = lambda n: f"{MANAGE}:att:{activity_id}:{n}"  # noqa: E731
    buttons.append(pager(context, shown.number, shown.count, turn))
    buttons.append([(t("points.manual_button"), f"{MANAGE}:man:{activity_id}")])
    buttons.append([(t("reg.back"), f"{MANAGE}:open:{activity_id}")])
    await show(update, context, "\n".join(lines), markup=inline(buttons), edit=edit)


async def attendance_button(update: Update, context: BotContext) -> None:
    """The Attendance button of an activity's card, and its pages."""
    activity_id = int_arg(update, 2) or 0
    try:
        await context.services.activities.managed(context.viewer, activity_id)
    except NotAllowed:
        await refuse(update, context)
        return
    await answer(update)
    page = callback_arg(update, 3)
    await show_attendance(update, context, activity_id, page=page_arg(page), edit=page is not None)


# -- hours corrections ------------------------------------------------------------------------


async def begin_hours(update: Update, context: BotContext) -> int:
    """Correct one talent's hours: ask how many."""
    try:
        attendance = await context.services.checkins.correctable(
            context.viewer, int_arg(update, 2) or 0
        )
    except NotAllowed:
        await refuse(update, context)
        return ConversationHandler.END
    except InvalidInput as exc:
        await answer(update, context.t(exc.key, **exc.params), alert=True)
        return ConversationHandler.END
    await answer(update)
    context.user_data.attendance = {
        "mode": "hours",
        "attendance_id": attendance.id,
        "activity_id": attendance.activity_id,
        "name": person_name(context, attendance.name),
        "current": fmt_number(attendance.current_hours, context.viewer.locale),
    }
    return await ask(update, context, Step.HOURS)


# -- manual check-in --------------------------------------------------------------------------


async def begin_manual(update: Update, context: BotContext) -> int:
    """Check in someone without their phone: ask for their name or their phone's last digits."""
    activity_id = int_arg(update, 2) or 0
    try:
        await context.services.activities.managed(context.viewer, activity_id)
    except NotAllowed:
        await refuse(update, context)
        return ConversationHandler.END
    await answer(update)
    context.user_data.attendance = {"mode": "manual", "activity_id": activity_id}
    return await ask(update, context, Step.SEARCH)


# -- admins' adjustments ----------------------------------------------------------------------


@admin_only
async def begin_adjust(update: Update, context: BotContext) -> int:
    """Adjust a talent's points: ask who."""
    await answer(update)
    context.user_data.attendance = {"mode": "adjust"}
    return await ask(update, context, Step.SEARCH)


# -- answers ----------------------------------------------------------------------------------


async def on_text(update: Update, context: BotContext) -> int:
    """A typed answer to the open question."""
    form = form_of(context)
    step = Step(form.get("step") or Step.SEARCH)
    text = update.effective_message.text or ""
    services = context.services
    try:
        if step == Step.HOURS:
            form["hours"] = parse_hours(text)
            return await ask(update, context, Step.HOURS_REASON)
        if step == Step.HOURS_REASON:
            await services.checkins.correct(
                context.viewer, form["attendance_id"], form["hours"], parse_reason(text)
            )
            context.user_data.attendance = None
            await say(update, context, "points.hours_saved", name=form["name"])
            await show_attendance(update, context, form["activity_id"])
            return ConversationHandler.END
        if step == Step.SEARCH:
            return await found(update, context, text)
        if step == Step.DELTA:
            # An amount that cannot be done is refused before a reason is asked for.
            form["delta"] = await services.points.check_delta(
                context.viewer, form["talent_id"], parse_delta(text)
            )
            return await ask(update, context, Step.DELTA_REASON)
        ok, balance = await services.points.adjust(
            context.viewer, form["talent_id"], form["delta"], parse_reason(text)
        )
    except InvalidInput as exc:
        return await ask(update, context, step, note=context.t(exc.key, **exc.params))
    except NotAllowed:
        context.user_data.attendance = None
        await refuse(update, context)
        return ConversationHandler.END
    context.user_data.attendance = None
    key = "points.adjusted" if ok else "points.below_zero"
    await say(
        update,
        context,
        key,
        name=form["name"],
        delta=fmt_signed(form["delta"], context.viewer.locale),
        balance=fmt_number(balance, context.viewer.locale),
    )
    return ConversationHandler.END


async def found(update: Update, context: BotContext, query: str) -> int:
    """Offer the talents matching a typed name or the last four digits of a phone."""
    form = form_of(context)
    try:
        talents = await context.services.search.find(
            context.viewer, query, activity_id=form.get("activity_id")
        )
    except InvalidInput as exc:
        return await ask(update, context, Step.SEARCH, note=context.t(exc.key, **exc.params))
    except NotAllowed:
        context.user_data.attendance = None
        await refuse(update, context)
        return ConversationHandler.END
    if not talents:
        return await ask(update, context, Step.SEARCH, note=context.t("points.nobody"))
    rows = [[(found_label(talent), f"{MANAGE}:pick:{talent.id}")] for talent in talents]
    rows.append(cancel_row(context))
    form["step"] = int(Step.SEARCH)
    await send(update, context, context.t("points.pick"), markup=inline(rows))
    return Step.SEARCH


def found_label(talent: Talent) -> str:
    """A search result: the name, the phone masked, and the home region to tell namesakes apart."""
    parts = [talent.name or "?", mask_phone(talent.phone), talent.region]
    return " · ".join(part for part in parts if part)


async def picked(update: Update, context: BotContext) -> int:
    """A talent chosen from the search results."""
    form = form_of(context)
    talent = await context.services.talents.get(int_arg(update, 2) or 0)
    if talent is None or not talent.registered or form.get("mode") not in ("manual", "adjust"):
        return await stale(update, context)
    if form["mode"] == "adjust":
        try:
            context.services.points.check_adjustable(context.viewer, talent.id)
        except (NotAllowed, InvalidInput) as exc:
            return await refused(update, context, exc)
        await answer(update)
        form.update(
            talent_id=talent.id,
            name=talent.name,
            balance=fmt_number(
                await context.services.checkins.points.balance(talent.id), context.viewer.locale
            ),
            last=await last_adjustment(context, talent.id),
        )
        return await ask(update, context, Step.DELTA)
    try:
        result = await context.services.checkins.manual(
            context.viewer, form["activity_id"], talent.id
        )
    except (NotAllowed, InvalidInput) as exc:
        return await refused(update, context, exc)
    await answer(update)
    context.user_data.attendance = None
    key = {
        CheckinOutcome.CHECKED_IN: "points.manual_done",
        CheckinOutcome.ALREADY: "points.manual_already",
    }.get(result.outcome, "points.manual_refused")
    await say(
        update,
        context,
        key,
        name=talent.name,
        points=fmt_number(result.points, context.viewer.locale),
        reason=context.t(f"points.window_{result.outcome}")
        if key == "points.manual_refused"
        else "",
    )
    await show_attendance(update, context, form["activity_id"])
    return ConversationHandler.END


async def last_adjustment(context: BotContext, talent_id: int) -> str | None:
    """The talent's latest adjustment and who made it, so that two admins do not give the same
    points twice; None when there was none."""
    entry = await context.services.checkins.points.last_adjustment(talent_id)
    if entry is None:
        return None
    locale = context.viewer.locale
    return context.t(
        "points.last_adjustment",
        date=fmt_date(entry.created_at.astimezone(context.services.settings.tz).date(), locale),
        delta=fmt_signed(entry.delta, locale),
        reason=entry.reason or "",
        by=await context.services.people.name_of(entry.by_whom or 0, locale),
    )


async def refused(update: Update, context: BotContext, exc: Exception) -> int:
    """End the dialog with why the pick was refused: not allowed, or the rule it breaks."""
    context.user_data.attendance = None
    if isinstance(exc, InvalidInput):
        await answer(update)
        await say(update, context, exc.key, **exc.params)
    else:
        await refuse(update, context)
    return ConversationHandler.END


async def stale(update: Update, context: BotContext) -> int:
    """A button of another message while a question is open."""
    await answer(update)
    form = form_of(context)
    return await ask(
        update,
        context,
        Step(form.get("step") or Step.SEARCH),
        note=context.t("common.stale_button"),
    )


async def not_text(update: Update, context: BotContext) -> int:
    """A sticker, a photo or another command while a question is open."""
    form = form_of(context)
    message = update.effective_message
    key = "common.unknown_command" if (message.text or "").startswith("/") else "input.need_text"
    return await ask(update, context, Step(form.get("step") or Step.SEARCH), note=context.t(key))


async def cancel(update: Update, context: BotContext) -> int:
    """Leave the dialog; nothing changes."""
    await answer(update)
    context.user_data.attendance = None
    await say(update, context, "profile.unchanged")
    return ConversationHandler.END


def setup(application: Application) -> None:
    """Register the attendance list, corrections, manual check-in and adjustments."""
    with warnings.catch_warnings():
        # per_message=False is deliberate: the dialog waits for typed answers across messages.
        warnings.filterwarnings("ignore", message=".*per_message.*")
        conversation = ConversationHandler(
            entry_points=[
                CallbackQueryHandler(begin_hours, pattern=rf"^{MANAGE}:hrs:\d+$"),
                CallbackQueryHandler(begin_manual, pattern=rf"^{MANAGE}:man:\d+$"),
                CallbackQueryHandler(begin_adjust, pattern=rf"^{ADMIN}:points$"),
            ],
            states={
                step: [
                    MessageHandler(filters.TEXT & ~filters.COMMAND, on_text),
                    CallbackQueryHandler(picked, pattern=rf"^{MANAGE}:pick:\d+$"),
                ]
                for step in Step
            },
            fallbacks=[
                CallbackQueryHandler(cancel, pattern=rf"^{MANAGE}:attcancel$"),
                MessageHandler(filters.COMMAND & filters.Regex("^/cancel"), cancel),
                leave_on_command(cancel),
                MessageHandler(filters.ALL, not_text),
                CallbackQueryHandler(stale),
            ],
            name="attendance",
        )
    application.add_handler(conversation)
    application.add_handler(
        CallbackQueryHandler(attendance_button, pattern=rf"^{MANAGE}:att:\d+(:\d+)?$")
    )
