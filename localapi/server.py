"""The Bot API imitation over real HTTP, for a bot process that only knows a base_url.

Routes ``/bot<token>/<method>`` like api.telegram.org and accepts what Telegram accepts: GET
query strings, url-encoded and multipart forms (what PTB sends), and JSON bodies. More routes
(a sandbox's own pages, say) can be mounted with ``extra_handlers`` or :meth:`add_handlers`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any
from urllib.parse import unquote

import tornado.httpserver
import tornado.netutil
import tornado.web

from .core import MAX_UPLOAD_BYTES, FakeBotApi
from .errors import BotApiError

logger = logging.getLogger(__name__)

STOP_GRACE_SECONDS = 1.0


class _ApiHandler(tornado.web.RequestHandler):
    def initialize(self, api_server: BotApiServer) -> None:
        self._api_server = api_server
        self._task: asyncio.Future[Any] | None = None
        self._closed = False

    def set_default_headers(self) -> None:
        self.set_header("Content-Type", "application/json")

    async def get(self, token: str, method: str) -> None:
        await self._handle(token, method)

    async def post(self, token: str, method: str) -> None:
        await self._handle(token, method)

    def on_connection_close(self) -> None:
        # A client that gave up (PTB cancelling a long poll, say) must not leave a getUpdates
        # behind that would later collide with the client's next one.
        self._closed = True
        if self._task is not None and not self._task.done():
            self._task.cancel()

    def _parameters(
        self,
    ) -> tuple[dict[str, Any], dict[str, tuple[str | None, bytes, str | None]]]:
        params: dict[str, Any] = {
            name: values[-1].decode("utf-8", "replace")
            for name, values in self.request.query_arguments.items()
        }
        content_type = self.request.headers.get("Content-Type", "")
        if content_type.split(";")[0].strip().lower() == "application/json":
            try:
                body = json.loads(self.request.body or b"{}")
            except ValueError:
                raise BotApiError(400, "Bad Request: can't parse JSON object") from None
            if not isinstance(body, dict):
                raise BotApiError(400, "Bad Request: JSON object expected")
            params.update(body)
        else:
            for name, values in self.request.body_arguments.items():
                params[name] = values[-1].decode("utf-8", "replace")
        files = {
            name: (parts[-1].filename, parts[-1].body, parts[-1].content_type)
            for name, parts in self.request.files.items()
        }
        return params, files

    async def _handle(self, token: str, method: str) -> None:
        api = self._api_server.api
        if unquote(token) != api.token:
            self._reply(BotApiError(401, "Unauthorized").to_json(), 401)
            return
        if not method:
            self._reply(BotApiError(404, "Not Found").to_json(), 404)
            return
        try:
            params, files = self._parameters()
        except BotApiError as error:
            self._reply(error.to_json(), error.error_code)
            return
        self._task = asyncio.ensure_future(api.call(method, params, files))
        done = asyncio.get_running_loop().create_future()
        self._api_server.in_flight.add(done)
        try:
            result = await self._task
        except asyncio.CancelledError:
            if self._closed or self._api_server.stopping:
                return
            raise
        except BotApiError as error:
            self._reply(error.to_json(), error.error_code)
            return
        else:
            self._reply({"ok": True, "result": result}, 200)
        finally:
            done.set_result(None)
            self._api_server.in_flight.discard(done)

    def _reply(self, body: dict[str, Any], status: int) -> None:
        if self._closed:
            return
        self.set_status(status)
        self.finish(json.dumps(body, ensure_ascii=False))


def _log_request(handler: tornado.web.RequestHandler) -> None:
    # Refusals are the point of this server and are logged (with their reason) by the API
    # itself; tornado's default would log every 4xx as a warning.
    status = handler.get_status()
    request = handler.request
    logger.log(
        logging.DEBUG if status < 500 else logging.WARNING,
        "%d %s %s %.2fms",
        status,
        request.method,
        request.path,
        1000.0 * request.request_time(),
    )


class BotApiServer:
    """Serves a :class:`FakeBotApi` on ``host:port``; port 0 picks a free one."""

    def __init__(
        self,
        api: FakeBotApi,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        extra_handlers: list[Any] | None = None,
    ):
        self.api = api
        self.host = host
        self.port = port
        self.stopping = False
        self.in_flight: set[asyncio.Future[None]] = set()
        self._extra_handlers = list(extra_handlers or [])
        self._app: tornado.web.Application | None = None
        self._http: tornado.httpserver.HTTPServer | None = None

    @property
    def base_url(self) -> str:
        """What PTB takes as ``base_url``; PTB appends the token itself."""
        host = "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}/bot"

    def add_handlers(self, handlers: list[Any], host_pattern: str = ".*") -> None:
        """Mount more tornado routes next to the Bot API ones, before or after start()."""
        if self._app is None:
            self._extra_handlers.extend(handlers)
        else:
            self._app.add_handlers(host_pattern, handlers)

    async def start(self) -> None:
        if self._http is not None:
            raise RuntimeError("server already started")
        self.stopping = False
        self._app = tornado.web.Application(
            [
                (r"/bot([^/]+)/([^/]*)", _ApiHandler, {"api_server": self}),
                *self._extra_handlers,
            ],
            log_function=_log_request,
        )
        sockets = tornado.netutil.bind_sockets(self.port, address=self.host)
        # Room for the largest upload Telegram accepts, plus the form around it.
        self._http = tornado.httpserver.HTTPServer(
            self._app, max_body_size=MAX_UPLOAD_BYTES + 1024 * 1024
        )
        self._http.add_sockets(sockets)
        self.port = sockets[0].getsockname()[1]
        logger.info("Bot API imitation listening at %s", self.base_url)

    async def stop(self) -> None:
        """Stop listening, release long pollers and close every open connection."""
        if self._http is None:
            return
        self.stopping = True
        self._http.stop()
        self.api.wake_pollers()
        if self.in_flight:
            # Woken long polls answer "no updates" before their connections are closed, so a
            # client sees an orderly reply rather than a dropped connection.
            await asyncio.wait(set(self.in_flight), timeout=STOP_GRACE_SECONDS)
        await self._http.close_all_connections()
        self._http = None
        self._app = None
        logger.info("Bot API imitation stopped")

    async def __aenter__(self) -> BotApiServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()
