"""The database as a file: online backups, restores, the running bot's lock, and the checks made
before anything opens it.

These run in the ``talentbot`` command (another process than the bot) and in the bot's nightly
job (in a thread), so they use the standard ``sqlite3`` module. A backup goes through SQLite's
online backup API: one read transaction sees one committed moment of the whole file while the
bot goes on writing (WAL lets writers continue), which a copy of the file cannot promise.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import sqlite3
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from pydantic import BaseModel

from storage.database import newest_version, too_new_message

BACKUP_PREFIX = "talentbot-"
BACKUP_SUFFIX = ".sqlite3"


class DatabaseFileError(Exception):
    """A problem with the database file, said in one line that names the path."""


class BackupFile(BaseModel):
    path: Path
    bytes: int
    modified: datetime


def file_bytes(db_path: Path) -> int:
    """What the database takes on disk: the file and its write-ahead log."""
    total = 0
    for path in (db_path, _sibling(db_path, "-wal")):
        with contextlib.suppress(FileNotFoundError):
            total += path.stat().st_size
    return total


def _sibling(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


def _reason(exc: OSError) -> str:
    return (exc.strerror or str(exc)).lower()


@contextlib.contextmanager
def _connect(path: Path, *, query: str = "mode=rw") -> Iterator[sqlite3.Connection]:
    """A plain connection; ``mode=ro`` reads without ever creating the file."""
    conn = sqlite3.connect(f"file:{quote(str(path))}?{query}", uri=True, timeout=30)
    try:
        yield conn
    finally:
        conn.close()


def schema_version_of(path: Path) -> int:
    """The newest migration recorded in the file (0 for a new one), changing nothing.

    Raises:
        DatabaseFileError: the file is not an SQLite database.
    """
    # Without a write-ahead log to replay the file alone is the database: read it as
    # immutable, so that not even the -wal and -shm files change beside a database we may
    # refuse to touch.
    wal = _sibling(path, "-wal")
    pending = wal.exists() and wal.stat().st_size > 0
    query = "mode=ro" if pending else "mode=ro&immutable=1"
    try:
        with _connect(path, query=query) as conn:
            found = conn.execute(
                "SELECT count(*) FROM sqlite_master"
                " WHERE type = 'table' AND name = 'schema_migrations'"
            ).fetchone()[0]
            if not found:
                return 0
            return conn.execute(
                "SELECT coalesce(max(version), 0) FROM schema_migrations"
            ).fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise DatabaseFileError(f"{path} is not a talentbot database ({exc})") from None


def check_not_newer(path: Path) -> int:
    """The file's schema version, or a refusal when a newer talentbot made it."""
    if not path.exists():
        return 0
    version = schema_version_of(path)
    if version > newest_version():
        raise DatabaseFileError(too_new_message(path, version, newest_version()))
    return version


def check_writable(path: Path) -> None:
    """Make sure the bot can create and write the file and its journal beside it.

    Raises:
        DatabaseFileError: naming the folder or the file it cannot write.
    """
    folder = path.parent
    if folder.exists() and not folder.is_dir():
        raise DatabaseFileError(f"the database folder {folder} is a file, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatabaseFileError(
            f"cannot create the database folder {folder}: {_reason(exc)}"
        ) from None
    try:
        # SQLite creates its -wal and -shm files in the folder, so the folder must be writable.
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise DatabaseFileError(
            f"the database folder {folder} is not writable: {_reason(exc)}"
        ) from None
    if path.exists():
        try:
            with path.open("r+b"):
                pass
        except OSError as exc:
            raise DatabaseFileError(
                f"the database file {path} is not writable: {_reason(exc)}"
            ) from None


class RunLock:
    """Held by a running bot for as long as it runs: ``restore`` and a second bot refuse while
    it is held. The kernel lets go of it when the process ends, however it ends, so a crash
    leaves no stale lock behind.
    """

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        self.path = _sibling(db_path, ".lock")
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, or say who holds it.

        Raises:
            DatabaseFileError: a bot is running on this database.
        """
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            pid = self.holder()
            who = f"a talentbot (pid {pid})" if pid else "a talentbot"
            raise DatabaseFileError(f"{who} is running on {self.db_path}; stop it first") from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd

    def release(self) -> None:
        """Let go of the lock; safe to call twice."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def holder(self) -> int | None:
        """The pid of the bot holding the lock, or None when no bot runs on the database."""
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                text = os.read(fd, 32).decode(errors="replace").strip()
                return int(text) if text.isdigit() else -1
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
        finally:
            os.close(fd)


def backup(source: Path, dest: Path) -> BackupFile:
    """Copy the database, consistent as of one moment, into ``dest`` while the bot runs.

    The copy is written beside ``dest`` first and renamed when it is whole and checked, so a
    crash never leaves half a file that looks like a backup.

    Raises:
        DatabaseFileError: no database, an unwritable destination, or a copy that fails its check.
    """
    if not source.is_file():
        raise DatabaseFileError(f"there is no database at {source}")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatabaseFileError(
            f"cannot create the backup folder {dest.parent}: {_reason(exc)}"
        ) from None
    partial = _sibling(dest, ".partial")
    try:
        with _connect(source) as src, _connect(partial, query="mode=rwc") as copy:
            # All pages in one step: one read transaction, so one moment of the database.
            src.backup(copy)
            # A backup is one self-contained file, not a database waiting for its WAL.
            copy.execute("PRAGMA journal_mode = DELETE")
            _check_integrity(copy, dest)
        os.replace(partial, dest)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise DatabaseFileError(f"cannot write the backup {dest}: {_reason(exc)}") from None
    except sqlite3.Error as exc:
        partial.unlink(missing_ok=True)
        raise DatabaseFileError(f"cannot back up {source}: {exc}") from None
    except DatabaseFileError:
        partial.unlink(missing_ok=True)
        raise
    return _describe(dest)


def _check_integrity(conn: sqlite3.Connection, path: Path) -> None:
    result = conn.execute("PRAGMA integrity_check").fetchone()[0]
    if result != "ok":
        raise DatabaseFileError(f"{path} failed its integrity check: {result}")


def _describe(path: Path) -> BackupFile:
    stat = path.stat()
    return BackupFile(
        path=path, bytes=stat.st_size, modified=datetime.fromtimestamp(stat.st_mtime).astimezone()
    )


def restore(backup_file: Path, target: Path, *, stamp: str) -> Path | None:
    """Put a backup in the place of the database; return where the replaced file was kept.

    The replaced database (with its write-ahead log, if it had one) is renamed to
    ``<name>.replaced-<stamp>`` beside it, so a restore can itself be undone.

    Raises:
        DatabaseFileError: the backup is missing, damaged or from a newer talentbot, the
            target cannot be written, or a bot is running on the target.
    """
    if not backup_file.is_file():
        raise DatabaseFileError(f"there is no backup at {backup_file}")
    version = schema_version_of(backup_file)
    if version > newest_version():
        raise DatabaseFileError(too_new_message(backup_file, version, newest_version()))
    check_writable(target)
    lock = RunLock(target)
    lock.acquire()  # and keep it, so no bot starts on a half-restored database
    try:
        restoring = _sibling(target, ".restoring")
        try:
            with (
                _connect(backup_file, query="mode=ro") as src,
                _connect(restoring, query="mode=rwc") as copy,
            ):
                _check_integrity(src, backup_file)
                src.backup(copy)
                copy.execute("PRAGMA journal_mode = DELETE")
        except sqlite3.Error as exc:
            restoring.unlink(missing_ok=True)
            raise DatabaseFileError(f"cannot read the backup {backup_file}: {exc}") from None
        replaced = None
        if target.exists():
            replaced = _sibling(target, f".replaced-{stamp}")
            os.replace(target, replaced)
            wal = _sibling(target, "-wal")
            if wal.exists():
                os.replace(wal, _sibling(replaced, "-wal"))
        with contextlib.suppress(FileNotFoundError):
            # The shared-memory index belongs to the old file; SQLite rebuilds it.
            _sibling(target, "-shm").unlink()
        os.replace(restoring, target)
        return replaced
    finally:
        lock.release()


def backup_name(moment: datetime) -> str:
    """The file name of a backup made at ``moment``; names sort in time order."""
    return f"{BACKUP_PREFIX}{moment:%Y%m%d-%H%M%S}{BACKUP_SUFFIX}"


def list_backups(folder: Path) -> list[BackupFile]:
    """The backups in ``folder``, newest first."""
    try:
        paths = sorted(folder.glob(f"{BACKUP_PREFIX}*{BACKUP_SUFFIX}"), reverse=True)
    except OSError:
        return []
    found = []
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            found.append(_describe(path))
    return found


def prune_backups(folder: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` backups in ``folder``; return what was deleted."""
    removed = []
    for old in list_backups(folder)[keep:]:
        try:
            old.path.unlink()
        except OSError as exc:
            if exc.errno != errno.ENOENT:
                raise
        removed.append(old.path)
    return removed
