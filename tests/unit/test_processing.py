"""Updates of different users run at once; one user's stay in order and cannot stall the rest."""

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
    assert processor._turns == {}  # idle users are forgotten


async def test_a_flood_from_one_user_neither_takes_the_slots_nor_piles_up():
    told = []

    async def slow_down(flood):
        told.append(flood.update_id)

    # Two slots: before, a flooder's queued updates held both while waiting for their turn.
    processor = PerUserUpdateProcessor(2, max_backlog=10, on_overflow=slow_down)
    ran = []
    release = asyncio.Event()

    async def handle(name):
        ran.append(name)
        if name == "flood 1":
            await release.wait()
        await asyncio.sleep(0)  # a handler waits for the database or Telegram at least once

    flood = [
        asyncio.create_task(processor.process_update(update(1, i), handle(f"flood {i}")))
        for i in range(1, 601)
    ]
    other = asyncio.create_task(processor.process_update(update(2, 1000), handle("help")))
    await asyncio.wait_for(other, timeout=5)
    # Another user's /help ran while the flooder's first update still held its turn.
    assert ran == ["flood 1", "help"]
    release.set()
    await asyncio.wait_for(asyncio.gather(*flood), timeout=5)
    # The first ten of the flood ran, in order; the rest were dropped with one note.
    assert ran == ["flood 1", "help"] + [f"flood {i}" for i in range(2, 11)]
    assert processor.dropped == 590
    await asyncio.wait_for(processor.shutdown(), timeout=5)
    assert told == [11]
    # Once the backlog is handled, the user is served again, and a new flood gets a new note.
    await processor.process_update(update(1, 700), handle("later"))
    assert ran[-1] == "later"
    again = [
        asyncio.create_task(processor.process_update(update(1, i), handle(f"again {i}")))
        for i in range(800, 815)
    ]
    await asyncio.wait_for(asyncio.gather(*again), timeout=5)
    await asyncio.wait_for(processor.shutdown(), timeout=5)
    assert told == [11, 810]
    assert processor._turns == {} and processor._backlog == {}


async def test_updates_without_a_user_just_run():
    processor = PerUserUpdateProcessor(4)
    done = []

    async def handle():
        done.append(1)

    await processor.process_update(object(), handle())
    assert done == [1]
