"""Someone who sends far faster than the bot answers: the excess is dropped with one note."""

import asyncio

import pytest
from telegram import Update

from localapi.chat import ChatUser
from tests.support.flows import received


async def flood(harness, user_id, language, count):
    """``count`` /help messages from one person, queued at once as polling would hand them."""
    updates = []

    async def collect(update):
        updates.append(update)

    sender = ChatUser(harness.api, collect, "Quick", language, id=user_id)
    for _ in range(count):
        await sender.send("/help")
    app = harness.app
    await asyncio.gather(
        *(
            app.update_processor.process_update(update, app.process_update(update))
            for update in (Update.de_json(raw, app.bot) for raw in updates)
        )
    )
    await app.update_processor.shutdown()  # the note is on its way on its own


@pytest.mark.parametrize(
    ("language", "note"),
    [
        ("en", "You are sending faster than I can answer."),
        ("zh", "您发送得太快了。"),
    ],
)
async def test_a_flood_is_answered_up_to_the_cap_and_told_once_to_slow_down(
    harness, language, note
):
    processor = harness.app.update_processor
    await flood(harness, 4242, language, 25)
    texts = received(harness, 4242)
    notes = [text for text in texts if text.startswith(note)]
    assert len(notes) == 1
    assert len(texts) - 1 == processor.max_backlog  # ten /help answered, fifteen dropped
    assert processor.dropped == 25 - processor.max_backlog
