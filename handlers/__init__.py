"""Telegram glue: one module per feature, registered here in the order that matters."""

from __future__ import annotations

from telegram.ext import Application

from handlers import (
    activities,
    admin,
    attendance,
    broadcast,
    campaigns,
    catalog,
    certificates,
    checkin,
    desk,
    dialogs,
    errors,
    fallback,
    home,
    manage,
    middleware,
    new_activity,
    privacy,
    profile,
    registration,
    reports,
    requests,
    rewards,
    roles,
    settings,
    status,
    teams,
)


def setup(application: Application) -> None:
    """Register every handler.

    Within group 0 the first matching handler wins, so: deep links before the plain /start,
    dialogs before the commands they could interrupt, and the catch-alls last.
    """
    middleware.setup(application)
    admin.setup_deep_links(application)
    activities.setup_deep_links(application)
    desk.setup_deep_links(application)
    certificates.setup_deep_links(application)
    registration.setup(application)
    profile.setup(application)
    teams.setup(application)
    admin.setup(application)
    roles.setup(application)
    broadcast.setup(application)
    new_activity.setup(application)
    requests.setup(application)
    campaigns.setup(application)
    desk.setup_dialog(application)
    manage.setup(application)
    activities.setup(application)
    checkin.setup(application)
    attendance.setup(application)
    catalog.setup(application)
    reports.setup(application)
    certificates.setup(application)
    rewards.setup(application)
    desk.setup(application)
    settings.setup(application)
    status.setup(application)
    privacy.setup(application)
    home.setup(application)
    fallback.setup(application)
    dialogs.setup(application)
    application.add_error_handler(errors.on_error)
