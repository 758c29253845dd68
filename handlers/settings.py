"""/settings: which announcements, messages and reminders a talent wants."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot.services.errors import InvalidInput
from bot.services.kinds import ANNOUNCE_PREFIX, TOPIC_CAMPAIGNS
from handlers.common import answer, edit_or_send, inline, say, send
from handlers.context import BotContext

PREFIX = "set:"


def topic_label(context: BotContext, topic: str) -> str:
    """How a topic reads in the menu."""
    if topic.startswith(ANNOUNCE_PREFIX):
        kind = topic.removeprefix(ANNOUNCE_PREFIX)
        return context.t("settings.announce", kind=context.t(f"kind.{kind}"))
    if topic == TOPIC_CAMPAIGNS:
        return context.t("campaign.settings_topic")
    return context.t(f"settings.topic_{topic}")


async def view(context: BotContext) -> tuple[str, object]:
    """The settings text and one switch per topic."""
    talent = context.viewer.talent
    assert talent is not None
    enabled = await context.services.preferences.enabled(talent.id)
    rows = [
        [(("✅ " if on else "🔕 ") + topic_label(context, topic), f"{PREFIX}{topic}")]
        for topic, on in enabled.items()
    ]
    return context.t("settings.title"), inline(rows)


async def show(update: Update, context: BotContext) -> None:
    """Show the switches."""
    if not context.viewer.registered:
        await say(update, context, "profile.not_registered")
        return
    text, markup = await view(context)
    await send(update, context, text, markup=markup)


async def toggle(update: Update, context: BotContext) -> None:
    """Flip one switch and show the new state in place."""
    if not context.viewer.registered:
        await answer(update, context.t("profile.not_registered"), alert=True)
        return
    topic = (update.callback_query.data or "").removeprefix(PREFIX)
    try:
        now_on = await context.services.preferences.toggle(context.viewer.talent.id, topic)
    except InvalidInput:
        await answer(update, context.t("common.stale_button"), alert=True)
        return
    await answer(update, context.t("settings.on" if now_on else "settings.off"))
    text, markup = await view(context)
    await edit_or_send(update, context, text, markup=markup)


def setup(application: Application) -> None:
    """Register /settings and its switches."""
    application.add_handler(CommandHandler("settings", show, filters=filters.ChatType.PRIVATE))
    application.add_handler(CallbackQueryHandler(toggle, pattern=f"^{PREFIX}"))
