"""The application factory: one place that wires settings, storage, services and handlers."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, time, timedelta

from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseUpdateProcessor,
    CallbackContext,
    Defaults,
    JobQueue,
)
from telegram.request import BaseRequest

import handlers
from bot import campaign_view, upkeep
from bot.clock import Clock, SystemClock
from bot.monthly import SEND_AT, MonthlyReports
from bot.notices import Notices
from bot.outbox import Outbox
from bot.processing import PerUserUpdateProcessor
from bot.ratelimit import TwoLaneRateLimiter
from bot.services import Services
from bot.settings import Settings
from handlers.context import CONTEXT_TYPES
from handlers.errors import slow_down
from handlers.menus import set_default_menus
from storage.database import Database

log = logging.getLogger(__name__)

MONTHLY_JOB = "monthly_reports"
MONTHLY_AT_START = "monthly_reports_at_start"

# The updates the bot acts on; my_chat_member tells when a talent blocks or unblocks the bot.
ALLOWED_UPDATES = [
    Update.MESSAGE,
    Update.EDITED_MESSAGE,
    Update.CALLBACK_QUERY,
    Update.MY_CHAT_MEMBER,
]

VOUCHER_EXPIRY_JOB = "voucher-expiry"
VOUCHER_EXPIRY_INTERVAL = timedelta(hours=1)
# Closes produce campaigns whose time came and edits progress messages that are out of date
# (each person's at most every few seconds, however often this runs).
CAMPAIGN_JOB = "campaigns"
CAMPAIGN_INTERVAL = timedelta(seconds=2)


def build_application(
    settings: Settings,
    *,
    request: BaseRequest | None = None,
    clock: Clock | None = None,
    update_processor: BaseUpdateProcessor | None = None,
) -> Application:
    """Build the bot: every handler registered, storage opened and migrated in ``post_init``.

    Args:
        settings: the configuration.
        request: a request object for all Bot API calls (tests and benchmarks pass an offline
            one); PTB's HTTP client when None.
        clock: the source of time; the system clock when None.
        update_processor: how updates are scheduled; concurrent across users and in order
            within each user when None (a benchmark passes PTB's sequential one to compare).
    """
    if not settings.bot_token:
        raise ValueError("build_application needs settings.bot_token")
    db = Database(settings.db_path)
    services = Services.build(settings, db, clock or SystemClock())
    defaults = Defaults(
        parse_mode=ParseMode.HTML,
        tzinfo=settings.tz,
        link_preview_options=LinkPreviewOptions(is_disabled=True),
    )
    processor = update_processor or PerUserUpdateProcessor()
    builder = (
        ApplicationBuilder()
        .token(settings.bot_token)
        .base_url(settings.api_base_url)
        .defaults(defaults)
        .context_types(CONTEXT_TYPES)
        .rate_limiter(TwoLaneRateLimiter(rate=settings.send_rate))
        .concurrent_updates(processor)
        .post_init(_post_init)
        .post_stop(_post_stop)
        .post_shutdown(_post_shutdown)
    )
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    application = builder.build()
    application.bot_data["services"] = services
    handlers.setup(application)
    if isinstance(processor, PerUserUpdateProcessor):
        processor.on_overflow = functools.partial(slow_down, application)
    return application


async def _post_init(application: Application) -> None:
    services: Services = application.bot_data["services"]
    await services.db.connect()
    await set_default_menus(application.bot, services.translator)
    outbox = Outbox(application.bot, services)
    application.bot_data["outbox"] = outbox
    notices = Notices(services, outbox.wake)
    services.activities.announce = notices.announce
    services.activities.tell_change = notices.changed
    services.activities.tell_cancelled = notices.cancelled
    await outbox.start()
    if application.job_queue is not None:
        # Reminders that fell due while the bot was down go out at start; vouchers that passed
        # their date give their points and item back at start, then every hour.
        at_start_and_every(
            application.job_queue,
            _send_reminders,
            timedelta(seconds=services.settings.reminder_interval),
            name="reminders",
        )
        at_start_and_every(
            application.job_queue,
            _expire_vouchers,
            VOUCHER_EXPIRY_INTERVAL,
            name=VOUCHER_EXPIRY_JOB,
        )
        at_start_and_every(application.job_queue, _campaigns, CAMPAIGN_INTERVAL, name=CAMPAIGN_JOB)
        application.bot_data["monthly"] = MonthlyReports(application.bot, services)
        # Every day at 09:00: on the 1st that sends last month's reports; on other days it
        # retries one that failed. At start: whatever fell due while the bot was down.
        at = time(SEND_AT.hour, SEND_AT.minute, tzinfo=services.settings.tz)
        application.job_queue.run_daily(_monthly_reports, time=at, name=MONTHLY_JOB)
        application.job_queue.run_once(_monthly_reports, when=0, name=MONTHLY_AT_START)
    upkeep.start(application)
    log.info("talentbot ready as @%s, database %s", application.bot.username, services.db.path)


def at_start_and_every(
    job_queue: JobQueue,
    callback: Callable[[CallbackContext], Awaitable[None]],
    interval: timedelta,
    *,
    name: str,
) -> None:
    """Run ``callback`` as soon as the job queue starts, then every ``interval``.

    ``first=0`` is not enough: jobs are added here, before the scheduler starts, and a job
    added that way gets its first run one interval after the moment it was added. So the first
    run time is given outright, with no grace limit, so that a slow start does not skip it.
    The scheduler keeps real time; the jobs themselves read the injectable clock.
    """
    job_queue.run_repeating(
        callback,
        interval=interval,
        name=name,
        job_kwargs={"next_run_time": datetime.now(UTC), "misfire_grace_time": None},
    )


async def _send_reminders(context: CallbackContext) -> None:
    outbox: Outbox = context.application.bot_data["outbox"]
    await outbox.send_due_reminders()


async def _campaigns(context: CallbackContext) -> None:
    outbox: Outbox = context.application.bot_data["outbox"]
    await campaign_view.tick(context.bot, context.application.bot_data["services"], outbox.wake)


async def _monthly_reports(context: CallbackContext) -> None:
    monthly: MonthlyReports = context.application.bot_data["monthly"]
    await monthly.send_due()


async def _expire_vouchers(context: CallbackContext) -> None:
    services: Services = context.application.bot_data["services"]
    expired = await services.rewards.expire_due()
    if expired:
        log.info("%d vouchers expired; their points and items are back", expired)


async def _post_stop(application: Application) -> None:
    outbox: Outbox | None = application.bot_data.get("outbox")
    if outbox is not None:
        await outbox.stop()
    await upkeep.stop(application)


async def _post_shutdown(application: Application) -> None:
    await _post_stop(application)
    services: Services = application.bot_data["services"]
    await services.db.close()
