import asyncio
import sqlite3
from datetime import UTC, date, datetime, timedelta

import pytest

from storage.database import Database, application_id, create_marked, load_migrations
from storage.models import Audience, RoleName, StationKind
from storage.outbox import BroadcastRepository
from storage.roles import InvitationRepository, RedeemOutcome, RoleRepository
from storage.stations import StationRepository
from storage.talents import TalentRepository

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


@pytest.fixture
async def db(tmp_path):
    database = Database(tmp_path / "t.sqlite3")
    await database.connect()
    yield database
    await database.close()


async def test_migrations_are_recorded_and_applied_once(tmp_path):
    path = tmp_path / "m.sqlite3"
    async with Database(path) as first:
        # The newest number: numbers are given out per change, so one may be missing here.
        assert await first.schema_version() == max(v for v, _, _ in load_migrations())
        rows = await first.fetch_all("SELECT version, name FROM schema_migrations")
        assert [(r[0], r[1]) for r in rows] == [(v, n) for v, n, _ in load_migrations()]
    async with Database(path) as again:
        assert await again.migrate() == []


async def test_pragmas(db):
    assert await db.fetch_value("PRAGMA journal_mode") == "wal"
    assert await db.fetch_value("PRAGMA foreign_keys") == 1
    assert await db.fetch_value("PRAGMA busy_timeout") == 5000


async def test_transaction_rolls_back_on_error(db):
    stations = StationRepository(db)
    with pytest.raises(RuntimeError):
        async with db.transaction() as tx:
            await tx.execute(
                "INSERT INTO stations (name_zh, name_en, created_by, created_at)"
                " VALUES ('甲', 'A', 1, 'now')"
            )
            raise RuntimeError("boom")
    assert await stations.list() == []


async def test_foreign_keys_are_enforced(db):
    with pytest.raises(sqlite3.IntegrityError):
        await db.execute(
            "INSERT INTO roles (talent_id, station_id, role, granted_at)"
            " VALUES (99, 99, 'partner', 'x')"
        )


async def test_stations_add_rename_list(db):
    stations = StationRepository(db)
    hub = await stations.add(
        name_zh="市民中心站",
        name_en="Downtown hub",
        kind=StationKind.COMMUNITY,
        created_by=1,
        now=NOW,
    )
    assert hub.name("zh") == "市民中心站" and hub.name("en") == "Downtown hub"
    assert await stations.rename(hub.id, name_zh="中心站", name_en="Hub", by=1, now=NOW)
    assert not await stations.rename(999, name_zh="x", name_en="y", by=1, now=NOW)
    assert [s.name_en for s in await stations.list()] == ["Hub"]


async def test_talent_registration_round_trip(db):
    talents = TalentRepository(db)
    await talents.set_language(100, "en", now=NOW)
    assert (await talents.by_telegram_id(100)).registered is False
    talent = await talents.register(
        100,
        language="en",
        name="Wang Li",
        phone="+8613800138000",
        expertise=["medicine", "education", "medicine"],
        title=None,
        region="Harbin",
        station_id=None,
        stay_from=date(2026, 12, 1),
        stay_to=date(2027, 3, 15),
        consent_at=NOW,
        now=NOW,
    )
    assert talent.registered and talent.reachable
    assert talent.expertise == ("education", "medicine")
    assert talent.stay_to == date(2027, 3, 15)
    assert talent.consent_at == NOW
    changed = await talents.update_profile(
        talent.id, {"name": "Wang", "expertise": ["law"]}, now=NOW + timedelta(hours=1)
    )
    assert changed.name == "Wang" and changed.expertise == ("law",)
    with pytest.raises(ValueError, match="not profile columns"):
        await talents.update_profile(talent.id, {"telegram_id": 5}, now=NOW)
    assert await talents.count_registered() == 1


async def test_stay_order_is_a_constraint(db):
    talents = TalentRepository(db)
    talent = await talents.ensure(5, now=NOW)
    with pytest.raises(sqlite3.IntegrityError):
        await talents.update_profile(
            talent.id, {"stay_from": date(2027, 1, 2), "stay_to": date(2027, 1, 1)}, now=NOW
        )


async def test_reachable_flag_reports_changes(db):
    talents = TalentRepository(db)
    await talents.ensure(7, now=NOW)
    assert await talents.set_reachable(7, False, now=NOW) is True
    assert await talents.set_reachable(7, False, now=NOW) is False
    assert (await talents.by_telegram_id(7)).reachable is False


async def make_invitation(db, token="tok", expires=NOW + timedelta(days=1)):
    station = await StationRepository(db).add(
        name_zh="站", name_en="S", kind=StationKind.PROFESSIONAL, created_by=1, now=NOW
    )
    return await InvitationRepository(db).create(
        token=token,
        station_id=station.id,
        role=RoleName.COORDINATOR,
        created_by=1,
        now=NOW,
        expires_at=expires,
    )


async def test_invitation_is_used_once(db):
    invitations = InvitationRepository(db)
    invitation = await make_invitation(db)
    outcome, _ = await invitations.redeem("tok", 200, now=NOW)
    assert outcome == RedeemOutcome.GRANTED
    roles = await RoleRepository(db).of_telegram_user(200)
    assert [(r.station_id, r.role) for r in roles] == [(invitation.station_id, "coordinator")]
    assert (await invitations.redeem("tok", 201, now=NOW))[0] == RedeemOutcome.USED
    assert (await invitations.redeem("tok", 200, now=NOW))[0] == RedeemOutcome.ALREADY_HAD
    assert (await invitations.redeem("nope", 200, now=NOW))[0] == RedeemOutcome.UNKNOWN
    used = await invitations.get("tok")
    assert used.used_at == NOW and used.used_by is not None


async def test_invitation_expires(db):
    await make_invitation(db, expires=NOW + timedelta(minutes=1))
    outcome, _ = await InvitationRepository(db).redeem("tok", 1, now=NOW + timedelta(minutes=1))
    assert outcome == RedeemOutcome.EXPIRED
    assert await RoleRepository(db).of_telegram_user(1) == []


async def test_invitation_opened_by_many_at_once_grants_one_role(db):
    invitation = await make_invitation(db)
    invitations = InvitationRepository(db)
    outcomes = await asyncio.gather(
        *(invitations.redeem("tok", 1000 + i, now=NOW) for i in range(20))
    )
    assert sorted(o for o, _ in outcomes).count(RedeemOutcome.GRANTED) == 1
    holders = await RoleRepository(db).holders(invitation.station_id, RoleName.COORDINATOR)
    assert len(holders) == 1


async def test_a_marked_database_keeps_its_mark_in_the_file_through_wal_and_migrations(tmp_path):
    path = tmp_path / "marked.sqlite3"
    create_marked(path, 0x74627378)
    async with Database(path) as db:
        await TalentRepository(db).ensure(5, now=NOW)
        # Still open: the migrations and the row sit in the WAL, the header in the file.
        assert application_id(path) == 0x74627378
    assert application_id(path) == 0x74627378
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA application_id").fetchone()[0] == 0x74627378
    with pytest.raises(FileExistsError):
        create_marked(path, 0x74627378)


async def test_a_database_created_otherwise_is_unmarked(tmp_path):
    async with Database(tmp_path / "plain.sqlite3"):
        pass
    (tmp_path / "empty").touch()
    (tmp_path / "text").write_text("SQLite format 3 is what this file says, and nothing more")
    assert application_id(tmp_path / "plain.sqlite3") == 0
    assert application_id(tmp_path / "empty") is None
    assert application_id(tmp_path / "text") is None
    assert application_id(tmp_path / "missing") is None
    assert application_id(tmp_path) is None


async def test_a_read_sees_what_was_committed_while_another_read_was_open(db):
    """Two reads must not share one snapshot: the second one sees the write between them."""
    await db.execute("CREATE TABLE seen (n INTEGER)")
    await db.execute("INSERT INTO seen VALUES (1), (2)")
    opened, release = asyncio.Event(), asyncio.Event()

    async def slow_reader() -> list:
        async with db._read("SELECT n FROM seen", ()) as cursor:
            first = await cursor.fetchone()
            opened.set()
            await release.wait()  # the cursor, and so its read transaction, stays open
            return [first[0], *(row[0] for row in await cursor.fetchall())]

    slow = asyncio.create_task(slow_reader())
    await opened.wait()
    await db.execute("INSERT INTO seen VALUES (3)")
    later = asyncio.create_task(db.fetch_value("SELECT count(*) FROM seen"))
    await asyncio.sleep(0)  # let the later read start, if it could, before the first one ends
    release.set()
    assert await slow == [1, 2]
    assert await later == 3


async def test_broadcast_progress_counts_always_equal_the_rows(db):
    talents = TalentRepository(db)
    for telegram_id in range(300, 330):
        await talents.register(
            telegram_id, language="en", name=f"T{telegram_id}", phone=None,
            expertise=["law"], title=None, region="R", station_id=None,
            stay_from=date(2026, 12, 1), stay_to=date(2027, 3, 15), consent_at=NOW, now=NOW,
        )  # fmt: skip
    rows = BroadcastRepository(db)

    async def create():
        return await rows.create(
            Audience(topic="coordinator"), text="Hi", entities=None, photo_file_id=None,
            created_by=1, author_locale="en", now=NOW,
        )  # fmt: skip

    async def agree(broadcast_id):
        counted = await db.fetch_all(
            "SELECT status, count(*) FROM deliveries WHERE broadcast_id = ? GROUP BY status",
            (broadcast_id,),
        )
        progress = await rows.progress(broadcast_id)
        expected = {status: count for status, count in counted}
        assert {k: v for k, v in progress.model_dump().items() if v and k != "total"} == expected
        assert progress.total == sum(expected.values())

    first, second = await create(), await create()
    await agree(first.id)
    queue = await rows.queue(now=NOW, limit=100)
    mine = [d.id for d in queue if d.broadcast_id == first.id]
    outcomes = ["sent", "unreachable", "failed", "pending"] * 3
    for row_id, outcome in zip(mine[:12], outcomes, strict=True):
        assert await rows.mark_sending(row_id, now=NOW)
        await rows.settle(row_id, outcome, now=NOW, retry_at=NOW + timedelta(seconds=10))
        await agree(first.id)
    for row_id in mine[12:15]:
        await rows.mark_sending(row_id, now=NOW)
    await agree(first.id)
    assert await rows.recover_in_flight(now=NOW) == 3
    await agree(first.id)
    assert not await rows.finish(first.id, now=NOW)
    assert await rows.cancel(first.id, by=1, now=NOW)
    await agree(first.id)
    await db.execute("DELETE FROM deliveries WHERE id = ?", (mine[0],))
    await agree(first.id)
    await agree(second.id)  # untouched by all of this
    assert (await rows.progress(second.id)).pending == 30
    for delivery in [d for d in queue if d.broadcast_id == second.id]:
        await rows.mark_sending(delivery.id, now=NOW)
        await rows.settle(delivery.id, "sent", now=NOW)
    assert await rows.finish(second.id, now=NOW)
