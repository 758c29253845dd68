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
    telegram_id: int | None = None  # None once the account is deleted
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
    deleted_at: datetime | None = None

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
    withdrawn_by: int | None = None
    withdrawn_at: datetime | None = None

    def is_open(self, now: datetime) -> bool:
        """Whether the link still grants its role."""
        return self.used_at is None and self.withdrawn_at is None and self.expires_at > now


class RoleHolder(Row):
    """A role in force, with who holds it, as the admin's list of a station shows it."""

    role: Role
    name: str | None = None
    telegram_id: int | None = None


class Audience(Row):
    """Who a broadcast (or announcement) goes to; every filter narrows it."""

    topic: str
    station_ids: tuple[int, ...] | None = None  # None: every station, and talents without one
    expertise: str | None = None
    present_on: date | None = None  # only talents whose stay covers this date
    language: str | None = None  # only talents who read this language
    activity_id: int | None = None  # only talents signed up (or waiting) for this activity
    team_id: int | None = None  # only members of this team


class Broadcast(Row):
    id: int
    topic: str
    audience: str
    text: str | None = None
    entities: str | None = None
    photo_file_id: str | None = None
    buttons: str | None = None
    status: str
    total: int
    created_by: int
    author_locale: str = "zh"
    created_at: datetime
    finished_at: datetime | None = None
    cancelled_by: int | None = None
    progress_chat_id: int | None = None
    progress_message_id: int | None = None


class Delivery(Row):
    id: int
    broadcast_id: int
    talent_id: int
    chat_id: int
    status: str
    attempts: int
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    message_id: int | None = None


class Progress(Row):
    """How far a broadcast has come."""

    total: int = 0
    pending: int = 0
    sending: int = 0
    sent: int = 0
    unreachable: int = 0
    failed: int = 0
    cancelled: int = 0

    @property
    def done(self) -> bool:
        """Nothing is waiting or in flight."""
        return self.pending == 0 and self.sending == 0


class Reminder(Row):
    id: int
    talent_id: int
    subject: str
    subject_id: int
    kind: str
    due_at: datetime
    expires_at: datetime
    text_key: str
    params: str
    status: str
    attempts: int
    topic: str = "reminders"  # the /settings topic it belongs to
    telegram_id: int = 0
    language: str | None = None


class ActivityStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"
    FINISHED = "finished"


class Activity(Row):
    id: int
    station_id: int | None = None
    kind: str
    title: str
    description: str = ""
    place: str
    starts_at: datetime
    ends_at: datetime
    capacity: int = 0
    points: int = 0
    expertise: str | None = None
    status: ActivityStatus
    created_by: int
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None = None
    cancelled_at: datetime | None = None
    request: str | None = None  # None: an ordinary activity; "open" or "closed": a request
    team_id: int | None = None  # set: open to this team's members only
    going: int = 0
    waiting: int = 0

    @property
    def full(self) -> bool:
        """No place is left (an unlimited activity is never full)."""
        return self.capacity > 0 and self.going >= self.capacity


class Application(Row):
    """A talent's offer to serve at a request, and what the coordinators decided."""

    id: int
    activity_id: int
    talent_id: int
    note: str = ""
    status: str
    created_at: datetime
    decided_by: int | None = None
    decided_at: datetime | None = None


class Signup(Row):
    id: int
    activity_id: int
    talent_id: int
    status: str
    position: int
    created_at: datetime
    updated_at: datetime
    name: str | None = None
    telegram_id: int = 0


class LedgerEntry(Row):
    id: int
    talent_id: int
    delta: int
    kind: str
    reason: str | None = None
    ref: str | None = None
    by_whom: int | None = None
    created_at: datetime
    # What the entry was for, when it names it: the activity, or the voucher and its reward.
    activity_title: str | None = None
    voucher_code: str | None = None
    reward_zh: str | None = None
    reward_en: str | None = None

    def reward_name(self, locale: str) -> str | None:
        """The reward's name in ``locale``, for a redeem or a refund."""
        return self.reward_zh if locale == "zh" else self.reward_en


class Attendance(Row):
    id: int
    activity_id: int
    talent_id: int
    checked_in_at: datetime
    method: str
    by_whom: int | None = None
    walk_in: bool = False
    hours: float
    name: str | None = None
    corrected_hours: float | None = None
    corrected_by: int | None = None  # Telegram id of who made the latest correction

    @property
    def current_hours(self) -> float:
        """The hours that count: the latest correction, else the original."""
        return self.hours if self.corrected_hours is None else self.corrected_hours


class Reward(Row):
    id: int
    name_zh: str
    name_en: str
    description_zh: str = ""
    description_en: str = ""
    station_id: int
    cost: int
    stock: int
    per_talent_limit: int = 0
    valid_days: int
    active: bool = True

    def name(self, locale: str) -> str:
        """The reward's name in ``locale``."""
        return self.name_zh if locale == "zh" else self.name_en

    def description(self, locale: str) -> str:
        """The reward's description in ``locale``."""
        return self.description_zh if locale == "zh" else self.description_en


class Voucher(Row):
    id: int
    reward_id: int
    talent_id: int
    code: str
    cost: int
    status: str
    created_at: datetime
    valid_until: datetime
    used_at: datetime | None = None
    used_by: int | None = None
    closed_at: datetime | None = None
    closed_by: int | None = None
    talent_name: str | None = None
    telegram_id: int | None = None
    reward_zh: str | None = None
    reward_en: str | None = None

    def reward_names(self) -> dict[str, str]:
        """The reward's name in each language, as a notice stores it."""
        return {"zh": self.reward_zh or "", "en": self.reward_en or ""}


class TeamKind(StrEnum):
    VOLUNTEER = "volunteer"
    TEACHING = "teaching"
    PARTY = "party"  # a party branch: who belongs to it is shown to its leaders and admins only
    EXPERTS = "experts"
    OTHER = "other"


class Team(Row):
    id: int
    name_zh: str
    name_en: str
    kind: TeamKind
    station_id: int | None = None  # None: city-wide
    invite_token: str
    created_by: int
    created_at: datetime

    def name(self, locale: str) -> str:
        """The team's name in ``locale``."""
        return self.name_zh if locale == "zh" else self.name_en


class TeamMember(Row):
    team_id: int
    talent_id: int
    name: str | None = None
    leader: bool = False
    joined_at: datetime
