"""One SQLite database over aiosqlite: connection, pragmas, transactions and migrations."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import sqlite3
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiosqlite

log = logging.getLogger(__name__)

Params = Mapping[str, Any] | Iterable[Any]
_MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


class Database:
    """One writing connection and one reading connection, shared by the whole bot.

    Every write and every transaction goes through one lock: aiosqlite runs one connection on
    one thread, and a statement from another coroutine slipping into an open transaction would
    join it (and roll back with it). Reads outside a transaction use a second connection, which
    WAL lets see every committed change without waiting for the writer: at a rush at the door,
    loading who is writing must not queue behind the check-ins being written.
    """

    def __init__(self, path: Path | str, *, busy_timeout_ms: int = 5000) -> None:
        self.path = Path(path)
        self._busy_timeout_ms = busy_timeout_ms
        self._conn: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()
        self._read_lock = asyncio.Lock()

    async def connect(self, *, migrate: bool = True, readonly: bool = False) -> None:
        """Open the file (creating its folder), set the pragmas and apply pending migrations.

        ``readonly`` opens an existing file to look at it only (``talentbot status``): nothing
        is created, set or migrated.
        """
        if self._conn is not None:
            return
        if readonly:
            self._conn = await aiosqlite.connect(
                f"file:{quote(str(self.path))}?mode=ro", uri=True, isolation_level=None
            )
            self._conn.row_factory = aiosqlite.Row
            await self._conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
            return
        if str(self.path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue BEGIN ourselves, so a transaction is exactly what we say.
        conn = await aiosqlite.connect(self.path, isolation_level=None)
        conn.row_factory = aiosqlite.Row
        # Takes effect only on a new, empty file (before WAL writes its header); older files are
        # converted once by the nightly clean-up, which needs a VACUUM for it.
        await conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
        await conn.execute("PRAGMA journal_mode = WAL")
        await conn.execute("PRAGMA synchronous = NORMAL")
        await conn.execute("PRAGMA foreign_keys = ON")
        await conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
        self._conn = conn
        if migrate:
            await self.migrate()
        reader = await aiosqlite.connect(self.path, isolation_level=None)
        reader.row_factory = aiosqlite.Row
        await reader.execute("PRAGMA query_only = ON")
        await reader.execute("PRAGMA foreign_keys = ON")
        await reader.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
        self._reader = reader

    async def close(self) -> None:
        """Close the connection; safe to call twice."""
        if self._reader is not None:
            await self._reader.close()
            self._reader = None
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    async def __aenter__(self) -> Database:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def conn(self) -> aiosqlite.Connection:
        """The open connection (after ``connect``)."""
        if self._conn is None:
            raise RuntimeError("Database is not connected; call connect() first")
        return self._conn

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """Run the block as one IMMEDIATE transaction: all of it commits, or none of it."""
        async with self._lock:
            await self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield Transaction(self.conn)
            except BaseException:
                await self.conn.execute("ROLLBACK")
                raise
            else:
                await self.conn.execute("COMMIT")

    async def fetch_one(self, sql: str, params: Params = ()) -> aiosqlite.Row | None:
        """Run a query and return its first row, or None."""
        async with self._read(sql, params) as cursor:
            return await cursor.fetchone()

    async def fetch_all(self, sql: str, params: Params = ()) -> list[aiosqlite.Row]:
        """Run a query and return all rows."""
        async with self._read(sql, params) as cursor:
            return list(await cursor.fetchall())

    @asynccontextmanager
    async def _read(self, sql: str, params: Params) -> AsyncIterator[aiosqlite.Cursor]:
        if self._reader is None:
            # Before the reader exists (while migrating), reads share the writer and its lock.
            async with self._lock, self.conn.execute(sql, params) as cursor:
                yield cursor
            return
        # One read at a time on the reader: while a cursor is open its connection stays in one
        # read transaction, and a read slipped in meanwhile would see that older snapshot and
        # miss what was committed since.
        async with self._read_lock, self._reader.execute(sql, params) as cursor:
            yield cursor

    async def fetch_value(self, sql: str, params: Params = ()) -> Any:
        """Run a query and return the first column of its first row, or None."""
        row = await self.fetch_one(sql, params)
        return None if row is None else row[0]

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one writing statement in its own transaction; return the last row id."""
        async with self.transaction() as tx:
            return await tx.execute(sql, params)

    async def execute_rowcount(self, sql: str, params: Params = ()) -> int:
        """Run one writing statement on its own (a transaction by itself); return rows changed."""
        async with self._lock, self.conn.execute(sql, params) as cursor:
            return cursor.rowcount

    async def run_script(self, sql: str) -> None:
        """Run statements that cannot run inside a transaction (VACUUM, some pragmas) to the end,
        holding the write lock."""
        async with self._lock:
            # executescript steps every statement to completion; execute() would stop a
            # row-returning pragma such as incremental_vacuum after its first page.
            await self.conn.executescript(sql)

    async def migrate(self, *, upto: int | None = None) -> list[int]:
        """Apply the numbered migrations not yet recorded (up to ``upto``, when given); return
        the versions applied now.

        Raises:
            SchemaTooNew: the file was migrated by a newer talentbot; nothing is changed.
        """
        conn = self.conn
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        async with conn.execute("SELECT version FROM schema_migrations") as cursor:
            done = {row[0] for row in await cursor.fetchall()}
        migrations = load_migrations()
        newest = migrations[-1][0] if migrations else 0
        if done and max(done) > newest:
            raise SchemaTooNew(too_new_message(self.path, max(done), newest))
        applied = []
        pending = [m for m in migrations if m[0] not in done and (upto is None or m[0] <= upto)]
        if not pending:
            return applied
        # Foreign keys are off while migrating, as SQLite's procedure for rebuilding a table
        # requires: with them on, dropping the old table deletes its rows first, cascading into
        # the tables that point at it. Before each commit every foreign key is checked instead.
        # (The pragma cannot change inside a transaction, so it is set around them.)
        await conn.execute("PRAGMA foreign_keys = OFF")
        try:
            for version, name, sql in pending:
                await self._apply(version, name, sql)
                applied.append(version)
        finally:
            await conn.execute("PRAGMA foreign_keys = ON")
        return applied

    async def _apply(self, version: int, name: str, sql: str) -> None:
        conn = self.conn
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        record = (
            "INSERT INTO schema_migrations (version, name, applied_at) "
            f"VALUES ({version}, '{name}', '{stamp}');"
        )
        async with self._lock:
            try:
                # executescript commits anything pending first, then runs the whole file.
                await conn.executescript(f"BEGIN IMMEDIATE;\n{sql}\n{record}")
                async with conn.execute("PRAGMA foreign_key_check") as cursor:
                    dangling = [tuple(row) for row in await cursor.fetchall()]
                if dangling:
                    raise RuntimeError(
                        f"migration {version:04d}_{name} leaves foreign keys pointing at"
                        f" nothing (table, rowid, parent, key): {dangling[:5]}"
                    )
                await conn.execute("COMMIT")
            except Exception:
                if conn.in_transaction:
                    await conn.execute("ROLLBACK")
                raise
        log.info("applied migration %04d_%s", version, name)

    async def schema_version(self) -> int:
        """Return the newest migration recorded in the database (0 when none)."""
        exists = await self.fetch_value(
            "SELECT count(*) FROM sqlite_master"
            " WHERE type = 'table' AND name = 'schema_migrations'"
        )
        if not exists:
            return 0
        return await self.fetch_value("SELECT coalesce(max(version), 0) FROM schema_migrations")


class Transaction:
    """The statements of one open transaction; only ever handed out by ``Database.transaction``."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run a statement; return the last inserted row id."""
        async with self._conn.execute(sql, params) as cursor:
            return cursor.lastrowid or 0

    async def execute_rowcount(self, sql: str, params: Params = ()) -> int:
        """Run a statement; return how many rows it changed."""
        async with self._conn.execute(sql, params) as cursor:
            return cursor.rowcount

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        """Run a statement once per parameter set."""
        await self._conn.executemany(sql, rows)

    async def fetch_one(self, sql: str, params: Params = ()) -> aiosqlite.Row | None:
        """Run a query inside the transaction and return its first row, or None."""
        async with self._conn.execute(sql, params) as cursor:
            return await cursor.fetchone()

    async def fetch_all(self, sql: str, params: Params = ()) -> list[aiosqlite.Row]:
        """Run a query inside the transaction and return all rows."""
        async with self._conn.execute(sql, params) as cursor:
            return list(await cursor.fetchall())


# The first 100 bytes of every SQLite file; PRAGMA application_id is the 4 bytes at offset 68.
_HEADER_SIZE = 100
_HEADER_MAGIC = b"SQLite format 3\x00"
_APPLICATION_ID_OFFSET = 68


def application_id(path: Path) -> int | None:
    """The ``PRAGMA application_id`` of the file at ``path``; None when it is no SQLite database.

    Read from the file's header bytes, without SQLite: opening a database can write to it (a WAL
    file, a journal, migrations), and this is how a caller decides whether to open it at all.
    Creation writes the id straight into the main file, and every later copy of the header page
    keeps it, so the main file always holds it.
    """
    try:
        with open(path, "rb") as file:
            header = file.read(_HEADER_SIZE)
    except OSError:
        return None
    if len(header) < _HEADER_SIZE or not header.startswith(_HEADER_MAGIC):
        return None
    offset = _APPLICATION_ID_OFFSET
    return int.from_bytes(header[offset : offset + 4], "big", signed=True)


def create_marked(path: Path, application_id: int) -> None:
    """Create a new, empty database file whose header carries ``application_id``.

    Raises:
        FileExistsError: when ``path`` exists; an existing file is never marked.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL: the file is claimed atomically, so this never adopts a file that appeared meanwhile.
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute(f"PRAGMA application_id = {int(application_id)}")
    finally:
        conn.close()


class SchemaTooNew(RuntimeError):
    """The database was migrated by a newer talentbot than this one."""


def too_new_message(path: Path, version: int, newest: int) -> str:
    """One line for an operator who started an older talentbot on a newer database."""
    return (
        f"{path} has schema version {version}, newer than this talentbot knows ({newest}); "
        "install the newer talentbot again, or restore a backup made by this version"
    )


def newest_version() -> int:
    """The number of the newest migration this talentbot ships."""
    return max((version for version, _, _ in load_migrations()), default=0)


def load_migrations() -> list[tuple[int, str, str]]:
    """Return (version, name, sql) of every migration file shipped in ``storage/migrations``."""
    found = []
    for entry in resources.files("storage").joinpath("migrations").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), match.group(2), entry.read_text("utf-8")))
    found.sort()
    versions = [v for v, _, _ in found]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"two migrations share a number: {versions}")
    return found


def utc_text(moment: datetime) -> str:
    """Format a timezone-aware time the way the database stores it."""
    if moment.tzinfo is None:
        raise ValueError("refusing to store a naive datetime")
    return moment.astimezone(UTC).isoformat(timespec="seconds")
