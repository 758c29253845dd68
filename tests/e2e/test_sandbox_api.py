"""The sandbox page's JSON API, in-process: personas, sending, tapping, scanning, files."""

import io
import json

import httpx
import pytest
import segno

from bot.i18n import Translator
from bot.sandbox.seed import PERSONAS
from bot.sandbox.web import routes
from localapi import BotApiServer, FakeBotApi


@pytest.fixture
async def page():
    api = FakeBotApi()
    for persona in PERSONAS:  # as the sandbox does: the bot may write to each of them
        api.open_chat({"id": persona.id, "first_name": persona.first_name})
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


# --- what the page shows of the bot -------------------------------------------------------------


def qr_png(text: str) -> bytes:
    image = io.BytesIO()
    segno.make(text, error="m").save(image, kind="png", scale=10, border=4)
    return image.getvalue()


async def bot_sends(api: FakeBotApi, chat_id: int, text: str, **params) -> dict:
    return await api.call("sendMessage", {"chat_id": chat_id, "text": text, **params})


async def test_answers_to_button_presses_reach_the_page_of_who_pressed(page):
    api, client = page
    talent, desk = PERSONAS[1].id, PERSONAS[3].id
    keyboard = json.dumps({"inline_keyboard": [[{"text": "Sign up", "callback_data": "s"}]]})
    sent = await bot_sends(api, talent, "Beach clean-up", reply_markup=keyboard)
    before = (await client.get("/api/chat", params={"user": talent})).json()
    assert (before["answers"], before["last_answer"]) == ([], 0)

    async def press() -> str:
        tap = {"user": talent, "kind": "tap", "message_id": sent["message_id"], "data": "s"}
        assert (await client.post("/api/send", json=tap)).status_code == 200
        return api.pending_updates()[-1]["callback_query"]["id"]

    await api.call("answerCallbackQuery", {"callback_query_id": await press()})
    await api.call(
        "answerCallbackQuery",
        {
            "callback_query_id": await press(),
            "text": "This button has expired.",
            "show_alert": True,
        },
    )
    await api.call(
        "answerCallbackQuery", {"callback_query_id": await press(), "text": "You are signed up!"}
    )
    chat = (await client.get("/api/chat", params={"user": talent})).json()
    assert [(a["text"], a["alert"]) for a in chat["answers"]] == [
        ("This button has expired.", True),
        ("You are signed up!", False),
    ]
    assert chat["last_answer"] == chat["answers"][-1]["id"] > chat["answers"][0]["id"]
    other = (await client.get("/api/chat", params={"user": desk})).json()
    assert (other["answers"], other["last_answer"]) == ([], 0)


async def test_scan_offers_every_link_any_persona_was_shown_even_inside_a_qr_code(page):
    api, client = page
    talent, coordinator, partner = PERSONAS[1].id, PERSONAS[2].id, PERSONAS[3].id
    bot = "https://t.me/talentbot_test?start="
    # The voucher's link is only in its picture, as the bot sends it.
    voucher = await api.call(
        "sendPhoto",
        {"chat_id": talent, "caption": "🎟 A night at the spa hotel\nCode: ABC-DEF-234"},
        files={"photo": ("voucher.png", qr_png(bot + "v-ABCDEF234"), "image/png")},
    )
    await bot_sends(api, coordinator, f"Winter health talk\nScan to check in: {bot}ci-tok")
    await bot_sends(
        api,
        coordinator,
        '<a href="https://t.me/talentbot_test?start=inv-abc">Invitation</a> for a partner',
        parse_mode="HTML",
        reply_markup=json.dumps({"inline_keyboard": [[{"text": "Open", "url": bot + "act-7"}]]}),
    )
    await bot_sends(api, partner, f"{bot}cert-XYZ")
    # Nobody may be offered what the users typed themselves.
    await client.post("/api/send", json={"user": partner, "text": f"{bot}ci-typed"})

    listed = (await client.get("/api/links", params={"lang": "en"})).json()["links"]
    assert {link["payload"]: (link["kind"], link["shown_to"]) for link in listed} == {
        "v-ABCDEF234": ("Voucher", ["Talent with points"]),
        "ci-tok": ("Check-in code", ["Coordinator"]),
        "inv-abc": ("Invitation", ["Coordinator"]),
        "act-7": ("Activity page", ["Coordinator"]),
        "cert-XYZ": ("Service certificate", ["Partner (hotel desk)"]),
    }
    assert listed[0]["payload"] == "cert-XYZ"  # the newest first
    by_payload = {link["payload"]: link for link in listed}
    assert by_payload["v-ABCDEF234"]["about"] == "🎟 A night at the spa hotel"
    assert by_payload["ci-tok"]["about"] == "Winter health talk"
    zh = (await client.get("/api/links", params={"lang": "zh"})).json()["links"]
    assert ("兑换券", ["有积分的人才"]) in [(link["kind"], link["shown_to"]) for link in zh]

    # The talent's own chat offers to scan the voucher in place, too.
    chat = (await client.get("/api/chat", params={"user": talent})).json()
    (shown,) = [m for m in chat["messages"] if m["id"] == voucher["message_id"]]
    assert shown["links"] == ["v-ABCDEF234"]
    # And the partner scans it: the bot gets the voucher's deep link from the partner.
    scan = {"user": partner, "kind": "scan", "payload": "v-ABCDEF234"}
    assert (await client.post("/api/send", json=scan)).status_code == 200
    update = api.pending_updates()[-1]["message"]
    assert (update["from"]["id"], update["text"]) == (partner, "/start v-ABCDEF234")


async def test_the_language_switch_reaches_the_bot_and_outlives_a_reload():
    api = FakeBotApi()
    switched: list[str] = []

    async def switch_language(language: str) -> None:
        switched.append(language)

    server = BotApiServer(api)
    await server.start()
    server.add_handlers(
        routes(api, Translator("zh"), port=server.port, switch_language=switch_language)
    )
    newcomer = PERSONAS[0].id
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{server.port}", trust_env=False
        ) as client:
            # Before the page has chosen, a message says which language its browser has.
            assert (await client.get("/api/personas")).json()["language"] is None
            await client.post("/api/send", json={"user": newcomer, "lang": "en", "text": "hi"})
            assert api.pending_updates()[-1]["message"]["from"]["language_code"] == "en"

            chosen = await client.post("/api/language", json={"lang": "zh"})
            assert chosen.json() == {"language": "zh"}
            assert switched == ["zh"]
            # A reloaded page finds the choice; every persona now speaks it to the bot.
            assert (await client.get("/api/personas")).json()["language"] == "zh"
            await client.post("/api/send", json={"user": newcomer, "text": "/start"})
            assert api.pending_updates()[-1]["message"]["from"]["language_code"] == "zh"

            refused = await client.post("/api/language", json={"lang": "fr"})
            assert refused.status_code == 400
            assert switched == ["zh"]
    finally:
        await server.stop()
