"""Check-in by QR code (``/start ci-<code>``), the printable code, and /points."""

from __future__ import annotations

import io
from datetime import datetime, time

import segno
from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters
from telegram.helpers import create_deep_linked_url

from bot.i18n import fmt_date, fmt_datetime, fmt_number, fmt_signed, fmt_span
from bot.render.checkin_page import CheckinPageText, render_checkin_page
from bot.services.errors import NotAllowed
from bot.services.points import CHECKIN_PREFIX, CheckinResult
from bot.services.rewards import show_code
from handlers.certificates import certificate_rows
from handlers.common import answer, inline, int_arg, refuse, say, send
from handlers.context import BotContext
from storage.models import LedgerEntry
from storage.points import CheckinOutcome

MANAGE = "mg"
POINTS_PREFIX = "pt:more:"
PAGE = 5


async def scan(update: Update, context: BotContext, token: str) -> None:
    """Check the (registered) viewer in with a scanned code, and say what it earned."""
    talent = context.viewer.talent
    assert talent is not None and context.viewer.registered
    await tell_checkin(update, context, await context.services.checkins.scan(talent.id, token))


async def tell_checkin(update: Update, context: BotContext, result: CheckinResult) -> None:
    """Say how a scan went: checked in and credited, or why not."""
    services = context.services
    if result.outcome in (CheckinOutcome.UNKNOWN, CheckinOutcome.NOT_OPEN):
        await say(update, context, "checkin.unknown")
        return
    locale = context.viewer.locale
    params = {
        "title": result.title,
        "points": fmt_number(result.points, locale),
        "balance": fmt_number(result.balance, locale),
    }
    if result.outcome == CheckinOutcome.TOO_EARLY and result.starts_at is not None:
        opens = result.starts_at - services.checkins.early
        params["opens"] = fmt_datetime(opens, locale, services.settings.tz)
    key = f"checkin.{result.outcome}"
    if result.outcome == CheckinOutcome.CHECKED_IN and not result.points:
        key = "checkin.checked_in_no_points"
    await say(update, context, key, **params)


async def show_points(update: Update, context: BotContext) -> None:
    """/points: balance, service hours, and the newest ledger entries."""
    talent = context.viewer.talent
    if talent is None or not context.viewer.registered:
        await say(update, context, "profile.not_registered")
        return
    services = context.services
    season = None
    if talent.stay_from is not None:
        # This season began when the talent arrived.
        season = datetime.combine(talent.stay_from, time(0), tzinfo=services.settings.tz)
    summary = await services.points.summary(talent.id, season_from=season)
    locale = context.viewer.locale
    text = context.t(
        "points.summary",
        balance=fmt_number(summary.balance, locale),
        season=fmt_number(round(summary.hours_season, 2), locale),
        total=fmt_number(round(summary.hours_total, 2), locale),
    )
    entries = await services.points.history(talent.id, before_id=None, limit=PAGE)
    # The service certificate of each season served in, under the first page only.
    extra = await certificate_rows(context, talent.id)
    await send_entries(update, context, entries, header=text, extra=extra)


async def more_points(update: Update, context: BotContext) -> None:
    """The next, older page of the ledger."""
    await answer(update)
    talent = context.viewer.talent
    before = int_arg(update, 2)
    if talent is None or before is None:
        await say(update, context, "common.stale_button")
        return
    entries = await context.services.points.history(talent.id, before_id=before, limit=PAGE)
    await send_entries(update, context, entries, header=context.t("points.older"))


async def send_entries(
    update: Update,
    context: BotContext,
    entries: list[LedgerEntry],
    *,
    header: str,
    extra: list[list[tuple[str, str]]] | None = None,
) -> None:
    """Ledger lines, with a More button while older ones exist."""
    locale = context.viewer.locale
    tz = context.services.settings.tz
    lines = [header]
    if not entries:
        lines.append(context.t("points.no_entries"))
    for entry in entries:
        params = {
            "date": fmt_date(entry.created_at.astimezone(tz).date(), locale),
            "delta": fmt_signed(entry.delta, locale),
            "kind": context.t(f"points.kind_{entry.kind}"),
        }
        what = entry_subject(context, entry)
        lines.append(
            context.t("points.line", what=what, **params)
            if what
            else context.t("points.line_bare", **params)
        )
    rows = list(extra or [])
    if len(entries) == PAGE:
        rows.insert(0, [(context.t("points.more"), f"{POINTS_PREFIX}{entries[-1].id}")])
    await send(update, context, "\n".join(lines), markup=inline(rows) if rows else None)


def entry_subject(context: BotContext, entry: LedgerEntry) -> str | None:
    """What a ledger entry was for: the activity, the reward (and for a refund, the voucher and
    why), or the adjustment's reason; None when it names nothing (a deleted activity)."""
    reward = entry.reward_name(context.viewer.locale)
    if entry.kind == "earn":
        return entry.activity_title or entry.reason
    if entry.kind == "refund" and reward and entry.voucher_code:
        why = {"expired": "points.refund_expired", "cancelled": "points.refund_cancelled"}
        return context.t(
            "points.refund_what",
            reward=reward,
            code=show_code(entry.voucher_code),
            why=context.t(why.get(entry.reason or "", "points.refund_cancelled")),
        )
    return reward or entry.reason


async def qr_code(update: Update, context: BotContext) -> None:
    """The printable check-in code of an activity (``renew``: a new one, the old revoked)."""
    renew = (update.callback_query.data or "").startswith(f"{MANAGE}:newqr:")
    activity_id = int_arg(update, 2) or 0
    services = context.services
    try:
        token = await services.checkins.code(context.viewer, activity_id, renew=renew)
    except NotAllowed:
        await refuse(update, context)
        return
    await answer(update, context.t("checkin.renewed") if renew else None)
    activity = await services.activities.activities.get(activity_id)
    assert activity is not None
    link = create_deep_linked_url(context.bot.username, CHECKIN_PREFIX + token)
    when = fmt_span(
        activity.starts_at, activity.ends_at, context.viewer.locale, services.settings.tz
    )
    code = segno.make(link, error="m")
    image = io.BytesIO()
    code.save(image, kind="png", scale=12, border=4)
    caption = context.t("checkin.qr_caption", title=activity.title, when=when, link=link)
    markup = inline(
        [
            [(context.t("checkin.new_code"), f"{MANAGE}:newqr:{activity.id}")],
            [(context.t("reg.back"), f"{MANAGE}:open:{activity.id}")],
        ]
    )
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_photo(
        chat.id, image.getvalue(), caption=caption, reply_markup=markup, filename="check-in.png"
    )
    # The page to print for the door: a PDF with the font inside, so the Chinese title prints
    # the same on any computer, and a QR code drawn as vector squares, sharp at any size.
    page = CheckinPageText(
        title=activity.title,
        when=when,
        place=activity.place,
        scan=context.t("checkin.page_scan"),
        link=link,
    )
    await context.bot.send_document(
        chat.id,
        render_checkin_page(page),
        filename=f"check-in-{activity.id}.pdf",
        caption=context.t("checkin.printable"),
    )


def setup(application: Application) -> None:
    """Register /points and the QR buttons."""
    application.add_handler(
        CommandHandler("points", show_points, filters=filters.ChatType.PRIVATE)
    )
    application.add_handler(CallbackQueryHandler(more_points, pattern=rf"^{POINTS_PREFIX}\d+$"))
    application.add_handler(CallbackQueryHandler(qr_code, pattern=rf"^{MANAGE}:(qr|newqr):\d+$"))
