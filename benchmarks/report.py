"""The season report of a province: every station's figures over a big database.

    python -m benchmarks.report [--talents 100000] [--activities 2000] [--attendance 200000]
                                [--ledger 1000000]

Builds a real SQLite file with that many talents, activities, check-ins and ledger rows (plus
signups, hour corrections and used vouchers), migrated like the bot's. Then, each in a fresh
process so that its peak memory is its own:
- the baseline: plain SUM and COUNT queries over the same tables;
- the report: the season's figures for all stations, the message and the chart, which is
  what an admin waits for (``seconds``); then the spreadsheet of every talent, sent after
  them (``spreadsheet_seconds``).
Each is run three times and the median taken. The last line printed is one JSON object:
seconds, baseline_seconds, ratio, spreadsheet_seconds, rss_mb, baseline_rss_mb, and the sizes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from storage.database import Database

SEASON = (date(2026, 10, 1), date(2027, 9, 30))
NOW = datetime(2027, 10, 2, 4, 0, tzinfo=UTC)  # after the season, so everything is held
KINDS = ("event", "volunteer", "lecture", "clinic", "teaching", "mentoring", "other")
BASELINE = (
    "SELECT count(*), count(registered_at) FROM talents",
    "SELECT count(*), sum(hours), sum(walk_in) FROM attendance",
    "SELECT count(*), sum(hours) FROM hour_corrections",
    "SELECT count(*), sum(delta) FROM ledger",
    "SELECT count(*) FROM activities",
    "SELECT count(*) FROM signups",
    "SELECT count(*), sum(cost) FROM vouchers",
)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def build(path: Path, talents: int, activities: int, attendance: int, ledger: int) -> dict:
    """Fill the database with rows of the shapes the bot writes."""
    rng = random.Random(2026)
    asyncio.run(_migrate(path))
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = OFF")
    start = datetime(2026, 9, 30, 16, 0, tzinfo=UTC)
    with conn:
        stations = [
            ("市民中心站", "Downtown hub", "community"),
            ("乡村振兴工作站", "Village station", "community"),
            ("市人民医院专家工作站", "City hospital", "professional"),
            ("中医院名医工作站", "TCM hospital", "professional"),
            ("温泉酒店", "Spa hotel", "community"),
        ]
        conn.executemany(
            "INSERT INTO stations (name_zh, name_en, kind, created_by, created_at)"
            " VALUES (?, ?, ?, 1, '2026-01-01T00:00:00+00:00')",
            stations,
        )
        conn.execute(
            "UPDATE funding_rates SET per_talent_minor = 20000, per_hour_minor = 5000"
            " WHERE station_kind = 'professional'"
        )

        def talent_rows():
            for i in range(talents):
                registered = (
                    start - timedelta(days=400) + timedelta(minutes=rng.randrange(700_000))
                )
                stay_from = date(2026, 10, 1) + timedelta(days=rng.randrange(-30, 120))
                station = rng.choice((1, 2, 3, 4, None))
                yield (
                    1_000_000 + i, "zh", f"人才{i}", station, stay_from.isoformat(),
                    (stay_from + timedelta(days=rng.randrange(30, 180))).isoformat(),
                    iso(registered), iso(registered), iso(registered), iso(registered),
                )  # fmt: skip

        conn.executemany(
            "INSERT INTO talents (telegram_id, language, name, station_id, stay_from, stay_to,"
            " consent_at, registered_at, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            talent_rows(),
        )
        spans = []
        for i in range(activities):
            begins = start + timedelta(minutes=rng.randrange(364 * 24 * 60))
            ends = begins + timedelta(hours=rng.choice((1, 1.5, 2, 3)))
            station = rng.choice((1, 2, 3, 4, None))
            status = "cancelled" if rng.random() < 0.03 else "published"
            spans.append((begins, ends))
            conn.execute(
                "INSERT INTO activities (station_id, kind, title, place, starts_at, ends_at,"
                " points, status, created_by, created_at, updated_at)"
                " VALUES (?, ?, ?, 'Hall', ?, ?, ?, ?, 1, ?, ?)",
                (station, rng.choice(KINDS), f"活动 {i}", iso(begins), iso(ends),
                 rng.choice((0, 5, 10, 20)), status, iso(begins), iso(begins)),
            )  # fmt: skip
        pairs: set[tuple[int, int]] = set()
        while len(pairs) < attendance:
            pairs.add((rng.randrange(1, activities + 1), rng.randrange(1, talents + 1)))
        ordered = sorted(pairs)
        signed = [pair for pair in ordered if rng.random() < 0.8]
        no_shows = set()
        while len(no_shows) < attendance // 4:
            pair = (rng.randrange(1, activities + 1), rng.randrange(1, talents + 1))
            if pair not in pairs:
                no_shows.add(pair)
        conn.executemany(
            "INSERT INTO signups (activity_id, talent_id, status, created_at, updated_at)"
            " VALUES (?, ?, 'going', '2026-09-01T00:00:00+00:00', '2026-09-01T00:00:00+00:00')",
            [*signed, *sorted(no_shows)],
        )
        signed_set = set(signed)

        def attendance_rows():
            for activity, talent in ordered:
                begins, ends = spans[activity - 1]
                yield (
                    activity, talent, iso(begins + timedelta(minutes=rng.randrange(-30, 30))),
                    int((activity, talent) not in signed_set),
                    round((ends - begins).total_seconds() / 3600, 2),
                )  # fmt: skip

        # The attendance_credit trigger writes an earn row for each check-in with points.
        conn.executemany(
            "INSERT INTO attendance (activity_id, talent_id, checked_in_at, method, walk_in,"
            " hours) VALUES (?, ?, ?, 'scan', ?, ?)",
            attendance_rows(),
        )
        conn.executemany(
            "INSERT INTO hour_corrections (attendance_id, hours, reason, by_whom, created_at)"
            " VALUES (?, ?, 'late', 1, '2027-01-01T00:00:00+00:00')",
            [(rng.randrange(1, attendance + 1), rng.choice((0.5, 1.25, 2))) for _ in range(2000)],
        )
        earned = conn.execute("SELECT count(*) FROM ledger").fetchone()[0]
        conn.execute(
            "INSERT INTO rewards (name_zh, name_en, station_id, cost, stock, valid_days,"
            " created_by, created_at) VALUES ('一晚', 'A night', 5, 50, 100000, 30, 1,"
            " '2026-01-01T00:00:00+00:00')"
        )

        def ledger_rows():
            for i in range(ledger - earned):
                when = start - timedelta(days=365) + timedelta(minutes=rng.randrange(1_050_000))
                kind = rng.choice(("earn", "earn", "adjust", "redeem", "refund"))
                delta = {"earn": 10, "adjust": 5, "redeem": -50, "refund": 50}[kind]
                yield (rng.randrange(1, talents + 1), delta, kind, iso(when), f"bench:{i}")

        conn.executemany(
            "INSERT INTO ledger (talent_id, delta, kind, created_at, idempotency_key)"
            " VALUES (?, ?, ?, ?, ?)",
            ledger_rows(),
        )
        conn.executemany(
            "INSERT INTO vouchers (reward_id, talent_id, code, cost, status, created_at,"
            " valid_until, used_at, used_by) VALUES (1, ?, ?, 50, 'used', ?, ?, ?, 1)",
            [
                (rng.randrange(1, talents + 1), f"C{i:08d}", iso(w), iso(w + timedelta(30)),
                 iso(w + timedelta(days=1)))
                for i in range(20_000)
                for w in [start + timedelta(minutes=rng.randrange(500_000))]
            ],
        )  # fmt: skip
    conn.execute("ANALYZE")
    sizes = {
        table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        for table in ("talents", "activities", "attendance", "signups", "ledger", "vouchers")
    }
    conn.close()
    return sizes


async def _migrate(path: Path) -> None:
    async with Database(path):
        pass


async def measure_report(path: Path) -> dict:
    from bot.clock import FrozenClock
    from bot.render.report import compose, spreadsheet
    from bot.services import Services
    from bot.services.reports import Period, PeriodKind
    from bot.settings import Settings

    settings = Settings(_env_file=None, TELEGRAM_BOT_TOKEN="1:x", TALENTBOT_DB=path)
    async with Database(path) as db:
        services = Services.build(settings, db, FrozenClock(NOW))
        period = Period(*SEASON, PeriodKind.LAST_SEASON)
        first, sheets = [], []
        for _ in range(3):
            started = time.perf_counter()
            report = await services.reports.build(None, period)
            await compose(services.translator, "zh", report)
            first.append(time.perf_counter() - started)
            started = time.perf_counter()
            sheet = await spreadsheet(services.translator, "zh", services.reports, report)
            sheets.append(time.perf_counter() - started)
    return {
        "seconds": statistics.median(first),
        "spreadsheet_seconds": statistics.median(sheets),
        "hours": float(report.total.hours),
        "engaged": report.total.engaged,
        "xlsx_kb": len(sheet.data) // 1024,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


async def measure_baseline(path: Path) -> dict:
    async with Database(path) as db:
        runs = []
        for _ in range(3):
            started = time.perf_counter()
            for sql in BASELINE:
                await db.fetch_one(sql)
            runs.append(time.perf_counter() - started)
    return {
        "baseline_seconds": statistics.median(runs),
        "baseline_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def child(mode: str, path: Path) -> dict:
    """Run one measurement in a fresh interpreter and return its JSON."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.report", f"--{mode}", str(path)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--talents", type=int, default=100_000)
    parser.add_argument("--activities", type=int, default=2_000)
    parser.add_argument("--attendance", type=int, default=200_000)
    parser.add_argument("--ledger", type=int, default=1_000_000)
    parser.add_argument("--report", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--baseline", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.report:
        print(json.dumps(asyncio.run(measure_report(args.report))))
        return
    if args.baseline:
        print(json.dumps(asyncio.run(measure_baseline(args.baseline))))
        return
    path = Path(tempfile.mkdtemp(prefix="talentbot-report-")) / "bench.sqlite3"
    started = time.perf_counter()
    sizes = build(path, args.talents, args.activities, args.attendance, args.ledger)
    print(f"built {sizes} in {time.perf_counter() - started:.1f} s at {path}")
    baseline = child("baseline", path)
    report = child("report", path)
    result = {
        **report,
        **baseline,
        "ratio": round(report["seconds"] / baseline["baseline_seconds"], 2),
        **sizes,
    }
    print(
        f"season report, all stations: {report['seconds']:.3f} s (figures, message, chart), "
        f"then {report['spreadsheet_seconds']:.3f} s for the spreadsheet of every talent; "
        f"plain sums: {baseline['baseline_seconds']:.3f} s; peak memory {report['rss_mb']:.0f} MB"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
