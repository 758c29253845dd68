"""/broadcast: write, choose the audience, see how many it reaches, confirm; then watch it go."""

from __future__ import annotations

import functools
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

from bot.i18n import Html, fmt_number
from bot.outbox import CANCEL_PREFIX, Outbox, progress_view
from bot.services.errors import InvalidInput, NotAllowed
from bot.services.kinds import TOPIC_NEWS
from bot.services.messaging import Draft, check_draft
from bot.services.profile import EXPERTISE
from handlers.common import (
    Callback,
    already_done,
    answer,
    coordinators_only,
    edit_or_send,
    inline,
    int_arg,
    label,
    once,
    press_of,
    refuse,
    send,
    show,
)
from handlers.context import BotContext
from handlers.dialogs import leave_on_command
from handlers.paging import page_arg, station_rows, stations_among
from storage.models import Audience
from storage.presses import AlreadyDone

PREFIX = "bc"
TEAM_ENTRY = f"{PREFIX}:team:"  # a team's page starts a message to its members with this
TEAMS_SHOWN = 10
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
    team_id: int | None = None  # set: to the team's members (its leaders may send this one)


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
    if step == Step.CONFIRM and (form.activity_id is not None or form.team_id is not None):
        return Step.COMPOSE
    if step == Step.EXPERTISE and form.station_fixed:
        return Step.COMPOSE
    return Step(step - 1)


async def ask(
    update: Update,
    context: BotContext,
    step: Step,
    *,
    note: str | None = None,
    page: int = 0,
    edit: bool = False,
) -> int:
    """Show one question of the dialog (``page``: of the stations; ``edit``: in place)."""
    form = form_of(context)
    form.step = int(step)
    t = context.t
    if step == Step.COMPOSE:
        text, rows = t("broadcast.ask_text"), [nav(context, step)]
        if form.activity_id is None and form.team_id is None:
            rows = await team_rows(context) + rows
    elif step == Step.STATION:
        allowed = context.services.broadcasts.stations_of(context.viewer)
        stations = await stations_among(context, allowed)
        rows = station_rows(
            context,
            stations,
            page,
            pick=lambda station: data(step, "station", station.id),
            turn=lambda n: data(step, "stpage", n),
        )
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
    await show(update, context, text, markup=inline(rows), edit=edit)
    return step


async def team_rows(context: BotContext) -> list[list[tuple[str, str]]]:
    """Buttons that send to one of the viewer's teams instead (the first few; every team's
    page has the same button)."""
    teams = await context.services.teams.messageable(context.viewer)
    locale = context.viewer.locale
    return [
        [(label(context, "team.audience", name=team.name(locale)), f"{TEAM_ENTRY}{team.id}")]
        for team in teams[:TEAMS_SHOWN]
    ]


async def audience_of(context: BotContext) -> Audience:
    """The audience the form describes, checked against the viewer's rights."""
    form = form_of(context)
    services = context.services
    if form.activity_id is not None:
        return await services.broadcasts.signed_up_audience(context.viewer, form.activity_id)
    if form.team_id is not None:
        return await services.teams.audience(context.viewer, form.team_id, topic=TOPIC_NEWS)
    today = services.people.today(services.settings.tz)
    return services.broadcasts.audience(
        context.viewer,
        station_id=form.station_id,
        expertise=form.expertise,
        in_city_on=today if form.in_city_now else None,
    )


async def preview(context: BotContext) -> tuple[str, list[list[tuple[str, str]]]]:
    """The confirmation: whom it reaches and what it says."""
    t = context.t
    count = await context.services.broadcasts.count(await audience_of(context))
    locale = context.viewer.locale
    text = t("broadcast.preview", count=fmt_number(count, locale), **await described(context))
    rows = [] if count == 0 else [[(t("broadcast.send_button"), once(data(Step.CONFIRM, "send")))]]
    if count == 0:
        text = f"{text}\n\n{t('broadcast.nobody')}"
    rows.append(nav(context, Step.CONFIRM))
    return text, rows


async def described(context: BotContext) -> dict[str, str]:
    """The audience and an excerpt, as the confirmation (and, once sent, its record) shows."""
    form = form_of(context)
    t = context.t
    if form.activity_id is not None:
        activity = await context.services.activities.activities.get(form.activity_id)
        station = t("broadcast.signed_up_for", title=activity.title if activity else "?")
    elif form.team_id is not None:
        team = await context.services.teams.teams.get(form.team_id)
        # Escaped HTML already, passed on as it is.
        station = Html(t("team.audience", name=team.name(context.viewer.locale) if team else "?"))
    elif form.station_id is None:
        station = t("broadcast.all_stations")
    else:
        found = await context.services.stations.get(form.station_id)
        station = found.name(context.viewer.locale) if found else "?"
    excerpt = (form.text or "")[:EXCERPT] + ("…" if len(form.text or "") > EXCERPT else "")
    if form.photo:
        excerpt = f"{t('broadcast.photo_label')} {excerpt}".strip()
    return {
        "station": station,
        "expertise": t(f"expertise.{form.expertise}")
        if form.expertise
        else t("broadcast.any_field"),
        "presence": t("broadcast.in_city_now" if form.in_city_now else "broadcast.everyone"),
        "excerpt": excerpt,
    }


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


async def begin_for_team(update: Update, context: BotContext) -> int:
    """Start a message to a team's members (from the team's page): its leaders may, too."""
    team_id = int_arg(update, 2) or 0
    try:
        await context.services.teams.audience(context.viewer, team_id, topic=TOPIC_NEWS)
    except NotAllowed:
        await refuse(update, context)
        return ConversationHandler.END
    await answer(update)
    context.user_data.broadcast = BroadcastForm(team_id=team_id)
    return await ask(update, context, Step.COMPOSE)


def broadcasters_only(callback: Callback) -> Callback:
    """Like ``coordinators_only``, but a team's leader composing to their team passes too; the
    service checks the team again before anything is sent."""

    @functools.wraps(callback)
    async def guarded(update: Update, context: BotContext) -> Any:
        form = context.user_data.broadcast
        team_id = form.team_id if isinstance(form, BroadcastForm) else None
        if team_id is not None and not context.viewer.is_coordinator:
            try:
                await context.services.teams.audience(context.viewer, team_id, topic=TOPIC_NEWS)
            except NotAllowed:
                await refuse(update, context)
                context.user_data.broadcast = None
                return ConversationHandler.END
            return await callback(update, context)
        return await coordinators_only(callback)(update, context)

    return guarded


async def begin(update: Update, context: BotContext) -> int:
    """Start composing a broadcast; a team leader who is no coordinator picks their team."""
    if not context.viewer.is_coordinator:
        led = await context.services.teams.messageable(context.viewer)
        if not led:
            await refuse(update, context)
            return ConversationHandler.END
        rows = [[(team.name(context.viewer.locale), f"{TEAM_ENTRY}{team.id}")] for team in led]
        await send(update, context, context.t("team.pick_team"), markup=inline(rows))
        return ConversationHandler.END
    context.user_data.broadcast = BroadcastForm()
    return await ask(update, context, Step.COMPOSE)


@broadcasters_only
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
    if form.activity_id is not None or form.team_id is not None:
        return await ask(update, context, Step.CONFIRM)
    allowed = context.services.broadcasts.stations_of(context.viewer)
    if allowed is not None and len(allowed) == 1:
        form.station_id, form.station_chosen, form.station_fixed = allowed[0], True, True
        return await ask(update, context, Step.EXPERTISE)
    return await ask(update, context, Step.STATION)


@broadcasters_only
async def not_content(update: Update, context: BotContext) -> int:
    """A sticker, a file or anything that cannot be broadcast."""
    form = form_of(context)
    step = Step(form.step) if form.step else Step.COMPOSE
    key = "broadcast.need_content" if step == Step.COMPOSE else "reg.use_buttons"
    return await ask(update, context, step, note=context.t(key))


@broadcasters_only
async def pressed(update: Update, context: BotContext) -> int:
    """A button of the dialog; those of other questions are stale."""
    form = form_of(context)
    parts = (update.callback_query.data or "").split(":")
    if len(parts) > 2 and parts[2] == "send":
        # Answered once it is known whether this press sent it, or was a second one.
        return await confirm(update, context)
    await answer(update)
    if int_arg(update, 1) != form.step or len(parts) < 3:
        return await stale(update, context)
    step, action, arg = Step(form.step), parts[2], parts[3] if len(parts) > 3 else None
    try:
        if action == "cancel":
            return await cancel(update, context)
        if action == "back":
            back = previous(form, step)
            return await ask(update, context, back) if back else await cancel(update, context)
        if action == "stpage" and step == Step.STATION:
            return await ask(update, context, step, page=page_arg(arg), edit=True)
        if action == "station" and step == Step.STATION and arg is not None and arg.isdigit():
            return await choose_station(update, context, int(arg))
        if action == "field" and step == Step.EXPERTISE and (arg in EXPERTISE or arg == "any"):
            form.expertise = None if arg == "any" else arg
            return await ask(update, context, Step.PRESENCE)
        if action == "presence" and step == Step.PRESENCE and arg in ("all", "now"):
            form.in_city_now = arg == "now"
            return await ask(update, context, Step.CONFIRM)
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


async def confirm(update: Update, context: BotContext) -> int | None:
    """Queue the broadcast, once however often Send is pressed, and put up its progress."""
    form = form_of(context)
    services = context.services
    press = press_of(update, context, "broadcast")
    if press is not None and await services.presses.spent(press.key):
        # The first press may have ended the dialog already; this one only says so.
        await already_done(update, context)
        return None
    try:
        if press is None or form.step != Step.CONFIRM or int_arg(update, 1) != form.step:
            raise InvalidInput("common.stale_button")
        broadcast = await services.broadcasts.start(
            context.viewer,
            await audience_of(context),
            Draft(text=form.text, entities=form.entities, photo_file_id=form.photo),
            press=press,
        )
    except AlreadyDone:
        await already_done(update, context)
        return None
    except (InvalidInput, NotAllowed):
        await answer(update)
        return await stale(update, context)
    await answer(update)
    # The confirmation becomes the record of what went: Send and Back mean nothing any more.
    sent = context.t(
        "broadcast.sent",
        count=fmt_number(broadcast.total, context.viewer.locale),
        **await described(context),
    )
    context.user_data.broadcast = None
    await edit_or_send(update, context, sent)
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
    """Leave the dialog; nothing is sent. A Cancel button's message says so in place."""
    await answer(update)
    context.user_data.broadcast = None
    text = context.t("broadcast.cancelled")
    await show(update, context, text, edit=update.callback_query is not None)
    return ConversationHandler.END


async def other_command(update: Update, context: BotContext) -> int:
    """A command the bot does not have, while composing: the question stands."""
    form = form_of(context)
    step = Step(form.step) if form.step else Step.COMPOSE
    return await ask(update, context, step, note=context.t("common.unknown_command"))


# -- a running broadcast --------------------------------------------------------------------------


async def stop_running(update: Update, context: BotContext) -> None:
    """Cancel a running broadcast from its progress message."""
    broadcast_id = int_arg(update, 2)
    services = context.services
    # A team's leader may stop the message they sent their team (the service checks the author).
    leads = any(leader for _, leader in await services.teams.of(context.viewer))
    if not (services.broadcasts.may_broadcast(context.viewer) or leads):
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
                CallbackQueryHandler(begin_for_team, pattern=rf"^{TEAM_ENTRY}\d+$"),
            ],
            states={
                step: [
                    CallbackQueryHandler(pressed, pattern=rf"^{PREFIX}:\d+:"),
                    CallbackQueryHandler(begin_for_team, pattern=rf"^{TEAM_ENTRY}\d+$"),
                    MessageHandler((filters.TEXT & ~filters.COMMAND) | filters.PHOTO, composed),
                    MessageHandler(~filters.COMMAND, not_content),
                ]
                for step in Step
            },
            fallbacks=[
                CommandHandler("cancel", cancel),
                leave_on_command(cancel),
                MessageHandler(filters.COMMAND, other_command),
                CallbackQueryHandler(stale),
            ],
            name="broadcast",
        )
    application.add_handler(conversation)
    application.add_handler(CallbackQueryHandler(stop_running, pattern=rf"^{CANCEL_PREFIX}\d+$"))
