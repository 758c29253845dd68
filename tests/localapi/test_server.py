"""The imitation over real HTTP on 127.0.0.1, with PTB's default HTTPX transport."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging

import httpx
import pytest
import telegram
import tornado.httpserver
import tornado.netutil
import tornado.web
from telegram.error import Conflict, InvalidToken

from localapi import BotApiServer, FakeBotApi, OfflineRequest

USER_ID = 2002


@pytest.fixture(autouse=True)
def no_server_errors(caplog):
    """A handler that crashes after answering would pass every assertion; its log would not."""
    yield
    crashes = [
        record
        for record in caplog.get_records("call")
        if record.name in ("tornado.application", "tornado.general")
        or (record.name.startswith("localapi") and record.levelno >= logging.ERROR)
    ]
    assert crashes == []


@pytest.fixture
def api() -> FakeBotApi:
    return FakeBotApi(webhook_retry_delay=0.05)


@pytest.fixture
async def server(api):
    server = BotApiServer(api)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
        await api.aclose()


@pytest.fixture
async def http():
    # trust_env=False: proxy settings of the machine must not apply to loopback tests.
    async with httpx.AsyncClient(trust_env=False, timeout=5) as client:
        yield client


async def test_ptb_over_http(api, server):
    user = api.make_user(USER_ID, "Kim")
    api.user_message(user, text="/start")
    async with telegram.Bot(api.token, base_url=server.base_url) as bot:
        assert (await bot.get_me()).username == api.username
        updates = await bot.get_updates(timeout=1)
        assert [u.message.text for u in updates] == ["/start"]
        sent = await bot.send_message(USER_ID, "<b>Welcome</b>, Kim", parse_mode="HTML")
        assert sent.text == "Welcome, Kim"
        document = await bot.send_document(
            USER_ID, b"name;points\nKim;3\n", filename="points.csv", caption="Your points"
        )
        assert document.document.file_name == "points.csv"
        assert api.file_bytes(document.document.file_id) == b"name;points\nKim;3\n"
        with pytest.raises(telegram.error.BadRequest, match=r"(?i)unclosed start tag"):
            await bot.send_message(USER_ID, "Kim<3", parse_mode="HTML")
        polling = asyncio.create_task(
            bot.get_updates(offset=updates[-1].update_id + 1, timeout=30)
        )
        await api.wait_for(lambda: sum(c.method == "getUpdates" for c in api.calls) == 2)
        api.user_message(user, text="hello")
        later = await asyncio.wait_for(polling, 3)
        assert [u.message.text for u in later] == ["hello"]
    assert [m.get("text") for m in api.bot_messages(USER_ID)] == ["Welcome, Kim", None]


async def test_wrong_token_and_unknown_method(api, server, http):
    stranger = telegram.Bot("999:WRONG", base_url=server.base_url)
    with pytest.raises(InvalidToken):
        await stranger.initialize()
    await stranger.shutdown()
    response = await http.post(f"{server.base_url}999:WRONG/getMe")
    assert response.status_code == 401
    assert response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    response = await http.post(f"{server.base_url}{api.token}/sendTelepathy")
    assert response.status_code == 404
    assert response.json() == {"ok": False, "error_code": 404, "description": "Not Found"}


async def test_json_body_and_query_string(api, server, http):
    api.user_message(api.make_user(USER_ID, "Kim"), text="hi")
    url = f"{server.base_url}{api.token}"
    response = await http.post(
        f"{url}/sendMessage",
        json={"chat_id": USER_ID, "text": "json", "disable_notification": True},
    )
    assert response.json()["result"]["text"] == "json"
    response = await http.get(f"{url}/sendMessage", params={"chat_id": USER_ID, "text": "query"})
    assert response.json()["result"]["text"] == "query"
    response = await http.get(f"{url}/getme")
    assert response.json()["result"]["id"] == api.bot_id
    response = await http.post(
        f"{url}/sendMessage", json={"chat_id": USER_ID, "text": "x", "reply_markup": "{"}
    )
    assert response.status_code == 400
    assert response.json()["description"] == (
        "Bad Request: can't parse reply keyboard markup JSON object"
    )


async def test_stop_releases_a_pending_long_poll(api, server, http):
    url = f"{server.base_url}{api.token}/getUpdates"
    polling = asyncio.create_task(http.post(url, data={"timeout": "30"}))
    await api.wait_for(lambda: any(c.method == "getUpdates" for c in api.calls))
    await server.stop()
    response = await asyncio.wait_for(polling, 2)
    assert response.json() == {"ok": True, "result": []}


async def test_client_disconnect_ends_its_long_poll(api, server):
    url = f"{server.base_url}{api.token}/getUpdates"
    async with httpx.AsyncClient(trust_env=False, timeout=5) as client:
        polling = asyncio.create_task(client.post(url, data={"timeout": "30"}))
        await api.wait_for(lambda: api.waiting_pollers() == 1)
        polling.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await polling
    await api.wait_for(lambda: api.waiting_pollers() == 0, timeout=2)


async def test_extra_routes(api):
    class Hello(tornado.web.RequestHandler):
        def get(self) -> None:
            self.write("hello")

    server = BotApiServer(api, extra_handlers=[(r"/hello", Hello)])
    await server.start()
    try:
        async with httpx.AsyncClient(trust_env=False, timeout=5) as client:
            response = await client.get(server.base_url.removesuffix("/bot") + "/hello")
        assert response.text == "hello"
    finally:
        await server.stop()


class _Receiver(tornado.web.RequestHandler):
    """A bot's webhook endpoint: records what arrives, fails on request."""

    def initialize(self, received: list, failures: list) -> None:
        self.received = received
        self.failures = failures

    def post(self) -> None:
        self.received.append(
            (
                json.loads(self.request.body),
                self.request.headers.get("X-Telegram-Bot-Api-Secret-Token"),
            )
        )
        if self.failures:
            self.set_status(self.failures.pop())


async def test_webhook_delivery(api):
    received: list = []
    failures: list = [500]
    app = tornado.web.Application(
        [(r"/hook", _Receiver, {"received": received, "failures": failures})]
    )
    sockets = tornado.netutil.bind_sockets(0, address="127.0.0.1")
    receiver = tornado.httpserver.HTTPServer(app)
    receiver.add_sockets(sockets)
    hook_url = f"http://127.0.0.1:{sockets[0].getsockname()[1]}/hook"
    request = OfflineRequest(api)
    try:
        async with telegram.Bot(api.token, request=request, get_updates_request=request) as bot:
            assert await bot.set_webhook(hook_url, secret_token="s3cr3t")
            api.user_message(api.make_user(USER_ID, "Kim"), text="via webhook")
            # The first attempt gets a 500; Telegram keeps the update and tries again.
            await api.wait_for(lambda: len(received) == 2 and not api.pending_updates())
            assert received[0] == received[1]
            update, secret = received[1]
            assert update["message"]["text"] == "via webhook"
            assert secret == "s3cr3t"
            info = await bot.get_webhook_info()
            assert (info.url, info.pending_update_count) == (hook_url, 0)
            assert (
                info.last_error_message
                == "Wrong response from the webhook: 500 Internal Server Error"
            )
            with pytest.raises(Conflict, match="webhook is active"):
                await bot.get_updates()
            with pytest.raises(telegram.error.BadRequest, match=r"(?i)loopback"):
                await bot.set_webhook("https://example.org/hook")
            assert await bot.delete_webhook()
            assert (await bot.get_webhook_info()).url == ""
            api.user_message(api.make_user(USER_ID, "Kim"), text="polled")
            assert [u.message.text for u in await bot.get_updates()] == ["polled"]
    finally:
        receiver.stop()
        await receiver.close_all_connections()
        await api.aclose()
