"""Typed per-update context: the services, the viewer, and the half-filled form of a dialog."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot

from bot.services import Services
from bot.services.people import Viewer


@dataclass(slots=True)
class ProfileForm:
    """The answers of a registration (or the one field of a profile edit) so far."""

    language: str | None = None
    asked_language: bool = False
    consent_at: datetime | None = None
    name: str | None = None
    phone: str | None = None
    expertise: set[str] = field(default_factory=set)
    title: str | None = None
    region: str | None = None
    station_id: int | None = None
    station_chosen: bool = False
    stay_from: date | None = None
    stay_to: date | None = None
    # The question on the user's screen; buttons of any other question are stale.
    step: int = 0
    # Set when /profile edits a single field instead of walking the whole registration.
    editing: str | None = None
    # Whether a reply keyboard (the contact button) is on the user's screen and must be removed.
    reply_keyboard: bool = False
    # A check-in code scanned before registering: the talent is checked in once registered.
    pending_checkin: str | None = None
    # A team's invitation link opened before registering: the talent joins once registered.
    pending_team: str | None = None
    # Stay dates read with a guess, shown back to the talent and stored only once confirmed.
    pending_stay: tuple[date, date] | None = None


@dataclass(slots=True)
class StationForm:
    """An admin's station being added or renamed."""

    station_id: int | None = None
    step: int = 0
    name_zh: str | None = None
    name_en: str | None = None


class UserData:
    """What the bot keeps about a user between updates: only unfinished dialogs."""

    __slots__ = (
        "activity", "application", "attendance", "broadcast", "campaign", "form", "report",
        "reward", "station_form", "team",
    )  # fmt: skip

    def __init__(self) -> None:
        self.form: ProfileForm | None = None
        self.station_form: StationForm | None = None
        self.broadcast: Any = None  # handlers.broadcast.BroadcastForm, kept by that module
        self.activity: Any = None  # handlers.new_activity.ActivityForm, kept by that module
        self.attendance: dict[str, Any] | None = None  # kept by handlers.attendance
        self.reward: dict[str, Any] | None = None  # kept by handlers.catalog
        self.report: dict[str, Any] | None = None  # kept by handlers.reports
        self.application: int | None = None  # the request applied to, kept by handlers.requests
        self.team: dict[str, Any] | None = None  # kept by handlers.teams
        self.campaign: Any = None  # handlers.campaigns.CampaignForm, kept by that module


class BotContext(CallbackContext[ExtBot, UserData, dict, dict]):
    """The context every handler receives."""

    def __init__(
        self,
        application: Application,
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        super().__init__(application, chat_id=chat_id, user_id=user_id)
        self._viewer: Viewer | None = None

    @property
    def services(self) -> Services:
        """The domain services of this application."""
        return self.application.bot_data["services"]

    @property
    def viewer(self) -> Viewer:
        """The user behind the update, loaded by the middleware."""
        if self._viewer is None:
            raise RuntimeError("viewer not loaded for this update")
        return self._viewer

    @viewer.setter
    def viewer(self, value: Viewer) -> None:
        self._viewer = value

    def t(self, key: str, /, **params: Any) -> str:
        """Text of ``key`` in the viewer's language."""
        return self.services.translator(self.viewer.locale, key, **params)

    @property
    def form(self) -> ProfileForm:
        """The viewer's unfinished profile form, created on first use."""
        data = self.user_data
        if data.form is None:
            data.form = ProfileForm()
        return data.form


CONTEXT_TYPES = ContextTypes(context=BotContext, user_data=UserData, chat_data=dict, bot_data=dict)
