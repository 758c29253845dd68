"""The sandbox's web chat: a page, and a small JSON API over the local Bot API's user side.

Any web page open in the same browser can send requests to 127.0.0.1, and a page on a domain
that resolves to 127.0.0.1 can read the answers too, so the API serves only its own page: the
Host (and, when the browser sends one, the Origin) must be the sandbox's own address, and a POST
must be JSON, which a foreign page cannot send without the browser asking the sandbox first.
Files the bot sent are never served as anything a browser would run.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from typing import Any
from urllib.parse import quote

import tornado.web

from bot.i18n import Translator
from bot.sandbox.seed import PERSONAS, Persona
from localapi import FakeBotApi

LINK = re.compile(r"https://t\.me/[A-Za-z0-9_]+\?start=([A-Za-z0-9_-]{1,64})")
# The images the page shows in place, known by their first bytes, never by a name or a claim.
INLINE_IMAGES = {
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
    b"GIF87a": "image/gif",
    b"GIF89a": "image/gif",
}


def persona_user(persona: Persona, language: str) -> dict[str, Any]:
    """The persona as Telegram describes a user."""
    return {
        "id": persona.id,
        "is_bot": False,
        "first_name": persona.first_name,
        "language_code": language,
    }


class _Base(tornado.web.RequestHandler):
    def initialize(self, api: FakeBotApi, translator: Translator, hosts: frozenset[str]) -> None:
        self.api = api
        self.translator = translator
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

    def language(self, data: dict[str, Any]) -> str:
        return "zh" if data.get("lang") == "zh" else "en"


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
        self.write({"personas": personas, "texts": texts})


class ChatHandler(_Base):
    def get(self) -> None:
        persona = self.persona(self.get_query_argument("user"))
        messages = []
        for message in self.api.chat_messages(persona.id):
            text = message.get("text") or message.get("caption") or ""
            entry: dict[str, Any] = {
                "id": message["message_id"],
                "mine": not message.get("from", {}).get("is_bot", False),
                "text": text,
                "edited": "edit_date" in message,
                "buttons": [
                    [
                        {"text": b["text"], "data": b.get("callback_data"), "url": b.get("url")}
                        for b in row
                    ]
                    for row in (message.get("reply_markup") or {}).get("inline_keyboard", [])
                ],
                "links": sorted(set(LINK.findall(text))),
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
        self.write({"messages": messages, "keyboard": rows})


class LinksHandler(_Base):
    def get(self) -> None:
        """Every deep link the bot has shown anyone, newest first: what a person could scan."""
        found: list[str] = []
        for persona in PERSONAS:
            for message in self.api.chat_messages(persona.id):
                text = message.get("text") or message.get("caption") or ""
                found.extend(LINK.findall(text))
        unique = list(dict.fromkeys(reversed(found)))
        self.write({"links": unique})


class SendHandler(_Base):
    def post(self) -> None:
        data = self.body()
        persona = self.persona(data.get("user"))
        user = persona_user(persona, self.language(data))
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


def routes(api: FakeBotApi, translator: Translator, *, port: int) -> list[tuple[str, type, dict]]:
    """The page and its API, to mount next to the Bot API routes of the server on ``port``."""
    hosts = frozenset({f"127.0.0.1:{port}", f"localhost:{port}"})
    args = {"api": api, "translator": translator, "hosts": hosts}
    return [
        (r"/", PageHandler, args),
        (r"/api/personas", PersonasHandler, args),
        (r"/api/chat", ChatHandler, args),
        (r"/api/links", LinksHandler, args),
        (r"/api/send", SendHandler, args),
        (r"/api/file/([A-Za-z0-9_-]+)", FileHandler, args),
    ]
