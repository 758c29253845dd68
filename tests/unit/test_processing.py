"""Updates of different users run at once; one user's updates stay in order."""

import asyncio

from telegram import Update

from bot.processing import PerUserUpdateProcessor


def update(user_id, update_id):
    return Update.de_json(
        {
            "update_id": update_id,
            "message": {
                "message_id": update_id,
                "date": 0,
                "chat": {"id": user_id, "type": "private", "first_name": "U"},
                "from": {"id": user_id, "is_bot": False, "first_name": "U"},
                "text": "hi",
            },
        },
        None,
    )


async def test_one_users_updates_in_order_others_alongside():
    processor = PerUserUpdateProcessor(64)
    log = []
    release = asyncio.Event()

    async def handle(name, *, wait=False):
        log.append(("start", name))
        if wait:
            await release.wait()
        log.append(("end", name))

    first = asyncio.create_task(processor.process_update(update(1, 1), handle("a1", wait=True)))
    second = asyncio.create_task(processor.process_update(update(1, 2), handle("a2")))
    other = asyncio.create_task(processor.process_update(update(2, 3), handle("b1")))
    await asyncio.wait_for(other, timeout=5)
    # The other user was served while the first user's first update was still running,
    assert ("end", "b1") in log and ("end", "a1") not in log
    # and the first user's second update waited for their first.
    assert ("start", "a2") not in log
    release.set()
    await asyncio.wait_for(asyncio.gather(first, second), timeout=5)
    mine = [entry for entry in log if entry[1].startswith("a")]
    assert mine == [("start", "a1"), ("end", "a1"), ("start", "a2"), ("end", "a2")]
    assert processor._locks == {}  # idle users are forgotten


async def test_updates_without_a_user_just_run():
    processor = PerUserUpdateProcessor(4)
    done = []

    async def handle():
        done.append(1)

    await processor.process_update(object(), handle())
    assert done == [1]
