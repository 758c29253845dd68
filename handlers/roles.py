"""/admin → Roles and invitations: who holds a role at a station; end a role; withdraw a link.

Ending a role takes effect at the holder's next tap: every coordinator's and partner's action
reads their roles afresh. Here the holder is told, and their command menu shrinks at once.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler

from bot.i18n import fmt_date
from handlers.common import admin_only, answer, edit_or_send, inline, int_arg, say, send
from handlers.context import BotContext
from handlers.menus import refresh_user_menu
from storage.models import RoleHolder, RoleName, Station

log = logging.getLogger(__name__)

PREFIX = "adm"


def holder_name(context: BotContext, holder: RoleHolder) -> str:
    """The holder's name, or how to tell them apart before they filled in a profile."""
    return holder.name or context.t("admin.no_profile", id=holder.telegram_id or "?")


async def people_view(context: BotContext, station: Station) -> tuple[str, list]:
    """The text and buttons of a station's roles and open invitations."""
    services = context.services
    locale = context.viewer.locale
    t = context.t
    holders, invitations = await services.admin.station_people(context.viewer, station.id)
    sections, rows = {}, []
    for role in RoleName:
        lines = [
            t(
                "admin.holder_line",
                name=holder_name(context, holder),
                since=fmt_date(
                    holder.role.granted_at.astimezone(services.settings.tz).date(), locale
                ),
            )
            for holder in holders
            if holder.role.role == role
        ]
        sections[role] = "\n".join(lines) or t("profile.blank")
    for holder in holders:
        label = t(
            "admin.revoke_button",
            name=holder_name(context, holder),
            role=t(f"role.{holder.role.role}"),
        )
        rows.append([(label, f"{PREFIX}:rv:{holder.role.id}")])
    invitation_lines = []
    for invitation in invitations:
        expires = fmt_date(invitation.expires_at.astimezone(services.settings.tz).date(), locale)
        role = t(f"role.{invitation.role}")
        invitation_lines.append(t("admin.invitation_line", role=role, expires=expires))
        rows.append(
            [(t("admin.withdraw_button", role=role, expires=expires),
              f"{PREFIX}:wd:{invitation.id}")]
        )  # fmt: skip
    rows.append([(t("reg.back"), f"{PREFIX}:roles")])
    text = t(
        "admin.people",
        station=station.name(locale),
        coordinators=sections[RoleName.COORDINATOR],
        partners=sections[RoleName.PARTNER],
        invitations="\n".join(invitation_lines) or t("profile.blank"),
    )
    return text, rows


@admin_only
async def show_people(update: Update, context: BotContext) -> None:
    """A station's coordinators, partners and open invitations, with a button for each."""
    await answer(update)
    station_id = int_arg(update, 2)
    station = await context.services.stations.get(station_id) if station_id else None
    if station is None:
        await say(update, context, "common.stale_button")
        return
    text, rows = await people_view(context, station)
    await edit_or_send(update, context, text, markup=inline(rows))


@admin_only
async def confirm_revoke(update: Update, context: BotContext) -> None:
    """Ask before ending a role: the person loses what it allows at once."""
    holder = await context.services.admin.role(context.viewer, int_arg(update, 2) or 0)
    if holder is None:
        await answer(update, context.t("admin.role_gone"), alert=True)
        return
    await answer(update)
    station = await context.services.stations.get(holder.role.station_id)
    assert station is not None
    t = context.t
    # The grant's moment goes along: a role id can name a newer grant by the time Yes is tapped.
    granted = int(holder.role.granted_at.timestamp())
    rows = [
        [(t("admin.revoke_yes"), f"{PREFIX}:rvy:{holder.role.id}:{granted}")],
        [(t("admin.revoke_no"), f"{PREFIX}:ppl:{station.id}")],
    ]
    text = t(
        "admin.revoke_confirm",
        name=holder_name(context, holder),
        role=t(f"role.{holder.role.role}"),
        station=station.name(context.viewer.locale),
    )
    await edit_or_send(update, context, text, markup=inline(rows))


@admin_only
async def revoke(update: Update, context: BotContext) -> None:
    """End the role, tell its holder and shrink their menu."""
    services = context.services
    granted = datetime.fromtimestamp(int_arg(update, 3) or 0, UTC)
    holder = await services.admin.revoke_role(
        context.viewer, int_arg(update, 2) or 0, granted_at=granted
    )
    if holder is None:
        await answer(update, context.t("admin.role_gone"), alert=True)
        return
    await answer(update)
    station = await services.stations.get(holder.role.station_id)
    assert station is not None
    await edit_or_send(
        update,
        context,
        context.t(
            "admin.revoked",
            name=holder_name(context, holder),
            role=context.t(f"role.{holder.role.role}"),
            station=station.name(context.viewer.locale),
        ),
    )
    if holder.telegram_id is not None:
        await tell_revoked(context, holder, station)
    text, rows = await people_view(context, station)
    await send(update, context, text, markup=inline(rows))


async def tell_revoked(context: BotContext, holder: RoleHolder, station: Station) -> None:
    """Tell the former holder, in their language, and give them the menu they have now."""
    assert holder.telegram_id is not None
    services = context.services
    viewer = await services.people.viewer(holder.telegram_id, None)
    text = services.translator(
        viewer.locale,
        "admin.you_were_revoked",
        role=services.translator(viewer.locale, f"role.{holder.role.role}"),
        station=station.name(viewer.locale),
    )
    try:
        await context.bot.send_message(holder.telegram_id, text)
    except TelegramError as exc:
        # The role is gone either way; they see it at their next tap.
        log.info("could not tell %s their role ended: %s", holder.telegram_id, exc)
    await refresh_user_menu(context.bot, services.translator, viewer)


@admin_only
async def withdraw(update: Update, context: BotContext) -> None:
    """Withdraw an invitation nobody used; its link then says so."""
    services = context.services
    invitation = await services.admin.withdraw_invitation(context.viewer, int_arg(update, 2) or 0)
    if invitation is None:
        await answer(update, context.t("admin.invitation_gone"), alert=True)
        return
    await answer(update, context.t("admin.withdrawn"), alert=True)
    station = await services.stations.get(invitation.station_id)
    assert station is not None
    text, rows = await people_view(context, station)
    await edit_or_send(update, context, text, markup=inline(rows))


def setup(application: Application) -> None:
    """Register the buttons of a station's roles and invitations."""
    for pattern, callback in (
        (rf"^{PREFIX}:ppl:\d+$", show_people),
        (rf"^{PREFIX}:rv:\d+$", confirm_revoke),
        (rf"^{PREFIX}:rvy:\d+:\d+$", revoke),
        (rf"^{PREFIX}:wd:\d+$", withdraw),
    ):
        application.add_handler(CallbackQueryHandler(callback, pattern=pattern))
