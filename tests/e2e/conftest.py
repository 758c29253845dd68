"""A real ``talentbot run`` process against the local Bot API server, over HTTP only."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from localapi import BotApiServer, FakeBotApi
from localapi.chat import ChatUser
from tests.support.harness import ADMIN_ID

TALENTBOT = Path(sys.executable).with_name("talentbot")
START_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def no_wait(update: dict) -> None:
    """Over HTTP the update is already queued for the bot's getUpdates; tests wait on replies."""


@dataclass
class LiveBot:
    api: FakeBotApi
    process: asyncio.subprocess.Process
    db_path: Path

    def user(self, first_name: str, *, language: str | None = "en", **kw) -> ChatUser:
        return ChatUser(self.api, no_wait, first_name, language, **kw)


def bot_env(api: FakeBotApi, base_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TALENTBOT_", "TELEGRAM_"))}
    env.update(
        TELEGRAM_BOT_TOKEN=api.token,
        TELEGRAM_API_BASE_URL=base_url,
        TALENTBOT_DB=str(tmp_path / "live.sqlite3"),
        TALENTBOT_ADMIN_IDS=str(ADMIN_ID),
        **extra,
    )
    return env


@contextlib.asynccontextmanager
async def running_bot(
    tmp_path: Path,
    *,
    api: FakeBotApi | None = None,
    options: tuple[str, ...] = (),
    **extra_env: str,
) -> AsyncIterator[LiveBot]:
    """``talentbot [options] run`` against a local Bot API server (``api``, or a new one)."""
    api = api or FakeBotApi()
    async with BotApiServer(api) as server:
        process = await asyncio.create_subprocess_exec(
            str(TALENTBOT),
            *options,
            "run",
            env=bot_env(api, server.base_url, tmp_path, **extra_env),
            cwd=tmp_path,  # no .env of the developer's is read
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        live = LiveBot(api=api, process=process, db_path=tmp_path / "live.sqlite3")
        try:
            # The bot is serving once it has set its menus and asks for updates (or a webhook).
            await api.wait_for(
                lambda: any(c.method in ("getUpdates", "setWebhook") for c in api.calls),
                timeout=START_TIMEOUT,
            )
            yield live
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), timeout=20)
            except TimeoutError:
                process.kill()
                await process.wait()
            output = (await process.stdout.read()).decode(errors="replace")
            live.output = output  # type: ignore[attr-defined]
            assert "Traceback" not in output, output


@pytest.fixture
async def live_bot(tmp_path) -> AsyncIterator[LiveBot]:
    async with running_bot(tmp_path) as live:
        yield live
    assert live.process.returncode == 0, live.output  # type: ignore[attr-defined]
