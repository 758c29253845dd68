"""/rewards and /vouchers: talents spend their points and show their vouchers."""

from __future__ import annotations

import io

import segno
from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    filters,
)
from telegram.helpers import create_deep_linked_url

from bot.i18n import Html, fmt_date, fmt_number
from bot.services.rewards import VOUCHER_PREFIX, show_code
from handlers.common import (
    ONCE,
    already_done,
    answer,
    callback_arg,
    edit_or_send,
    inline,
    int_arg,
    once,
    press_of,
    refuse,
    say,
    show,
)
from handlers.context import BotContext
from handlers.paging import page_arg, pager, paginate
from storage.models import Reward, Voucher
from storage.presses import AlreadyDone
from storage.rewards import RedeemOutcome

# -- talents ------------------------------------------------------------------------------------


async def show_rewards(update: Update, context: BotContext) -> None:
    """/rewards: the catalog with cost and stock, ten a page; what the talent can afford is
    marked."""
    talent = context.viewer.talent
    await answer(update)
    if talent is None or not context.viewer.registered:
        await say(update, context, "profile.not_registered")
        return
    services = context.services
    balance = await services.checkins.points.balance(talent.id)
    rewards = await services.rewards.rewards.catalog(active_only=True)
    locale = context.viewer.locale
    t = context.t
    if not rewards:
        await say(update, context, "rewards.empty")
        return
    page = callback_arg(update, 2)
    shown = paginate(rewards, page_arg(page))
    rows = []
    for reward in shown.items:
        mark = "✅" if balance >= reward.cost and reward.stock else "🔒"
        label = f"{mark} {reward.name(locale)} · {cost_and_stock(context, reward)}"
        rows.append([(label, f"rw:view:{reward.id}:{shown.number}")])
    rows.append(pager(context, shown.number, shown.count, lambda n: f"rw:list:{n}"))
    text = t("rewards.title", balance=fmt_number(balance, locale))
    await show(update, context, text, markup=inline(rows), edit=page is not None)


def cost_and_stock(context: BotContext, reward: Reward) -> str:
    """What a catalog line's numbers are: "100 积分 · 剩 5 份" / "100 points · 5 left"."""
    locale = context.viewer.locale
    return context.t(
        "rewards.cost_and_stock",
        cost=fmt_number(reward.cost, locale),
        stock=fmt_number(reward.stock, locale),
    )


def reward_text(context: BotContext, reward: Reward) -> str:
    """A reward as talents read it."""
    locale = context.viewer.locale
    return context.t(
        "rewards.card",
        name=reward.name(locale),
        description=reward.description(locale),
        cost=fmt_number(reward.cost, locale),
        stock=fmt_number(reward.stock, locale),
        days=fmt_number(reward.valid_days, locale),
        limit=Html(
            context.t("rewards.per_person", limit=fmt_number(reward.per_talent_limit, locale))
            if reward.per_talent_limit
            else context.t("rewards.no_limit")
        ),
    )


async def view_reward(update: Update, context: BotContext) -> None:
    """A reward's page with Redeem, and the way back to the catalog's page it came from."""
    await answer(update)
    reward = await context.services.rewards.rewards.get(int_arg(update, 2) or 0)
    if reward is None or not reward.active:
        await say(update, context, "rewards.gone")
        return
    page = int_arg(update, 3) or 0
    rows = [
        [(context.t("rewards.redeem"), f"rw:redeem:{reward.id}:{page}")],
        [(context.t("rewards.back_to_catalog"), f"rw:list:{page}")],
    ]
    await edit_or_send(update, context, reward_text(context, reward), markup=inline(rows))


async def confirm_redeem(update: Update, context: BotContext) -> None:
    """Ask before spending the points."""
    await answer(update)
    reward = await context.services.rewards.rewards.get(int_arg(update, 2) or 0)
    if reward is None or not reward.active:
        await say(update, context, "rewards.gone")
        return
    locale = context.viewer.locale
    rows = [
        [(context.t("rewards.confirm"), once(f"rw:yes:{reward.id}"))],
        [(context.t("reg.back"), f"rw:view:{reward.id}:{int_arg(update, 3) or 0}")],
    ]
    text = context.t(
        "rewards.confirm_text", name=reward.name(locale), cost=fmt_number(reward.cost, locale)
    )
    await edit_or_send(update, context, text, markup=inline(rows))


async def redeem(update: Update, context: BotContext) -> None:
    """Spend the points: a voucher, or which condition failed."""
    talent = context.viewer.talent
    if talent is None or not context.viewer.registered:
        await answer(update, context.t("profile.not_registered"), alert=True)
        return
    services = context.services
    try:
        outcome, voucher, balance = await services.rewards.redeem(
            talent.id, int_arg(update, 2) or 0, press=press_of(update, context, "redeem")
        )
    except AlreadyDone:
        await already_done(update, context)
        return
    await answer(update)
    locale = context.viewer.locale
    if outcome != RedeemOutcome.REDEEMED or voucher is None:
        await edit_or_send(
            update,
            context,
            context.t(f"rewards.refused_{outcome}", balance=fmt_number(balance, locale)),
        )
        return
    await edit_or_send(
        update, context, context.t("rewards.redeemed", balance=fmt_number(balance, locale))
    )
    await send_voucher(update, context, voucher)


async def send_voucher(update: Update, context: BotContext, voucher: Voucher) -> None:
    """The voucher's code and its QR, to show at the partner's desk."""
    services = context.services
    reward = await services.rewards.rewards.get(voucher.reward_id)
    assert reward is not None
    locale = context.viewer.locale
    link = create_deep_linked_url(context.bot.username, VOUCHER_PREFIX + voucher.code)
    image = io.BytesIO()
    segno.make(link, error="m").save(image, kind="png", scale=10, border=4)
    caption = context.t(
        "rewards.voucher",
        name=reward.name(locale),
        code=show_code(voucher.code),
        until=fmt_date(voucher.valid_until.astimezone(services.settings.tz).date(), locale),
        status=context.t(f"rewards.status_{voucher.status}"),
    )
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_photo(chat.id, image.getvalue(), caption=caption)


async def show_vouchers(update: Update, context: BotContext) -> None:
    """/vouchers: the talent's vouchers and their status, newest first, ten a page."""
    talent = context.viewer.talent
    await answer(update)
    if talent is None or not context.viewer.registered:
        await say(update, context, "profile.not_registered")
        return
    vouchers = await context.services.rewards.rewards.vouchers_of(talent.id)
    if not vouchers:
        await say(update, context, "rewards.no_vouchers")
        return
    locale = context.viewer.locale
    page = callback_arg(update, 2)
    shown = paginate(vouchers, page_arg(page))
    rows = []
    for voucher in shown.items:
        reward = await context.services.rewards.rewards.get(voucher.reward_id)
        name = reward.name(locale) if reward else "?"
        status = context.t(f"rewards.status_{voucher.status}")
        rows.append([(f"{status} · {name} · {show_code(voucher.code)}", f"vc:show:{voucher.id}")])
    rows.append(pager(context, shown.number, shown.count, lambda n: f"vc:list:{n}"))
    text = context.t("rewards.vouchers_title")
    await show(update, context, text, markup=inline(rows), edit=page is not None)


async def show_voucher_button(update: Update, context: BotContext) -> None:
    """One of the talent's vouchers again, with its QR."""
    voucher = await context.services.rewards.rewards.voucher_by_id(int_arg(update, 2) or 0)
    talent = context.viewer.talent
    if voucher is None or talent is None or voucher.talent_id != talent.id:
        await refuse(update, context)
        return
    await answer(update)
    await send_voucher(update, context, voucher)


def setup(application: Application) -> None:
    """Register /rewards, /vouchers and their buttons."""
    private = filters.ChatType.PRIVATE
    application.add_handler(CommandHandler("rewards", show_rewards, filters=private))
    application.add_handler(CommandHandler("vouchers", show_vouchers, filters=private))
    for pattern, callback in (
        (r"^rw:view:\d+(:\d+)?$", view_reward),
        (r"^rw:redeem:\d+(:\d+)?$", confirm_redeem),
        (rf"^rw:yes:\d+:{ONCE}$", redeem),
        (r"^vc:show:\d+$", show_voucher_button),
        (r"^rw:list:\d+$", show_rewards),
        (r"^vc:list:\d+$", show_vouchers),
    ):
        application.add_handler(CallbackQueryHandler(callback, pattern=pattern))
