"""A campaign's progress message, kept up to date in place, and what closing sends.

Each person who pledged (and the coordinator) keeps ONE message per campaign. A pledge marks
everyone's message out of date in the same transaction; a job edits the out-of-date ones
through the bulk lane, at most once every ``EDIT_EVERY`` per person, so a burst of pledges
makes one edit with the latest figures.
"""

from __future__ import annotations

import io
import logging

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden

from bot.i18n import fmt_datetime, fmt_number
from bot.ratelimit import BulkSend
from bot.render.campaign_sheet import campaign_workbook
from bot.services import Services
from bot.services.campaigns import EDIT_EVERY, price_of, progress_bar
from bot.services.kinds import TOPIC_CAMPAIGNS
from bot.services.people import Viewer
from bot.settings import SUPPORTED_LOCALES
from storage.campaigns import Campaign
from storage.models import Audience

log = logging.getLogger(__name__)

PREFIX = "cp"


async def card(
    services: Services, campaign: Campaign, viewer: Viewer
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The progress message as ``viewer`` sees it: figures, their pledge, their buttons."""
    t = services.translator
    locale = viewer.locale
    totals = await services.campaigns.totals(campaign.id)
    bar, percent = progress_bar(totals.quantity, campaign.goal)
    unit = t(locale, f"campaign.unit_{campaign.unit}")
    mine: dict[str, int] = {}
    if viewer.talent is not None:
        mine = await services.campaigns.rows.pledges_of(campaign.id, viewer.talent.id)
    lines = [
        t(
            locale,
            "campaign.card",
            product=campaign.product,
            price=f"{price_of(campaign.price_minor):,.2f}",
            unit=unit,
            pickup=campaign.pickup,
            contact=campaign.contact,
            closes=fmt_datetime(campaign.closes_at, locale, services.settings.tz, style="short"),
            done=fmt_number(totals.quantity, locale),
            goal=fmt_number(campaign.goal, locale),
            bar=bar,
            percent=percent,
            people=fmt_number(totals.people, locale),
        )
    ]
    for way in ("buy", "sell"):
        if way in mine:
            quantity = fmt_number(mine[way], locale)
            lines.append(t(locale, f"campaign.mine_{way}", quantity=quantity, unit=unit))
    if campaign.status != "open":
        lines.append(t(locale, "campaign.is_closed"))
        return "\n".join(lines), None
    rows = []
    if viewer.registered:
        rows.append(
            [
                InlineKeyboardButton(
                    t(locale, "campaign.buy_button"), callback_data=f"{PREFIX}:p:{campaign.id}:buy"
                ),
                InlineKeyboardButton(
                    t(locale, "campaign.sell_button"),
                    callback_data=f"{PREFIX}:p:{campaign.id}:sell",
                ),
            ]
        )
    if mine:
        rows.append(
            [
                InlineKeyboardButton(
                    t(locale, "campaign.withdraw_button"),
                    callback_data=f"{PREFIX}:w:{campaign.id}",
                )
            ]
        )
    if services.campaigns.may_manage(viewer, campaign):
        rows.append(
            [
                InlineKeyboardButton(
                    t(locale, "campaign.close_button"), callback_data=f"{PREFIX}:x:{campaign.id}"
                )
            ]
        )
    return "\n".join(lines), InlineKeyboardMarkup(rows) if rows else None


async def refresh(bot: Bot, services: Services) -> int:
    """Edit the progress messages that are out of date and rested long enough; how many."""
    now = services.clock.now()
    rows = services.campaigns.rows
    edited = 0
    for view in await rows.stale_views(edited_before=now - EDIT_EVERY):
        campaign = await rows.get(view.campaign_id)
        if campaign is None:
            continue
        # In the language it was first shown in: staff may have no stored language.
        viewer = await services.people.viewer(view.telegram_id, view.locale)
        text, markup = await card(services, campaign, viewer)
        # Marked shown first: a pledge made while the edit is on its way marks it again.
        await rows.shown(view, now=now)
        try:
            await bot.edit_message_text(
                text,
                chat_id=view.telegram_id,
                message_id=view.message_id,
                reply_markup=markup,
                rate_limit_args=BulkSend(),
            )
            edited += 1
        except BadRequest as exc:
            if "not modified" not in str(exc).lower():
                log.info("campaign message %s is gone: %s", view.message_id, exc)
                await rows.forget_view(view)
        except Forbidden:
            await rows.forget_view(view)
    return edited


async def send_list(
    bot: Bot, services: Services, campaign: Campaign, telegram_id: int, locale: str
) -> None:
    """Send the list of pledges to fulfil, as a spreadsheet, to a coordinator."""
    t = services.translator
    lines = await services.campaigns.rows.lines(campaign.id)
    totals = await services.campaigns.totals(campaign.id)
    data = campaign_workbook(
        campaign,
        lines,
        label=lambda key, **params: t(locale, key, **params),
        tz=services.settings.tz,
    )
    unit = t(locale, f"campaign.unit_{campaign.unit}")
    caption = t(
        locale,
        "campaign.list_caption",
        product=campaign.product,
        done=fmt_number(totals.quantity, locale),
        goal=fmt_number(campaign.goal, locale),
        unit=unit,
        people=fmt_number(totals.people, locale),
    )
    try:
        await bot.send_document(
            chat_id=telegram_id,
            document=io.BytesIO(data),
            filename=f"campaign-{campaign.id}.xlsx",
            caption=caption,
        )
    except Forbidden:
        log.info("%s blocked the bot; campaign %s list not sent", telegram_id, campaign.id)


async def close_due(bot: Bot, services: Services) -> int:
    """Close the campaigns whose time came; their openers get the list, pledgers a notice."""
    closed = await services.campaigns.close_due()
    for campaign in closed:
        await send_list(bot, services, campaign, campaign.created_by, campaign.created_locale)
    return len(closed)


async def tick(bot: Bot, services: Services, wake: object = None) -> None:
    """What the campaign job does each time: close what is due, then refresh messages."""
    if await close_due(bot, services) and callable(wake):
        wake()  # the outbox sends the closing notices now, not at its next look
    await refresh(bot, services)


async def announce(services: Services, campaign: Campaign, wake: object = None) -> int:
    """Tell the station's talents (every talent for a city-wide one) in their language, through
    the outbox like any announcement; those who turned campaigns off in /settings are skipped."""
    t = services.translator
    station = None
    if campaign.station_id is not None:
        station = await services.stations.get(campaign.station_id)
    total = 0
    for locale in SUPPORTED_LOCALES:
        unit = t(locale, f"campaign.unit_{campaign.unit}")
        text = t(
            locale,
            "campaign.announcement",
            product=campaign.product,
            goal=fmt_number(campaign.goal, locale),
            unit=unit,
            price=f"{price_of(campaign.price_minor):,.2f}",
            pickup=campaign.pickup,
            closes=fmt_datetime(campaign.closes_at, locale, services.settings.tz, style="short"),
            station=station.name(locale) if station else t(locale, "activity.city_wide"),
        )
        buttons = [
            [
                {
                    "text": t(locale, "campaign.view_button"),
                    "callback_data": f"{PREFIX}:v:{campaign.id}",
                }
            ]
        ]
        broadcast = await services.broadcast_rows.create(
            Audience(
                topic=TOPIC_CAMPAIGNS,
                station_ids=None if campaign.station_id is None else (campaign.station_id,),
                language=locale,
            ),
            text=text,
            entities=None,
            photo_file_id=None,
            created_by=campaign.created_by,
            author_locale=locale,
            now=services.clock.now(),
            buttons=buttons,
        )
        total += broadcast.total
    if callable(wake):
        wake()
    return total
