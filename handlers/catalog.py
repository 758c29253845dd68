"""The reward catalog in /admin: add a reward field by field, edit one field, retire or restore."""

from __future__ import annotations

import warnings
from typing import Any

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.services.errors import InvalidInput
from bot.services.rewards import parse_field
from handlers.common import (
    admin_only,
    answer,
    callback_arg,
    edit_or_send,
    inline,
    int_arg,
    say,
    send,
)
from handlers.context import BotContext
from handlers.dialogs import leave_on_command
from handlers.paging import page_arg, pager, paginate, station_rows
from handlers.rewards import cost_and_stock, reward_text
from storage.models import Reward

FIELDS = (
    "name_zh", "name_en", "description_zh", "description_en", "station_id", "cost", "stock",
    "per_talent_limit", "valid_days",
)  # fmt: skip
ASKING = 1  # the dialog has one state: the field in the form says which question is open


# -- the catalog in /admin ----------------------------------------------------------------------


@admin_only
async def admin_catalog(update: Update, context: BotContext) -> None:
    """Every reward, retired ones too, ten a page, and Add."""
    await answer(update)
    rewards = await context.services.rewards.rewards.catalog(active_only=False)
    locale = context.viewer.locale
    shown = paginate(rewards, page_arg(callback_arg(update, 2)))
    rows = [
        [(f"{'' if r.active else '🚫 '}{r.name(locale)} · {cost_and_stock(context, r)}",
          f"adm:rw:{r.id}")]
        for r in shown.items
    ]  # fmt: skip
    rows.append(pager(context, shown.number, shown.count, lambda n: f"adm:rewards:{n}"))
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


async def ask_field(
    update: Update, context: BotContext, *, note: str | None = None, page: int = 0
) -> int:
    """Ask the open field's question."""
    form = form_of(context)
    field = form["field"]
    rows = []
    if field == "station_id":
        rows = station_rows(
            context,
            await context.services.stations.list(),
            page,
            pick=lambda station: f"adm:rwst:{station.id}",
            turn=lambda n: f"adm:rwstp:{n}",
        )
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


async def station_page(update: Update, context: BotContext) -> int:
    """Another page of the partners to choose from."""
    await answer(update)
    if form_of(context).get("field") != "station_id":
        return await ask_field(update, context, note=context.t("common.stale_button"))
    return await ask_field(update, context, page=page_arg(callback_arg(update, 2)))


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
    key = "common.unknown_command" if (message.text or "").startswith("/") else "input.need_text"
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


def setup(application: Application) -> None:
    """Register the catalog's dialog and buttons."""
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
                        CallbackQueryHandler(station_page, pattern=r"^adm:rwstp:\d+$"),
                        CallbackQueryHandler(cancel, pattern=r"^adm:rwcancel$"),
                    ]
                },
                fallbacks=[
                    CommandHandler("cancel", cancel),
                    leave_on_command(cancel),
                    MessageHandler(filters.ALL, not_text),
                    CallbackQueryHandler(stale),
                ],
                name="reward",
            )
        )
    for pattern, callback in (
        (r"^adm:rewards(:\d+)?$", admin_catalog),
        (r"^adm:rw:\d+$", admin_reward),
        (r"^adm:rwtoggle:\d+$", toggle_reward),
    ):
        application.add_handler(CallbackQueryHandler(callback, pattern=pattern))
