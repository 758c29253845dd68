"""A season's upkeep wired into the Application: the nightly backup and clean-up, the heartbeat
that notes the last update handled, and ``/healthz`` in webhook mode."""

from __future__ import annotations

import logging

from telegram.ext import Application, CallbackContext

from bot.healthz import add_health_route
from bot.services import Services
from bot.services.health import HealthService, Heartbeat
from bot.services.housekeeping import Housekeeping

log = logging.getLogger(__name__)

NIGHTLY_JOB = "nightly"
HEARTBEAT_JOB = "heartbeat"
HEARTBEAT_EVERY = 60.0  # seconds; the last update reaches the database at most this late


def start(application: Application) -> None:
    """Create the upkeep services and schedule their jobs (from ``post_init``)."""
    services: Services = application.bot_data["services"]
    settings = services.settings
    heartbeat = Heartbeat(services.clock.now())
    health = HealthService(
        db=services.db, settings=settings, clock=services.clock, heartbeat=heartbeat
    )
    application.bot_data["heartbeat"] = heartbeat
    application.bot_data["health"] = health
    application.bot_data["housekeeping"] = Housekeeping(
        db=services.db, settings=settings, clock=services.clock
    )
    jobs = application.job_queue
    if jobs is None:
        return
    jobs.run_daily(
        _nightly, time=settings.nightly_at.replace(tzinfo=settings.tz), name=NIGHTLY_JOB
    )
    jobs.run_repeating(
        _flush_heartbeat, interval=HEARTBEAT_EVERY, first=HEARTBEAT_EVERY, name=HEARTBEAT_JOB
    )
    if settings.webhook_url:
        # Jobs start after the webhook server listens, so the route has a server to join.
        jobs.run_once(_serve_health, when=0, name="healthz")


async def stop(application: Application) -> None:
    """Write down the last update before the bot stops (from ``post_stop``)."""
    heartbeat: Heartbeat | None = application.bot_data.get("heartbeat")
    health: HealthService | None = application.bot_data.get("health")
    if heartbeat is not None and health is not None:
        try:
            await heartbeat.flush(health.rows)
        except Exception:
            log.exception("could not note the last update at stop")


async def _nightly(context: CallbackContext) -> None:
    housekeeping: Housekeeping = context.application.bot_data["housekeeping"]
    await housekeeping.nightly()


async def _flush_heartbeat(context: CallbackContext) -> None:
    heartbeat: Heartbeat = context.application.bot_data["heartbeat"]
    health: HealthService = context.application.bot_data["health"]
    await heartbeat.flush(health.rows)


async def _serve_health(context: CallbackContext) -> None:
    add_health_route(context.application, context.application.bot_data["health"])
