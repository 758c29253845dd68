"""Command line: ``talentbot run``, ``sandbox``, ``start`` and ``migrate``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import secrets
import sys

from bot.settings import Settings, SettingsError, load_settings

log = logging.getLogger("talentbot")


def configure_logging(level: str = "INFO") -> None:
    """Readable logs: our messages at ``level``, the HTTP client's only when they matter."""
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def run(settings: Settings) -> int:
    """Serve the bot until interrupted: long polling, or a webhook when one is configured."""
    if not settings.bot_token:
        print(
            "talentbot: TELEGRAM_BOT_TOKEN is not set; put your bot's token (from @BotFather) "
            "in the environment or in a .env file, or try `talentbot sandbox`",
            file=sys.stderr,
        )
        return 2
    from bot.app import ALLOWED_UPDATES, build_application

    application = build_application(settings)
    if settings.webhook_url:
        application.run_webhook(
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            url_path=_webhook_path(settings.webhook_url),
            webhook_url=settings.webhook_url,
            secret_token=webhook_secret(settings),
            allowed_updates=ALLOWED_UPDATES,
        )
    else:
        application.run_polling(allowed_updates=ALLOWED_UPDATES)
    return 0


def sandbox(
    settings: Settings, *, port: int, db: str | None, started_by: str = "sandbox", why: str = ""
) -> int:
    """Run the sandbox: the bot and a web chat page, no Telegram needed.

    ``started_by`` is the command that started it (``start`` is what ``make run`` runs), so that
    a busy port is answered with the way to pick another one in the same command.
    """
    from pathlib import Path

    from bot.sandbox import PortBusy, SandboxError, sandbox_db, serve

    try:
        asyncio.run(
            serve(settings, port=port, db=Path(db) if db else sandbox_db(settings), why=why)
        )
    except PortBusy as exc:
        other = exc.free or 9000
        retry = (
            f"make run PORT={other}"
            if started_by == "start"
            else f"talentbot sandbox --port {other}"
        )
        print(f"talentbot sandbox: port {exc.port} is busy; try `{retry}`", file=sys.stderr)
        return 2
    except SandboxError as exc:
        print(f"talentbot sandbox: {exc}", file=sys.stderr)
        return 2
    return 0


def webhook_secret(settings: Settings) -> str:
    """The secret Telegram must send with every webhook call: the configured one, or a new one.

    Without a secret anyone who can reach the webhook could post updates in an admin's name.
    A random one, given to Telegram by the setWebhook of this start, needs no configuration and
    changes at every start, which costs nothing because setWebhook runs at every start too.
    """
    if settings.webhook_secret:
        return settings.webhook_secret
    log.info("TALENTBOT_WEBHOOK_SECRET is not set; using a random secret for this run")
    return secrets.token_urlsafe(32)


def _webhook_path(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).path.lstrip("/")


def migrate(settings: Settings) -> int:
    """Create the database if needed and apply pending migrations."""
    from storage.database import Database

    async def apply() -> tuple[int, list[int]]:
        db = Database(settings.db_path)
        await db.connect(migrate=False)
        try:
            return await db.schema_version(), await db.migrate()
        finally:
            await db.close()

    before, applied = asyncio.run(apply())
    after = max([before, *applied])
    print(f"{settings.db_path}: schema version {before} -> {after} ({len(applied)} applied)")
    return 0


PORT_HELP = "port of the sandbox's web page (default 8080)"


def port_number(text: str) -> int:
    """A TCP port given on the command line (0: any free one)."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port number (0 to 65535)")
    return port


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``talentbot`` command."""
    parser = argparse.ArgumentParser(prog="talentbot", description=__doc__)
    parser.add_argument("--log-level", default="INFO", help="logging level (default INFO)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="run the bot (long polling, or a webhook if configured)")
    commands.add_parser("migrate", help="create the database and apply pending migrations")
    box = commands.add_parser("sandbox", help="try the bot in a browser, with no Telegram token")
    box.add_argument("--port", type=port_number, default=8080, help=PORT_HELP)
    box.add_argument(
        "--db", default=None, help="demo database (default: sandbox.sqlite3 beside TALENTBOT_DB)"
    )
    start = commands.add_parser(
        "start", help="run the bot when a token is configured, else the sandbox (make run)"
    )
    start.add_argument(
        "--port", type=port_number, default=8080, help=PORT_HELP + "; only without a token"
    )
    args = parser.parse_args(argv)
    configure_logging(args.log_level.upper())
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"talentbot: {exc}", file=sys.stderr)
        return 2
    if args.command == "run":
        return run(settings)
    if args.command == "sandbox":
        return sandbox(settings, port=args.port, db=args.db)
    if args.command == "start":
        if settings.bot_token:
            return run(settings)
        return sandbox(
            settings,
            port=args.port,
            db=None,
            started_by="start",
            why=" (no TELEGRAM_BOT_TOKEN is set, so this is the sandbox, not Telegram)",
        )
    return migrate(settings)


if __name__ == "__main__":
    sys.exit(main())
