"""Registration (/start) and profile edits from /profile: one dialog, one set of questions.

Every question knows the question before it (Back), every question accepts /cancel, and every
answer is checked by the profile rules in ``bot.services.profile``. A profile edit asks exactly one
of the same questions and saves that field alone.
"""

from __future__ import annotations

import re
import warnings
from enum import IntEnum
from typing import Any

from telegram import (
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.services.errors import InvalidInput
from bot.services.people import Registration
from bot.services.points import CHECKIN_PREFIX
from bot.services.profile import (
    EXPERTISE,
    check_expertise,
    normalise_shared_phone,
    parse_departure,
    parse_name,
    parse_phone,
    parse_region,
    parse_stay,
    parse_title,
)
from bot.services.teams import parse_token as parse_team_token
from bot.settings import SUPPORTED_LOCALES
from handlers.checkin import scan, tell_checkin
from handlers.common import Markup, answer, edit_or_send, inline, int_arg, say, send
from handlers.context import BotContext, ProfileForm
from handlers.dates import YES, ask_back, spelled_range
from handlers.dialogs import command_of, leave_on_command
from handlers.home import (
    REGISTER,
    home,
    home_keyboard,
    is_staff,
    language_keyboard,
    restore_keyboard,
)
from handlers.menus import refresh_user_menu
from handlers.middleware import reload_viewer
from handlers.paging import page_arg, station_rows
from handlers.profile import (
    EDIT_PREFIX,
    PROFILE_FIELDS,
    edit_changes,
    form_from_talent,
    profile_text,
    show_profile,
    sorted_fields,
)
from handlers.teams import join as join_team

PREFIX = "reg"
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{16,60}")


class Step(IntEnum):
    LANGUAGE = 1
    CONSENT = 2
    NAME = 3
    PHONE = 4
    EXPERTISE = 5
    TITLE = 6
    REGION = 7
    STATION = 8
    STAY = 9
    STAY_UNTIL = 10
    CONFIRM = 11


REGISTRATION = (
    Step.CONSENT,
    Step.NAME,
    Step.PHONE,
    Step.EXPERTISE,
    Step.TITLE,
    Step.REGION,
    Step.STATION,
    Step.STAY,
    Step.CONFIRM,
)
# The question that asks for each profile field a talent can edit alone.
EDITABLE = {field: Step[field.upper()] for field in PROFILE_FIELDS}
TEXT_STEPS = {Step.NAME, Step.PHONE, Step.TITLE, Step.REGION, Step.STAY, Step.STAY_UNTIL}


def button_data(step: Step, action: str, arg: object = None) -> str:
    """Callback data that names the question it belongs to, so older buttons are recognised."""
    return f"{PREFIX}:{int(step)}:{action}" + ("" if arg is None else f":{arg}")


def flow(form: ProfileForm) -> tuple[Step, ...]:
    """The questions of this registration, in order."""
    return (Step.LANGUAGE, *REGISTRATION) if form.asked_language else REGISTRATION


def step_after(form: ProfileForm, step: Step) -> Step:
    """The question that follows ``step`` in a registration."""
    if step == Step.STAY_UNTIL:
        return Step.CONFIRM
    steps = flow(form)
    return steps[steps.index(step) + 1]


def step_before(form: ProfileForm, step: Step) -> Step | None:
    """The question Back returns to; None when Back leaves the dialog (first question, edits)."""
    if step == Step.STAY_UNTIL:
        return Step.STAY
    if form.editing:
        return None
    steps = flow(form)
    index = steps.index(step)
    return steps[index - 1] if index > 0 else None


# ---------------------------------------------------------------------------------------------
# Questions


def nav_row(context: BotContext, form: ProfileForm, step: Step) -> list[tuple[str, str]]:
    """Back (when there is somewhere to go back to, or the profile to return to) and Cancel."""
    row = []
    if step_before(form, step) is not None or form.editing:
        row.append((context.t("reg.back"), button_data(step, "back")))
    row.append((context.t("reg.cancel"), button_data(step, "cancel")))
    return row


async def question(context: BotContext, step: Step, *, page: int = 0) -> tuple[str, Markup]:
    """The text and buttons of one question (``page``: of the stations to choose from)."""
    form = context.form
    nav = nav_row(context, form, step)
    t = context.t
    if step == Step.LANGUAGE:
        rows = language_keyboard(f"{PREFIX}:{int(step)}:lang:")
        return t("reg.ask_language"), inline([*rows, nav])
    if step == Step.CONSENT:
        agree = [
            (t("reg.consent_yes"), button_data(step, "consent", "yes")),
            (t("reg.consent_no"), button_data(step, "consent", "no")),
        ]
        return t("reg.ask_consent"), inline([agree, nav])
    if step == Step.NAME:
        return t("reg.ask_name"), inline([nav])
    if step == Step.PHONE:
        # Contact sharing only exists on reply keyboards, so Skip and Back are reply buttons here.
        keyboard = ReplyKeyboardMarkup(
            [
                [KeyboardButton(t("reg.share_phone"), request_contact=True)],
                [KeyboardButton(t("reg.skip"))],
                [KeyboardButton(label) for label, _ in nav],
            ],
            resize_keyboard=True,
            one_time_keyboard=False,
        )
        return t("reg.ask_phone"), keyboard
    if step == Step.EXPERTISE:
        buttons = [
            (
                ("✓ " if code in form.expertise else "") + t(f"expertise.{code}"),
                button_data(step, "exp", code),
            )
            for code in EXPERTISE
        ]
        rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
        rows.append([(t("reg.done_button"), button_data(step, "done"))])
        return t("reg.ask_expertise"), inline([*rows, nav])
    if step == Step.TITLE:
        return t("reg.ask_title"), inline([[(t("reg.skip"), button_data(step, "skip"))], nav])
    if step == Step.REGION:
        return t("reg.ask_region"), inline([nav])
    if step == Step.STATION:
        rows = station_rows(
            context,
            await context.services.stations.list(),
            page,
            pick=lambda station: button_data(step, "station", station.id),
            turn=lambda n: button_data(step, "stpage", n),
        )
        rows.append([(t("reg.station_unsure"), button_data(step, "station", 0))])
        return t("reg.ask_station"), inline([*rows, nav])
    if step == Step.STAY:
        here = [(t("reg.here_now"), button_data(step, "now"))]
        return t("reg.ask_stay"), inline([here, nav])
    if step == Step.STAY_UNTIL:
        return t("reg.ask_until"), inline([nav])
    summary = await profile_text(context, form, title_key="reg.summary")
    confirm = [(t("reg.confirm"), button_data(step, "confirm"))]
    return summary, inline([confirm, nav])


async def ask(update: Update, context: BotContext, step: Step, *, note: str | None = None) -> Step:
    """Put ``step``'s question on the screen and make it the current one."""
    form = context.form
    form.step = int(step)
    form.pending_stay = None  # a guess asked back belongs to the answer before this question
    text, markup = await question(context, step)
    if form.reply_keyboard and step != Step.PHONE:
        # The contact keyboard stays until a message replaces it, and a message carries one
        # keyboard: so a short note puts the home buttons (or none) back before the question.
        keyboard = restore_keyboard(context)
        await send(update, context, note or context.t("reg.noted"), markup=keyboard)
        form.reply_keyboard = False
        note = None
    if step == Step.PHONE:
        form.reply_keyboard = True
    if note:
        text = f"{note}\n\n{text}"
    await send(update, context, text, markup=markup)
    return step


async def ask_again(update: Update, context: BotContext, note: str) -> Step:
    """Explain what was wrong and ask the current question again."""
    return await ask(update, context, Step(context.form.step), note=note)


# ---------------------------------------------------------------------------------------------
# Entry points


async def start(update: Update, context: BotContext) -> int:
    """Greet a registered talent or a member of staff, or begin (or resume) registration."""
    viewer = context.viewer
    payload = context.args[0] if context.args else ""
    checkin = payload.removeprefix(CHECKIN_PREFIX) if payload.startswith(CHECKIN_PREFIX) else None
    if checkin is not None and not TOKEN_SHAPE.fullmatch(checkin):
        checkin = None  # not a code we could have made: a plain bad link
    team = parse_team_token(payload)
    bad_link = bool(context.args) and checkin is None and team is None
    if viewer.registered:
        if checkin is not None:
            await scan(update, context, checkin)
            return ConversationHandler.END
        if team is not None:
            await join_team(update, context, team)
            return ConversationHandler.END
        if bad_link:
            await say(update, context, "start.bad_link")
        await home(update, context)
        return ConversationHandler.END
    if checkin is not None:
        # A code that cannot check anyone in is said so now, not after a whole registration.
        refusal = await context.services.checkins.before_registering(checkin)
        if refusal is not None:
            await tell_checkin(update, context, refusal)
            return ConversationHandler.END
    elif team is not None:
        # Like a check-in code: a link that opens no team is said so before registering.
        if await context.services.teams.teams.by_token(team) is None:
            await say(update, context, "team.bad_link")
            return ConversationHandler.END
    elif is_staff(viewer) and not paused(context):
        # Staff have their own home; registering as a talent is a button there, not a must.
        if bad_link:
            await say(update, context, "start.bad_link")
        await home(update, context)
        return ConversationHandler.END
    note = context.t("start.bad_link") if bad_link else None
    return await register(update, context, checkin=checkin, note=note, team=team)


async def register_button(update: Update, context: BotContext) -> int:
    """The "register as a talent" button under a staff member's home screen."""
    await answer(update)
    if context.viewer.registered:
        await say(update, context, "common.stale_button")
        return ConversationHandler.END
    return await register(update, context, checkin=None, note=None)


def paused(context: BotContext) -> ProfileForm | None:
    """A registration left for a command, with what was answered so far."""
    form = context.user_data.form
    return form if form is not None and form.step and form.editing is None else None


async def register(
    update: Update,
    context: BotContext,
    *,
    checkin: str | None,
    note: str | None,
    team: str | None = None,
) -> int:
    """Resume a paused registration where it was left, or begin one (``team``: the token of a
    team's link, joined once registered)."""
    viewer = context.viewer
    form = paused(context)
    if checkin is not None:
        note = context.t("checkin.register_first")
    elif team is not None:
        note = context.t("team.register_first")
    if form is not None:
        if checkin is not None:
            form.pending_checkin = checkin
        if team is not None:
            form.pending_team = team
        return await ask(update, context, Step(form.step), note=note or context.t("reg.resumed"))
    form = context.user_data.form = ProfileForm(pending_checkin=checkin, pending_team=team)
    if not viewer.language_known:
        form.asked_language = True
        return await ask(update, context, Step.LANGUAGE, note=note)
    form.language = viewer.locale
    return await ask(update, context, Step.CONSENT, note=note or context.t("reg.welcome"))


async def edit_field(update: Update, context: BotContext) -> int:
    """Ask the one question of the profile field the talent wants to change."""
    await answer(update)
    field = (update.callback_query.data or "").removeprefix(EDIT_PREFIX)
    if not context.viewer.registered or field not in EDITABLE:
        await say(update, context, "common.stale_button")
        return ConversationHandler.END
    form = context.user_data.form = form_from_talent(context)
    form.editing = field
    return await ask(update, context, EDITABLE[field])


# ---------------------------------------------------------------------------------------------
# Answers


async def on_button(update: Update, context: BotContext) -> int:
    """Handle a button of the current question; any other question's button is stale."""
    form = context.form
    parts = (update.callback_query.data or "").split(":")
    step = int_arg(update, 1)
    if step != form.step or len(parts) < 3:
        await answer(update)
        return await ask_again(update, context, context.t("common.stale_button"))
    await answer(update)
    action, arg = parts[2], parts[3] if len(parts) > 3 else None
    current = Step(step)
    try:
        return await BUTTONS[action](update, context, current, arg)
    except (KeyError, InvalidInput):
        # A forged or outdated value: nothing is stored, the question stands.
        return await ask_again(update, context, context.t("common.stale_button"))


async def go_back(update: Update, context: BotContext, step: Step, _: str | None) -> int:
    """Return to the previous question, or from a profile edit to the profile."""
    form = context.form
    previous = step_before(form, step)
    if previous is None:
        return await finish_edit(update, context, changes=None)
    return await ask(update, context, previous)


async def cancel(update: Update, context: BotContext, *_: Any) -> int:
    """Leave the dialog; nothing of it is stored."""
    await answer(update)
    form = context.user_data.form
    key = "profile.edit_cancelled" if form and form.editing else "reg.cancelled"
    remove = restore_keyboard(context) if form and form.reply_keyboard else None
    context.user_data.form = None
    if not context.viewer.registered:
        # "Nothing was stored" holds for a language chosen at the first question, too.
        await context.services.people.forget_unregistered(context.viewer.telegram_id)
    await say(update, context, key, markup=remove)
    return ConversationHandler.END


async def choose_language(update: Update, context: BotContext, step: Step, arg: str | None) -> int:
    """Store the chosen language and continue in it."""
    if arg not in SUPPORTED_LOCALES:
        raise InvalidInput("common.stale_button")
    await context.services.people.set_language(context.viewer.telegram_id, arg)
    await reload_viewer(update, context)
    context.form.language = arg
    return await advance(update, context, step)


async def consent(update: Update, context: BotContext, step: Step, arg: str | None) -> int:
    """Record consent, or stop when it is refused."""
    if arg == "no":
        context.user_data.form = None
        # A language chosen a step earlier was stored; without consent nothing may stay.
        await context.services.people.forget_unregistered(context.viewer.telegram_id)
        await say(update, context, "reg.consent_declined")
        return ConversationHandler.END
    if arg != "yes":
        raise InvalidInput("common.stale_button")
    context.form.consent_at = context.services.clock.now()
    return await advance(update, context, step)


async def toggle_expertise(
    update: Update, context: BotContext, step: Step, arg: str | None
) -> int:
    """Tick or untick one field of expertise, in place."""
    if arg not in EXPERTISE:
        raise InvalidInput("common.stale_button")
    form = context.form
    form.expertise ^= {arg}
    _, markup = await question(context, step)
    query = update.callback_query
    if query.message is not None:
        await query.edit_message_reply_markup(reply_markup=markup)
    return step


async def expertise_done(update: Update, context: BotContext, step: Step, _: str | None) -> int:
    """Accept the ticked fields; at least one is needed."""
    try:
        check_expertise(context.form.expertise)
    except InvalidInput as exc:
        return await ask_again(update, context, context.t(exc.key, **exc.params))
    return await advance(update, context, step)


async def skip(update: Update, context: BotContext, step: Step, _: str | None) -> int:
    """Leave an optional field empty."""
    if step == Step.TITLE:
        context.form.title = None
    elif step == Step.PHONE:
        context.form.phone = None
    else:
        raise InvalidInput("common.stale_button")
    return await advance(update, context, step)


async def choose_station(update: Update, context: BotContext, step: Step, arg: str | None) -> int:
    """Take a station from the list (0: not sure yet)."""
    if arg is None or not arg.isdigit():
        raise InvalidInput("common.stale_button")
    station_id = int(arg)
    if station_id and await context.services.stations.get(station_id) is None:
        raise InvalidInput("common.stale_button")
    context.form.station_id = station_id or None
    context.form.station_chosen = True
    return await advance(update, context, step)


async def station_page(update: Update, context: BotContext, step: Step, arg: str | None) -> int:
    """Another page of the stations to choose from, in place of this one."""
    if step != Step.STATION:
        raise InvalidInput("common.stale_button")
    text, markup = await question(context, step, page=page_arg(arg))
    assert isinstance(markup, InlineKeyboardMarkup)
    await edit_or_send(update, context, text, markup=markup)
    return step


async def here_now(update: Update, context: BotContext, step: Step, _: str | None) -> int:
    """The talent is already in the city: only the departure date is missing."""
    form = context.form
    form.stay_from = today(context)
    form.stay_to = None
    return await ask(update, context, Step.STAY_UNTIL)


async def confirm_stay(update: Update, context: BotContext, step: Step, arg: str | None) -> int:
    """Yes stores the stay dates that were read with a guess; No asks for them again."""
    form = context.form
    pending, form.pending_stay = form.pending_stay, None
    if pending is None or step not in (Step.STAY, Step.STAY_UNTIL):
        raise InvalidInput("common.stale_button")
    if arg != YES:
        return await ask_again(update, context, context.t("when.again"))
    form.stay_from, form.stay_to = pending
    return await advance(update, context, step)


async def confirm(update: Update, context: BotContext, step: Step, _: str | None) -> int:
    """Store the registration and show the home screen."""
    form = context.form
    missing = first_missing(form)
    if missing is not None:
        return await ask(update, context, missing)
    assert form.consent_at and form.name and form.region and form.stay_from and form.stay_to
    await context.services.people.register(
        context.viewer.telegram_id,
        Registration(
            language=form.language or context.viewer.locale,
            consent_at=form.consent_at,
            name=form.name,
            phone=form.phone,
            expertise=tuple(sorted_fields(form)),
            title=form.title,
            region=form.region,
            station_id=form.station_id,
            stay_from=form.stay_from,
            stay_to=form.stay_to,
        ),
    )
    context.user_data.form = None
    await reload_viewer(update, context)
    if form.pending_checkin is not None:
        # Scanned at the door before registering: checked in now, without scanning again. The
        # home buttons come with the thanks; the home screen itself can wait.
        keyboard = home_keyboard(context.services.translator, context.viewer)
        await say(update, context, "reg.completed", markup=keyboard)
        await scan(update, context, form.pending_checkin)
    else:
        await say(update, context, "reg.completed")
        await home(update, context)
    if form.pending_team is not None:
        # Opened a team's link before registering: in the team now, without opening it again.
        await join_team(update, context, form.pending_team)
    await refresh_user_menu(context.bot, context.services.translator, context.viewer)
    return ConversationHandler.END


def first_missing(form: ProfileForm) -> Step | None:
    """The first required answer a (tampered) form lacks, or None when it is complete."""
    if form.consent_at is None:
        return Step.CONSENT
    if not form.name:
        return Step.NAME
    if not form.expertise:
        return Step.EXPERTISE
    if not form.region:
        return Step.REGION
    if not form.station_chosen:
        return Step.STATION
    if not (form.stay_from and form.stay_to):
        return Step.STAY
    return None


BUTTONS = {
    "back": go_back,
    "cancel": cancel,
    "lang": choose_language,
    "consent": consent,
    "exp": toggle_expertise,
    "done": expertise_done,
    "skip": skip,
    "station": choose_station,
    "stpage": station_page,
    "now": here_now,
    "sure": confirm_stay,
    "confirm": confirm,
}


def today(context: BotContext) -> Any:
    """Today in the programme's zone."""
    return context.services.people.today(context.services.settings.tz)


async def on_text(update: Update, context: BotContext) -> int:
    """Check a typed answer against the current question's rules."""
    form = context.form
    step = Step(form.step)
    text = update.effective_message.text or ""
    try:
        if step == Step.PHONE:
            return await phone_text(update, context, text)
        if step == Step.NAME:
            form.name = parse_name(text)
        elif step == Step.TITLE:
            form.title = parse_title(text)
        elif step == Step.REGION:
            form.region = parse_region(text)
        elif step in (Step.STAY, Step.STAY_UNTIL):
            parse = parse_stay if step == Step.STAY else parse_departure
            reading = parse(text, today=today(context))
            form.pending_stay = None if reading.sure else reading.value
            if form.pending_stay is not None:
                when = spelled_range(context, *reading.value)
                await ask_back(update, context, when, data=button_data(step, "sure"))
                return step
            form.stay_from, form.stay_to = reading.value
        else:
            return await ask_again(update, context, context.t("reg.use_buttons"))
    except InvalidInput as exc:
        return await ask_again(update, context, context.t(exc.key, **exc.params))
    return await advance(update, context, step)


async def phone_text(update: Update, context: BotContext, text: str) -> int:
    """The phone question's reply buttons arrive as text; anything else is a typed number."""
    step = Step.PHONE
    t = context.t
    label = text.strip()
    if label == t("reg.skip"):
        return await skip(update, context, step, None)
    if label == t("reg.back"):
        return await go_back(update, context, step, None)
    if label == t("reg.cancel"):
        return await cancel(update, context)
    context.form.phone = parse_phone(text)
    return await advance(update, context, step)


async def on_contact(update: Update, context: BotContext) -> int:
    """Take the phone number from Telegram's contact button; only the user's own counts."""
    if context.form.step != Step.PHONE:
        return await on_other(update, context)
    contact = update.effective_message.contact
    if contact.user_id != context.viewer.telegram_id:
        return await ask_again(update, context, context.t("reg.not_your_contact"))
    context.form.phone = normalise_shared_phone(contact.phone_number)
    return await advance(update, context, Step.PHONE)


async def on_other(update: Update, context: BotContext) -> int:
    """A sticker, photo or anything else that is no answer: say what is expected."""
    step = Step(context.form.step) if context.form.step else None
    if step is None:
        return await cancel(update, context)
    key = "input.need_text" if step in TEXT_STEPS else "reg.use_buttons"
    return await ask_again(update, context, context.t(key))


async def other_command(update: Update, context: BotContext) -> int:
    """A command the bot does not have: say so, and the question stands."""
    if not context.form.step:
        return await cancel(update, context)
    return await ask_again(update, context, context.t("common.unknown_command"))


async def pause(update: Update, context: BotContext) -> None:
    """Leave the dialog for a command: a registration keeps its answers, an edit is dropped."""
    form = context.user_data.form
    if form is None or not form.step:
        context.user_data.form = None
        return
    if form.editing is None and command_of(update) == "start":
        return  # /start resumes at once, and says so itself
    keyboard = restore_keyboard(context) if form.reply_keyboard else None
    form.reply_keyboard = False
    if form.editing is not None:
        context.user_data.form = None
        await say(update, context, "profile.unchanged", markup=keyboard)
    else:
        await say(update, context, "reg.paused", markup=keyboard)


async def advance(update: Update, context: BotContext, step: Step) -> int:
    """Go on after a valid answer: the next question, or save a profile edit."""
    form = context.form
    if form.editing is None:
        return await ask(update, context, step_after(form, step))
    return await finish_edit(update, context, changes=edit_changes(form))


async def finish_edit(
    update: Update, context: BotContext, *, changes: dict[str, Any] | None
) -> int:
    """Save a profile edit (or drop it, on Back) and show the profile again."""
    form = context.user_data.form
    talent = context.viewer.talent
    if changes and talent is not None:
        await context.services.people.update_profile(talent.id, changes)
        await reload_viewer(update, context)
    note = context.t("profile.saved" if changes else "profile.unchanged")
    remove = restore_keyboard(context) if form and form.reply_keyboard else None
    context.user_data.form = None
    await send(update, context, note, markup=remove)
    await show_profile(update, context)
    return ConversationHandler.END


def build_conversation() -> ConversationHandler:
    """The registration and profile-edit dialog."""
    private = filters.ChatType.PRIVATE
    answers = [
        CallbackQueryHandler(on_button, pattern=f"^{PREFIX}:"),
        MessageHandler(filters.TEXT & ~filters.COMMAND & private, on_text),
        MessageHandler(filters.CONTACT & private, on_contact),
        MessageHandler(~filters.COMMAND & private, on_other),
        # Buttons of other features' messages while this dialog waits for an answer.
        CallbackQueryHandler(on_stale_button),
    ]
    with warnings.catch_warnings():
        # per_message=False is deliberate: the dialog follows the user across many messages, and
        # button data names its question, which is how stale buttons are told apart.
        warnings.filterwarnings("ignore", message=".*per_message.*")
        return ConversationHandler(
            entry_points=[
                CommandHandler("start", start, filters=private),
                CallbackQueryHandler(edit_field, pattern=f"^{EDIT_PREFIX}"),
                CallbackQueryHandler(register_button, pattern=f"^{REGISTER}$"),
            ],
            states={step: answers for step in Step},
            fallbacks=[
                CommandHandler("cancel", cancel, filters=private),
                leave_on_command(pause),
                MessageHandler(filters.COMMAND & private, other_command),
            ],
            name="profile",
            allow_reentry=False,
        )


async def on_stale_button(update: Update, context: BotContext) -> int:
    """A button from another message while a question is open."""
    await answer(update)
    return await ask_again(update, context, context.t("common.stale_button"))


def setup(application: Application) -> None:
    """Register /start and the dialog, which also edits one profile field."""
    application.add_handler(build_conversation())
