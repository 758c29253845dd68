"""Check-in by code, service hours and points: the rules, free of Telegram."""

from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.i18n import ungroup
from bot.services.activities import ActivityService
from bot.services.errors import InvalidInput, NotAllowed
from bot.services.messaging import ReminderService
from bot.services.people import Viewer
from bot.services.profile import clean_text
from bot.services.search import TalentSearch
from storage.models import ActivityStatus, Attendance, LedgerEntry
from storage.points import CheckinOutcome, PointsRepository

CHECKIN_PREFIX = "ci-"
REASON_MAX = 200
HOURS_MAX = 24.0
DELTA_MAX = 100_000


def parse_hours(text: str | None) -> float:
    """Service hours, like ``2``, ``1.5`` or ``1,5``; 0 to 24."""
    value = (text or "").strip().replace(",", ".")
    if not re.fullmatch(r"\d{1,2}(\.\d{1,2})?", value):
        raise InvalidInput("points.bad_hours", max=int(HOURS_MAX))
    hours = float(value)
    if hours > HOURS_MAX:
        raise InvalidInput("points.bad_hours", max=int(HOURS_MAX))
    return hours


def parse_delta(text: str | None) -> int:
    """Points to add (``20``, ``+20``) or take (``-5``); never zero."""
    value = ungroup((text or "").strip()).replace(" ", "").replace("＋", "+").replace("－", "-")
    if not re.fullmatch(r"[+-]?\d{1,6}", value) or int(value) == 0 or abs(int(value)) > DELTA_MAX:
        raise InvalidInput("points.bad_delta", max=DELTA_MAX)
    return int(value)


def parse_reason(text: str | None) -> str:
    """Why: required, one line."""
    return clean_text(text, max_len=REASON_MAX)


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


def is_self(actor: Viewer, talent_id: int) -> bool:
    """Whether ``talent_id`` is the acting user's own talent record."""
    return actor.talent is not None and actor.talent.id == talent_id


class CheckinService:
    def __init__(
        self,
        *,
        points: PointsRepository,
        activities: ActivityService,
        search: TalentSearch,
        reminders: ReminderService,
        clock: Clock,
        early: timedelta,
    ) -> None:
        self.points = points
        self.activities = activities
        self.search = search
        self.reminders = reminders
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

    async def before_registering(self, token: str) -> CheckinResult | None:
        """Why a code cannot check anyone in, for someone about to register to use it.

        None when it can, or will later today: registering first is then worth it.
        """
        activity = await self.points.activity_with_token(token)
        if activity is None:
            return CheckinResult(CheckinOutcome.UNKNOWN)
        if activity.status == ActivityStatus.CANCELLED:
            outcome = CheckinOutcome.CANCELLED
        elif activity.status == ActivityStatus.DRAFT:
            outcome = CheckinOutcome.NOT_OPEN
        elif activity.ends_at < self.clock.now() or activity.status == ActivityStatus.FINISHED:
            outcome = CheckinOutcome.OVER
        else:
            return None
        return CheckinResult(outcome, activity.title, activity.starts_at)

    async def correctable(self, actor: Viewer, attendance_id: int) -> Attendance:
        """An attendance whose hours ``actor`` may correct: at an activity they manage, and not
        their own (service hours are what a station is funded by)."""
        attendance = await self.points.attendance_by_id(attendance_id)
        if attendance is None:
            raise NotAllowed
        await self.activities.managed(actor, attendance.activity_id)
        if is_self(actor, attendance.talent_id):
            raise InvalidInput("points.not_your_own_hours")
        return attendance

    async def correct(self, actor: Viewer, attendance_id: int, hours: float, reason: str) -> None:
        """Set a talent's actual hours for an activity; recorded beside the original, and the
        talent is told."""
        attendance = await self.correctable(actor, attendance_id)
        hours, reason = parse_hours(str(hours)), parse_reason(reason)
        correction = await self.points.correct_hours(
            attendance_id, hours, reason=reason, by=actor.telegram_id, now=self.clock.now()
        )
        activity = await self.activities.activities.get(attendance.activity_id)
        await self.reminders.notify(
            attendance.talent_id,
            subject="hours",
            subject_id=correction,
            kind="corrected",
            text_key="notice.hours_corrected",
            params={"title": activity.title if activity else "", "hours": hours, "reason": reason},
        )

    async def manual(self, actor: Viewer, activity_id: int, talent_id: int) -> CheckinResult:
        """Check in a talent who has no phone with them, recorded as done by ``actor``.

        Only someone ``actor``'s search could find, and never ``actor`` themselves: a check-in
        credits points, and nobody credits their own.
        """
        await self.activities.managed(actor, activity_id)
        if is_self(actor, talent_id):
            raise InvalidInput("points.not_yourself")
        if not await self.search.may_pick(actor, talent_id, activity_id=activity_id):
            raise NotAllowed
        outcome, activity, points, balance = await self.points.check_in(
            talent_id,
            activity_id=activity_id,
            now=self.clock.now(),
            early=self.early,
            method="manual",
            by=actor.telegram_id,
        )
        if activity is None:
            return CheckinResult(outcome)
        if outcome == CheckinOutcome.CHECKED_IN:
            # One check-in per talent and activity, so this notice is told once.
            await self.reminders.notify(
                talent_id,
                subject="checkin",
                subject_id=activity_id,
                kind="manual",
                text_key="notice.checked_in" if points else "notice.checked_in_no_points",
                params={"title": activity["title"], "points": points, "balance": balance},
            )
        return CheckinResult(outcome, activity["title"], activity["starts_at"], points, balance)


class PointsService:
    def __init__(
        self, *, points: PointsRepository, reminders: ReminderService, clock: Clock
    ) -> None:
        self.points = points
        self.reminders = reminders
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
    def check_adjustable(actor: Viewer, talent_id: int) -> None:
        """Refuse anyone but admins, and an admin's own balance: nobody credits themselves."""
        if not actor.is_admin:
            raise NotAllowed
        if is_self(actor, talent_id):
            raise InvalidInput("points.not_your_own_balance")

    async def check_delta(self, actor: Viewer, talent_id: int, delta: int) -> int:
        """Refuse an amount that cannot be done: not a whole number, zero, beyond the limit, or
        one that takes the balance below zero (before anyone is asked for a reason).
        Returns the amount."""
        self.check_adjustable(actor, talent_id)
        delta = parse_delta(str(delta))
        balance = await self.points.balance(talent_id)
        if balance + delta < 0:
            raise InvalidInput("points.below_zero_ask", balance=balance, delta=f"{delta:+d}")
        return delta

    async def adjust(
        self, actor: Viewer, talent_id: int, delta: int, reason: str
    ) -> tuple[bool, int]:
        """Add or take points (admins only, with a reason); False when it would go below 0.
        The talent is told."""
        self.check_adjustable(actor, talent_id)
        delta, reason = parse_delta(str(delta)), parse_reason(reason)
        done, balance, entry = await self.points.adjust(
            talent_id,
            delta,
            reason=reason,
            by=actor.telegram_id,
            now=self.clock.now(),
            # Each adjustment is its own entry; the key only guards against a double write.
            key=f"adjust:{uuid.uuid4().hex}",
        )
        if entry is not None:
            await self.reminders.notify(
                talent_id,
                subject="ledger",
                subject_id=entry,
                kind="adjust",
                text_key="notice.points_adjusted",
                params={"delta": f"{delta:+d}", "reason": reason, "balance": balance},
            )
        return done, balance
