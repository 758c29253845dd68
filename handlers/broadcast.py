"""/broadcast: write, choose the audience, see how many it reaches, confirm; then watch it go."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.i18n import fmt_number
from bot.outbox import CANCEL_PREFIX, Outbox, progress_view
from bot.services.errors import InvalidInput, NotAllowed
from bot.services.messaging import Draft, check_draft
from bot.services.profile import EXPERTISE
from handlers.common import (
    answer,
    coordinators_only,
    edit_or_send,
    inline,
    int_arg,
    refuse,
    say,
    send,
)
from handlers.context import BotContext
from storage.models import Audience

PREFIX = "bc"
EXCERPT = 300


class Step(IntEnum):
    COMPOSE = 1
    STATION = 2
    EXPERTISE = 3
    PRESENCE = 4
    CONFIRM = 5


@dataclass(slots=True)
class BroadcastForm:
    """A broadcast being composed."""

    step: int = 0
    text: str | None = None
    entities: list[dict[str, Any]] | None = None
    photo: str | None = None
    station_id: int | None = None  # None with station_chosen: every station (admins)
    station_chosen: bool = False
    station_fixed: bool = False  # a coordinator of one station is not asked
    expertise: str | None = None
    in_city_now: bool = False
    activity_id: int | None = None  # set: to the talents signed up for (or waiting for) it


def data(step: Step, action: str, arg: object = None) -> str:
    """Callback data naming its question, so buttons of older questions are recognised."""
    return f"{PREFIX}:{int(step)}:{action}" + ("" if arg is None else f":{arg}")


def form_of(context: BotContext) -> BroadcastForm:
    """The broadcast being composed (created on first use)."""
    if context.user_data.broadcast is None:
        context.user_data.broadcast = BroadcastForm()
    return context.user_data.broadcast


# -- questions ------------------------------------------------------------------------------------


def nav(context: BotContext, step: Step) -> list[tuple[str, str]]:
    row = []
    if previous(form_of(context), step) is not None:
        row.append((context.t("reg.back"), data(step, "back")))
    row.append((context.t("reg.cancel"), data(step, "cancel")))
    return row


def previous(form: BroadcastForm, step: Step) -> Step | None:
    """The question Back returns to."""
    if step == Step.COMPOSE:
        return None
    if step == Step.CONFIRM and form.activity_id is not None:
        return Step.COMPOSE
    if step == Step.EXPERTISE and form.station_fixed:
        return Step.COMPOSE
    return Step(step - 1)


async def ask(update: Update, context: BotContext, step: Step, *, note: str | None = None) -> int:
    """Show one question of the dialog."""
    form = form_of(context)
    form.step = int(step)
    t = context.t
    if step == Step.COMPOSE:
        text, rows = t("broadcast.ask_text"), [nav(context, step)]
    elif step == Step.STATION:
        allowed = context.services.broadcasts.stations_of(context.viewer)
        stations = [
            s for s in await context.services.stations.list() if allowed is None or s.id in allowed
        ]
        rows = [[(s.name(context.viewer.locale), data(step, "station", s.id))] for s in stations]
        if allowed is None:
            rows.append([(t("broadcast.all_stations"), data(step, "station", 0))])
        text = t("broadcast.ask_station")
        rows.append(nav(context, step))
    elif step == Step.EXPERTISE:
        buttons = [(t(f"expertise.{code}"), data(step, "field", code)) for code in EXPERTISE]
        rows = [[(t("broadcast.any_field"), data(step, "field", "any"))]]
        rows += [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
        rows.append(nav(context, step))
        text = t("broadcast.ask_expertise")
    elif step == Step.PRESENCE:
        rows = [
            [(t("broadcast.everyone"), data(step, "presence", "all"))],
            [(t("broadcast.in_city_now"), data(step, "presence", "now"))],
            nav(context, step),
        ]
        text = t("broadcast.ask_presence")
    else:
        text, rows = await preview(context)
    if note:
        text = f"{note}\n\n{text}"
    await send(update, context, text, markup=inline(rows))
    return step


async def audience_of(context: BotContext) -> Audience:
    """The audience the form describes, checked against the viewer's rights."""
    form = form_of(context)
    services = context.services
    if form.activity_id is not None:
        return await services.broadcasts.signed_up_audience(context.viewer, form.activity_id)
    today = services.people.today(services.settings.tz)
    return services.broadcasts.audience(
        context.viewer,
        station_id=form.station_id,
        expertise=form.expertise,
        in_city_on=today if form.in_city_now else None,
    )


async def preview(context: BotContext) -> tuple[str, list[list[tuple[str, str]]]]:
    """The confirmation: whom it reaches and what it says."""
    form = form_of(context)
    t = context.t
    count = await context.services.broadcasts.count(await audience_of(context))
    if form.activity_id is not None:
        activity = await context.services.activities.activities.get(form.activity_id)
        station = t("broadcast.signed_up_for", title=activity.title if activity else "?")
    elif form.station_id is None:
        station = t("broadcast.all_stations")
    else:
        found = await context.services.stations.get(form.station_id)
        station = found.name(context.viewer.locale) if found else "?"
    excerpt = (form.text or "")[:EXCERPT] + ("…" if len(form.text or "") > EXCERPT else "")
    if form.photo:
        excerpt = f"{t('broadcast.photo_label')} {excerpt}".strip()
    text = t(
        "broadcast.preview",
        count=fmt_number(count, context.viewer.locale),
        station=station,
        expertise=t(f"expertise.{form.expertise}") if form.expertise else t("broadcast.any_field"),
        presence=t("broadcast.in_city_now" if form.in_city_now else "broadcast.everyone"),
        excerpt=excerpt,
    )
    rows = [] if count == 0 else [[(t("broadcast.send_button"), data(Step.CONFIRM, "send"))]]
    if count == 0:
        text = f"{text}\n\n{t('broadcast.nobody')}"
    rows.append(nav(context, Step.CONFIRM))
    return text, rows


# -- the dialog ---------------------------------------------------------------------------------


@coordinators_only
async def begin_for_activity(update: Update, context: BotContext) -> int:
    """Start a message to the talents signed up for an activity (from /manage)."""
    activity_id = int_arg(update, 2) or 0
    try:
        await context.services.broadcasts.signed_up_audience(context.viewer, activity_id)
    except NotAllowed:
        await refuse(update, context)
        return ConversationHandler.END
    await answer(update)
    context.user_data.broadcast = BroadcastForm(activity_id=activity_id)
    return await ask(update, context, Step.COMPOSE)


@coordinators_only
async def begin(update: Update, context: BotContext) -> int:
    """Start composing a broadcast."""
    context.user_data.broadcast = BroadcastForm()
    return await ask(update, context, Step.COMPOSE)


@coordinators_only
async def composed(update: Update, context: BotContext) -> int:
    """Take the text, or the photo and its caption, of the broadcast."""
    form = form_of(context)
    if form.step != Step.COMPOSE:
        return await ask(update, context, Step(form.step), note=context.t("reg.use_buttons"))
    message = update.effective_message
    if message.photo:
        draft = Draft(
            text=message.caption,
            entities=[e.to_dict() for e in message.caption_entities] or None,
            photo_file_id=message.photo[-1].file_id,
        )
    else:
        draft = Draft(text=message.text, entities=[e.to_dict() for e in message.entities] or None)
    try:
        check_draft(draft)
    except InvalidInput as exc:
        return await ask(update, context, Step.COMPOSE, note=context.t(exc.key, **exc.params))
    form.text, form.entities, form.photo = draft.text, draft.entities, draft.photo_file_id
    if form.activity_id is not None:
        return await ask(update, context, Step.CONFIRM)
    allowed = context.services.broadcasts.stations_of(context.viewer)
    if allowed is not None and len(allowed) == 1:
        form.station_id, form.station_chosen, form.station_fixed = allowed[0], True, True
        return await ask(update, context, Step.EXPERTISE)
    return await ask(update, context, Step.STATION)


@coordinators_only
async def not_content(update: Update, context: BotContext) -> int:
    """A sticker, a file or anything that cannot be broadcast."""
    form = form_of(context)
    step = Step(form.step) if form.step else Step.COMPOSE
    key = "broadcast.need_content" if step == Step.COMPOSE else "reg.use_buttons"
    return await ask(update, context, step, note=context.t(key))


@coordinators_only
async def pressed(update: Update, context: BotContext) -> int:
    """A button of the dialog; those of other questions are stale."""
    await answer(update)
    form = form_of(context)
    parts = (update.callback_query.data or "").split(":")
    if int_arg(update, 1) != form.step or len(parts) < 3:
        return await stale(update, context)
    step, action, arg = Step(form.step), parts[2], parts[3] if len(parts) > 3 else None
    try:
        if action == "cancel":
            return await cancel(update, context)
        if action == "back":
            back = previous(form, step)
            return await ask(update, context, back) if back else await cancel(update, context)
        if action == "station" and step == Step.STATION and arg is not None and arg.isdigit():
            return await choose_station(update, context, int(arg))
        if action == "field" and step == Step.EXPERTISE and (arg in EXPERTISE or arg == "any"):
            form.expertise = None if arg == "any" else arg
            return await ask(update, context, Step.PRESENCE)
        if action == "presence" and step == Step.PRESENCE and arg in ("all", "now"):
            form.in_city_now = arg == "now"
            return await ask(update, context, Step.CONFIRM)
        if action == "send" and step == Step.CONFIRM:
            return await confirm(update, context)
    except (InvalidInput, NotAllowed):
        pass
    return await stale(update, context)


async def choose_station(update: Update, context: BotContext, station_id: int) -> int:
    """Take the station (0: every station, admins only)."""
    form = form_of(context)
    if station_id and await context.services.stations.get(station_id) is None:
        return await stale(update, context)
    form.station_id = station_id or None
    form.station_chosen = True
    await audience_of(context)  # raises NotAllowed for a station the viewer does not coordinate
    return await ask(update, context, Step.EXPERTISE)


async def confirm(update: Update, context: BotContext) -> int:
    """Queue the broadcast and put up its progress message."""
    form = form_of(context)
    services = context.services
    broadcast = await services.broadcasts.start(
        context.viewer,
        await audience_of(context),
        Draft(text=form.text, entities=form.entities, photo_file_id=form.photo),
    )
    context.user_data.broadcast = None
    progress = await services.broadcasts.progress(broadcast.id)
    text, markup = await progress_view(services, broadcast, progress, finished=False)
    message = await send(update, context, text, markup=markup)
    await services.broadcast_rows.set_progress_message(
        broadcast.id, message.chat_id, message.message_id
    )
    outbox: Outbox | None = context.bot_data.get("outbox")
    if outbox is not None:
        outbox.wake()
        current = await services.broadcast_rows.get(broadcast.id)
        if current is not None and current.status != "running":
            # A small audience can be served before its progress message exists.
            await outbox.report(current, force=True)
    return ConversationHandler.END


async def stale(update: Update, context: BotContext) -> int:
    """Explain, and ask the open question again."""
    form = form_of(context)
    step = Step(form.step) if form.step else Step.COMPOSE
    return await ask(update, context, step, note=context.t("common.stale_button"))


async def cancel(update: Update, context: BotContext) -> int:
    """Leave the dialog; nothing is sent."""
    await answer(update)
    context.user_data.broadcast = None
    await say(update, context, "broadcast.cancelled")
    return ConversationHandler.END


async def other_command(update: Update, context: BotContext) -> int:
    """Another command while composing."""
    form = form_of(context)
    step = Step(form.step) if form.step else Step.COMPOSE
    return await ask(update, context, step, note=context.t("reg.finish_first"))


# -- a running broadcast --------------------------------------------------------------------------


async def stop_running(update: Update, context: BotContext) -> None:
    """Cancel a running broadcast from its progress message."""
    broadcast_id = int_arg(update, 2)
    services = context.services
    if not services.broadcasts.may_broadcast(context.viewer):
        await refuse(update, context)
        return
    try:
        stopped = broadcast_id is not None and await services.broadcasts.cancel(
            context.viewer, broadcast_id
        )
    except NotAllowed:
        await refuse(update, context)
        return
    if not stopped:
        await answer(update, context.t("broadcast.already_over"), alert=True)
        return
    await answer(update)
    broadcast = await services.broadcast_rows.get(broadcast_id)
    assert broadcast is not None
    progress = await services.broadcasts.progress(broadcast_id)
    text, markup = await progress_view(
        services, broadcast, progress, finished=True, cancelled=True
    )
    await edit_or_send(update, context, text, markup=markup)


def setup(application: Application) -> None:
    """Register /broadcast and the Cancel button of running broadcasts."""
    private = filters.ChatType.PRIVATE
    with warnings.catch_warnings():
        # per_message=False is deliberate: the dialog spans messages; button data names its step.
        warnings.filterwarnings("ignore", message=".*per_message.*")
        conversation = ConversationHandler(
            entry_points=[
                CommandHandler("broadcast", begin, filters=private),
                CallbackQueryHandler(begin_for_activity, pattern=rf"^{PREFIX}:act:\d+$"),
            ],
            states={
                step: [
                    CallbackQueryHandler(pressed, pattern=rf"^{PREFIX}:\d+:"),
                    MessageHandler((filters.TEXT & ~filters.COMMAND) | filters.PHOTO, composed),
                    MessageHandler(~filters.COMMAND, not_content),
                ]
                for step in Step
            },
            fallbacks=[
                CommandHandler("cancel", cancel),
                MessageHandler(filters.COMMAND, other_command),
                CallbackQueryHandler(stale),
            ],
            name="broadcast",
        )
    application.add_handler(conversation)
    application.add_handler(CallbackQueryHandler(stop_running, pattern=rf"^{CANCEL_PREFIX}\d+$"))
