"""Who is writing: their profile, language and roles; registration and profile changes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from bot.clock import Clock
from bot.i18n import Translator, supported_locale
from storage.models import Role, RoleName, Talent
from storage.talents import TalentRepository

NAME_MAX = 64  # Telegram's own limit for a first name


@dataclass(frozen=True, slots=True)
class Viewer:
    """The user behind an update, as the rules see them."""

    telegram_id: int
    locale: str
    talent: Talent | None = None
    roles: tuple[Role, ...] = ()
    is_admin: bool = False
    language_known: bool = field(default=True)

    @property
    def registered(self) -> bool:
        """Whether they finished registration."""
        return self.talent is not None and self.talent.registered

    def stations_where(self, role: RoleName) -> list[int]:
        """Station ids where they hold ``role``."""
        return [r.station_id for r in self.roles if r.role == role]

    def stations_where_coordinator(self) -> list[int]:
        """Station ids this user coordinates."""
        return self.stations_where(RoleName.COORDINATOR)

    @property
    def is_coordinator(self) -> bool:
        """Coordinator of at least one station, or an admin (who may do what coordinators do)."""
        return self.is_admin or bool(self.stations_where(RoleName.COORDINATOR))

    @property
    def is_partner(self) -> bool:
        """Partner of at least one station."""
        return bool(self.stations_where(RoleName.PARTNER))

    def may_coordinate(self, station_id: int) -> bool:
        """Whether they may act as coordinator of this station."""
        return self.is_admin or station_id in self.stations_where(RoleName.COORDINATOR)


@dataclass(frozen=True, slots=True)
class Registration:
    """A completed registration form."""

    language: str
    consent_at: datetime
    name: str
    phone: str | None
    expertise: tuple[str, ...]
    title: str | None
    region: str
    station_id: int | None
    stay_from: date
    stay_to: date


class PeopleService:
    def __init__(
        self,
        *,
        talents: TalentRepository,
        translator: Translator,
        admin_ids: frozenset[int],
        clock: Clock,
    ) -> None:
        self.talents = talents
        self.translator = translator
        self.admin_ids = admin_ids
        self.clock = clock
        # The first names written already in this process, so that each is written once.
        self._remembered: dict[int, str] = {}

    async def viewer(self, telegram_id: int, telegram_language: str | None) -> Viewer:
        """Load the user's talent row and roles and decide their language."""
        talent, found = await self.talents.with_roles(telegram_id)
        roles = tuple(found)
        stored = talent.language if talent else None
        locale = self.translator.resolve(stored, telegram_language)
        return Viewer(
            telegram_id=telegram_id,
            locale=locale,
            talent=talent,
            roles=roles,
            is_admin=telegram_id in self.admin_ids,
            language_known=stored is not None or supported_locale(telegram_language) is not None,
        )

    async def seen(self, viewer: Viewer, first_name: str | None) -> None:
        """Remember the Telegram first name of staff without a name in a profile, so that what
        they do shows with a name. Only staff: the names of others are not kept."""
        staff = viewer.is_admin or bool(viewer.roles)
        if not staff or not first_name or (viewer.talent is not None and viewer.talent.name):
            return
        name = first_name.strip()[:NAME_MAX]
        if not name or self._remembered.get(viewer.telegram_id) == name:
            return
        await self.talents.remember_first_name(viewer.telegram_id, name, now=self.clock.now())
        self._remembered[viewer.telegram_id] = name

    async def names(self, telegram_ids: Iterable[int], locale: str) -> dict[int, str]:
        """Who did something, as staff read it: the name in their profile, else their Telegram
        first name if the bot has seen it, else "ID 9104"."""
        found = await self.talents.display_names(telegram_ids)
        return {
            telegram_id: name or self.translator(locale, "common.user_id", id=telegram_id)
            for telegram_id, name in found.items()
        }

    async def name_of(self, telegram_id: int, locale: str) -> str:
        """One person's name, as ``names`` gives it."""
        return (await self.names([telegram_id], locale))[telegram_id]

    async def set_language(self, telegram_id: int, language: str) -> None:
        """Remember the user's language choice."""
        await self.talents.set_language(telegram_id, language, now=self.clock.now())

    async def register(self, telegram_id: int, form: Registration) -> Talent:
        """Store a completed registration."""
        return await self.talents.register(
            telegram_id,
            language=form.language,
            name=form.name,
            phone=form.phone,
            expertise=form.expertise,
            title=form.title,
            region=form.region,
            station_id=form.station_id,
            stay_from=form.stay_from,
            stay_to=form.stay_to,
            consent_at=form.consent_at,
            now=self.clock.now(),
        )

    async def update_profile(self, talent_id: int, changes: dict[str, Any]) -> Talent:
        """Change one or more fields of a registered talent's profile."""
        return await self.talents.update_profile(talent_id, changes, now=self.clock.now())

    async def forget_unregistered(self, telegram_id: int) -> bool:
        """Keep nothing of someone who declined the privacy notice before registering."""
        return await self.talents.forget_unregistered(telegram_id)

    async def mark_reachable(self, telegram_id: int, reachable: bool) -> bool:
        """Record that the user blocked the bot, or came back; True when that is news."""
        return await self.talents.set_reachable(telegram_id, reachable, now=self.clock.now())

    def today(self, tz: Any) -> date:
        """Today's date in the programme's zone."""
        return self.clock.now().astimezone(tz).date()
