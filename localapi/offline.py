"""A python-telegram-bot request object that talks to :class:`FakeBotApi` in process.

PTB builds the same :class:`~telegram.request.RequestData` as for real HTTP and parses the same
status codes and JSON bodies, so the bot under test meets Telegram's refusals as PTB's own
exceptions (BadRequest, Forbidden, RetryAfter, Conflict, InvalidToken...).
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any
from urllib.parse import unquote, urlsplit

from telegram._utils.types import ODVInput
from telegram.request import BaseRequest, RequestData

from .core import FakeBotApi
from .errors import BotApiError

_PATH_RE = re.compile(r"/bot(?P<token>[^/]+)/(?P<method>[^/]*)$")


def _json_bytes(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


class OfflineRequest(BaseRequest):
    """Answers PTB's requests from a :class:`FakeBotApi` without any network."""

    def __init__(
        self,
        api: FakeBotApi,
        *,
        latency: float = 0.0,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
    ):
        self.api = api
        self.latency = latency
        self.connection_pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._pools: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}
        self.initialized = False

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        self.initialized = True

    async def shutdown(self) -> None:
        self.initialized = False
        self._pools.clear()

    def _pool(self) -> asyncio.Semaphore:
        # Like a connection pool, at most this many requests are in flight at once; kept per
        # event loop because a semaphore belongs to the loop it was first used in.
        loop = asyncio.get_running_loop()
        pool = self._pools.get(loop)
        if pool is None:
            pool = self._pools[loop] = asyncio.Semaphore(self.connection_pool_size)
        return pool

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        # Timeouts are PTB's to choose; with no network there is nothing they could protect.
        del read_timeout, write_timeout, connect_timeout, pool_timeout
        match = _PATH_RE.search(urlsplit(url).path)
        if match is None:
            return 404, _json_bytes(BotApiError(404, "Not Found").to_json())
        if unquote(match["token"]) != self.api.token:
            return 401, _json_bytes(BotApiError(401, "Unauthorized").to_json())
        params: dict[str, Any] = {}
        files: dict[str, tuple[str | None, bytes, str | None]] = {}
        if request_data is not None:
            params = dict(request_data.json_parameters)
            for name, (file_name, content, mime_type) in request_data.multipart_data.items():
                data = content if isinstance(content, bytes) else content.read()
                files[name] = (file_name, data, mime_type)
        async with self._pool():
            if self.latency > 0:
                await asyncio.sleep(self.latency)
            try:
                result = await self.api.call(match["method"], params, files)
            except BotApiError as error:
                return error.error_code, _json_bytes(error.to_json())
        return 200, _json_bytes({"ok": True, "result": result})


__all__ = ["OfflineRequest"]
