"""Pure checks of what Telegram's Bot API refuses, with Telegram's own wording.

The HTML and MarkdownV2 parsers follow the algorithm of Telegram's reference implementation
(TDLib's ``parse_html`` / ``parse_markdown_v2``) step by step, so that the error texts and byte
offsets match what a real bot sees. Where this module is stricter than Telegram the function
says so and why: the imitation exists to make the bot's own mistakes fail loudly in tests.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urlsplit

from .errors import BotApiError, bad_request

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
# Telegram refuses raw text above 2**15 bytes before parsing it at all.
MAX_RAW_TEXT_BYTES = 1 << 15
MAX_CALLBACK_DATA_BYTES = 64
# Telegram's limits on one inline keyboard (not in the documentation; what the servers refuse
# with "reply markup is too long"): 100 buttons, 8 to a row.
MAX_INLINE_BUTTONS = 100
MAX_INLINE_ROW = 8
MAX_CALLBACK_ANSWER_LENGTH = 200
MAX_COMMANDS = 100
MAX_COMMAND_LENGTH = 32
MAX_COMMAND_DESCRIPTION_LENGTH = 256

# InlineKeyboardButton of Bot API 10.1: fields that decorate a button, and the fields of which
# exactly one says what pressing it does.
INLINE_BUTTON_DECORATION = ("text", "icon_custom_emoji_id", "style")
INLINE_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
KEYBOARD_BUTTON_FIELDS = (
    "text",
    "icon_custom_emoji_id",
    "style",
    "request_users",
    "request_chat",
    "request_managed_bot",
    "request_contact",
    "request_location",
    "request_poll",
    "web_app",
)
MESSAGE_ENTITY_FIELDS = (
    "type",
    "offset",
    "length",
    "url",
    "user",
    "language",
    "custom_emoji_id",
    "unix_time",
    "date_time_format",
)
COMMAND_SCOPES_WITHOUT_CHAT = (
    "default",
    "all_private_chats",
    "all_group_chats",
    "all_chat_administrators",
)
COMMAND_SCOPES_WITH_CHAT = ("chat", "chat_administrators", "chat_member")

START_PAYLOAD_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
COMMAND_RE = re.compile(r"[a-z0-9_]+")
_ASCII_SPACE = " \t\r\n\0\v"

Entity = dict[str, Any]


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of every Telegram length and entity offset."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _u16(char: str) -> int:
    return 2 if ord(char) > 0xFFFF else 1


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8", "surrogatepass"))


def _entities_error(message: str) -> BotApiError:
    return bad_request(f"can't parse entities: {message}")


def _is_space(char: str) -> bool:
    return char in _ASCII_SPACE


def _is_ascii_alnum(char: str) -> bool:
    return char.isascii() and char.isalnum()


class _Text:
    """Character access past the end yields NUL, as the C string the reference parser reads."""

    def __init__(self, text: str):
        self.text = text
        self.size = len(text)

    def __getitem__(self, index: int) -> str:
        return self.text[index] if index < self.size else "\0"


# --- links -----------------------------------------------------------------------------------


def split_url(url: str) -> SplitResult | None:
    """The parts of ``url``, or None where Python cannot even split it (a stray "[")."""
    try:
        parts = urlsplit(url)
        parts.hostname  # noqa: B018 - raises for some malformed hosts
    except ValueError:
        return None
    return parts


def checked_link(url: str) -> str:
    """The link Telegram would keep for a text_link, or "" when it would drop the entity."""
    url = url.strip()
    if not url or any(_is_space(c) for c in url):
        return ""
    if "://" not in url and not url.lower().startswith(("tg:", "ton:", "mailto:")):
        url = "http://" + url
    parts = split_url(url)
    if parts is None:
        return ""
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        return url if parts.hostname else ""
    if scheme in ("tg", "ton", "mailto"):
        return url
    return ""


def is_valid_start_payload(payload: str) -> bool:
    return START_PAYLOAD_RE.fullmatch(payload) is not None


_TRAILING_PUNCTUATION = ".,;:!?)]}'\""


def _start_link_re(username: str | None, *, in_prose: bool) -> re.Pattern[str]:
    name = re.escape(username) if username else r"[A-Za-z0-9_]{3,32}"
    # In prose a link ends at whitespace; a URL given on its own ends only at "&" or "#".
    payload = r"[^\s&#]*" if in_prose else r"[^&#]*"
    return re.compile(
        rf"(?:https?://)?(?:www\.)?(?:t|telegram)\.me/{name}/?\?(?:[^\s#]*&)?"
        rf"start(?:group)?=({payload})",
        re.IGNORECASE,
    )


def start_payloads(text: str, username: str | None, *, in_prose: bool) -> list[str]:
    """Payloads of every ``t.me/<username>?start=`` link in ``text``.

    In prose a link may be followed by punctuation that is not part of it, as clients' link
    detection assumes, so trailing punctuation is left out there.
    """
    payloads = []
    for match in _start_link_re(username, in_prose=in_prose).finditer(text):
        payload = match.group(1)
        if in_prose:
            payload = payload.rstrip(_TRAILING_PUNCTUATION)
        payloads.append(payload)
    return payloads


def check_deep_links(text: str, entities: Sequence[Entity], bot_username: str) -> None:
    """Refuse a link to the bot whose start payload Telegram would not pass on.

    Telegram itself sends such a text happily; the user who taps the link then gets a bare
    /start without the payload, silently. That is our own bug, so it is refused here.
    """
    candidates = start_payloads(text, bot_username, in_prose=True)
    for entity in entities:
        url = entity.get("url")
        if isinstance(url, str):
            candidates.extend(start_payloads(url, bot_username, in_prose=False))
    for payload in candidates:
        if not is_valid_start_payload(payload):
            raise bad_request("wrong deep link payload")


def check_button_url(url: str) -> None:
    """An inline button's URL: HTTP(S) or tg://; a start link must carry a valid payload.

    Telegram does not look inside the start payload of a button URL; a bad one only shows when a
    user taps it, so it is refused here (our rule, like :func:`check_deep_links`).
    """
    if not isinstance(url, str) or any(_is_space(c) for c in url):
        raise bad_request("BUTTON_URL_INVALID")
    lowered = url.lower()
    if "://" in url:
        parts = split_url(url)
        if (
            parts is None
            or parts.scheme.lower() not in ("http", "https", "tg")
            or (parts.scheme.lower() != "tg" and not parts.hostname)
        ):
            raise bad_request("BUTTON_URL_INVALID")
    elif not lowered.startswith(("t.me/", "telegram.me/", "www.")) and "." not in lowered:
        raise bad_request("BUTTON_URL_INVALID")
    for payload in start_payloads(url, None, in_prose=False):
        if not is_valid_start_payload(payload):
            raise bad_request("BUTTON_URL_INVALID")


# --- HTML ------------------------------------------------------------------------------------

_HTML_TAGS = frozenset(
    (
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "tg-time",
        "span",
        "pre",
        "code",
        "blockquote",
    )
)
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_HEX_DIGITS = "0123456789abcdefABCDEF"


def _decode_html_entity(text: _Text, pos: int) -> tuple[int, int] | None:
    """(code point, position after it) of the character reference at ``pos``, if it is one."""
    end = pos + 1
    code = 0
    if text[pos + 1] == "#":
        end += 1
        if text[pos + 2] == "x":
            end += 1
            while text[end] in _HEX_DIGITS and text[end] != "\0":
                code = code * 16 + int(text[end], 16)
                end += 1
        else:
            while text[end].isascii() and text[end].isdigit():
                code = code * 10 + int(text[end])
                end += 1
        if code == 0 or code >= 0x10FFFF or end - pos >= 10:
            return None
    else:
        while text[end].isascii() and text[end].isalpha():
            end += 1
        name = text.text[pos + 1 : end]
        if name not in _NAMED_ENTITIES:
            return None
        code = ord(_NAMED_ENTITIES[name])
    if text[end] == ";":
        end += 1
    return code, end


@dataclass
class _OpenTag:
    name: str
    argument: str
    date: int
    offset: int
    begin: int


_SORT_PRIORITY = {
    "blockquote": 0,
    "expandable_blockquote": 0,
    "pre": 1,
    "code": 2,
    "text_link": 3,
    "custom_emoji": 4,
    "date_time": 4,
    "bold": 5,
    "italic": 6,
    "underline": 7,
    "strikethrough": 8,
    "spoiler": 9,
}


def _sorted(entities: list[Entity]) -> list[Entity]:
    return sorted(
        entities,
        key=lambda e: (e["offset"], -e["length"], _SORT_PRIORITY.get(e["type"], 10)),
    )


def parse_html(source: str) -> tuple[str, list[Entity]]:
    """Telegram's HTML subset: the plain text and its entities (offsets in UTF-16 units).

    Stricter than Telegram in one way: a bare ``&`` that starts no character reference is
    refused, where Telegram keeps it as text. Such an ``&`` almost always means user-supplied
    text went into the message unescaped, and the next user's name will contain ``<``.
    """
    text = _Text(source)
    out: list[str] = []
    utf16 = 0
    entities: list[Entity] = []
    nested: list[_OpenTag] = []
    had_surrogate = False
    i = 0
    while i < text.size:
        char = text[i]
        if char == "&":
            decoded = _decode_html_entity(text, i)
            if decoded is None:
                raise _entities_error(
                    f"Character '&' at byte offset {_byte_offset(source, i)} is reserved and "
                    "must be escaped as &amp;"
                )
            code, i = decoded
            if 0xD800 <= code <= 0xDFFF:
                had_surrogate = True
            out.append(chr(code))
            utf16 += 2 if code > 0xFFFF else 1
            continue
        if char != "<":
            out.append(char)
            utf16 += _u16(char)
            i += 1
            continue

        begin = i
        i += 1
        if text[i] != "/":
            while not _is_space(text[i]) and text[i] != ">":
                i += 1
            if i >= text.size:
                raise _entities_error(
                    f"Unclosed start tag at byte offset {_byte_offset(source, begin)}"
                )
            tag = source[begin + 1 : i].lower()
            if tag not in _HTML_TAGS:
                raise _entities_error(
                    f'Unsupported start tag "{tag}" at byte offset {_byte_offset(source, begin)}'
                )
            argument = ""
            date = 0
            while text[i] != ">":
                while i < text.size and _is_space(text[i]):
                    i += 1
                if text[i] == ">":
                    break
                attribute_begin = i
                while not _is_space(text[i]) and text[i] not in "=>/\"'":
                    i += 1
                attribute = source[attribute_begin:i]
                if not attribute:
                    raise _entities_error(
                        f'Empty attribute name in the tag "{tag}" at byte offset '
                        f"{_byte_offset(source, begin)}"
                    )
                while i < text.size and _is_space(text[i]):
                    i += 1
                if text[i] != "=":
                    if i >= text.size:
                        raise _entities_error(
                            f'Unclosed start tag "{tag}" at byte offset '
                            f"{_byte_offset(source, begin)}"
                        )
                    if tag == "blockquote" and attribute == "expandable":
                        argument = "1"
                    continue
                i += 1
                while i < text.size and _is_space(text[i]):
                    i += 1
                if i >= text.size:
                    raise _entities_error(
                        f'Unclosed start tag "{tag}" at byte offset {_byte_offset(source, begin)}'
                    )
                if text[i] not in "'\"":
                    token_begin = i
                    while _is_ascii_alnum(text[i]) or text[i] in ".-":
                        i += 1
                    value = source[token_begin:i].lower()
                    if not _is_space(text[i]) and text[i] != ">":
                        raise _entities_error(
                            "Unexpected end of name token at byte offset "
                            f"{_byte_offset(source, token_begin)}"
                        )
                else:
                    quote = text[i]
                    i += 1
                    chars: list[str] = []
                    while i < text.size and text[i] != quote:
                        # Telegram keeps a bare "&" inside attribute values (URLs are full of
                        # them), so this is not refused like one in the text.
                        if text[i] == "&":
                            decoded = _decode_html_entity(text, i)
                            if decoded is not None:
                                chars.append(chr(decoded[0]))
                                i = decoded[1]
                                continue
                        chars.append(text[i])
                        i += 1
                    if text[i] == quote:
                        i += 1
                    value = "".join(chars)
                if i >= text.size:
                    raise _entities_error(
                        f"Unclosed start tag at byte offset {_byte_offset(source, begin)}"
                    )
                if tag == "a" and attribute == "href":
                    argument = value
                elif tag == "code" and attribute == "class" and value.startswith("language-"):
                    argument = value[len("language-") :]
                elif tag == "span" and attribute == "class" and value.startswith("tg-"):
                    argument = value[len("tg-") :]
                elif tag == "tg-emoji" and attribute == "emoji-id":
                    argument = value
                elif tag == "blockquote" and attribute == "expandable":
                    argument = "1"
                elif tag == "tg-time" and attribute == "unix":
                    date = _leading_int(value)
                elif tag == "tg-time" and attribute == "format":
                    argument = value
            if tag == "span" and argument != "spoiler":
                raise _entities_error(
                    'Tag "span" must have class "tg-spoiler" at byte offset '
                    f"{_byte_offset(source, begin)}"
                )
            nested.append(_OpenTag(tag, argument, date, utf16, len(out)))
            i += 1
            continue

        # an end tag
        if not nested:
            raise _entities_error(
                f"Unexpected end tag at byte offset {_byte_offset(source, begin)}"
            )
        while not _is_space(text[i]) and text[i] != ">":
            i += 1
        end_tag = source[begin + 2 : i].lower()
        while i < text.size and _is_space(text[i]):
            i += 1
        if text[i] != ">":
            raise _entities_error(f"Unclosed end tag at byte offset {_byte_offset(source, begin)}")
        opened = nested[-1]
        if end_tag and end_tag != opened.name:
            raise _entities_error(
                f"Unmatched end tag at byte offset {_byte_offset(source, begin)}, "
                f'expected "</{opened.name}>", found "</{end_tag}>"'
            )
        if utf16 > opened.offset:
            _close_html_entity(opened, utf16 - opened.offset, out, entities)
        nested.pop()
        i += 1

    if nested:
        raise _entities_error(
            f'Can\'t find end tag corresponding to start tag "{nested[-1].name}"'
        )
    for entity in entities:
        if entity["type"] == "code":
            entity.pop("language", None)
    if had_surrogate:
        raise _entities_error(
            "Text contains invalid Unicode characters after decoding HTML entities, check for "
            "unmatched surrogate code units"
        )
    return "".join(out), _sorted(entities)


def _leading_int(value: str) -> int:
    match = re.match(r"-?\d+", value)
    return int(match.group()) if match else 0


def _close_html_entity(
    opened: _OpenTag, length: int, out: list[str], entities: list[Entity]
) -> None:
    tag = opened.name
    offset = opened.offset
    simple = {
        "i": "italic",
        "em": "italic",
        "b": "bold",
        "strong": "bold",
        "s": "strikethrough",
        "strike": "strikethrough",
        "del": "strikethrough",
        "u": "underline",
        "ins": "underline",
        "tg-spoiler": "spoiler",
        "span": "spoiler",
    }
    if tag in simple:
        entities.append({"type": simple[tag], "offset": offset, "length": length})
    elif tag == "tg-emoji":
        if not re.fullmatch(r"-?\d+", opened.argument) or int(opened.argument) == 0:
            raise _entities_error("Invalid custom emoji identifier specified")
        entities.append(
            {
                "type": "custom_emoji",
                "offset": offset,
                "length": length,
                "custom_emoji_id": str(int(opened.argument)),
            }
        )
    elif tag == "tg-time":
        if opened.date > 0:
            entity: Entity = {
                "type": "date_time",
                "offset": offset,
                "length": length,
                "unix_time": opened.date,
            }
            if opened.argument:
                entity["date_time_format"] = opened.argument
            entities.append(entity)
    elif tag == "a":
        url = opened.argument or "".join(out[opened.begin :])
        url = checked_link(url)
        if url:
            entities.append({"type": "text_link", "offset": offset, "length": length, "url": url})
    elif tag == "pre":
        last = entities[-1] if entities else None
        if (
            last is not None
            and last["type"] == "code"
            and last["offset"] == offset
            and last["length"] == length
            and last.get("language")
        ):
            last["type"] = "pre"
        else:
            entities.append({"type": "pre", "offset": offset, "length": length})
    elif tag == "code":
        last = entities[-1] if entities else None
        if (
            last is not None
            and last["type"] == "pre"
            and last["offset"] == offset
            and last["length"] == length
            and opened.argument
        ):
            last["language"] = opened.argument
        else:
            entity = {"type": "code", "offset": offset, "length": length}
            if opened.argument:
                entity["language"] = opened.argument
            entities.append(entity)
    elif tag == "blockquote":
        kind = "expandable_blockquote" if opened.argument else "blockquote"
        entities.append({"type": kind, "offset": offset, "length": length})


# --- Markdown --------------------------------------------------------------------------------

_MD_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "pre_code": "PreCode",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
    "blockquote": "BlockQuote",
    "expandable_blockquote": "ExpandableBlockQuote",
}


def _reserved(char: str) -> BotApiError:
    return _entities_error(
        f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
    )


@dataclass
class _OpenMark:
    kind: str
    argument: str
    offset: int
    byte_index: int
    begin: int


def _skip_pre_newline(text: _Text, i: int) -> int:
    if text[i] in "\n\r" and i < text.size:
        if text[i + 1] in "\n\r" and i + 1 < text.size and text[i] != text[i + 1]:
            return i + 2
        return i + 1
    return i


def _pre_language(text: _Text, i: int) -> tuple[str, int]:
    language_end = i
    while not _is_space(text[language_end]) and text[language_end] != "`":
        language_end += 1
    if i != language_end and language_end < text.size and text[language_end] != "`":
        return text.text[i:language_end], language_end
    return "", i


def parse_markdown(source: str) -> tuple[str, list[Entity]]:
    """Telegram's legacy "Markdown" mode."""
    text = _Text(source)
    out: list[str] = []
    utf16 = 0
    entities: list[Entity] = []
    i = 0
    while i < text.size:
        char = text[i]
        if char == "\\" and text[i + 1] in "_*`[" and i + 1 < text.size:
            out.append(text[i + 1])
            utf16 += 1
            i += 2
            continue
        if char not in "_*`[":
            out.append(char)
            utf16 += _u16(char)
            i += 1
            continue
        begin = i
        end_char = "]" if char == "[" else char
        is_pre = False
        language = ""
        i += 1
        if char == "`" and text[i] == "`" and text[i + 1] == "`":
            i += 2
            is_pre = True
            language, i = _pre_language(text, i)
            i = _skip_pre_newline(text, i)
        offset = utf16
        while i < text.size and (
            text[i] != end_char or (is_pre and not (text[i + 1] == "`" and text[i + 2] == "`"))
        ):
            out.append(text[i])
            utf16 += _u16(text[i])
            i += 1
        if i >= text.size:
            raise _entities_error(
                "Can't find end of the entity starting at byte offset "
                f"{_byte_offset(source, begin)}"
            )
        length = utf16 - offset
        if length:
            if char == "_":
                entities.append({"type": "italic", "offset": offset, "length": length})
            elif char == "*":
                entities.append({"type": "bold", "offset": offset, "length": length})
            elif char == "[":
                if text[i + 1] != "(":
                    url = source[begin + 1 : i]
                else:
                    i += 2
                    url_begin = i
                    while i < text.size and text[i] != ")":
                        i += 1
                    url = source[url_begin:i]
                url = checked_link(url)
                if url:
                    entities.append(
                        {"type": "text_link", "offset": offset, "length": length, "url": url}
                    )
            elif is_pre:
                entity: Entity = {"type": "pre", "offset": offset, "length": length}
                if language:
                    entity["language"] = language
                entities.append(entity)
            else:
                entities.append({"type": "code", "offset": offset, "length": length})
        if is_pre:
            i += 2
        i += 1
    return "".join(out), _sorted(entities)


def _mark_ends(text: _Text, i: int, kind: str) -> bool:
    char = text[i]
    if kind == "bold":
        return char == "*"
    if kind == "italic":
        return char == "_" and text[i + 1] != "_"
    if kind == "code":
        return char == "`"
    if kind in ("pre", "pre_code"):
        return char == "`" and text[i + 1] == "`" and text[i + 2] == "`"
    if kind in ("text_link", "custom_emoji"):
        return char == "]"
    if kind == "underline":
        return char == "_" and text[i + 1] == "_"
    if kind == "strikethrough":
        return char == "~"
    if kind == "spoiler":
        return char == "|" and text[i + 1] == "|"
    return False


def _markdown_url(text: _Text, i: int, source: str) -> tuple[str, int]:
    url_begin = i
    chars: list[str] = []
    while i < text.size and text[i] != ")":
        if text[i] == "\\" and 0 < ord(text[i + 1]) <= 126 and i + 1 < text.size:
            chars.append(text[i + 1])
            i += 2
            continue
        chars.append(text[i])
        i += 1
    if text[i] != ")" or i >= text.size:
        raise _entities_error(
            f"Can't find end of a URL at byte offset {_byte_offset(source, url_begin)}"
        )
    return "".join(chars), i


def _tg_emoji_or_time(url: str) -> Entity:
    parts = split_url(url)
    if parts is None:
        raise _entities_error("Invalid tg://emoji or tg://time URL specified")
    query = dict(
        pair.split("=", 1) if "=" in pair else (pair, "") for pair in parts.query.split("&")
    )
    if parts.scheme.lower() == "tg" and parts.netloc.lower() == "emoji":
        emoji_id = query.get("id", "")
        if re.fullmatch(r"\d+", emoji_id) and int(emoji_id) != 0:
            return {"type": "custom_emoji", "custom_emoji_id": emoji_id}
    if parts.scheme.lower() == "tg" and parts.netloc.lower() == "time":
        unix = query.get("unix", "")
        if re.fullmatch(r"\d+", unix) and int(unix) > 0:
            entity: Entity = {"type": "date_time", "unix_time": int(unix)}
            if query.get("format"):
                entity["date_time_format"] = query["format"]
            return entity
    raise _entities_error("Invalid tg://emoji or tg://time URL specified")


def parse_markdown_v2(source: str) -> tuple[str, list[Entity]]:
    """Telegram's "MarkdownV2" mode: every reserved character outside an entity is escaped."""
    text = _Text(source)
    out: list[str] = []
    utf16 = 0
    entities: list[Entity] = []
    nested: list[_OpenMark] = []
    have_blockquote = False
    can_start_blockquote = True
    i = -1
    while True:
        i += 1
        if i >= text.size:
            break
        char = text[i]
        if char == "\\" and 0 < ord(text[i + 1]) <= 126 and i + 1 < text.size:
            i += 1
            utf16 += 1
            out.append(text[i])
            if text[i] != "\r":
                can_start_blockquote = text[i] == "\n"
            continue

        reserved = "_*[]()~`>#+-=|{}.!\n"
        if nested and nested[-1].kind in ("code", "pre", "pre_code"):
            reserved = "`"
        if char not in reserved:
            utf16 += _u16(char)
            if char != "\r":
                can_start_blockquote = False
            out.append(char)
            continue

        if not nested:
            is_end = False
        elif have_blockquote and char == "\n" and (i + 1 == text.size or text[i + 1] != ">"):
            is_end = True
        else:
            is_end = _mark_ends(text, i, nested[-1].kind)

        if not is_end:
            kind: str | None
            argument = ""
            byte_index = i
            if char == "_":
                if text[i + 1] == "_":
                    kind = "underline"
                    i += 1
                else:
                    kind = "italic"
            elif char == "*":
                kind = "bold"
            elif char == "~":
                kind = "strikethrough"
            elif char == "|":
                if text[i + 1] != "|":
                    raise _reserved(char)
                i += 1
                kind = "spoiler"
            elif char == "[":
                kind = "text_link"
            elif char == "`":
                if text[i + 1] == "`" and text[i + 2] == "`":
                    i += 3
                    kind = "pre"
                    argument, i = _pre_language(text, i)
                    if argument:
                        kind = "pre_code"
                    i = _skip_pre_newline(text, i)
                    i -= 1
                else:
                    kind = "code"
            elif char == "!":
                if text[i + 1] != "[":
                    raise _reserved(char)
                i += 1
                kind = "custom_emoji"
            elif char == "\n":
                utf16 += 1
                out.append("\n")
                can_start_blockquote = True
                kind = None
            elif char == ">":
                if not can_start_blockquote:
                    raise _reserved(char)
                if have_blockquote:
                    kind = None
                else:
                    kind = "blockquote"
                    have_blockquote = True
            else:
                raise _reserved(char)
            if kind is not None:
                nested.append(_OpenMark(kind, argument, utf16, byte_index, len(out)))
            continue

        # the end of an entity
        kind = nested[-1].kind
        if char == "\n" and kind != "blockquote":
            last = nested[-1]
            if kind != "spoiler" or not (
                last.byte_index == i - 2 or (last.byte_index == i - 3 and out and out[-1] == "\r")
            ):
                raise _entities_error(
                    f"Can't find end of {_MD_NAMES[kind]} entity at byte offset "
                    f"{_byte_offset(source, last.byte_index)}"
                )
            nested.pop()
            kind = nested[-1].kind
            if kind != "blockquote":
                raise _entities_error(
                    f"Can't find end of {_MD_NAMES[kind]} entity at byte offset "
                    f"{_byte_offset(source, nested[-1].byte_index)}"
                )
            kind = "expandable_blockquote"
        opened = nested[-1]
        extra: Entity = {}
        skip = utf16 == opened.offset
        if kind in ("underline", "spoiler"):
            i += 1
        elif kind in ("pre", "pre_code"):
            i += 2
        elif kind == "text_link":
            if text[i + 1] != "(":
                url = "".join(out[opened.begin :])
            else:
                url, i = _markdown_url(text, i + 2, source)
            url = checked_link(url)
            if url:
                extra = {"url": url}
            else:
                skip = True
        elif kind == "custom_emoji":
            if text[i + 1] != "(":
                raise _entities_error("The entity must contain a tg://emoji or tg://time URL")
            url, i = _markdown_url(text, i + 2, source)
            extra = _tg_emoji_or_time(url)
        elif kind in ("blockquote", "expandable_blockquote"):
            have_blockquote = False
            out.append(text[i])
            can_start_blockquote = True
            utf16 += 1
            skip = False
        if not skip:
            entity_type = extra.pop("type", None) or ("pre" if kind == "pre_code" else kind)
            entity = {
                "type": entity_type,
                "offset": opened.offset,
                "length": utf16 - opened.offset,
            }
            if kind == "pre_code":
                entity["language"] = opened.argument
            entity.update(extra)
            entities.append(entity)
        nested.pop()

    if have_blockquote and nested:
        kind = "blockquote"
        if nested[-1].kind == "spoiler" and nested[-1].byte_index == text.size - 2:
            nested.pop()
            kind = "expandable_blockquote"
        if nested and nested[-1].kind == "blockquote":
            length = utf16 - nested[-1].offset
            if length:
                entities.append({"type": kind, "offset": nested[-1].offset, "length": length})
            nested.pop()
    if nested:
        raise _entities_error(
            f"Can't find end of {_MD_NAMES[nested[-1].kind]} entity at byte offset "
            f"{_byte_offset(source, nested[-1].byte_index)}"
        )
    return "".join(out), _sorted(entities)


# --- formatted text --------------------------------------------------------------------------


def _explicit_entities(text: str, raw: Any) -> list[Entity]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise bad_request("can't parse entities JSON object")
    size = utf16_len(text)
    entities = []
    for item in raw:
        if not isinstance(item, Mapping):
            raise bad_request("can't parse MessageEntity: expected an Object")
        for key in ("type", "offset", "length"):
            if key not in item:
                raise bad_request(f"can't parse MessageEntity: Can't find field \"{key}\"")
        offset, length = item["offset"], item["length"]
        if not isinstance(item["type"], str):
            raise bad_request('can\'t parse MessageEntity: Field "type" must be of type String')
        if not isinstance(offset, int) or not isinstance(length, int):
            raise bad_request('can\'t parse MessageEntity: Field "offset" must be a Number')
        if length <= 0 or offset < 0:
            continue
        if offset + length > size:
            raise _entities_error(
                f"Entity beginning at UTF-16 offset {offset} ends after the end of the text at "
                f"UTF-16 offset {size}"
            )
        entities.append({k: item[k] for k in MESSAGE_ENTITY_FIELDS if k in item})
    return _sorted(entities)


def _trim(text: str, entities: list[Entity]) -> tuple[str, list[Entity]]:
    """Telegram strips leading blank lines/spaces and all trailing whitespace from a text."""
    stripped = text.rstrip(" \t\r\n\v\f")
    size = utf16_len(stripped)
    kept = []
    for entity in entities:
        if entity["offset"] >= size:
            continue
        entity = dict(entity)
        entity["length"] = min(entity["length"], size - entity["offset"])
        kept.append(entity)
    first_entity = min((e["offset"] for e in kept), default=size)
    lead = 0
    while lead < first_entity and lead < len(stripped) and stripped[lead] in " \n":
        lead += 1
    if lead:
        stripped = stripped[lead:]
        for entity in kept:
            entity["offset"] -= lead
    return stripped, [e for e in kept if e["length"] > 0]


def parse_text(
    text: str, parse_mode: str | None, entities: Any = None
) -> tuple[str, list[Entity]]:
    """Plain text and entities of a message text or caption, as Telegram would store them."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_RAW_TEXT_BYTES:
        raise bad_request("text is too long")
    mode = (parse_mode or "").lower()
    if not text:
        return "", []
    if mode in ("", "none"):
        plain, parsed = text, _explicit_entities(text, entities)
    elif mode == "html":
        plain, parsed = parse_html(text)
    elif mode == "markdownv2":
        plain, parsed = parse_markdown_v2(text)
    elif mode == "markdown":
        plain, parsed = parse_markdown(text)
    else:
        raise bad_request("unsupported parse_mode")
    return _trim(plain, parsed)


def message_text(
    text: str | None, parse_mode: str | None, entities: Any, *, bot_username: str
) -> tuple[str, list[Entity]]:
    """The text of sendMessage/editMessageText: 1-4096 UTF-16 units after parsing."""
    if not text:
        raise bad_request("message text is empty")
    plain, parsed = parse_text(text, parse_mode, entities)
    if not plain:
        raise bad_request("message text is empty")
    # TDLib's own pre-check counts code points; UTF-16 units are what the limit is documented
    # in and the stricter of the two, so a text accepted here is accepted by Telegram.
    if utf16_len(plain) > MAX_TEXT_LENGTH:
        raise bad_request("message is too long")
    check_deep_links(plain, parsed, bot_username)
    return plain, parsed


def caption_text(
    caption: str | None, parse_mode: str | None, entities: Any, *, bot_username: str
) -> tuple[str, list[Entity]]:
    """A media caption: 0-1024 UTF-16 units after parsing."""
    if not caption:
        return "", []
    plain, parsed = parse_text(caption, parse_mode, entities)
    if utf16_len(plain) > MAX_CAPTION_LENGTH:
        raise bad_request("message caption is too long")
    check_deep_links(plain, parsed, bot_username)
    return plain, parsed


# --- keyboards -------------------------------------------------------------------------------


def _markup_error() -> BotApiError:
    return bad_request("can't parse reply keyboard markup JSON object")


def check_callback_data(data: Any) -> None:
    if not isinstance(data, str) or len(data.encode("utf-8")) > MAX_CALLBACK_DATA_BYTES:
        raise bad_request("BUTTON_DATA_INVALID")


def _inline_button(button: Any) -> dict[str, Any]:
    prefix = "can't parse inline keyboard button: "
    if not isinstance(button, Mapping):
        raise bad_request(prefix + "InlineKeyboardButton must be an Object")
    if "text" not in button:
        raise bad_request(prefix + 'Can\'t find field "text"')
    if not isinstance(button["text"], str):
        raise bad_request(prefix + 'Field "text" must be of type String')
    if not button["text"].strip():
        raise bad_request("BUTTON_TEXT_INVALID")
    actions = []
    for name in INLINE_BUTTON_ACTIONS:
        if name not in button or button[name] is None:
            continue
        # Telegram reads an empty url or callback_data as absent.
        if name in ("url", "callback_data") and button[name] == "":
            continue
        actions.append(name)
    if not actions:
        raise bad_request(prefix + "Text buttons are unallowed in the inline keyboard")
    if len(actions) > 1:
        # Telegram silently uses the first; the documentation demands exactly one, and a button
        # that is both a link and a callback is a bug on our side.
        raise bad_request(prefix + "exactly one of the optional fields must be used")
    action = actions[0]
    value = button[action]
    if action == "callback_data":
        check_callback_data(value)
    elif action == "url":
        check_button_url(value)
    elif action in ("web_app", "login_url"):
        if not isinstance(value, Mapping) or not isinstance(value.get("url"), str):
            raise bad_request(prefix + f'Field "{action}" must be of type Object with a "url"')
        check_button_url(value["url"])
    elif action == "copy_text" and not (
        isinstance(value, Mapping) and isinstance(value.get("text"), str)
    ):
        raise bad_request(prefix + 'Can\'t find field "text"')
    switch_kinds = ("switch_inline_query", "switch_inline_query_current_chat")
    if action in switch_kinds and not isinstance(value, str):
        raise bad_request(prefix + f'Field "{action}" must be of type String')
    kept = {k: button[k] for k in INLINE_BUTTON_DECORATION if k in button}
    kept[action] = value
    return kept


def _reply_button(button: Any) -> dict[str, Any]:
    prefix = "can't parse keyboard button: "
    if isinstance(button, str):
        button = {"text": button}
    if not isinstance(button, Mapping):
        raise bad_request(prefix + "KeyboardButton must be a String or an Object")
    if "text" not in button:
        raise bad_request(prefix + 'Can\'t find field "text"')
    if not isinstance(button["text"], str):
        raise bad_request(prefix + 'Field "text" must be of type String')
    if not button["text"].strip():
        raise bad_request("BUTTON_TEXT_INVALID")
    return {k: button[k] for k in KEYBOARD_BUTTON_FIELDS if k in button}


def check_reply_markup(markup: Any, *, inline_only: bool = False) -> dict[str, Any] | None:
    """The markup as Telegram keeps it; None when it amounts to no keyboard at all."""
    if not isinstance(markup, Mapping):
        raise _markup_error()
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request(
                'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays'
            )
        kept_rows = [[_inline_button(b) for b in row] for row in rows]
        kept_rows = [row for row in kept_rows if row]
        if sum(map(len, kept_rows)) > MAX_INLINE_BUTTONS or any(
            len(row) > MAX_INLINE_ROW for row in kept_rows
        ):
            raise bad_request("reply markup is too long")
        return {"inline_keyboard": kept_rows} if kept_rows else None
    if inline_only:
        raise bad_request("inline keyboard expected")
    if "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request('field "keyboard" must be an Array of Arrays')
        kept_rows = [[_reply_button(b) for b in row] for row in rows]
        kept_rows = [row for row in kept_rows if row]
        if not kept_rows:
            # Telegram ignores a keyboard without buttons; the user then sees no keyboard
            # where the bot meant to show one, so it is refused here.
            raise _markup_error()
        kept = {k: v for k, v in markup.items() if k != "keyboard"}
        return {"keyboard": kept_rows, **kept}
    if markup.get("remove_keyboard") is True or markup.get("hide_keyboard") is True:
        return dict(markup)
    if markup.get("force_reply") is True:
        return dict(markup)
    raise _markup_error()


# --- commands --------------------------------------------------------------------------------


def check_bot_commands(commands: Any) -> list[dict[str, str]]:
    """setMyCommands' list, trimmed and without a leading "/" as Telegram keeps it."""
    if not isinstance(commands, list):
        raise bad_request("expected an Array of BotCommand")
    result = []
    for item in commands:
        if not isinstance(item, Mapping):
            raise bad_request("can't parse BotCommand: expected an Object")
        for key in ("command", "description"):
            if key not in item:
                raise bad_request(f"can't parse BotCommand: Can't find field \"{key}\"")
            if not isinstance(item[key], str):
                raise bad_request(f'can\'t parse BotCommand: Field "{key}" must be of type String')
        command = item["command"].strip()
        if command.startswith("/"):
            command = command[1:]
        if not command:
            raise bad_request("command must be non-empty")
        if len(command) > MAX_COMMAND_LENGTH:
            raise bad_request(f"command length must not exceed {MAX_COMMAND_LENGTH}")
        if not COMMAND_RE.fullmatch(command):
            raise bad_request("BOT_COMMAND_INVALID")
        description = item["description"].strip()
        if not description:
            raise bad_request("command description must be non-empty")
        if len(description) > MAX_COMMAND_DESCRIPTION_LENGTH:
            raise bad_request(
                f"command description length must not exceed {MAX_COMMAND_DESCRIPTION_LENGTH}"
            )
        result.append({"command": command, "description": description})
    if len(result) > MAX_COMMANDS:
        raise bad_request("BOT_COMMANDS_TOO_MUCH")
    return result


def check_language_code(language_code: str | None) -> str:
    code = language_code or ""
    if code and not re.fullmatch(r"[a-z]{2}", code):
        raise bad_request("invalid language code specified")
    return code


def check_command_scope(scope: Any) -> dict[str, Any]:
    """The scope reduced to the fields that identify it; the default scope when absent."""
    prefix = "can't parse BotCommandScope: "
    if scope is None:
        return {"type": "default"}
    if not isinstance(scope, Mapping):
        raise bad_request(prefix + "BotCommandScope must be an Object")
    kind = scope.get("type")
    if not isinstance(kind, str):
        raise bad_request(prefix + 'Can\'t find field "type"')
    if kind in COMMAND_SCOPES_WITHOUT_CHAT:
        return {"type": kind}
    if kind not in COMMAND_SCOPES_WITH_CHAT:
        raise bad_request(prefix + "Unsupported type specified")
    chat_id = scope.get("chat_id")
    if chat_id is None or chat_id == "":
        raise bad_request(prefix + "Empty chat_id specified")
    if isinstance(chat_id, str) and re.fullmatch(r"-?\d+", chat_id.strip()):
        chat_id = int(chat_id)
    result: dict[str, Any] = {"type": kind, "chat_id": chat_id}
    if kind == "chat_member":
        user_id = scope.get("user_id")
        if isinstance(user_id, str) and user_id.isdigit():
            user_id = int(user_id)
        if not isinstance(user_id, int) or isinstance(user_id, bool) or user_id <= 0:
            raise bad_request(prefix + "Invalid user_id specified")
        result["user_id"] = user_id
    return result
