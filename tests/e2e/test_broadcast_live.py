"""A broadcast sent by the real process's background outbox, over HTTP; killed and resumed."""

import asyncio
import os
import signal
from collections import Counter
from datetime import UTC, date, datetime

from localapi import BotApiServer, FakeBotApi
from localapi.chat import ChatUser
from storage.database import Database
from storage.models import StationKind
from storage.stations import StationRepository
from storage.talents import TalentRepository
from tests.e2e.conftest import TALENTBOT, bot_env, no_wait, running_bot
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


async def compose_to_everyone(admin, text):
    await admin.send("/broadcast")
    await admin.expect("Send the message")
    await admin.send(text)
    await admin.expect("Which station")
    await admin.tap("All stations")
    await admin.expect("field of expertise")
    await admin.tap("Any field")
    await admin.expect("in the city now")
    await admin.tap("Everyone")
    await admin.expect(f"Talents it will reach: {len(TALENTS)}")


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


CRASH_TEXT = "Clinic moved to Hall B"
KILL_AT = 5  # the bot is killed as Telegram takes the fifth message


class KillingApi(FakeBotApi):
    """Telegram that kills the bot with SIGKILL as it takes the K-th broadcast message.

    The K-th message is delivered, and the bot dies before hearing so; so that the test knows
    exactly what was in flight, the kill waits until the messages before it are recorded as
    sent, and the messages the bot sends after it are never delivered.
    """

    def __init__(self, db_path):
        super().__init__()
        self.db_path = db_path
        self.victim: int | None = None
        self.killed = asyncio.Event()

    async def call(self, method, raw_params, files=None):
        crash = self.victim is not None and raw_params.get("text") == CRASH_TEXT
        if crash and self.killed.is_set():
            await asyncio.Event().wait()  # the bot is dead: this request never arrives
        result = await super().call(method, raw_params, files)
        if crash and len(self.delivered()) == KILL_AT:
            self.killed.set()
            async with Database(self.db_path) as db:
                await self.wait_for_sent(db, KILL_AT - 1)
            os.kill(self.victim, signal.SIGKILL)
            await asyncio.Event().wait()
        return result

    def delivered(self):
        """The chats the broadcast reached, in the order it reached them."""
        return [
            c.params["chat_id"]
            for c in self.calls
            if c.result and c.method == "sendMessage" and c.params.get("text") == CRASH_TEXT
        ]

    async def wait_for_sent(self, db, count):
        async with asyncio.timeout(15):
            # The bot is another process: nothing to wait on but its rows.
            sent = "SELECT count(*) FROM deliveries WHERE status = 'sent'"
            while await db.fetch_value(sent) < count:  # noqa: ASYNC110
                await asyncio.sleep(0.01)


async def start(api, env, tmp_path):
    calls = len(api.calls)
    process = await asyncio.create_subprocess_exec(
        str(TALENTBOT), "run", env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    await api.wait_for(
        lambda: any(c.method == "getUpdates" for c in api.calls[calls:]), timeout=30
    )
    return process


async def test_killed_mid_broadcast_it_resumes_and_repeats_only_what_was_in_flight(tmp_path):
    db_path = tmp_path / "live.sqlite3"
    await seed(db_path)
    api = KillingApi(db_path)
    for telegram_id in TALENTS:
        api.open_chat({"id": telegram_id, "first_name": "T"})
    async with BotApiServer(api) as server:
        env = bot_env(api, server.base_url, tmp_path)
        process = await start(api, env, tmp_path)
        admin = ChatUser(api, no_wait, "Admin", "en", id=ADMIN_ID)
        await compose_to_everyone(admin, CRASH_TEXT)
        api.victim = process.pid
        await admin.tap("📣 Send")
        assert await asyncio.wait_for(process.wait(), timeout=30) == -signal.SIGKILL
        async with Database(db_path) as db:
            rows = await db.fetch_all("SELECT chat_id, status FROM deliveries ORDER BY id")
        statuses = dict(rows)
        in_flight = {chat for chat, status in rows if status == "sending"}
        delivered = api.delivered()
        assert len(delivered) == KILL_AT
        # A message is marked in flight only once its request is about to go: the four that
        # were answered are recorded as sent, the fifth (delivered, unanswered) as in flight.
        assert [statuses[chat] for chat in delivered] == ["sent"] * (KILL_AT - 1) + ["sending"]
        last = delivered[-1]

        api.victim = None
        process = await start(api, env, tmp_path)
        try:
            await admin.expect("Broadcast finished: 10 of 10 sent", timeout=30)
        finally:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), timeout=20)
        output = (await process.stdout.read()).decode(errors="replace")
    assert "Traceback" not in output, output
    assert "were in flight when the bot stopped" in output
    received = Counter(api.delivered())
    # Nobody was skipped, and only the message in flight at the kill went twice.
    assert set(received) == set(TALENTS)
    repeated = {chat for chat, count in received.items() if count > 1}
    assert repeated == {last}
    assert repeated <= in_flight
