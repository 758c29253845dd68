"""Check-in rush benchmark: N talents scan the door's QR code at the same moment.

    python -m benchmarks.checkin [--talents 1000] [--baseline-talents 100] [--latency 0.05]
                                 [--door 500]

Every talent's ``/start ci-<code>`` goes through the real Application as ``build_application``
makes it (rate limiter and update processor included), on a real SQLite file, with an offline
Bot API that adds ``latency`` seconds to every call, like a round trip to Telegram. In the same
run, a baseline with PTB's default sequential processing handles a smaller crowd, and PTB's own
concurrent mode (``concurrent_updates(True)``) the same crowd.

Then the door rush under Telegram's real limits: ``door`` talents scan within one second, on a
Bot API with Telegram's flood control (30 messages a second, whole-second 429s) and 20-80 ms of
network jitter. Every scan must be answered; at 30 a second the last answer cannot come before
door / 30 seconds. The same crowd goes through PTB's concurrent mode and its sequential default.

The last line printed is one JSON object: talents, seconds, checkins_per_s, baseline_per_s,
speedup, p50_ms and p99_ms (update in -> reply sent), credited (ledger entries created) and
duplicates (entries beyond one per talent); concurrent_per_s and speedup_vs_concurrent; and for
the door rush: door_talents, door_answered, door_credited, door_seconds (first scan to last
answer), door_ideal_seconds (door / 30), door_ratio, door_p50_ms, door_p99_ms, door_http_429,
and the same seconds, answered and ratio for door_concurrent_* and door_sequential_*.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor, SimpleUpdateProcessor

from bot.app import build_application
from bot.settings import Settings
from localapi import TELEGRAM_LIMITS, BotApiError, FakeBotApi, OfflineRequest
from storage.activities import ActivityRepository
from storage.database import Database
from storage.models import StationKind
from storage.points import PointsRepository
from storage.stations import StationRepository
from storage.talents import TalentRepository

FIRST_TALENT = 200_000
JITTER = (0.020, 0.080)
TELEGRAM_RATE = 30
TOKEN = "benchmark-checkin-code-0000000000"


class TimedApi(FakeBotApi):
    """Notes when the bot's first reply to each chat arrived."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.replied: dict[int, float] = {}
        self.http_429 = 0

    async def call(self, method: str, raw_params: Any, files: Any = None) -> Any:
        try:
            result = await super().call(method, raw_params, files)
        except BotApiError as exc:
            self.http_429 += exc.error_code == 429
            raise
        if method == "sendMessage":
            chat = int(raw_params["chat_id"])
            self.replied.setdefault(chat, time.monotonic())
            self.notify()
        return result


async def seed(db_path: Path, talents: int) -> None:
    now = datetime.now(UTC)
    async with Database(db_path) as db:
        station = await StationRepository(db).add(
            name_zh="站", name_en="Hub", kind=StationKind.COMMUNITY, created_by=1, now=now
        )
        repo = TalentRepository(db)
        for i in range(talents):
            await repo.register(
                FIRST_TALENT + i, language="en", name=f"T{i}", phone=None,
                expertise=("medicine",), title=None, region="R", station_id=station.id,
                stay_from=date(now.year - 1, 1, 1), stay_to=date(now.year + 1, 1, 1),
                consent_at=now, now=now,
            )  # fmt: skip
        activities = ActivityRepository(db)
        activity = await activities.create(
            {
                "station_id": station.id, "kind": "lecture", "title": "Winter health lecture",
                "place": "Hall", "starts_at": now + timedelta(minutes=10),
                "ends_at": now + timedelta(hours=2), "points": 10,
            },
            by=1, now=now,
        )  # fmt: skip
        await activities.set_status(activity.id, "published", by=1, now=now, expect=("draft",))
        await PointsRepository(db).set_token(activity.id, TOKEN)


async def rush(
    talents: int,
    latency: float,
    processor: BaseUpdateProcessor | None,
    *,
    real_limits: bool = False,
    within: float = 0.0,
) -> dict:
    """One crowd at the door, scanning over ``within`` seconds; timings and what the ledger says.

    With ``real_limits`` the Bot API enforces Telegram's flood control and adds network jitter.
    """
    workdir = Path(tempfile.mkdtemp(prefix="talentbot-checkin-"))
    db_path = workdir / "bench.sqlite3"
    await seed(db_path, talents)
    api = (
        TimedApi(flood_control=TELEGRAM_LIMITS, jitter=JITTER, seed=11)
        if real_limits
        else TimedApi()
    )
    ids = [FIRST_TALENT + i for i in range(talents)]
    for telegram_id in ids:
        api.open_chat({"id": telegram_id, "first_name": "T", "language_code": "en"})
    settings = Settings(
        _env_file=None,
        TELEGRAM_BOT_TOKEN=api.token,
        TALENTBOT_DB=db_path,
        TALENTBOT_WEBHOOK_URL="",
        # Without Telegram's limits the pace is the bot's own: measured unthrottled.
        TALENTBOT_SEND_RATE=TELEGRAM_RATE if real_limits else 1000,
    )
    app = build_application(
        settings, request=OfflineRequest(api, latency=latency), update_processor=processor
    )
    await app.initialize()
    await app.post_init(app)
    await app.start()
    arrived: dict[int, float] = {}
    try:
        started = time.monotonic()
        for n, telegram_id in enumerate(ids):
            # Spread evenly over ``within`` seconds (all at once when 0).
            await asyncio.sleep(max(0.0, started + within * n / talents - time.monotonic()))
            user = {"id": telegram_id, "is_bot": False, "first_name": "T", "language_code": "en"}
            update = Update.de_json(api.user_message(user, text=f"/start ci-{TOKEN}"), app.bot)
            arrived[telegram_id] = time.monotonic()
            await app.update_queue.put(update)
        limit = talents * (latency + JITTER[1]) * 3 + talents / 10 + 60
        with contextlib.suppress(TimeoutError):
            await api.wait_for(lambda: len(api.replied) >= talents, timeout=limit)
        finished = max(api.replied.values())
        db = app.bot_data["services"].db
        credited = await db.fetch_value("SELECT count(*) FROM ledger")
        distinct = await db.fetch_value("SELECT count(DISTINCT talent_id) FROM ledger")
    finally:
        await app.stop()
        await app.shutdown()
        await app.post_shutdown(app)
    waits = sorted(api.replied[i] - arrived[i] for i in ids if i in api.replied)
    return {
        "answered": len(api.replied),
        "http_429": api.http_429,
        "seconds": finished - started,
        "per_s": talents / (finished - started),
        "p50_ms": waits[len(waits) // 2] * 1000,
        "p99_ms": waits[min(len(waits) - 1, int(len(waits) * 0.99))] * 1000,
        "credited": credited,
        "duplicates": credited - distinct,
    }


async def run(talents: int, baseline_talents: int, latency: float, door: int) -> dict:
    baseline = await rush(baseline_talents, latency, SimpleUpdateProcessor(1))
    concurrent = await rush(talents, latency, SimpleUpdateProcessor(256))
    measured = await rush(talents, latency, None)
    result = {
        "talents": talents,
        "seconds": round(measured["seconds"], 3),
        "checkins_per_s": round(measured["per_s"], 1),
        "baseline_per_s": round(baseline["per_s"], 1),
        "speedup": round(measured["per_s"] / baseline["per_s"], 2),
        "p50_ms": round(measured["p50_ms"], 1),
        "p99_ms": round(measured["p99_ms"], 1),
        "credited": measured["credited"],
        "duplicates": measured["duplicates"],
        "baseline_talents": baseline_talents,
        "latency_ms": latency * 1000,
        "concurrent_per_s": round(concurrent["per_s"], 1),
        "speedup_vs_concurrent": round(measured["per_s"] / concurrent["per_s"], 2),
    }
    if door:
        ideal = door / TELEGRAM_RATE
        runs = {
            "door": None,
            "door_concurrent": SimpleUpdateProcessor(256),
            "door_sequential": SimpleUpdateProcessor(1),
        }
        for name, processor in runs.items():
            crowd = await rush(door, 0.0, processor, real_limits=True, within=1.0)
            result[f"{name}_seconds"] = round(crowd["seconds"], 3)
            result[f"{name}_answered"] = crowd["answered"]
            result[f"{name}_ratio"] = round(crowd["seconds"] / ideal, 4)
            if processor is None:
                result.update(
                    door_talents=door,
                    door_credited=crowd["credited"],
                    door_ideal_seconds=round(ideal, 3),
                    door_p50_ms=round(crowd["p50_ms"], 1),
                    door_p99_ms=round(crowd["p99_ms"], 1),
                    door_http_429=crowd["http_429"],
                )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--talents", type=int, default=1000)
    parser.add_argument("--baseline-talents", type=int, default=100)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--door", type=int, default=500, help="0: no door rush")
    args = parser.parse_args()
    result = asyncio.run(run(args.talents, args.baseline_talents, args.latency, args.door))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
