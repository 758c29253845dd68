"""``talentbot sandbox``: the whole bot in a browser, with no Telegram token.

One process runs the local Bot API server, the bot polling it (built by the same
``build_application`` as ``talentbot run``), and a web chat page next to the Bot API routes, on
a demo database of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from pathlib import Path

from bot.settings import Settings

log = logging.getLogger(__name__)


async def serve(settings: Settings, *, port: int, host: str = "127.0.0.1") -> None:
    """Run the sandbox until interrupted."""
    from bot.app import ALLOWED_UPDATES, build_application
    from bot.sandbox.seed import PERSONAS, seed
    from bot.sandbox.web import routes
    from localapi import BotApiServer, FakeBotApi

    api = FakeBotApi(username="talentbot_sandbox")
    for persona in PERSONAS:
        # Every persona has opened the bot before, so it may write to them.
        api.open_chat({"id": persona.id, "first_name": persona.first_name})
    server = BotApiServer(api, host=host, port=port)
    sandbox_settings = settings.model_copy(
        update={
            "bot_token": api.token,
            "api_base_url": f"http://127.0.0.1:{port}/bot",
            "admin_ids": frozenset({*settings.admin_ids, PERSONAS[-1].id}),
            "webhook_url": None,
        }
    )
    application = build_application(sandbox_settings)
    server.add_handlers(routes(api, application.bot_data["services"].translator))
    await server.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        async with application:
            await application.post_init(application)
            services = application.bot_data["services"]
            if await seed(services, services.clock):
                log.info("seeded the demo database %s", sandbox_settings.db_path)
            await application.updater.start_polling(allowed_updates=ALLOWED_UPDATES)
            await application.start()
            print(f"talentbot sandbox: open http://{host}:{server.port}/ in a browser", flush=True)
            await stop.wait()
            await application.updater.stop()
            await application.stop()
            await application.post_stop(application)
        await application.post_shutdown(application)
    finally:
        await server.stop()


def sandbox_db(settings: Settings) -> Path:
    """The demo database lives beside the real one, never in it."""
    return settings.db_path.with_name("sandbox.sqlite3")
