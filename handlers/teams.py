"""/teams: create a team, hand out its link, add members and name leaders; join and leave.

Every button names the team it acts on and goes through ``bot.services.teams``, which checks
the viewer's rights afresh; a refused press changes nothing and says "not allowed".
"""

from __future__ import annotations

import warnings
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
from telegram.helpers import create_deep_linked_url

from bot.i18n import Html
from bot.services.errors import InvalidInput, NotAllowed
from bot.services.profile import parse_name
from bot.services.teams import KINDS, TEAM_PREFIX, TeamView
from handlers.broadcast import TEAM_ENTRY
from handlers.common import (
    answer,
    edit_or_send,
    inline,
    int_arg,
    label,
    person_name,
    refuse,
    say,
    send,
    show,
)
from handlers.context import BotContext
from handlers.dialogs import leave_on_command
from storage.models import Team, TeamKind

PREFIX = "tm"
# The entry of /new_activity's dialog for an activity open to one team (handlers.new_activity
# reads it; defined here because that module imports this one's neighbours).
NEW_ACTIVITY = "na:team:"


class Step(IntEnum):
    NAME_ZH = 1
    NAME_EN = 2
    KIND = 3
    STATION = 4
    SEARCH = 5


def team_name(context: BotContext, team: Team) -> str:
    """The team's name in the viewer's language."""
    return team.name(context.viewer.locale)


async def where(context: BotContext, team: Team) -> str:
    """The station a team belongs to, or "city-wide"."""
    if team.station_id is None:
        return context.t("team.city_wide")
    station = await context.services.stations.get(team.station_id)
    return station.name(context.viewer.locale) if station else "?"


# -- the list and a team's page -------------------------------------------------------------------


async def show_list(update: Update, context: BotContext) -> None:
    """/teams: the teams the viewer runs or leads, and a way to create one."""
    await answer(update)
    viewer = context.viewer
    teams = await context.services.teams.visible(viewer)
    rows = [[(team_name(context, team), f"{PREFIX}:v:{team.id}")] for team in teams]
    if viewer.is_coordinator:
        rows.append([(context.t("team.new_button"), f"{PREFIX}:new")])
    if not rows:
        await say(update, context, "team.none")
        return
    key = "team.list" if teams else "team.list_empty"
    await show(update, context, context.t(key), markup=inline(rows), edit=False)


async def page_text(context: BotContext, view: TeamView) -> str:
    """A team's page as this viewer may see it."""
    team = view.team
    text = context.t(
        "team.page",
        name=team_name(context, team),
        kind=context.t(f"team.kind_{team.kind}"),
        where=await where(context, team),
        count=view.size,
    )
    if view.members is None:
        return f"{text}\n\n{context.t('team.members_hidden')}"
    lines = [
        context.t(
            "team.leader_line" if m.leader else "team.member_line",
            name=person_name(context, m.name),
        )
        for m in view.members
    ]
    text = f"{text}\n\n" + ("\n".join(lines) if lines else context.t("team.no_members"))
    if view.may_manage:
        link = create_deep_linked_url(context.bot.username, TEAM_PREFIX + team.invite_token)
        text = f"{text}\n\n{context.t('team.link', link=link)}"
    return text


async def show_team(update: Update, context: BotContext, team_id: int, *, edit: bool) -> None:
    """A team's page with what the viewer may do there."""
    try:
        view = await context.services.teams.view(context.viewer, team_id)
    except NotAllowed:
        await refuse(update, context)
        return
    await answer(update)
    rows: list[list[tuple[str, str]]] = []
    if view.may_message:
        rows.append([(context.t("team.message_button"), f"{TEAM_ENTRY}{team_id}")])
        rows.append([(context.t("team.new_activity_button"), f"{NEW_ACTIVITY}{team_id}")])
    if view.may_manage:
        rows.append([(context.t("team.add_button"), f"{PREFIX}:add:{team_id}")])
        members = [m for m in view.members or () if not m.leader]
        rows += [
            [(label(context, "team.make_leader", name=person_name(context, m.name)),
              f"{PREFIX}:mk:{team_id}:{m.talent_id}")]
            for m in members[:20]
        ]  # fmt: skip
        rows.append([(context.t("team.find_leader_button"), f"{PREFIX}:addl:{team_id}")])
    text = await page_text(context, view)
    await show(update, context, text, markup=inline(rows) if rows else None, edit=edit)


async def open_team(update: Update, context: BotContext) -> None:
    """A team's button in the list."""
    await show_team(update, context, int_arg(update, 2) or 0, edit=False)


async def make_leader(update: Update, context: BotContext) -> None:
    """Name a member a leader."""
    team_id, talent_id = int_arg(update, 2) or 0, int_arg(update, 3) or 0
    try:
        if await context.services.teams.teams.membership(team_id, talent_id) is None:
            raise NotAllowed  # a forged button: only members are offered here
        await context.services.teams.add(context.viewer, team_id, talent_id, leader=True)
    except NotAllowed:
        await refuse(update, context)
        return
    await show_team(update, context, team_id, edit=True)


async def pick(update: Update, context: BotContext) -> None:
    """A search result: add them to the team, or (``1`` at the end) name them a leader."""
    team_id, talent_id = int_arg(update, 2) or 0, int_arg(update, 3) or 0
    leader = int_arg(update, 4) == 1
    services = context.services
    try:
        if not await services.search.may_pick(context.viewer, talent_id):
            raise NotAllowed
        added = await services.teams.add(context.viewer, team_id, talent_id, leader=leader)
    except NotAllowed:
        await refuse(update, context)
        return
    await answer(update, context.t("team.added" if added else "team.already"))
    await show_team(update, context, team_id, edit=True)


# -- creating a team, and finding a talent to add -------------------------------------------------


def form_of(context: BotContext) -> dict[str, Any]:
    """The team being created or the search under way."""
    if context.user_data.team is None:
        context.user_data.team = {}
    return context.user_data.team


def cancel_row(context: BotContext) -> list[tuple[str, str]]:
    return [(context.t("reg.cancel"), f"{PREFIX}:cancel")]


async def ask(update: Update, context: BotContext, step: Step, *, note: str | None = None) -> int:
    """Show one question of the dialog."""
    form = form_of(context)
    form["step"] = int(step)
    t = context.t
    rows: list[list[tuple[str, str]]] = []
    if step == Step.NAME_ZH:
        text = t("team.ask_name_zh")
    elif step == Step.NAME_EN:
        text = t("team.ask_name_en")
    elif step == Step.KIND:
        kinds = [k for k in KINDS if k != TeamKind.PARTY or context.viewer.is_admin]
        rows = [[(t(f"team.kind_{k}"), f"{PREFIX}:kind:{k}")] for k in kinds]
        text = t("team.ask_kind")
    elif step == Step.STATION:
        viewer = context.viewer
        stations = await context.services.stations.list()
        rows = [
            [(s.name(viewer.locale), f"{PREFIX}:st:{s.id}")]
            for s in stations
            if viewer.may_coordinate(s.id)
        ]
        if viewer.is_admin:
            rows.append([(t("team.city_wide"), f"{PREFIX}:st:0")])
        text = t("team.ask_station")
    else:
        text = t("team.ask_search")
    rows.append(cancel_row(context))
    if note:
        text = f"{note}\n\n{text}"
    await send(update, context, text, markup=inline(rows))
    return step


async def begin_new(update: Update, context: BotContext) -> int:
    """Start creating a team (coordinators and admins)."""
    await answer(update)
    if not context.viewer.is_coordinator:
        await refuse(update, context)
        return ConversationHandler.END
    context.user_data.team = {}
    return await ask(update, context, Step.NAME_ZH)


async def begin_search(update: Update, context: BotContext) -> int:
    """Start finding a talent to add to a team (``addl``: to name them a leader)."""
    team_id = int_arg(update, 2) or 0
    try:
        await context.services.teams.managed(context.viewer, team_id)
    except NotAllowed:
        await refuse(update, context)
        return ConversationHandler.END
    await answer(update)
    leader = (update.callback_query.data or "").startswith(f"{PREFIX}:addl:")
    context.user_data.team = {"team_id": team_id, "leader": leader}
    return await ask(update, context, Step.SEARCH)


async def typed(update: Update, context: BotContext) -> int:
    """A name of the team, or a search for a talent."""
    form = form_of(context)
    step = Step(form.get("step") or Step.NAME_ZH)
    text = update.effective_message.text
    if step == Step.SEARCH:
        return await search(update, context, text)
    if step not in (Step.NAME_ZH, Step.NAME_EN):
        return await ask(update, context, step, note=context.t("reg.use_buttons"))
    try:
        name = parse_name(text)
    except InvalidInput as exc:
        return await ask(update, context, step, note=context.t(exc.key, **exc.params))
    if step == Step.NAME_ZH:
        form["name_zh"] = name
        return await ask(update, context, Step.NAME_EN)
    form["name_en"] = name
    return await ask(update, context, Step.KIND)


async def search(update: Update, context: BotContext, text: str | None) -> int:
    """Show the talents the search finds, each a button that adds them."""
    form = form_of(context)
    team_id, leader = form.get("team_id") or 0, form.get("leader", False)
    try:
        found = await context.services.search.find(context.viewer, text)
    except InvalidInput as exc:
        return await ask(update, context, Step.SEARCH, note=context.t(exc.key, **exc.params))
    except NotAllowed:
        await refuse(update, context)
        context.user_data.team = None
        return ConversationHandler.END
    if not found:
        return await ask(update, context, Step.SEARCH, note=context.t("points.nobody"))
    rows = [
        [(person_name(context, talent.name), f"{PREFIX}:pick:{team_id}:{talent.id}:{int(leader)}")]
        for talent in found
    ]
    context.user_data.team = None
    await send(update, context, context.t("team.pick"), markup=inline(rows))
    return ConversationHandler.END


async def pressed(update: Update, context: BotContext) -> int:
    """A kind or a station of the team being created."""
    form = form_of(context)
    parts = (update.callback_query.data or "").split(":")
    step = Step(form.get("step") or Step.NAME_ZH)
    viewer = context.viewer
    if parts[1] == "kind" and step == Step.KIND and parts[2] in KINDS:
        await answer(update)
        form["kind"] = TeamKind(parts[2])
        own = sorted(set(viewer.stations_where_coordinator()))
        if not viewer.is_admin and len(own) == 1:
            return await create(update, context, own[0])
        return await ask(update, context, Step.STATION)
    if parts[1] == "st" and step == Step.STATION and parts[2].isdigit():
        return await create(update, context, int(parts[2]) or None)
    await answer(update)
    return await ask(update, context, step, note=context.t("common.stale_button"))


async def create(update: Update, context: BotContext, station_id: int | None) -> int:
    """Create the team and show its page."""
    form = form_of(context)
    try:
        team = await context.services.teams.create(
            context.viewer,
            name_zh=form["name_zh"],
            name_en=form["name_en"],
            kind=form["kind"],
            station_id=station_id,
        )
    except (NotAllowed, KeyError):
        await refuse(update, context)
        context.user_data.team = None
        return ConversationHandler.END
    await answer(update)
    context.user_data.team = None
    await say(update, context, "team.created", name=team_name(context, team))
    await show_team(update, context, team.id, edit=False)
    return ConversationHandler.END


async def cancel(update: Update, context: BotContext) -> int:
    """Leave the dialog; nothing changes."""
    await answer(update)
    context.user_data.team = None
    await show(
        update, context, context.t("team.cancelled"), edit=update.callback_query is not None
    )
    return ConversationHandler.END


async def not_text(update: Update, context: BotContext) -> int:
    """A sticker, a photo or a file where a name or a search is wanted."""
    step = Step(form_of(context).get("step") or Step.NAME_ZH)
    return await ask(update, context, step, note=context.t("input.need_text"))


# -- a member's side: joining by link, leaving ----------------------------------------------------


async def join(update: Update, context: BotContext, token: str) -> None:
    """Join the team of an invitation link (the talent is registered)."""
    try:
        joined = await context.services.teams.join(context.viewer, token)
    except NotAllowed:
        await say(update, context, "team.register_first")
        return
    if joined is None:
        await say(update, context, "team.bad_link")
        return
    team, new = joined
    await say(
        update, context, "team.joined" if new else "team.already_in", name=team_name(context, team)
    )


async def profile_part(context: BotContext) -> tuple[str, list[list[tuple[str, str]]]]:
    """The viewer's teams for /profile: a line each, and a Leave button each."""
    mine = await context.services.teams.of(context.viewer)
    if not mine:
        return "", []
    lines = [
        context.t(
            "team.leader_line" if leader else "team.member_line", name=team_name(context, team)
        )
        for team, leader in mine
    ]
    rows = [
        [(label(context, "team.leave_button", name=team_name(context, team)),
          f"{PREFIX}:leave:{team.id}")]
        for team, _ in mine
    ]  # fmt: skip
    # The lines are escaped HTML already.
    return context.t("team.my_teams", teams=Html("\n".join(lines))), rows


async def ask_leave(update: Update, context: BotContext) -> None:
    """Ask once more before leaving a team."""
    team_id = int_arg(update, 2) or 0
    mine = {team.id: team for team, _ in await context.services.teams.of(context.viewer)}
    await answer(update)
    team = mine.get(team_id)
    if team is None:
        await say(update, context, "team.not_in")
        return
    rows = [
        [(context.t("team.leave_yes"), f"{PREFIX}:bye:{team_id}")],
        [(context.t("team.leave_no"), f"{PREFIX}:stay:{team_id}")],
    ]
    text = context.t("team.leave_question", name=team_name(context, team))
    await send(update, context, text, markup=inline(rows))


async def leave(update: Update, context: BotContext) -> None:
    """Leave the team, once confirmed; the question becomes the answer."""
    team_id = int_arg(update, 2) or 0
    await answer(update)
    team = await context.services.teams.leave(context.viewer, team_id)
    if team is None:
        await edit_or_send(update, context, context.t("team.not_in"))
        return
    await edit_or_send(update, context, context.t("team.left", name=team_name(context, team)))


async def stay(update: Update, context: BotContext) -> None:
    """Changed their mind: still in the team."""
    await answer(update)
    await edit_or_send(update, context, context.t("team.stayed"))


def setup(application: Application) -> None:
    """Register /teams, its dialog and its buttons."""
    private = filters.ChatType.PRIVATE
    with warnings.catch_warnings():
        # per_message=False is deliberate: the dialog waits for typed names across messages.
        warnings.filterwarnings("ignore", message=".*per_message.*")
        application.add_handler(
            ConversationHandler(
                entry_points=[
                    CallbackQueryHandler(begin_new, pattern=rf"^{PREFIX}:new$"),
                    CallbackQueryHandler(begin_search, pattern=rf"^{PREFIX}:addl?:\d+$"),
                ],
                states={
                    step: [
                        CallbackQueryHandler(cancel, pattern=rf"^{PREFIX}:cancel$"),
                        CallbackQueryHandler(pressed, pattern=rf"^{PREFIX}:(kind|st):"),
                        MessageHandler(filters.TEXT & ~filters.COMMAND, typed),
                        MessageHandler(~filters.COMMAND, not_text),
                    ]
                    for step in Step
                },
                fallbacks=[
                    CommandHandler("cancel", cancel),
                    leave_on_command(cancel),
                ],
                name="team",
            )
        )
    application.add_handler(CommandHandler("teams", show_list, filters=private))
    application.add_handler(CallbackQueryHandler(open_team, pattern=rf"^{PREFIX}:v:\d+$"))
    application.add_handler(CallbackQueryHandler(make_leader, pattern=rf"^{PREFIX}:mk:\d+:\d+$"))
    application.add_handler(CallbackQueryHandler(pick, pattern=rf"^{PREFIX}:pick:\d+:\d+:[01]$"))
    application.add_handler(CallbackQueryHandler(ask_leave, pattern=rf"^{PREFIX}:leave:\d+$"))
    application.add_handler(CallbackQueryHandler(leave, pattern=rf"^{PREFIX}:bye:\d+$"))
    application.add_handler(CallbackQueryHandler(stay, pattern=rf"^{PREFIX}:stay:\d+$"))
