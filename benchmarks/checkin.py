"""Check-in rush benchmark: N talents scan the door's QR code at the same moment.

    python -m benchmarks.checkin [--talents 1000] [--baseline-talents 100] [--latency 0.05]

Every talent's ``/start ci-<code>`` goes through the real Application as ``build_application``
makes it (rate limiter and update processor included), on a real SQLite file, with an offline
Bot API that adds ``latency`` seconds to every call, like a round trip to Telegram. In the same
run, a baseline with PTB's default sequential processing handles a smaller crowd.

The last line printed is one JSON object: talents, seconds, checkins_per_s, baseline_per_s,
speedup, p50_ms and p99_ms (update in -> reply sent), credited (ledger entries created) and
duplicates (entries beyond one per talent).
"""

from __future__ import annotations

import argparse
import asyncio
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
from localapi import FakeBotApi, OfflineRequest
from storage.activities import ActivityRepository
from storage.database import Database
from storage.models import StationKind
from storage.points import PointsRepository
from storage.stations import StationRepository
from storage.talents import TalentRepository

FIRST_TALENT = 200_000
TOKEN = "benchmark-checkin-code-0000000000"


class TimedApi(FakeBotApi):
    """Notes when the bot's first reply to each chat arrived."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.replied: dict[int, float] = {}

    async def call(self, method: str, raw_params: Any, files: Any = None) -> Any:
        result = await super().call(method, raw_params, files)
        if method == "sendMessage":
            chat = int(raw_params["chat_id"])
            self.replied.setdefault(chat, time.monotonic())
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


async def rush(talents: int, latency: float, processor: BaseUpdateProcessor | None) -> dict:
    """One crowd at the door; returns timings and what the ledger says."""
    workdir = Path(tempfile.mkdtemp(prefix="talentbot-checkin-"))
    db_path = workdir / "bench.sqlite3"
    await seed(db_path, talents)
    api = TimedApi()
    ids = [FIRST_TALENT + i for i in range(talents)]
    for telegram_id in ids:
        api.open_chat({"id": telegram_id, "first_name": "T", "language_code": "en"})
    settings = Settings(
        _env_file=None,
        TELEGRAM_BOT_TOKEN=api.token,
        TALENTBOT_DB=db_path,
        TALENTBOT_WEBHOOK_URL="",
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
        for telegram_id in ids:
            user = {"id": telegram_id, "is_bot": False, "first_name": "T", "language_code": "en"}
            update = Update.de_json(api.user_message(user, text=f"/start ci-{TOKEN}"), app.bot)
            arrived[telegram_id] = time.monotonic()
            await app.update_queue.put(update)
        await api.wait_for(lambda: len(api.replied) >= talents, timeout=talents * latency * 3 + 60)
        finished = max(api.replied.values())
        db = app.bot_data["services"].db
        credited = await db.fetch_value("SELECT count(*) FROM ledger")
        distinct = await db.fetch_value("SELECT count(DISTINCT talent_id) FROM ledger")
    finally:
        await app.stop()
        await app.shutdown()
        await app.post_shutdown(app)
    waits = sorted(api.replied[i] - arrived[i] for i in ids)
    return {
        "seconds": finished - started,
        "per_s": talents / (finished - started),
        "p50_ms": waits[len(waits) // 2] * 1000,
        "p99_ms": waits[min(len(waits) - 1, int(len(waits) * 0.99))] * 1000,
        "credited": credited,
        "duplicates": credited - distinct,
    }


async def run(talents: int, baseline_talents: int, latency: float) -> dict:
    baseline = await rush(baseline_talents, latency, SimpleUpdateProcessor(1))
    measured = await rush(talents, latency, None)
    return {
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
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--talents", type=int, default=1000)
    parser.add_argument("--baseline-talents", type=int, default=100)
    parser.add_argument("--latency", type=float, default=0.05)
    args = parser.parse_args()
    result = asyncio.run(run(args.talents, args.baseline_talents, args.latency))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
