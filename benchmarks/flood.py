"""Flood benchmark: one person queues hundreds of messages; how long do the others wait?

    python -m benchmarks.flood [--flood 600] [--others 20]

The real Application as ``build_application`` makes it, on a real SQLite file, offline against
the local Bot API with Telegram's flood control and 20-80 ms of network jitter. One registered
talent's ``flood`` /help messages reach the bot at once (as one getUpdates batch would hand them
over); right after, ``others`` registered talents each send /help, spread over a few seconds.
In the same run the same others write with no flood going on: the baseline.

The last line printed is one JSON object: flood, others, others_wait_p50_ms, others_wait_max_ms
(update in -> reply sent), baseline_wait_p50_ms, baseline_wait_max_ms, ratio (max against the
baseline's max), flooder_answered (the flooder's updates that got their answer), dropped (updates
the cap dropped), slow_down_notes, flooder_in_order (the answered ones in the order sent).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from telegram import Update

from bot.app import build_application
from bot.settings import Settings
from localapi import TELEGRAM_LIMITS, FakeBotApi, OfflineRequest
from storage.database import Database
from storage.models import StationKind
from storage.stations import StationRepository
from storage.talents import TalentRepository

FLOODER = 300_000
FIRST_OTHER = 300_001
JITTER = (0.020, 0.080)
HELP = "What you can do"
SLOW_DOWN = "You are sending faster than I can answer"
SPREAD = 3.0  # seconds over which the others write


class TimedApi(FakeBotApi):
    """Notes when each answer to /help arrived, per chat."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.answers: dict[int, list[float]] = {}
        self.notes = 0

    async def call(self, method: str, raw_params: Any, files: Any = None) -> Any:
        result = await super().call(method, raw_params, files)
        if method == "sendMessage":
            text = raw_params.get("text", "")
            if HELP in text:
                self.answers.setdefault(int(raw_params["chat_id"]), []).append(time.monotonic())
            elif SLOW_DOWN in text:
                self.notes += 1
            self.notify()
        return result


async def seed(db_path: Path, others: int) -> None:
    now = datetime.now(UTC)
    async with Database(db_path) as db:
        station = await StationRepository(db).add(
            name_zh="站", name_en="Hub", kind=StationKind.COMMUNITY, created_by=1, now=now
        )
        repo = TalentRepository(db)
        for telegram_id in [FLOODER, *range(FIRST_OTHER, FIRST_OTHER + others)]:
            await repo.register(
                telegram_id, language="en", name=f"T{telegram_id}", phone=None,
                expertise=("medicine",), title=None, region="R", station_id=station.id,
                stay_from=date(now.year - 1, 1, 1), stay_to=date(now.year + 1, 1, 1),
                consent_at=now, now=now,
            )  # fmt: skip


def help_update(api: FakeBotApi, app: Any, telegram_id: int) -> Update:
    user = {"id": telegram_id, "is_bot": False, "first_name": "T", "language_code": "en"}
    return Update.de_json(api.user_message(user, text="/help"), app.bot)


async def scene(flood: int, others: int) -> dict:
    """Optionally a flood, then the others write; returns their waits and the flooder's fate."""
    workdir = Path(tempfile.mkdtemp(prefix="talentbot-flood-"))
    db_path = workdir / "bench.sqlite3"
    await seed(db_path, others)
    api = TimedApi(flood_control=TELEGRAM_LIMITS, jitter=JITTER, seed=5)
    other_ids = list(range(FIRST_OTHER, FIRST_OTHER + others))
    for telegram_id in [FLOODER, *other_ids]:
        api.open_chat({"id": telegram_id, "first_name": "T", "language_code": "en"})
    settings = Settings(
        _env_file=None, TELEGRAM_BOT_TOKEN=api.token, TALENTBOT_DB=db_path,
        TALENTBOT_WEBHOOK_URL="",
    )  # fmt: skip
    app = build_application(settings, request=OfflineRequest(api))
    await app.initialize()
    await app.post_init(app)
    await app.start()
    asked: dict[int, float] = {}
    try:
        for _ in range(flood):
            await app.update_queue.put(help_update(api, app, FLOODER))
        started = time.monotonic()
        for n, telegram_id in enumerate(other_ids):
            await asyncio.sleep(max(0.0, started + SPREAD * n / others - time.monotonic()))
            asked[telegram_id] = time.monotonic()
            await app.update_queue.put(help_update(api, app, telegram_id))
        await api.wait_for(lambda: all(i in api.answers for i in other_ids), timeout=120)
        waits = sorted(api.answers[i][0] - asked[i] for i in other_ids)
        # The flooder's accepted updates are answered too, at their chat's pace.
        processor = app.update_processor
        accepted = flood - getattr(processor, "dropped", 0)
        await api.wait_for(
            lambda: len(api.answers.get(FLOODER, [])) >= accepted and api.notes >= bool(flood),
            timeout=accepted * 3 + 30,
        )
    finally:
        await app.stop()
        await app.shutdown()
        await app.post_shutdown(app)
    flooder = api.answers.get(FLOODER, [])
    return {
        "p50_ms": waits[len(waits) // 2] * 1000,
        "max_ms": waits[-1] * 1000,
        "flooder_answered": len(flooder),
        "dropped": getattr(processor, "dropped", None),
        "notes": api.notes,
        "in_order": flooder == sorted(flooder),
    }


async def run(flood: int, others: int) -> dict:
    baseline = await scene(0, others)
    measured = await scene(flood, others)
    return {
        "flood": flood,
        "others": others,
        "others_wait_p50_ms": round(measured["p50_ms"], 1),
        "others_wait_max_ms": round(measured["max_ms"], 1),
        "baseline_wait_p50_ms": round(baseline["p50_ms"], 1),
        "baseline_wait_max_ms": round(baseline["max_ms"], 1),
        "ratio": round(measured["max_ms"] / baseline["max_ms"], 2),
        "flooder_answered": measured["flooder_answered"],
        "dropped": measured["dropped"],
        "slow_down_notes": measured["notes"],
        "flooder_in_order": measured["in_order"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flood", type=int, default=600)
    parser.add_argument("--others", type=int, default=20)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.flood, args.others))))


if __name__ == "__main__":
    main()
