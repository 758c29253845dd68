"""Check-in by code, service hours and points: the rules, free of Telegram."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.services.activities import ActivityService
from bot.services.errors import NotAllowed
from bot.services.people import Viewer
from storage.models import LedgerEntry
from storage.points import CheckinOutcome, PointsRepository

CHECKIN_PREFIX = "ci-"


@dataclass(frozen=True, slots=True)
class CheckinResult:
    outcome: CheckinOutcome
    title: str = ""
    starts_at: datetime | None = None
    points: int = 0
    balance: int = 0


@dataclass(frozen=True, slots=True)
class PointsSummary:
    balance: int
    hours_season: float
    hours_total: float


class CheckinService:
    def __init__(
        self,
        *,
        points: PointsRepository,
        activities: ActivityService,
        clock: Clock,
        early: timedelta,
    ) -> None:
        self.points = points
        self.activities = activities
        self.clock = clock
        self.early = early

    async def code(self, actor: Viewer, activity_id: int, *, renew: bool = False) -> str:
        """The activity's check-in code, made on first use; ``renew`` revokes the old one."""
        await self.activities.managed(actor, activity_id)
        token = await self.points.token_of(activity_id)
        if token is None or renew:
            # 16 random bytes = 128 bits, in the deep-link alphabet.
            token = secrets.token_urlsafe(16)
            await self.points.set_token(activity_id, token)
        return token

    async def scan(self, talent_id: int, token: str) -> CheckinResult:
        """Check a talent in with a scanned code."""
        if not token or len(token) > 60:
            return CheckinResult(CheckinOutcome.UNKNOWN)
        outcome, activity, points, balance = await self.points.check_in(
            talent_id, token=token, now=self.clock.now(), early=self.early
        )
        if activity is None:
            return CheckinResult(outcome)
        return CheckinResult(outcome, activity["title"], activity["starts_at"], points, balance)


class PointsService:
    def __init__(self, *, points: PointsRepository, clock: Clock) -> None:
        self.points = points
        self.clock = clock

    async def summary(self, talent_id: int, *, season_from: datetime | None) -> PointsSummary:
        """Balance, and service hours this season and in all."""
        return PointsSummary(
            balance=await self.points.balance(talent_id),
            hours_season=await self.points.hours(talent_id, since=season_from),
            hours_total=await self.points.hours(talent_id),
        )

    async def history(
        self, talent_id: int, *, before_id: int | None, limit: int = 5
    ) -> list[LedgerEntry]:
        """Ledger entries, newest first, a page at a time."""
        return await self.points.entries(talent_id, before_id=before_id, limit=limit)

    @staticmethod
    def require_admin(actor: Viewer) -> None:
        """Only admins adjust points."""
        if not actor.is_admin:
            raise NotAllowed
