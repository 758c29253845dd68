"""A local imitation of Telegram's Bot API for tests and a sandbox.

``FakeBotApi`` holds the state and answers Bot API methods; ``OfflineRequest`` plugs it into a
python-telegram-bot ``Bot`` without any network; ``BotApiServer`` serves it over HTTP on the
loopback interface for a bot process started with a ``base_url``.
"""

from .core import ApiCall, FakeBotApi
from .errors import BotApiError
from .offline import OfflineRequest
from .server import BotApiServer

__all__ = ["ApiCall", "BotApiError", "BotApiServer", "FakeBotApi", "OfflineRequest"]
