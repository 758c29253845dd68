"""How ``talentbot sandbox`` and ``make run`` start: fresh demo data; a busy port said plainly."""

import asyncio
import hashlib
import os
import re
import socket
import sqlite3
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from bot.sandbox import SANDBOX_APPLICATION_ID
from bot.sandbox.seed import PERSONAS
from storage.database import create_marked
from tests.e2e.conftest import START_TIMEOUT, TALENTBOT, clean_env, running_sandbox

ROOT = Path(__file__).resolve().parents[2]
NEWCOMER = PERSONAS[0].id


def happening_now(db: Path) -> tuple[datetime, datetime]:
    with sqlite3.connect(db) as conn:
        starts, ends = conn.execute(
            "SELECT starts_at, ends_at FROM activities WHERE title LIKE '%Winter health talk%'"
        ).fetchone()
    return datetime.fromisoformat(starts), datetime.fromisoformat(ends)


async def test_every_start_brings_demo_data_as_of_now(tmp_path):
    db = tmp_path / "box.sqlite3"
    async with (
        running_sandbox(tmp_path, db) as sandbox,
        httpx.AsyncClient(base_url=sandbox.url, trust_env=False) as http,
    ):
        await http.post("/api/send", json={"user": NEWCOMER, "lang": "en", "text": "/start"})

        async def greeted() -> bool:
            chat = (await http.get("/api/chat", params={"user": NEWCOMER})).json()
            return any("Privacy notice" in m["text"] for m in chat["messages"])

        await sandbox.until(greeted)
    # As if that run was three days ago: its "happening now" activity is long over.
    starts, ends = happening_now(db)
    with sqlite3.connect(db) as conn:
        conn.execute(
            "UPDATE activities SET starts_at = ?, ends_at = ?",
            ((starts - timedelta(days=3)).isoformat(), (ends - timedelta(days=3)).isoformat()),
        )
    restarted = datetime.now(UTC)
    async with (
        running_sandbox(tmp_path, db) as sandbox,
        httpx.AsyncClient(base_url=sandbox.url, trust_env=False) as http,
    ):
        # The chats of the earlier run are gone, and so is everything it stored.
        chat = (await http.get("/api/chat", params={"user": NEWCOMER})).json()
        assert chat["messages"] == []
        starts, ends = happening_now(db)
        assert restarted - timedelta(minutes=15) < starts < datetime.now(UTC) < ends
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA application_id").fetchone()[0] == SANDBOX_APPLICATION_ID
        assert conn.execute("SELECT count(*) FROM stations").fetchone()[0] == 4


def fingerprint(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


async def test_a_busy_port_is_one_line_and_a_failed_exit(tmp_path):
    data = tmp_path / "data"
    # The demo database of an earlier run, which a start that fails must leave as it is.
    create_marked(data / "sandbox.sqlite3", SANDBOX_APPLICATION_ID)
    before = fingerprint(data)
    env = clean_env(TALENTBOT_DB=str(data / "talentbot.sqlite3"))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        # `make run` runs `talentbot start`, and takes PORT; `talentbot sandbox` takes --port.
        for command, retry in (
            ("start", "make run PORT="),
            ("sandbox", "talentbot sandbox --port "),
        ):
            process = await asyncio.create_subprocess_exec(
                str(TALENTBOT), command, "--port", str(port), cwd=tmp_path, env=env,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )  # fmt: skip
            out, err = await asyncio.wait_for(process.communicate(), START_TIMEOUT)
            assert process.returncode == 2, err
            assert out == b""
            lines = err.decode().splitlines()
            assert len(lines) == 1, lines
            said = re.fullmatch(
                rf"talentbot sandbox: port {port} is busy; try `{re.escape(retry)}(\d+)`", lines[0]
            )
            assert said, lines[0]
            with socket.socket() as other:  # the port it suggests was free
                other.bind(("127.0.0.1", int(said[1])))
    assert fingerprint(data) == before


def test_make_run_passes_port_to_talentbot_start():
    env = {k: v for k, v in os.environ.items() if k != "PORT"}

    def recipe(*args: str) -> list[str]:
        done = subprocess.run(
            ["make", "--dry-run", "run", *args], cwd=ROOT, env=env, check=True,
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        return [line for line in done.stdout.splitlines() if "bin/talentbot start" in line]

    (with_port,) = recipe("PORT=9123")
    assert with_port.endswith("bin/talentbot start --port 9123")
    (without,) = recipe()
    assert without.endswith("bin/talentbot start")
