"""The sandbox page's JSON API, in-process: personas, sending, tapping, scanning, files."""

import httpx
import pytest

from bot.i18n import Translator
from bot.sandbox.seed import PERSONAS
from bot.sandbox.web import routes
from localapi import BotApiServer, FakeBotApi


@pytest.fixture
async def page():
    api = FakeBotApi()
    server = BotApiServer(api)
    await server.start()
    server.add_handlers(routes(api, Translator("zh"), port=server.port))
    url = f"http://127.0.0.1:{server.port}"
    async with httpx.AsyncClient(base_url=url, trust_env=False) as client:
        yield api, client
    await server.stop()


async def test_personas_in_both_languages(page):
    _, client = page
    zh = (await client.get("/api/personas", params={"lang": "zh"})).json()
    en = (await client.get("/api/personas", params={"lang": "en"})).json()
    assert [p["id"] for p in zh["personas"]] == [p.id for p in PERSONAS]
    assert zh["personas"][0]["label"] == "新用户（未注册）"
    assert en["personas"][0]["label"] == "New user (not registered)"
    assert en["texts"]["sandbox.scan"] == "📷 Scan"
    assert "<html" in (await client.get("/")).text


async def test_sending_tapping_and_scanning_reach_the_bot_api(page):
    api, client = page
    user = PERSONAS[0].id
    assert (
        await client.post("/api/send", json={"user": user, "text": "/start"})
    ).status_code == 200
    assert api.pending_updates()[-1]["message"]["text"] == "/start"
    scan = await client.post("/api/send", json={"user": user, "kind": "scan", "payload": "ci-abc"})
    assert scan.status_code == 200
    assert api.pending_updates()[-1]["message"]["text"] == "/start ci-abc"
    await client.post("/api/send", json={"user": user, "kind": "contact"})
    assert api.pending_updates()[-1]["message"]["contact"]["user_id"] == user
    chat = (await client.get("/api/chat", params={"user": user})).json()
    assert [m["mine"] for m in chat["messages"]] == [True, True, True]


async def test_refusals(page):
    _, client = page
    user = PERSONAS[0].id
    assert (await client.get("/api/chat", params={"user": 1})).status_code == 404
    bad_scan = {"user": user, "kind": "scan", "payload": "has spaces!"}
    assert (await client.post("/api/send", json=bad_scan)).status_code == 400
    assert (await client.post("/api/send", json={"user": user, "text": "  "})).status_code == 400
    forged = {"user": user, "kind": "tap", "message_id": 99, "data": "x"}
    assert (await client.post("/api/send", json=forged)).status_code == 400
    json_list = {"content": b"[1]", "headers": {"Content-Type": "application/json"}}
    assert (await client.post("/api/send", **json_list)).status_code == 400
    assert (await client.get("/api/file/nope")).status_code == 404
