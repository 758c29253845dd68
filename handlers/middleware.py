"""Runs before every feature: who is writing, their language, and whether they can be reached."""

from __future__ import annotations

import logging

from telegram import ChatMember, Update
from telegram.ext import Application, ApplicationHandlerStop, ChatMemberHandler, TypeHandler

from bot.logs import bind_update
from bot.services.health import Heartbeat
from handlers.context import BotContext

log = logging.getLogger(__name__)

# Negative groups run before the features (group 0); the order among them matters:
# the update is traced first (so every log line of it carries its id), membership changes are
# recorded next, then the viewer is loaded for everything else, then the update is routed: a
# command closes the dialogs the user has open (``handlers.dialogs``), and a tapped home button
# becomes the command it names, in the viewer's language (``handlers.home``).
TRACE_GROUP = -4
MEMBERSHIP_GROUP = -3
VIEWER_GROUP = -2
ROUTING_GROUP = -1


async def trace_update(update: Update, context: BotContext) -> None:
    """Tag the log with this update and note it as the last one handled (in memory only)."""
    user = update.effective_user
    bind_update(update.update_id, user.id if user is not None else None)
    log.debug("update taken up")
    heartbeat: Heartbeat | None = context.bot_data.get("heartbeat")
    if heartbeat is not None:
        heartbeat.seen(update.update_id, context.services.clock.now())


async def load_viewer(update: Update, context: BotContext) -> None:
    """Load the user's profile, roles and language once for this update."""
    user = update.effective_user
    if user is None or user.is_bot:
        # Channel posts and the like have nobody to answer; no feature handles them.
        raise ApplicationHandlerStop
    chat = update.effective_chat
    if chat is not None and chat.type != chat.PRIVATE:
        # The bot works in private chats only; it stays quiet in groups it was added to.
        raise ApplicationHandlerStop
    people = context.services.people
    viewer = await people.viewer(user.id, user.language_code)
    if viewer.talent is not None and not viewer.talent.reachable and update.message is not None:
        # Writing to the bot again undoes an earlier block.
        await people.mark_reachable(user.id, True)
    await people.seen(viewer, user.first_name)
    context.viewer = viewer


async def reload_viewer(update: Update, context: BotContext) -> None:
    """Load the viewer again after this update changed their profile, language or roles."""
    user = update.effective_user
    assert user is not None
    context.viewer = await context.services.people.viewer(user.id, user.language_code)
    # A role granted just now makes them staff, whose names are kept from then on.
    await context.services.people.seen(context.viewer, user.first_name)


async def track_membership(update: Update, context: BotContext) -> None:
    """Mark a talent unreachable when they block the bot, and reachable when they return."""
    change = update.my_chat_member
    if change is None or change.chat.type != change.chat.PRIVATE:
        return
    status = change.new_chat_member.status
    reachable = status not in (ChatMember.BANNED, ChatMember.LEFT)
    if await context.services.people.mark_reachable(change.from_user.id, reachable):
        log.info("a user's chat became %s", "reachable" if reachable else "unreachable")
    raise ApplicationHandlerStop


def setup(application: Application) -> None:
    """Register the middleware handlers."""
    application.add_handler(TypeHandler(Update, trace_update), TRACE_GROUP)
    application.add_handler(
        ChatMemberHandler(track_membership, ChatMemberHandler.MY_CHAT_MEMBER), MEMBERSHIP_GROUP
    )
    application.add_handler(TypeHandler(Update, load_viewer), VIEWER_GROUP)
