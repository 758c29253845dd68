"""Rows as pydantic models: what repositories hand to the services."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class StationKind(StrEnum):
    COMMUNITY = "community"
    PROFESSIONAL = "professional"


class RoleName(StrEnum):
    COORDINATOR = "coordinator"
    PARTNER = "partner"


class Row(BaseModel):
    model_config = ConfigDict(frozen=True)


class Station(Row):
    id: int
    name_zh: str
    name_en: str
    kind: StationKind
    timezone: str | None = None
    created_by: int
    created_at: datetime

    def name(self, locale: str) -> str:
        """The station's name in ``locale``."""
        return self.name_zh if locale == "zh" else self.name_en


class Talent(Row):
    id: int
    telegram_id: int
    language: str | None = None
    name: str | None = None
    phone: str | None = None
    title: str | None = None
    region: str | None = None
    station_id: int | None = None
    stay_from: date | None = None
    stay_to: date | None = None
    consent_at: datetime | None = None
    registered_at: datetime | None = None
    reachable: bool = True
    expertise: tuple[str, ...] = ()
    created_at: datetime
    updated_at: datetime

    @property
    def registered(self) -> bool:
        """Whether the talent finished registration."""
        return self.registered_at is not None


class Role(Row):
    id: int
    talent_id: int
    station_id: int
    role: RoleName
    granted_by: int | None = None
    granted_at: datetime


class Invitation(Row):
    id: int
    token: str
    station_id: int
    role: RoleName
    created_by: int
    created_at: datetime
    expires_at: datetime
    used_by: int | None = None
    used_at: datetime | None = None
