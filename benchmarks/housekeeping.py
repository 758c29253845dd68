"""Housekeeping benchmark: does the database file stop growing after all-talent broadcasts?

    python -m benchmarks.housekeeping [--talents 100000] [--broadcasts 4]

Each of three databases gets the same talents and the same broadcasts to all of them (one
delivery row per talent, all sent), one "season" (past the retention) apart:

- ``baseline``: no clean-up, as before: every broadcast adds its rows for good;
- ``upkeep``: what the nightly job does: the old deliveries deleted (totals kept on the
  broadcast), then an incremental vacuum (after a one-time VACUUM that switches an old file);
- ``full_vacuum``: the strongest alternative: the same deletion, then a full VACUUM each night,
  which rewrites the whole file while every writer waits.

Prints the file size after each night, and as its last line one JSON object: talents,
broadcasts, baseline_mb, upkeep_mb, full_vacuum_mb, mb_per_broadcast (what one broadcast adds
to the baseline), upkeep_vs_baseline (size ratio), upkeep_spread_mb (largest minus smallest
size after a night: 0 means the file stopped growing), conversion_seconds (the one-time
switch), incremental_seconds and full_vacuum_seconds (per night, median), purge_seconds (the
deletion of one broadcast's rows, median).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from storage.database import Database, utc_text
from storage.files import file_bytes
from storage.maintenance import MaintenanceRepository
from storage.models import Audience
from storage.outbox import BroadcastRepository

RETENTION = timedelta(days=180)
MB = 1_000_000


async def settled(db: Database) -> int:
    await db.run_script("PRAGMA wal_checkpoint(TRUNCATE);")
    return file_bytes(db.path)


async def run_variant(folder: Path, variant: str, talents: int, broadcasts: int) -> dict:
    path = folder / f"{variant}.sqlite3"
    with sqlite3.connect(path) as conn:
        # A file as earlier versions made it: WAL, no auto-vacuum.
        conn.execute("PRAGMA journal_mode = WAL")
    db = Database(path)
    await db.connect()
    now = datetime(2026, 10, 1, tzinfo=UTC)
    await db.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :count)"
        " INSERT INTO talents (telegram_id, language, name, registered_at, created_at,"
        " updated_at) SELECT 1000000 + i, 'zh', 'T' || i, :t, :t, :t FROM n",
        {"count": talents, "t": utc_text(now)},
    )
    rows = BroadcastRepository(db)
    upkeep = MaintenanceRepository(db)
    sizes, nights, purges = [], [], []
    conversion = None
    for _ in range(broadcasts):
        made = await rows.create(
            Audience(topic="coordinator"), text="Winter greetings " * 20, entities=None,
            photo_file_id=None, created_by=1, author_locale="zh", now=now,
        )  # fmt: skip
        await db.execute(
            "UPDATE deliveries SET status = 'sent', attempts = 1, message_id = id,"
            " updated_at = :now WHERE broadcast_id = :id",
            {"id": made.id, "now": utc_text(now)},
        )
        assert await rows.finish(made.id, now=now)
        now += RETENTION + timedelta(days=1)
        if variant != "baseline":
            started = time.perf_counter()
            await upkeep.purge(before=now - RETENTION, now=now)
            purges.append(time.perf_counter() - started)
            started = time.perf_counter()
            if variant == "upkeep":
                reclaimed = await upkeep.reclaim()
            else:
                await db.run_script("VACUUM;")
            elapsed = time.perf_counter() - started
            if variant == "upkeep" and reclaimed.converted:
                conversion = elapsed
            else:
                nights.append(elapsed)
        sizes.append(await settled(db))
        print(f"{variant:12} after night {len(sizes)}: {sizes[-1] / MB:8.1f} MB", flush=True)
    await db.close()
    return {"sizes": sizes, "nights": nights, "conversion": conversion, "purges": purges}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--talents", type=int, default=100_000)
    parser.add_argument("--broadcasts", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="talentbot-housekeeping-") as tmp:
        folder = Path(tmp)
        results = {
            variant: await run_variant(folder, variant, args.talents, args.broadcasts)
            for variant in ("baseline", "upkeep", "full_vacuum")
        }
    base = results["baseline"]["sizes"]
    kept = results["upkeep"]["sizes"]
    summary = {
        "talents": args.talents,
        "broadcasts": args.broadcasts,
        "baseline_mb": round(base[-1] / MB, 1),
        "upkeep_mb": round(kept[-1] / MB, 1),
        "full_vacuum_mb": round(results["full_vacuum"]["sizes"][-1] / MB, 1),
        "mb_per_broadcast": round((base[-1] - base[0]) / max(1, len(base) - 1) / MB, 1),
        "upkeep_vs_baseline": round(kept[-1] / base[-1], 3),
        "upkeep_spread_mb": round((max(kept) - min(kept)) / MB, 2),
        "conversion_seconds": round(results["upkeep"]["conversion"] or 0.0, 2),
        "incremental_seconds": round(statistics.median(results["upkeep"]["nights"] or [0]), 3),
        "full_vacuum_seconds": round(statistics.median(results["full_vacuum"]["nights"]), 3),
        "purge_seconds": round(statistics.median(results["upkeep"]["purges"]), 3),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    asyncio.run(main())
