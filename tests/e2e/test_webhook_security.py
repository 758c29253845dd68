"""``talentbot run`` in webhook mode as a real process: only Telegram's deliveries are obeyed."""

import socket
import sqlite3
import time

import httpx
import pytest

from tests.e2e.conftest import free_port, running_bot
from tests.support.harness import ADMIN_ID

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def forged_admin_command(text: str) -> dict:
    """An update as Telegram would post it, claiming to come from the admin."""
    admin = {"id": ADMIN_ID, "is_bot": False, "first_name": "Admin", "language_code": "en"}
    return {
        "update_id": 777_000,
        "message": {
            "message_id": 777_000,
            "date": int(time.time()),
            "chat": {"id": ADMIN_ID, "type": "private", "first_name": "Admin"},
            "from": admin,
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(text)}],
        },
    }


def dump(db_path) -> list[str]:
    with sqlite3.connect(db_path) as conn:
        return list(conn.iterdump())


@pytest.fixture
def hook_env():
    port = free_port()
    # No TALENTBOT_WEBHOOK_SECRET and no TALENTBOT_WEBHOOK_LISTEN: what an operator who sets
    # only the URL gets.
    return port, {
        "TALENTBOT_WEBHOOK_URL": f"http://127.0.0.1:{port}/talentbot-hook",
        "TALENTBOT_WEBHOOK_PORT": str(port),
    }


async def test_forged_posts_are_refused_without_a_configured_secret(tmp_path, hook_env):
    _, env = hook_env
    url = env["TALENTBOT_WEBHOOK_URL"]
    async with running_bot(tmp_path, **env) as live:
        admin = live.user("Admin", id=ADMIN_ID)
        # Telegram's own delivery, with the secret it was given, is served.
        await admin.send("/help")
        await admin.expect("/admin")
        before = dump(live.db_path)
        forged = forged_admin_command("/admin")
        async with httpx.AsyncClient(trust_env=False) as http:
            missing = await http.post(url, json=forged)
            wrong = await http.post(url, json=forged, headers={SECRET_HEADER: "guess" * 9})
        assert (missing.status_code, wrong.status_code) == (403, 403)
        # A later genuine update of the same admin is answered after anything queued before it,
        # so once it is answered a forged update that got in would have been answered too.
        await admin.send("/help")
        await live.api.wait_for(lambda: len(live.api.bot_messages(ADMIN_ID)) >= 2, timeout=10)
        help_texts = [m["text"] for m in live.api.bot_messages(ADMIN_ID)]
        assert len(help_texts) == 2 and help_texts[0] == help_texts[1]
        assert dump(live.db_path) == before
        # The secret is Telegram's to know: given to it by setWebhook, long and random.
        (hook,) = [c for c in live.api.calls if c.method == "setWebhook"]
        secret = hook.params.get("secret_token")
        assert hook.error is None and secret and len(secret) >= 32
    assert live.process.returncode == 0, live.output


async def test_each_start_makes_a_new_secret(tmp_path, hook_env):
    _, env = hook_env
    secrets = []
    for _ in range(2):
        async with running_bot(tmp_path, **env) as live:
            # Served: stopping a bot that is still starting is another matter.
            bob = live.user("Bob")
            await bob.send("/start")
            await bob.expect("Privacy notice")
            (hook,) = [c for c in live.api.calls if c.method == "setWebhook"]
            secrets.append(hook.params["secret_token"])
    assert secrets[0] != secrets[1]


async def test_webhook_listens_on_loopback_only_by_default(tmp_path, hook_env):
    port, env = hook_env
    async with running_bot(tmp_path, **env) as live:
        bob = live.user("Bob")
        await bob.send("/start")
        await bob.expect("Privacy notice")
        # 127.0.0.2 is this machine too, but not the address 127.0.0.1 binds: a server listening
        # on every interface would answer there (as it would on the machine's public address).
        with pytest.raises(ConnectionRefusedError), socket.socket() as probe:
            probe.settimeout(5)
            probe.connect(("127.0.0.2", port))
