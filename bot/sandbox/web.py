"""The sandbox's web chat: a page, and a small JSON API over the local Bot API's user side.

Any web page open in the same browser can send requests to 127.0.0.1, and a page on a domain
that resolves to 127.0.0.1 can read the answers too, so the API serves only its own page: the
Host (and, when the browser sends one, the Origin) must be the sandbox's own address, and a POST
must be JSON, which a foreign page cannot send without the browser asking the sandbox first.
Files the bot sent are never served as anything a browser would run.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any
from urllib.parse import quote

import tornado.web

from bot.i18n import Translator
from bot.sandbox.seed import PERSONAS, Persona
from bot.settings import SUPPORTED_LOCALES
from localapi import FakeBotApi

LINK = re.compile(r"https://t\.me/[A-Za-z0-9_]+\?start=([A-Za-z0-9_-]{1,64})")
# What each kind of deep link is, by its prefix (see DESIGN.md); the page names it so.
LINK_KINDS = ("ci", "v", "inv", "act", "cert")
# The images the page shows in place, known by their first bytes, never by a name or a claim.
INLINE_IMAGES = {
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
    b"GIF87a": "image/gif",
    b"GIF89a": "image/gif",
}
# Enough for a toast the page has not shown yet; older answers were seen or are stale.
ANSWERS_SHOWN = 20
ABOUT_LENGTH = 48


def persona_user(persona: Persona, language: str) -> dict[str, Any]:
    """The persona as Telegram describes a user."""
    return {
        "id": persona.id,
        "is_bot": False,
        "first_name": persona.first_name,
        "language_code": language,
    }


def read_qr_codes(image: bytes) -> tuple[str, ...]:
    """The text of every QR code in a picture: what a phone's camera would read in it."""
    import zxingcpp
    from PIL import Image

    try:
        with Image.open(io.BytesIO(image)) as picture:
            gray = picture.convert("L")
    except (OSError, ValueError, Image.DecompressionBombError):
        return ()
    found = zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormat.QRCode)
    return tuple(code.text for code in found if code.valid)


def link_kind(payload: str) -> str:
    """The catalog key that says what a deep link is (check-in code, voucher, ...)."""
    prefix = payload.split("-", 1)[0]
    if prefix == "team":
        return "team.link_kind"
    return f"sandbox.link_{prefix if prefix in LINK_KINDS else 'other'}"


@dataclass
class Page:
    """What the page's API works on: the Bot API, and the language the page speaks.

    ``language`` is None until the page has chosen one (it starts with the browser's); after
    that every persona talks to the bot in it, and a reloaded page comes back in it.
    """

    api: FakeBotApi
    translator: Translator
    switch_language: Callable[[str], Awaitable[None]] | None = None
    language: str | None = None
    _qr_texts: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def links_in(self, message: dict[str, Any]) -> list[str]:
        """The deep links a message shows: in its text, its link buttons and its QR codes."""
        texts = [message.get("text") or message.get("caption") or ""]
        for entity in (*message.get("entities", ()), *message.get("caption_entities", ())):
            texts.append(entity.get("url") or "")
        for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
            texts.extend(button.get("url") or "" for button in row)
        if message.get("photo"):
            texts.extend(self._qr(message["photo"][-1]["file_id"]))
        return list(dict.fromkeys(payload for text in texts for payload in LINK.findall(text)))

    def _qr(self, file_id: str) -> tuple[str, ...]:
        # A sent photo never changes, so each one is read once.
        if file_id not in self._qr_texts:
            try:
                content = self.api.file_bytes(file_id)
            except (KeyError, ValueError):
                content = b""
            self._qr_texts[file_id] = read_qr_codes(content) if content else ()
        return self._qr_texts[file_id]


class _Base(tornado.web.RequestHandler):
    def initialize(self, page: Page, hosts: frozenset[str]) -> None:
        self.page = page
        self.api = page.api
        self.translator = page.translator
        self.hosts = hosts

    def set_default_headers(self) -> None:
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("X-Frame-Options", "DENY")

    def prepare(self) -> None:
        """Serve only the sandbox's own page: its Host, its Origin, JSON bodies."""
        host = self.request.headers.get("Host", "").lower()
        if host not in self.hosts:
            raise tornado.web.HTTPError(403, "not this sandbox's address: %r", host)
        origin = self.request.headers.get("Origin")
        if origin is not None and origin.lower() != f"http://{host}":
            raise tornado.web.HTTPError(403, "request from another site: %r", origin)
        if self.request.method == "POST":
            media_type = self.request.headers.get("Content-Type", "").split(";")[0]
            if media_type.strip().lower() != "application/json":
                raise tornado.web.HTTPError(415, "JSON expected")

    def persona(self, user_id: object) -> Persona:
        for persona in PERSONAS:
            if str(persona.id) == str(user_id):
                return persona
        raise tornado.web.HTTPError(404, "unknown persona")

    def body(self) -> dict[str, Any]:
        try:
            data = json.loads(self.request.body or b"{}")
        except ValueError:
            raise tornado.web.HTTPError(400, "JSON expected") from None
        if not isinstance(data, dict):
            raise tornado.web.HTTPError(400, "JSON object expected")
        return data

    def language(self, asked: object = None) -> str:
        """The page's language once chosen; before that the one asked for, else English."""
        if self.page.language:
            return self.page.language
        return "zh" if asked == "zh" else "en"


class PageHandler(_Base):
    def get(self) -> None:
        page = resources.files("bot.sandbox").joinpath("static/index.html").read_text("utf-8")
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.write(page)


class PersonasHandler(_Base):
    def get(self) -> None:
        lang = "zh" if self.get_query_argument("lang", "en") == "zh" else "en"
        texts = {
            key: value
            for key, value in self.translator.catalogs[lang].items()
            if key.startswith("sandbox.")
        }
        personas = [
            {"id": p.id, "label": self.translator(lang, p.key), "name": p.first_name}
            for p in PERSONAS
        ]
        self.write({"personas": personas, "texts": texts, "language": self.page.language})


class LanguageHandler(_Base):
    async def post(self) -> None:
        """Switch the page and every persona's bot to a language."""
        lang = self.body().get("lang")
        if lang not in SUPPORTED_LOCALES:
            raise tornado.web.HTTPError(400, "unknown language")
        if self.page.switch_language is not None:
            await self.page.switch_language(lang)
        self.page.language = lang
        self.write({"language": lang})


class ChatHandler(_Base):
    def get(self) -> None:
        persona = self.persona(self.get_query_argument("user"))
        messages = []
        for message in self.api.chat_messages(persona.id):
            text = message.get("text") or message.get("caption") or ""
            entry: dict[str, Any] = {
                "id": message["message_id"],
                "mine": not message.get("from", {}).get("is_bot", False),
                "date": message["date"],
                "text": text,
                "entities": message.get("entities") or message.get("caption_entities") or [],
                "edited": "edit_date" in message,
                "buttons": [
                    [
                        {"text": b["text"], "data": b.get("callback_data"), "url": b.get("url")}
                        for b in row
                    ]
                    for row in (message.get("reply_markup") or {}).get("inline_keyboard", [])
                ],
                "links": self.page.links_in(message),
            }
            if message.get("photo"):
                entry["photo"] = message["photo"][-1]["file_id"]
            if message.get("document"):
                entry["document"] = {
                    "id": message["document"]["file_id"],
                    "name": message["document"].get("file_name", "file"),
                }
            if message.get("contact"):
                entry["text"] = "📱 " + message["contact"].get("phone_number", "")
            if message.get("sticker"):
                entry["text"] = "🙂"
            messages.append(entry)
        keyboard = self.api.current_reply_keyboard(persona.id) or {}
        rows = [
            [
                {"text": b if isinstance(b, str) else b["text"],
                 "contact": isinstance(b, dict) and bool(b.get("request_contact"))}
                for b in row
            ]
            for row in keyboard.get("keyboard", [])
        ]  # fmt: skip
        answers = self.api.callback_answers_to(persona.id)
        self.write(
            {
                "messages": messages,
                "keyboard": rows,
                # Telegram shows an answer's text as a toast, or with show_alert as a box with
                # OK; the page shows each one once, those that came after it last looked.
                "answers": [
                    {"id": a["id"], "text": a["text"], "alert": a["show_alert"]}
                    for a in answers[-ANSWERS_SHOWN:]
                    if a["text"]
                ],
                "last_answer": answers[-1]["id"] if answers else 0,
            }
        )


class LinksHandler(_Base):
    def get(self) -> None:
        """Every deep link the bot has shown anyone, newest first: what a person could scan.

        A voucher's QR code is shown to the talent and scanned by the partner, so every
        persona may scan every link; each says what it is and whom the bot showed it to.
        """
        lang = self.language(self.get_query_argument("lang", None))
        shown: list[tuple[int, int, Persona, str, str]] = []
        for order, persona in enumerate(PERSONAS):
            for message in self.api.bot_messages(persona.id):
                text = message.get("text") or message.get("caption") or ""
                about = next((line.strip() for line in text.splitlines() if line.strip()), "")
                if len(about) > ABOUT_LENGTH:
                    about = about[: ABOUT_LENGTH - 1] + "…"
                for payload in self.page.links_in(message):
                    shown.append((message["date"], order, persona, payload, about))
        links: dict[str, dict[str, Any]] = {}
        # Newest first; of two messages in the same second, the later one in its chat first.
        for _, _, persona, payload, about in sorted(reversed(shown), key=lambda entry: -entry[0]):
            entry = links.setdefault(
                payload,
                {
                    "payload": payload,
                    "kind": self.translator(lang, link_kind(payload)),
                    "about": about,
                    "shown_to": [],
                },
            )
            label = self.translator(lang, persona.key)
            if label not in entry["shown_to"]:
                entry["shown_to"].append(label)
        self.write({"links": list(links.values())})


class SendHandler(_Base):
    def post(self) -> None:
        data = self.body()
        persona = self.persona(data.get("user"))
        user = persona_user(persona, self.language(data.get("lang")))
        kind = data.get("kind", "text")
        if kind == "contact":
            self.api.user_message(
                user,
                contact={
                    "phone_number": "8613800138000",
                    "first_name": persona.first_name,
                    "user_id": persona.id,
                },
            )
        elif kind == "tap":
            try:
                self.api.user_callback(user, int(data.get("message_id", 0)), str(data.get("data")))
            except ValueError:
                raise tornado.web.HTTPError(400, "no such button") from None
        elif kind == "scan":
            payload = str(data.get("payload", ""))
            if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", payload):
                raise tornado.web.HTTPError(400, "not a deep link")
            self.api.user_message(user, text=f"/start {payload}")
        else:
            text = str(data.get("text", "")).strip()
            if not text:
                raise tornado.web.HTTPError(400, "empty message")
            self.api.user_message(user, text=text[:4096])
        self.write({"ok": True})


class FileHandler(_Base):
    def get(self, file_id: str) -> None:
        """A photo to show in place, or anything else as a download the browser only saves.

        The bytes come from whoever made the file (an SVG check-in page holds an activity's
        title), so nothing is ever served as HTML, SVG or script, whatever name is asked for.
        """
        try:
            content = self.api.file_bytes(file_id)
        except (KeyError, ValueError):
            raise tornado.web.HTTPError(404) from None
        image = next(
            (kind for magic, kind in INLINE_IMAGES.items() if content.startswith(magic)), None
        )
        self.set_header("Content-Type", image or "application/octet-stream")
        self.set_header("Content-Security-Policy", "default-src 'none'; sandbox")
        if image is None or self.get_query_argument("download", ""):
            name = self.get_query_argument("name", "file")
            self.set_header("Content-Disposition", _attachment(name))
        self.write(content)


def _attachment(name: str) -> str:
    """A Content-Disposition that saves the file as ``name`` (RFC 6266, with a plain fallback)."""
    plain = re.sub(r"[^A-Za-z0-9._-]", "_", name)[:100] or "file"
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(name[:100], safe='')}"


def routes(
    api: FakeBotApi,
    translator: Translator,
    *,
    port: int,
    switch_language: Callable[[str], Awaitable[None]] | None = None,
) -> list[tuple[str, type, dict]]:
    """The page and its API, to mount next to the Bot API routes of the server on ``port``.

    ``switch_language`` makes the page's language switch reach the bot: it is awaited with the
    new language before the personas' next messages carry it as their Telegram language.
    """
    hosts = frozenset({f"127.0.0.1:{port}", f"localhost:{port}"})
    args = {"page": Page(api, translator, switch_language), "hosts": hosts}
    return [
        (r"/", PageHandler, args),
        (r"/api/personas", PersonasHandler, args),
        (r"/api/language", LanguageHandler, args),
        (r"/api/chat", ChatHandler, args),
        (r"/api/links", LinksHandler, args),
        (r"/api/send", SendHandler, args),
        (r"/api/file/([A-Za-z0-9_-]+)", FileHandler, args),
    ]
