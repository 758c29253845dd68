"""Two lanes to Telegram: replies first, bulk at the rate Telegram allows.

PTB's AIORateLimiter puts every request in one line, so a reply to a talent who writes during a
3,000-recipient broadcast waits behind it. Here:

- the interactive lane (anything not marked bulk: replies, edits of a dialog) goes at once; its
  requests are counted against the overall budget but never held by it;
- the bulk lane (marked with ``BulkSend`` through ``rate_limit_args``) waits for a slot: the
  overall budget minus what the interactive lane used in the last second, never more than one
  message a second to one chat, and not at all while Telegram has asked us to pause (429).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
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
# Bulk runs a little under the budget: requests reach Telegram with uneven delays, and a window
# that counts one too many costs a whole second of pause.
BULK_SHARE = 0.985
# Our clock starts a chat's second when we send; Telegram's when the request arrives, which can be
# a little later. Spacing by slightly more than a second keeps the two from disagreeing.
CHAT_MARGIN = 0.05


@dataclass(frozen=True, slots=True)
class BulkSend:
    """Marks a request as bulk. ``before_send`` runs once a slot is granted, right before the
    request (the outbox marks its row "sending" there, so a crash while waiting costs nothing).
    """

    before_send: Callable[[], Awaitable[None]] | None = None


def _seconds(retry_after: float | timedelta) -> float:
    return retry_after.total_seconds() if isinstance(retry_after, timedelta) else retry_after


class TwoLaneRateLimiter(BaseRateLimiter[BulkSend]):
    """PTB rate limiter with an interactive lane and a paced bulk lane."""

    def __init__(
        self,
        *,
        rate: float = 30.0,
        per_chat_interval: float = 1.0,
        max_retries: int = 3,
        bulk_max_pauses: int = 10,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.per_chat_interval = per_chat_interval + CHAT_MARGIN
        self.max_retries = max_retries
        self.bulk_max_pauses = bulk_max_pauses
        self._clock = clock
        self._sleep = sleep
        self._window_limit = max(1, int(rate * BULK_SHARE))
        self._interval = 1.0 / (rate * BULK_SHARE)
        self._recent: deque[float] = deque()  # counted requests of both lanes, last second
        self._last_in_chat: dict[int, float] = {}
        self._last_bulk_in_chat: dict[int, float] = {}
        self._next_bulk = 0.0
        self._paused_until = 0.0
        self._bulk_lock = asyncio.Lock()
        self.http_429 = 0
        self._records = 0

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: BulkSend | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        """Send now (interactive) or when a bulk slot is free, honouring Telegram's 429s."""
        chat_id = data.get("chat_id")
        chat = chat_id if isinstance(chat_id, int) else None
        counted = endpoint in COUNTED
        if isinstance(rate_limit_args, BulkSend):
            return await self._bulk(callback, args, kwargs, chat, counted, rate_limit_args)
        return await self._interactive(callback, args, kwargs, chat, counted)

    # -- lanes ------------------------------------------------------------------------------

    async def _interactive(
        self, callback: Any, args: Any, kwargs: dict[str, Any], chat: int | None, counted: bool
    ) -> Any:
        for attempt in range(self.max_retries + 1):
            if counted and chat is not None:
                # A reply right after a bulk message to the same chat would break Telegram's
                # one-a-second rule and earn a 429 of a whole second or more: waiting out the
                # rest of that second is shorter. Replies after replies (a question and its
                # note) are a burst Telegram allows in a private chat, and go at once.
                wait = self._last_bulk_in_chat.get(chat, -1e9) + self.per_chat_interval
                wait -= self._clock()
                if wait > 0:
                    await self._sleep(wait)
            previous = self._last_in_chat.get(chat, -1e9) if chat is not None else -1e9
            if counted:
                self._record(chat)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                # A refusal right after another message to the same chat is that chat's limit,
                # not the bot's: only this reply waits, the bulk lane goes on.
                if self._clock() - previous > self.per_chat_interval:
                    self._pause(exc)
                else:
                    self.http_429 += 1
                if attempt == self.max_retries:
                    raise
                await self._sleep(_seconds(exc.retry_after))
        raise AssertionError("unreachable")

    async def _bulk(
        self,
        callback: Any,
        args: Any,
        kwargs: dict[str, Any],
        chat: int | None,
        counted: bool,
        marker: BulkSend,
    ) -> Any:
        announced = False
        for attempt in range(self.bulk_max_pauses + 1):
            await self._bulk_slot(chat, counted)
            if not announced and marker.before_send is not None:
                await marker.before_send()
                announced = True
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                self._pause(exc)
                if attempt == self.bulk_max_pauses:
                    raise
        raise AssertionError("unreachable")

    # -- bookkeeping ----------------------------------------------------------------------------

    def _record(self, chat: int | None) -> None:
        now = self._clock()
        # Replies alone must not grow the window without end: it only needs the last second.
        while self._recent and self._recent[0] <= now - 1.0:
            self._recent.popleft()
        self._recent.append(now)
        if chat is not None:
            self._last_in_chat[chat] = now
        self._records += 1
        if self._records % 4096 == 0:
            self.forget_chats()

    def _pause(self, exc: RetryAfter) -> None:
        self.http_429 += 1
        until = self._clock() + _seconds(exc.retry_after)
        self._paused_until = max(self._paused_until, until)
        log.warning("Telegram asked to slow down: bulk paused for %ss", exc.retry_after)

    async def _bulk_slot(self, chat: int | None, counted: bool) -> None:
        """Wait for the bulk lane's next slot, in order of arrival."""
        if not counted:
            return
        while True:
            async with self._bulk_lock:
                now = self._clock()
                while self._recent and self._recent[0] <= now - 1.0:
                    self._recent.popleft()
                chat_free = (
                    self._last_in_chat.get(chat, -1e9) + self.per_chat_interval
                    if chat is not None
                    else now
                )
                ready = max(
                    self._paused_until,
                    self._next_bulk,
                    self._recent[0] + 1.0 if len(self._recent) >= self._window_limit else now,
                )
                if ready <= now and chat_free <= now:
                    # A small credit lets a late wake-up catch up without bursting.
                    self._next_bulk = max(self._next_bulk + self._interval, now - self._interval)
                    self._record(chat)
                    if chat is not None:
                        self._last_bulk_in_chat[chat] = now
                    return
                if ready <= now:
                    # Only this chat is busy: wait outside the lock so others may go meanwhile.
                    delay = chat_free - now
                else:
                    await self._sleep(ready - now)
                    continue
            await self._sleep(delay)

    def forget_chats(self, older_than: float = 5.0) -> None:
        """Drop per-chat times nobody needs any more, so the map stays small."""
        cutoff = self._clock() - older_than
        for times in (self._last_in_chat, self._last_bulk_in_chat):
            for chat, moment in list(times.items()):
                if moment < cutoff:
                    with contextlib.suppress(KeyError):
                        del times[chat]
