"""The two lanes: who goes when, with time passed in; and the PTB glue that waits for turns."""

import asyncio
import logging
from datetime import timedelta

import pytest
from telegram.error import RetryAfter, TimedOut

from bot.ratelimit import CREDIT_SHARE, MARGIN_STEP, BulkSend, Pacer, Ticket, TwoLaneRateLimiter

# --- the pacer: pure rules, time passed in ------------------------------------------------------


def reply(chat, now=0.0):
    return Ticket(chat=chat, since=now)


def bulk(chat, *, paid=False):
    return Ticket(chat=chat, bulk=True, paid=paid)


def chats(tickets):
    return [ticket.chat for ticket in tickets]


def test_thirty_a_second_is_thirty_not_twenty_nine():
    pacer = Pacer(rate=30, credit_after=1)
    for chat in range(40):
        pacer.enqueue(reply(chat))
    first = pacer.grant(0.0)
    assert len(first) == 30
    assert pacer.grant(0.5) == []  # every slot is open (its answer has not come back)
    for ticket in first:
        pacer.answered(ticket, 0.1)  # a round trip of 0.1 s, the shortest seen
    # A slot is free again a second after the answer, less the part of a round trip that is
    # certain.
    free = 0.1 + 1 - CREDIT_SHARE * 0.1
    assert pacer.grant(free - 0.001) == []
    assert len(pacer.grant(free)) == 10


def test_the_round_trip_credit_never_exceeds_a_share_of_the_shortest_seen():
    pacer = Pacer(rate=1, per_chat_interval=0, credit_after=1)
    pacer.enqueue(reply(1))
    [first] = pacer.grant(0.0)
    pacer.answered(first, 0.05)
    assert pacer.credit == pytest.approx(CREDIT_SHARE * 0.05)
    pacer.enqueue(reply(2))
    free = 1.05 - CREDIT_SHARE * 0.05
    assert pacer.grant(free - 0.001) == []
    [second] = pacer.grant(free)
    pacer.answered(second, free + 0.2)  # a slower round trip does not raise the credit
    assert pacer.credit == pytest.approx(CREDIT_SHARE * 0.05)
    pacer.enqueue(reply(3))
    free += 0.2 + 1 - CREDIT_SHARE * 0.05
    assert pacer.grant(free - 0.001) == []
    assert chats(pacer.grant(free + 1e-9)) == [3]


def test_no_credit_before_enough_round_trips_were_seen():
    pacer = Pacer(rate=1000, per_chat_interval=0, credit_after=3)
    for n in range(3):
        pacer.enqueue(reply(n))
        [ticket] = pacer.grant(float(n))
        pacer.answered(ticket, n + 0.05)
        # A few quick answers may be luck: the credit waits for enough of them.
        assert pacer.credit == (pytest.approx(CREDIT_SHARE * 0.05) if n == 2 else 0)


def test_replies_go_before_bulk_and_bulk_takes_what_is_left():
    pacer = Pacer(rate=3)
    for chat in (101, 102, 103, 104):
        pacer.enqueue(bulk(chat))
    pacer.enqueue(reply(1))
    pacer.enqueue(reply(2))
    # Two replies, then one bulk message: bulk is spread, one per 1/rate.
    assert chats(pacer.grant(0.0)) == [1, 2, 101]
    assert pacer.grant(0.2) == []
    pacer.enqueue(reply(3))
    assert chats(pacer.grant(0.34)) == []  # the window is full until an answer comes back
    assert pacer.next_change(0.34) == float("inf")


def test_bulk_is_spread_over_the_second():
    pacer = Pacer(rate=10)
    for chat in range(100, 110):
        pacer.enqueue(bulk(chat))
    assert chats(pacer.grant(0.0)) == [100]
    assert pacer.next_change(0.0) == pytest.approx(0.1)
    assert pacer.grant(0.05) == []
    assert chats(pacer.grant(0.1)) == [101]


def test_chats_take_turns_round_robin():
    pacer = Pacer(rate=2, per_chat_interval=0)
    # One person has three replies waiting; two others have one each.
    for _ in range(3):
        pacer.enqueue(reply(1))
    pacer.enqueue(reply(2))
    pacer.enqueue(reply(3))
    order = []
    now = 0.0
    while pacer.waiting():
        granted = pacer.grant(now)
        order += chats(granted)
        for ticket in granted:
            pacer.answered(ticket, now)
        now += 1.0
    assert order == [1, 2, 3, 1, 1]


def test_replies_to_a_chat_go_one_at_a_time_and_follow_each_other_at_once():
    pacer = Pacer(rate=30)
    pacer.enqueue(reply(7))
    pacer.enqueue(reply(7))
    [first] = pacer.grant(0.0)
    assert pacer.grant(0.01) == []  # the first is still on its way: order is kept
    pacer.answered(first, 0.02)
    assert chats(pacer.grant(0.02)) == [7]


def test_bulk_to_a_chat_a_second_apart_and_a_reply_after_it_waits_out_the_second():
    pacer = Pacer(rate=30)
    pacer.enqueue(reply(7))
    [first] = pacer.grant(0.0)
    pacer.answered(first, 0.0)
    pacer.enqueue(bulk(7))
    assert pacer.grant(0.99) == []
    [sent] = pacer.grant(1.0)
    pacer.answered(sent, 1.0)
    pacer.enqueue(reply(7))
    assert pacer.grant(1.99) == []
    assert chats(pacer.grant(2.0)) == [7]


def test_a_reply_waiting_for_its_chat_goes_before_bulk_to_that_chat():
    pacer = Pacer(rate=30)
    pacer.enqueue(bulk(7))
    [first] = pacer.grant(0.0)
    pacer.answered(first, 0.0)
    pacer.enqueue(bulk(7))
    pacer.enqueue(reply(7))
    pacer.enqueue(bulk(8))
    assert chats(pacer.grant(0.5)) == [8]  # other chats' bulk goes meanwhile
    granted = pacer.grant(1.0)
    assert [(t.chat, t.bulk) for t in granted] == [(7, False)]


def test_a_chats_429_holds_only_that_chat():
    pacer = Pacer(rate=30)
    pacer.enqueue(bulk(7))
    [sent] = pacer.grant(0.0)
    pacer.answered(sent, 0.0)
    pacer.enqueue(reply(7))
    [answer] = pacer.grant(1.0)
    # Right after the chat's previous message: Telegram means the chat, not the bot.
    assert pacer.refused(answer, 1.0, retry_after=3) is False
    assert pacer.margin == 0
    pacer.enqueue(answer)
    pacer.enqueue(bulk(8))
    assert chats(pacer.grant(1.1)) == [8]
    assert pacer.grant(3.9) == []
    assert [(t.chat, t.bulk) for t in pacer.grant(4.0)] == [(7, False)]


def test_an_overall_429_pauses_everyone_and_widens_the_margin():
    pacer = Pacer(rate=30)
    pacer.enqueue(reply(7))
    [answer] = pacer.grant(0.0)
    assert pacer.refused(answer, 0.1, retry_after=1) is True
    assert pacer.margin == pytest.approx(MARGIN_STEP)
    pacer.enqueue(answer)
    pacer.enqueue(bulk(8))
    pacer.enqueue(reply(9))
    assert pacer.grant(1.0) == []
    assert pacer.next_change(1.0) == pytest.approx(1.1)
    # The refused reply goes first again, then the others.
    granted = pacer.grant(1.1)
    assert [(t.chat, t.bulk) for t in granted] == [(7, False), (9, False), (8, True)]
    for i in range(1000):  # clean answers narrow it again
        now = 10.0 + 2 * i
        pacer.enqueue(reply(1))
        [ticket] = pacer.grant(now)
        pacer.answered(ticket, now)
    assert pacer.margin == pytest.approx(0, abs=1e-9)


def test_paid_bulk_has_its_own_budget():
    pacer = Pacer(rate=1, paid_rate=1000)
    pacer.enqueue(reply(1))
    for chat in range(100, 105):
        pacer.enqueue(bulk(chat, paid=True))
    pacer.enqueue(bulk(200))
    assert chats(pacer.grant(0.0)) == [1, 100]  # the free budget is used up by the reply
    assert chats(pacer.grant(0.001)) == [101]
    assert chats(pacer.grant(0.002)) == [102]


def test_idle_chats_are_forgotten():
    pacer = Pacer(rate=1000)
    for chat in range(50):
        pacer.enqueue(bulk(chat, paid=False))
    granted = []
    now = 0.0
    while pacer.waiting():
        for ticket in pacer.grant(now):
            pacer.answered(ticket, now)
            granted.append(ticket)
        now += 0.001
    assert len(granted) == 50
    pacer.forget_chats(now + 2)
    assert pacer._chats == {}


# --- the glue: PTB's process_request waits for turns ---------------------------------------------


class Api:
    """A callback factory that records the order requests reached "Telegram"."""

    def __init__(self):
        self.calls = []
        self.called = asyncio.Event()

    def callback(self, name, refusals=None):
        async def call():
            self.calls.append(name)
            self.called.set()
            if refusals:
                raise refusals.pop()
            return {"ok": name}

        return call


async def send(limiter, api, name, chat, *, bulk=False, refusals=None, before=None, method=None):
    return await limiter.process_request(
        api.callback(name, refusals),
        (),
        {},
        method or "sendMessage",
        {"chat_id": chat},
        BulkSend(before_send=before) if bulk else None,
    )


def refusal(seconds):
    return RetryAfter(timedelta(seconds=seconds))


async def test_a_refused_reply_is_sent_after_its_wait_and_bulk_goes_on():
    limiter = TwoLaneRateLimiter(rate=1000, per_chat_interval=0.05)
    api = Api()
    await send(limiter, api, "bulk to 7", 7, bulk=True)
    refused = [refusal(0.1)]
    api.called.clear()
    waiting = asyncio.create_task(send(limiter, api, "reply", 7, refusals=refused))
    async with asyncio.timeout(5):
        await api.called.wait()  # the reply went and was refused: the chat waits
    assert api.calls == ["bulk to 7", "reply"]
    await send(limiter, api, "bulk to 8", 8, bulk=True)  # the chat's 429 holds no one else
    assert await waiting == {"ok": "reply"}
    assert api.calls == ["bulk to 7", "reply", "bulk to 8", "reply"]
    assert limiter.http_429 == 1


async def test_a_reply_is_given_up_only_after_max_wait_and_that_is_logged(caplog):
    limiter = TwoLaneRateLimiter(rate=1000, max_wait=0.2)
    api = Api()
    refused = [refusal(5)]
    with caplog.at_level(logging.WARNING, logger="bot.ratelimit"), pytest.raises(TimedOut):
        await send(limiter, api, "reply", 7, refusals=refused)
    assert api.calls == ["reply"]
    assert limiter.gave_up == 1
    assert "gave up a message to chat 7" in caplog.text


async def test_a_reply_to_a_chat_goes_before_bulk_queued_for_it():
    limiter = TwoLaneRateLimiter(rate=1000, per_chat_interval=0.05)
    api = Api()
    first = asyncio.create_task(send(limiter, api, "reply 1", 7))
    queued_bulk = asyncio.create_task(send(limiter, api, "bulk", 7, bulk=True))
    second = asyncio.create_task(send(limiter, api, "reply 2", 7))
    await asyncio.gather(first, queued_bulk, second)
    assert api.calls == ["reply 1", "reply 2", "bulk"]


async def test_before_send_runs_once_after_the_turn_is_granted():
    limiter = TwoLaneRateLimiter(rate=1000, per_chat_interval=0)
    api = Api()
    marks = []

    async def mark():
        marks.append(list(api.calls))

    refused = [refusal(0.01)]
    await send(limiter, api, "a", 1, bulk=True, refusals=refused, before=mark)
    assert marks == [[]]  # once, before the first attempt
    assert api.calls == ["a", "a"]


async def test_a_failing_before_send_stops_the_request_and_frees_its_turn():
    limiter = TwoLaneRateLimiter(rate=1, per_chat_interval=0)
    api = Api()

    async def refuse():
        raise LookupError("no longer pending")

    with pytest.raises(LookupError):
        await send(limiter, api, "a", 1, bulk=True, before=refuse)
    assert api.calls == []
    # The turn was handed back: the budget of one a second is still unused.
    assert limiter.pacer.free.used(0.0) == 0


async def test_requests_that_telegram_does_not_count_are_not_paced():
    limiter = TwoLaneRateLimiter(rate=1)
    api = Api()
    await send(limiter, api, "reply", 1)
    # The budget of one a second is used up, yet callback answers and updates go at once.
    await send(limiter, api, "answer", 1, method="answerCallbackQuery")
    assert api.calls == ["reply", "answer"]
    assert limiter.pacer.waiting() == 0
