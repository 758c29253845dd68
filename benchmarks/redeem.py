"""Redeem under contention: many talents who can all afford it try to get the last few items.

    python -m benchmarks.redeem [--talents 200] [--stock 10]

Runs the reward service on a real SQLite file. In the same run, single redeems with nobody else
waiting give the baseline. The last line printed is one JSON object: talents, stock, vouchers,
stock_left, p50_ms, p99_ms (each attempt, start to answer), baseline_ms and p99_ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

from bot.clock import SystemClock
from bot.services.rewards import RewardService
from storage.database import Database
from storage.models import StationKind
from storage.outbox import ReminderRepository
from storage.points import PointsRepository
from storage.rewards import RewardRepository
from storage.stations import StationRepository
from storage.talents import TalentRepository


async def run(talents: int, stock: int) -> dict:
    path = Path(tempfile.mkdtemp(prefix="talentbot-redeem-")) / "bench.sqlite3"
    now = datetime.now(UTC)
    async with Database(path) as db:
        station = await StationRepository(db).add(
            name_zh="酒店", name_en="Hotel", kind=StationKind.COMMUNITY, created_by=1, now=now
        )
        rewards = RewardRepository(db)
        values = {
            "name_zh": "一晚", "name_en": "A night", "station_id": station.id, "cost": 50,
            "stock": stock, "per_talent_limit": 0, "valid_days": 30,
        }  # fmt: skip
        contested = await rewards.add(values, by=1, now=now)
        plenty = await rewards.add({**values, "stock": 100_000}, by=1, now=now)
        points = PointsRepository(db)
        ids = []
        for i in range(talents + 20):
            talent = await TalentRepository(db).register(
                300_000 + i, language="en", name=f"T{i}", phone=None, expertise=("law",),
                title=None, region="R", station_id=None, stay_from=date(now.year, 1, 1),
                stay_to=date(now.year + 1, 1, 1), consent_at=now, now=now,
            )  # fmt: skip
            await points.adjust(talent.id, 60, reason="seed", by=1, now=now, key=f"seed:{i}")
            ids.append(talent.id)
        service = RewardService(
            rewards=rewards, points=points, reminders=ReminderRepository(db), clock=SystemClock()
        )

        async def timed(talent_id: int, reward_id: int) -> tuple[str, float]:
            started = time.perf_counter()
            outcome, _, _ = await service.redeem(talent_id, reward_id)
            return outcome, time.perf_counter() - started

        baseline = [(await timed(t, plenty.id))[1] for t in ids[talents:]]
        results = await asyncio.gather(*(timed(t, contested.id) for t in ids[:talents]))
        waits = sorted(seconds for _, seconds in results)
        vouchers = await db.fetch_value(
            "SELECT count(*) FROM vouchers WHERE reward_id = ?", (contested.id,)
        )
        left = (await rewards.get(contested.id)).stock
    p99 = waits[min(len(waits) - 1, int(len(waits) * 0.99))] * 1000
    base = statistics.median(baseline) * 1000
    return {
        "talents": talents,
        "stock": stock,
        "vouchers": vouchers,
        "stock_left": left,
        "p50_ms": round(waits[len(waits) // 2] * 1000, 2),
        "p99_ms": round(p99, 2),
        "baseline_ms": round(base, 2),
        "p99_ratio": round(p99 / base, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--talents", type=int, default=200)
    parser.add_argument("--stock", type=int, default=10)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.talents, args.stock))))


if __name__ == "__main__":
    main()
