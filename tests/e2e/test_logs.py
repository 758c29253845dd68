"""What the bot writes to its log at DEBUG: no token, no names, no phone numbers, in either
format; JSON lines tagged with the update and a hashed user."""

from __future__ import annotations

import json

from localapi import FakeBotApi
from tests.e2e.conftest import running_bot

# Shaped like a real token, so that a pattern that knows tokens would find it too.
TOKEN = "7012345678:AAHk3pX9vZqL2mN8rT4wY6uB1cD5eF7gH0j"
NAME = "Zhang Meiling"
PHONE = "8613912345678"


async def register_over_http(live) -> int:
    user = live.user("Meiling", language="en")
    await user.send("/start")
    await user.expect("Privacy notice")
    await user.tap("I agree")
    await user.expect("What is your name?")
    await user.send(NAME)
    await user.expect("share your phone number")
    await user.share_contact(PHONE)
    await user.expect("fields of expertise")
    await user.tap("Engineering")
    await live.api.wait_for(lambda: "✓ Engineering" in user.buttons())
    await user.tap("Done")
    await user.expect("professional title")
    await user.tap("Skip")
    await user.expect("Where do you come from")
    await user.send("Harbin")
    await user.expect("Which talent station")
    return user.id


def assert_private(output: str) -> None:
    assert TOKEN not in output
    assert TOKEN.split(":")[1] not in output
    assert NAME not in output
    assert PHONE[2:] not in output  # the number without its country code, too


async def test_debug_text_logs_hold_no_token_name_or_phone(tmp_path):
    api = FakeBotApi(token=TOKEN)
    async with running_bot(tmp_path, api=api, options=("--log-level", "DEBUG")) as live:
        await register_over_http(live)
    output = live.output  # type: ignore[attr-defined]
    assert " DEBUG handlers.middleware: update taken up (update " in output  # DEBUG is on
    assert_private(output)


async def test_json_logs_are_one_object_a_line_with_update_and_hashed_user(tmp_path):
    api = FakeBotApi(token=TOKEN)
    async with running_bot(
        tmp_path, api=api, options=("--log-level", "debug"), TALENTBOT_LOG_FORMAT="json"
    ) as live:
        telegram_id = await register_over_http(live)
    output = live.output  # type: ignore[attr-defined]
    assert_private(output)
    lines = [json.loads(line) for line in output.splitlines() if line.strip()]
    assert all({"time", "level", "logger", "event"} <= set(line) for line in lines)
    traced = [line for line in lines if line["event"] == "update taken up"]
    assert len(traced) >= 8
    users = {line["user"] for line in traced}
    assert len(users) == 1 and str(telegram_id) not in users.pop()
    assert len({line["update_id"] for line in traced}) == len(traced)
