"""Once something is done, the message it was done from shows what happened, and no button on
it would mean nothing any more."""

import pytest

from tests.bot.test_activities import WINTER
from tests.support.flows import add_station, make_coordinator, seed_talent


def labels(message):
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [button["text"] for row in rows for button in row]


def anywhere(user, label):
    """Whether any message in the chat still carries the button ``label``."""
    return any(label in labels(message) for message in user.messages())


@pytest.fixture
async def hub(harness):
    hub = await add_station(harness, "Downtown hub", "市民中心站")
    for telegram_id in (501, 502):
        await seed_talent(harness, telegram_id, station=hub, stay=WINTER)
    return hub


async def test_a_sent_broadcast_says_whom_it_went_to(harness, hub):
    coordinator = await make_coordinator(harness, hub)
    await coordinator.send("/broadcast")
    await coordinator.send("Free clinic on Saturday.")
    await coordinator.tap("Any field")
    await coordinator.tap("Everyone")
    confirm = coordinator.messages()[-1]["message_id"]
    assert coordinator.buttons() == ["📣 Send", "◀ Back", "✖ Cancel"]
    await coordinator.tap("📣 Send")
    [sent] = [m for m in coordinator.messages() if m["message_id"] == confirm]
    assert sent["text"].startswith("📣 Sent to 2 talents (progress in the next message)\n")
    assert sent["text"].endswith("Free clinic on Saturday.")
    assert labels(sent) == []
    assert coordinator.last_text().startswith("Sending… 0 / 2 sent")
    await harness.outbox.drain()
    assert coordinator.last_text().startswith("Broadcast finished: 2 of 2 sent")
    assert not anywhere(coordinator, "📣 Send") and not anywhere(coordinator, "⏹ Cancel broadcast")


async def test_a_cancelled_broadcast_says_so_in_place(harness, hub):
    coordinator = await make_coordinator(harness, hub, language="zh")
    await coordinator.send("/broadcast")
    await coordinator.send("周六义诊。")
    await coordinator.tap("不限领域")
    await coordinator.tap("所有人")
    count = coordinator.mark()
    await coordinator.tap("✖ 取消")
    assert coordinator.mark() == count  # the question itself changed
    assert coordinator.last_text() == "已取消群发，没有发送任何消息。"
    assert coordinator.inline_buttons() == []


async def write_activity(coordinator, *, zh=False):
    await coordinator.send("/new_activity")
    await coordinator.tap("讲座" if zh else "Lectures")
    for answer in ("Winter health talk", "About", "Library", "12/5 9:30", "1h", "0", "0"):
        await coordinator.send(answer)
    await coordinator.tap("不限" if zh else "Anyone")


async def test_the_published_preview_shows_published(harness, hub):
    coordinator = await make_coordinator(harness, hub)
    await write_activity(coordinator)
    preview = coordinator.messages()[-1]["message_id"]
    assert "📢 Publish" in coordinator.buttons()
    await coordinator.tap("📢 Publish")
    [card] = [m for m in coordinator.messages() if m["message_id"] == preview]
    assert "Status: ✅ Published" in card["text"]
    assert "📝 Draft" not in card["text"]
    assert "📢 Publish" not in labels(card) and "💾 Save as draft" not in labels(card)
    assert "📱 Check-in QR code" in labels(card)
    assert coordinator.last_text().startswith("Published: Winter health talk.")
    assert not anywhere(coordinator, "📢 Publish")


async def test_a_saved_draft_then_published_from_manage(harness, hub):
    coordinator = await make_coordinator(harness, hub, language="zh")
    await write_activity(coordinator, zh=True)
    preview = coordinator.messages()[-1]["message_id"]
    await coordinator.tap("💾 存为草稿")
    [card] = [m for m in coordinator.messages() if m["message_id"] == preview]
    assert "状态：📝 草稿" in card["text"]
    assert labels(card)[:2] == ["✏️ 修改", "📢 发布"]
    assert not anywhere(coordinator, "💾 存为草稿")
    await coordinator.send("/manage")
    await coordinator.tap("📝 草稿 · 12月5日周六 09:30 · Winter health talk")
    managed = coordinator.messages()[-1]["message_id"]
    await coordinator.tap("📢 发布")
    [card] = [m for m in coordinator.messages() if m["message_id"] == managed]
    assert "状态：✅ 已发布" in card["text"]
    assert "📢 发布" not in labels(card)
    assert coordinator.last_text().startswith("已发布：Winter health talk。")
    # The draft's card from before still has its button; pressing it explains and does nothing.
    await coordinator.tap("📢 发布")
    assert coordinator.last_text() == "只有草稿可以发布。"
    assert await harness.services.db.fetch_value("SELECT count(*) FROM broadcasts") == 2


async def test_a_cancelled_new_activity_says_so_in_place(harness, hub):
    coordinator = await make_coordinator(harness, hub)
    await coordinator.send("/new_activity")
    await coordinator.tap("✖ Cancel")
    assert coordinator.last_text() == "Cancelled; no activity was saved."
    assert coordinator.inline_buttons() == []
