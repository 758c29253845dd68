"""Broadcast benchmark: a real ``talentbot run`` against the local Bot API server under Telegram's
flood control (30 messages a second overall, one a second per chat, whole-second 429s) and a
network that takes 20-80 ms a call.

    python -m benchmarks.broadcast [--recipients 3000] [--rate 30] [--writers 300] [--paid]
                                   [--crash-at K]

An admin composes a broadcast to every talent through the bot, as a person would, and confirms
it. Before it, some talents write /help with nothing else going on (the baseline); while it runs,
``writers`` talents write /help and wait for the reply. With ``--crash-at K`` the bot process is
killed (SIGKILL) as the server takes the (K+1)-th broadcast message, which never arrives,
restarted on the same database and left to finish. ``--paid`` sets TALENTBOT_PAID_BROADCAST, so
the broadcast may use Telegram's paid 1,000 a second. ``--rate R`` scales time for a quick run:
R a second overall and jitter shrunk by R/30 (one message a second per chat stays as it is).
After the broadcast, a bare PTB bot with the same rate limiter sends to some of the same chats
(no database, no outbox): its CPU per message is "the sending itself".

The last line printed is one JSON object: recipients, rate, seconds (confirm to last delivery),
ideal_seconds (recipients / the rate the broadcast may use), ratio, sent, lost, duplicates,
budget_ratio (seconds against every message the budget carried meanwhile, replies included, at
the rate: how close to the physical limit), messages_in_budget,
http_429, reply_wait_p99_ms, replies, unanswered, refusals (the 429s by request and by the limit
hit); and reply_wait_p50_ms, idle_reply_wait_p50_ms / _p99_ms (the baseline), paid, scale,
jitter_ms, cpu_seconds (the bot process, confirm to last delivery), cpu_percent (of one core),
cpu_ms_per_message (and by fifth of the broadcast), rss_mb (and by fifth), reply_cpu_ms (the
bot's CPU per /help answered in the baseline), send_only_cpu_ms_per_message,
cpu_beyond_sending_pct (the bot's CPU less the writers' answers, beyond the bare sender's, as a
share of one core at the broadcast's pace), pace_per_s, server_cpu_percent (this benchmark's own
process, which serves the Bot API: near 100 % it sets the pace), in_flight_at_kill and restarts.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import signal
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from bot.ratelimit import COUNTED, PAID_RATE
from bot.settings import Settings
from localapi import BotApiServer, FakeBotApi, FloodControl
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
TELEGRAM_RATE = 30.0
JITTER = (0.020, 0.080)
IDLE_WRITERS = 50
SEND_ONLY = 600  # messages the bare sender sends
CLOCK_TICK = os.sysconf("SC_CLK_TCK")


class MeasuredApi(FakeBotApi):
    """The local Bot API, noting when each broadcast message and each reply arrived."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.delivered: list[tuple[float, int]] = []  # (arrival, chat) of broadcast messages
        self.http_429 = 0
        self.refusals: list[tuple[str, str]] = []
        self.waiting: dict[int, float] = {}  # chat -> when its /help was queued
        self.reply_waits: list[float] = []
        self.reached: set[int] = set()
        self.counted: list[float] = []  # arrivals of every message Telegram's limits count
        self.kill_after: int | None = None
        self.victim: int | None = None
        self.on_delivery: Any = None

    async def call(self, method: str, raw_params: Any, files: Any = None) -> Any:
        if (
            self.kill_after is not None
            and method == "sendMessage"
            and raw_params.get("text") == TEXT
            and len(self.delivered) >= self.kill_after
        ):
            # K deliveries have happened: the process dies as the next one is on its way, with
            # whatever else it had in flight; this one never arrives.
            if self.victim is not None:
                os.kill(self.victim, signal.SIGKILL)
            self.kill_after = None
            await asyncio.Event().wait()
        try:
            result = await super().call(method, raw_params, files)
        except Exception as exc:
            if getattr(exc, "error_code", None) == 429:
                self.http_429 += 1
                kind = "bulk" if raw_params.get("text") == TEXT else method
                chat_full = self.chat_is_full(int(raw_params.get("chat_id", 0)))
                # Which limit refused it, to tell a busy chat from an over-budget bot.
                self.refusals.append((kind, "chat" if chat_full else "overall"))
            raise
        now = time.monotonic()
        if method in COUNTED and not raw_params.get("allow_paid_broadcast"):
            self.counted.append(now)
        if method == "sendMessage":
            chat = int(raw_params.get("chat_id"))
            text = raw_params.get("text", "")
            if text == TEXT:
                self.delivered.append((now, chat))
                self.reached.add(chat)
                if self.on_delivery is not None:
                    self.on_delivery(len(self.delivered))
            elif HELP_PREFIX in text and chat in self.waiting:
                self.reply_waits.append(now - self.waiting.pop(chat))
            self.notify()
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


class Usage:
    """CPU seconds and resident memory of the bot's processes, read from /proc."""

    def __init__(self) -> None:
        self.pid: int | None = None
        self._gone = 0.0  # CPU of processes that were killed
        self._last = 0.0  # the current process's CPU when last looked at

    def cpu(self) -> float:
        if self.pid is not None:
            self._last = max(self._last, _cpu_of(self.pid))
        return self._gone + self._last

    def rss_mb(self) -> float:
        return _status_kb(self.pid, "VmRSS") / 1024 if self.pid else 0.0

    def switch(self, pid: int) -> None:
        """A new process replaces a killed one (whose CPU was last seen a moment before)."""
        self._gone += self._last
        self.pid, self._last = pid, 0.0


def _cpu_of(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICK


def _status_kb(pid: int, key: str) -> float:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return float(line.split()[1])
    return 0.0


async def start_bot(api: FakeBotApi, env: dict[str, str]) -> asyncio.subprocess.Process:
    calls_before = sum(1 for c in api.calls if c.method == "getUpdates")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--log-level", "WARNING", "run", env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=None,
    )  # fmt: skip
    await api.wait_for(
        lambda: sum(1 for c in api.calls if c.method == "getUpdates") > calls_before, timeout=60
    )
    return process


def percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * share))] * 1000, 1)


async def run(args: argparse.Namespace) -> dict:
    recipients, rate = args.recipients, args.rate
    scale = rate / TELEGRAM_RATE
    jitter = (JITTER[0] / scale, JITTER[1] / scale)
    bulk_rate = PAID_RATE if args.paid else rate
    ideal = recipients / bulk_rate
    workdir = Path(tempfile.mkdtemp(prefix="talentbot-bench-"))
    db_path = workdir / "bench.sqlite3"
    ids = await seed(db_path, recipients)
    limits = FloodControl(
        overall_rate=rate, per_chat_rate=1.0, group_per_minute=20, paid_rate=PAID_RATE
    )
    api = MeasuredApi(flood_control=limits, jitter=jitter, seed=7)
    for telegram_id in [ADMIN_ID, *ids]:
        api.open_chat({"id": telegram_id, "first_name": "T", "language_code": "en"})
    usage = Usage()
    fifths: list[tuple[int, float, float, float]] = []  # (delivered, moment, cpu, rss)
    in_flight_at_kill = None
    restarts = 0
    async with BotApiServer(api) as server:
        settings_env = {
            "TELEGRAM_BOT_TOKEN": api.token,
            "TELEGRAM_API_BASE_URL": server.base_url,
            "TALENTBOT_DB": str(db_path),
            "TALENTBOT_ADMIN_IDS": str(ADMIN_ID),
            "TALENTBOT_SEND_RATE": str(rate),
            "TALENTBOT_PAID_BROADCAST": "1" if args.paid else "0",
            "TALENTBOT_WEBHOOK_URL": "",
        }
        Settings(_env_file=None, **settings_env)  # fail early on a bad value
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("TALENTBOT_", "TELEGRAM_"))
        }
        env.update(settings_env)
        process = await start_bot(api, env)
        usage.switch(process.pid)
        try:
            # The baseline: replies with nothing else going on, at a similar pace.
            idle_chats = ids[-IDLE_WRITERS:]
            idle_cpu = usage.cpu()
            await write(api, idle_chats, spread=IDLE_WRITERS / 5)
            await api.wait_for(lambda: not api.waiting, timeout=60)
            # What answering one /help costs the bot, to tell it from the broadcast's own cost.
            reply_cpu = (usage.cpu() - idle_cpu) / IDLE_WRITERS
            idle_waits = list(api.reply_waits)
            api.reply_waits.clear()

            admin = ChatUser(api, _queued, "Admin", "en", id=ADMIN_ID)
            steps = [
                ("send", "/broadcast", "Send the message"),
                ("send", TEXT, "Which station"),
                ("tap", "All stations", "field of expertise"),
                ("tap", "Any field", "in the city now"),
                ("tap", "Everyone", f"Talents it will reach: {recipients:,}"),
            ]
            for action, value, answer in steps:
                await (admin.send(value) if action == "send" else admin.tap(value))
                await admin.expect(answer)
                # A person reads the question before answering; Telegram's one message a second
                # per chat assumes no less.
                await asyncio.sleep(HUMAN_PAUSE)
            if args.crash_at is not None:
                api.kill_after, api.victim = args.crash_at, process.pid
            marks = {max(1, recipients * n // 5) for n in range(1, 6)}

            def sample(count: int) -> None:
                if count in marks:
                    fifths.append((count, time.monotonic(), usage.cpu(), usage.rss_mb()))

            api.on_delivery = sample
            cpu_before = usage.cpu()
            started = time.monotonic()
            fifths.append((0, started, cpu_before, usage.rss_mb()))
            await admin.tap("📣 Send")
            writers = ids[: args.writers]
            writer_task = asyncio.create_task(write(api, writers, spread=ideal * 0.9))
            # Paid, the machine rather than Telegram may set the pace: wait long enough.
            deadline = started + max(ideal * 5, recipients / 50) + 120
            server_cpu = time.process_time()
            while len(api.reached) < recipients:
                if process.returncode is not None:
                    if args.crash_at is None or restarts:
                        raise RuntimeError(f"the bot exited ({process.returncode}) mid-broadcast")
                    async with Database(db_path) as db:
                        in_flight_at_kill = await db.fetch_value(
                            "SELECT count(*) FROM deliveries WHERE status = 'sending'"
                        )
                    process = await start_bot(api, env)
                    usage.switch(process.pid)
                    restarts += 1
                if time.monotonic() > deadline:
                    break
                usage.cpu()  # looked at often, so a killed process's last figure is recent
                await asyncio.sleep(0.02)
            cpu_after = usage.cpu()
            server_cpu = time.process_time() - server_cpu
            await writer_task
            # A talent who wrote while the bot was down may go unanswered: PTB confirms an update
            # to Telegram when it fetches the next ones, not when it has handled it.
            with contextlib.suppress(TimeoutError):
                await api.wait_for(lambda: not api.waiting, timeout=15)
            rss = _status_kb(process.pid, "VmHWM") / 1024
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
                await asyncio.wait_for(process.wait(), timeout=30)
        last = max(t for t, _ in api.delivered) if api.delivered else float("inf")
        seconds = last - started
        # The bare sender keeps the broadcast's pace: a connection pool's cost per message
        # grows with the requests in flight.
        pace = len(api.reached) / seconds if seconds > 0 else bulk_rate
        send_only = await bare_sender(
            server.base_url, api, ids[:SEND_ONLY], rate, pace if args.paid else PAID_RATE
        )
    per_chat = Counter(chat for _, chat in api.delivered)
    sent = len(per_chat)
    cpu = cpu_after - cpu_before
    by_fifth = [
        round((b[2] - a[2]) * 1000 / max(1, b[0] - a[0]), 3) for a, b in itertools.pairwise(fifths)
    ]
    per_message = cpu * 1000 / max(1, sent)
    # The broadcast's own cost: the bot's CPU less what answering the writers cost.
    own = (cpu - reply_cpu * len(api.reply_waits)) * 1000 / max(1, sent)
    # Replies and progress edits share the 30 a second: the broadcast can only have the rest.
    shared = sum(1 for moment in api.counted if started <= moment <= last)
    budget_ideal = (recipients if args.paid else shared) / bulk_rate
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
        "reply_wait_p99_ms": percentile(api.reply_waits, 0.99),
        "replies": len(api.reply_waits),
        "unanswered": len(api.waiting),
        "refusals": dict(Counter(f"{k}/{w}" for k, w in api.refusals)),
        "budget_ratio": round(seconds / budget_ideal, 4) if budget_ideal else None,
        "messages_in_budget": shared,
        "reply_wait_p50_ms": percentile(api.reply_waits, 0.5),
        "idle_reply_wait_p50_ms": percentile(idle_waits, 0.5),
        "idle_reply_wait_p99_ms": percentile(idle_waits, 0.99),
        "paid": args.paid,
        "paid_messages": api.paid_messages,
        "scale": round(scale, 3),
        "jitter_ms": [round(jitter[0] * 1000, 1), round(jitter[1] * 1000, 1)],
        "cpu_seconds": round(cpu, 2),
        "cpu_percent": round(cpu / seconds * 100, 1) if seconds > 0 else None,
        "cpu_ms_per_message": round(per_message, 3),
        "cpu_ms_per_message_by_fifth": by_fifth,
        "rss_mb": round(rss, 1),
        "rss_mb_by_fifth": [round(sample[3], 1) for sample in fifths[1:]],
        "send_only_cpu_ms_per_message": round(send_only, 3),
        "reply_cpu_ms": round(reply_cpu * 1000, 2),
        "cpu_beyond_sending_pct": round((own - send_only) * pace / 10, 2),
        "pace_per_s": round(pace, 1),
        # This benchmark's own process (the local Bot API, the writers): when it nears 100 %,
        # it, not the bot, sets the pace.
        "server_cpu_percent": round(server_cpu / seconds * 100, 1) if seconds > 0 else None,
        "in_flight_at_kill": in_flight_at_kill,
        "restarts": restarts,
    }


async def bare_sender(
    base_url: str, api: MeasuredApi, chats: list[int], rate: float, paid_rate: float
) -> float:
    """CPU milliseconds per message of a bare PTB bot sending through the same rate limiter
    (paid, at ``paid_rate``, unless that is Telegram's own)."""
    await asyncio.sleep(1.1)  # the chats' last messages leave their windows
    env = dict(os.environ, TELEGRAM_BOT_TOKEN=api.token, TELEGRAM_API_BASE_URL=base_url)
    paid = [] if paid_rate == PAID_RATE else ["--paid", "--paid-rate", str(paid_rate)]
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "benchmarks.broadcast", "--send-only", json.dumps(chats),
        "--rate", str(rate), *paid, env=env, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _ = await process.communicate()
    return json.loads(out.decode().strip().splitlines()[-1])["cpu_ms_per_message"]


async def send_only(chats: list[int], rate: float, paid: bool, paid_rate: float) -> dict:
    """The bare sender's side: one message to each chat, bulk, through TwoLaneRateLimiter."""
    from telegram.ext import ExtBot
    from telegram.request import HTTPXRequest

    from bot.ratelimit import BulkSend, TwoLaneRateLimiter

    limiter = TwoLaneRateLimiter(rate=rate, paid_rate=paid_rate)
    bot = ExtBot(
        os.environ["TELEGRAM_BOT_TOKEN"],
        base_url=os.environ["TELEGRAM_API_BASE_URL"],
        rate_limiter=limiter,
        # As many connections as the Application gives the bot.
        request=HTTPXRequest(connection_pool_size=256),
    )
    extra = {"allow_paid_broadcast": True} if paid else {}
    async with bot:
        before = time.process_time()
        pool = asyncio.Semaphore(64)

        async def one(chat: int) -> None:
            async with pool:
                await bot.send_message(chat, "bare", rate_limit_args=BulkSend(), **extra)

        await asyncio.gather(*(one(chat) for chat in chats))
        used = time.process_time() - before
    return {"cpu_ms_per_message": used * 1000 / len(chats)}


async def _queued(update: dict) -> None:
    """Updates wait on the server for the bot's getUpdates."""


async def write(api: MeasuredApi, chats: list[int], *, spread: float) -> None:
    """Each of ``chats`` writes /help once, at random moments over ``spread`` seconds."""
    import random

    rng = random.Random(7)
    moments = sorted(rng.uniform(0.3, max(0.4, spread)) for _ in chats)
    start = time.monotonic()
    for moment, chat in zip(moments, rng.sample(chats, len(chats)), strict=True):
        await asyncio.sleep(max(0.0, start + moment - time.monotonic()))
        api.waiting[chat] = time.monotonic()
        api.user_message({"id": chat, "first_name": "T", "language_code": "en"}, text="/help")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=3000)
    parser.add_argument("--rate", type=float, default=TELEGRAM_RATE)
    parser.add_argument("--writers", type=int, default=300)
    parser.add_argument("--paid", action="store_true")
    parser.add_argument("--crash-at", type=int, default=None)
    parser.add_argument("--send-only", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--paid-rate", type=float, default=PAID_RATE, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.send_only is not None:
        chats = json.loads(args.send_only)
        print(json.dumps(asyncio.run(send_only(chats, args.rate, args.paid, args.paid_rate))))
        return
    if args.rate != TELEGRAM_RATE:
        print(
            f"scaled run: {args.rate:g} messages a second overall instead of Telegram's "
            f"{TELEGRAM_RATE:g}, network jitter shrunk {args.rate / TELEGRAM_RATE:g} times; "
            "one message a second per chat is unchanged",
            flush=True,
        )
    result = asyncio.run(run(args))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
