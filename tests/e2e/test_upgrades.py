"""Upgrades through the real ``talentbot`` command: from every earlier schema version with a
season's data in it, a database from a newer talentbot refused, unwritable paths explained."""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
import subprocess

import pytest

from storage.database import load_migrations
from tests.e2e.conftest import TALENTBOT
from tests.support.history import build, snapshot

VERSIONS = [version for version, _, _ in load_migrations()]
NEWEST = VERSIONS[-1]


def cli_env(tmp_path, **extra: str) -> dict[str, str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "TALENTBOT_DB": str(tmp_path / "data" / "talentbot.sqlite3"),
        "TALENTBOT_BACKUP_DIR": str(tmp_path / "backups"),
    }
    env.update(extra)
    return env


async def talentbot(tmp_path, *args: str, **extra: str) -> subprocess.CompletedProcess:
    return await asyncio.to_thread(
        subprocess.run,
        [str(TALENTBOT), *args],
        cwd=tmp_path,
        env=cli_env(tmp_path, **extra),
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("version", VERSIONS[:-1])
async def test_upgrade_from_every_earlier_version_keeps_the_data(tmp_path, version):
    path = tmp_path / "data" / "talentbot.sqlite3"
    path.parent.mkdir()
    await build(path, version)
    before = snapshot(path)
    assert before["counts"]["talents"] == 240  # the fixture really holds a season's data

    result = await talentbot(tmp_path, "migrate")

    assert result.returncode == 0, result.stderr
    applied = len([v for v in VERSIONS if v > version])
    assert f"schema version {version} -> {NEWEST} ({applied} applied)" in result.stdout
    after = snapshot(path)
    # Every table of the old version keeps every row, and what people rely on is unchanged:
    # names and phones, balances, attendance and hours, deliveries, signups, vouchers, stock.
    assert {t: after["counts"][t] for t in before["counts"]} == before["counts"]
    assert {key: after[key] for key in before if key != "counts"} == {
        key: value for key, value in before.items() if key != "counts"
    }
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []


async def test_the_newest_version_with_data_opens_and_reports(tmp_path):
    path = tmp_path / "data" / "talentbot.sqlite3"
    path.parent.mkdir()
    await build(path, NEWEST)
    result = await talentbot(tmp_path, "status")
    assert result.returncode == 0, result.stderr
    assert "Talents registered: 220" in result.stdout
    assert "Broadcast #2 running: 39 of 100 sent, 61 pending" in result.stdout
    assert "Reminders due and not yet sent: 15" in result.stdout
    assert "Bot: not running" in result.stdout
    assert "(#31337)" in result.stdout  # the last update the bot wrote down


def fingerprint(folder):
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.iterdir())
    }


async def test_a_database_from_a_newer_talentbot_is_refused_and_left_alone(tmp_path):
    path = tmp_path / "data" / "talentbot.sqlite3"
    path.parent.mkdir()
    await build(path, NEWEST)
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(
            "INSERT INTO schema_migrations (version, name, applied_at)"
            " VALUES (?, 'from_the_future', '2027-01-01T00:00:00+00:00')",
            (NEWEST + 1,),
        )
    conn.close()  # the last connection to close folds the log into the file
    untouched = fingerprint(path.parent)

    for command in ("run", "migrate", "status"):
        result = await talentbot(
            tmp_path,
            command,
            TELEGRAM_BOT_TOKEN="123:x",
            TELEGRAM_API_BASE_URL="http://127.0.0.1:9/bot",
        )
        assert result.returncode != 0, command
        assert result.stdout == "", command
        lines = result.stderr.strip().splitlines()
        assert lines == [
            f"talentbot: {path} has schema version {NEWEST + 1}, newer than this talentbot"
            f" knows ({NEWEST}); install the newer talentbot again, or restore a backup made"
            " by this version"
        ], command
        assert fingerprint(path.parent) == untouched, command


async def test_an_unwritable_database_folder_is_named_in_one_line(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the database folder should be")
    cases = {
        blocker / "talentbot.sqlite3": f"the database folder {blocker} is a file, not a folder",
        blocker / "data" / "talentbot.sqlite3": (
            f"cannot create the database folder {blocker / 'data'}: not a directory"
        ),
    }
    for db, message in cases.items():
        for command in ("run", "migrate"):
            result = await talentbot(
                tmp_path, command, TALENTBOT_DB=str(db), TELEGRAM_BOT_TOKEN="1:x"
            )
            assert result.returncode != 0
            assert result.stderr.strip().splitlines() == [f"talentbot: {message}"], command


async def test_an_unwritable_database_file_is_named_in_one_line(tmp_path):
    # A path the bot cannot open for writing (here: a folder with the database's name).
    db = tmp_path / "data" / "talentbot.sqlite3"
    db.mkdir(parents=True)
    result = await talentbot(tmp_path, "migrate", TALENTBOT_DB=str(db))
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        f"talentbot: the database file {db} is not writable: is a directory"
    ]
