"""Command line: run the bot, try it in a sandbox, and look after its database."""

from __future__ import annotations

import argparse
import asyncio
import logging
import secrets
import sys
from pathlib import Path

from bot.logs import LEVELS, configure_logging
from bot.settings import Settings, SettingsError, load_settings
from storage.files import DatabaseFileError, RunLock, check_not_newer, check_writable

log = logging.getLogger("talentbot")

# sysexits' EX_CONFIG: something only the operator can fix; the systemd unit does not restart
# the bot on it (a crash exits 1 and is restarted).
EXIT_CONFIG = 78

# The running bot's hold on its database, kept for as long as the process lives.
_run_lock: RunLock | None = None


def claim_database(db_path: Path) -> None:
    """Before the bot opens its database: it can be written, this talentbot knows its schema,
    and no other bot runs on it (the lock is held until the process ends).

    Raises:
        DatabaseFileError: one line saying what is wrong, naming the path.
    """
    global _run_lock
    check_writable(db_path)
    check_not_newer(db_path)
    lock = RunLock(db_path)
    lock.acquire()
    _run_lock = lock


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

    claim_database(settings.db_path)
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

    path = Path(db) if db else sandbox_db(settings)
    # The demo's nightly backups must never mix with (and prune) the real bot's.
    settings = settings.model_copy(update={"backup_dir": path.with_name(f"{path.stem}-backups")})
    try:
        asyncio.run(serve(settings, port=port, db=path, why=why))
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

    claim_database(settings.db_path)

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


def backup(settings: Settings, *, file: str | None) -> int:
    """Copy the database, consistent as of one moment, while the bot may be running."""
    from bot.clock import SystemClock
    from bot.services.housekeeping import backup_path
    from bot.status_view import megabytes
    from storage import files

    dest = Path(file) if file else backup_path(settings, SystemClock().now())
    if dest.is_dir():
        dest = backup_path(settings.model_copy(update={"backup_dir": dest}), SystemClock().now())
    made = files.backup(settings.db_path, dest)
    print(f"{made.path}: backup of {settings.db_path} ({megabytes(made.bytes, 'en')} MB)")
    return 0


def restore(settings: Settings, *, file: str) -> int:
    """Put a backup in the place of the database, keeping the replaced file beside it."""
    from bot.clock import SystemClock
    from storage import files

    stamp = f"{SystemClock().now().astimezone(settings.tz):%Y%m%d-%H%M%S}"
    replaced = files.restore(Path(file), settings.db_path, stamp=stamp)
    print(f"{settings.db_path}: restored from {file}")
    if replaced is not None:
        print(f"the database it replaced is kept as {replaced}")
    return 0


def status(settings: Settings) -> int:
    """Print how the bot and its database are doing."""
    from bot.clock import SystemClock
    from bot.i18n import Translator
    from bot.services.health import HealthService
    from bot.status_view import status_text
    from storage.database import Database, newest_version

    if not settings.db_path.is_file():
        raise DatabaseFileError(
            f"there is no database at {settings.db_path}; `talentbot migrate` creates it"
        )
    version = check_not_newer(settings.db_path)
    if version < newest_version():
        print(
            f"{settings.db_path}: schema version {version}, this talentbot brings "
            f"{newest_version()}; run `talentbot migrate` (or start the bot) to upgrade it"
        )
        return 1

    async def collect() -> str:
        db = Database(settings.db_path)
        await db.connect(migrate=False, readonly=True)
        try:
            health = HealthService(db=db, settings=settings, clock=SystemClock())
            report = await health.report()
        finally:
            await db.close()
        return status_text(Translator("en"), "en", settings.tz, report)

    print(asyncio.run(collect()))
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
    parser.add_argument(
        "--log-level",
        default="INFO",
        type=str.upper,
        choices=LEVELS,
        help="logging level (default INFO)",
    )
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
    copy = commands.add_parser("backup", help="back up the database, also while the bot runs")
    copy.add_argument(
        "file", nargs="?", default=None, help="where to write it (default: TALENTBOT_BACKUP_DIR)"
    )
    back = commands.add_parser("restore", help="put a backup back (stop the bot first)")
    back.add_argument("file", help="the backup file")
    commands.add_parser("status", help="how the bot and its database are doing")
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"talentbot: {exc}", file=sys.stderr)
        return 2
    configure_logging(
        args.log_level,
        fmt=settings.log_format,
        secrets=(settings.bot_token, settings.webhook_secret),
    )
    try:
        return _dispatch(args, settings)
    except DatabaseFileError as exc:
        print(f"talentbot: {exc}", file=sys.stderr)
        return EXIT_CONFIG


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
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
    if args.command == "backup":
        return backup(settings, file=args.file)
    if args.command == "restore":
        return restore(settings, file=args.file)
    if args.command == "status":
        return status(settings)
    return migrate(settings)


if __name__ == "__main__":
    sys.exit(main())
