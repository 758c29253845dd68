"""A broadcast sent by the real process's background outbox, over HTTP."""

from datetime import UTC, date, datetime

from storage.database import Database
from storage.models import StationKind
from storage.stations import StationRepository
from storage.talents import TalentRepository
from tests.e2e.conftest import running_bot
from tests.support.harness import ADMIN_ID

TALENTS = range(5001, 5011)


async def seed(db_path):
    now = datetime.now(UTC)
    async with Database(db_path) as db:
        station = await StationRepository(db).add(
            name_zh="站", name_en="Hub", kind=StationKind.COMMUNITY, created_by=ADMIN_ID, now=now
        )
        for telegram_id in TALENTS:
            await TalentRepository(db).register(
                telegram_id,
                language="en",
                name=f"T{telegram_id}",
                phone=None,
                expertise=("law",),
                title=None,
                region="R",
                station_id=station.id,
                stay_from=date(now.year - 1, 1, 1),
                stay_to=date(now.year + 1, 1, 1),
                consent_at=now,
                now=now,
            )


async def test_admin_broadcast_is_delivered_by_the_running_bot(tmp_path):
    await seed(tmp_path / "live.sqlite3")
    async with running_bot(tmp_path) as live:
        for telegram_id in TALENTS:
            live.api.open_chat({"id": telegram_id, "first_name": "T"})
        admin = live.user("Admin", id=ADMIN_ID)
        await admin.send("/broadcast")
        await admin.expect("Send the message")
        await admin.send("Tea with the mayor at 3 pm")
        await admin.expect("Which station")
        await admin.tap("All stations")
        await admin.expect("field of expertise")
        await admin.tap("Any field")
        await admin.expect("in the city now")
        await admin.tap("Everyone")
        await admin.expect("Talents it will reach: 10")
        await admin.tap("📣 Send")
        await admin.expect("Broadcast finished: 10 of 10 sent · 0 unreachable · 0 failed.")
        for telegram_id in TALENTS:
            texts = [m.get("text") for m in live.api.bot_messages(telegram_id)]
            assert texts == ["Tea with the mayor at 3 pm"]
    assert live.process.returncode == 0
