"""/new_activity: coordinators write an activity question by question, then publish or save it.

/new_request asks the same questions, in a request's words, for a request from an institution
(``handlers.requests``): experts apply to it and coordinators choose.

Editing a field from /manage asks the same question alone, so each field's rules and wording
exist once.
"""

from __future__ import annotations

import functools
import warnings
from datetime import datetime, timedelta
from enum import IntEnum
from typing import Any

from babel.dates import format_date
from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.i18n import Html, fmt_date, fmt_number
from bot.services.activities import (
    CAPACITY_MAX,
    POINTS_MAX,
    ActivityDraft,
    check_future,
    check_times,
    parse_count,
    parse_description,
    parse_end,
    parse_expertise,
    parse_kind,
    parse_place,
    parse_start,
    parse_title,
    start_on_day,
)
from bot.services.errors import InvalidInput, NotAllowed
from bot.services.kinds import ACTIVITY_KINDS
from bot.services.profile import EXPERTISE
from bot.services.requests import REQUEST_KINDS
from bot.timeparse import Reading
from handlers.activities import activity_card, tell_promoted
from handlers.common import (
    Callback,
    already_done,
    answer,
    coordinators_only,
    inline,
    int_arg,
    once,
    press_of,
    refuse,
    say,
    show,
)
from handlers.context import BotContext
from handlers.dates import YES, ask_back, spelled
from handlers.dialogs import leave_on_command
from handlers.manage import EDITABLE_FIELDS, MANAGE, now, publish_and_reply, show_managed
from handlers.paging import page_arg, station_rows, stations_among
from handlers.teams import NEW_ACTIVITY
from storage.models import Activity, ActivityStatus
from storage.presses import AlreadyDone

PREFIX = "na"
DURATIONS = (60, 120, 180, 240)
POINT_CHOICES = (0, 5, 10, 20)
# The questions a request asks in its own words.
REQUEST_WORDS = {
    f"activity.{key}": f"request.{key}"
    for key in ("ask_kind", "ask_title", "ask_place", "ask_capacity", "ask_expertise")
}


class Step(IntEnum):
    STATION = 1
    KIND = 2
    TITLE = 3
    DESCRIPTION = 4
    PLACE = 5
    START = 6
    START_TIME = 7
    END = 8
    CAPACITY = 9
    POINTS = 10
    EXPERTISE = 11
    PREVIEW = 12


ORDER = (
    Step.STATION, Step.KIND, Step.TITLE, Step.DESCRIPTION, Step.PLACE, Step.START, Step.END,
    Step.CAPACITY, Step.POINTS, Step.EXPERTISE, Step.PREVIEW,
)  # fmt: skip
# Fields that /manage can edit, and the question that asks for each.
# The question that asks for each field /manage can edit.
EDITABLE = {field: Step[field.upper()] for field in EDITABLE_FIELDS}
TEXT_STEPS = {
    Step.TITLE, Step.DESCRIPTION, Step.PLACE, Step.START, Step.START_TIME, Step.END,
    Step.CAPACITY, Step.POINTS,
}  # fmt: skip


class ActivityForm:
    """The dialog's state: the draft, the open question, and what is being edited."""

    __slots__ = (
        "day", "day_sure", "draft", "editing", "editing_id", "pending", "station_fixed", "step",
    )  # fmt: skip

    def __init__(self) -> None:
        self.draft = ActivityDraft()
        self.step = 0
        self.day: str | None = None
        # A typed day without its time: whether reading it needed a guess (a far-away date).
        self.day_sure = True
        # A start read with a guess, stored only once the coordinator confirms it.
        self.pending: datetime | None = None
        self.station_fixed = False
        self.editing: str | None = None
        self.editing_id: int | None = None


def form_of(context: BotContext) -> ActivityForm:
    """The activity being written (created on first use)."""
    if context.user_data.activity is None:
        context.user_data.activity = ActivityForm()
    return context.user_data.activity


def data(step: Step, action: str, arg: object = None) -> str:
    """Callback data naming its question, so buttons of older questions are recognised."""
    return f"{PREFIX}:{int(step)}:{action}" + ("" if arg is None else f":{arg}")


def tz(context: BotContext) -> Any:
    return context.services.settings.tz


# -- questions ------------------------------------------------------------------------------------


def previous(form: ActivityForm, step: Step) -> Step | None:
    if step == Step.START_TIME:
        return Step.START
    if form.editing:
        return None
    index = ORDER.index(step)
    if index == 0 or (ORDER[index - 1] == Step.STATION and form.station_fixed):
        return None
    return ORDER[index - 1]


def nav(context: BotContext, step: Step) -> list[tuple[str, str]]:
    form = form_of(context)
    row = []
    if previous(form, step) is not None or form.editing:
        row.append((context.t("reg.back"), data(step, "back")))
    row.append((context.t("reg.cancel"), data(step, "cancel")))
    return row


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
    form.pending = None  # a guess asked back belongs to the answer before this question
    locale = context.viewer.locale
    rows: list[list[tuple[str, str]]] = []

    def t(key: str, /, **params: Any) -> str:
        if form.draft.request is not None:
            key = REQUEST_WORDS.get(key, key)
        return context.t(key, **params)

    if step == Step.STATION:
        allowed = context.services.activities.stations_for(context.viewer)
        stations = await stations_among(context, allowed)
        rows = station_rows(
            context,
            stations,
            page,
            pick=lambda station: data(step, "station", station.id),
            turn=lambda n: data(step, "stpage", n),
        )
        if allowed is None:
            rows.append([(t("activity.city_wide"), data(step, "station", 0))])
        text = t("activity.ask_station")
    elif step == Step.KIND:
        kinds = REQUEST_KINDS if form.draft.request is not None else ACTIVITY_KINDS
        buttons = [(t(f"kind.{kind}"), data(step, "kind", kind)) for kind in kinds]
        rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
        text = t("activity.ask_kind")
    elif step == Step.START:
        today = now(context).astimezone(tz(context)).date()
        days = [today + timedelta(days=offset) for offset in range(7)]
        buttons = [
            (format_date(day, "EEE d MMM" if locale == "en" else "M月d日 EEE", locale=locale),
             data(step, "day", day.isoformat()))
            for day in days
        ]  # fmt: skip
        rows = [buttons[i : i + 4] for i in range(0, len(buttons), 4)]
        text = t("activity.ask_start")
    elif step == Step.START_TIME:
        day = datetime.fromisoformat(form.day or "").date()
        text = t("activity.ask_start_time", day=fmt_date(day, locale))
    elif step == Step.END:
        rows = [[(t("activity.hours", hours=m // 60), data(step, "dur", m)) for m in DURATIONS]]
        text = t("activity.ask_end")
    elif step == Step.CAPACITY:
        rows = [[(t("activity.unlimited"), data(step, "capacity", 0))]]
        text = t("activity.ask_capacity", max=fmt_number(CAPACITY_MAX, locale))
    elif step == Step.POINTS:
        rows = [[(str(points), data(step, "points", points)) for points in POINT_CHOICES]]
        text = t("activity.ask_points", max=POINTS_MAX)
    elif step == Step.EXPERTISE:
        buttons = [(t(f"expertise.{code}"), data(step, "field", code)) for code in EXPERTISE]
        rows = [[(t("activity.anyone"), data(step, "field", "any"))]]
        rows += [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
        text = t("activity.ask_expertise")
    elif step == Step.PREVIEW:
        card = await activity_card(context, preview_activity(context))
        text = t("activity.preview", card=Html(card))
        rows = [[(t("activity.publish"), once(data(step, "publish")))]]
        if context.viewer.is_coordinator:
            # A team's leader has no /manage to come back to a draft from: publish or cancel.
            rows.append([(t("activity.save_draft"), once(data(step, "draft")))])
    else:
        key = {
            Step.TITLE: "activity.ask_title",
            Step.DESCRIPTION: "activity.ask_description",
            Step.PLACE: "activity.ask_place",
        }[step]
        text = t(key)
    rows.append(nav(context, step))
    if note:
        text = f"{note}\n\n{text}"
    await show(update, context, text, markup=inline(rows), edit=edit)
    return step


def preview_activity(context: BotContext) -> Activity:
    """The draft as an activity, so the preview reads exactly like the published card."""
    draft = form_of(context).draft
    stamp = now(context)
    assert draft.starts_at and draft.ends_at and draft.kind and draft.title and draft.place
    return Activity(
        id=0,
        status=ActivityStatus.DRAFT,
        created_by=context.viewer.telegram_id,
        created_at=stamp,
        updated_at=stamp,
        **draft.values(),
    )


async def next_step(update: Update, context: BotContext, step: Step) -> int:
    """After a valid answer: the next question, or save the one edited field."""
    if form_of(context).editing is not None:
        return await save_edit(update, context)
    return await ask(update, context, ORDER[ORDER.index(step) + 1])


# -- entry points ---------------------------------------------------------------------------------


@coordinators_only
async def begin(update: Update, context: BotContext) -> int:
    """Start writing a new activity."""
    return await begin_as(update, context, request=False)


@coordinators_only
async def begin_request(update: Update, context: BotContext) -> int:
    """Start writing a request for experts."""
    return await begin_as(update, context, request=True)


async def begin_as(update: Update, context: BotContext, *, request: bool) -> int:
    form = context.user_data.activity = ActivityForm()
    form.draft.request = "open" if request else None
    allowed = context.services.activities.stations_for(context.viewer)
    if allowed is not None and len(allowed) == 1:
        form.draft.station_id, form.station_fixed = allowed[0], True
        return await ask(update, context, Step.KIND)
    if allowed == []:
        await say(update, context, "common.not_allowed")
        return ConversationHandler.END
    return await ask(update, context, Step.STATION)


def writers_only(callback: Callback) -> Callback:
    """Like ``coordinators_only``, but a team's leader writing an activity for their team passes
    too; the service checks the team again when the activity is saved and published."""

    @functools.wraps(callback)
    async def guarded(update: Update, context: BotContext) -> Any:
        form = context.user_data.activity
        team_id = form.draft.team_id if isinstance(form, ActivityForm) else None
        if team_id is not None and not context.viewer.is_coordinator:
            try:
                await context.services.teams.run_or_led(context.viewer, team_id)
            except NotAllowed:
                await refuse(update, context)
                context.user_data.activity = None
                return ConversationHandler.END
            return await callback(update, context)
        return await coordinators_only(callback)(update, context)

    return guarded


async def begin_for_team(update: Update, context: BotContext) -> int:
    """Start writing an activity open to one team only (from the team's page): those who run
    the team and its leaders may."""
    try:
        team = await context.services.teams.run_or_led(context.viewer, int_arg(update, 2) or 0)
    except NotAllowed:
        await refuse(update, context)
        return ConversationHandler.END
    await answer(update)
    form = context.user_data.activity = ActivityForm()
    form.draft.station_id, form.draft.city_wide = team.station_id, team.station_id is None
    form.draft.team_id, form.station_fixed = team.id, True
    return await ask(update, context, Step.KIND)


@coordinators_only
async def begin_edit(update: Update, context: BotContext) -> int:
    """Ask the one question of the field to change (from /manage)."""
    parts = (update.callback_query.data or "").split(":")
    activity_id = int_arg(update, 2)
    field = parts[3] if len(parts) > 3 else None
    try:
        activity = await context.services.activities.managed(context.viewer, activity_id or 0)
    except NotAllowed:
        await refuse(update, context)
        return ConversationHandler.END
    await answer(update)
    if field not in EDITABLE or activity.status not in (
        ActivityStatus.DRAFT,
        ActivityStatus.PUBLISHED,
    ):
        await say(update, context, "common.stale_button")
        return ConversationHandler.END
    form = context.user_data.activity = ActivityForm()
    form.editing, form.editing_id = field, activity.id
    draft = form.draft
    draft.station_id, draft.city_wide = activity.station_id, activity.station_id is None
    draft.kind, draft.title, draft.place = activity.kind, activity.title, activity.place
    draft.description, draft.capacity, draft.points = (
        activity.description,
        activity.capacity,
        activity.points,
    )
    draft.expertise, draft.request = activity.expertise, activity.request
    draft.starts_at, draft.ends_at = activity.starts_at, activity.ends_at
    if field == "start":
        draft.starts_at = None  # asked again; None marks that the answer is still missing
    return await ask(update, context, EDITABLE[field])


# -- answers --------------------------------------------------------------------------------------


@writers_only
async def on_text(update: Update, context: BotContext) -> int:
    """A typed answer, checked by the rules of the open question."""
    form = form_of(context)
    if not form.step:
        return await cancel(update, context)
    step, draft = Step(form.step), form.draft
    text = update.effective_message.text or ""
    try:
        if step == Step.TITLE:
            draft.title = parse_title(text)
        elif step == Step.DESCRIPTION:
            draft.description = parse_description(text)
        elif step == Step.PLACE:
            draft.place = parse_place(text)
        elif step == Step.START:
            reading = parse_start(text, tz=tz(context), now=now(context))
            if not isinstance(reading.value, datetime):  # a day without its time
                form.day, form.day_sure = reading.value.isoformat(), reading.sure
                return await ask(update, context, Step.START_TIME)
            return await took_reading(update, context, step, reading)
        elif step == Step.START_TIME:
            reading = start_on_day(
                form.day or "", text, tz=tz(context), now=now(context), sure=form.day_sure
            )
            return await took_reading(update, context, step, reading)
        elif step == Step.END:
            assert draft.starts_at is not None
            draft.ends_at = parse_end(
                text, start=draft.starts_at, tz=tz(context), now=now(context)
            )
        elif step == Step.CAPACITY:
            draft.capacity = parse_count(text, maximum=CAPACITY_MAX)
        elif step == Step.POINTS:
            draft.points = parse_count(text, maximum=POINTS_MAX)
        else:
            return await ask(update, context, step, note=context.t("reg.use_buttons"))
    except InvalidInput as exc:
        return await ask(update, context, step, note=context.t(exc.key, **exc.params))
    return await next_step(update, context, step)


async def took_reading(
    update: Update, context: BotContext, step: Step, reading: Reading[datetime]
) -> int:
    """A start read for sure is taken; one read with a guess is asked back first."""
    form = form_of(context)
    form.pending = None if reading.sure else reading.value
    if form.pending is None:
        return await took_start(update, context, reading.value)
    await ask_back(update, context, spelled(context, reading.value), data=data(step, "sure"))
    return step


async def took_start(update: Update, context: BotContext, moment: datetime) -> int:
    """A new start: when editing it, the activity keeps its length."""
    form = form_of(context)
    draft = form.draft
    if form.editing == "start" and draft.ends_at is not None:
        activity = await context.services.activities.activities.get(form.editing_id or 0)
        assert activity is not None
        draft.ends_at = moment + (activity.ends_at - activity.starts_at)
    draft.starts_at = moment
    if form.editing is not None:
        return await save_edit(update, context)
    return await ask(update, context, Step.END)


@writers_only
async def on_other(update: Update, context: BotContext) -> int:
    """A sticker, a photo, another command: say what the question wants."""
    form = form_of(context)
    step = Step(form.step) if form.step else Step.KIND
    message = update.effective_message
    if message is not None and (message.text or "").startswith("/"):
        key = "common.unknown_command"
    else:
        key = "input.need_text" if step in TEXT_STEPS else "reg.use_buttons"
    return await ask(update, context, step, note=context.t(key))


@writers_only
async def pressed(update: Update, context: BotContext) -> int:
    """A button of the open question; any other is stale."""
    form = form_of(context)
    parts = (update.callback_query.data or "").split(":")
    if len(parts) > 2 and parts[2] in ("publish", "draft"):
        # Answered once it is known whether this press acted, or was a second one.
        return await finish(update, context, publish=parts[2] == "publish")
    await answer(update)
    if int_arg(update, 1) != form.step or len(parts) < 3:
        return await stale(update, context)
    step, action = Step(form.step), parts[2]
    arg = parts[3] if len(parts) > 3 else None
    draft = form.draft
    try:
        if action == "cancel":
            return await cancel(update, context)
        if action == "back":
            back = previous(form, step)
            if back is None:
                return (
                    await leave_edit(update, context)
                    if form.editing
                    else await stale(update, context)
                )
            return await ask(update, context, back)
        if action == "station" and step == Step.STATION and arg and arg.isdigit():
            station_id = int(arg) or None
            context.services.activities.check_station(context.viewer, station_id)
            if station_id and await context.services.stations.get(station_id) is None:
                raise InvalidInput("common.stale_button")
            draft.station_id, draft.city_wide = station_id, station_id is None
        elif action == "stpage" and step == Step.STATION:
            return await ask(update, context, step, page=page_arg(arg), edit=True)
        elif action == "kind" and step == Step.KIND:
            draft.kind = parse_kind(arg)
            if draft.request is not None and draft.kind not in REQUEST_KINDS:
                raise InvalidInput("common.stale_button")
        elif action == "day" and step == Step.START and arg:
            datetime.fromisoformat(arg)  # a forged day raises ValueError below
            form.day, form.day_sure = arg, True
            return await ask(update, context, Step.START_TIME)
        elif action == "sure" and step in (Step.START, Step.START_TIME) and form.pending:
            pending, form.pending = form.pending, None
            if arg != YES:
                return await ask(update, context, step, note=context.t("when.again"))
            try:
                return await took_start(update, context, check_future(pending, now=now(context)))
            except InvalidInput as exc:
                return await ask(update, context, step, note=context.t(exc.key, **exc.params))
        elif action == "dur" and step == Step.END and arg and arg.isdigit():
            assert draft.starts_at is not None
            draft.ends_at = check_times(
                draft.starts_at, draft.starts_at + timedelta(minutes=int(arg))
            )
        elif action == "capacity" and step == Step.CAPACITY:
            draft.capacity = parse_count(arg, maximum=CAPACITY_MAX)
        elif action == "points" and step == Step.POINTS:
            draft.points = parse_count(arg, maximum=POINTS_MAX)
        elif action == "field" and step == Step.EXPERTISE:
            draft.expertise = parse_expertise(arg)
        else:
            return await stale(update, context)
    except (InvalidInput, NotAllowed, ValueError):
        return await stale(update, context)
    return await next_step(update, context, step)


async def finish(update: Update, context: BotContext, *, publish: bool) -> int | None:
    """Save the activity, and publish it when asked; a second press of the button does nothing."""
    form = form_of(context)
    draft = form.draft
    press = press_of(update, context, "publish" if publish else "save_draft")
    if press is not None and await context.services.presses.spent(press.key):
        # The first press may have ended the dialog already; this one only says so.
        await already_done(update, context)
        return None
    if press is None or form.step != Step.PREVIEW or int_arg(update, 1) != form.step:
        await answer(update)
        return await stale(update, context)
    try:
        activity = await context.services.activities.create(context.viewer, draft, press=press)
    except AlreadyDone:
        await already_done(update, context)
        return ConversationHandler.END
    except (InvalidInput, NotAllowed) as exc:
        await answer(update)
        context.user_data.activity = None
        key = exc.key if isinstance(exc, InvalidInput) else "common.not_allowed"
        await say(update, context, key, **getattr(exc, "params", {}))
        return ConversationHandler.END
    context.user_data.activity = None
    if publish:
        await publish_and_reply(update, context, activity.id)
    else:
        await answer(update)
        # The preview becomes the draft's card, to publish or edit later.
        await show_managed(update, context, activity, edit=True)
        await say(update, context, "activity.saved_draft", title=activity.title)
    return ConversationHandler.END


async def save_edit(update: Update, context: BotContext) -> int:
    """Store the one edited field and show the activity's management card."""
    form = form_of(context)
    draft, field = form.draft, form.editing
    columns = {
        "start": ("starts_at", "ends_at"),
        "end": ("ends_at",),
    }.get(field or "", (field,))
    values = draft.values()
    changes = {column: values[column] for column in columns}
    try:
        activity, told, promoted = await context.services.activities.edit(
            context.viewer, form.editing_id or 0, changes
        )
    except (InvalidInput, NotAllowed) as exc:
        context.user_data.activity = None
        key = exc.key if isinstance(exc, InvalidInput) else "common.not_allowed"
        await say(update, context, key)
        return ConversationHandler.END
    context.user_data.activity = None
    for talent_id in promoted:
        await tell_promoted(context, talent_id, activity.id)
    key = "activity.saved_told" if told else "activity.saved"
    await say(update, context, key, count=fmt_number(told, context.viewer.locale))
    await show_managed(update, context, activity, edit=False)
    return ConversationHandler.END


async def leave_edit(update: Update, context: BotContext) -> int:
    """Back from an edit: nothing changes, the management card again."""
    form = form_of(context)
    context.user_data.activity = None
    activity = await context.services.activities.activities.get(form.editing_id or 0)
    await say(update, context, "profile.unchanged")
    if activity is not None:
        await show_managed(update, context, activity, edit=False)
    return ConversationHandler.END


async def stale(update: Update, context: BotContext) -> int:
    """A button that does not belong to the open question."""
    form = form_of(context)
    step = Step(form.step) if form.step else Step.KIND
    return await ask(update, context, step, note=context.t("common.stale_button"))


async def cancel(update: Update, context: BotContext) -> int:
    """Leave the dialog; nothing is stored. A Cancel button's message says so in place."""
    await answer(update)
    editing = context.user_data.activity is not None and context.user_data.activity.editing
    context.user_data.activity = None
    text = context.t("profile.unchanged" if editing else "activity.dialog_cancelled")
    await show(update, context, text, edit=update.callback_query is not None)
    return ConversationHandler.END


def setup(application: Application) -> None:
    """Register the /new_activity dialog, which also edits one field from /manage."""
    private = filters.ChatType.PRIVATE
    private = filters.ChatType.PRIVATE
    with warnings.catch_warnings():
        # per_message=False is deliberate: the dialog spans messages; button data names its step.
        warnings.filterwarnings("ignore", message=".*per_message.*")
        conversation = ConversationHandler(
            entry_points=[
                CommandHandler("new_activity", begin, filters=private),
                CommandHandler("new_request", begin_request, filters=private),
                CallbackQueryHandler(begin_for_team, pattern=rf"^{NEW_ACTIVITY}\d+$"),
                CallbackQueryHandler(begin_edit, pattern=rf"^{MANAGE}:edit:\d+:\w+$"),
            ],
            states={
                step: [
                    CallbackQueryHandler(pressed, pattern=rf"^{PREFIX}:\d+:"),
                    MessageHandler(filters.TEXT & ~filters.COMMAND, on_text),
                    MessageHandler(~filters.COMMAND, on_other),
                ]
                for step in Step
            },
            fallbacks=[
                CommandHandler("cancel", cancel),
                leave_on_command(cancel),
                MessageHandler(filters.COMMAND, on_other),
                CallbackQueryHandler(stale),
            ],
            name="new_activity",
        )
    application.add_handler(conversation)
