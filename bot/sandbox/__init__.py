"""``talentbot sandbox``: the whole bot in a browser, with no Telegram token.

One process runs the local Bot API server, the bot polling it (built by the same
``build_application`` as ``talentbot run``), and a web chat page next to the Bot API routes, on
a demo database of its own.

The sandbox makes whoever opens its page an admin and marks every talent its imitation of
Telegram does not know as unreachable, so it only ever opens a database it created itself:
creation stamps the file's ``PRAGMA application_id``, and any other file is refused before
anything is written to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import signal
from pathlib import Path

from bot.settings import Settings
from storage.database import application_id, create_marked

log = logging.getLogger(__name__)

# "tbsx" in the header of every database the sandbox made; no real database carries it.
SANDBOX_APPLICATION_ID = int.from_bytes(b"tbsx", "big")


class SandboxError(Exception):
    """The sandbox cannot start; the message is one line for the person who started it."""


def claim_database(settings: Settings, path: Path) -> None:
    """Create the sandbox's database at ``path``, or check that the file there is one.

    Raises:
        SandboxError: for ``TALENTBOT_DB`` and for any existing file the sandbox did not create;
            such a file is left exactly as it was.
    """
    if _same_file(path, settings.db_path):
        raise SandboxError(
            f"{path} is TALENTBOT_DB, the bot's real database; the sandbox needs one of its own "
            "(--db NEW_FILE)"
        )
    if os.path.lexists(path):
        if application_id(path) != SANDBOX_APPLICATION_ID:
            raise SandboxError(
                f"{path} was not made by the sandbox, which opens only databases it created; "
                "pass --db with a new file name"
            )
        return
    create_marked(path, SANDBOX_APPLICATION_ID)
    log.info("created the sandbox database %s", path)


def _same_file(one: Path, other: Path) -> bool:
    if one.resolve() == other.resolve():
        return True
    try:
        return os.path.samefile(one, other)  # hard links, bind mounts
    except OSError:
        return False


async def serve(settings: Settings, *, port: int, db: Path, host: str = "127.0.0.1") -> None:
    """Run the sandbox on the database ``db`` until interrupted.

    Raises:
        SandboxError: when ``db`` is not the sandbox's own (see claim_database); nothing has
            been opened or written then.
    """
    claim_database(settings, db)
    from bot.app import ALLOWED_UPDATES, build_application
    from bot.sandbox.seed import PERSONAS, seed
    from bot.sandbox.web import routes
    from localapi import BotApiServer, FakeBotApi

    # A new token at every start: a web page the browser happens to show must not be able to
    # call the imitation Bot API (and act as the bot) with a token it could know in advance.
    bot_id = 123456
    api = FakeBotApi(
        token=f"{bot_id}:{secrets.token_urlsafe(32)}", bot_id=bot_id, username="talentbot_sandbox"
    )
    for persona in PERSONAS:
        # Every persona has opened the bot before, so it may write to them.
        api.open_chat({"id": persona.id, "first_name": persona.first_name})
    server = BotApiServer(api, host=host, port=port)
    await server.start()
    try:
        sandbox_settings = settings.model_copy(
            update={
                "db_path": db,
                "bot_token": api.token,
                "api_base_url": server.base_url,
                "admin_ids": frozenset({*settings.admin_ids, PERSONAS[-1].id}),
                "webhook_url": None,
            }
        )
        application = build_application(sandbox_settings)
        translator = application.bot_data["services"].translator
        server.add_handlers(routes(api, translator, port=server.port))
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        async with application:
            await application.post_init(application)
            services = application.bot_data["services"]
            if await seed(services, services.clock):
                log.info("seeded the demo database %s", db)
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
