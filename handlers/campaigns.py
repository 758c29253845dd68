"""Produce campaigns (爱心助农): open one, pledge to it, watch its progress, close it."""

from __future__ import annotations

import contextlib
import warnings
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum

from telegram import Update
from telegram.error import BadRequest
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot import campaign_view
from bot.campaign_view import PREFIX, card
from bot.i18n import fmt_datetime, fmt_number
from bot.services.campaigns import UNITS, Draft, parse_goal, parse_price, price_of
from bot.services.errors import InvalidInput, NotAllowed
from handlers.common import (
    already_done,
    answer,
    callback_arg,
    coordinators_only,
    edit_or_send,
    inline,
    int_arg,
    once,
    press_of,
    refuse,
    send,
)
from handlers.context import BotContext
from handlers.dialogs import leave_on_command
from storage.campaigns import Campaign
from storage.presses import AlreadyDone

NEW = "cpn"


class Step(IntEnum):
    PRODUCT = 1
    UNIT = 2
    GOAL = 3
    PRICE = 4
    PICKUP = 5
    CONTACT = 6
    CLOSES = 7
    CONFIRM = 8
    QUANTITY = 20  # a talent's pledge


@dataclass(slots=True)
class CampaignForm:
    """A campaign being opened, or the pledge a talent is typing."""

    step: int = 0
    product: str | None = None
    unit: str | None = None
    goal: int | None = None
    price_minor: int | None = None
    pickup: str | None = None
    contact: str | None = None
    closes_at: datetime | None = None
    campaign_id: int | None = None  # the pledge's campaign
    way: str | None = None


def form_of(context: BotContext) -> CampaignForm:
    if context.user_data.campaign is None:
        context.user_data.campaign = CampaignForm()
    return context.user_data.campaign


def explain(context: BotContext, exc: InvalidInput) -> str:
    """What was wrong with the input, numbers written the reader's way."""
    params = {
        name: fmt_number(value, context.viewer.locale) if isinstance(value, int) else value
        for name, value in exc.params.items()
    }
    return context.t(exc.key, **params)


TEXT_STEPS = {
    Step.PRODUCT: "product",
    Step.PICKUP: "pickup",
    Step.CONTACT: "contact",
}


# -- opening a campaign ---------------------------------------------------------------------------


def cancel_row(context: BotContext, step: Step) -> list[tuple[str, str]]:
    return [(context.t("reg.cancel"), f"{NEW}:{int(step)}:cancel")]


async def ask(update: Update, context: BotContext, step: Step, *, note: str | None = None) -> int:
    """Show one question of the dialog."""
    form = form_of(context)
    form.step = int(step)
    t = context.t
    rows = [cancel_row(context, step)]
    if step == Step.UNIT:
        rows.insert(
            0, [(t(f"campaign.unit_{unit}"), f"{NEW}:{int(step)}:unit:{unit}") for unit in UNITS]
        )
        text = t("campaign.ask_unit")
    elif step == Step.CONFIRM:
        text = summary(context)
        rows.insert(0, [(t("campaign.open_button"), once(f"{NEW}:{int(step)}:open"))])
    else:
        unit = t(f"campaign.unit_{form.unit}") if form.unit else ""
        text = t(f"campaign.ask_{step.name.lower()}", unit=unit)
    if note:
        text = f"{note}\n\n{text}"
    await send(update, context, text, markup=inline(rows))
    return step


def summary(context: BotContext) -> str:
    form = form_of(context)
    locale = context.viewer.locale
    assert form.closes_at is not None and form.goal is not None
    return context.t(
        "campaign.summary",
        product=form.product,
        unit=context.t(f"campaign.unit_{form.unit}"),
        goal=fmt_number(form.goal, locale),
        price=f"{price_of(form.price_minor or 0):,.2f}",
        pickup=form.pickup,
        contact=form.contact,
        closes=fmt_datetime(form.closes_at, locale, context.services.settings.tz, style="short"),
    )


def station_of(context: BotContext) -> int | None:
    """Where the campaign belongs: an admin's is city-wide; a coordinator's, their station's."""
    allowed = context.services.campaigns.stations_of(context.viewer)
    return None if allowed is None else allowed[0]


@coordinators_only
async def begin(update: Update, context: BotContext) -> int:
    """Start opening a campaign."""
    context.user_data.campaign = CampaignForm()
    return await ask(update, context, Step.PRODUCT)


@coordinators_only
async def typed(update: Update, context: BotContext) -> int:
    """An answer typed to the open question."""
    form = form_of(context)
    step = Step(form.step) if form.step else Step.PRODUCT
    service = context.services.campaigns
    text = update.effective_message.text
    try:
        if step in TEXT_STEPS:
            setattr(form, TEXT_STEPS[step], service.clean(text))
        elif step == Step.GOAL:
            form.goal = parse_goal(text)
        elif step == Step.PRICE:
            form.price_minor = parse_price(text)
        elif step == Step.CLOSES:
            form.closes_at = service.closing(text)
        else:
            return await ask(update, context, step, note=context.t("reg.use_buttons"))
    except InvalidInput as exc:
        return await ask(update, context, step, note=explain(context, exc))
    return await ask(update, context, Step(step + 1))


@coordinators_only
async def not_text(update: Update, context: BotContext) -> int:
    """A sticker, photo or file where words were asked for."""
    form = form_of(context)
    step = Step(form.step) if form.step else Step.PRODUCT
    return await ask(update, context, step, note=context.t("campaign.need_text"))


@coordinators_only
async def pressed(update: Update, context: BotContext) -> int | None:
    """A button of the dialog; those of older questions are stale."""
    form = form_of(context)
    action = callback_arg(update, 2)
    if action == "open":
        return await confirm(update, context)
    await answer(update)
    if int_arg(update, 1) != form.step:
        return await stale(update, context)
    if action == "cancel":
        return await cancel(update, context)
    unit = callback_arg(update, 3)
    if action == "unit" and form.step == Step.UNIT and unit in UNITS:
        form.unit = unit
        return await ask(update, context, Step.GOAL)
    return await stale(update, context)


async def stale(update: Update, context: BotContext) -> int:
    """A button of an older question: explain, and ask the open one again."""
    form = form_of(context)
    return await ask(update, context, Step(form.step or 1), note=context.t("common.stale_button"))


async def confirm(update: Update, context: BotContext) -> int | None:
    """Open the campaign once, announce it, and give the coordinator its progress message."""
    form = form_of(context)
    services = context.services
    press = press_of(update, context, "campaign-open")
    if press is not None and await services.presses.spent(press.key):
        await already_done(update, context)
        return None
    if press is None or form.step != Step.CONFIRM or int_arg(update, 1) != Step.CONFIRM:
        await answer(update)
        return await stale(update, context)
    draft = Draft(
        station_id=station_of(context),
        product=form.product or "",
        unit=form.unit or "",
        goal=form.goal or 0,
        price_minor=form.price_minor or 0,
        pickup=form.pickup or "",
        contact=form.contact or "",
        closes_at=form.closes_at or services.clock.now(),
    )
    try:
        campaign = await services.campaigns.open(context.viewer, draft, press=press)
    except AlreadyDone:
        await already_done(update, context)
        return None
    except NotAllowed:
        await refuse(update, context)
        return ConversationHandler.END
    await answer(update)
    context.user_data.campaign = None
    outbox = context.bot_data.get("outbox")
    reached = await campaign_view.announce(
        services, campaign, outbox.wake if outbox is not None else None
    )
    await edit_or_send(
        update,
        context,
        context.t("campaign.opened", count=fmt_number(reached, context.viewer.locale)),
    )
    await show_card(update, context, campaign)
    return ConversationHandler.END


async def cancel(update: Update, context: BotContext) -> int:
    """Leave the dialog; nothing is kept."""
    await answer(update)
    context.user_data.campaign = None
    await send(update, context, context.t("campaign.cancelled"))
    return ConversationHandler.END


async def other_command(update: Update, context: BotContext) -> int:
    """A command the bot does not have, mid-dialog: the question stands."""
    form = form_of(context)
    step = Step(form.step) if form.step else Step.PRODUCT
    if step == Step.QUANTITY:
        return await ask_quantity(update, context, note=context.t("common.unknown_command"))
    return await ask(update, context, step, note=context.t("common.unknown_command"))


# -- the progress message -------------------------------------------------------------------------


async def show_card(update: Update, context: BotContext, campaign: Campaign) -> None:
    """Send the viewer's progress message and make it the one that is kept up to date."""
    services = context.services
    text, markup = await card(services, campaign, context.viewer)
    message = await send(update, context, text, markup=markup)
    old = await services.campaigns.rows.keep_view(
        campaign.id,
        context.viewer.telegram_id,
        message.message_id,
        locale=context.viewer.locale,
        now=services.clock.now(),
    )
    if old is not None:
        # One message per person: the older copy goes, so no stale figures stay on screen.
        with contextlib.suppress(BadRequest):
            await context.bot.delete_message(chat_id=message.chat_id, message_id=old)


async def view(update: Update, context: BotContext) -> None:
    """Open a campaign's progress message (from its announcement or /campaigns)."""
    try:
        campaign = await context.services.campaigns.visible(
            context.viewer, int_arg(update, 2) or 0
        )
    except NotAllowed:
        await refuse(update, context)
        return
    except InvalidInput as exc:
        await answer(update, context.t(exc.key), alert=True)
        return
    await answer(update)
    await show_card(update, context, campaign)


async def listing(update: Update, context: BotContext) -> None:
    """/campaigns: the open campaigns the viewer can join or manage."""
    viewer = context.viewer
    stations = context.services.campaigns.stations_of(viewer)
    if stations is not None and viewer.talent is not None and viewer.talent.station_id:
        stations = [*stations, viewer.talent.station_id]
    found = await context.services.campaigns.rows.open_for(stations)
    if not found:
        await send(update, context, context.t("campaign.none_open"))
        return
    rows = [[(c.product, f"{PREFIX}:v:{c.id}")] for c in found]
    await send(update, context, context.t("campaign.list_title"), markup=inline(rows))


# -- pledging -------------------------------------------------------------------------------------


async def ask_quantity(update: Update, context: BotContext, *, note: str | None = None) -> int:
    form = form_of(context)
    campaign = await context.services.campaigns.rows.get(form.campaign_id or 0)
    unit = context.t(f"campaign.unit_{campaign.unit}") if campaign else ""
    text = context.t(f"campaign.ask_{form.way}", unit=unit)
    if note:
        text = f"{note}\n\n{text}"
    await send(update, context, text)
    return Step.QUANTITY


async def begin_pledge(update: Update, context: BotContext) -> int:
    """Buy or Sell pressed on a progress message: ask how much."""
    way = callback_arg(update, 3)
    services = context.services
    try:
        campaign = await services.campaigns.visible(context.viewer, int_arg(update, 2) or 0)
        if not context.viewer.registered or way not in ("buy", "sell"):
            raise NotAllowed
    except NotAllowed:
        await refuse(update, context)
        return ConversationHandler.END
    except InvalidInput as exc:
        await answer(update, context.t(exc.key), alert=True)
        return ConversationHandler.END
    await answer(update)
    if campaign.status != "open" or campaign.closes_at <= services.clock.now():
        await send(update, context, context.t("campaign.closed_already"))
        return ConversationHandler.END
    context.user_data.campaign = CampaignForm(
        step=int(Step.QUANTITY), campaign_id=campaign.id, way=way
    )
    return await ask_quantity(update, context)


async def quantity_typed(update: Update, context: BotContext) -> int:
    """The quantity: kept, or explained and asked again."""
    form = form_of(context)
    services = context.services
    try:
        quantity = await services.campaigns.pledge(
            context.viewer, form.campaign_id or 0, form.way or "", update.effective_message.text
        )
    except InvalidInput as exc:
        if exc.key in ("campaign.closed_already", "campaign.not_found"):
            context.user_data.campaign = None
            await send(update, context, context.t(exc.key))
            return ConversationHandler.END
        return await ask_quantity(update, context, note=explain(context, exc))
    except NotAllowed:
        context.user_data.campaign = None
        await refuse(update, context)
        return ConversationHandler.END
    context.user_data.campaign = None
    campaign = await services.campaigns.rows.get(form.campaign_id or 0)
    assert campaign is not None
    unit = context.t(f"campaign.unit_{campaign.unit}")
    await send(
        update,
        context,
        context.t(
            f"campaign.pledged_{form.way}",
            quantity=fmt_number(quantity, context.viewer.locale),
            unit=unit,
            product=campaign.product,
        ),
    )
    if await services.campaigns.rows.view_of(campaign.id, context.viewer.telegram_id) is None:
        await show_card(update, context, campaign)
    return ConversationHandler.END


async def quantity_not_text(update: Update, context: BotContext) -> int:
    """A sticker or photo where a number was asked for."""
    return await ask_quantity(update, context, note=context.t("campaign.qty_not_number"))


async def withdraw(update: Update, context: BotContext) -> None:
    """Take back the viewer's pledges to a campaign."""
    try:
        await context.services.campaigns.withdraw(context.viewer, int_arg(update, 2) or 0)
    except NotAllowed:
        await refuse(update, context)
        return
    except InvalidInput as exc:
        await answer(update, context.t(exc.key), alert=True)
        return
    await answer(update)
    await send(update, context, context.t("campaign.withdrawn"))


# -- closing --------------------------------------------------------------------------------------


async def ask_close(update: Update, context: BotContext) -> None:
    """Close now? A confirmation that acts once."""
    campaign_id = int_arg(update, 2) or 0
    campaign = await context.services.campaigns.rows.get(campaign_id)
    if campaign is None or not context.services.campaigns.may_manage(context.viewer, campaign):
        await refuse(update, context)
        return
    await answer(update)
    rows = [[(context.t("campaign.close_confirm_button"), once(f"{PREFIX}:xc:{campaign_id}"))]]
    text = context.t("campaign.close_ask", product=campaign.product)
    await send(update, context, text, markup=inline(rows))


async def close_now(update: Update, context: BotContext) -> None:
    """Close a campaign by hand: the list to the coordinator, a notice to pledgers."""
    services = context.services
    press = press_of(update, context, "campaign-close")
    try:
        campaign = await services.campaigns.close(
            context.viewer, int_arg(update, 2) or 0, press=press
        )
    except AlreadyDone:
        await already_done(update, context)
        return
    except NotAllowed:
        await refuse(update, context)
        return
    except InvalidInput as exc:
        await answer(update, context.t(exc.key), alert=True)
        return
    await answer(update)
    text = context.t("campaign.closed_by_hand", product=campaign.product)
    await edit_or_send(update, context, text)
    viewer = context.viewer
    await campaign_view.send_list(
        context.bot, services, campaign, viewer.telegram_id, viewer.locale
    )
    if campaign.created_by != viewer.telegram_id:
        await campaign_view.send_list(
            context.bot, services, campaign, campaign.created_by, campaign.created_locale
        )
    outbox = context.bot_data.get("outbox")
    if outbox is not None:
        outbox.wake()


def setup(application: Application) -> None:
    """Register /new_campaign, /campaigns, pledging and the progress message's buttons."""
    private = filters.ChatType.PRIVATE
    text = filters.TEXT & ~filters.COMMAND
    with warnings.catch_warnings():
        # per_message=False is deliberate: the dialog spans messages; button data names its step.
        warnings.filterwarnings("ignore", message=".*per_message.*")
        opening = ConversationHandler(
            entry_points=[CommandHandler("new_campaign", begin, filters=private)],
            states={
                step: [
                    CallbackQueryHandler(pressed, pattern=rf"^{NEW}:\d+:"),
                    MessageHandler(text, typed),
                    MessageHandler(~filters.COMMAND, not_text),
                ]
                for step in Step
                if step != Step.QUANTITY
            },
            fallbacks=[
                CommandHandler("cancel", cancel),
                leave_on_command(cancel),
                MessageHandler(filters.COMMAND, other_command),
            ],
            name="campaign_new",
        )
        pledging = ConversationHandler(
            entry_points=[
                CallbackQueryHandler(begin_pledge, pattern=rf"^{PREFIX}:p:\d+:(buy|sell)$")
            ],
            states={
                Step.QUANTITY: [
                    MessageHandler(text, quantity_typed),
                    MessageHandler(~filters.COMMAND, quantity_not_text),
                ]
            },
            fallbacks=[
                CommandHandler("cancel", cancel),
                leave_on_command(cancel),
                MessageHandler(filters.COMMAND, other_command),
            ],
            name="campaign_pledge",
        )
    application.add_handler(opening)
    application.add_handler(pledging)
    application.add_handler(CommandHandler("campaigns", listing, filters=private))
    application.add_handler(CallbackQueryHandler(view, pattern=rf"^{PREFIX}:v:\d+$"))
    application.add_handler(CallbackQueryHandler(withdraw, pattern=rf"^{PREFIX}:w:\d+$"))
    application.add_handler(CallbackQueryHandler(ask_close, pattern=rf"^{PREFIX}:x:\d+$"))
    application.add_handler(CallbackQueryHandler(close_now, pattern=rf"^{PREFIX}:xc:\d+:"))
