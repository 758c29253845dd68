"""Two lanes to Telegram: replies first and never dropped, bulk at the rest of the budget.

PTB's AIORateLimiter puts every request in one line and gives up after a few retries, so a reply
to a talent who writes during a 3,000-recipient broadcast waits behind it, and a rush at the door
loses answers to flood control. Here every request that puts a message in a chat waits for a turn
from a :class:`Pacer`:

- the interactive lane (replies, edits of a dialog) goes first, chats taking turns round-robin;
  a reply Telegram refuses with 429 waits for its chat's next turn, ahead of bulk, and is given
  up only after ``max_wait`` seconds (logged);
- the bulk lane (marked with ``BulkSend`` through ``rate_limit_args``) takes whatever budget the
  replies leave, evenly spaced; paid broadcasts (``allow_paid_broadcast``) have their own budget
  of 1,000 a second;
- one message at a time to one chat; bulk a second apart in a private chat (20 a minute in a
  group), and a reply right after a bulk message waits out that second; nothing goes while
  Telegram has asked the bot to pause.

How the budget is counted: Telegram counts a message when it *arrives*, in a sliding window of a
second; we only know when we sent it and when its answer came back. A message occupies our window
from the moment its turn is granted until a window's length after its answer, less a credit: the
answer's way back and the next request's way out take at least the shortest round trip seen
between them, so a message granted once the previous one's occupancy ended arrives outside that
one's window at Telegram. The credit is a share of the shortest round trip (the shortest seen
overstates the two shortest halves until many have been seen). That keeps the pace within a few
per cent of the physical limit without a fixed share, and a 429 that still comes widens a small
margin that narrows again with every answer that comes back clean.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from telegram.constants import FloodLimit
from telegram.error import RetryAfter, TimedOut
from telegram.ext import BaseRateLimiter

log = logging.getLogger(__name__)

# Methods that put a message in a chat; Telegram's flood limits count these.
COUNTED = frozenset(
    {
        "sendMessage", "sendPhoto", "sendDocument", "sendVideo", "sendAudio", "sendVoice",
        "sendAnimation", "sendSticker", "sendMediaGroup", "sendLocation", "sendContact",
        "sendVenue", "sendPoll", "copyMessage", "forwardMessage", "editMessageText",
        "editMessageCaption", "editMessageMedia", "editMessageReplyMarkup",
    }
)  # fmt: skip
PAID_RATE = float(FloodLimit.PAID_MESSAGES_PER_SECOND)  # 1,000 a second with allow_paid_broadcast
GROUP_LIMIT = FloodLimit.MESSAGES_PER_MINUTE_PER_GROUP  # 20 a minute in a group
GROUP_SECONDS = 60.0
# How long a reply may wait for flood control before it is given up.
MAX_WAIT = 60.0
# The shortest round trip seen is the shortest way out plus the shortest way back only in the
# long run: the credit is a share of it, and only once this many round trips have been seen.
CREDIT_SHARE = 0.9
CREDIT_AFTER = 100
# A 429 widens the margin by this much; every clean answer narrows it by a thousandth of it.
MARGIN_STEP = 0.02
MAX_MARGIN = 0.25
# A refusal within a chat's window (plus this) of the chat's previous message is taken for the
# chat's limit, not the bot's: only that chat waits.
CHAT_SLACK = 0.25
# Bulk turns late by up to this many gaps catch up; after a longer quiet they start afresh.
CATCH_UP = 3
INFINITY = math.inf


@dataclass(frozen=True, slots=True)
class BulkSend:
    """Marks a request as bulk. ``before_send`` runs once its turn is granted, right before the
    request (the outbox marks its row "sending" there, so a crash while waiting costs nothing).
    """

    before_send: Callable[[], Awaitable[None]] | None = None


@dataclass(eq=False, slots=True)
class Ticket:
    """One request waiting for, or holding, its turn."""

    chat: int | None
    bulk: bool = False
    paid: bool = False
    since: float = 0.0  # when it first asked
    granted_at: float = 0.0
    refusals: int = 0
    waiter: asyncio.Future[None] | None = None
    order: int = field(default_factory=itertools.count().__next__)


class Window:
    """A sliding window of ``limit`` messages per ``seconds``, as our side can count it.

    A granted message is open until its answer comes back; then it stays in the window until its
    release time. ``hold_until`` is a pause Telegram asked for.
    """

    __slots__ = (
        "_ends", "bulk_until", "hold_until", "last_answer", "limit", "one_at_a_time", "open",
        "seconds",
    )  # fmt: skip

    def __init__(self, limit: int, seconds: float, *, one_at_a_time: bool = False) -> None:
        self.limit = limit
        self.seconds = seconds
        self.one_at_a_time = one_at_a_time
        self.open = 0
        self.hold_until = 0.0
        self.bulk_until = 0.0  # until then a reply would break the chat's limit
        self.last_answer = -INFINITY
        self._ends: list[float] = []

    def used(self, now: float) -> int:
        """How many messages count against the window at ``now``."""
        while self._ends and self._ends[0] <= now:
            heapq.heappop(self._ends)
        return self.open + len(self._ends)

    def free_at(self, now: float) -> float:
        """The earliest moment one more message fits (INFINITY: when an answer comes back)."""
        if self.one_at_a_time and self.open:
            return INFINITY
        excess = self.used(now) - self.limit
        if excess < 0:
            return max(now, self.hold_until)
        if excess >= len(self._ends):
            return INFINITY
        return max(heapq.nsmallest(excess + 1, self._ends)[-1], self.hold_until)

    def grant(self) -> None:
        self.open += 1

    def release(self, end: float) -> None:
        """The answer came back: the message leaves the window at ``end``."""
        self.open -= 1
        heapq.heappush(self._ends, end)

    def idle(self, now: float) -> bool:
        """Nothing open, nothing counted, no pause: the window can be forgotten."""
        return self.used(now) == 0 and max(self.hold_until, self.bulk_until) <= now


class Pacer:
    """Who may send next: the rules of the two lanes, with time passed in (no clock, no I/O)."""

    def __init__(
        self,
        *,
        rate: float = 30.0,
        per_chat_interval: float = 1.0,
        paid_rate: float = PAID_RATE,
        credit_after: int = CREDIT_AFTER,
    ) -> None:
        if rate <= 0 or paid_rate <= 0:
            raise ValueError("rates must be positive")
        # A window of whole messages: 30 a second is 30 in a second, never rounded down to 29.
        self.free = _window(rate)
        self.paid = _window(paid_rate)
        self.per_chat_interval = per_chat_interval
        self.shortest_rtt = INFINITY
        self._round_trips = 0
        self._credit_after = credit_after
        self.credit = 0.0  # what of a round trip is certain: CREDIT_SHARE of the shortest seen
        self.margin = 0.0
        self._chats: dict[int | None, Window] = {}
        self._replies: dict[int | None, deque[Ticket]] = {}
        self._turns: deque[int | None] = deque()  # chats with replies waiting, round-robin
        self._bulk: list[Ticket] = []  # in order of ``order`` (a retry keeps its place)
        self._bulk_gap = {self.free: 1.0 / rate, self.paid: 1.0 / paid_rate}
        self._next_bulk = {self.free: -INFINITY, self.paid: -INFINITY}
        self._grants = 0

    # -- queues ------------------------------------------------------------------------------

    def enqueue(self, ticket: Ticket) -> None:
        """Queue a request; a refused reply goes back to the head of its chat's line."""
        if ticket.bulk:
            index = len(self._bulk)
            while index and self._bulk[index - 1].order > ticket.order:
                index -= 1
            self._bulk.insert(index, ticket)
            return
        line = self._replies.get(ticket.chat)
        if line is None:
            line = self._replies[ticket.chat] = deque()
            self._turns.append(ticket.chat)
        if ticket.refusals:
            line.appendleft(ticket)
        else:
            line.append(ticket)

    def withdraw(self, ticket: Ticket) -> None:
        """Take a request that stopped waiting (given up, cancelled) out of its line."""
        if ticket.bulk:
            if ticket in self._bulk:
                self._bulk.remove(ticket)
            return
        line = self._replies.get(ticket.chat)
        if line is not None and ticket in line:
            line.remove(ticket)
            if not line:
                self._drop_line(ticket.chat)

    def waiting(self) -> int:
        """How many requests wait for a turn."""
        return len(self._bulk) + sum(len(line) for line in self._replies.values())

    # -- turns -------------------------------------------------------------------------------

    def grant(self, now: float) -> list[Ticket]:
        """Every request that may go at ``now``, replies first, chats taking turns."""
        granted = []
        for _ in range(len(self._turns)):
            if self.free.free_at(now) > now:
                break
            chat = self._turns[0]
            self._turns.rotate(-1)
            if self._reply_at(chat, now) > now:
                continue
            line = self._replies[chat]
            ticket = line.popleft()
            if not line:
                self._drop_line(chat)
            self._take(ticket, self.free, now)
            granted.append(ticket)
        if self._bulk:
            open_pools = {
                pool for pool in (self.free, self.paid) if self._bulk_at(pool, now) <= now
            }
            for ticket in list(self._bulk):
                if not open_pools:
                    break
                pool = self.paid if ticket.paid else self.free
                if pool not in open_pools:
                    continue
                # A reply waiting for this chat goes before bulk to it.
                if ticket.chat in self._replies or self._chat(ticket.chat).free_at(now) > now:
                    continue
                self._bulk.remove(ticket)
                # Spaced on a schedule, not from the moment granted: a turn granted a little
                # late (a busy event loop) must not push every later one back with it.
                gap = self._bulk_gap[pool]
                behind = now - self._next_bulk[pool]
                self._next_bulk[pool] = now if behind > CATCH_UP * gap else self._next_bulk[pool]
                self._next_bulk[pool] += gap
                self._take(ticket, pool, now)
                granted.append(ticket)
                open_pools.discard(pool)  # the next bulk turn of this pool is a gap away
        return granted

    def next_change(self, now: float) -> float:
        """When a waiting request might be granted without an answer coming back first."""
        moments = [INFINITY]
        if self._turns:
            chats = min(self._reply_at(chat, now) for chat in self._turns)
            moments.append(max(self.free.free_at(now), chats))
        pools = {pool: self._bulk_at(pool, now) for pool in (self.free, self.paid)}
        soonest = dict.fromkeys(pools, INFINITY)
        for ticket in self._bulk:
            pool = self.paid if ticket.paid else self.free
            if soonest[pool] <= pools[pool] or ticket.chat in self._replies:
                continue  # this pool's next turn is known already
            at = max(pools[pool], self._chat(ticket.chat).free_at(now))
            soonest[pool] = min(soonest[pool], at)
        return min(*moments, *soonest.values())

    def _reply_at(self, chat_id: int | None, now: float) -> float:
        """When the next reply may go to a chat.

        Replies follow each other at once in a private chat, one at a time so they stay in
        order: Telegram allows a person's dialog short bursts, and a refusal only makes that chat
        wait. After a bulk message, though, a reply waits out the rest of the chat's second:
        that is shorter than the 429 it would earn. Groups keep their limit for everything.
        """
        chat = self._chat(chat_id)
        if chat_id is not None and chat_id < 0:
            return chat.free_at(now)
        if chat.open:
            return INFINITY
        return max(now, chat.hold_until, chat.bulk_until)

    def _bulk_at(self, pool: Window, now: float) -> float:
        # Bulk is spread evenly over the window, so a reply that comes meanwhile finds a slot
        # freeing soon instead of a second's worth taken at once.
        return max(pool.free_at(now), self._next_bulk[pool])

    def answered(self, ticket: Ticket, now: float) -> None:
        """The request's answer came back (any answer but a 429)."""
        rtt = now - ticket.granted_at
        self._round_trips += 1
        if rtt < self.shortest_rtt:
            self.shortest_rtt = max(0.0, rtt)
        if self._round_trips >= self._credit_after:
            self.credit = CREDIT_SHARE * self.shortest_rtt
        self.margin = max(0.0, self.margin - MARGIN_STEP / 1000)
        self._release(ticket, now)

    def refused(self, ticket: Ticket, now: float, retry_after: float) -> bool:
        """Telegram answered 429; returns True when it was the bot's overall limit.

        The refused request leaves our window as if it had been sent (it cost us the slot), and
        whoever Telegram asked to wait does: the chat, or the whole lane and a wider margin.
        """
        chat = self._chat(ticket.chat)
        recent = ticket.chat is not None and (
            ticket.granted_at - chat.last_answer < chat.seconds + CHAT_SLACK
        )
        self._release(ticket, now)
        ticket.refusals += 1
        if recent:
            chat.hold_until = max(chat.hold_until, now + retry_after)
            return False
        pool = self.paid if ticket.paid else self.free
        pool.hold_until = max(pool.hold_until, now + retry_after)
        self.margin = min(MAX_MARGIN, self.margin + MARGIN_STEP)
        return True

    def unused(self, ticket: Ticket) -> None:
        """A granted turn was not used (the request was called off before it went)."""
        pool = self.paid if ticket.paid else self.free
        pool.open -= 1
        self._chat(ticket.chat).open -= 1

    # -- bookkeeping -------------------------------------------------------------------------

    def _take(self, ticket: Ticket, pool: Window, now: float) -> None:
        ticket.granted_at = now
        pool.grant()
        self._chat(ticket.chat).grant()
        self._grants += 1
        if self._grants % 4096 == 0:
            self.forget_chats(now)

    def _release(self, ticket: Ticket, now: float) -> None:
        pool = self.paid if ticket.paid else self.free
        slack = self.margin - self.credit
        pool.release(now + pool.seconds + slack)
        chat = self._chat(ticket.chat)
        chat.release(now + chat.seconds + slack)
        chat.last_answer = now
        if ticket.bulk:
            chat.bulk_until = now + chat.seconds + slack

    def _chat(self, chat_id: int | None) -> Window:
        window = self._chats.get(chat_id)
        if window is None:
            if chat_id is None:
                # Edits of inline messages name no chat: only the overall budget applies.
                window = Window(1_000_000, 0.0)
            elif chat_id < 0:
                # One message at a time to one chat keeps its messages in order.
                window = Window(GROUP_LIMIT, GROUP_SECONDS, one_at_a_time=True)
            else:
                window = Window(1, self.per_chat_interval, one_at_a_time=True)
            self._chats[chat_id] = window
        return window

    def _drop_line(self, chat: int | None) -> None:
        del self._replies[chat]
        self._turns.remove(chat)

    def forget_chats(self, now: float) -> None:
        """Drop the windows of chats that have nothing counted, so the map stays small."""
        for chat, window in list(self._chats.items()):
            if window.idle(now) and chat not in self._replies:
                del self._chats[chat]


class TwoLaneRateLimiter(BaseRateLimiter[BulkSend]):
    """PTB rate limiter: an interactive lane that is never dropped and a paced bulk lane."""

    def __init__(
        self,
        *,
        rate: float = 30.0,
        per_chat_interval: float = 1.0,
        max_wait: float = MAX_WAIT,
        bulk_max_pauses: int = 10,
        paid_rate: float = PAID_RATE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.pacer = Pacer(rate=rate, per_chat_interval=per_chat_interval, paid_rate=paid_rate)
        self.rate = rate
        self.max_wait = max_wait
        self.bulk_max_pauses = bulk_max_pauses
        self._clock = clock
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = INFINITY
        self.http_429 = 0
        self.gave_up = 0

    @property
    def per_chat_interval(self) -> float:
        """Seconds between two messages to one private chat."""
        return self.pacer.per_chat_interval

    @per_chat_interval.setter
    def per_chat_interval(self, seconds: float) -> None:
        self.pacer.per_chat_interval = seconds

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Stop the timer; requests still waiting are their callers' to cancel."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer, self._timer_at = None, INFINITY

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: BulkSend | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        """Send when the request's turn comes, waiting out Telegram's 429s."""
        if endpoint not in COUNTED:
            return await callback(*args, **kwargs)
        marker = rate_limit_args if isinstance(rate_limit_args, BulkSend) else None
        ticket = Ticket(
            chat=_chat_of(data),
            bulk=marker is not None,
            paid=bool(data.get("allow_paid_broadcast")),
            since=self._clock(),
        )
        announced = False
        while True:
            await self._turn(ticket)
            try:
                if marker is not None and marker.before_send is not None and not announced:
                    announced = True
                    await marker.before_send()
            except BaseException:
                self.pacer.unused(ticket)
                self._dispatch()
                raise
            try:
                result = await callback(*args, **kwargs)
            except RetryAfter as exc:
                self._refused(ticket, exc)
                if ticket.bulk and ticket.refusals > self.bulk_max_pauses:
                    raise
                continue
            except BaseException:
                self.pacer.answered(ticket, self._clock())
                self._dispatch()
                raise
            self.pacer.answered(ticket, self._clock())
            self._dispatch()
            return result

    # -- waiting for a turn ---------------------------------------------------------------------

    async def _turn(self, ticket: Ticket) -> None:
        """Wait until the pacer grants the ticket; a reply gives up after ``max_wait``."""
        ticket.waiter = asyncio.get_running_loop().create_future()
        self.pacer.enqueue(ticket)
        self._dispatch()
        if ticket.waiter.done():
            return
        deadline = None if ticket.bulk else ticket.since + self.max_wait - self._clock()
        try:
            async with asyncio.timeout(deadline):
                await asyncio.shield(ticket.waiter)
        except TimeoutError:
            self.pacer.withdraw(ticket)
            if ticket.waiter.done():
                # Granted at the very moment it gave up: the turn goes unused.
                self.pacer.unused(ticket)
            self.gave_up += 1
            log.warning(
                "gave up a message to chat %s after %.0f s of waiting for flood control",
                ticket.chat,
                self._clock() - ticket.since,
            )
            self._dispatch()
            raise TimedOut(f"flood control kept the message waiting {self.max_wait:g} s") from None
        except asyncio.CancelledError:
            self.pacer.withdraw(ticket)
            if ticket.waiter.done():
                self.pacer.unused(ticket)
            self._dispatch()
            raise

    def _refused(self, ticket: Ticket, exc: RetryAfter) -> None:
        self.http_429 += 1
        seconds = _seconds(exc.retry_after)
        overall = self.pacer.refused(ticket, self._clock(), seconds)
        if overall:
            log.warning("Telegram asked to slow down: sending paused for %g s", seconds)
        else:
            log.info("chat %s is over its limit: it waits %g s", ticket.chat, seconds)

    def _dispatch(self) -> None:
        """Grant every turn that is due, and set a timer for the next one."""
        now = self._clock()
        for ticket in self.pacer.grant(now):
            if ticket.waiter is not None and not ticket.waiter.done():
                ticket.waiter.set_result(None)
        moment = self.pacer.next_change(now)
        if moment >= self._timer_at - 1e-4:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer, self._timer_at = None, INFINITY
        if moment < INFINITY:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(max(0.0, moment - now), self._on_timer)
            self._timer_at = moment

    def _on_timer(self) -> None:
        self._timer, self._timer_at = None, INFINITY
        self._dispatch()


def _window(rate: float) -> Window:
    limit = max(1, math.floor(rate + 1e-9))
    return Window(limit, limit / rate)


def _seconds(retry_after: float | timedelta) -> float:
    return retry_after.total_seconds() if isinstance(retry_after, timedelta) else retry_after


def _chat_of(data: dict[str, Any]) -> int | None:
    chat_id = data.get("chat_id")
    if isinstance(chat_id, int):
        return chat_id
    if isinstance(chat_id, str) and chat_id.lstrip("-").isdigit():
        return int(chat_id)
    return None
