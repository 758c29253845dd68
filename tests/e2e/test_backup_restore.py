"""``talentbot backup`` while the bot runs a broadcast and a rush at the door, then ``restore``:
every balance, attendance and delivery comes back, and the files pass SQLite's integrity check."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import sqlite3
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from localapi import FakeBotApi
from localapi.chat import ChatUser
from storage.database import Database, utc_text
from storage.models import Audience, StationKind
from storage.outbox import BroadcastRepository
from storage.stations import StationRepository
from storage.talents import TalentRepository
from tests.e2e.conftest import TALENTBOT, bot_env, no_wait, running_bot
from tests.support.harness import ADMIN_ID

TALENTS = 200
TEXT = "Winter clinic on Saturday at the hub."
CHECKED_IN = "✅ Checked in"


async def seed(db_path) -> str:
    """A station's talents, an activity under way with a check-in code, and a broadcast to
    all of them queued before the bot starts (the bot resumes it at start)."""
    now = datetime.now(UTC)
    today = now.date()
    token = secrets.token_urlsafe(16)  # the shape the bot makes its codes in
    async with Database(db_path) as db:
        station = await StationRepository(db).add(
            name_zh="市民中心站", name_en="Downtown hub", kind=StationKind.COMMUNITY,
            created_by=ADMIN_ID, now=now,
        )  # fmt: skip
        talents = TalentRepository(db)
        for n in range(TALENTS):
            await talents.register(
                50_000 + n, language="en", name=f"Talent {n}", phone=f"+8613900{n:06d}",
                expertise=("medicine",), title=None, region="Harbin", station_id=station.id,
                stay_from=today - timedelta(days=30), stay_to=today + timedelta(days=90),
                consent_at=now, now=now,
            )  # fmt: skip
        await db.execute(
            "INSERT INTO activities (station_id, kind, title, place, starts_at, ends_at, points,"
            " status, created_by, created_at, updated_at, checkin_token) VALUES (?, 'clinic',"
            " 'Eye clinic', 'Hub', ?, ?, 10, 'published', ?, ?, ?, ?)",
            (
                station.id,
                utc_text(now - timedelta(minutes=10)),
                utc_text(now + timedelta(hours=2)),
                ADMIN_ID,
                utc_text(now),
                utc_text(now),
                token,
            ),
        )
        await BroadcastRepository(db).create(
            Audience(topic="coordinator", station_ids=(station.id,)),
            text=TEXT, entities=None, photo_file_id=None, created_by=ADMIN_ID,
            author_locale="en", now=now,
        )  # fmt: skip
    return token


async def talentbot(tmp_path, env, *args):
    return await asyncio.to_thread(
        subprocess.run,
        [str(TALENTBOT), *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def facts(path):
    """Balances, attendance, deliveries and ledger of a database file, and its integrity."""
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        return {
            "integrity": conn.execute("PRAGMA integrity_check").fetchone()[0],
            "balances": conn.execute(
                "SELECT talent_id, sum(delta) FROM ledger GROUP BY talent_id ORDER BY 1"
            ).fetchall(),
            "attendance": conn.execute(
                "SELECT activity_id, talent_id, checked_in_at, hours FROM attendance ORDER BY 2"
            ).fetchall(),
            "ledger": conn.execute(
                "SELECT talent_id, delta, kind, idempotency_key FROM ledger ORDER BY id"
            ).fetchall(),
            "deliveries": conn.execute(
                "SELECT id, talent_id, status, attempts, message_id FROM deliveries ORDER BY id"
            ).fetchall(),
            "broadcast": conn.execute("SELECT status FROM broadcasts").fetchone()[0],
        }


async def test_backup_during_a_broadcast_and_a_rush_restores_exactly(tmp_path):
    live_db = tmp_path / "live.sqlite3"
    token = await seed(live_db)
    api = FakeBotApi()
    for n in range(TALENTS):
        api.open_chat({"id": 50_000 + n, "first_name": f"Talent {n}", "language_code": "en"})
    # Twenty messages a second: the broadcast to 200 takes about ten seconds.
    async with running_bot(tmp_path, api=api, TALENTBOT_SEND_RATE="20") as live:
        env = bot_env(live.api, "http://127.0.0.1:9/bot", tmp_path)
        users = [
            ChatUser(live.api, no_wait, f"Talent {n}", "en", id=50_000 + n) for n in range(TALENTS)
        ]

        def answered() -> int:
            return sum(any(CHECKED_IN in text for text in u.texts()) for u in users)

        def delivered() -> int:
            return sum(TEXT in u.texts() for u in users)

        await live.api.wait_for(lambda: delivered() >= 5, timeout=30)
        # The first half of the crowd scans at once, and the backup starts in the middle of it.
        for user in users[: TALENTS // 2]:
            await user.send(f"/start ci-{token}")
        mid = await talentbot(tmp_path, env, "backup", str(tmp_path / "mid.sqlite3"))
        assert mid.returncode == 0, mid.stderr
        for user in users[TALENTS // 2 :]:
            await user.send(f"/start ci-{token}")
        await live.api.wait_for(lambda: answered() == TALENTS, timeout=60)
        await live.api.wait_for(lambda: delivered() == TALENTS, timeout=60)
        await live.api.wait_for(lambda: facts(live_db)["broadcast"] == "finished", timeout=30)

        end = await talentbot(tmp_path, env, "backup", str(tmp_path / "end.sqlite3"))
        assert end.returncode == 0, end.stderr
        assert end.stdout.startswith(f"{tmp_path / 'end.sqlite3'}: backup of {live_db}")

        # While the bot runs, nothing may be restored over its database.
        refused = await talentbot(tmp_path, env, "restore", str(tmp_path / "end.sqlite3"))
        assert refused.returncode != 0
        assert refused.stderr.strip().splitlines() == [
            f"talentbot: a talentbot (pid {live.process.pid}) is running on {live_db};"
            " stop it first"
        ]

    final = facts(live_db)
    assert final["integrity"] == "ok"
    assert len(final["attendance"]) == TALENTS
    assert final["balances"] == [(talent, 10) for talent in range(1, TALENTS + 1)]
    assert {row[2] for row in final["deliveries"]} == {"sent"}

    # The backup taken when everything was done restores into a new place exactly.
    restored_env = {**env, "TALENTBOT_DB": str(tmp_path / "restored" / "talentbot.sqlite3")}
    result = await talentbot(tmp_path, restored_env, "restore", str(tmp_path / "end.sqlite3"))
    assert result.returncode == 0, result.stderr
    assert facts(tmp_path / "restored" / "talentbot.sqlite3") == final

    # The backup taken in the middle is one consistent moment: the broadcast still running,
    # part of the crowd checked in, and each check-in credited exactly once.
    middle_env = {**env, "TALENTBOT_DB": str(tmp_path / "middle" / "talentbot.sqlite3")}
    result = await talentbot(tmp_path, middle_env, "restore", str(tmp_path / "mid.sqlite3"))
    assert result.returncode == 0, result.stderr
    middle = facts(tmp_path / "middle" / "talentbot.sqlite3")
    assert middle["integrity"] == "ok"
    assert middle["broadcast"] == "running"
    assert len(middle["attendance"]) <= TALENTS // 2
    checked_in = {row[1] for row in middle["attendance"]}
    assert middle["balances"] == [(talent, 10) for talent in sorted(checked_in)]
    assert set(middle["attendance"]) <= set(final["attendance"])
    assert set(middle["ledger"]) <= set(final["ledger"])
    sent_then = {row[0] for row in middle["deliveries"] if row[2] == "sent"}
    assert 0 < len(sent_then) < TALENTS
    assert {row[0]: row for row in final["deliveries"] if row[0] in sent_then} == {
        row[0]: row for row in middle["deliveries"] if row[0] in sent_then
    }

    # With the bot stopped, a restore over its database keeps the replaced file beside it.
    result = await talentbot(tmp_path, env, "restore", str(tmp_path / "mid.sqlite3"))
    assert result.returncode == 0, result.stderr
    kept = result.stdout.strip().splitlines()[-1]
    assert kept.startswith(f"the database it replaced is kept as {live_db}.replaced-")
    replaced = Path(kept.rsplit(" ", 1)[1])
    assert facts(live_db) == middle
    assert facts(replaced) == final


async def test_restore_refuses_a_damaged_or_missing_backup(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "TALENTBOT_DB": str(tmp_path / "db.sqlite3")}
    (tmp_path / "junk.sqlite3").write_bytes(b"not a database at all" * 100)
    result = await talentbot(tmp_path, env, "restore", str(tmp_path / "junk.sqlite3"))
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        f"talentbot: {tmp_path / 'junk.sqlite3'} is not a talentbot database"
        " (file is not a database)"
    ]
    result = await talentbot(tmp_path, env, "restore", str(tmp_path / "nothing.sqlite3"))
    assert result.stderr.strip().splitlines() == [
        f"talentbot: there is no backup at {tmp_path / 'nothing.sqlite3'}"
    ]
    assert not (tmp_path / "db.sqlite3").exists()


async def test_backup_without_a_file_goes_to_the_backup_folder(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "TALENTBOT_DB": str(tmp_path / "db.sqlite3"),
        "TALENTBOT_BACKUP_DIR": str(tmp_path / "kept"),
    }
    assert (await talentbot(tmp_path, env, "migrate")).returncode == 0
    result = await talentbot(tmp_path, env, "backup")
    assert result.returncode == 0, result.stderr
    [made] = (tmp_path / "kept").glob("talentbot-*.sqlite3")
    assert result.stdout.startswith(f"{made}: backup of {tmp_path / 'db.sqlite3'}")
    # A self-contained file: no write-ahead log needed beside it.
    with contextlib.closing(sqlite3.connect(made)) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert date.today().strftime("%Y") in made.name
