"""A real python-telegram-bot Bot against the imitation, in process (no HTTP)."""

from __future__ import annotations

import asyncio
import datetime as dtm

import pytest
import telegram
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, RetryAfter
from telegram.ext import Application, CommandHandler, ContextTypes

from localapi import TELEGRAM_LIMITS, BotApiError, FakeBotApi, OfflineRequest
from localapi.core import tiny_png

USER_ID = 1001


class Clock:
    """A clock the test moves by hand, so that rate windows are exact."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def timedelta_periods(monkeypatch):
    # PTB's opt-in to timedelta periods; without it RetryAfter.retry_after warns.
    monkeypatch.setenv("PTB_TIMEDELTA", "1")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def api(clock) -> FakeBotApi:
    return FakeBotApi(now=clock)


@pytest.fixture
def user(api) -> dict:
    user = api.make_user(USER_ID, "Ann", username="ann")
    api.user_message(user, text="/start")
    return user


def make_bot(api: FakeBotApi, token: str | None = None) -> telegram.Bot:
    return telegram.Bot(
        token or api.token,
        request=OfflineRequest(api),
        get_updates_request=OfflineRequest(api),
    )


@pytest.fixture
async def bot(api):
    async with make_bot(api) as bot:
        yield bot


def keyboard(*pairs: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(t, callback_data=d)] for t, d in pairs])


# --- basics ------------------------------------------------------------------------------------


async def test_get_me_and_wrong_token(api, bot):
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (api.bot_id, "talentbot_test", True)
    stranger = make_bot(api, token="999:WRONG")
    with pytest.raises(InvalidToken):
        await stranger.get_me()


async def test_user_message_parses_as_a_ptb_update(api, bot):
    user = api.make_user(7, "Bo", language_code="de")
    raw = api.user_message(user, text="/start@talentbot_test st_1")
    update = telegram.Update.de_json(raw, bot)
    assert update.effective_user.language_code == "de"
    assert update.message.chat.type == "private"
    command = update.message.entities[0]
    assert (command.type, command.offset, command.length) == ("bot_command", 0, 21)
    assert update.message.parse_entity(command) == "/start@talentbot_test"


async def test_send_message_html_stores_plain_text_and_entities(api, bot, user):
    sent = await bot.send_message(
        USER_ID, "Hi <b>Ann</b> &amp; 😀 <i>welcome</i>", parse_mode="HTML"
    )
    assert sent.text == "Hi Ann & 😀 welcome"
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [
        ("bold", 3, 3),
        ("italic", 12, 7),
    ]
    stored = api.bot_messages(USER_ID)[-1]
    assert stored["text"] == sent.text
    assert stored["message_id"] == sent.message_id == 2
    assert [m["message_id"] for m in api.chat_messages(USER_ID)] == [1, 2]


async def test_replies(api, bot, user):
    answer = await bot.send_message(USER_ID, "Which station?", reply_to_message_id=1)
    assert answer.reply_to_message.text == "/start"
    with pytest.raises(BadRequest, match="Message to be replied not found"):
        await bot.send_message(USER_ID, "?", reply_to_message_id=99)
    raw = api.user_message(user, text="Station 4", reply_to=answer.message_id)
    assert raw["message"]["reply_to_message"]["text"] == "Which station?"


@pytest.mark.parametrize(
    ("text", "description"),
    [
        ("<b>Points</b> & rewards", "Character '&' at byte offset 14 is reserved"),
        ("Hello A<B", "unclosed start tag at byte offset 7"),
        ("Hello <foo>", 'unsupported start tag "foo" at byte offset 6'),
        ("<b>open", 'can\'t find end tag corresponding to start tag "b"'),
    ],
)
async def test_bad_html_is_refused_with_telegrams_description(api, bot, user, text, description):
    with pytest.raises(BadRequest) as caught:
        await bot.send_message(USER_ID, text, parse_mode="HTML")
    assert description.lower() in caught.value.message.lower()
    assert caught.value.message.startswith("Can't parse entities:")
    assert api.calls[-1].error is not None
    assert api.bot_messages(USER_ID) == []


async def test_length_limits(api, bot, user):
    await bot.send_message(USER_ID, "a" * 4096)
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(USER_ID, "a" * 4097)
    tagged = await bot.send_message(USER_ID, "<b>" + "a" * 4096 + "</b>", parse_mode="HTML")
    assert len(tagged.text) == 4096
    await bot.send_message(USER_ID, "😀" * 2048)
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(USER_ID, "😀" * 2048 + "!")
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(USER_ID, "<b></b>", parse_mode="HTML")


async def test_markdown_v2_reserved_character(api, bot, user):
    with pytest.raises(BadRequest, match=r"(?i)character '.' is reserved"):
        await bot.send_message(USER_ID, "You have 5.5 points", parse_mode="MarkdownV2")
    sent = await bot.send_message(USER_ID, "You have *5\\.5* points", parse_mode="MarkdownV2")
    assert sent.text == "You have 5.5 points"


async def test_chat_not_found_and_unknown_method(api, bot, user):
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(424242, "hello")
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message("@somebody", "hello")
    with pytest.raises(BotApiError) as caught:
        await api.call("sendTelepathy", {"chat_id": USER_ID})
    assert caught.value.to_json() == {"ok": False, "error_code": 404, "description": "Not Found"}


async def test_parameters_are_normalised_from_strings(api, user):
    message = await api.call(
        "SENDMESSAGE",
        {
            "chat_id": str(USER_ID),
            "text": "x",
            "disable_notification": "true",
            "reply_markup": '{"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}',
            "no_such_field": "ignored",
        },
    )
    assert message["chat"]["id"] == USER_ID
    call = api.calls[-1]
    assert call.method == "sendMessage"
    assert call.params["chat_id"] == USER_ID
    assert call.params["disable_notification"] is True
    assert call.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "a"
    assert "no_such_field" not in call.params
    with pytest.raises(BotApiError, match="message text is empty"):
        await api.call("sendMessage", {"chat_id": USER_ID})
    with pytest.raises(BotApiError, match="chat_id is empty"):
        await api.call("sendMessage", {"text": "x"})
    with pytest.raises(BotApiError, match='field "message_id" must be a valid Number'):
        await api.call("deleteMessage", {"chat_id": USER_ID, "message_id": "first"})
    with pytest.raises(BotApiError, match="can't parse reply keyboard markup JSON object"):
        await api.call("sendMessage", {"chat_id": USER_ID, "text": "x", "reply_markup": "{"})


# --- keyboards, callbacks, edits ---------------------------------------------------------------


async def test_callback_data_limit_in_bytes(api, bot, user):
    await bot.send_message(USER_ID, "ok", reply_markup=keyboard(("A", "a" * 64)))
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await bot.send_message(USER_ID, "no", reply_markup=keyboard(("A", "a" * 65)))
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        # 33 characters, 66 bytes
        await bot.send_message(USER_ID, "no", reply_markup=keyboard(("A", "é" * 33)))


async def test_callback_round_trip(api, bot, user):
    sent = await bot.send_message(
        USER_ID, "Pick", reply_markup=keyboard(("Yes", "y"), ("No", "n"))
    )
    raw = api.user_callback(user, sent.message_id, "y")
    query = telegram.Update.de_json(raw, bot).callback_query
    assert query.data == "y"
    assert query.message.message_id == sent.message_id
    await query.answer("Noted")
    assert api.callback_answers == [{"callback_query_id": query.id, "text": "Noted"}]
    with pytest.raises(BadRequest, match="Query is too old"):
        await query.answer("again")
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query("123")
    second = telegram.Update.de_json(api.user_callback(user, sent.message_id, "n"), bot)
    with pytest.raises(BadRequest, match="Message_too_long"):
        await second.callback_query.answer("x" * 201)


async def test_callback_answers_are_kept_for_the_user_who_pressed(api, bot, user):
    other = api.make_user(USER_ID + 1, "Bob")
    api.open_chat(other)
    mine = await bot.send_message(USER_ID, "Pick", reply_markup=keyboard(("Yes", "y")))
    theirs = await bot.send_message(USER_ID + 1, "Pick", reply_markup=keyboard(("No", "n")))
    pressed = telegram.Update.de_json(api.user_callback(user, mine.message_id, "y"), bot)
    await pressed.callback_query.answer("Too late", show_alert=True)
    pressed = telegram.Update.de_json(api.user_callback(other, theirs.message_id, "n"), bot)
    await pressed.callback_query.answer()
    pressed = telegram.Update.de_json(api.user_callback(user, mine.message_id, "y"), bot)
    await pressed.callback_query.answer("Noted")
    assert [
        (a["text"], a["show_alert"], a["message_id"]) for a in api.callback_answers_to(USER_ID)
    ] == [
        ("Too late", True, mine.message_id),
        ("Noted", False, mine.message_id),
    ]
    first, second = api.callback_answers_to(USER_ID)
    assert first["id"] < second["id"]
    assert [a["text"] for a in api.callback_answers_to(USER_ID + 1)] == [None]


async def test_user_callback_checks_the_buttons_unless_forged(api, bot, user):
    sent = await bot.send_message(USER_ID, "Pick", reply_markup=keyboard(("Yes", "y")))
    with pytest.raises(ValueError, match="no button with callback_data 'admin'"):
        api.user_callback(user, sent.message_id, "admin")
    with pytest.raises(ValueError, match="no bot message 99"):
        api.user_callback(user, 99, "y")
    forged = api.user_callback(user, sent.message_id, "admin", check=False)
    assert forged["callback_query"]["data"] == "admin"
    ghost = api.user_callback(user, 99, "y", check=False)
    assert ghost["callback_query"]["message"]["date"] == 0


async def test_edits(api, bot, user, clock):
    sent = await bot.send_message(USER_ID, "<b>Step 1</b>", parse_mode="HTML")
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text("<b>Step 1</b>", USER_ID, sent.message_id, parse_mode="HTML")
    clock.now += 5
    edited = await bot.edit_message_text(
        "Step 2", USER_ID, sent.message_id, reply_markup=keyboard(("Next", "next"))
    )
    assert edited.text == "Step 2"
    assert edited.edit_date == dtm.datetime.fromtimestamp(int(clock.now), dtm.UTC)
    messages = api.chat_messages(USER_ID)
    assert [m["message_id"] for m in messages] == [1, 2]
    assert messages[1]["text"] == "Step 2" and "entities" not in messages[1]
    assert messages[1]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "next"
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_reply_markup(
            USER_ID, sent.message_id, reply_markup=keyboard(("Next", "next"))
        )
    await bot.edit_message_reply_markup(USER_ID, sent.message_id)
    assert "reply_markup" not in api.chat_messages(USER_ID)[1]
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("x", USER_ID, 999)
    with pytest.raises(BadRequest, match="Message can't be edited"):
        await bot.edit_message_text("x", USER_ID, 1)
    with pytest.raises(BadRequest, match="There is no caption in the message to edit"):
        await bot.edit_message_caption(USER_ID, sent.message_id, caption="x")
    assert await bot.delete_message(USER_ID, sent.message_id) is True
    assert [m["message_id"] for m in api.chat_messages(USER_ID)] == [1]
    assert api.deleted_messages(USER_ID)[0]["text"] == "Step 2"
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await bot.delete_message(USER_ID, sent.message_id)


async def test_reply_keyboard_is_tracked(api, bot, user):
    share = ReplyKeyboardMarkup([[KeyboardButton("Share phone", request_contact=True)]])
    sent = await bot.send_message(USER_ID, "Your phone?", reply_markup=share)
    assert sent.reply_markup is None  # Telegram returns only inline keyboards
    shown = api.current_reply_keyboard(USER_ID)
    assert shown["keyboard"][0][0] == {"text": "Share phone", "request_contact": True}
    raw = api.user_message(user, contact={"phone_number": "+4915112345678", "user_id": USER_ID})
    contact = telegram.Update.de_json(raw, bot).message.contact
    assert (contact.phone_number, contact.first_name, contact.user_id) == (
        "+4915112345678",
        "Ann",
        USER_ID,
    )
    await bot.send_message(USER_ID, "Thanks", reply_markup=ReplyKeyboardRemove())
    assert api.current_reply_keyboard(USER_ID) is None


async def test_user_media_parse(api, bot, user):
    for kwargs in (
        {"sticker": True},
        {"photo": True, "text": "look"},
        {"document": True},
        {"location": (52.52, 13.405)},
    ):
        message = telegram.Update.de_json(api.user_message(user, **kwargs), bot).message
        assert message.effective_attachment is not None
    assert message.location.latitude == 52.52


# --- blocking, rate limits ---------------------------------------------------------------------


async def test_blocked_user(api, bot, user):
    raw = api.user_blocks_bot(user)
    member = telegram.Update.de_json(raw, bot).my_chat_member
    assert (member.old_chat_member.status, member.new_chat_member.status) == ("member", "kicked")
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(USER_ID, "come back")
    with pytest.raises(Forbidden):
        await bot.send_chat_action(USER_ID, "typing")
    api.user_message(user, text="/start")
    kinds = [next(k for k in u if k != "update_id") for u in api.pending_updates()]
    assert kinds[-3:] == ["my_chat_member", "my_chat_member", "message"]
    await bot.send_message(USER_ID, "welcome back")


async def test_overall_rate_limit(clock):
    api = FakeBotApi(now=clock, overall_rate=2)
    users = [api.make_user(i, f"U{i}") for i in (1, 2, 3)]
    for u in users:
        api.user_message(u, text="hi")
    async with make_bot(api) as bot:
        await bot.send_message(1, "a")
        await bot.send_message(2, "b")
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(3, "c")
        assert caught.value.retry_after == dtm.timedelta(seconds=1)
        assert api.calls[-1].error.to_json()["parameters"] == {"retry_after": 1}
        clock.now += 1
        await bot.send_message(3, "c")


async def test_per_chat_rate_limit(clock):
    api = FakeBotApi(now=clock, per_chat_rate=1)
    for i in (1, 2):
        api.user_message(api.make_user(i, f"U{i}"), text="hi")
    async with make_bot(api) as bot:
        await bot.send_message(1, "a")
        await bot.send_message(2, "a")
        with pytest.raises(RetryAfter):
            await bot.send_message(1, "b")
        clock.now += 0.5
        with pytest.raises(RetryAfter):
            await bot.send_message(1, "b")
        clock.now += 0.5
        await bot.send_message(1, "b")
        assert len(api.bot_messages(1)) == 2


async def test_telegram_limits_group_and_paid(clock):
    api = FakeBotApi(now=clock, flood_control=TELEGRAM_LIMITS)
    api.open_group(-100, "Volunteers", api.make_user(1, "U1"))
    for i in range(2, 40):
        api.open_chat(api.make_user(i, f"U{i}"))
    async with make_bot(api) as bot:
        for n in range(20):
            await bot.send_message(-100, f"group {n}")
            clock.now += 1  # a second apart: within the overall and any per-chat second
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(-100, "one too many this minute")
        assert caught.value.retry_after == dtm.timedelta(seconds=40)
        clock.now += 60
        # Thirty a second overall; paid messages have a budget of their own.
        for chat in range(2, 32):
            await bot.send_message(chat, "free")
        with pytest.raises(RetryAfter):
            await bot.send_message(32, "free")
        for chat in range(32, 40):
            await bot.send_message(chat, "paid", allow_paid_broadcast=True)
    assert api.paid_messages == 8
    paid = [c for c in api.calls if c.params.get("text") == "paid"]
    assert {c.params.get("allow_paid_broadcast") for c in paid} == {True}


# --- updates -----------------------------------------------------------------------------------


async def test_long_poll_returns_when_an_update_arrives(api, bot):
    polling = asyncio.create_task(bot.get_updates(timeout=30))
    await api.wait_for(lambda: any(c.method == "getUpdates" for c in api.calls))
    api.user_message(api.make_user(5, "Eve"), text="hello")
    updates = await asyncio.wait_for(polling, 2)
    assert [u.message.text for u in updates] == ["hello"]
    # Updates stay until a later offset confirms them.
    assert len(await bot.get_updates()) == 1
    assert await bot.get_updates(offset=updates[-1].update_id + 1) == ()
    assert api.pending_updates() == []


async def test_long_poll_times_out_empty(api, bot):
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await bot.get_updates(timeout=1) == ()
    assert 0.9 <= loop.time() - started < 2


async def test_second_poller_terminates_the_first(api, bot):
    first = asyncio.create_task(bot.get_updates(timeout=30))
    await api.wait_for(lambda: any(c.method == "getUpdates" for c in api.calls))
    second = asyncio.create_task(bot.get_updates(timeout=30))
    with pytest.raises(Conflict, match="terminated by other getUpdates request"):
        await asyncio.wait_for(first, 2)
    api.wake_pollers()
    assert await asyncio.wait_for(second, 2) == ()


async def test_allowed_updates_filter_and_offsets(api, bot):
    user = api.make_user(5, "Eve")
    api.user_message(user, text="one")
    api.user_blocks_bot(user)
    api.user_message(user, text="two")
    updates = await bot.get_updates(allowed_updates=["message"])
    assert [u.message.text for u in updates] == ["one", "two"]
    api.user_message(user, text="three")
    last = await bot.get_updates(offset=-1)
    assert [u.message.text for u in last] == ["three"]


async def test_delete_webhook_can_drop_pending_updates(api, bot):
    user = api.make_user(5, "Eve")
    api.user_message(user, text="stale")
    assert await bot.delete_webhook()
    assert len(api.pending_updates()) == 1
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert api.pending_updates() == []
    assert await bot.get_updates() == ()


async def test_wait_for_explains_a_timeout(api):
    await api.call("getMe", {})

    def bot_said_hello() -> bool:
        return False

    with pytest.raises(TimeoutError, match=r"bot_said_hello still false after 0.05s.*getMe"):
        await api.wait_for(bot_said_hello, timeout=0.05)


# --- files, commands, menu ---------------------------------------------------------------------


async def test_send_photo_and_document(api, bot, user):
    picture = tiny_png(3, 2)
    sent = await bot.send_photo(USER_ID, picture, caption="<i>Map</i>", parse_mode="HTML")
    size = sent.photo[-1]
    assert (size.width, size.height, size.file_size) == (3, 2, len(picture))
    assert sent.caption == "Map" and sent.caption_entities[0].type == "italic"
    assert api.file_bytes(size.file_id) == picture
    again = await bot.send_photo(USER_ID, size.file_id)
    assert again.photo[-1].file_id == size.file_id
    with pytest.raises(BadRequest, match="Image_process_failed"):
        await bot.send_photo(USER_ID, b"not an image")
    with pytest.raises(BadRequest, match="Can't use file of type photo as document"):
        await bot.send_document(USER_ID, size.file_id)
    with pytest.raises(BadRequest, match="Wrong file identifier/http url specified"):
        await bot.send_document(USER_ID, "no-such-file")
    doc = await bot.send_document(USER_ID, b"id,points\n1,10\n", filename="points.csv")
    assert (doc.document.file_name, doc.document.mime_type) == ("points.csv", "text/csv")
    assert api.file_bytes(doc.document.file_id) == b"id,points\n1,10\n"
    by_url = await bot.send_photo(USER_ID, "https://example.org/p.jpg")
    with pytest.raises(ValueError, match="sent by URL"):
        api.file_bytes(by_url.photo[-1].file_id)
    with pytest.raises(BadRequest, match="Message caption is too long"):
        await bot.send_document(USER_ID, b"x", filename="x.txt", caption="c" * 1025)


async def test_commands(api, bot, user):
    commands = [telegram.BotCommand("start", "Begin"), telegram.BotCommand("points", "Points")]
    assert await bot.set_my_commands(commands)
    assert await bot.set_my_commands(
        [telegram.BotCommand("start", "Beginnen")], language_code="de"
    )
    chat_scope = telegram.BotCommandScopeChat(USER_ID)
    assert await bot.set_my_commands([telegram.BotCommand("admin", "Admin")], scope=chat_scope)
    assert api.commands[('{"type":"default"}', "")][1] == {
        "command": "points",
        "description": "Points",
    }
    assert api.commands[(f'{{"chat_id":{USER_ID},"type":"chat"}}', "")][0]["command"] == "admin"
    assert [c.command for c in await bot.get_my_commands(language_code="de")] == ["start"]
    assert await bot.delete_my_commands(language_code="de")
    assert await bot.get_my_commands(language_code="de") == ()
    for bad in ("Start", "my-command", "x" * 33):
        with pytest.raises(BadRequest):
            await bot.set_my_commands([telegram.BotCommand(bad, "d")])
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.set_my_commands(commands, scope=telegram.BotCommandScopeChat(5))
    with pytest.raises(BadRequest, match="Invalid language code"):
        await bot.set_my_commands(commands, language_code="deu")


async def test_menu_button_and_chat_action(api, bot, user):
    assert await bot.set_chat_menu_button(USER_ID, telegram.MenuButtonCommands())
    assert api.menu_buttons[USER_ID] == {"type": "commands"}
    assert isinstance(await bot.get_chat_menu_button(USER_ID), telegram.MenuButtonCommands)
    assert await bot.send_chat_action(USER_ID, "typing")
    with pytest.raises(BotApiError, match="wrong parameter action"):
        await api.call("sendChatAction", {"chat_id": USER_ID, "action": "dancing"})
    assert await bot.close() is True
    assert await bot.log_out() is True


async def test_unimplemented_methods(api, bot, user):
    # A Boolean method in the Bot API list is simply accepted...
    assert await bot.set_my_description("A bot") is True
    # ...and anything richer is refused rather than answered with something made up.
    with pytest.raises(BadRequest, match=r"(?i)getchat is not supported by this local bot api"):
        await bot.get_chat(USER_ID)


async def test_latency_is_imitated(api):
    request = OfflineRequest(api, latency=0.05)
    async with telegram.Bot(api.token, request=request, get_updates_request=request) as bot:
        loop = asyncio.get_running_loop()
        started = loop.time()
        await bot.get_me()
        assert loop.time() - started >= 0.05


async def test_ptb_application_polls_and_answers(api, user):
    async def start(update: telegram.Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.message.reply_text(f"Hello, {update.effective_user.first_name}!")

    application = (
        Application.builder()
        .token(api.token)
        .request(OfflineRequest(api))
        .get_updates_request(OfflineRequest(api))
        .build()
    )
    application.add_handler(CommandHandler("start", start))
    async with application:
        await application.start()
        await application.updater.start_polling(poll_interval=0, timeout=10)
        await api.wait_for(lambda: len(api.bot_messages(USER_ID)) == 1)
        api.user_message(user, text="/start again")
        await api.wait_for(lambda: len(api.bot_messages(USER_ID)) == 2)
        await application.updater.stop()
        await application.stop()
    assert [m["text"] for m in api.bot_messages(USER_ID)] == ["Hello, Ann!"] * 2
    # Stopping confirmed every update it had fetched.
    assert api.pending_updates() == []
