"""/rewards, /vouchers, /verify, voucher links, the catalog in /admin, partners' statements."""

from __future__ import annotations

import csv
import io
import warnings
from typing import Any

import segno
from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.helpers import create_deep_linked_url

from bot.i18n import fmt_date, fmt_datetime, fmt_number
from bot.services.errors import InvalidInput, NotAllowed
from bot.services.rewards import VOUCHER_PREFIX, normalise_code, parse_field, show_code
from handlers.common import (
    admin_only,
    answer,
    callback_arg,
    edit_or_send,
    inline,
    int_arg,
    refuse,
    say,
    send,
)
from handlers.context import BotContext
from storage.models import Reward, Voucher
from storage.rewards import RedeemOutcome

FIELDS = (
    "name_zh", "name_en", "description_zh", "description_en", "station_id", "cost", "stock",
    "per_talent_limit", "valid_days",
)  # fmt: skip
ASKING = 1  # the dialog has one state: the field in the form says which question is open


# -- talents ------------------------------------------------------------------------------------


async def show_rewards(update: Update, context: BotContext) -> None:
    """/rewards: the catalog with cost and stock; what the talent can afford is marked."""
    talent = context.viewer.talent
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
    rows = []
    for reward in rewards:
        mark = "✅" if balance >= reward.cost and reward.stock else "🔒"
        rows.append(
            [(f"{mark} {reward.name(locale)} · {fmt_number(reward.cost, locale)}",
              f"rw:view:{reward.id}")]
        )  # fmt: skip
    await send(
        update,
        context,
        t("rewards.title", balance=fmt_number(balance, locale)),
        markup=inline(rows),
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
        days=reward.valid_days,
        limit=reward.per_talent_limit or context.t("rewards.no_limit"),
    )


async def view_reward(update: Update, context: BotContext) -> None:
    """A reward's page with Redeem."""
    await answer(update)
    reward = await context.services.rewards.rewards.get(int_arg(update, 2) or 0)
    if reward is None or not reward.active:
        await say(update, context, "rewards.gone")
        return
    rows = [[(context.t("rewards.redeem"), f"rw:redeem:{reward.id}")]]
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
        [(context.t("rewards.confirm"), f"rw:yes:{reward.id}")],
        [(context.t("reg.back"), f"rw:view:{reward.id}")],
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
    await answer(update)
    services = context.services
    outcome, voucher, balance = await services.rewards.redeem(talent.id, int_arg(update, 2) or 0)
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
    """/vouchers: the talent's vouchers and their status."""
    talent = context.viewer.talent
    if talent is None or not context.viewer.registered:
        await say(update, context, "profile.not_registered")
        return
    vouchers = await context.services.rewards.rewards.vouchers_of(talent.id)
    if not vouchers:
        await say(update, context, "rewards.no_vouchers")
        return
    locale = context.viewer.locale
    rows = []
    for voucher in vouchers:
        reward = await context.services.rewards.rewards.get(voucher.reward_id)
        name = reward.name(locale) if reward else "?"
        status = context.t(f"rewards.status_{voucher.status}")
        rows.append([(f"{status} · {name} · {show_code(voucher.code)}", f"vc:show:{voucher.id}")])
    await send(update, context, context.t("rewards.vouchers_title"), markup=inline(rows))


async def show_voucher_button(update: Update, context: BotContext) -> None:
    """One of the talent's vouchers again, with its QR."""
    voucher = await context.services.rewards.rewards.voucher_by_id(int_arg(update, 2) or 0)
    talent = context.viewer.talent
    if voucher is None or talent is None or voucher.talent_id != talent.id:
        await refuse(update, context)
        return
    await answer(update)
    await send_voucher(update, context, voucher)


# -- partners and coordinators at the desk ------------------------------------------------------


async def verify_command(update: Update, context: BotContext) -> None:
    """/verify CODE."""
    if not (context.viewer.is_partner or context.viewer.is_coordinator):
        await refuse(update, context)
        return
    await show_for_desk(update, context, " ".join(context.args or []))


async def voucher_link(update: Update, context: BotContext) -> None:
    """``/start v-<code>``: the desk sees it to verify; its owner just sees it."""
    payload = (context.args or [""])[0].removeprefix(VOUCHER_PREFIX)
    await show_for_desk(update, context, payload)


async def show_for_desk(update: Update, context: BotContext, typed: str) -> None:
    """The voucher with its reward and owner; Mark used for those who may."""
    code = normalise_code(typed)
    if code is None:
        await say(update, context, "rewards.bad_code")
        return
    try:
        voucher, reward, may = await context.services.rewards.look_up(context.viewer, code)
    except InvalidInput as exc:
        await say(update, context, exc.key)
        return
    except NotAllowed:
        await refuse(update, context)
        return
    if not may:
        await send_voucher(update, context, voucher)
        return
    text = await desk_text(context, voucher, reward)
    rows = []
    if voucher.status == "valid":
        rows.append([(context.t("rewards.mark_used"), f"vc:use:{voucher.code}")])
        if context.viewer.is_admin:
            rows.append([(context.t("rewards.cancel_voucher"), f"vc:cancel:{voucher.id}")])
    await send(update, context, text, markup=inline(rows) if rows else None)


async def desk_text(context: BotContext, voucher: Voucher, reward: Reward) -> str:
    """What the desk needs to see."""
    locale = context.viewer.locale
    tz = context.services.settings.tz
    status = context.t(f"rewards.status_{voucher.status}")
    if voucher.status == "used" and voucher.used_at is not None:
        # Who marked it: their name when they have a profile, else their Telegram id.
        who = await context.services.talents.by_telegram_id(voucher.used_by or 0)
        status = context.t(
            "rewards.used_when",
            when=fmt_datetime(voucher.used_at, locale, tz, style="short"),
            by=(who.name if who and who.name else None) or voucher.used_by or "?",
        )
    return context.t(
        "rewards.desk",
        name=reward.name(locale),
        talent=voucher.talent_name or "?",
        code=show_code(voucher.code),
        until=fmt_date(voucher.valid_until.astimezone(tz).date(), locale),
        status=status,
    )


async def mark_used(update: Update, context: BotContext) -> None:
    """Mark used, once; a second time says when and by whom."""
    code = normalise_code(callback_arg(update, 2))
    if code is None:
        await answer(update, context.t("common.stale_button"), alert=True)
        return
    try:
        outcome = await context.services.rewards.use(context.viewer, code)
    except (NotAllowed, InvalidInput):
        await refuse(update, context)
        return
    await answer(update, context.t(f"rewards.use_{outcome}"), alert=outcome != "used")
    voucher, reward, _ = await context.services.rewards.look_up(context.viewer, code)
    await edit_or_send(update, context, await desk_text(context, voucher, reward))


@admin_only
async def cancel_voucher(update: Update, context: BotContext) -> None:
    """An admin cancels a voucher: points and stock go back."""
    voucher_id = int_arg(update, 2) or 0
    done = await context.services.rewards.cancel(context.viewer, voucher_id)
    await answer(
        update, context.t("rewards.cancelled" if done else "rewards.not_valid"), alert=True
    )
    voucher = await context.services.rewards.rewards.voucher_by_id(voucher_id)
    if voucher is not None:
        reward = await context.services.rewards.rewards.get(voucher.reward_id)
        assert reward is not None
        await edit_or_send(update, context, await desk_text(context, voucher, reward))


# -- statements ---------------------------------------------------------------------------------


async def statement_command(update: Update, context: BotContext) -> None:
    """/statement: pick a partner (admins) and a month."""
    stations = context.services.rewards.stations_for_statement(context.viewer)
    if stations == []:
        await refuse(update, context)
        return
    if stations is None:
        stations = [s.id for s in await context.services.stations.list()]
    now = context.services.clock.now().astimezone(context.services.settings.tz)
    months = [(now.year, now.month), (now.year - (now.month == 1), (now.month - 2) % 12 + 1)]
    rows = []
    for station_id in stations:
        station = await context.services.stations.get(station_id)
        if station is None:
            continue
        for year, month in months:
            rows.append(
                [(f"{station.name(context.viewer.locale)} · {year}-{month:02d}",
                  f"st:{station_id}:{year}:{month}")]
            )  # fmt: skip
    await send(update, context, context.t("rewards.statement_pick"), markup=inline(rows))


async def statement_button(update: Update, context: BotContext) -> None:
    """The statement as a message and a CSV file."""
    station_id, year, month = (int_arg(update, i) or 0 for i in (1, 2, 3))
    services = context.services
    try:
        rows = await services.rewards.statement(
            context.viewer, station_id, year, max(1, min(12, month)), services.settings.tz
        )
    except NotAllowed:
        await refuse(update, context)
        return
    await answer(update)
    station = await services.stations.get(station_id)
    name = station.name(context.viewer.locale) if station else "?"
    total = sum(row["cost"] for row in rows)
    await say(
        update,
        context,
        "rewards.statement",
        partner=name,
        month=f"{year}-{month:02d}",
        count=len(rows),
        points=fmt_number(total, context.viewer.locale),
    )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["code", "used_at", "reward_zh", "reward_en", "talent", "points"])
    for row in rows:
        writer.writerow(
            [show_code(row["code"]), row["used_at"], row["name_zh"], row["name_en"],
             row["talent"], row["cost"]]
        )  # fmt: skip
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_document(
        chat.id,
        out.getvalue().encode("utf-8-sig"),  # the BOM lets spreadsheet programs read Chinese
        filename=f"statement-{station_id}-{year}-{month:02d}.csv",
    )


# -- the catalog in /admin ----------------------------------------------------------------------


@admin_only
async def admin_catalog(update: Update, context: BotContext) -> None:
    """Every reward, retired ones too, and Add."""
    await answer(update)
    rewards = await context.services.rewards.rewards.catalog(active_only=False)
    locale = context.viewer.locale
    rows = [
        [(("" if r.active else "🚫 ") + f"{r.name(locale)} · {r.stock}", f"adm:rw:{r.id}")]
        for r in rewards
    ]
    rows.append([(context.t("rewards.add"), "adm:rwadd")])
    await edit_or_send(update, context, context.t("rewards.admin_title"), markup=inline(rows))


@admin_only
async def admin_reward(update: Update, context: BotContext) -> None:
    """One reward for the admin: edit a field, retire or restore."""
    await answer(update)
    reward = await context.services.rewards.rewards.get(int_arg(update, 2) or 0)
    if reward is None:
        await say(update, context, "common.stale_button")
        return
    await send_admin_card(update, context, reward)


async def send_admin_card(update: Update, context: BotContext, reward: Reward) -> None:
    t = context.t
    labels = [(t(f"rewards.field_{f}"), f"adm:rwedit:{reward.id}:{f}") for f in FIELDS]
    rows = [labels[i : i + 3] for i in range(0, len(labels), 3)]
    rows.append(
        [(t("rewards.retire" if reward.active else "rewards.restore"),
          f"adm:rwtoggle:{reward.id}")]
    )  # fmt: skip
    rows.append([(t("reg.back"), "adm:rewards")])
    text = reward_text(context, reward)
    if not reward.active:
        text += "\n" + t("rewards.retired")
    await send(update, context, text, markup=inline(rows))


@admin_only
async def toggle_reward(update: Update, context: BotContext) -> None:
    """Retire or restore."""
    await answer(update)
    reward = await context.services.rewards.rewards.get(int_arg(update, 2) or 0)
    if reward is None:
        await say(update, context, "common.stale_button")
        return
    reward = await context.services.rewards.set_active(
        context.viewer, reward.id, not reward.active
    )
    await send_admin_card(update, context, reward)


def form_of(context: BotContext) -> dict[str, Any]:
    if context.user_data.reward is None:
        context.user_data.reward = {}
    return context.user_data.reward


async def ask_field(update: Update, context: BotContext, *, note: str | None = None) -> int:
    """Ask the open field's question."""
    form = form_of(context)
    field = form["field"]
    rows = []
    if field == "station_id":
        for station in await context.services.stations.list():
            rows.append([(station.name(context.viewer.locale), f"adm:rwst:{station.id}")])
    rows.append([(context.t("reg.cancel"), "adm:rwcancel")])
    text = context.t(f"rewards.ask_{field}")
    if note:
        text = f"{note}\n\n{text}"
    await send(update, context, text, markup=inline(rows))
    return ASKING


@admin_only
async def begin_add(update: Update, context: BotContext) -> int:
    """Add a reward: ask each field in turn."""
    await answer(update)
    if not await context.services.stations.list():
        await say(update, context, "admin.no_stations_yet")
        return ConversationHandler.END
    context.user_data.reward = {"field": FIELDS[0], "values": {}, "editing": None}
    return await ask_field(update, context)


@admin_only
async def begin_edit(update: Update, context: BotContext) -> int:
    """Change one field of a reward."""
    await answer(update)
    reward_id = int_arg(update, 2) or 0
    field = callback_arg(update, 3)
    if field not in FIELDS or await context.services.rewards.rewards.get(reward_id) is None:
        await say(update, context, "common.stale_button")
        return ConversationHandler.END
    context.user_data.reward = {"field": field, "values": {}, "editing": reward_id}
    return await ask_field(update, context)


@admin_only
async def typed(update: Update, context: BotContext) -> int:
    """A typed value for the open field."""
    form = form_of(context)
    if "field" not in form:
        return await cancel(update, context)
    if form["field"] == "station_id":
        return await ask_field(update, context, note=context.t("reg.use_buttons"))
    try:
        value = parse_field(form["field"], update.effective_message.text)
    except InvalidInput as exc:
        return await ask_field(update, context, note=context.t(exc.key, **exc.params))
    return await took(update, context, value)


@admin_only
async def station_picked(update: Update, context: BotContext) -> int:
    """The partner's station, from the buttons."""
    await answer(update)
    form = form_of(context)
    station = await context.services.stations.get(int_arg(update, 2) or 0)
    if form.get("field") != "station_id" or station is None:
        return await ask_field(update, context, note=context.t("common.stale_button"))
    return await took(update, context, station.id)


async def took(update: Update, context: BotContext, value: Any) -> int:
    """Store the answer; ask the next field, or save."""
    form = form_of(context)
    services = context.services
    if form["editing"] is not None:
        reward = await services.rewards.edit(context.viewer, form["editing"], form["field"], value)
        context.user_data.reward = None
        await say(update, context, "activity.saved")
        await send_admin_card(update, context, reward)
        return ConversationHandler.END
    form["values"][form["field"]] = value
    index = FIELDS.index(form["field"]) + 1
    if index < len(FIELDS):
        form["field"] = FIELDS[index]
        return await ask_field(update, context)
    reward = await services.rewards.add(context.viewer, form["values"])
    context.user_data.reward = None
    await say(update, context, "rewards.added", name=reward.name(context.viewer.locale))
    await send_admin_card(update, context, reward)
    return ConversationHandler.END


async def not_text(update: Update, context: BotContext) -> int:
    """A sticker, photo or another command while a field is asked for."""
    message = update.effective_message
    key = "reg.finish_first" if (message.text or "").startswith("/") else "input.need_text"
    return await ask_field(update, context, note=context.t(key))


async def stale(update: Update, context: BotContext) -> int:
    """Another button while a field is asked for."""
    await answer(update)
    return await ask_field(update, context, note=context.t("common.stale_button"))


async def cancel(update: Update, context: BotContext) -> int:
    """Leave; nothing is stored."""
    await answer(update)
    context.user_data.reward = None
    await say(update, context, "admin.cancelled")
    return ConversationHandler.END


def setup_deep_links(application: Application) -> None:
    """The voucher link; before the plain /start."""
    application.add_handler(
        CommandHandler(
            "start",
            voucher_link,
            filters=filters.ChatType.PRIVATE & filters.Regex(f"^/start {VOUCHER_PREFIX}"),
        )
    )


def setup(application: Application) -> None:
    """Register the reward commands and buttons."""
    private = filters.ChatType.PRIVATE
    with warnings.catch_warnings():
        # per_message=False is deliberate: the dialog waits for typed answers across messages.
        warnings.filterwarnings("ignore", message=".*per_message.*")
        application.add_handler(
            ConversationHandler(
                entry_points=[
                    CallbackQueryHandler(begin_add, pattern=r"^adm:rwadd$"),
                    CallbackQueryHandler(begin_edit, pattern=r"^adm:rwedit:\d+:\w+$"),
                ],
                states={
                    ASKING: [
                        MessageHandler(filters.TEXT & ~filters.COMMAND, typed),
                        CallbackQueryHandler(station_picked, pattern=r"^adm:rwst:\d+$"),
                        CallbackQueryHandler(cancel, pattern=r"^adm:rwcancel$"),
                    ]
                },
                fallbacks=[
                    CommandHandler("cancel", cancel),
                    MessageHandler(filters.ALL, not_text),
                    CallbackQueryHandler(stale),
                ],
                name="reward",
            )
        )
    for command, callback in (
        ("rewards", show_rewards),
        ("vouchers", show_vouchers),
        ("verify", verify_command),
        ("statement", statement_command),
    ):
        application.add_handler(CommandHandler(command, callback, filters=private))
    for pattern, callback in (
        (r"^rw:view:\d+$", view_reward),
        (r"^rw:redeem:\d+$", confirm_redeem),
        (r"^rw:yes:\d+$", redeem),
        (r"^vc:show:\d+$", show_voucher_button),
        (r"^vc:use:\w+$", mark_used),
        (r"^vc:cancel:\d+$", cancel_voucher),
        (r"^st:\d+:\d+:\d+$", statement_button),
        (r"^adm:rewards$", admin_catalog),
        (r"^adm:rw:\d+$", admin_reward),
        (r"^adm:rwtoggle:\d+$", toggle_reward),
    ):
        application.add_handler(CallbackQueryHandler(callback, pattern=pattern))
