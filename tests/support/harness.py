"""The real Application, offline: a local Bot API in memory, a real SQLite file, a frozen clock."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from telegram import Update
from telegram.ext import Application

from bot.app import build_application
from bot.clock import FrozenClock
from bot.outbox import Outbox
from bot.services import Services
from bot.settings import Settings
from localapi import FakeBotApi, OfflineRequest
from localapi.chat import ChatUser

START = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)  # 10:00 in Asia/Shanghai
ADMIN_ID = 900_001


def test_settings(db_path: Path, token: str, **overrides: object) -> Settings:
    """Settings for a test: nothing read from the environment or a .env file."""
    values: dict[str, object] = {
        "TELEGRAM_BOT_TOKEN": token,
        "TALENTBOT_DB": db_path,
        "TALENTBOT_ADMIN_IDS": str(ADMIN_ID),
        "TALENTBOT_TIMEZONE": "Asia/Shanghai",
        "TALENTBOT_DEFAULT_LOCALE": "zh",
        "TALENTBOT_WEBHOOK_URL": "",
        "TALENTBOT_BACKUP_DIR": db_path.parent / "backups",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


test_settings.__test__ = False  # a helper, not a test


@dataclass
class BotHarness:
    api: FakeBotApi
    app: Application
    clock: FrozenClock
    errors: list[BaseException] = field(default_factory=list)

    @property
    def services(self) -> Services:
        return self.app.bot_data["services"]

    @property
    def outbox(self) -> Outbox:
        return self.app.bot_data["outbox"]

    async def deliver(self, update: dict) -> None:
        """Hand one update to the Application and wait until it is handled."""
        await self.app.process_update(Update.de_json(update, self.app.bot))

    def user(self, first_name: str = "Alice", *, language: str | None = "en", **kw) -> ChatUser:
        """A new user in a private chat with the bot."""
        return ChatUser(self.api, self.deliver, first_name, language, **kw)

    def admin(self, *, language: str | None = "en") -> ChatUser:
        """The admin named in the settings."""
        return ChatUser(self.api, self.deliver, "Admin", language, id=ADMIN_ID)


async def start_harness(
    tmp_path: Path, *, api: FakeBotApi | None = None, **overrides: object
) -> BotHarness:
    """Build and initialise the application the way ``talentbot run`` does, but offline."""
    api = api or FakeBotApi()
    clock = FrozenClock(START)
    settings = test_settings(tmp_path / "bot.sqlite3", api.token, **overrides)
    app = build_application(settings, request=OfflineRequest(api), clock=clock)
    # The one-a-second spacing per chat is real time, which a frozen clock cannot move; the
    # rate limiter's own tests cover it, and here it would only make every test slow.
    app.bot.rate_limiter.per_chat_interval = 0.0
    harness = BotHarness(api=api, app=app, clock=clock)

    async def record(update: object, context: object) -> None:
        harness.errors.append(context.error)  # type: ignore[attr-defined]

    app.add_error_handler(record)
    await app.initialize()
    # `initialize` does not run post_init; run_polling would. It opens and migrates the database.
    await app.post_init(app)
    # Tests send the outbox's queue themselves (``harness.outbox.drain()``), so that what goes
    # out when is decided by the test, not by a background task racing it.
    await harness.outbox.stop()
    return harness


async def stop_harness(harness: BotHarness) -> None:
    """Shut the application down and close the database."""
    await harness.app.shutdown()
    await harness.app.post_shutdown(harness.app)


async def eventually(
    check: Callable[[], Awaitable[bool]],
    *,
    timeout: float = 5.0,  # noqa: ASYNC109 - "at most this long" reads best as an argument
) -> None:
    """Wait until ``check()`` holds, for things done by a background task such as a job."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await check():
        if loop.time() > deadline:
            raise TimeoutError(f"{getattr(check, '__qualname__', check)} still false")
        await asyncio.sleep(0.01)
