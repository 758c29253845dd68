"""A local imitation of Telegram's Bot API: what the tests, the benchmarks and the sandbox talk to.

It is not part of the bot that talks to Telegram. Its methods, their fields and the types they take
come from ``api.json``, a copy of Telegram's official method and type list (Bot API 10.1), and it
refuses what Telegram refuses, with Telegram's HTTP 400 descriptions. It ships with the project
because ``talentbot sandbox`` runs the bot against it without a Telegram token.

``FakeBotApi`` holds the state and answers Bot API methods; ``OfflineRequest`` plugs it into a
python-telegram-bot ``Bot`` without any network; ``BotApiServer`` serves it over HTTP on the
loopback interface for a bot process started with a ``base_url``.
"""

from .core import TELEGRAM_LIMITS, ApiCall, FakeBotApi, FloodControl
from .errors import BotApiError
from .offline import OfflineRequest
from .server import BotApiServer

__all__ = [
    "TELEGRAM_LIMITS",
    "ApiCall",
    "BotApiError",
    "BotApiServer",
    "FakeBotApi",
    "FloodControl",
    "OfflineRequest",
]
