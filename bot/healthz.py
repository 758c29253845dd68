"""``GET /healthz`` beside the webhook: 200 and the status as JSON while the bot is well, 503
when the database does not answer or no update has come for too long (Telegram may have lost
the way to the webhook: a certificate that expired, a proxy that stopped).

python-telegram-bot builds its tornado server inside ``Updater.start_webhook`` and offers no
hook for more routes, so the route is added to that server's tornado application once it
listens, with tornado's public ``Application.add_handlers``. The way to the server,
``Updater._httpd``, is PTB's own; the webhook test checks it still works after an upgrade.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import tornado.web
from telegram.ext import Application

from bot.services.health import HealthReport, HealthService

log = logging.getLogger(__name__)

PATH = "/healthz"


class HealthHandler(tornado.web.RequestHandler):
    """Answers a monitor's GET with the health report."""

    def initialize(self, health: HealthService, max_silence: timedelta) -> None:
        """Take what every request needs (tornado's way of passing arguments to handlers)."""
        self.health = health
        self.max_silence = max_silence

    async def get(self) -> None:
        """200 with the report when all is well, 503 with the problems otherwise."""
        result = await self.health.check(max_silence=self.max_silence)
        if isinstance(result, HealthReport):
            body = result.model_dump(mode="json")
            ok = result.ok
        else:
            body, ok = {"ok": False, "problems": result}, False
        self.set_status(200 if ok else 503)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(body, ensure_ascii=False))


def add_health_route(application: Application, health: HealthService) -> bool:
    """Serve ``/healthz`` on the running webhook server; False when there is none."""
    server = getattr(application.updater, "_httpd", None)
    http_server = getattr(server, "_http_server", None)
    web_app = getattr(http_server, "request_callback", None)
    if not isinstance(web_app, tornado.web.Application):
        log.warning("no webhook server to add %s to; it is not served", PATH)
        return False
    max_silence = health.settings.health_max_silence
    web_app.add_handlers(
        r".*", [(PATH, HealthHandler, {"health": health, "max_silence": max_silence})]
    )
    log.info("serving %s on the webhook server", PATH)
    return True
