"""The two lanes: replies are never queued behind bulk; bulk keeps to the budget and per chat."""

import asyncio
import time
from datetime import timedelta

import pytest
from telegram.error import RetryAfter

from bot.ratelimit import BulkSend, TwoLaneRateLimiter


class Recorder:
    def __init__(self):
        self.calls = []

    def callback(self, name, *, fail_with=None):
        async def call():
            self.calls.append((name, time.monotonic()))
            if fail_with is not None and fail_with:
                raise fail_with.pop()
            return {"ok": name}

        return call


async def send(limiter, recorder, name, chat, *, bulk, fail_with=None, before=None):
    return await limiter.process_request(
        recorder.callback(name, fail_with=fail_with),
        (),
        {},
        "sendMessage",
        {"chat_id": chat},
        BulkSend(before_send=before) if bulk else None,
    )


async def test_a_reply_is_not_queued_behind_a_broadcast():
    limiter = TwoLaneRateLimiter(rate=50)
    recorder = Recorder()
    bulk = [
        asyncio.create_task(send(limiter, recorder, f"bulk{i}", 1000 + i, bulk=True))
        for i in range(30)
    ]
    await asyncio.sleep(0)
    await send(limiter, recorder, "reply", 1, bulk=False)
    names = [name for name, _ in recorder.calls]
    assert names.index("reply") <= 3  # the reply went while 27+ bulk messages still wait
    await asyncio.gather(*bulk)
    assert len(recorder.calls) == 31


async def test_bulk_keeps_to_the_rate():
    limiter = TwoLaneRateLimiter(rate=100)
    recorder = Recorder()
    started = time.monotonic()
    await asyncio.gather(*(send(limiter, recorder, i, 2000 + i, bulk=True) for i in range(40)))
    elapsed = time.monotonic() - started
    # After a start-up credit of a couple of messages, 100/s (a little under) spaces the rest.
    stamps = [t for _, t in recorder.calls]
    assert stamps[-1] - stamps[2] >= 37 / 100
    assert elapsed >= 0.35


async def test_bulk_leaves_room_for_what_replies_used():
    limiter = TwoLaneRateLimiter(rate=10)
    recorder = Recorder()
    for i in range(9):  # the whole second's budget, used by replies
        await send(limiter, recorder, f"reply{i}", 3000 + i, bulk=False)
    started = time.monotonic()
    await send(limiter, recorder, "bulk", 4000, bulk=True)
    assert time.monotonic() - started >= 0.9


async def test_one_message_a_second_per_chat_for_bulk():
    limiter = TwoLaneRateLimiter(rate=100, per_chat_interval=0.2)
    recorder = Recorder()
    await send(limiter, recorder, "reply", 7, bulk=False)
    await send(limiter, recorder, "bulk", 7, bulk=True)
    (_, first), (_, second) = recorder.calls
    assert second - first >= 0.2


async def test_a_reply_after_a_bulk_message_waits_out_the_chats_second():
    limiter = TwoLaneRateLimiter(rate=100, per_chat_interval=0.2)
    recorder = Recorder()
    await send(limiter, recorder, "bulk", 8, bulk=True)
    await send(limiter, recorder, "reply", 8, bulk=False)
    await send(limiter, recorder, "second reply", 8, bulk=False)
    (_, bulk), (_, reply), (_, again) = recorder.calls
    assert reply - bulk >= 0.2
    assert again - reply < 0.1  # a question and its note may follow each other


async def test_retry_after_pauses_the_bulk_lane():
    limiter = TwoLaneRateLimiter(rate=100)
    recorder = Recorder()
    refusal = [RetryAfter(timedelta(seconds=0.3))]
    first = asyncio.create_task(send(limiter, recorder, "a", 1, bulk=True, fail_with=refusal))
    await asyncio.sleep(0.05)
    second = asyncio.create_task(send(limiter, recorder, "b", 2, bulk=True))
    await asyncio.gather(first, second)
    times = dict(recorder.calls[1:])  # the refused attempt is the first call
    assert limiter.http_429 == 1
    assert times["a"] - recorder.calls[0][1] >= 0.29
    assert times["b"] - recorder.calls[0][1] >= 0.29  # nobody in the bulk lane went meanwhile


async def test_before_send_runs_once_after_the_slot_is_granted():
    limiter = TwoLaneRateLimiter(rate=100)
    recorder = Recorder()
    marks = []

    async def mark():
        marks.append(time.monotonic())

    refusal = [RetryAfter(timedelta(seconds=0.05))]
    await send(limiter, recorder, "a", 1, bulk=True, fail_with=refusal, before=mark)
    assert len(marks) == 1 and len(recorder.calls) == 2
    assert marks[0] <= recorder.calls[0][1]


async def test_a_failing_before_send_stops_the_request():
    limiter = TwoLaneRateLimiter(rate=100)
    recorder = Recorder()

    async def refuse():
        raise LookupError("no longer pending")

    with pytest.raises(LookupError):
        await send(limiter, recorder, "a", 1, bulk=True, before=refuse)
    assert recorder.calls == []
