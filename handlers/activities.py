"""/activities, /my and an activity's page: what talents see and how they sign up."""

from __future__ import annotations

import html
import logging

from telegram import Update
from telegram.error import Forbidden, TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot.i18n import Html, fmt_number, fmt_span
from bot.notices import VIEW_PREFIX
from bot.services.kinds import ACTIVITY_KINDS
from handlers.common import (
    ONCE,
    already_done,
    answer,
    callback_arg,
    edit_or_send,
    inline,
    int_arg,
    once,
    press_of,
    say,
    show,
)
from handlers.context import BotContext
from handlers.paging import page_arg, pager, paginate
from handlers.profile import EDIT_PREFIX
from storage.activities import LeaveOutcome, SignupOutcome
from storage.models import Activity, ActivityStatus
from storage.presses import AlreadyDone

log = logging.getLogger(__name__)

PREFIX = "act"
DEEP_LINK = "act-"
PER_PAGE = 5


async def activity_card(context: BotContext, activity: Activity, *, manager: bool = False) -> str:
    """An activity as talents (and, with counts and status, coordinators) read it."""
    t = context.t
    locale = context.viewer.locale
    station = t("activity.city_wide")
    if activity.station_id is not None:
        found = await context.services.stations.get(activity.station_id)
        station = found.name(locale) if found else station
    if activity.team_id is not None:
        # The team's text is escaped HTML already; the station's name is escaped here.
        team = await context.services.teams.teams.get(activity.team_id)
        label = t("team.audience", name=team.name(locale) if team else "?")
        station = Html(f"{html.escape(station, quote=False)} · {label}")
    if activity.capacity:
        places = t(
            "activity.places",
            going=fmt_number(activity.going, locale),
            capacity=fmt_number(activity.capacity, locale),
        )
    else:
        places = t("activity.places_unlimited", going=fmt_number(activity.going, locale))
    text = t(
        "activity.card",
        kind=t(f"kind.{activity.kind}"),
        title=activity.title,
        when=fmt_span(activity.starts_at, activity.ends_at, locale, context.services.settings.tz),
        place=activity.place,
        station=station,
        places=places,
        points=fmt_number(activity.points, locale),
        expertise=t(f"expertise.{activity.expertise}")
        if activity.expertise
        else t("activity.anyone"),
        description=activity.description or t("profile.blank"),
    )
    if manager or activity.status != ActivityStatus.PUBLISHED:
        text += "\n" + t("activity.status_line", status=t(f"activity.status_{activity.status}"))
    if manager and activity.waiting:
        text += "\n" + t("activity.waiting_line", count=fmt_number(activity.waiting, locale))
    return text


async def send_card(
    update: Update, context: BotContext, activity_id: int, *, edit: bool, note: str | None = None
) -> None:
    """An activity's page with the button that fits the talent: sign up, waitlist, cancel;
    ``note`` (what just happened) above it."""
    services = context.services
    activity = await services.activities.activities.get(activity_id)
    if activity is None or not services.activities.may_see(context.viewer, activity):
        await say(update, context, "activity.unknown")
        return
    if await services.activities.closed_to_team(context.viewer, activity):
        await say(update, context, "team.activity_for_team")
        return
    t = context.t
    text = await activity_card(context, activity)
    rows: list[list[tuple[str, str]]] = []
    talent = context.viewer.talent
    open_for_signup = (
        activity.status == ActivityStatus.PUBLISHED and activity.starts_at > services.clock.now()
    )
    if not context.viewer.registered:
        text += "\n\n" + t("activity.register_first")
    elif open_for_signup:
        assert talent is not None
        signup = await services.activities.activities.signup_of(activity.id, talent.id)
        status = signup.status if signup else None
        if status == "going":
            text += "\n\n" + t("activity.you_are_going")
            rows.append([(t("activity.leave"), f"{PREFIX}:leave:{activity.id}")])
        elif status == "waitlist":
            position = await services.activities.activities.waitlist_position(
                activity.id, talent.id
            )
            text += "\n\n" + t("activity.you_are_waiting", position=position)
            rows.append([(t("activity.leave_waitlist"), f"{PREFIX}:leave:{activity.id}")])
        elif activity.request is not None:
            from handlers.requests import apply_rows  # late: that module builds on this one

            line, more = await apply_rows(context, activity)
            text += "\n\n" + line
            rows += more
        elif activity.full:
            rows.append([(t("activity.join_waitlist"), f"{PREFIX}:wait:{activity.id}")])
        else:
            rows.append([(t("activity.sign_up"), f"{PREFIX}:join:{activity.id}")])
    rows.append([(t("activity.back_to_list"), f"{PREFIX}:page:0:all")])
    if note:
        text = f"{note}\n\n{text}"
    await show(update, context, text, markup=inline(rows), edit=edit)


async def list_activities(update: Update, context: BotContext) -> None:
    """/activities: what the talent can join, five at a time, with a filter by kind."""
    await show_page(update, context, page=0, kind=None, edit=False)


async def page_button(update: Update, context: BotContext) -> None:
    """Another page, or another kind."""
    await answer(update)
    parts = (update.callback_query.data or "").split(":")
    page = int_arg(update, 2) or 0
    kind = parts[3] if len(parts) > 3 else "all"
    if kind != "all" and kind not in ACTIVITY_KINDS:
        await say(update, context, "common.stale_button")
        return
    await show_page(update, context, page=page, kind=None if kind == "all" else kind, edit=True)


async def show_page(
    update: Update, context: BotContext, *, page: int, kind: str | None, edit: bool
) -> None:
    """One page of the list."""
    if not context.viewer.registered:
        await say(update, context, "profile.not_registered")
        return
    t = context.t
    locale = context.viewer.locale
    activities, total = await context.services.activities.upcoming(
        context.viewer, kind=kind, page=page, per_page=PER_PAGE
    )
    tag = kind or "all"
    rows = [
        [(f"{a.title} · {fmt_span(a.starts_at, a.ends_at, locale, context.services.settings.tz)}",
          f"{VIEW_PREFIX}{a.id}")]
        for a in activities
    ]  # fmt: skip
    pages = max(1, (total + PER_PAGE - 1) // PER_PAGE)
    rows.append(pager(context, page, pages, lambda n: f"{PREFIX}:page:{n}:{tag}"))
    kinds = [("✓ " if k == kind else "") + t(f"kind.{k}") for k in ACTIVITY_KINDS]
    filters_row = [
        (label, f"{PREFIX}:page:0:{k}") for label, k in zip(kinds, ACTIVITY_KINDS, strict=True)
    ]
    rows += [filters_row[i : i + 4] for i in range(0, len(filters_row), 4)]
    rows.append(
        [(("✓ " if kind is None else "") + t("activity.all_kinds"), f"{PREFIX}:page:0:all")]
    )
    if total:
        text = t(
            "activity.list_title", page=page + 1, pages=pages, total=fmt_number(total, locale)
        )
    else:
        text = t("activity.list_empty")
    if context.viewer.talent.station_id is None:
        # Without a station every station's activities are listed; choosing one is a tap away.
        text += "\n\n" + t("activity.no_station")
        rows.append([(t("activity.choose_station"), f"{EDIT_PREFIX}station")])
    await show(update, context, text, markup=inline(rows), edit=edit)


async def view_button(update: Update, context: BotContext) -> None:
    """The "View" button of an announcement or a list."""
    await answer(update)
    activity_id = int_arg(update, 2)
    if activity_id is None:
        await say(update, context, "activity.unknown")
        return
    await send_card(update, context, activity_id, edit=False)


async def deep_link(update: Update, context: BotContext) -> None:
    """``/start act-<id>``: the activity's page."""
    payload = (context.args or [""])[0].removeprefix(DEEP_LINK)
    if not payload.isdigit() or len(payload) > 12:
        await say(update, context, "activity.unknown")
        return
    await send_card(update, context, int(payload), edit=False)


async def join(update: Update, context: BotContext) -> None:
    """Sign up, or join the waitlist."""
    waitlist = update.callback_query.data.startswith(f"{PREFIX}:wait:")
    activity_id = int_arg(update, 2)
    talent = context.viewer.talent
    if activity_id is None or talent is None or not context.viewer.registered:
        await answer(update, context.t("activity.register_first"), alert=True)
        return
    outcome = await context.services.activities.sign_up(talent.id, activity_id, waitlist=waitlist)
    if outcome == SignupOutcome.UNKNOWN:
        await answer(update, context.t("activity.unknown"), alert=True)
        return
    if outcome == SignupOutcome.TEAM_ONLY:
        await answer(update, context.t("team.activity_for_team"), alert=True)
        return
    await answer(update, context.t(f"activity.outcome_{outcome}"), alert=outcome not in (
        SignupOutcome.SIGNED_UP, SignupOutcome.WAITLISTED))  # fmt: skip
    await send_card(update, context, activity_id, edit=True)


async def confirm_leave(update: Update, context: BotContext) -> None:
    """Ask before giving up a place (it goes to the first on the waitlist) or a waitlist place."""
    activity_id = int_arg(update, 2)
    talent = context.viewer.talent
    if activity_id is None or talent is None:
        await answer(update, context.t("activity.register_first"), alert=True)
        return
    services = context.services
    activity = await services.activities.activities.get(activity_id)
    signup = await services.activities.activities.signup_of(activity_id, talent.id)
    if activity is None or signup is None or signup.status not in ("going", "waitlist"):
        await answer(update, context.t("activity.not_signed_up"), alert=True)
        await send_card(update, context, activity_id, edit=True)
        return
    await answer(update)
    t = context.t
    if signup.status == "waitlist":
        position = await services.activities.activities.waitlist_position(activity_id, talent.id)
        text = t("activity.leave_waitlist_confirm", title=activity.title, position=position)
        yes = t("activity.leave_waitlist_yes")
    else:
        key = "activity.leave_confirm_waiting" if activity.waiting else "activity.leave_confirm"
        text, yes = t(key, title=activity.title), t("activity.leave_yes")
    rows = [
        [(yes, once(f"{PREFIX}:quit:{activity_id}"))],
        [(t("activity.leave_keep"), f"{PREFIX}:back:{activity_id}")],
    ]
    await edit_or_send(update, context, text, markup=inline(rows))


async def back_to_card(update: Update, context: BotContext) -> None:
    """No, keep it: the activity's page again, in place."""
    await answer(update)
    await send_card(update, context, int_arg(update, 2) or 0, edit=True)


async def leave(update: Update, context: BotContext) -> None:
    """Give up a place or a waitlist place, once however often Yes is pressed; tell whoever
    moves up."""
    activity_id = int_arg(update, 2)
    talent = context.viewer.talent
    if activity_id is None or talent is None:
        await answer(update, context.t("activity.register_first"), alert=True)
        return
    try:
        outcome, promoted = await context.services.activities.leave(
            talent.id, activity_id, press=press_of(update, context, "leave")
        )
    except AlreadyDone:
        await already_done(update, context)
        return
    note = None
    if outcome == LeaveOutcome.NOT_SIGNED_UP:
        await answer(update, context.t("activity.not_signed_up"), alert=True)
    else:
        note = context.t("activity.left")
        await answer(update, note)
    # The question becomes the activity's page, saying what was done.
    await send_card(update, context, activity_id, edit=True, note=note)
    if promoted is not None:
        await tell_promoted(context, promoted, activity_id)


async def tell_promoted(context: BotContext, talent_id: int, activity_id: int) -> None:
    """The first on the waitlist got a place: tell them, in their language."""
    services = context.services
    talent = await services.talents.get(talent_id)
    activity = await services.activities.activities.get(activity_id)
    if talent is None or activity is None:
        return
    locale = services.translator.resolve(talent.language, None)
    text = services.translator(
        locale,
        "activity.promoted",
        title=activity.title,
        when=fmt_span(activity.starts_at, activity.ends_at, locale, services.settings.tz),
        place=activity.place,
    )
    try:
        await context.bot.send_message(talent.telegram_id, text)
    except Forbidden:
        await services.people.mark_reachable(talent.telegram_id, False)
    except TelegramError:
        # The place is theirs either way; /my shows it, and reminders follow.
        log.warning("could not tell talent %s about their place", talent_id, exc_info=True)


async def mine(update: Update, context: BotContext) -> None:
    """/my: the talent's places and waitlist places, ten a page."""
    talent = context.viewer.talent
    await answer(update)
    if not context.viewer.registered or talent is None:
        await say(update, context, "profile.not_registered")
        return
    services = context.services
    entries = await services.activities.activities.of_talent(talent.id, now=services.clock.now())
    if not entries:
        await say(update, context, "activity.my_empty")
        return
    t = context.t
    locale = context.viewer.locale
    page = callback_arg(update, 2)
    shown = paginate(entries, page_arg(page))
    lines, rows = [t("activity.my_title")], []
    for signup, activity in shown.items:
        when = fmt_span(activity.starts_at, activity.ends_at, locale, services.settings.tz)
        if signup.status == "going":
            mark = t("activity.my_going")
        else:
            position = await services.activities.activities.waitlist_position(
                activity.id, talent.id
            )
            mark = t("activity.my_waiting", position=position)
        if activity.status == ActivityStatus.CANCELLED:
            mark = t("activity.status_cancelled")
        lines.append(t("activity.my_line", mark=mark, title=activity.title, when=when))
        rows.append([(activity.title, f"{VIEW_PREFIX}{activity.id}")])
    rows.append(pager(context, shown.number, shown.count, lambda n: f"{PREFIX}:my:{n}"))
    await show(update, context, "\n".join(lines), markup=inline(rows), edit=page is not None)


def setup_deep_links(application: Application) -> None:
    """The activity link; registered before the plain /start so that it wins."""
    application.add_handler(
        CommandHandler(
            "start",
            deep_link,
            filters=filters.ChatType.PRIVATE & filters.Regex(f"^/start {DEEP_LINK}"),
        )
    )


def setup(application: Application) -> None:
    """Register /activities, /my and the activity buttons."""
    private = filters.ChatType.PRIVATE
    application.add_handler(CommandHandler("activities", list_activities, filters=private))
    application.add_handler(CommandHandler("my", mine, filters=private))
    application.add_handler(CallbackQueryHandler(mine, pattern=rf"^{PREFIX}:my:\d+$"))
    application.add_handler(CallbackQueryHandler(view_button, pattern=rf"^{VIEW_PREFIX}\d+$"))
    application.add_handler(CallbackQueryHandler(page_button, pattern=rf"^{PREFIX}:page:\d+:\w+$"))
    application.add_handler(CallbackQueryHandler(join, pattern=rf"^{PREFIX}:(join|wait):\d+$"))
    application.add_handler(CallbackQueryHandler(confirm_leave, pattern=rf"^{PREFIX}:leave:\d+$"))
    application.add_handler(CallbackQueryHandler(back_to_card, pattern=rf"^{PREFIX}:back:\d+$"))
    application.add_handler(CallbackQueryHandler(leave, pattern=rf"^{PREFIX}:quit:\d+:{ONCE}$"))
