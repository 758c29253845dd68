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

from bot.i18n import fmt_number
from bot.services.errors import InvalidInput, NotAllowed
from handlers.activities import activity_card
from handlers.common import (
    ONCE,
    already_done,
    answer,
    coordinators_only,
    edit_or_send,
    inline,
    int_arg,
    once,
    press_of,
    refuse,
    say,
    send,
)
from handlers.context import BotContext
from storage.models import Activity, ActivityStatus
from storage.presses import AlreadyDone, Press

MANAGE = "mg"
# Fields a coordinator can change after an activity is created.
EDITABLE_FIELDS = (
    "kind", "title", "description", "place", "start", "end", "capacity", "points", "expertise",
)  # fmt: skip


def now(context: BotContext) -> datetime:
    return context.services.clock.now()


async def publish_and_reply(
    update: Update, context: BotContext, activity_id: int, *, press: Press | None = None
) -> None:
    """Publish, and say how many talents it is announced to (or why it cannot be)."""
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
    """List the activities of the coordinator's stations (all, for admins)."""
    services = context.services
    allowed = services.activities.stations_for(context.viewer)
    activities = await services.activities.activities.of_stations(allowed, since=now(context))
    if not activities:
        await say(update, context, "activity.manage_empty")
        return
    t = context.t
    rows = [
        [(f"{t(f'activity.status_{a.status}')} · {a.title}", f"{MANAGE}:open:{a.id}")]
        for a in activities[:30]
    ]
    await send(update, context, t("activity.manage_title"), markup=inline(rows))


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
    if edit:
        await edit_or_send(update, context, text, markup=inline(rows))
    else:
        await send(update, context, text, markup=inline(rows))


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
        "activity.cancel_confirm", title=activity.title, count=activity.going + activity.waiting
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
        context.t("activity.cancelled_done", title=activity.title, count=told),
    )


async def signups(update: Update, context: BotContext) -> None:
    """Who is going and who is waiting."""
    activity = await managed_or_refuse(update, context)
    if activity is None:
        return
    await answer(update)
    rows = await context.services.activities.activities.signups(activity.id)
    going = [s.name or "?" for s in rows if s.status == "going"]
    waiting = [s.name or "?" for s in rows if s.status == "waitlist"]
    t = context.t
    text = t(
        "activity.signups",
        title=activity.title,
        going=len(going),
        capacity=activity.capacity or "∞",
        names="\n".join(f"• {name}" for name in going) or t("profile.blank"),
        waiting="\n".join(f"{i}. {name}" for i, name in enumerate(waiting, 1))
        or t("profile.blank"),
    )
    await send(
        update, context, text, markup=inline([[(t("reg.back"), f"{MANAGE}:open:{activity.id}")]])
    )


def setup(application: Application) -> None:
    """Register /manage and its card's buttons."""
    application.add_handler(CommandHandler("manage", manage, filters=filters.ChatType.PRIVATE))
    for action, callback in (
        ("open", open_managed),
        ("fields", choose_field),
        ("publish", publish),
        ("cancel", confirm_cancel),
        ("really", really_cancel),
        ("signups", signups),
    ):
        # Publish and the confirmed cancel act once: their data ends with a key.
        tail = f":{ONCE}" if action in ("publish", "really") else ""
        application.add_handler(
            CallbackQueryHandler(callback, pattern=rf"^{MANAGE}:{action}:\d+{tail}$")
        )
