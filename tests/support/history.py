"""Databases as earlier versions of talentbot left them, for upgrade tests.

``build(path, version)`` applies the shipped migrations one by one up to ``version`` and, right
after each migration that has a seeder here, inserts realistic rows with the SQL of that
version: the file looks like one that lived through those releases. A migration without a
seeder adds no rows of its own, but the rows of every earlier version still go through it.
``snapshot(path)`` reads what must survive an upgrade with SQL that works at every version.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Callable
from pathlib import Path

from storage.database import Database, load_migrations

TALENTS = 240
T0 = "2025-10-20T02:00:00+00:00"


def _at(day: int, hour: int = 2) -> str:
    return f"2025-{10 + (day // 30):02d}-{1 + day % 30:02d}T{hour:02d}:00:00+00:00"


def seed_foundation(conn: sqlite3.Connection) -> None:
    """Version 1: stations, talents with their expertise, roles and invitations."""
    conn.executemany(
        "INSERT INTO stations (id, name_zh, name_en, kind, created_by, created_at)"
        " VALUES (?, ?, ?, ?, 1, ?)",
        [
            (1, "市民中心站", "Downtown hub", "community", T0),
            (2, "乡村振兴站", "Village station", "community", T0),
            (3, "市人民医院站", "City hospital", "professional", T0),
        ],
    )
    rng = random.Random(1)
    talents, expertise = [], []
    for i in range(1, TALENTS + 1):
        registered = i % 12 != 0  # a few started registering and never finished
        talents.append(
            (
                i,
                700_000 + i,
                rng.choice(["zh", "zh", "en"]),
                f"人才 {i} <&>" if registered else None,
                f"+86138{i:08d}" if i % 3 else None,
                "高级工程师" if i % 4 == 0 else None,
                rng.choice(["沈阳", "哈尔滨", "长春"]) if registered else None,
                rng.choice([1, 2, 3, None]) if registered else None,
                "2025-11-01" if registered else None,
                "2026-03-31" if registered else None,
                T0 if registered else None,
                T0 if registered else None,
                0 if i % 17 == 0 else 1,
                T0,
                T0,
            )
        )
        if registered:
            for field in rng.sample(["medicine", "education", "agriculture", "law"], k=2):
                expertise.append((i, field))
    conn.executemany(
        "INSERT INTO talents (id, telegram_id, language, name, phone, title, region,"
        " station_id, stay_from, stay_to, consent_at, registered_at, reachable, created_at,"
        " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        talents,
    )
    conn.executemany("INSERT INTO talent_expertise (talent_id, field) VALUES (?, ?)", expertise)
    conn.executemany(
        "INSERT INTO roles (talent_id, station_id, role, granted_by, granted_at)"
        " VALUES (?, ?, ?, 1, ?)",
        [(1, 1, "coordinator", T0), (2, 2, "coordinator", T0), (3, 3, "partner", T0)],
    )
    conn.executemany(
        "INSERT INTO invitations (token, station_id, role, created_by, created_at, expires_at,"
        " used_by, used_at) VALUES (?, ?, ?, 1, ?, ?, ?, ?)",
        [
            ("inv-used-1", 1, "coordinator", T0, _at(30), 1, T0),
            ("inv-open-2", 2, "partner", T0, _at(60), None, None),
        ],
    )


def seed_messaging(conn: sqlite3.Connection) -> None:
    """Version 2: a finished and a running broadcast with deliveries, reminders, opt-outs."""
    conn.execute(
        "INSERT INTO broadcasts (id, topic, audience, text, status, total, created_by,"
        " author_locale, created_at, finished_at) VALUES (1, 'coordinator', '{}',"
        " '冬季问候', 'finished', 200, 1, 'zh', ?, ?)",
        (_at(1), _at(1, 3)),
    )
    conn.execute(
        "INSERT INTO broadcasts (id, topic, audience, text, status, total, created_by,"
        " author_locale, created_at) VALUES (2, 'coordinator', '{}', 'Clinic on Saturday',"
        " 'running', 100, 1, 'en', ?)",
        (_at(2),),
    )
    rows = []
    for talent in range(1, 201):
        status = "sent" if talent % 10 else ("unreachable" if talent % 20 else "failed")
        rows.append((1, talent, 700_000 + talent, status, 1, _at(1, 3)))
    for talent in range(1, 101):
        rows.append((2, talent, 700_000 + talent, "sent" if talent < 40 else "pending", 0, None))
    conn.executemany(
        "INSERT INTO deliveries (broadcast_id, talent_id, chat_id, status, attempts, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        rows,
    )
    reminders = []
    for talent in range(1, 61):
        status = ["sent", "pending", "dropped", "cancelled"][talent % 4]
        reminders.append(
            (talent, "activity", 9000 + talent % 5, "24h", _at(5), _at(6), status, T0, T0)
        )
    conn.executemany(
        "INSERT INTO reminders (talent_id, subject, subject_id, kind, due_at, expires_at,"
        " text_key, params, status, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, 'reminder.activity', '{}', ?, ?, ?)",
        reminders,
    )
    conn.executemany(
        "INSERT INTO notification_optouts (talent_id, topic, created_at) VALUES (?, ?, ?)",
        [(t, "coordinator", T0) for t in range(5, 40, 7)],
    )


def seed_activities(conn: sqlite3.Connection) -> None:
    """Version 3: activities in every status, signups with a waitlist, an announcement."""
    activities = []
    for i in range(1, 21):
        status = ["published", "finished", "cancelled", "draft"][i % 4]
        station = [1, 2, 3, None][i % 4]
        activities.append(
            (i, station, "clinic" if i % 2 else "lecture", f"活动 {i}", "地点", _at(i), _at(i, 4),
             10 if i % 3 else 0, 5 * (i % 4), status, T0, T0)
        )  # fmt: skip
    conn.executemany(
        "INSERT INTO activities (id, station_id, kind, title, place, starts_at, ends_at,"
        " capacity, points, status, created_by, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
        activities,
    )
    signups = []
    for activity in range(1, 21):
        for n, talent in enumerate(range(activity, TALENTS, 9)):
            status = "going" if n < 10 else ("waitlist" if n < 14 else "cancelled")
            signups.append((activity, talent, status, n if status == "waitlist" else 0, T0, T0))
    conn.executemany(
        "INSERT INTO signups (activity_id, talent_id, status, position, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        signups,
    )
    conn.execute(
        "INSERT INTO broadcasts (id, topic, audience, text, status, total, created_by,"
        " created_at, finished_at, buttons) VALUES (3, 'kind:clinic', '{}', '新活动', 'finished',"
        ' 0, 1, ?, ?, \'[[{"text": "查看", "url": "https://t.me/x?start=act-1"}]]\')',
        (_at(3), _at(3)),
    )


def seed_checkins(conn: sqlite3.Connection) -> None:
    """Version 4: check-ins (the trigger credits them), corrected hours, adjustments."""
    conn.executemany(
        "UPDATE activities SET checkin_token = ? WHERE id = ?",
        [(f"tok{i:04d}", i) for i in range(1, 21)],
    )
    attendance = []
    for activity in range(1, 21):
        for n, talent in enumerate(range(activity, TALENTS, 9)):
            if n < 8:
                method = "manual" if n == 0 else "scan"
                attendance.append(
                    (activity, talent, _at(activity, 3), method, 1 if method == "manual" else None,
                     n == 7, 2.0)
                )  # fmt: skip
    conn.executemany(
        "INSERT INTO attendance (activity_id, talent_id, checked_in_at, method, by_whom,"
        " walk_in, hours) VALUES (?, ?, ?, ?, ?, ?, ?)",
        attendance,
    )
    conn.executemany(
        "INSERT INTO hour_corrections (attendance_id, hours, reason, by_whom, created_at)"
        " VALUES (?, ?, 'left early', 1, ?)",
        [(i, 1.5, T0) for i in range(1, 40, 5)],
    )
    conn.executemany(
        "INSERT INTO ledger (talent_id, delta, kind, reason, by_whom, created_at,"
        " idempotency_key) VALUES (?, ?, 'adjust', ?, 1, ?, ?)",
        [(t, 20 if t % 2 else 3, "补记", T0, f"adjust:{t}") for t in range(1, 50, 4)],
    )


def seed_rewards(conn: sqlite3.Connection) -> None:
    """Version 5: rewards and vouchers in every status, with their ledger rows."""
    conn.executemany(
        "INSERT INTO rewards (id, name_zh, name_en, station_id, cost, stock, per_talent_limit,"
        " valid_days, active, created_by, created_at) VALUES (?, ?, ?, 3, ?, ?, ?, 30, ?, 1, ?)",
        [
            (1, "酒店一晚", "Hotel night", 10, 5, 1, 1, T0),
            (2, "景区门票", "Scenic ticket", 5, 40, 0, 1, T0),
            (3, "纪念品", "Souvenir", 3, 0, 0, 0, T0),
        ],
    )
    vouchers, ledger = [], []
    earners = conn.execute(
        "SELECT talent_id FROM ledger GROUP BY talent_id HAVING sum(delta) >= 10 ORDER BY 1"
    ).fetchall()
    for n, (talent,) in enumerate(earners[:40]):
        reward, cost = (1, 10) if n % 4 == 0 else (2, 5)
        status = ["valid", "used", "expired", "cancelled"][n % 4]
        code = f"C{n:05d}"
        vouchers.append(
            (reward, talent, code, cost, status, T0, _at(40),
             _at(10) if status == "used" else None, 3 if status == "used" else None,
             _at(41) if status in ("expired", "cancelled") else None)
        )  # fmt: skip
        ledger.append((talent, -cost, "redeem", f"voucher:{code}", T0, f"redeem:{code}"))
        if status in ("expired", "cancelled"):
            ledger.append((talent, cost, "refund", f"voucher:{code}", T0, f"refund:{code}"))
    conn.executemany(
        "INSERT INTO vouchers (reward_id, talent_id, code, cost, status, created_at, valid_until,"
        " used_at, used_by, closed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        vouchers,
    )
    conn.executemany(
        "INSERT INTO ledger (talent_id, delta, kind, ref, created_at, idempotency_key)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        ledger,
    )


def seed_upkeep(conn: sqlite3.Connection) -> None:
    """Version 10: a broadcast whose deliveries were cleaned up, and the last update noted."""
    conn.execute(
        "INSERT INTO broadcasts (id, topic, audience, text, status, total, created_by,"
        " created_at, finished_at, sent_count, unreachable_count, failed_count,"
        " cancelled_count, purged_at) VALUES (4, 'coordinator', '{}', '旧消息', 'finished',"
        " 900, 1, ?, ?, 880, 15, 5, 0, ?)",
        (_at(0), _at(0), _at(45)),
    )
    conn.execute(
        "INSERT INTO runtime (key, value, updated_at) VALUES ('last_update', '31337', ?)",
        (_at(50),),
    )


# The version whose schema each seeder's SQL is written for.
SEEDERS: dict[int, Callable[[sqlite3.Connection], None]] = {
    1: seed_foundation,
    2: seed_messaging,
    3: seed_activities,
    4: seed_checkins,
    5: seed_rewards,
    10: seed_upkeep,
}


async def build(path: Path, version: int) -> None:
    """A database at schema ``version``, with the rows each release up to it would have made."""
    for step, _, _ in load_migrations():
        if step > version:
            break
        db = Database(path)
        await db.connect(migrate=False)
        try:
            await db.migrate(upto=step)
        finally:
            await db.close()
        seeder = SEEDERS.get(step)
        if seeder is not None:
            conn = sqlite3.connect(path)
            try:
                with conn:
                    conn.execute("PRAGMA foreign_keys = ON")
                    seeder(conn)
            finally:
                conn.close()


def snapshot(path: Path) -> dict[str, object]:
    """What an upgrade must keep: every table's row count and the facts people rely on."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
                " AND name NOT LIKE 'sqlite_%' AND name != 'schema_migrations' ORDER BY name"
            )
        ]
        facts: dict[str, object] = {
            "counts": {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}
        }
        queries = {
            "talents": "SELECT telegram_id, name, phone, station_id, registered_at, reachable"
            " FROM talents ORDER BY id",
            "balances": "SELECT talent_id, sum(delta) FROM ledger GROUP BY talent_id ORDER BY 1",
            "attendance": "SELECT activity_id, talent_id, checked_in_at, hours FROM attendance"
            " ORDER BY id",
            "deliveries": "SELECT broadcast_id, status, count(*) FROM deliveries"
            " GROUP BY 1, 2 ORDER BY 1, 2",
            "signups": "SELECT activity_id, talent_id, status, position FROM signups ORDER BY id",
            "vouchers": "SELECT code, status, cost FROM vouchers ORDER BY id",
            "stock": "SELECT id, stock FROM rewards ORDER BY id",
            "reminders": "SELECT status, count(*) FROM reminders GROUP BY 1 ORDER BY 1",
        }
        needs = {"balances": "ledger", "stock": "rewards"}
        for name, sql in queries.items():
            if needs.get(name, name) in tables:
                facts[name] = [tuple(row) for row in conn.execute(sql)]
    return facts
