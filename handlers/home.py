"""The home screen and its keyboard of buttons, /help and /language.

The home screen is a persistent reply keyboard: large labelled buttons in the user's language,
one per thing they can do. A button is its command: its text, read in the user's current
language, becomes that command before any feature sees the message, so every command has one
handler, and a button tapped in the middle of a question leaves it as the command would.
"""

from __future__ import annotations

from telegram import Bot, KeyboardButton, ReplyKeyboardMarkup, ReplyKeyboardRemove, Update
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.i18n import Translator
from bot.services.people import Viewer
from bot.settings import SUPPORTED_LOCALES
from handlers.common import answer, edit_or_send, inline, say, send
from handlers.context import BotContext
from handlers.menus import help_text, refresh_user_menu
from handlers.middleware import ROUTING_GROUP, reload_viewer

LANGUAGE_PREFIX = "lang:"
# The button under a staff member's home screen that starts their registration as a talent.
REGISTER = "home:register"

# The buttons, by the command each one runs; labels are ``home.button_<command>``.
TALENT_ROWS = (("activities", "my"), ("points", "rewards"), ("vouchers", "profile"),
               ("settings", "help"))  # fmt: skip
COORDINATOR_ROW = ("new_activity", "manage", "broadcast")
ADMIN_ROW = ("admin",)
PARTNER_ROW = ("verify",)
ALL_ROWS = (*TALENT_ROWS, COORDINATOR_ROW, ADMIN_ROW, PARTNER_ROW)
BUTTON_COMMANDS = tuple(dict.fromkeys(command for row in ALL_ROWS for command in row))


def is_staff(viewer: Viewer) -> bool:
    """Admins, coordinators and partners: people with work to do here besides taking part."""
    return viewer.is_coordinator or viewer.is_partner


def home_rows(viewer: Viewer) -> list[tuple[str, ...]]:
    """The commands on this user's home keyboard, row by row; none before they register."""
    rows = list(TALENT_ROWS) if viewer.registered else []
    if viewer.is_coordinator:
        rows.append(COORDINATOR_ROW)
    if viewer.is_admin:
        rows.append(ADMIN_ROW)
    if viewer.is_partner:
        rows.append(PARTNER_ROW)
    if rows and not viewer.registered:
        rows.append(("help",))
    return rows


def home_keyboard(translator: Translator, viewer: Viewer) -> ReplyKeyboardMarkup | None:
    """The home screen's buttons in the user's language, or None when they have none."""
    rows = home_rows(viewer)
    if not rows:
        return None
    label = lambda command: translator(viewer.locale, f"home.button_{command}")  # noqa: E731
    return ReplyKeyboardMarkup(
        [[KeyboardButton(label(command)) for command in row] for row in rows],
        resize_keyboard=True,
        is_persistent=True,
    )


def restore_keyboard(context: BotContext) -> ReplyKeyboardMarkup | ReplyKeyboardRemove:
    """What takes the place of a question's own reply keyboard: the home buttons, or none."""
    return home_keyboard(context.services.translator, context.viewer) or ReplyKeyboardRemove()


def button_command(translator: Translator, locale: str, text: str) -> str | None:
    """The command a home button of this language runs, or None for any other text."""
    typed = text.strip()
    for command in BUTTON_COMMANDS:
        if translator(locale, f"home.button_{command}") == typed:
            return command
    return None


async def home(update: Update, context: BotContext) -> None:
    """Show the user who they are here and a button for each thing they can do."""
    viewer = context.viewer
    t = context.t
    if viewer.registered:
        assert viewer.talent is not None
        station = None
        if viewer.talent.station_id is not None:
            found = await context.services.stations.get(viewer.talent.station_id)
            station = found.name(viewer.locale) if found else None
        top = [t("home.text", name=viewer.talent.name, station=station or t("profile.no_station"))]
    else:
        top = [t("home.hello")]
    if viewer.is_admin:
        top.append(t("home.admin"))
    for role in viewer.roles:
        found = await context.services.stations.get(role.station_id)
        if found is not None:
            station = found.name(viewer.locale)
            top.append(t("home.role", role=t(f"role.{role.role}"), station=station))
    lines = [t("home.buttons")]
    for row in home_rows(viewer):
        for command in row:
            lines.append(
                t("home.line", label=t(f"home.button_{command}"), about=t(f"home.about_{command}"))
            )
    text = "\n\n".join(["\n".join(top), "\n".join(lines), t("home.language")])
    await send(update, context, text, markup=home_keyboard(context.services.translator, viewer))
    if not viewer.registered:
        # Staff need no profile to do their work; taking part as a talent is their choice.
        await say(
            update,
            context,
            "home.register_offer",
            markup=inline([[(t("home.register_button"), REGISTER)]]),
        )


async def on_button(update: Update, context: BotContext) -> None:
    """A home button: handle the message as the command it names, and nothing else."""
    text = update.effective_message.text or ""
    command = button_command(context.services.translator, context.viewer.locale, text)
    if command is None:
        return  # any other text goes on to the features
    await context.application.process_update(as_command(update, command, context.bot))
    raise ApplicationHandlerStop


def as_command(update: Update, command: str, bot: Bot) -> Update:
    """The same update as if the user had typed ``/command``."""
    data = update.to_dict()
    text = f"/{command}"
    data["message"].update(
        text=text, entities=[{"type": "bot_command", "offset": 0, "length": len(text)}]
    )
    return Update.de_json(data, bot)


async def show_help(update: Update, context: BotContext) -> None:
    """List the commands this user may use."""
    await send(update, context, help_text(context.services.translator, context.viewer))


def language_keyboard(prefix: str) -> list[list[tuple[str, str]]]:
    """One button per supported language, each named in its own language."""
    names = {"zh": "中文", "en": "English"}
    return [[(names[code], f"{prefix}{code}") for code in SUPPORTED_LOCALES]]


async def ask_language(update: Update, context: BotContext) -> None:
    """Offer the supported languages."""
    await say(update, context, "language.ask", markup=inline(language_keyboard(LANGUAGE_PREFIX)))


async def set_language(update: Update, context: BotContext) -> None:
    """Switch the user's language, their command menu and their home buttons with it."""
    code = (update.callback_query.data or "").removeprefix(LANGUAGE_PREFIX)
    if code not in SUPPORTED_LOCALES:
        await answer(update, context.t("common.stale_button"), alert=True)
        return
    await context.services.people.set_language(context.viewer.telegram_id, code)
    await reload_viewer(update, context)
    await answer(update)
    await edit_or_send(update, context, context.t("language.set"))
    await refresh_user_menu(context.bot, context.services.translator, context.viewer)
    if home_rows(context.viewer):
        # The buttons of the old language would no longer be understood: send the new ones.
        await home(update, context)


def setup(application: Application) -> None:
    """Register the home buttons, /help and /language."""
    private = filters.ChatType.PRIVATE
    application.add_handler(
        MessageHandler(
            filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND & private, on_button
        ),
        ROUTING_GROUP,
    )
    application.add_handler(CommandHandler("help", show_help, filters=private))
    application.add_handler(CommandHandler("language", ask_language, filters=private))
    application.add_handler(CallbackQueryHandler(set_language, pattern=f"^{LANGUAGE_PREFIX}"))
