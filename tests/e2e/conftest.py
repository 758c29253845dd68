"""A real ``talentbot run`` process against the local Bot API server, over HTTP only."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import httpx
import pytest

from localapi import BotApiServer, FakeBotApi
from localapi.chat import ChatUser
from tests.support.harness import ADMIN_ID

TALENTBOT = Path(sys.executable).with_name("talentbot")
START_TIMEOUT = 30.0
T = TypeVar("T")


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
            # A webhook the bot left set keeps a delivery task; left to the garbage collector it
            # would close its HTTP client after the event loop is gone.
            await api.aclose()
            assert "Traceback" not in output, output


@pytest.fixture
async def live_bot(tmp_path) -> AsyncIterator[LiveBot]:
    async with running_bot(tmp_path) as live:
        yield live
    assert live.process.returncode == 0, live.output  # type: ignore[attr-defined]


@dataclass
class LiveSandbox:
    url: str
    port: int
    process: asyncio.subprocess.Process
    log: Path

    async def until(
        self,
        condition: Callable[[], Awaitable[T]],
        timeout: float = 10.0,  # noqa: ASYNC109  (like FakeBotApi.wait_for)
    ) -> T:
        """Ask ``condition`` until it answers something truthy, failing if the sandbox exits.

        The sandbox is another process, so there is no event to wait on: between two looks
        this waits for the process to end, which is the other thing that would settle it.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not (result := await condition()):
            assert self.process.returncode is None, "the sandbox exited: " + self.log.read_text()
            assert loop.time() < deadline, "timed out; the sandbox said: " + self.log.read_text()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.process.wait(), timeout=0.1)
        return result


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without any of the developer's talentbot settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TALENTBOT_", "TELEGRAM_"))}
    env.update(extra)
    return env


@contextlib.asynccontextmanager
async def running_sandbox(
    tmp_path: Path, db: Path, **extra_env: str
) -> AsyncIterator[LiveSandbox]:
    """``talentbot sandbox --db DB`` as a real process, yielded once its page answers."""
    port = free_port()
    log = tmp_path / f"sandbox-{port}.log"
    with log.open("wb") as output:  # a file, not a pipe nobody reads that could fill up
        process = await asyncio.create_subprocess_exec(
            str(TALENTBOT), "sandbox", "--port", str(port), "--db", str(db),
            cwd=tmp_path, env=clean_env(**extra_env), stdout=output, stderr=output,
        )  # fmt: skip
    live = LiveSandbox(url=f"http://127.0.0.1:{port}/", port=port, process=process, log=log)
    try:
        async with httpx.AsyncClient(base_url=live.url, trust_env=False, timeout=1) as http:

            async def answers() -> bool:
                try:
                    return (await http.get("/api/links")).status_code == 200
                except httpx.TransportError:
                    return False

            await live.until(answers, timeout=START_TIMEOUT)
        yield live
    finally:
        if process.returncode is None:
            process.terminate()
        await asyncio.wait_for(process.wait(), timeout=20)
        assert "Traceback" not in log.read_text(), log.read_text()
