"""Broadcast benchmark: a real ``talentbot run`` against the local Bot API server, which enforces
an overall rate R and 1 message a second per chat with real 429 answers.

    python -m benchmarks.broadcast [--recipients 3000] [--rate 300] [--writers 30] [--crash-at K]

An admin composes a broadcast to every talent through the bot, as a person would, and confirms
it. While it runs, some talents write to the bot and wait for its reply. With ``--crash-at K``
the bot process is killed (SIGKILL) once the server has accepted K broadcast messages, as the next
one arrives (with whatever else it had in flight), restarted on the same database, and left to
finish.

The last line printed is one JSON object: recipients, rate, seconds (confirm to last delivery),
ideal_seconds (recipients / rate), ratio, sent, lost, duplicates, http_429, reply_wait_p99_ms,
and for diagnosis: replies, unanswered, and refusals (the 429s by request and by the limit hit).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from bot.settings import Settings
from localapi import BotApiError, BotApiServer, FakeBotApi
from localapi.chat import ChatUser
from storage.database import Database
from storage.models import StationKind
from storage.stations import StationRepository
from storage.talents import TalentRepository

ADMIN_ID = 1
FIRST_TALENT = 100_000
TEXT = "Benchmark broadcast: free clinic on Saturday at the downtown hub."
HELP_PREFIX = "What you can do"
HUMAN_PAUSE = 1.2  # seconds a person takes to read a question and tap


class MeasuredApi(FakeBotApi):
    """The local Bot API, noting when each broadcast message and each reply arrived."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.delivered: list[tuple[float, int]] = []  # (arrival, chat) of broadcast messages
        self.http_429 = 0
        self.refusals: list[tuple[str, str]] = []
        self.waiting: dict[int, float] = {}  # chat -> when its /help was queued
        self.reply_waits: list[float] = []
        self.kill_after: int | None = None
        self.victim: int | None = None

    async def call(self, method: str, raw_params: Any, files: Any = None) -> Any:
        if (
            self.kill_after is not None
            and method == "sendMessage"
            and raw_params.get("text") == TEXT
            and len(self.delivered) >= self.kill_after
        ):
            # K deliveries have happened: the process dies as the next one is on its way, with
            # whatever else it had in flight.
            if self.victim is not None:
                os.kill(self.victim, signal.SIGKILL)
            self.kill_after = None
            raise BotApiError(500, "Internal Server Error")
        try:
            result = await super().call(method, raw_params, files)
        except BotApiError as exc:
            if exc.error_code == 429:
                self.http_429 += 1
                kind = "bulk" if raw_params.get("text") == TEXT else method
                per_chat = self._per_chat.get(int(raw_params.get("chat_id", 0)))
                chat_full = per_chat is not None and per_chat.retry_after(self.now()) > 0
                # Which limit refused it, to tell a busy chat from an over-budget bot.
                self.refusals.append((kind, "chat" if chat_full else "overall"))
            raise
        if method == "sendMessage":
            chat = int(raw_params.get("chat_id"))
            text = raw_params.get("text", "")
            now = time.monotonic()
            if text == TEXT:
                self.delivered.append((now, chat))
            elif HELP_PREFIX in text and chat in self.waiting:
                self.reply_waits.append(now - self.waiting.pop(chat))
        return result


async def seed(db_path: Path, recipients: int) -> list[int]:
    """Registered talents at one station; returns their Telegram ids."""
    now = datetime.now(UTC)
    today = now.date()
    async with Database(db_path) as db:
        station = await StationRepository(db).add(
            name_zh="市民中心站",
            name_en="Downtown hub",
            kind=StationKind.COMMUNITY,
            created_by=ADMIN_ID,
            now=now,
        )
        talents = TalentRepository(db)
        ids = [FIRST_TALENT + i for i in range(recipients)]
        for telegram_id in ids:
            await talents.register(
                telegram_id, language="en", name=f"Talent {telegram_id}", phone=None,
                expertise=("medicine",), title=None, region="Harbin", station_id=station.id,
                stay_from=date(today.year - 1, 1, 1), stay_to=date(today.year + 1, 1, 1),
                consent_at=now, now=now,
            )  # fmt: skip
    return ids


async def start_bot(
    api: FakeBotApi, server: BotApiServer, env: dict[str, str]
) -> asyncio.subprocess.Process:
    calls_before = sum(1 for c in api.calls if c.method == "getUpdates")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--log-level", "WARNING", "run", env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=None,
    )  # fmt: skip
    await api.wait_for(
        lambda: sum(1 for c in api.calls if c.method == "getUpdates") > calls_before, timeout=60
    )
    return process


async def run(recipients: int, rate: float, writers: int, crash_at: int | None) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="talentbot-bench-"))
    db_path = workdir / "bench.sqlite3"
    ids = await seed(db_path, recipients)
    api = MeasuredApi(overall_rate=rate, per_chat_rate=1.0)
    for telegram_id in [ADMIN_ID, *ids]:
        api.open_chat({"id": telegram_id, "first_name": "T", "language_code": "en"})
    async with BotApiServer(api) as server:
        settings_env = {
            "TELEGRAM_BOT_TOKEN": api.token,
            "TELEGRAM_API_BASE_URL": server.base_url,
            "TALENTBOT_DB": str(db_path),
            "TALENTBOT_ADMIN_IDS": str(ADMIN_ID),
            "TALENTBOT_SEND_RATE": str(rate),
            "TALENTBOT_WEBHOOK_URL": "",
        }
        Settings(_env_file=None, **settings_env)  # fail early on a bad value
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("TALENTBOT_", "TELEGRAM_"))
        }
        env.update(settings_env)
        process = await start_bot(api, server, env)
        try:
            admin = ChatUser(api, _queued, "Admin", "en", id=ADMIN_ID)
            steps = [
                ("send", "/broadcast", "Send the message"),
                ("send", TEXT, "Which station"),
                ("tap", "All stations", "field of expertise"),
                ("tap", "Any field", "in the city now"),
                ("tap", "Everyone", f"Reaches: {recipients:,} talents"),
            ]
            for action, value, answer in steps:
                await (admin.send(value) if action == "send" else admin.tap(value))
                await admin.expect(answer)
                # A person reads the question before answering; Telegram's one message a second
                # per chat assumes no less.
                await asyncio.sleep(HUMAN_PAUSE)
            if crash_at is not None:
                api.kill_after, api.victim = crash_at, process.pid
            started = time.monotonic()
            await admin.tap("📣 Send")
            ideal = recipients / rate
            writer_task = asyncio.create_task(write_during(api, ids, writers, ideal))
            deadline = started + ideal * 5 + 60
            restarted = False
            while len({chat for _, chat in api.delivered}) < recipients:
                if process.returncode is not None:
                    if crash_at is None or restarted:
                        raise RuntimeError(f"the bot exited ({process.returncode}) mid-broadcast")
                    process = await start_bot(api, server, env)
                    restarted = True
                if time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.02)
            await writer_task
            # A talent who wrote while the bot was down may go unanswered: PTB confirms an update
            # to Telegram when it fetches the next ones, not when it has handled it.
            with contextlib.suppress(TimeoutError):
                await api.wait_for(lambda: not api.waiting, timeout=10)
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
                await asyncio.wait_for(process.wait(), timeout=30)
    per_chat = Counter(chat for _, chat in api.delivered)
    sent = len(per_chat)
    seconds = (max(t for t, _ in api.delivered) - started) if api.delivered else float("inf")
    waits = sorted(api.reply_waits)
    p99 = waits[min(len(waits) - 1, int(len(waits) * 0.99))] * 1000 if waits else None
    return {
        "recipients": recipients,
        "rate": rate,
        "seconds": round(seconds, 3),
        "ideal_seconds": round(ideal, 3),
        "ratio": round(seconds / ideal, 4),
        "sent": sent,
        "lost": recipients - sent,
        "duplicates": sum(count - 1 for count in per_chat.values()),
        "http_429": api.http_429,
        "reply_wait_p99_ms": round(p99, 1) if p99 is not None else None,
        "replies": len(waits),
        "unanswered": len(api.waiting),
        "refusals": dict(Counter(f"{k}/{w}" for k, w in api.refusals)),
    }


async def _queued(update: dict) -> None:
    """Updates wait on the server for the bot's getUpdates."""


async def write_during(api: MeasuredApi, ids: list[int], writers: int, ideal: float) -> None:
    """Talents write /help at random moments while the broadcast runs."""
    rng = random.Random(7)
    moments = sorted(rng.uniform(0.3, ideal * 0.9) for _ in range(writers))
    chosen = rng.sample(ids, writers)
    start = time.monotonic()
    for moment, chat in zip(moments, chosen, strict=True):
        await asyncio.sleep(max(0.0, start + moment - time.monotonic()))
        api.waiting[chat] = time.monotonic()
        api.user_message({"id": chat, "first_name": "T", "language_code": "en"}, text="/help")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=3000)
    parser.add_argument("--rate", type=float, default=300.0)
    parser.add_argument("--writers", type=int, default=30)
    parser.add_argument("--crash-at", type=int, default=None)
    args = parser.parse_args()
    result = asyncio.run(run(args.recipients, args.rate, args.writers, args.crash_at))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
