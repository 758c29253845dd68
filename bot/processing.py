"""Updates of different users at once, each user's updates in order, nobody stalling the rest.

PTB's default handles one update at a time: with a 50 ms round trip to Telegram, a rush of
people scanning the check-in code at the door waits in one line. Fully concurrent processing
would let one user's second message overtake their first, which breaks a dialog; so updates are
concurrent across users and sequential within a user (or a chat, for updates without a user).

A user's turn is taken before a processing slot: PTB's own base class takes its slot first, so
600 updates queued by one person would hold every slot while waiting for their turn, and
everyone else would wait behind them. And one person's backlog is capped: what comes beyond it
is dropped, and they are told once to slow down.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

log = logging.getLogger(__name__)

# More updates than this waiting from one person is not someone typing ahead of the bot.
MAX_BACKLOG = 10
# PTB's own semaphore is taken before ``do_process_update``: sized so it never binds, the real
# limit being taken after the user's turn.
_NEVER_BINDS = 1 << 30

Overflow = Callable[[Update], Awaitable[None]]


class PerUserUpdateProcessor(BaseUpdateProcessor):
    """Concurrent across users, in order within each user, a user's backlog capped."""

    def __init__(
        self,
        max_concurrent_updates: int = 256,
        *,
        max_backlog: int = MAX_BACKLOG,
        on_overflow: Overflow | None = None,
    ) -> None:
        if max_concurrent_updates < 1 or max_backlog < 1:
            raise ValueError("max_concurrent_updates and max_backlog must be positive")
        super().__init__(_NEVER_BINDS)
        self.slots = max_concurrent_updates
        self.max_backlog = max_backlog
        self.on_overflow = on_overflow
        self.dropped = 0
        self._slots = asyncio.Semaphore(max_concurrent_updates)
        self._turns: dict[int, asyncio.Lock] = {}
        self._backlog: dict[int, int] = {}  # how many updates of each user are queued or running
        self._told: set[int] = set()  # users told to slow down in this backlog
        self._notes: set[asyncio.Task[None]] = set()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Wait for the user's previous updates, then for a slot, then handle this one."""
        key = _key(update)
        if key is None:
            async with self._slots:
                await coroutine
            return
        if self._backlog.get(key, 0) >= self.max_backlog:
            self._drop(key, update, coroutine)
            return
        turn = self._turns.setdefault(key, asyncio.Lock())
        self._backlog[key] = self._backlog.get(key, 0) + 1
        try:
            async with turn, self._slots:
                await coroutine
        finally:
            self._backlog[key] -= 1
            if not self._backlog[key]:
                # Forget idle users, or the maps grow with everyone who ever wrote.
                del self._backlog[key]
                del self._turns[key]
                self._told.discard(key)

    def _drop(self, key: int, update: object, coroutine: Awaitable[Any]) -> None:
        self.dropped += 1
        if inspect.iscoroutine(coroutine):
            coroutine.close()  # never awaited, on purpose
        if key in self._told:
            return
        self._told.add(key)
        log.warning("user %s has %d updates waiting; dropping more", key, self.max_backlog)
        if self.on_overflow is not None and isinstance(update, Update):
            note = asyncio.create_task(self._tell(update, self.on_overflow))
            self._notes.add(note)
            note.add_done_callback(self._notes.discard)

    @staticmethod
    async def _tell(update: Update, on_overflow: Overflow) -> None:
        try:
            await on_overflow(update)
        except Exception:
            log.exception("could not ask user to slow down")

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Let the slow-down notes that are on their way finish."""
        if self._notes:
            await asyncio.wait(set(self._notes), timeout=5)


def _key(update: object) -> int | None:
    if not isinstance(update, Update):
        return None
    if update.effective_user is not None:
        return update.effective_user.id
    return update.effective_chat.id if update.effective_chat is not None else None
