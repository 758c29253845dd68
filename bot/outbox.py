"""The outbox: sends stored broadcasts and reminders through the bulk lane, crash-safely.

Every message has a row. The row is marked "sending" once the bulk lane has granted the request
its slot, right before the request, and settled right after it; so after a crash only a message
that was in flight can go twice, and nothing is skipped. A 429 pauses the bulk lane (the rate
limiter does that); a blocked bot marks the talent unreachable; other errors are retried with
backoff, a few times, then given up as failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message, MessageEntity
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from bot.i18n import Html, fmt_datetime, fmt_number
from bot.ratelimit import BulkSend
from bot.services import Services
from storage.models import Broadcast, Delivery, Progress, Reminder
from storage.outbox import MessageRows, load_params

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 4  # the first try and three retries
BACKOFF = (timedelta(seconds=10), timedelta(seconds=60), timedelta(minutes=5))
PROGRESS_EVERY = 3.0  # seconds between edits of a progress message
CANCEL_PREFIX = "bc:cancel:"


class Outcome(StrEnum):
    SENT = "sent"
    UNREACHABLE = "unreachable"
    RETRY = "retry"
    FAILED = "failed"
    SKIPPED = "skipped"  # the row was no longer pending when its slot came (cancelled)


class _Skip(Exception):
    """Raised from ``before_send`` when the row is no longer pending: do not send it."""


@dataclass(frozen=True, slots=True)
class Content:
    """A message to send: HTML text, or text with explicit entities, or a photo."""

    text: str | None = None
    entities: tuple[MessageEntity, ...] | None = None
    photo: str | None = None
    markup: InlineKeyboardMarkup | None = None


def content_of(broadcast: Broadcast) -> Content:
    """What a broadcast sends: a coordinator's text with its formatting kept as entities (a list,
    maybe empty), or a text of ours in HTML (no entities)."""
    entities = None
    if broadcast.entities is not None:
        entities = tuple(MessageEntity.de_list(json.loads(broadcast.entities)))
    markup = None
    if broadcast.buttons:
        markup = InlineKeyboardMarkup.de_json({"inline_keyboard": json.loads(broadcast.buttons)})
    return Content(
        text=broadcast.text, entities=entities, photo=broadcast.photo_file_id, markup=markup
    )


class Messenger:
    """Sends one bulk message and says how it went; the one place that classifies errors."""

    def __init__(self, bot: Bot, services: Services) -> None:
        self.bot = bot
        self.services = services

    async def send(
        self, chat_id: int, content: Content, rows: MessageRows, row_id: int
    ) -> tuple[Outcome, str | None, int | None]:
        """Send through the bulk lane, marking the row "sending" right before the request."""

        async def claim() -> None:
            if not await rows.mark_sending(row_id, now=self.services.clock.now()):
                raise _Skip

        marker = BulkSend(before_send=claim)
        # Entities given explicitly: no parse mode, or Telegram would parse the text again.
        extra: dict[str, Any] = {} if content.entities is None else {"parse_mode": None}
        if self.services.settings.paid_broadcast:
            # Telegram's 1,000 a second instead of 30, for a fee the operator chose to pay.
            extra["allow_paid_broadcast"] = True
        try:
            message: Message
            if content.photo:
                message = await self.bot.send_photo(
                    chat_id,
                    content.photo,
                    caption=content.text,
                    caption_entities=content.entities or None,
                    reply_markup=content.markup,
                    rate_limit_args=marker,
                    **extra,
                )
            else:
                message = await self.bot.send_message(
                    chat_id,
                    content.text or "",
                    entities=content.entities or None,
                    reply_markup=content.markup,
                    rate_limit_args=marker,
                    **extra,
                )
        except _Skip:
            return Outcome.SKIPPED, None, None
        except Forbidden as exc:
            return Outcome.UNREACHABLE, str(exc), None
        except BadRequest as exc:
            # A chat that never existed cannot be written to, now or later; anything else in a
            # bad request will not get better by sending it again.
            if "chat not found" in str(exc).lower():
                return Outcome.UNREACHABLE, str(exc), None
            return Outcome.FAILED, str(exc), None
        except RetryAfter as exc:
            return Outcome.RETRY, str(exc), None
        except TelegramError as exc:
            return Outcome.RETRY, str(exc), None
        return Outcome.SENT, None, message.message_id

    async def deliver(
        self, rows: MessageRows, row_id: int, chat_id: int, content: Content, *, attempts: int
    ) -> Outcome:
        """Send one row's message and record how it went."""
        outcome, error, message_id = await self.send(chat_id, content, rows, row_id)
        await self.settle(
            rows, row_id, outcome, error, message_id, attempts=attempts, chat_id=chat_id
        )
        return outcome

    async def settle(
        self,
        rows: MessageRows,
        row_id: int,
        outcome: Outcome,
        error: str | None,
        message_id: int | None,
        *,
        attempts: int,
        chat_id: int,
    ) -> None:
        """Record the outcome on the row (and on the talent, when the bot is blocked)."""
        now = self.services.clock.now()
        if outcome == Outcome.SKIPPED:
            return
        if outcome == Outcome.SENT:
            await rows.settle(row_id, "sent", now=now, message_id=message_id)
        elif outcome == Outcome.UNREACHABLE:
            await rows.settle(row_id, "unreachable", now=now, error=error)
            await self.services.people.mark_reachable(chat_id, False)
        elif outcome == Outcome.RETRY and attempts < MAX_ATTEMPTS:
            delay = BACKOFF[min(attempts, len(BACKOFF)) - 1]
            await rows.settle(row_id, "pending", now=now, error=error, retry_at=now + delay)
        else:
            await rows.settle(row_id, "failed", now=now, error=error)


class Outbox:
    """The background sender of broadcasts, and the sender of due reminders."""

    def __init__(self, bot: Bot, services: Services, *, concurrency: int = 64) -> None:
        self.bot = bot
        self.services = services
        self.messenger = Messenger(bot, services)
        self.concurrency = concurrency
        self._wake = asyncio.Event()
        self._inflight: dict[int, asyncio.Task[None]] = {}
        self._contents: dict[int, Content] = {}
        self._last_progress: dict[int, float] = {}
        self._reported_at = 0.0
        self._reporting: asyncio.Task[None] | None = None
        self._task: asyncio.Task[None] | None = None
        self._schedule_lock = asyncio.Lock()
        self._reminding: asyncio.Task[None] | None = None
        self._remind_again = False
        services.broadcasts.on_queued = self.wake
        services.reminders.on_queued = self.remind_soon

    # -- life cycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Put what was in flight at a crash back in the queue and start sending."""
        now = self.services.clock.now()
        again = await self.services.broadcast_rows.recover_in_flight(now=now)
        again += await self.services.reminder_rows.recover_in_flight(now=now)
        if again:
            log.warning(
                "%d messages were in flight when the bot stopped; sending them again", again
            )
        self._task = asyncio.create_task(self._run(), name="outbox")

    async def stop(self) -> None:
        """Stop taking new work and let the requests in flight finish."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._reminding is not None:
            await asyncio.wait([self._reminding], timeout=10)
            self._reminding = None
        if self._inflight:
            await asyncio.wait(list(self._inflight.values()), timeout=10)
        if self._reporting is not None:
            await asyncio.wait([self._reporting], timeout=10)

    def wake(self) -> None:
        """Something was queued: look at the queue now."""
        self._wake.set()

    def remind_soon(self) -> None:
        """A notice was stored due now: send what is due at once, not at the next periodic look.

        Only while the outbox runs (a stopped one leaves sending to whoever drives it). Rows
        are claimed one by one before they go, so this and the periodic job never send one
        twice; a notice stored while a pass runs gets one more pass.
        """
        if self._task is None:
            return
        if self._reminding is not None and not self._reminding.done():
            self._remind_again = True
            return
        self._reminding = asyncio.create_task(self._remind_passes(), name="notices")

    async def _remind_passes(self) -> None:
        again = True
        while again:
            self._remind_again = False
            try:
                await self.send_due_reminders()
            except Exception:
                log.exception("sending due notices failed; the periodic job will try again")
            again = self._remind_again

    async def _run(self) -> None:
        while True:
            try:
                await self._schedule()
                if self._inflight:
                    await asyncio.wait(
                        list(self._inflight.values()),
                        timeout=PROGRESS_EVERY,
                        return_when=asyncio.FIRST_COMPLETED,
                    )
                else:
                    await self._report_all()
                    self._wake.clear()
                    idle = await self._idle_wait()
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(idle):
                            await self._wake.wait()
                # Progress is shown every few seconds; looking more often would cost a query
                # per message sent. When nothing is in flight a broadcast may have just ended.
                moment = time.monotonic()
                if not self._inflight:
                    await self._report_all()
                elif moment - self._reported_at >= PROGRESS_EVERY and self._reporting is None:
                    # On the side: an edit waits for its turn behind the queued messages, and
                    # the queue must be refilled meanwhile.
                    self._reported_at = moment
                    self._reporting = asyncio.create_task(self._report_all(), name="progress")
                    self._reporting.add_done_callback(self._reported)
            except asyncio.CancelledError:
                raise
            except Exception:
                # The sender must outlive a bad moment (a locked database, a network hiccup).
                log.exception("outbox loop failed; retrying shortly")
                await asyncio.sleep(1)

    async def _idle_wait(self) -> float:
        retry_at = await self.services.broadcast_rows.next_retry_at()
        if retry_at is None:
            return 5.0
        return max(0.05, min(5.0, (retry_at - self.services.clock.now()).total_seconds()))

    # -- broadcasts ---------------------------------------------------------------------------

    async def _schedule(self) -> int:
        """Start sends for queued deliveries, keeping a bounded number waiting for slots."""
        async with self._schedule_lock:
            room = self.concurrency - len(self._inflight)
            if room <= self.concurrency // 2:
                return 0
            rows = await self.services.broadcast_rows.queue(
                now=self.services.clock.now(), limit=room + len(self._inflight)
            )
            started = 0
            for delivery in rows:
                if delivery.id in self._inflight or started >= room:
                    continue
                content = await self._content(delivery.broadcast_id)
                task = asyncio.create_task(self._deliver(delivery, content))
                self._inflight[delivery.id] = task
                task.add_done_callback(lambda _, key=delivery.id: self._inflight.pop(key, None))
                started += 1
            return started

    async def _content(self, broadcast_id: int) -> Content:
        if broadcast_id not in self._contents:
            broadcast = await self.services.broadcast_rows.get(broadcast_id)
            assert broadcast is not None
            self._contents[broadcast_id] = content_of(broadcast)
        return self._contents[broadcast_id]

    async def _deliver(self, delivery: Delivery, content: Content) -> None:
        rows = self.services.broadcast_rows
        try:
            await self.messenger.deliver(
                rows, delivery.id, delivery.chat_id, content, attempts=delivery.attempts + 1
            )
        except Exception:
            log.exception("delivery %s failed unexpectedly", delivery.id)

    async def drain(self, *, timeout: float = 30.0) -> None:  # noqa: ASYNC109
        """Send everything that is due now and wait for it; for tests and shutdown."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            await self._schedule()
            if not self._inflight:
                break
            if loop.time() > deadline:
                raise TimeoutError("the outbox did not drain in time")
            await asyncio.wait(list(self._inflight.values()), timeout=deadline - loop.time())
        await self._report_all(force=True)

    def _reported(self, task: asyncio.Task[None]) -> None:
        self._reporting = None
        if not task.cancelled() and task.exception() is not None:
            log.error("could not show broadcast progress", exc_info=task.exception())

    async def _report_all(self, *, force: bool = False) -> None:
        for broadcast in await self.services.broadcast_rows.running():
            await self.report(broadcast, force=force)

    async def report(self, broadcast: Broadcast, *, force: bool = False) -> None:
        """Edit the progress message, at most every few seconds, and finish when done."""
        rows = self.services.broadcast_rows
        progress = await rows.progress(broadcast.id)
        finished = progress.done and await rows.finish(broadcast.id, now=self.services.clock.now())
        last = self._last_progress.get(broadcast.id, 0.0)
        if not finished and not force and time.monotonic() - last < PROGRESS_EVERY:
            return
        self._last_progress[broadcast.id] = time.monotonic()
        if finished:
            self._contents.pop(broadcast.id, None)
            self._last_progress.pop(broadcast.id, None)
            # Its progress message may have been put up since ``broadcast`` was read.
            broadcast = await rows.get(broadcast.id) or broadcast
        await self.show_progress(broadcast, progress, finished=finished)

    async def show_progress(
        self, broadcast: Broadcast, progress: Progress, *, finished: bool, cancelled: bool = False
    ) -> None:
        """Put the counts on the author's progress message."""
        if broadcast.progress_chat_id is None or broadcast.progress_message_id is None:
            return
        text, markup = await progress_view(
            self.services, broadcast, progress, finished=finished, cancelled=cancelled
        )
        try:
            await self.bot.edit_message_text(
                text,
                chat_id=broadcast.progress_chat_id,
                message_id=broadcast.progress_message_id,
                reply_markup=markup,
                # Not an answer to anything the author just did: it keeps to the chat's
                # one a second like bulk, instead of bursting after a reply.
                rate_limit_args=BulkSend(),
            )
        except BadRequest as exc:
            if "not modified" not in str(exc).lower():
                log.info("could not update broadcast progress: %s", exc)
        except Forbidden:
            log.info("the author of broadcast %s blocked the bot", broadcast.id)

    # -- reminders -----------------------------------------------------------------------------

    async def send_due_reminders(self, *, limit: int = 500) -> int:
        """Send the reminders that are due and still useful; drop the ones that are too late."""
        rows = self.services.reminder_rows
        now = self.services.clock.now()
        dropped = await rows.drop_expired(now=now)
        if dropped:
            log.info("dropped %d reminders whose moment had passed", dropped)
        due = await rows.due(now=now, limit=limit)
        semaphore = asyncio.Semaphore(self.concurrency)

        async def one(reminder: Reminder) -> None:
            async with semaphore:
                await self._remind(reminder)

        await asyncio.gather(*(one(reminder) for reminder in due))
        return len(due)

    async def _remind(self, reminder: Reminder) -> None:
        rows = self.services.reminder_rows
        now = self.services.clock.now()
        # Each row belongs to a /settings topic: reminders, or changes to points and hours.
        if not await rows.wants_reminders(reminder.talent_id, reminder.topic):
            await rows.settle(reminder.id, "dropped", now=now, error="opted out or unreachable")
            return
        locale = self.services.translator.resolve(reminder.language, None)
        text = render(self.services, locale, reminder.text_key, load_params(reminder.params))
        await self.messenger.deliver(
            rows,
            reminder.id,
            reminder.telegram_id,
            Content(text=text),
            attempts=reminder.attempts + 1,
        )


def render(services: Services, locale: str, key: str, params: dict[str, Any]) -> str:
    """A catalog text with stored parameters, in the talent's language at the time it is sent:
    times in the programme's zone, numbers with the locale's signs, and a name stored in every
    language (``{"zh": …, "en": …}``, a reward's) in theirs."""
    shown: dict[str, Any] = {}
    for name, value in params.items():
        if isinstance(value, datetime):
            shown[name] = fmt_datetime(value, locale, services.settings.tz)
        elif isinstance(value, dict):
            shown[name] = value.get(locale) or next(iter(value.values()), "")
        elif isinstance(value, int | float) and not isinstance(value, bool):
            shown[name] = fmt_number(value, locale)
        else:
            shown[name] = value
    return services.translator(locale, key, **shown)


async def progress_view(
    services: Services,
    broadcast: Broadcast,
    progress: Progress,
    *,
    finished: bool,
    cancelled: bool = False,
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The progress message's text and its Cancel button, in the author's language."""
    t = services.translator
    locale = broadcast.author_locale
    numbers = {
        "sent": fmt_number(progress.sent, locale),
        "total": fmt_number(progress.total, locale),
        "unreachable": fmt_number(progress.unreachable, locale),
        "failed": fmt_number(progress.failed, locale),
    }
    if cancelled or broadcast.status == "cancelled":
        return t(locale, "broadcast.cancelled_summary", **numbers), None
    if finished or broadcast.status == "finished":
        return t(locale, "broadcast.finished", **numbers), None
    button = InlineKeyboardButton(
        t(locale, "broadcast.cancel_button"), callback_data=f"{CANCEL_PREFIX}{broadcast.id}"
    )
    return Html(t(locale, "broadcast.progress", **numbers)), InlineKeyboardMarkup([[button]])
