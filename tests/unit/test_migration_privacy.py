"""Migration 0008 rebuilds talents: nothing that points at a talent may be lost or cut loose."""

import sqlite3

import pytest

from storage.database import Database, load_migrations

PRIVACY = 8
# Every table with a column that points at talents, and how many rows the fixture puts in it.
CHILDREN = {
    "talent_expertise": 2,
    "roles": 1,
    "invitations": 1,
    "notification_optouts": 1,
    "deliveries": 1,
    "reminders": 1,
    "signups": 1,
    "attendance": 1,
    "hour_corrections": 1,
    "ledger": 2,  # one from the attendance trigger, one adjustment
    "vouchers": 1,
}


def database_before_privacy(path) -> None:
    """A database migrated up to just before 0008, with a row in every table about a talent."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute(
        "CREATE TABLE schema_migrations"
        " (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    for version, name, sql in load_migrations():
        if version < PRIVACY:
            conn.executescript(f"BEGIN;\n{sql}\nCOMMIT;")
            conn.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, '2026-11-01T00:00:00+00:00')",
                (version, name),
            )
    now = "2026-11-26T02:00:00+00:00"
    conn.executescript(
        f"""
        BEGIN;
        INSERT INTO stations (id, name_zh, name_en, created_by, created_at)
            VALUES (1, '站', 'Station', 1, '{now}');
        INSERT INTO talents (id, telegram_id, language, name, phone, station_id, stay_from,
                             stay_to, consent_at, registered_at, created_at, updated_at)
            VALUES (7, 5007, 'zh', '王丽', '+8613800138000', 1, '2026-11-01', '2027-03-31',
                    '{now}', '{now}', '{now}', '{now}');
        INSERT INTO talent_expertise VALUES (7, 'medicine'), (7, 'education');
        INSERT INTO roles (talent_id, station_id, role, granted_at)
            VALUES (7, 1, 'coordinator', '{now}');
        INSERT INTO invitations (token, station_id, role, created_by, created_at, expires_at,
                                 used_by, used_at)
            VALUES ('tok', 1, 'coordinator', 1, '{now}', '{now}', 7, '{now}');
        INSERT INTO notification_optouts VALUES (7, 'news', '{now}');
        INSERT INTO broadcasts (id, topic, audience, text, created_by, created_at)
            VALUES (1, 'news', '{{}}', 'hi', 1, '{now}');
        INSERT INTO deliveries (broadcast_id, talent_id, chat_id) VALUES (1, 7, 5007);
        INSERT INTO reminders (talent_id, subject, subject_id, kind, due_at, expires_at,
                               text_key, created_at, updated_at)
            VALUES (7, 'activity', 1, '60m', '{now}', '{now}', 'k', '{now}', '{now}');
        INSERT INTO activities (id, station_id, kind, title, place, starts_at, ends_at, points,
                                status, created_by, created_at, updated_at)
            VALUES (1, 1, 'clinic', 'Clinic', 'Hall', '2026-11-26T01:00:00+00:00',
                    '2026-11-26T03:00:00+00:00', 10, 'published', 1, '{now}', '{now}');
        INSERT INTO signups (activity_id, talent_id, status, created_at, updated_at)
            VALUES (1, 7, 'going', '{now}', '{now}');
        INSERT INTO attendance (id, activity_id, talent_id, checked_in_at, method, hours)
            VALUES (1, 1, 7, '{now}', 'scan', 2);
        INSERT INTO hour_corrections (attendance_id, hours, reason, by_whom, created_at)
            VALUES (1, 1.5, 'left early', 1, '{now}');
        INSERT INTO ledger (talent_id, delta, kind, reason, by_whom, created_at, idempotency_key)
            VALUES (7, 5, 'adjust', 'thanks', 1, '{now}', 'adj:1');
        INSERT INTO rewards (id, name_zh, name_en, station_id, cost, stock, valid_days,
                             created_by, created_at)
            VALUES (1, '一晚', 'A night', 1, 5, 1, 30, 1, '{now}');
        INSERT INTO vouchers (reward_id, talent_id, code, cost, created_at, valid_until)
            VALUES (1, 7, 'ABCDEFGHJ', 5, '{now}', '{now}');
        COMMIT;
        """
    )
    conn.close()


def schema(conn: sqlite3.Connection) -> dict[str, str]:
    rows = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name != 'talents'"
    ).fetchall()
    return dict(rows)


async def test_the_rebuild_keeps_every_row_index_trigger_and_reference(tmp_path):
    path = tmp_path / "old.sqlite3"
    database_before_privacy(path)
    conn = sqlite3.connect(path)
    before = schema(conn)
    talent_before = conn.execute("SELECT * FROM talents").fetchall()
    conn.close()

    # Only up to 0008: later migrations may change other tables, which is not this test's matter.
    db = Database(path)
    await db.connect(migrate=False)
    try:
        await db.migrate(upto=PRIVACY)
        assert await db.schema_version() == PRIVACY
        assert await db.fetch_value("PRAGMA foreign_keys") == 1
        for table, count in CHILDREN.items():
            where = {
                "invitations": "used_by = 7",
                "hour_corrections": "attendance_id IN (SELECT id FROM attendance"
                " WHERE talent_id = 7)",
            }.get(table, "talent_id = 7")
            found = await db.fetch_value(f"SELECT count(*) FROM {table} WHERE {where}")
            assert found == count, table
        row = await db.fetch_one("SELECT * FROM talents WHERE id = 7")
        assert tuple(row)[:-1] == talent_before[0] and row["deleted_at"] is None

    finally:
        await db.close()

    conn = sqlite3.connect(path)
    after = schema(conn)
    # Everything the earlier migrations made is still there, word for word (the trigger of
    # 0004 and the partial indexes of 0001 included); 0008 only adds, two columns included.
    assert after.pop("invitations").startswith(before.pop("invitations").rstrip(")"))
    assert {name: after.get(name) for name in before} == before
    for table in CHILDREN:
        if table == "hour_corrections":
            continue  # it points at attendance, which points at talents
        parents = {fk[2] for fk in conn.execute(f"PRAGMA foreign_key_list({table})")}
        assert "talents_new" not in parents, table
    conn.close()


async def test_after_the_rebuild_the_rules_still_hold(tmp_path):
    path = tmp_path / "old.sqlite3"
    database_before_privacy(path)
    async with Database(path) as db:
        # The attendance trigger of 0004 still credits a check-in.
        await db.execute(
            "INSERT INTO activities (id, station_id, kind, title, place, starts_at, ends_at,"
            " points, status, created_by, created_at, updated_at) VALUES (2, 1, 'clinic', 'B',"
            " 'Hall', '2026-12-01T01:00:00+00:00', '2026-12-01T02:00:00+00:00', 4, 'published',"
            " 1, 'now', 'now')"
        )
        await db.execute(
            "INSERT INTO attendance (activity_id, talent_id, checked_in_at, method, hours)"
            " VALUES (2, 7, '2026-12-01T01:00:00+00:00', 'scan', 1)"
        )
        assert await db.fetch_value("SELECT sum(delta) FROM ledger WHERE talent_id = 7") == 19
        # Foreign keys are enforced again, and cascade from the new table.
        with pytest.raises(sqlite3.IntegrityError):
            await db.execute("INSERT INTO ledger (talent_id, delta, kind, created_at,"
                             " idempotency_key) VALUES (99, 1, 'adjust', 'now', 'x')")  # fmt: skip
        # Telegram ids stay unique; only a deleted row may be without one, and it is nobody's.
        with pytest.raises(sqlite3.IntegrityError):
            await db.execute(
                "INSERT INTO talents (telegram_id, created_at, updated_at)"
                " VALUES (5007, 'now', 'now')"
            )
        with pytest.raises(sqlite3.IntegrityError):
            await db.execute(
                "INSERT INTO talents (telegram_id, created_at, updated_at) VALUES (NULL, 'n', 'n')"
            )
        with pytest.raises(sqlite3.IntegrityError):
            await db.execute(
                "UPDATE talents SET telegram_id = NULL, deleted_at = 'now' WHERE id = 7"
            )  # still registered, still named: a deleted row may not be
        await db.execute(
            "UPDATE talents SET telegram_id = NULL, name = NULL, phone = NULL,"
            " registered_at = NULL, deleted_at = 'now' WHERE id = 7"
        )
        await db.execute(
            "INSERT INTO talents (telegram_id, created_at, updated_at) VALUES (5007, 'n', 'n')"
        )
        assert await db.fetch_value("SELECT count(*) FROM talents") == 2


async def test_a_migration_that_breaks_a_reference_is_not_applied(tmp_path, monkeypatch):
    path = tmp_path / "db.sqlite3"
    async with Database(path):
        pass
    broken = "INSERT INTO ledger (talent_id, delta, kind, created_at, idempotency_key)" \
        " VALUES (404, 1, 'adjust', 'now', 'dangling');"  # fmt: skip
    shipped = load_migrations()
    monkeypatch.setattr(
        "storage.database.load_migrations", lambda: [*shipped, (9999, "broken", broken)]
    )
    db = Database(path)
    with pytest.raises(RuntimeError, match="9999_broken leaves foreign keys"):
        await db.connect()
    assert await db.fetch_value("SELECT count(*) FROM ledger") == 0
    assert await db.fetch_value("PRAGMA foreign_keys") == 1
    await db.close()
