"""The running bot over a season, as a real process: ``/healthz`` beside the webhook, the
nightly job fired by the application's own job queue, and ``talentbot status`` alongside."""

from __future__ import annotations

import asyncio
import subprocess
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx

from storage.database import newest_version
from tests.e2e.conftest import TALENTBOT, bot_env, free_port, running_bot


async def until(condition, *, timeout: float = 20.0, every: float = 0.2):  # noqa: ASYNC109
    """Poll ``condition`` (async) until it returns something true, or fail after ``timeout``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await condition()
        if value:
            return value
        if loop.time() > deadline:
            raise TimeoutError(f"{condition.__qualname__} still false after {timeout}s")
        await asyncio.sleep(every)


async def test_healthz_answers_beside_the_webhook(tmp_path):
    port = free_port()
    env = {
        "TALENTBOT_WEBHOOK_URL": f"http://127.0.0.1:{port}/talentbot-hook",
        "TALENTBOT_WEBHOOK_LISTEN": "127.0.0.1",
        "TALENTBOT_WEBHOOK_PORT": str(port),
        "TALENTBOT_WEBHOOK_SECRET": "s3cret-token",
        "TALENTBOT_HEALTH_MAX_SILENCE": "4s",
    }
    async with running_bot(tmp_path, **env) as live, httpx.AsyncClient() as http:
        url = f"http://127.0.0.1:{port}/healthz"

        async def answer(status: int):
            response = await http.get(url)
            return response.json() if response.status_code == status else None

        bob = live.user("Bob")
        await bob.send("/start")
        await bob.expect("Privacy notice")
        well = await until(lambda: answer(200))
        assert well["ok"] is True and well["problems"] == []
        assert well["database"] == str(live.db_path)
        assert well["schema_version"] == well["newest_schema"] == newest_version()
        assert well["last_update_id"] is not None
        assert well["bot_pid"] == live.process.pid
        assert {"talents", "activities_this_season", "broadcasts_running", "reminders_due",
                "last_update_at", "last_backup", "database_bytes"} <= set(well)  # fmt: skip

        # No update for longer than allowed: Telegram may have lost the way to the webhook.
        ill = await until(lambda: answer(503), timeout=30)
        assert ill["ok"] is False
        assert ill["problems"][0].startswith("no update handled for ")

        await bob.tap("I agree")
        await bob.expect("What is your name?")
        assert await answer(200)

        # The command line sees the running bot too.
        result = await asyncio.to_thread(
            subprocess.run,
            [str(TALENTBOT), "status"],
            env=bot_env(live.api, "http://127.0.0.1:9/bot", tmp_path),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        assert f"Bot: running (pid {live.process.pid})" in result.stdout


async def test_the_nightly_job_fires_in_the_running_bot(tmp_path):
    # A few seconds from now in the programme's zone: the application's job queue fires it.
    soon = datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(seconds=4)
    backups = tmp_path / "backups"
    env = {"TALENTBOT_NIGHTLY_AT": f"{soon:%H:%M:%S}", "TALENTBOT_BACKUP_DIR": str(backups)}
    async with running_bot(tmp_path, **env) as live:

        async def logged() -> str:
            line = (await live.process.stdout.readline()).decode()
            return line if "nightly upkeep" in line else ""

        line = await until(logged, timeout=30, every=0)
    [backup] = sorted(backups.glob("talentbot-*.sqlite3"))
    assert f"nightly upkeep: backup {backup} (" in line
    assert "0 deliveries of 0 broadcasts and 0 reminders deleted" in line
