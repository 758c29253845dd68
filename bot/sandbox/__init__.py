"""``talentbot sandbox``: the whole bot in a browser, with no Telegram token.

One process runs the local Bot API server, the bot polling it (built by the same
``build_application`` as ``talentbot run``), and a web chat page next to the Bot API routes, on
a demo database of its own, made anew at every start so that its dates are today's.

The sandbox makes whoever opens its page an admin and marks every talent its imitation of
Telegram does not know as unreachable, so it only ever opens a database it created itself:
creation stamps the file's ``PRAGMA application_id``, and any other file is refused before
anything is written to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import secrets
import signal
import socket
from pathlib import Path

from bot.settings import Settings
from storage.database import application_id, create_marked

log = logging.getLogger(__name__)

# "tbsx" in the header of every database the sandbox made; no real database carries it.
SANDBOX_APPLICATION_ID = int.from_bytes(b"tbsx", "big")


class SandboxError(Exception):
    """The sandbox cannot start; the message is one line for the person who started it."""


class PortBusy(SandboxError):
    """Something else listens on the port; ``free`` is one that was free a moment ago."""

    def __init__(self, port: int, free: int) -> None:
        super().__init__(f"port {port} is busy")
        self.port = port
        self.free = free


def check_database(settings: Settings, path: Path) -> None:
    """Refuse ``path`` unless it is new or a database the sandbox made; changes nothing.

    Raises:
        SandboxError: for ``TALENTBOT_DB`` and for any existing file the sandbox did not create;
            such a file is left exactly as it was.
    """
    if _same_file(path, settings.db_path):
        raise SandboxError(
            f"{path} is TALENTBOT_DB, the bot's real database; the sandbox needs one of its own "
            "(--db NEW_FILE)"
        )
    if os.path.lexists(path) and application_id(path) != SANDBOX_APPLICATION_ID:
        raise SandboxError(
            f"{path} was not made by the sandbox, which opens only databases it created; "
            "pass --db with a new file name"
        )


def claim_database(settings: Settings, path: Path) -> None:
    """Make ``path`` a new, empty sandbox database, for demo data as of now.

    A database the sandbox made before is started over: its "happening now" activity would be
    long over, and its talents' chats lived only in the memory of the run that ended.

    Raises:
        SandboxError: as check_database, before anything is removed.
    """
    check_database(settings, path)
    if os.path.lexists(path):
        # The journal files belong to the marked main file; left behind, SQLite would replay
        # them into the new one.
        for leftover in (path, *(Path(f"{path}{end}") for end in ("-wal", "-shm", "-journal"))):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
        log.info("starting the sandbox database %s over", path)
    create_marked(path, SANDBOX_APPLICATION_ID)


def free_port(near: int) -> int:
    """The first port from ``near`` on that nobody listens on (0 when none of 100 is free)."""
    for port in range(near, min(near + 100, 65536)):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    return 0


def _same_file(one: Path, other: Path) -> bool:
    if one.resolve() == other.resolve():
        return True
    try:
        return os.path.samefile(one, other)  # hard links, bind mounts
    except OSError:
        return False


async def serve(
    settings: Settings, *, port: int, db: Path, host: str = "127.0.0.1", why: str = ""
) -> None:
    """Run the sandbox on a fresh demo database at ``db`` until interrupted.

    ``why`` is said with the address once the page answers (why this is the sandbox).

    Raises:
        SandboxError: when ``db`` is not the sandbox's own (see check_database), or PortBusy;
            nothing has been opened or written then.
    """
    check_database(settings, db)
    from bot.app import ALLOWED_UPDATES, build_application
    from bot.sandbox.seed import PERSONAS, seed, speak
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
    try:
        await server.start()
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise PortBusy(port, free_port(9000 if port != 9000 else 9001)) from None
        raise
    try:
        # Only now: a second start while one runs stops at the port, before touching its data.
        claim_database(settings, db)
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
        services = application.bot_data["services"]

        async def switch_language(language: str) -> None:
            await speak(services, language)

        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        async with application:
            await application.post_init(application)
            if await seed(services, services.clock):
                log.info("seeded the demo database %s", db)
            # The page answers once the demo data is there.
            server.add_handlers(
                routes(api, services.translator, port=server.port, switch_language=switch_language)
            )
            await application.updater.start_polling(allowed_updates=ALLOWED_UPDATES)
            await application.start()
            url = f"http://{host}:{server.port}/"
            print(f"talentbot sandbox: open {url} in a browser{why}", flush=True)
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
