"""/admin: stations and invitations; and the invitation deep link that grants a role."""

from __future__ import annotations

import warnings
from enum import IntEnum

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.helpers import create_deep_linked_url

from bot.i18n import Html, fmt_datetime
from bot.services.admin import INVITATION_PREFIX
from bot.services.errors import InvalidInput
from handlers.common import (
    admin_only,
    answer,
    callback_arg,
    edit_or_send,
    inline,
    int_arg,
    say,
    send,
)
from handlers.context import BotContext, StationForm
from handlers.dialogs import leave_on_command
from handlers.home import home
from handlers.menus import refresh_user_menu
from handlers.middleware import reload_viewer
from handlers.paging import page_arg, pager, paginate, station_rows, text_budget
from storage.models import RoleName, Station, StationKind
from storage.roles import RedeemOutcome

PREFIX = "adm"
STATIONS_PER_PAGE = 20  # lines of the admin menu's list of stations


class AdminStep(IntEnum):
    NAME_ZH = 1
    NAME_EN = 2
    KIND = 3


async def menu_view(context: BotContext, page: int = 0) -> tuple[str, InlineKeyboardMarkup]:
    """The admin menu: the stations there are, a page at a time, and what can be done."""
    stations = await context.services.stations.list()
    locale = context.viewer.locale
    t = context.t
    lines = [
        t(
            "admin.station_line",
            id=station.id,
            name=station.name(locale),
            kind=t(f"station_kind.{station.kind}"),
        )
        for station in stations
    ]
    budget = text_budget(t("admin.menu", stations=""))
    shown = paginate(lines, page, per_page=STATIONS_PER_PAGE, line=str, budget=budget)
    # The lines are HTML already (their names escaped), so they are not escaped again.
    listing = Html("\n".join(shown.items)) if lines else t("admin.no_stations")
    keyboard = inline(
        [
            pager(context, shown.number, shown.count, lambda n: f"{PREFIX}:menu:{n}"),
            [
                (t("admin.add_station"), f"{PREFIX}:add"),
                (t("admin.rename_station"), f"{PREFIX}:rename"),
            ],
            [(t("admin.invite"), f"{PREFIX}:invite")],
            [(t("admin.roles"), f"{PREFIX}:roles")],
            [(t("admin.adjust_points"), f"{PREFIX}:points")],
            [(t("admin.rewards"), f"{PREFIX}:rewards")],
            [(t("admin.funding"), "fr:menu")],
        ]
    )
    return t("admin.menu", stations=listing), keyboard


@admin_only
async def show_menu(update: Update, context: BotContext) -> None:
    """Show the admin menu."""
    await answer(update)
    text, keyboard = await menu_view(context, page_arg(callback_arg(update, 2)))
    await edit_or_send(update, context, text, markup=keyboard)


@admin_only
async def pick_station(update: Update, context: BotContext) -> None:
    """List the stations as buttons: to rename one, invite to one, or see its roles."""
    await answer(update)
    purpose = callback_arg(update, 1)
    action = {"rename": "rn", "invite": "inv", "roles": "ppl"}.get(purpose or "")
    if action is None:
        await say(update, context, "common.stale_button")
        return
    stations = await context.services.stations.list()
    if not stations:
        await edit_or_send(update, context, context.t("admin.no_stations_yet"))
        return
    rows = station_rows(
        context,
        stations,
        page_arg(callback_arg(update, 2)),
        pick=lambda station: f"{PREFIX}:{action}:{station.id}",
        turn=lambda n: f"{PREFIX}:{purpose}:{n}",
    )
    rows.append([(context.t("reg.back"), f"{PREFIX}:menu")])
    await edit_or_send(
        update, context, context.t(f"admin.pick_station_{purpose}"), markup=inline(rows)
    )


async def station_of_button(update: Update, context: BotContext) -> Station | None:
    """The station a button names (``adm:<action>:<id>``); a stale answer when there is none."""
    station_id = int_arg(update, 2)
    station = await context.services.stations.get(station_id) if station_id else None
    if station is None:
        await say(update, context, "common.stale_button")
    return station


@admin_only
async def pick_role(update: Update, context: BotContext) -> None:
    """Ask whether the invitation makes a coordinator or a partner."""
    await answer(update)
    station = await station_of_button(update, context)
    if station is None:
        return
    rows = [
        [(context.t(f"role.{role}"), f"{PREFIX}:role:{station.id}:{role}") for role in RoleName],
        [(context.t("reg.back"), f"{PREFIX}:invite")],
    ]
    await edit_or_send(
        update,
        context,
        context.t("admin.pick_role", station=station.name(context.viewer.locale)),
        markup=inline(rows),
    )


@admin_only
async def create_invitation(update: Update, context: BotContext) -> None:
    """Make a one-time invitation link and show it to the admin."""
    await answer(update)
    station_id = int_arg(update, 2)
    role = callback_arg(update, 3)
    if station_id is None or role not in set(RoleName):
        await say(update, context, "common.stale_button")
        return
    invitation = await context.services.admin.create_invitation(
        context.viewer, station_id=station_id, role=RoleName(role)
    )
    if invitation is None:
        await say(update, context, "common.stale_button")
        return
    station = await context.services.stations.get(station_id)
    assert station is not None
    link = create_deep_linked_url(context.bot.username, INVITATION_PREFIX + invitation.token)
    await edit_or_send(
        update,
        context,
        context.t(
            "admin.invitation",
            role=context.t(f"role.{role}"),
            station=station.name(context.viewer.locale),
            link=link,
            expires=fmt_datetime(
                invitation.expires_at, context.viewer.locale, context.services.settings.tz
            ),
        ),
    )


# -- adding and renaming stations: a small dialog of typed names ------------------------------


def cancel_keyboard(context: BotContext):  # noqa: ANN201 - a keyboard, built for one message
    return inline([[(context.t("reg.cancel"), f"{PREFIX}:cancel")]])


async def ask_station(
    update: Update, context: BotContext, step: AdminStep, *, note: str | None = None
) -> int:
    """Ask for the station's Chinese name, English name or kind."""
    form = context.user_data.station_form
    assert form is not None
    form.step = int(step)
    if note:
        await send(update, context, note)
    if step == AdminStep.KIND:
        rows = [
            [(context.t(f"station_kind.{kind}"), f"{PREFIX}:kind:{kind}") for kind in StationKind],
            [(context.t("reg.cancel"), f"{PREFIX}:cancel")],
        ]
        await say(update, context, "admin.ask_kind", markup=inline(rows))
        return step
    current = None
    if form.station_id is not None:
        station = await context.services.stations.get(form.station_id)
        if station is not None:
            current = station.name_zh if step == AdminStep.NAME_ZH else station.name_en
    key = "admin.ask_name_zh" if step == AdminStep.NAME_ZH else "admin.ask_name_en"
    text = context.t(key)
    if current:
        text = f"{text}\n{context.t('admin.current_name', name=current)}"
    await send(update, context, text, markup=cancel_keyboard(context))
    return step


@admin_only
async def start_add(update: Update, context: BotContext) -> int:
    """Begin adding a station: its Chinese name first."""
    await answer(update)
    context.user_data.station_form = StationForm()
    return await ask_station(update, context, AdminStep.NAME_ZH)


@admin_only
async def start_rename(update: Update, context: BotContext) -> int:
    """Begin renaming a station."""
    await answer(update)
    station = await station_of_button(update, context)
    if station is None:
        return ConversationHandler.END
    context.user_data.station_form = StationForm(station_id=station.id)
    return await ask_station(update, context, AdminStep.NAME_ZH)


@admin_only
async def typed_name(update: Update, context: BotContext) -> int:
    """Take a typed name for the question on screen."""
    form = context.user_data.station_form
    if form is None:
        return await cancel(update, context)
    step = AdminStep(form.step)
    if step == AdminStep.KIND:
        return await ask_station(update, context, step, note=context.t("reg.use_buttons"))
    try:
        name = context.services.admin.station_name(update.effective_message.text)
    except InvalidInput as exc:
        return await ask_station(update, context, step, note=context.t(exc.key, **exc.params))
    if step == AdminStep.NAME_ZH:
        form.name_zh = name
        return await ask_station(update, context, AdminStep.NAME_EN)
    form.name_en = name
    if form.station_id is None:
        return await ask_station(update, context, AdminStep.KIND)
    station = await context.services.admin.rename_station(
        context.viewer, form.station_id, name_zh=form.name_zh or name, name_en=name
    )
    context.user_data.station_form = None
    if station is None:
        await say(update, context, "common.stale_button")
    else:
        await say(update, context, "admin.renamed", name=station.name(context.viewer.locale))
    await send_menu(update, context)
    return ConversationHandler.END


@admin_only
async def choose_kind(update: Update, context: BotContext) -> int | None:
    """Create the station with the chosen kind."""
    form = context.user_data.station_form
    kind = callback_arg(update, 2)
    if form is None or form.step != AdminStep.KIND or kind not in set(StationKind):
        return await stale(update, context)
    await answer(update)
    assert form.name_zh is not None and form.name_en is not None
    station = await context.services.admin.add_station(
        context.viewer, name_zh=form.name_zh, name_en=form.name_en, kind=StationKind(kind)
    )
    context.user_data.station_form = None
    await edit_or_send(
        update, context, context.t("admin.added", name=station.name(context.viewer.locale))
    )
    await send_menu(update, context)
    return ConversationHandler.END


async def send_menu(update: Update, context: BotContext) -> None:
    """Send the admin menu as a new message."""
    text, keyboard = await menu_view(context)
    await send(update, context, text, markup=keyboard)


async def cancel(update: Update, context: BotContext) -> int:
    """Stop adding or renaming; nothing is stored."""
    await answer(update)
    context.user_data.station_form = None
    await say(update, context, "admin.cancelled")
    return ConversationHandler.END


async def not_an_answer(update: Update, context: BotContext) -> int | None:
    """A sticker, photo or other command while the dialog waits: say what is expected."""
    form = context.user_data.station_form
    if form is None:
        return await cancel(update, context)
    step = AdminStep(form.step)
    if update.effective_message.text and update.effective_message.text.startswith("/"):
        key = "common.unknown_command"
    else:
        key = "reg.use_buttons" if step == AdminStep.KIND else "input.need_text"
    return await ask_station(update, context, step, note=context.t(key))


async def stale(update: Update, context: BotContext) -> int | None:
    """A button that does not belong to the open question."""
    await answer(update, context.t("common.stale_button"), alert=True)
    return None


# -- the invitation deep link ------------------------------------------------------------------


async def accept_invitation(update: Update, context: BotContext) -> None:
    """Make the user a coordinator or partner, if the invitation is good."""
    payload = context.args[0] if context.args else ""
    token = payload.removeprefix(INVITATION_PREFIX)
    outcome, invitation, station = await context.services.admin.accept_invitation(
        context.viewer.telegram_id, token
    )
    if outcome in (RedeemOutcome.GRANTED, RedeemOutcome.ALREADY_HAD):
        assert invitation is not None and station is not None
        await reload_viewer(update, context)
        await say(
            update,
            context,
            "invite.granted" if outcome == RedeemOutcome.GRANTED else "invite.already",
            role=context.t(f"role.{invitation.role}"),
            station=station.name(context.viewer.locale),
        )
        await refresh_user_menu(context.bot, context.services.translator, context.viewer)
        # Their home now has the buttons of the new role; no profile is needed to use them.
        await home(update, context)
        return
    await say(update, context, f"invite.{outcome}")


def setup_deep_links(application: Application) -> None:
    """The invitation link; registered before the plain /start so that it wins."""
    application.add_handler(
        CommandHandler(
            "start",
            accept_invitation,
            filters=filters.ChatType.PRIVATE & filters.Regex(f"^/start {INVITATION_PREFIX}"),
        )
    )


def setup(application: Application) -> None:
    """Register /admin and its buttons."""
    private = filters.ChatType.PRIVATE
    application.add_handler(CommandHandler("admin", show_menu, filters=private))
    with warnings.catch_warnings():
        # per_message=False is deliberate: the dialog waits for typed names across messages.
        warnings.filterwarnings("ignore", message=".*per_message.*")
        application.add_handler(
            ConversationHandler(
                entry_points=[
                    CallbackQueryHandler(start_add, pattern=f"^{PREFIX}:add$"),
                    CallbackQueryHandler(start_rename, pattern=rf"^{PREFIX}:rn:\d+$"),
                ],
                states={
                    step: [
                        MessageHandler(filters.TEXT & ~filters.COMMAND, typed_name),
                        CallbackQueryHandler(choose_kind, pattern=f"^{PREFIX}:kind:"),
                    ]
                    for step in AdminStep
                },
                fallbacks=[
                    CommandHandler("cancel", cancel),
                    CallbackQueryHandler(cancel, pattern=f"^{PREFIX}:cancel$"),
                    leave_on_command(cancel),
                    MessageHandler(filters.ALL, not_an_answer),
                    CallbackQueryHandler(stale),
                ],
                name="admin",
            )
        )
    application.add_handler(CallbackQueryHandler(show_menu, pattern=rf"^{PREFIX}:menu(:\d+)?$"))
    application.add_handler(
        CallbackQueryHandler(pick_station, pattern=rf"^{PREFIX}:(rename|invite|roles)(:\d+)?$")
    )
    application.add_handler(CallbackQueryHandler(pick_role, pattern=rf"^{PREFIX}:inv:\d+$"))
    application.add_handler(
        CallbackQueryHandler(create_invitation, pattern=rf"^{PREFIX}:role:\d+:\w+$")
    )
