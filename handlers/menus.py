"""The command menus, per language and per role, and the /help text built from the same list."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum

from telegram import Bot, BotCommand, BotCommandScopeAllPrivateChats, BotCommandScopeChat
from telegram.error import TelegramError

from bot.i18n import Translator
from bot.services.people import Viewer
from bot.settings import SUPPORTED_LOCALES

log = logging.getLogger(__name__)


class Audience(StrEnum):
    EVERYONE = "everyone"
    COORDINATOR = "coordinator"
    PARTNER = "partner"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class MenuCommand:
    name: str
    audience: Audience
    also: Audience | None = None  # a second role that may use it
    key: str | None = None  # the description's catalog key, when not ``cmd.<name>``

    @property
    def description_key(self) -> str:
        return self.key or f"cmd.{self.name}"


# One list for the menus and for /help; a feature adds its commands here when it lands.
COMMANDS: tuple[MenuCommand, ...] = (
    MenuCommand("start", Audience.EVERYONE),
    MenuCommand("activities", Audience.EVERYONE),
    MenuCommand("my", Audience.EVERYONE),
    MenuCommand("points", Audience.EVERYONE),
    MenuCommand("rewards", Audience.EVERYONE),
    MenuCommand("vouchers", Audience.EVERYONE),
    MenuCommand("profile", Audience.EVERYONE),
    MenuCommand("settings", Audience.EVERYONE),
    MenuCommand("language", Audience.EVERYONE),
    MenuCommand("mydata", Audience.EVERYONE),
    MenuCommand("deleteme", Audience.EVERYONE),
    MenuCommand("campaigns", Audience.EVERYONE, key="campaign.cmd_campaigns"),
    MenuCommand("help", Audience.EVERYONE),
    MenuCommand("cancel", Audience.EVERYONE),
    MenuCommand("new_activity", Audience.COORDINATOR),
    MenuCommand("new_request", Audience.COORDINATOR),
    MenuCommand("manage", Audience.COORDINATOR),
    MenuCommand("requests", Audience.COORDINATOR),
    MenuCommand("broadcast", Audience.COORDINATOR),
    MenuCommand("new_campaign", Audience.COORDINATOR, key="campaign.cmd_new_campaign"),
    MenuCommand("report", Audience.COORDINATOR),
    MenuCommand("teams", Audience.COORDINATOR),
    MenuCommand("verify", Audience.PARTNER, also=Audience.COORDINATOR),
    MenuCommand("statement", Audience.PARTNER, also=Audience.ADMIN),
    MenuCommand("admin", Audience.ADMIN),
    MenuCommand("status", Audience.ADMIN),
)


def commands_for(viewer: Viewer | None) -> list[MenuCommand]:
    """The commands this user may use, in menu order."""
    allowed = {Audience.EVERYONE}
    if viewer is not None:
        if viewer.is_coordinator:
            allowed.add(Audience.COORDINATOR)
        if viewer.is_partner:
            allowed.add(Audience.PARTNER)
        if viewer.is_admin:
            allowed.update(Audience)
    return [c for c in COMMANDS if c.audience in allowed or c.also in allowed]


def bot_commands(
    translator: Translator, locale: str, commands: list[MenuCommand]
) -> list[BotCommand]:
    """The menu entries with their descriptions in ``locale``."""
    return [BotCommand(c.name, translator(locale, c.description_key)) for c in commands]


def help_text(translator: Translator, viewer: Viewer) -> str:
    """The /help text: every command this user may use, with what it does."""
    lines = [translator(viewer.locale, "help.title")]
    for command in commands_for(viewer):
        description = translator(viewer.locale, command.description_key)
        lines.append(f"/{command.name} — {description}")
    return "\n".join(lines)


async def set_default_menus(bot: Bot, translator: Translator) -> None:
    """Set the everyone-menu for each language, and for clients in other languages."""
    everyone = commands_for(None)
    scope = BotCommandScopeAllPrivateChats()
    for locale in SUPPORTED_LOCALES:
        await bot.set_my_commands(
            bot_commands(translator, locale, everyone), scope=scope, language_code=locale
        )
    await bot.set_my_commands(
        bot_commands(translator, translator.default_locale, everyone), scope=scope
    )


async def refresh_user_menu(bot: Bot, translator: Translator, viewer: Viewer) -> None:
    """Give this user the menu of their roles in their chosen language.

    A chat-scoped menu wins over the language defaults, which is what makes a language chosen
    with /language (rather than the phone's) show in the menu.
    """
    commands = bot_commands(translator, viewer.locale, commands_for(viewer))
    try:
        await bot.set_my_commands(commands, scope=BotCommandScopeChat(viewer.telegram_id))
    except TelegramError as exc:
        # A menu is a convenience; failing to set it must not break what the user asked for.
        log.warning("could not set the menu of %s: %s", viewer.telegram_id, exc)
