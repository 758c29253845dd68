"""A chat simulator: users who type, tap and share their phone, and read what the bot sent.

The same users drive the bot two ways: offline, by handing each update to the Application
(tests), and over HTTP, where the update waits on the local Bot API server for the bot's
getUpdates (end-to-end tests, benchmarks) and ``expect`` waits for the answer.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from localapi.core import FakeBotApi

Deliver = Callable[[dict], Awaitable[None]]
_ids = itertools.count(10_001)


@dataclass
class ChatUser:
    """One Telegram user in a private chat with the bot."""

    api: FakeBotApi
    deliver: Deliver
    first_name: str
    language_code: str | None = "en"
    id: int = field(default_factory=lambda: next(_ids))

    @property
    def user(self) -> dict:
        """The user as Telegram describes them in updates."""
        data = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.language_code:
            data["language_code"] = self.language_code
        return data

    # -- acting ------------------------------------------------------------------------------

    async def send(self, text: str) -> None:
        """Type and send a text message (commands included)."""
        await self.deliver(self.api.user_message(self.user, text=text))

    async def send_sticker(self) -> None:
        """Send a sticker."""
        await self.deliver(self.api.user_message(self.user, sticker=True))

    async def send_photo(self) -> None:
        """Send a photo."""
        await self.deliver(self.api.user_message(self.user, photo=True))

    async def share_contact(self, phone: str = "8613800138000", *, own: bool = True) -> None:
        """Press the contact button (``own``), or forward someone else's contact card."""
        contact = {
            "phone_number": phone,
            "first_name": self.first_name,
            "user_id": self.id if own else self.id + 1,
        }
        await self.deliver(self.api.user_message(self.user, contact=contact))

    async def tap(self, label: str) -> None:
        """Tap ``label``: on the reply keyboard if it shows one, else on the newest message."""
        keyboard = self.api.current_reply_keyboard(self.id) or {}
        for row in keyboard.get("keyboard", []):
            for button in row:
                text = button if isinstance(button, str) else button["text"]
                if text == label:
                    if isinstance(button, dict) and button.get("request_contact"):
                        await self.share_contact()
                    else:
                        await self.send(label)
                    return
        message_id, data = self._inline_button(label)
        await self.press(data, message_id=message_id)

    async def double_tap(self, label: str, *, together: bool = False) -> None:
        """Tap the inline button ``label`` twice before the bot answers the first tap.

        Both presses leave before the bot changes the message, as from a shaky finger or a
        slow connection; they arrive one after the other, or with ``together`` at once.
        """
        message_id, data = self._inline_button(label)
        first = self.api.user_callback(self.user, message_id, data)
        second = self.api.user_callback(self.user, message_id, data)
        if together:
            await asyncio.gather(self.deliver(first), self.deliver(second))
        else:
            await self.deliver(first)
            await self.deliver(second)

    def _inline_button(self, label: str) -> tuple[int, str]:
        """The message id and callback data of the newest inline button ``label``."""
        for message in reversed(self.api.bot_messages(self.id)):
            markup = message.get("reply_markup") or {}
            for row in markup.get("inline_keyboard", []):
                for button in row:
                    if button["text"] == label and "callback_data" in button:
                        return message["message_id"], button["callback_data"]
        raise AssertionError(f"no button {label!r}; buttons now: {self.buttons()}")

    async def press(
        self, data: str, *, message_id: int | None = None, forge: bool = False
    ) -> None:
        """Press a button by its callback data; ``forge`` sends data no button carries."""
        if message_id is None:
            message_id = self.api.bot_messages(self.id)[-1]["message_id"]
        update = self.api.user_callback(self.user, message_id, data, check=not forge)
        await self.deliver(update)

    async def block(self) -> None:
        """Block the bot."""
        await self.deliver(self.api.user_blocks_bot(self.user))

    # -- reading -----------------------------------------------------------------------------

    def messages(self) -> list[dict]:
        """Everything the bot sent to this chat, edits applied."""
        return self.api.bot_messages(self.id)

    def mark(self) -> int:
        """A bookmark: how many messages the bot has sent so far."""
        return len(self.messages())

    def texts(self, since: int = 0) -> list[str]:
        """The texts (or captions) the bot sent since ``since``."""
        return [m.get("text") or m.get("caption") or "" for m in self.messages()[since:]]

    def last_text(self) -> str:
        """The newest text the bot sent to this user."""
        texts = self.texts()
        assert texts, "the bot has sent nothing to this user"
        return texts[-1]

    def buttons(self) -> list[str]:
        """The buttons the user sees under the newest message, or else on the reply keyboard."""
        messages = self.messages()
        inline = (messages[-1].get("reply_markup") or {}) if messages else {}
        rows = inline.get("inline_keyboard")
        if not rows:
            rows = (self.api.current_reply_keyboard(self.id) or {}).get("keyboard", [])
        return [b if isinstance(b, str) else b["text"] for row in rows for b in row]

    def inline_buttons(self) -> list[str]:
        """The buttons under the newest message only (the reply keyboard left out)."""
        messages = self.messages()
        markup = (messages[-1].get("reply_markup") or {}) if messages else {}
        rows = markup.get("inline_keyboard", [])
        return [b["text"] for row in rows for b in row]

    def reply_keyboard(self) -> list[str]:
        """The labels of the reply keyboard on screen (empty when none)."""
        rows = (self.api.current_reply_keyboard(self.id) or {}).get("keyboard", [])
        return [b if isinstance(b, str) else b["text"] for row in rows for b in row]

    # The timeout is a plain argument on purpose: "wait for X, at most N s" reads best in tests.
    async def expect(self, fragment: str, *, timeout: float = 15.0) -> str:  # noqa: ASYNC109
        """Wait until the newest message contains ``fragment`` (at once when offline)."""

        def arrived() -> bool:
            texts = self.texts()
            return bool(texts) and fragment in texts[-1]

        await self.api.wait_for(arrived, timeout=timeout)
        return self.last_text()

    def alerts(self) -> list[str]:
        """Texts of the bot's answers to this user's button presses."""
        return [
            answer["text"] for answer in self.api.callback_answers_to(self.id) if answer["text"]
        ]


def sent_to(api: FakeBotApi, method: str, **match: Any) -> list[dict]:
    """Parameters of the calls of ``method`` whose parameters include ``match``."""
    return [
        call.params
        for call in api.calls
        if call.method == method and all(call.params.get(k) == v for k, v in match.items())
    ]
