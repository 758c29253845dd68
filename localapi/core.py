"""A local imitation of Telegram's Bot API: its state and its methods, without any transport.

Tests talk to it through :class:`~localapi.offline.OfflineRequest` (in process) or through
:class:`~localapi.server.BotApiServer` (real HTTP); both end in :meth:`FakeBotApi.call`.
Tests play the Telegram user through the ``user_*`` methods, which queue updates exactly as
Telegram would deliver them, and read what the bot did through ``chat_messages`` & co.

The method and field list comes from ``api.json`` next to this module, a compacted copy of the
official Bot API description, so a parameter the bot sends with a wrong type or a method that
does not exist is refused the way Telegram refuses it.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import hashlib
import inspect
import io
import itertools
import json
import logging
import math
import mimetypes
import random
import re
import struct
import time
import zlib
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from . import validate
from .errors import BotApiError, bad_request

__all__ = ["ApiCall", "ApiSpec", "BotApiError", "FakeBotApi"]

logger = logging.getLogger(__name__)

LONG_POLL_MAX_TIMEOUT = 50
# Update kinds Telegram leaves out unless a bot asks for them by name in allowed_updates.
NOT_DELIVERED_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
DELETE_WINDOW_SECONDS = 48 * 3600
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "record_audio",
        "upload_audio",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
        "cancel",
    }
)
CONFLICT_WEBHOOK_ACTIVE = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
CONFLICT_OTHER_GET_UPDATES = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
CONFLICT_SET_WEBHOOK = "Conflict: terminated by setWebhook request"
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


# --- the method list ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldSpec:
    name: str
    types: tuple[str, ...]
    required: bool


@dataclass(frozen=True)
class MethodSpec:
    name: str
    fields: tuple[FieldSpec, ...]
    returns: tuple[str, ...]


class ApiSpec:
    """Methods and types of the Bot API, from the packaged ``api.json``."""

    def __init__(self, data: Mapping[str, Any]):
        self.version: str = data.get("version", "")
        self.methods: dict[str, MethodSpec] = {}
        for name, method in data["methods"].items():
            fields = tuple(FieldSpec(f[0], tuple(f[1]), bool(f[2])) for f in method["fields"])
            self.methods[name] = MethodSpec(name, fields, tuple(method["returns"]))
        self._by_lower = {name.lower(): spec for name, spec in self.methods.items()}
        self.types: dict[str, list[str]] = {
            name: [f[0] for f in entry["fields"]] for name, entry in data["types"].items()
        }

    @classmethod
    @functools.cache
    def load(cls) -> ApiSpec:
        text = resources.files(__package__).joinpath("api.json").read_text(encoding="utf-8")
        return cls(json.loads(text))

    def method(self, name: str) -> MethodSpec | None:
        """Telegram matches method names without regard to case."""
        return self._by_lower.get(name.lower())


# --- calls, files, chats -----------------------------------------------------------------------


@dataclass
class ApiCall:
    method: str
    params: dict[str, Any]
    files: dict[str, bytes]
    error: BotApiError | None = None
    result: Any = None


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    kind: str
    content: bytes | None
    file_name: str | None = None
    mime_type: str | None = None
    width: int = 0
    height: int = 0

    @property
    def size(self) -> int:
        return len(self.content) if self.content is not None else 0


@dataclass
class _Upload:
    file_name: str | None
    content: bytes
    mime_type: str | None


@dataclass
class _Chat:
    chat: dict[str, Any]
    user: dict[str, Any]
    messages: list[dict[str, Any]] = field(default_factory=list)
    deleted: list[dict[str, Any]] = field(default_factory=list)
    next_message_id: int = 1
    blocked: bool = False
    reply_keyboard: dict[str, Any] | None = None

    @property
    def id(self) -> int:
        return self.chat["id"]

    def find(self, message_id: int) -> dict[str, Any] | None:
        for message in self.messages:
            if message["message_id"] == message_id:
                return message
        return None


@dataclass(eq=False)
class _Poll:
    aborted: str | None = None
    woken: bool = False


@dataclass
class _Webhook:
    url: str
    secret_token: str | None
    max_connections: int
    ip_address: str | None
    last_error_date: int | None = None
    last_error_message: str | None = None


class _Signal:
    """Wakes every coroutine waiting for "something changed", in whichever loop it waits."""

    def __init__(self) -> None:
        self._waiters: set[asyncio.Future[None]] = set()

    def notify(self) -> None:
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        for future in list(self._waiters):
            if future.done():
                continue
            loop = future.get_loop()
            if loop is running:
                future.set_result(None)
            else:
                try:
                    loop.call_soon_threadsafe(_resolve, future)
                except RuntimeError:
                    # The loop it waits in is already closed; nobody is left to wake.
                    self._waiters.discard(future)

    async def wait(self, seconds: float | None) -> None:
        """Return on the next notify(), or after ``seconds`` (None: no limit)."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.add(future)
        try:
            if seconds is None:
                await future
            else:
                await asyncio.wait_for(future, seconds)
        except TimeoutError:
            pass
        finally:
            self._waiters.discard(future)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class _Window:
    """Sliding window admitting ``limit`` calls in any ``seconds``, as Telegram counts them."""

    def __init__(self, limit: int, seconds: float):
        if limit < 1 or seconds <= 0:
            raise ValueError("a window admits at least one call over a positive time")
        self.limit = limit
        self.seconds = seconds
        self.stamps: deque[float] = deque()

    @classmethod
    def per_second(cls, rate: float) -> _Window:
        """``rate`` calls a second: a one-second window, or a longer one for under one."""
        if rate <= 0:
            raise ValueError("rate must be positive")
        seconds = max(1.0, 1.0 / rate)
        return cls(max(1, int(rate * seconds + 1e-9)), seconds)

    def retry_after(self, now: float) -> int:
        while self.stamps and self.stamps[0] <= now - self.seconds:
            self.stamps.popleft()
        if len(self.stamps) < self.limit:
            return 0
        return max(1, math.ceil(self.stamps[0] + self.seconds - now))

    def record(self, now: float) -> None:
        self.stamps.append(now)


@dataclass(frozen=True)
class FloodControl:
    """Telegram's limits on what a bot sends (https://core.telegram.org/bots/faq).

    About 30 messages a second overall, one a second in a private chat, 20 a minute in a group;
    messages sent with ``allow_paid_broadcast`` count against their own 1,000 a second instead
    of the 30. A refusal is a 429 with a whole number of seconds in ``retry_after``.
    """

    overall_rate: float | None = 30.0
    per_chat_rate: float | None = 1.0
    group_per_minute: int | None = 20
    paid_rate: float | None = 1000.0


TELEGRAM_LIMITS = FloodControl()


# --- images ------------------------------------------------------------------------------------


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of a PNG, JPEG, GIF, WebP or BMP image; None when it is not one."""
    try:
        if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR":
            return struct.unpack(">II", data[16:24])
        if data[:6] in (b"GIF87a", b"GIF89a"):
            return struct.unpack("<HH", data[6:10])
        if data.startswith(b"BM"):
            width, height = struct.unpack("<ii", data[18:26])
            return width, abs(height)
        if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
            chunk = data[12:16]
            if chunk == b"VP8X":
                width = int.from_bytes(data[24:27], "little") + 1
                height = int.from_bytes(data[27:30], "little") + 1
                return width, height
            if chunk == b"VP8L":
                bits = int.from_bytes(data[21:25], "little")
                return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
            if chunk == b"VP8 ":
                width, height = struct.unpack("<HH", data[26:30])
                return width & 0x3FFF, height & 0x3FFF
            return None
        if data.startswith(b"\xff\xd8"):
            return _jpeg_size(data)
    except struct.error:
        return None
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    pos = 2
    while pos + 9 < len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return width, height
        pos += 2 + length
    return None


def tiny_png(width: int = 1, height: int = 1) -> bytes:
    """A valid, black PNG image: what a user "sends" when a test says photo=True."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        body = kind + payload
        return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + b"\x00\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


# --- parameter normalisation --------------------------------------------------------------------

_INT_RE = re.compile(r"[+-]?\d+")
_JSON_ERRORS = {
    "reply_markup": "can't parse reply keyboard markup JSON object",
    "entities": "can't parse entities JSON object",
    "caption_entities": "can't parse entities JSON object",
    "commands": "can't parse commands JSON object",
    "scope": "can't parse BotCommandScope JSON object",
    "menu_button": "can't parse menu button JSON object",
    "link_preview_options": "can't parse link preview options JSON object",
    "reply_parameters": "Can't parse reply parameters JSON object",
}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _normalise(field_spec: FieldSpec, value: Any) -> Any:
    name, types = field_spec.name, field_spec.types
    if isinstance(value, bytes | bytearray):
        value = bytes(value).decode("utf-8", "replace")
    if "InputFile" in types:
        return value if isinstance(value, str) else str(value)
    if types == ("Integer",):
        if _is_int(value):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and _INT_RE.fullmatch(value.strip()):
            return int(value.strip())
        # Telegram reads a non-number as 0 and fails further on; naming the field is kinder.
        raise bad_request(f'field "{name}" must be a valid Number')
    if types == ("Integer", "String"):
        if _is_int(value):
            return value
        if isinstance(value, str):
            stripped = value.strip()
            return int(stripped) if _INT_RE.fullmatch(stripped) else stripped
        raise bad_request(f'field "{name}" must be a valid Number or String')
    if types == ("Float",):
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        try:
            return float(str(value).strip())
        except ValueError:
            raise bad_request(f'field "{name}" must be a valid Number') from None
    if types == ("Boolean",):
        if isinstance(value, bool):
            return value
        if _is_int(value):
            return value != 0
        return str(value).strip().lower() in ("true", "1")
    if types == ("String",):
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return str(value)
        raise bad_request(f'field "{name}" must be of type String')
    # Objects and arrays travel as JSON text.
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise bad_request(_JSON_ERRORS.get(name, f"can't parse {name} JSON object")) from None
    if any(t.startswith("Array of") for t in types):
        if not isinstance(value, list):
            raise bad_request(_JSON_ERRORS.get(name, f"can't parse {name} JSON object"))
    elif not isinstance(value, dict):
        if name == "reply_markup":
            raise bad_request("object expected as reply markup")
        raise bad_request(_JSON_ERRORS.get(name, f"can't parse {name} JSON object"))
    return copy.deepcopy(value)


def _missing(spec: FieldSpec) -> BotApiError:
    if spec.name == "text":
        return bad_request("message text is empty")
    if "InputFile" in spec.types:
        return bad_request(f"there is no {spec.name.replace('_', ' ')} in the request")
    return bad_request(f"{spec.name} is empty")


def _read_upload(value: tuple[Any, ...] | bytes) -> _Upload:
    if isinstance(value, bytes | bytearray):
        return _Upload(None, bytes(value), None)
    file_name, content, mime_type = (*tuple(value), None, None, None)[:3]
    if isinstance(content, io.IOBase) or hasattr(content, "read"):
        content = content.read()
    if isinstance(content, str):
        content = content.encode("utf-8")
    return _Upload(file_name, bytes(content), mime_type)


# --- the API -----------------------------------------------------------------------------------


class FakeBotApi:
    """One bot's view of Telegram: chats with users, their messages, updates, webhooks."""

    def __init__(
        self,
        *,
        token: str = "123456:TEST-TOKEN",
        bot_id: int = 123456,
        username: str = "talentbot_test",
        first_name: str = "Talent Bot",
        now: Callable[[], float] = time.time,
        overall_rate: float | None = None,
        per_chat_rate: float | None = None,
        flood_control: FloodControl | None = None,
        jitter: tuple[float, float] | None = None,
        seed: int = 0,
        webhook_retry_delay: float = 0.5,
    ):
        """A bot's Telegram in memory.

        Args:
            now: the clock the flood windows use (tests move one by hand).
            overall_rate, per_chat_rate: flood control with only these two limits (None: off).
            flood_control: Telegram's limits (``TELEGRAM_LIMITS``); overrides the two above.
            jitter: each call takes between these many seconds (a network's round trip), half
                of it before the call is handled and half after; drawn from ``seed``, so a run
                can be repeated. None: calls take no time.
        """
        self.spec = ApiSpec.load()
        self.token = token
        self.username = username
        self.bot_id = bot_id
        self.now = now
        self.bot_user: dict[str, Any] = {
            "id": bot_id,
            "is_bot": True,
            "first_name": first_name,
            "username": username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        self.calls: list[ApiCall] = []
        self.callback_answers: list[dict[str, Any]] = []
        # What each user saw of those answers (a toast, or an alert with OK), oldest first.
        self._answers_to: dict[int, list[dict[str, Any]]] = {}
        self._answer_ids = itertools.count(1)
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.menu_buttons: dict[int | None, dict[str, Any]] = {}
        self.webhook_retry_delay = webhook_retry_delay

        self._chats: dict[int, _Chat] = {}
        self._files: dict[str, StoredFile] = {}
        self._file_counter = itertools.count(1)
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._allowed_updates: list[str] = []
        self._open_queries: dict[str, dict[str, Any]] = {}
        self._query_ids = itertools.count(1)
        self._polls: set[_Poll] = set()
        self._signal = _Signal()
        self._webhook: _Webhook | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[None]] = set()
        limits = flood_control or FloodControl(
            overall_rate=overall_rate,
            per_chat_rate=per_chat_rate,
            group_per_minute=None,
            paid_rate=None,
        )
        self.flood_control = limits
        self._overall = _Window.per_second(limits.overall_rate) if limits.overall_rate else None
        self._paid = _Window.per_second(limits.paid_rate) if limits.paid_rate else None
        self._per_chat: dict[int, _Window] = {}
        self.jitter = jitter
        self._random = random.Random(seed)
        self.paid_messages = 0  # sent with allow_paid_broadcast: 0.1 Telegram Stars each
        self._handlers: dict[str, Callable[..., Any]] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "deleteMessages": self._delete_messages,
            "answerCallbackQuery": self._answer_callback_query,
            "sendPhoto": self._send_photo,
            "sendDocument": self._send_document,
            "sendChatAction": self._send_chat_action,
            "setMyCommands": self._set_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "getMyCommands": self._get_my_commands,
            "setChatMenuButton": self._set_chat_menu_button,
            "getChatMenuButton": self._get_chat_menu_button,
            "close": self._true,
            "logOut": self._true,
        }

    # --- the entry point ---------------------------------------------------------------------

    async def call(
        self,
        method: str,
        raw_params: Mapping[str, Any],
        files: Mapping[str, tuple[str | None, bytes, str | None]] | None = None,
    ) -> Any:
        """Run one Bot API method; returns its "result" or raises :class:`BotApiError`."""
        if self.jitter is not None:
            await asyncio.sleep(self._random.uniform(*self.jitter) / 2)  # on its way here
        spec = self.spec.method(method)
        record = ApiCall(spec.name if spec else method, dict(raw_params), {})
        self.calls.append(record)
        self._notify()
        try:
            if spec is None:
                raise BotApiError(404, "Not Found")
            uploads = {name: _read_upload(value) for name, value in (files or {}).items()}
            record.files = {name: upload.content for name, upload in uploads.items()}
            params = self._normalise_params(spec, raw_params, uploads)
            record.params = params
            handler = self._handlers.get(spec.name)
            if handler is None:
                result = self._not_implemented(spec)
            else:
                result = handler(params, uploads)
                if inspect.isawaitable(result):
                    result = await result
        except BotApiError as error:
            record.error = error
            logger.info("refused %s: %s %s", record.method, error.error_code, error.description)
            self._notify()
            await self._answer_travels()
            raise
        record.result = copy.deepcopy(result)
        self._notify()
        await self._answer_travels()
        return copy.deepcopy(result)

    async def _answer_travels(self) -> None:
        if self.jitter is not None:
            await asyncio.sleep(self._random.uniform(*self.jitter) / 2)

    def _normalise_params(
        self, spec: MethodSpec, raw: Mapping[str, Any], uploads: Mapping[str, _Upload]
    ) -> dict[str, Any]:
        params: dict[str, Any] = {}
        for field_spec in spec.fields:
            value = raw.get(field_spec.name)
            # Every parameter reaches Telegram as a string, where "" cannot be told from absent.
            present = value is not None and value != ""
            if "InputFile" in field_spec.types and field_spec.name in uploads:
                params[field_spec.name] = f"attach://{field_spec.name}"
                continue
            if not present:
                if field_spec.required:
                    raise _missing(field_spec)
                continue
            params[field_spec.name] = _normalise(field_spec, value)
        return params

    def _not_implemented(self, spec: MethodSpec) -> Any:
        if "Boolean" in spec.returns:
            return True
        raise bad_request(f"method {spec.name} is not supported by this local Bot API")

    # --- waiting -------------------------------------------------------------------------------

    def _notify(self) -> None:
        self._signal.notify()

    def notify(self) -> None:
        """Re-check every ``wait_for``: a subclass changed state of its own after a call."""
        self._signal.notify()

    # The timeout is a plain argument on purpose: tests read "wait for X, at most 2 s" best.
    async def wait_for(
        self,
        predicate: Callable[[], bool],
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> None:
        """Wait until ``predicate()`` holds, re-checking after every call and state change."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                recent = "; ".join(self._describe(c) for c in self.calls[-8:]) or "none"
                name = getattr(predicate, "__qualname__", repr(predicate))
                raise TimeoutError(
                    f"condition {name} still false after {timeout:g}s; last Bot API calls: "
                    f"{recent}"
                )
            await self._signal.wait(remaining)

    @staticmethod
    def _describe(call: ApiCall) -> str:
        shown = {k: v for k, v in call.params.items() if k in ("chat_id", "text", "message_id")}
        outcome = f" -> {call.error.error_code} {call.error.description}" if call.error else ""
        return f"{call.method}({shown}){outcome}"

    def wake_pollers(self) -> None:
        """Let every pending getUpdates return now, as when the server shuts down."""
        for poll in self._polls:
            poll.woken = True
        self._notify()

    async def aclose(self) -> None:
        """Stop webhook delivery and release long pollers."""
        self.wake_pollers()
        self._stop_webhook_delivery()
        tasks = list(self._background)
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    # --- the user's side -----------------------------------------------------------------------

    @staticmethod
    def make_user(
        user_id: int,
        first_name: str = "User",
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
    ) -> dict[str, Any]:
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        if last_name is not None:
            user["last_name"] = last_name
        if username is not None:
            user["username"] = username
        if language_code is not None:
            user["language_code"] = language_code
        return user

    def _user_chat(self, user: Mapping[str, Any]) -> tuple[_Chat, dict[str, Any]]:
        if not _is_int(user.get("id")) or not isinstance(user.get("first_name"), str):
            raise ValueError(f"a user needs an int id and a first_name: {user!r}")
        user = {"is_bot": False, **user}
        chat_info = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
        for key in ("last_name", "username"):
            if user.get(key):
                chat_info[key] = user[key]
        chat = self._chats.get(user["id"])
        if chat is None:
            chat = _Chat(chat=chat_info, user=user)
            self._chats[user["id"]] = chat
        else:
            chat.chat, chat.user = chat_info, user
        return chat, user

    def user_message(
        self,
        user: dict[str, Any],
        *,
        text: str | None = None,
        contact: dict[str, Any] | None = None,
        sticker: bool = False,
        photo: bool = False,
        document: bool = False,
        location: tuple[float, float] | None = None,
        reply_to: int | None = None,
    ) -> dict[str, Any]:
        """The user sends a message in their private chat with the bot; returns the update."""
        kinds = [contact is not None, sticker, photo, document, location is not None]
        if sum(kinds) > 1 or (not any(kinds) and text is None):
            raise ValueError("a message carries text, or exactly one of the media kinds")
        if text is not None and (contact is not None or sticker or location is not None):
            raise ValueError("only a photo or a document can carry text (as its caption)")
        if contact is not None and not contact.get("phone_number"):
            raise ValueError("a contact needs a phone_number")
        chat, user = self._user_chat(user)
        target = None
        if reply_to is not None:
            target = chat.find(reply_to)
            if target is None:
                raise ValueError(f"no message {reply_to} in chat {chat.id} to reply to")
        if chat.blocked:
            # Telegram tells the bot that the user restarted it before the message itself.
            chat.blocked = False
            self._push_member_change(chat, user, "kicked", "member")
        message = self._new_message(chat, user)
        if target is not None:
            message["reply_to_message"] = _without_reply(target)
        if text is not None and (photo or document):
            message["caption"] = text
        elif text is not None:
            message["text"] = text
            match = re.match(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?", text)
            if match:
                message["entities"] = [
                    {"type": "bot_command", "offset": 0, "length": validate.utf16_len(match[0])}
                ]
        if contact is not None:
            message["contact"] = {"first_name": user["first_name"], **contact}
        if location is not None:
            message["location"] = {"latitude": location[0], "longitude": location[1]}
        if photo:
            sizes = []
            for side in (90, 320, 800):
                stored = self._store_file("photo", tiny_png(), width=side, height=side)
                sizes.append(_photo_size(stored))
            message["photo"] = sizes
        if document:
            stored = self._store_file(
                "document", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", "document.pdf", "application/pdf"
            )
            message["document"] = _document(stored)
        if sticker:
            stored = self._store_file(
                "sticker", b"RIFF\x00\x00\x00\x00WEBP", width=512, height=512
            )
            message["sticker"] = {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
                "emoji": "👍",
                "set_name": "TestStickers",
                "file_size": stored.size,
            }
        chat.messages.append(message)
        return self.push_update({"message": copy.deepcopy(message)})

    def user_callback(
        self, user: dict[str, Any], message_id: int, data: str, *, check: bool = True
    ) -> dict[str, Any]:
        """The user presses an inline button of the bot's message ``message_id``."""
        chat, user = self._user_chat(user)
        message = chat.find(message_id)
        if check:
            if message is None or message["from"]["id"] != self.bot_id:
                raise ValueError(f"chat {chat.id} has no bot message {message_id}")
            buttons = [
                button
                for row in message.get("reply_markup", {}).get("inline_keyboard", [])
                for button in row
            ]
            if not any(button.get("callback_data") == data for button in buttons):
                shown = [(b.get("text"), b.get("callback_data")) for b in buttons]
                raise ValueError(
                    f"message {message_id} has no button with callback_data {data!r}; "
                    f"its buttons: {shown}"
                )
        query_id = str(4_000_000_000_000_000 + next(self._query_ids))
        query: dict[str, Any] = {
            "id": query_id,
            "from": user,
            "chat_instance": _chat_instance(chat.id),
            "data": data,
        }
        if message is not None:
            query["message"] = copy.deepcopy(message)
        else:
            # What Telegram sends for a message the bot can no longer see.
            query["message"] = {"chat": dict(chat.chat), "message_id": message_id, "date": 0}
        self._open_queries[query_id] = query
        return self.push_update({"callback_query": query})

    def open_chat(self, user: dict[str, Any], *, blocked: bool = False) -> None:
        """A user who started the bot some time ago: the chat exists, no update is queued.

        Lets a test or benchmark seed thousands of recipients without the bot reading a
        message from each of them.
        """
        chat, _ = self._user_chat(user)
        chat.blocked = blocked

    def open_group(self, chat_id: int, title: str, member: dict[str, Any]) -> None:
        """A group the bot was added to (``chat_id`` negative, as Telegram's are)."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        chat = {"id": chat_id, "type": "group", "title": title}
        self._chats[chat_id] = _Chat(chat=chat, user={"is_bot": False, **member})

    def user_blocks_bot(self, user: dict[str, Any]) -> dict[str, Any]:
        chat, user = self._user_chat(user)
        chat.blocked = True
        return self._push_member_change(chat, user, "member", "kicked")

    def _push_member_change(
        self, chat: _Chat, user: dict[str, Any], old: str, new: str
    ) -> dict[str, Any]:
        bot = {k: self.bot_user[k] for k in ("id", "is_bot", "first_name", "username")}

        def member(status: str) -> dict[str, Any]:
            entry: dict[str, Any] = {"user": bot, "status": status}
            if status == "kicked":
                entry["until_date"] = 0
            return entry

        return self.push_update(
            {
                "my_chat_member": {
                    "chat": dict(chat.chat),
                    "from": user,
                    "date": self._date(),
                    "old_chat_member": member(old),
                    "new_chat_member": member(new),
                }
            }
        )

    def push_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue an update for getUpdates or the webhook; gives it the next update_id."""
        queued = copy.deepcopy(update)
        queued["update_id"] = next(self._update_ids)
        self._updates.append(queued)
        self._notify()
        return copy.deepcopy(queued)

    # --- reading the state ---------------------------------------------------------------------

    def chat_messages(self, chat_id: int) -> list[dict[str, Any]]:
        """A snapshot of the chat, oldest first; edits show in place, deletions are gone."""
        chat = self._chats.get(chat_id)
        return copy.deepcopy(chat.messages) if chat else []

    def bot_messages(self, chat_id: int) -> list[dict[str, Any]]:
        return [m for m in self.chat_messages(chat_id) if m["from"]["id"] == self.bot_id]

    def deleted_messages(self, chat_id: int) -> list[dict[str, Any]]:
        chat = self._chats.get(chat_id)
        return copy.deepcopy(chat.deleted) if chat else []

    def callback_answers_to(self, user_id: int) -> list[dict[str, Any]]:
        """The answers to ``user_id``'s button presses, oldest first, each with a growing id.

        ``text`` is what Telegram shows: a toast that fades, or with ``show_alert`` a box the
        user closes with OK; an answer without text shows nothing.
        """
        return copy.deepcopy(self._answers_to.get(user_id, []))

    def current_reply_keyboard(self, chat_id: int) -> dict[str, Any] | None:
        """The reply keyboard the user sees now (the last one sent and not removed)."""
        chat = self._chats.get(chat_id)
        return copy.deepcopy(chat.reply_keyboard) if chat else None

    def pending_updates(self) -> list[dict[str, Any]]:
        return copy.deepcopy(self._updates)

    def file_bytes(self, file_id: str) -> bytes:
        stored = self._files[file_id]
        if stored.content is None:
            raise ValueError(f"file {file_id} was sent by URL; its bytes never reached Telegram")
        return stored.content

    def waiting_pollers(self) -> int:
        """How many getUpdates calls are waiting right now (a bot that is polling has one)."""
        return len(self._polls)

    def webhook_url(self) -> str | None:
        return self._webhook.url if self._webhook else None

    # --- helpers -------------------------------------------------------------------------------

    def _date(self) -> int:
        return int(self.now())

    def _bot_from(self) -> dict[str, Any]:
        return {k: self.bot_user[k] for k in ("id", "is_bot", "first_name", "username")}

    def _new_message(self, chat: _Chat, sender: dict[str, Any]) -> dict[str, Any]:
        message = {
            "message_id": chat.next_message_id,
            "from": copy.deepcopy(sender),
            "chat": dict(chat.chat),
            "date": self._date(),
        }
        chat.next_message_id += 1
        return message

    def _chat(self, chat_id: Any) -> _Chat:
        chat = self._chats.get(chat_id) if _is_int(chat_id) else None
        if chat is None:
            raise bad_request("chat not found")
        return chat

    def _writable_chat(self, chat_id: Any) -> _Chat:
        chat = self._chat(chat_id)
        if chat.blocked:
            raise BotApiError(403, "Forbidden: bot was blocked by the user")
        return chat

    def _take_rate(self, chat_id: int, params: Mapping[str, Any]) -> None:
        """Flood control: refuse with 429 and retry_after, as Telegram does, when enabled."""
        limits = self.flood_control
        now = self.now()
        windows = []
        paid = bool(params.get("allow_paid_broadcast"))
        overall = self._paid if paid else self._overall
        if overall is not None:
            windows.append(overall)
        chat = self._per_chat.get(chat_id)
        if chat is None:
            if chat_id < 0 and limits.group_per_minute:
                chat = _Window(limits.group_per_minute, 60.0)
            elif chat_id > 0 and limits.per_chat_rate:
                chat = _Window.per_second(limits.per_chat_rate)
            if chat is not None:
                self._per_chat[chat_id] = chat
        if chat is not None:
            windows.append(chat)
        wait = max((window.retry_after(now) for window in windows), default=0)
        if wait:
            raise BotApiError(429, f"Too Many Requests: retry after {wait}", retry_after=wait)
        for window in windows:
            window.record(now)
        if paid:
            self.paid_messages += 1

    def chat_is_full(self, chat_id: int) -> bool:
        """Whether the chat's own limit would refuse a message now (to tell refusals apart)."""
        chat = self._per_chat.get(chat_id)
        return chat is not None and chat.retry_after(self.now()) > 0

    def _markup(self, params: Mapping[str, Any], *, inline_only: bool = False) -> Any:
        if "reply_markup" not in params:
            return None
        return validate.check_reply_markup(params["reply_markup"], inline_only=inline_only)

    def _reply_target(self, chat: _Chat, params: Mapping[str, Any]) -> dict[str, Any] | None:
        reply = params.get("reply_parameters")
        if reply is None:
            return None
        message_id, reply_chat_id = reply.get("message_id"), reply.get("chat_id")
        if isinstance(message_id, str) and _INT_RE.fullmatch(message_id):
            message_id = int(message_id)
        if isinstance(reply_chat_id, str) and _INT_RE.fullmatch(reply_chat_id):
            reply_chat_id = int(reply_chat_id)
        target_chat = chat
        if reply_chat_id not in (None, chat.id):
            target_chat = self._chat(reply_chat_id)
        target = target_chat.find(message_id) if _is_int(message_id) else None
        if target is None and not reply.get("allow_sending_without_reply"):
            raise bad_request("message to be replied not found")
        return target

    def _store_bot_message(
        self,
        chat: _Chat,
        content: Mapping[str, Any],
        markup: dict[str, Any] | None,
        reply_to: dict[str, Any] | None,
    ) -> dict[str, Any]:
        message = self._new_message(chat, self._bot_from())
        if reply_to is not None:
            message["reply_to_message"] = _without_reply(reply_to)
        message.update(content)
        if markup is not None:
            if "inline_keyboard" in markup:
                message["reply_markup"] = markup
            elif "keyboard" in markup:
                chat.reply_keyboard = markup
            elif markup.get("remove_keyboard") or markup.get("hide_keyboard"):
                chat.reply_keyboard = None
        chat.messages.append(message)
        return message

    def _store_file(
        self,
        kind: str,
        content: bytes | None,
        file_name: str | None = None,
        mime_type: str | None = None,
        *,
        width: int = 0,
        height: int = 0,
    ) -> StoredFile:
        number = next(self._file_counter)
        digest = hashlib.sha256(content if content is not None else b"url").hexdigest()
        stored = StoredFile(
            file_id=f"{kind.upper()}{number:05d}{digest[:20]}",
            file_unique_id=f"U{kind[:3].upper()}{number:05d}",
            kind=kind,
            content=content,
            file_name=file_name,
            mime_type=mime_type,
            width=width,
            height=height,
        )
        self._files[stored.file_id] = stored
        return stored

    def _input_file(
        self, kind: str, params: Mapping[str, Any], uploads: Mapping[str, _Upload]
    ) -> StoredFile | _Upload | str:
        """An upload (new bytes), a file already on "Telegram", or a URL to fetch."""
        value = params.get(kind)
        if value is None:
            raise bad_request(f"there is no {kind} in the request")
        if value.startswith("attach://"):
            upload = uploads.get(value[len("attach://") :])
            if upload is None:
                raise bad_request(f"there is no {kind} in the request")
            if len(upload.content) > MAX_UPLOAD_BYTES:
                raise BotApiError(413, "Request Entity Too Large")
            return upload
        stored = self._files.get(value)
        if stored is not None:
            if stored.kind != kind:
                raise bad_request(
                    f"can't use file of type {stored.kind.title()} as {kind.title()}"
                )
            return stored
        parts = validate.split_url(value)
        if parts is not None and parts.scheme.lower() in ("http", "https") and parts.hostname:
            return value
        raise bad_request("wrong file identifier/HTTP URL specified")

    # --- methods: bot and updates -------------------------------------------------------------

    def _true(self, params: Mapping[str, Any], uploads: Mapping[str, _Upload]) -> bool:
        return True

    def _get_me(self, params: Mapping[str, Any], uploads: Mapping[str, _Upload]) -> Any:
        return self.bot_user

    def _allowed(self, update: Mapping[str, Any]) -> bool:
        kind = next((key for key in update if key != "update_id"), "")
        if self._allowed_updates:
            return kind in self._allowed_updates
        return kind not in NOT_DELIVERED_BY_DEFAULT

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]

    def _deliverable(self, limit: int) -> list[dict[str, Any]]:
        # Telegram never delivers kinds the bot did not ask for; they are dropped, not kept.
        self._updates = [u for u in self._updates if self._allowed(u)]
        return copy.deepcopy(self._updates[:limit])

    async def _get_updates(
        self, params: Mapping[str, Any], uploads: Mapping[str, _Upload]
    ) -> list[dict[str, Any]]:
        if self._webhook is not None:
            raise BotApiError(409, CONFLICT_WEBHOOK_ACTIVE)
        offset = params.get("offset", 0)
        limit = min(max(params.get("limit", 100), 1), 100)
        timeout = min(max(params.get("timeout", 0), 0), LONG_POLL_MAX_TIMEOUT)
        if "allowed_updates" in params:
            self._allowed_updates = [str(kind) for kind in params["allowed_updates"]]
        self._confirm(offset)
        for other in self._polls:
            other.aborted = CONFLICT_OTHER_GET_UPDATES
        poll = _Poll()
        self._polls.add(poll)
        self._notify()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            while True:
                if poll.aborted:
                    raise BotApiError(409, poll.aborted)
                batch = self._deliverable(limit)
                if batch or poll.woken:
                    return batch
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return []
                await self._signal.wait(remaining)
        finally:
            self._polls.discard(poll)
            self._notify()

    def _set_webhook(self, params: Mapping[str, Any], uploads: Mapping[str, _Upload]) -> bool:
        url = params.get("url", "")
        if not url:
            return self._delete_webhook(params, uploads)
        parts = validate.split_url(url)
        if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise bad_request("invalid webhook URL specified")
        if parts.hostname not in LOOPBACK_HOSTS:
            # Telegram demands HTTPS on port 443, 80, 88 or 8443 and delivers anywhere; this
            # imitation only ever talks to the machine it runs on.
            raise bad_request("bad webhook: this local Bot API delivers only to loopback hosts")
        secret = params.get("secret_token")
        if secret is not None:
            if len(secret) > 256:
                raise bad_request("secret token is too long")
            if not re.fullmatch(r"[A-Za-z0-9_-]*", secret):
                raise bad_request("secret token contains unallowed characters")
        if "allowed_updates" in params:
            self._allowed_updates = [str(kind) for kind in params["allowed_updates"]]
        if params.get("drop_pending_updates"):
            self._updates.clear()
        for poll in self._polls:
            poll.aborted = CONFLICT_SET_WEBHOOK
        self._webhook = _Webhook(
            url=url,
            secret_token=secret,
            max_connections=min(max(params.get("max_connections", 40), 1), 100),
            ip_address=params.get("ip_address"),
        )
        self._start_webhook_delivery()
        return True

    def _start_webhook_delivery(self) -> None:
        # Imported here so that the state and methods stay free of any HTTP client.
        from .webhook import deliver_updates

        self._stop_webhook_delivery()
        assert self._webhook is not None
        task = asyncio.get_running_loop().create_task(
            deliver_updates(self, self._webhook), name="fake-bot-api-webhook"
        )
        self._webhook_task = task
        # Kept until finished, so that aclose() can wait for a cancelled sender to let go of
        # its connections.
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _stop_webhook_delivery(self) -> None:
        task, self._webhook_task = self._webhook_task, None
        if task is not None:
            task.cancel()

    def _delete_webhook(self, params: Mapping[str, Any], uploads: Mapping[str, _Upload]) -> bool:
        self._webhook = None
        self._stop_webhook_delivery()
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _get_webhook_info(
        self, params: Mapping[str, Any], uploads: Mapping[str, _Upload]
    ) -> dict[str, Any]:
        hook = self._webhook
        info: dict[str, Any] = {
            "url": hook.url if hook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if hook is not None:
            info["max_connections"] = hook.max_connections
            if hook.ip_address:
                info["ip_address"] = hook.ip_address
            if hook.last_error_date is not None:
                info["last_error_date"] = hook.last_error_date
                info["last_error_message"] = hook.last_error_message
        if self._allowed_updates:
            info["allowed_updates"] = list(self._allowed_updates)
        return info

    # The webhook sender's view of the queue.

    def _next_webhook_update(self) -> dict[str, Any] | None:
        batch = self._deliverable(1)
        return batch[0] if batch else None

    def _webhook_delivered(self, update_id: int) -> None:
        self._updates = [u for u in self._updates if u["update_id"] != update_id]
        self._notify()

    def _webhook_failed(self, hook: _Webhook, message: str) -> None:
        hook.last_error_date = self._date()
        hook.last_error_message = message
        logger.info("webhook delivery to %s failed: %s", hook.url, message)
        self._notify()

    def _webhook_active(self, hook: _Webhook) -> bool:
        return self._webhook is hook

    async def _wait_change(self, seconds: float | None) -> None:
        await self._signal.wait(seconds)

    # --- methods: messages ---------------------------------------------------------------------

    def _send_message(
        self, params: Mapping[str, Any], uploads: Mapping[str, _Upload]
    ) -> dict[str, Any]:
        text, entities = validate.message_text(
            params.get("text"),
            params.get("parse_mode"),
            params.get("entities"),
            bot_username=self.username,
        )
        markup = self._markup(params)
        chat = self._writable_chat(params["chat_id"])
        reply_to = self._reply_target(chat, params)
        self._take_rate(chat.id, params)
        content: dict[str, Any] = {"text": text}
        if entities:
            content["entities"] = entities
        return self._store_bot_message(chat, content, markup, reply_to)

    def _send_photo(
        self, params: Mapping[str, Any], uploads: Mapping[str, _Upload]
    ) -> dict[str, Any]:
        return self._send_media("photo", params, uploads)

    def _send_document(
        self, params: Mapping[str, Any], uploads: Mapping[str, _Upload]
    ) -> dict[str, Any]:
        return self._send_media("document", params, uploads)

    def _send_media(
        self, kind: str, params: Mapping[str, Any], uploads: Mapping[str, _Upload]
    ) -> dict[str, Any]:
        source = self._input_file(kind, params, uploads)
        caption, entities = validate.caption_text(
            params.get("caption"),
            params.get("parse_mode"),
            params.get("caption_entities"),
            bot_username=self.username,
        )
        markup = self._markup(params)
        size: tuple[int, int] | None = None
        if kind == "photo" and isinstance(source, _Upload):
            size = image_size(source.content)
            if size is None:
                raise bad_request("IMAGE_PROCESS_FAILED")
            width, height = size
            if width <= 0 or height <= 0 or width + height > 10000:
                raise bad_request("PHOTO_INVALID_DIMENSIONS")
            if max(width, height) / min(width, height) > 20:
                raise bad_request("PHOTO_INVALID_DIMENSIONS")
        chat = self._writable_chat(params["chat_id"])
        reply_to = self._reply_target(chat, params)
        self._take_rate(chat.id, params)

        if isinstance(source, StoredFile):
            stored = source
        elif isinstance(source, _Upload):
            mime = source.mime_type
            if kind == "document" and not mime:
                mime = mimetypes.guess_type(source.file_name or "")[0]
            width, height = size or (0, 0)
            stored = self._store_file(
                kind,
                source.content,
                source.file_name,
                mime or "application/octet-stream",
                width=width,
                height=height,
            )
        else:
            name = urlsplit(source).path.rsplit("/", 1)[-1] or "file"
            stored = self._store_file(
                kind,
                None,
                name,
                mimetypes.guess_type(name)[0] or "application/octet-stream",
                width=320,
                height=320,
            )
        content: dict[str, Any] = {}
        if kind == "photo":
            content["photo"] = [_photo_size(stored)]
        else:
            content["document"] = _document(stored)
        if caption:
            content["caption"] = caption
            if entities:
                content["caption_entities"] = entities
        if params.get("show_caption_above_media"):
            content["show_caption_above_media"] = True
        return self._store_bot_message(chat, content, markup, reply_to)

    def _edit_target(self, params: Mapping[str, Any]) -> tuple[_Chat, dict[str, Any]]:
        if "chat_id" not in params and "message_id" not in params:
            if params.get("inline_message_id"):
                # The bot never sent inline messages here, so no such id can be right.
                raise bad_request("MESSAGE_ID_INVALID")
            raise bad_request("message identifier is not specified")
        if "chat_id" not in params:
            raise bad_request("chat_id is empty")
        chat = self._writable_chat(params["chat_id"])
        message = chat.find(params.get("message_id", 0))
        if message is None:
            raise bad_request("message to edit not found")
        if message["from"]["id"] != self.bot_id:
            raise bad_request("message can't be edited")
        return chat, message

    def _apply_edit(
        self, chat: _Chat, message: dict[str, Any], changes: Mapping[str, Any]
    ) -> dict[str, Any]:
        unchanged = all(message.get(key) == value for key, value in changes.items())
        if unchanged:
            raise bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        self._take_rate(chat.id, {})
        for key, value in changes.items():
            if value is None:
                message.pop(key, None)
            else:
                message[key] = value
        message["edit_date"] = self._date()
        return message

    def _edit_message_text(
        self, params: Mapping[str, Any], uploads: Mapping[str, _Upload]
    ) -> dict[str, Any]:
        text, entities = validate.message_text(
            params.get("text"),
            params.get("parse_mode"),
            params.get("entities"),
            bot_username=self.username,
        )
        markup = self._markup(params, inline_only=True)
        chat, message = self._edit_target(params)
        if "text" not in message:
            raise bad_request("there is no text in the message to edit")
        return self._apply_edit(
            chat,
            message,
            {"text": text, "entities": entities or None, "reply_markup": markup},
        )

    def _edit_message_caption(
        self, params: Mapping[str, Any], uploads: Mapping[str, _Upload]
    ) -> dict[str, Any]:
        caption, entities = validate.caption_text(
            params.get("caption"),
            params.get("parse_mode"),
            params.get("caption_entities"),
            bot_username=self.username,
        )
        markup = self._markup(params, inline_only=True)
        chat, message = self._edit_target(params)
        if not any(kind in message for kind in ("photo", "document", "video", "audio")):
            raise bad_request("there is no caption in the message to edit")
        return self._apply_edit(
            chat,
            message,
            {
                "caption": caption or None,
                "caption_entities": (entities or None) if caption else None,
                "reply_markup": markup,
            },
        )

    def _edit_message_reply_markup(
        self, params: Mapping[str, Any], uploads: Mapping[str, _Upload]
    ) -> dict[str, Any]:
        markup = self._markup(params, inline_only=True)
        chat, message = self._edit_target(params)
        return self._apply_edit(chat, message, {"reply_markup": markup})

    def _delete_one(self, chat: _Chat, message_id: Any) -> None:
        message = chat.find(message_id) if _is_int(message_id) else None
        if message is None:
            raise bad_request("message to delete not found")
        if self.now() - message["date"] > DELETE_WINDOW_SECONDS:
            raise bad_request("message can't be deleted")
        chat.messages.remove(message)
        chat.deleted.append(message)

    def _delete_message(self, params: Mapping[str, Any], uploads: Mapping[str, _Upload]) -> bool:
        chat = self._chat(params["chat_id"])
        self._delete_one(chat, params["message_id"])
        return True

    def _delete_messages(self, params: Mapping[str, Any], uploads: Mapping[str, _Upload]) -> bool:
        chat = self._chat(params["chat_id"])
        ids = params["message_ids"]
        if not 1 <= len(ids) <= 100:
            raise bad_request("too many message identifiers specified")
        for message_id in ids:
            # Like Telegram, messages that cannot be deleted are skipped.
            try:
                self._delete_one(chat, message_id)
            except BotApiError:
                continue
        return True

    def _answer_callback_query(
        self, params: Mapping[str, Any], uploads: Mapping[str, _Upload]
    ) -> bool:
        text = params.get("text")
        if text is not None and validate.utf16_len(text) > validate.MAX_CALLBACK_ANSWER_LENGTH:
            raise bad_request("MESSAGE_TOO_LONG")
        query_id = params["callback_query_id"]
        query = self._open_queries.pop(query_id, None)
        if query is None:
            raise bad_request(QUERY_TOO_OLD)
        self.callback_answers.append(dict(params))
        self._answers_to.setdefault(query["from"]["id"], []).append(
            {
                "id": next(self._answer_ids),
                "message_id": query["message"]["message_id"],
                "data": query.get("data"),
                "text": params.get("text"),
                "show_alert": bool(params.get("show_alert", False)),
                "url": params.get("url"),
            }
        )
        return True

    def _send_chat_action(self, params: Mapping[str, Any], uploads: Mapping[str, _Upload]) -> bool:
        if params["action"].lower() not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        self._writable_chat(params["chat_id"])
        return True

    # --- methods: commands and menu ------------------------------------------------------------

    def _command_key(self, params: Mapping[str, Any]) -> tuple[str, str]:
        scope = validate.check_command_scope(params.get("scope"))
        language_code = validate.check_language_code(params.get("language_code"))
        if "chat_id" in scope:
            self._chat(scope["chat_id"])
        return json.dumps(scope, sort_keys=True, separators=(",", ":")), language_code

    def _set_my_commands(self, params: Mapping[str, Any], uploads: Mapping[str, _Upload]) -> bool:
        commands = validate.check_bot_commands(params["commands"])
        key = self._command_key(params)
        if commands:
            self.commands[key] = commands
        else:
            # An empty list is how bots cleared their commands before deleteMyCommands existed.
            self.commands.pop(key, None)
        return True

    def _delete_my_commands(
        self, params: Mapping[str, Any], uploads: Mapping[str, _Upload]
    ) -> bool:
        self.commands.pop(self._command_key(params), None)
        return True

    def _get_my_commands(
        self, params: Mapping[str, Any], uploads: Mapping[str, _Upload]
    ) -> list[dict[str, Any]]:
        return self.commands.get(self._command_key(params), [])

    def _set_chat_menu_button(
        self, params: Mapping[str, Any], uploads: Mapping[str, _Upload]
    ) -> bool:
        button = params.get("menu_button", {"type": "default"})
        kind = button.get("type")
        prefix = "can't parse menu button: "
        if kind == "web_app":
            web_app = button.get("web_app")
            if not isinstance(button.get("text"), str) or not button["text"]:
                raise bad_request(prefix + 'Can\'t find field "text"')
            if not isinstance(web_app, Mapping) or not isinstance(web_app.get("url"), str):
                raise bad_request(prefix + 'Can\'t find field "web_app"')
            button = {"type": kind, "text": button["text"], "web_app": {"url": web_app["url"]}}
        elif kind in ("commands", "default"):
            button = {"type": kind}
        else:
            raise bad_request(prefix + "MenuButton has unsupported type")
        chat_id = params.get("chat_id")
        if chat_id is not None:
            self._chat(chat_id)
        self.menu_buttons[chat_id] = button
        return True

    def _get_chat_menu_button(
        self, params: Mapping[str, Any], uploads: Mapping[str, _Upload]
    ) -> dict[str, Any]:
        chat_id = params.get("chat_id")
        if chat_id is not None:
            self._chat(chat_id)
        button = self.menu_buttons.get(chat_id) or self.menu_buttons.get(None)
        return button or {"type": "commands"}


def _chat_instance(chat_id: int) -> str:
    digest = hashlib.sha256(f"chat_instance:{chat_id}".encode()).digest()
    return str(int.from_bytes(digest[:8], "big") // 2)


def _without_reply(message: Mapping[str, Any]) -> dict[str, Any]:
    # Telegram nests a replied-to message one level deep only.
    return {k: copy.deepcopy(v) for k, v in message.items() if k != "reply_to_message"}


def _photo_size(stored: StoredFile) -> dict[str, Any]:
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "width": stored.width,
        "height": stored.height,
        "file_size": stored.size,
    }


def _document(stored: StoredFile) -> dict[str, Any]:
    document: dict[str, Any] = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": stored.size,
    }
    if stored.file_name:
        document["file_name"] = stored.file_name
    if stored.mime_type:
        document["mime_type"] = stored.mime_type
    return document
