"""/manage: the card of each of a station's activities, and what a coordinator does from it.

Editing a field opens the same question as /new_activity (``handlers.new_activity``); check-in
codes and attendance are in ``handlers.checkin`` and ``handlers.attendance``.
"""

from __future__ import annotations

from datetime import datetime

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    filters,
)

from bot.i18n import fmt_number, fmt_short_moment
from bot.services.errors import InvalidInput, NotAllowed
from handlers.activities import activity_card
from handlers.common import (
    ONCE,
    already_done,
    answer,
    callback_arg,
    coordinators_only,
    edit_or_send,
    inline,
    int_arg,
    once,
    press_of,
    refuse,
    say,
    show,
)
from handlers.context import BotContext
from handlers.paging import page_arg, pager, paginate, text_budget
from handlers.requests import PREFIX as REQUEST
from storage.models import Activity, ActivityStatus
from storage.presses import AlreadyDone, Press

MANAGE = "mg"
SIGNUPS_PER_PAGE = 30
# Fields a coordinator can change after an activity is created.
EDITABLE_FIELDS = (
    "kind", "title", "description", "place", "start", "end", "capacity", "points", "expertise",
)  # fmt: skip


def now(context: BotContext) -> datetime:
    return context.services.clock.now()


async def publish_and_reply(
    update: Update, context: BotContext, activity_id: int, *, press: Press | None = None
) -> None:
    """Publish, and say how many talents it is announced to (or why it cannot be).

    The message whose button published it (the preview, or the draft's card) becomes the
    published activity's card: its Publish button would mean nothing any more.
    """
    try:
        activity, told = await context.services.activities.publish(
            context.viewer, activity_id, press=press
        )
    except AlreadyDone:
        await already_done(update, context)
        return
    except InvalidInput as exc:
        await answer(update)
        await say(update, context, exc.key, **exc.params)
        return
    await answer(update)
    await show_managed(update, context, activity, edit=True)
    await say(
        update,
        context,
        "activity.published",
        title=activity.title,
        count=fmt_number(told, context.viewer.locale),
    )


# -- /manage --------------------------------------------------------------------------------------


@coordinators_only
async def manage(update: Update, context: BotContext) -> None:
    """List the activities of the coordinator's stations (all, for admins), ten a page."""
    services = context.services
    allowed = services.activities.stations_for(context.viewer)
    activities = await services.activities.activities.of_stations(allowed, since=now(context))
    if not activities:
        await answer(update)
        await say(update, context, "activity.manage_empty")
        return
    t = context.t
    page = callback_arg(update, 2)
    shown = paginate(activities, page_arg(page))
    locale, tz = context.viewer.locale, services.settings.tz
    # A button's label is plain text, not HTML: the title goes in as it is.
    rows = [
        [(f"{t(f'activity.status_{a.status}')} · {fmt_short_moment(a.starts_at, locale, tz)}"
          f" · {a.title}", f"{MANAGE}:open:{a.id}")]
        for a in shown.items
    ]  # fmt: skip
    rows.append(pager(context, shown.number, shown.count, lambda n: f"{MANAGE}:list:{n}"))
    await answer(update)
    await show(
        update, context, t("activity.manage_title"), markup=inline(rows), edit=page is not None
    )


async def open_managed(update: Update, context: BotContext) -> None:
    """The management card of one activity."""
    activity = await managed_or_refuse(update, context)
    if activity is not None:
        await answer(update)
        await show_managed(update, context, activity, edit=True)


async def managed_or_refuse(update: Update, context: BotContext) -> Activity | None:
    """The activity a /manage button names, if the user may manage it."""
    try:
        return await context.services.activities.managed(context.viewer, int_arg(update, 2) or 0)
    except NotAllowed:
        await refuse(update, context)
        return None


async def show_managed(
    update: Update, context: BotContext, activity: Activity, *, edit: bool
) -> None:
    """The card with what a coordinator can do with it."""
    t = context.t
    rows: list[list[tuple[str, str]]] = []
    if activity.status in (ActivityStatus.DRAFT, ActivityStatus.PUBLISHED):
        rows.append([(t("activity.edit"), f"{MANAGE}:fields:{activity.id}")])
        if activity.status == ActivityStatus.DRAFT:
            rows.append([(t("activity.publish"), once(f"{MANAGE}:publish:{activity.id}"))])
        rows.append([(t("activity.cancel_activity"), f"{MANAGE}:cancel:{activity.id}")])
    if activity.status == ActivityStatus.PUBLISHED:
        rows.append([(t("checkin.qr_button"), f"{MANAGE}:qr:{activity.id}")])
        rows.append([(t("broadcast.to_signed_up"), f"bc:act:{activity.id}")])
    if activity.status != ActivityStatus.DRAFT:
        rows.append([(t("points.attendance_button"), f"{MANAGE}:att:{activity.id}")])
    rows.append([(t("activity.signups_button"), f"{MANAGE}:signups:{activity.id}")])
    text = await activity_card(context, activity, manager=True)
    if activity.request is not None:
        text += "\n" + t(f"request.state_{activity.request}")
        rows.append([(t("request.applicants_button"), f"{REQUEST}:view:{activity.id}:0")])
    await show(update, context, text, markup=inline(rows), edit=edit)


async def choose_field(update: Update, context: BotContext) -> None:
    """Which field to edit."""
    activity = await managed_or_refuse(update, context)
    if activity is None:
        return
    await answer(update)
    labels = [
        (context.t(f"activity.field_{f}"), f"{MANAGE}:edit:{activity.id}:{f}")
        for f in EDITABLE_FIELDS
    ]
    rows = [labels[i : i + 3] for i in range(0, len(labels), 3)]
    await edit_or_send(update, context, context.t("activity.which_field"), markup=inline(rows))


async def publish(update: Update, context: BotContext) -> None:
    """Publish a draft from /manage."""
    activity = await managed_or_refuse(update, context)
    if activity is None:
        return
    await publish_and_reply(
        update, context, activity.id, press=press_of(update, context, "publish")
    )


async def confirm_cancel(update: Update, context: BotContext) -> None:
    """Ask before cancelling: everyone signed up will be told."""
    activity = await managed_or_refuse(update, context)
    if activity is None:
        return
    await answer(update)
    rows = [
        [(context.t("activity.cancel_yes"), once(f"{MANAGE}:really:{activity.id}"))],
        [(context.t("activity.cancel_no"), f"{MANAGE}:open:{activity.id}")],
    ]
    text = context.t(
        "activity.cancel_confirm",
        title=activity.title,
        count=fmt_number(activity.going + activity.waiting, context.viewer.locale),
    )
    await edit_or_send(update, context, text, markup=inline(rows))


async def really_cancel(update: Update, context: BotContext) -> None:
    """Cancel the activity."""
    activity = await managed_or_refuse(update, context)
    if activity is None:
        return
    try:
        activity, told = await context.services.activities.cancel(
            context.viewer, activity.id, press=press_of(update, context, "cancel_activity")
        )
    except AlreadyDone:
        await already_done(update, context)
        return
    except InvalidInput as exc:
        await answer(update)
        await say(update, context, exc.key, **exc.params)
        return
    await answer(update)
    await edit_or_send(
        update,
        context,
        context.t(
            "activity.cancelled_done",
            title=activity.title,
            count=fmt_number(told, context.viewer.locale),
        ),
    )


async def signups(update: Update, context: BotContext) -> None:
    """Who is going and who is waiting, a page at a time."""
    activity = await managed_or_refuse(update, context)
    if activity is None:
        return
    await answer(update)
    rows = await context.services.activities.activities.signups(activity.id)
    t = context.t
    going = [s for s in rows if s.status == "going"]
    waiting = [s for s in rows if s.status == "waitlist"]
    # One list: the people going, then the waitlist numbered from 1.
    entries = [t("activity.signup_going", name=s.name or "?") for s in going] + [
        t("activity.signup_waiting", position=i, name=s.name or "?")
        for i, s in enumerate(waiting, 1)
    ]
    title = t(
        "activity.signups_title",
        title=activity.title,
        going=fmt_number(len(going), context.viewer.locale),
        capacity=fmt_number(activity.capacity, context.viewer.locale)
        if activity.capacity
        else "∞",
        waiting=fmt_number(len(waiting), context.viewer.locale),
    )
    page = callback_arg(update, 3)
    shown = paginate(
        entries, page_arg(page), per_page=SIGNUPS_PER_PAGE, line=str, budget=text_budget(title)
    )
    text = "\n".join([title, *shown.items]) if entries else f"{title}\n{t('profile.blank')}"
    turn = lambda n: f"{MANAGE}:signups:{activity.id}:{n}"  # noqa: E731
    rows_markup = [
        pager(context, shown.number, shown.count, turn),
        [(t("reg.back"), f"{MANAGE}:open:{activity.id}")],
    ]
    await show(update, context, text, markup=inline(rows_markup), edit=page is not None)


def setup(application: Application) -> None:
    """Register /manage and its card's buttons."""
    application.add_handler(CommandHandler("manage", manage, filters=filters.ChatType.PRIVATE))
    application.add_handler(CallbackQueryHandler(manage, pattern=rf"^{MANAGE}:list:\d+$"))
    for action, callback in (
        ("open", open_managed),
        ("fields", choose_field),
        ("publish", publish),
        ("cancel", confirm_cancel),
        ("really", really_cancel),
        ("signups", signups),
    ):
        # Publish and the confirmed cancel act once (their data ends with a key); the signups
        # have pages.
        tail = {"publish": f":{ONCE}", "really": f":{ONCE}", "signups": r"(:\d+)?"}.get(action, "")
        application.add_handler(
            CallbackQueryHandler(callback, pattern=rf"^{MANAGE}:{action}:\d+{tail}$")
        )
