"""The parsers and checks that decide what the imitated Bot API refuses."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from localapi import BotApiError
from localapi import validate as v

TEXT_BUTTONS = (
    "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
)


def refused(call, *args, **kwargs) -> str:
    with pytest.raises(BotApiError) as caught:
        call(*args, **kwargs)
    assert caught.value.error_code == 400
    return caught.value.description


# --- HTML --------------------------------------------------------------------------------------


def test_html_nested_tags_give_utf16_entities():
    text, entities = v.parse_html("😀 <b>bold <i>both</i></b> &lt;tag&gt; &amp; &#65;&#x42;")
    assert text == "😀 bold both <tag> & AB"
    assert entities == [
        {"type": "bold", "offset": 3, "length": 9},
        {"type": "italic", "offset": 8, "length": 4},
    ]


@pytest.mark.parametrize(
    ("source", "kind"),
    [
        ("<strong>x</strong>", "bold"),
        ("<em>x</em>", "italic"),
        ("<ins>x</ins>", "underline"),
        ("<u>x</u>", "underline"),
        ("<del>x</del>", "strikethrough"),
        ("<strike>x</strike>", "strikethrough"),
        ("<s>x</s>", "strikethrough"),
        ('<span class="tg-spoiler">x</span>', "spoiler"),
        ("<tg-spoiler>x</tg-spoiler>", "spoiler"),
        ("<code>x</code>", "code"),
        ("<pre>x</pre>", "pre"),
        ("<blockquote>x</blockquote>", "blockquote"),
        ("<blockquote expandable>x</blockquote>", "expandable_blockquote"),
    ],
)
def test_html_supported_tags(source, kind):
    assert v.parse_html(source) == ("x", [{"type": kind, "offset": 0, "length": 1}])


def test_html_links_code_languages_and_custom_emoji():
    text, entities = v.parse_html(
        '<a href="https://example.org/?a=1&b=2">site</a> '
        '<pre><code class="language-python">x = 1</code></pre> '
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>'
    )
    assert text == "site x = 1 👍"
    assert entities == [
        {"type": "text_link", "offset": 0, "length": 4, "url": "https://example.org/?a=1&b=2"},
        {"type": "pre", "offset": 5, "length": 5, "language": "python"},
        {
            "type": "custom_emoji",
            "offset": 11,
            "length": 2,
            "custom_emoji_id": "5368324170671202286",
        },
    ]


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("A<B", "Unclosed start tag at byte offset 1"),
        ("a <foo>x</foo>", 'Unsupported start tag "foo" at byte offset 2'),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("é<br/>", 'Unsupported start tag "br/" at byte offset 2'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        (
            "<b>x</b> & y",
            "Character '&' at byte offset 9 is reserved and must be escaped as &amp;",
        ),
        ("AT&T", "Character '&' at byte offset 2 is reserved and must be escaped as &amp;"),
    ],
)
def test_html_refusals_name_the_place(source, message):
    assert refused(v.parse_html, source) == f"Bad Request: can't parse entities: {message}"


def test_html_entity_without_semicolon_is_accepted_like_telegram():
    assert v.parse_html("&amp &lt") == ("& <", [])


# --- Markdown ----------------------------------------------------------------------------------


def test_markdown_v2_entities():
    text, entities = v.parse_markdown_v2(
        "*b* _i_ __u__ ~s~ ||p|| `c` [l](https://example.org/a\\)b) ```py\ncode```"
    )
    assert text == "b i u s p c l code"
    assert entities == [
        {"type": "bold", "offset": 0, "length": 1},
        {"type": "italic", "offset": 2, "length": 1},
        {"type": "underline", "offset": 4, "length": 1},
        {"type": "strikethrough", "offset": 6, "length": 1},
        {"type": "spoiler", "offset": 8, "length": 1},
        {"type": "code", "offset": 10, "length": 1},
        {"type": "text_link", "offset": 12, "length": 1, "url": "https://example.org/a)b"},
        {"type": "pre", "offset": 14, "length": 4, "language": "py"},
    ]


def test_markdown_v2_escapes_and_blockquotes():
    assert v.parse_markdown_v2("1\\.5\\! \\(ok\\)") == ("1.5! (ok)", [])
    assert v.parse_markdown_v2(">one\n>two\nafter") == (
        "one\ntwo\nafter",
        [{"type": "blockquote", "offset": 0, "length": 8}],
    )


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("Price: 5.00", "Character '.' is reserved and must be escaped with the preceding '\\'"),
        ("a-b", "Character '-' is reserved and must be escaped with the preceding '\\'"),
        ("*bold", "Can't find end of Bold entity at byte offset 0"),
        ("[x](https://e.org", "Can't find end of a URL at byte offset 4"),
    ],
)
def test_markdown_v2_refusals(source, message):
    assert refused(v.parse_markdown_v2, source) == f"Bad Request: can't parse entities: {message}"


def test_legacy_markdown():
    assert v.parse_markdown("*b* _i_ [l](https://e.org) a.b") == (
        "b i l a.b",
        [
            {"type": "bold", "offset": 0, "length": 1},
            {"type": "italic", "offset": 2, "length": 1},
            {"type": "text_link", "offset": 4, "length": 1, "url": "https://e.org"},
        ],
    )


# --- texts -------------------------------------------------------------------------------------


def test_text_limits_count_utf16_units_after_parsing():
    username = "talentbot_test"
    assert v.message_text("a" * 4096, None, None, bot_username=username)[0] == "a" * 4096
    assert refused(v.message_text, "a" * 4097, None, None, bot_username=username) == (
        "Bad Request: message is too long"
    )
    tagged = "<b>" + "a" * 4096 + "</b>"
    assert v.message_text(tagged, "HTML", None, bot_username=username)[0] == "a" * 4096
    # One emoji outside the Basic Multilingual Plane is two UTF-16 units.
    assert v.utf16_len("😀") == 2
    v.message_text("😀" * 2048, None, None, bot_username=username)
    assert refused(v.message_text, "😀" * 2048 + "a", None, None, bot_username=username) == (
        "Bad Request: message is too long"
    )


def test_text_empty_and_trimmed_like_telegram():
    username = "talentbot_test"
    assert refused(v.message_text, "", None, None, bot_username=username) == (
        "Bad Request: message text is empty"
    )
    assert refused(v.message_text, "<b> </b>\n", "HTML", None, bot_username=username) == (
        "Bad Request: message text is empty"
    )
    assert v.message_text("\n <b>x</b> \n", "HTML", None, bot_username=username) == (
        "x",
        [{"type": "bold", "offset": 0, "length": 1}],
    )
    assert refused(v.message_text, "x", "HTM", None, bot_username=username) == (
        "Bad Request: unsupported parse_mode"
    )


def test_caption_limit():
    username = "talentbot_test"
    assert v.caption_text("a" * 1024, None, None, bot_username=username)[0] == "a" * 1024
    assert refused(v.caption_text, "a" * 1025, None, None, bot_username=username) == (
        "Bad Request: message caption is too long"
    )
    assert v.caption_text(None, None, None, bot_username=username) == ("", [])


def test_deep_links_to_the_bot_need_a_valid_payload():
    username = "talentbot_test"
    ok = "Open https://t.me/talentbot_test?start=st_12-ab. Then tap Start."
    v.message_text(ok, None, None, bot_username=username)
    for bad in (
        "t.me/talentbot_test?start=",
        "https://t.me/talentbot_test?start=" + "a" * 65,
        "https://t.me/talentbot_test?start=café",
    ):
        assert refused(v.message_text, bad, None, None, bot_username=username) == (
            "Bad Request: wrong deep link payload"
        )
    html = '<a href="https://t.me/talentbot_test?start=x.y">go</a>'
    assert refused(v.message_text, html, "HTML", None, bot_username=username) == (
        "Bad Request: wrong deep link payload"
    )
    # Links to other bots are not ours to judge in a text.
    v.message_text("https://t.me/other_bot?start=a.b", None, None, bot_username=username)


# --- keyboards ---------------------------------------------------------------------------------


def test_inline_keyboard_buttons():
    markup = {
        "inline_keyboard": [
            [{"text": "A", "callback_data": "a" * 64, "unknown": 1}],
            [],
            [{"text": "Site", "url": "https://t.me/talentbot_test?start=abc"}],
        ]
    }
    assert v.check_reply_markup(markup) == {
        "inline_keyboard": [
            [{"text": "A", "callback_data": "a" * 64}],
            [{"text": "Site", "url": "https://t.me/talentbot_test?start=abc"}],
        ]
    }
    assert v.check_reply_markup({"inline_keyboard": []}) is None


def test_inline_keyboards_hold_at_most_100_buttons_8_to_a_row():
    button = {"text": "A", "callback_data": "a"}
    assert v.check_reply_markup({"inline_keyboard": [[button] * 4] * 25}) is not None
    assert v.check_reply_markup({"inline_keyboard": [[button] * 8]}) is not None
    for rows in ([[button]] * 101, [[button] * 4] * 25 + [[button]], [[button] * 9]):
        markup = {"inline_keyboard": rows}
        assert refused(v.check_reply_markup, markup) == "Bad Request: reply markup is too long"


@pytest.mark.parametrize(
    ("button", "message"),
    [
        ({"text": "A", "callback_data": "a" * 65}, "BUTTON_DATA_INVALID"),
        ({"text": "A", "callback_data": "é" * 33}, "BUTTON_DATA_INVALID"),
        ({"text": "A", "url": "https://t.me/some_bot?start=no spaces"}, "BUTTON_URL_INVALID"),
        ({"text": "A", "url": "https://t.me/some_bot?start=a.b"}, "BUTTON_URL_INVALID"),
        ({"text": "A", "url": "javascript://alert"}, "BUTTON_URL_INVALID"),
        ({"text": "", "callback_data": "x"}, "BUTTON_TEXT_INVALID"),
        (
            {"text": "A"},
            TEXT_BUTTONS,
        ),
        (
            {"text": "A", "callback_data": ""},
            TEXT_BUTTONS,
        ),
        (
            {"text": "A", "callback_data": "x", "url": "https://e.org"},
            "can't parse inline keyboard button: exactly one of the optional fields must be used",
        ),
        ({"callback_data": "x"}, "can't parse inline keyboard button: Can't find field \"text\""),
    ],
)
def test_inline_button_refusals(button, message):
    markup = {"inline_keyboard": [[button]]}
    assert refused(v.check_reply_markup, markup) == f"Bad Request: {message}"


def test_reply_keyboards():
    keyboard = {
        "keyboard": [["Plain"], [{"text": "Share", "request_contact": True}]],
        "resize_keyboard": True,
    }
    assert v.check_reply_markup(keyboard) == {
        "keyboard": [[{"text": "Plain"}], [{"text": "Share", "request_contact": True}]],
        "resize_keyboard": True,
    }
    assert v.check_reply_markup({"remove_keyboard": True}) == {"remove_keyboard": True}
    assert v.check_reply_markup({"force_reply": True}) == {"force_reply": True}
    malformed = "Bad Request: can't parse reply keyboard markup JSON object"
    assert refused(v.check_reply_markup, {"keyboard": []}) == malformed
    assert refused(v.check_reply_markup, {"selective": True}) == malformed
    assert refused(v.check_reply_markup, {"keyboard": [[{"text": ""}]]}) == (
        "Bad Request: BUTTON_TEXT_INVALID"
    )
    assert refused(v.check_reply_markup, keyboard, inline_only=True) == (
        "Bad Request: inline keyboard expected"
    )


# --- commands ----------------------------------------------------------------------------------


def test_commands_are_normalised():
    assert v.check_bot_commands([{"command": " /start ", "description": " Begin "}]) == [
        {"command": "start", "description": "Begin"}
    ]


@pytest.mark.parametrize(
    ("command", "description", "message"),
    [
        ("Start", "x", "BOT_COMMAND_INVALID"),
        ("my-cmd", "x", "BOT_COMMAND_INVALID"),
        ("café", "x", "BOT_COMMAND_INVALID"),
        ("a" * 33, "x", "command length must not exceed 32"),
        ("", "x", "command must be non-empty"),
        ("ok", " ", "command description must be non-empty"),
        ("ok", "d" * 257, "command description length must not exceed 256"),
    ],
)
def test_command_refusals(command, description, message):
    commands = [{"command": command, "description": description}]
    assert refused(v.check_bot_commands, commands) == f"Bad Request: {message}"


def test_command_count_scope_and_language():
    many = [{"command": f"c{i}", "description": "d"} for i in range(101)]
    assert refused(v.check_bot_commands, many) == "Bad Request: BOT_COMMANDS_TOO_MUCH"
    assert v.check_command_scope(None) == {"type": "default"}
    assert v.check_command_scope({"type": "chat", "chat_id": "42"}) == {
        "type": "chat",
        "chat_id": 42,
    }
    assert refused(v.check_command_scope, {"type": "chat"}) == (
        "Bad Request: can't parse BotCommandScope: Empty chat_id specified"
    )
    assert refused(v.check_command_scope, {"type": "everyone"}) == (
        "Bad Request: can't parse BotCommandScope: Unsupported type specified"
    )
    assert v.check_language_code("de") == "de"
    assert refused(v.check_language_code, "DE") == "Bad Request: invalid language code specified"


def test_button_field_lists_match_the_packaged_api_description():
    spec = json.loads(resources.files("localapi").joinpath("api.json").read_text("utf-8"))
    fields = {name: [f[0] for f in entry["fields"]] for name, entry in spec["types"].items()}
    inline = set(v.INLINE_BUTTON_DECORATION) | set(v.INLINE_BUTTON_ACTIONS)
    assert inline == set(fields["InlineKeyboardButton"])
    assert set(v.KEYBOARD_BUTTON_FIELDS) == set(fields["KeyboardButton"])
    assert set(v.MESSAGE_ENTITY_FIELDS) == set(fields["MessageEntity"])
