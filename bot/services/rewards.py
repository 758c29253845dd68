"""Rewards, vouchers and partners' settlement: the rules, free of Telegram."""

from __future__ import annotations

import re
import secrets
import sqlite3
from collections import deque
from datetime import datetime, timedelta
from math import ceil
from typing import Any
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.i18n import ungroup
from bot.services.errors import InvalidInput, NotAllowed
from bot.services.messaging import ReminderService
from bot.services.people import Viewer
from bot.services.profile import clean_text
from storage.models import Reward, RoleName, Voucher
from storage.points import PointsRepository
from storage.presses import Press
from storage.rewards import RedeemOutcome, RewardRepository, UseOutcome

# No 0/O, 1/I/L: a code read aloud at a hotel desk or typed from paper cannot be misread.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 9  # 31^9 is about 2^44.6, above the 40 bits asked for
VOUCHER_PREFIX = "v-"
# Codes a user may look up in vain in an hour: plenty for typos at a desk, while a guesser,
# among 31^9 codes of which ten thousand are in use, finds one in about 30,000 years.
WRONG_CODES_PER_HOUR = 10
NAME_MAX = 100
DESCRIPTION_MAX = 500
# What a talent is told when a voucher gives its points back, by how it closed.
REFUND_NOTICES = {"expired": "notice.voucher_expired", "cancelled": "notice.voucher_cancelled"}
LIMITS = {
    "cost": (1, 1_000_000),
    "stock": (0, 100_000),
    "per_talent_limit": (0, 1_000),
    "valid_days": (1, 3_650),
}


def new_code(length: int = CODE_LENGTH) -> str:
    """A fresh voucher code (or, longer, a certificate's)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def normalise_code(text: str | None, length: int = CODE_LENGTH) -> str | None:
    """A code as typed (spaces, dashes, lower case welcome), or None if it cannot be one."""
    code = re.sub(r"[\s\-_]", "", (text or "").upper())
    if len(code) != length or any(ch not in CODE_ALPHABET for ch in code):
        return None
    return code


def show_code(code: str) -> str:
    """A code in groups of three, easy to read out."""
    return "-".join(code[i : i + 3] for i in range(0, len(code), 3))


def parse_field(field: str, text: str | None) -> Any:
    """A catalog field typed by an admin."""
    if field in ("name_zh", "name_en"):
        return clean_text(text, max_len=NAME_MAX)
    if field in ("description_zh", "description_en"):
        value = (text or "").strip()
        if not value:
            raise InvalidInput("input.empty")
        if len(value) > DESCRIPTION_MAX:
            raise InvalidInput("input.too_long", max=DESCRIPTION_MAX, length=len(value))
        return value
    low, high = LIMITS[field]
    value = ungroup((text or "").strip())
    if not re.fullmatch(r"\d{1,7}", value) or not low <= int(value) <= high:
        raise InvalidInput("rewards.bad_number", low=low, high=high)
    return int(value)


class WrongCodes:
    """How many voucher codes each user looked up in vain within the last ``window``.

    A voucher code is all a desk needs, so guessing codes must stay slow. The count lives in
    memory: losing it at a restart gives a guesser one more window, which does not matter.
    """

    def __init__(self, clock: Clock, *, limit: int, window: timedelta) -> None:
        self.clock = clock
        self.limit = limit
        self.window = window
        self._misses: dict[int, deque[datetime]] = {}

    def wait(self, telegram_id: int) -> timedelta | None:
        """How long this user must wait before looking up another code; None: not at all."""
        misses = self._recent(telegram_id)
        if len(misses) < self.limit:
            return None
        return misses[0] + self.window - self.clock.now()

    def miss(self, telegram_id: int) -> None:
        """Count a lookup that found no voucher this user may see."""
        if len(self._misses) > 1000:
            # Forget those who stopped guessing, so the map stays as small as the guessing.
            for stale in [user for user in self._misses if not self._recent(user)]:
                self._misses.pop(stale, None)
        self._misses.setdefault(telegram_id, deque()).append(self.clock.now())

    def _recent(self, telegram_id: int) -> deque[datetime]:
        misses = self._misses.get(telegram_id, deque())
        since = self.clock.now() - self.window
        while misses and misses[0] <= since:
            misses.popleft()
        return misses


class RewardService:
    def __init__(
        self,
        *,
        rewards: RewardRepository,
        points: PointsRepository,
        reminders: ReminderService,
        clock: Clock,
    ) -> None:
        self.rewards = rewards
        self.points = points
        self.reminders = reminders
        self.clock = clock
        self.wrong_codes = WrongCodes(clock, limit=WRONG_CODES_PER_HOUR, window=timedelta(hours=1))

    @staticmethod
    def _admin(actor: Viewer) -> None:
        if not actor.is_admin:
            raise NotAllowed

    async def add(self, actor: Viewer, values: dict[str, Any]) -> Reward:
        """Put a reward in the catalog (admins)."""
        self._admin(actor)
        checked = {
            key: parse_field(key, str(value)) if key != "station_id" else value
            for key, value in values.items()
        }
        return await self.rewards.add(checked, by=actor.telegram_id, now=self.clock.now())

    async def edit(self, actor: Viewer, reward_id: int, field: str, value: Any) -> Reward:
        """Change one field of a reward (admins)."""
        self._admin(actor)
        if field != "station_id":
            value = parse_field(field, str(value))
        reward = await self.rewards.update(
            reward_id, {field: value}, by=actor.telegram_id, now=self.clock.now()
        )
        if reward is None:
            raise InvalidInput("common.stale_button")
        return reward

    async def set_active(self, actor: Viewer, reward_id: int, active: bool) -> Reward:
        """Retire a reward from the catalog, or bring it back (admins)."""
        self._admin(actor)
        reward = await self.rewards.update(
            reward_id, {"active": int(active)}, by=actor.telegram_id, now=self.clock.now()
        )
        if reward is None:
            raise InvalidInput("common.stale_button")
        return reward

    async def redeem(
        self, talent_id: int, reward_id: int, *, press: Press | None = None
    ) -> tuple[RedeemOutcome, Voucher | None, int]:
        """Buy a reward with points; a second ``press`` of the same button raises AlreadyDone."""
        for _ in range(5):
            try:
                return await self.rewards.redeem(
                    reward_id, talent_id, code=new_code(), now=self.clock.now(), press=press
                )
            except sqlite3.IntegrityError as exc:
                # Two equal codes in 2^44 is rare, but a retry costs nothing.
                if "vouchers.code" not in str(exc):
                    raise
        raise RuntimeError("could not find a free voucher code")

    @staticmethod
    def may_verify(actor: Viewer, reward: Reward) -> bool:
        """Partners and coordinators of the reward's station, and admins."""
        if actor.is_admin:
            return True
        return any(
            role.station_id == reward.station_id
            and role.role in (RoleName.PARTNER, RoleName.COORDINATOR)
            for role in actor.roles
        )

    @staticmethod
    def is_desk(actor: Viewer) -> bool:
        """Partners, coordinators and admins: people who verify vouchers for someone else."""
        return actor.is_partner or actor.is_coordinator

    async def look_up(self, actor: Viewer, code: str) -> tuple[Voucher, Reward, bool]:
        """A voucher and its reward, and whether ``actor`` may mark it used.

        Its owner may look at it; anyone else needs to be allowed to verify it. Anyone else
        who is not at a desk learns nothing, not even whether the code exists: an unknown code
        and someone else's get the same answer. Every such miss counts towards the user's
        limit of wrong codes an hour (admins, who see every voucher anyway, have none).
        """
        if not actor.is_admin:
            wait = self.wrong_codes.wait(actor.telegram_id)
            if wait is not None:
                raise InvalidInput(
                    "rewards.too_many_wrong", minutes=ceil(wait / timedelta(minutes=1))
                )
        voucher = await self.rewards.voucher(code)
        reward = await self.rewards.get(voucher.reward_id) if voucher is not None else None
        owner = (
            voucher is not None
            and actor.talent is not None
            and (actor.talent.id == voucher.talent_id)
        )
        may = reward is not None and self.may_verify(actor, reward)
        if voucher is None or reward is None or not (owner or may):
            self.wrong_codes.miss(actor.telegram_id)
            if not self.is_desk(actor):
                raise InvalidInput("rewards.not_yours")
            if voucher is None:
                raise InvalidInput("rewards.unknown_code")
            raise NotAllowed
        return voucher, reward, may

    async def use(self, actor: Viewer, code: str, *, press: Press | None = None) -> UseOutcome:
        """Mark a voucher used at the desk, once."""
        voucher, _, may = await self.look_up(actor, code)
        if not may:
            raise NotAllowed
        return await self.rewards.use(
            voucher.code, by=actor.telegram_id, now=self.clock.now(), press=press
        )

    async def cancel(self, actor: Viewer, voucher_id: int, *, press: Press | None = None) -> bool:
        """Cancel a valid voucher (admins): points back, stock back, once; the talent is told."""
        self._admin(actor)
        done = await self.rewards.close(
            voucher_id, "cancelled", by=actor.telegram_id, now=self.clock.now(), press=press
        )
        voucher = await self.rewards.voucher_by_id(voucher_id) if done else None
        if voucher is not None:
            await self._tell_refund(voucher)
        return done

    async def expire_due(self) -> int:
        """Expire vouchers past their date, refunding each once and telling its talent."""
        expired = await self.rewards.expire_due(now=self.clock.now())
        for voucher in expired:
            await self._tell_refund(voucher)
        return len(expired)

    async def _tell_refund(self, voucher: Voucher) -> None:
        await self.reminders.notify(
            voucher.talent_id,
            subject="voucher",
            subject_id=voucher.id,
            kind="refund",
            text_key=REFUND_NOTICES[voucher.status],
            params={
                "reward": voucher.reward_names(),
                "code": show_code(voucher.code),
                "points": voucher.cost,
                "balance": await self.points.balance(voucher.talent_id),
            },
        )

    @staticmethod
    def stations_for_statement(actor: Viewer) -> list[int] | None:
        """Whose statements ``actor`` may see; None: every partner's (admins)."""
        if actor.is_admin:
            return None
        return sorted({r.station_id for r in actor.roles if r.role == RoleName.PARTNER})

    async def statement(
        self, actor: Viewer, station_id: int, year: int, month: int, tz: ZoneInfo
    ) -> list[dict]:
        """The vouchers of a partner used in a month (local time), for settlement."""
        allowed = self.stations_for_statement(actor)
        if allowed is not None and station_id not in allowed:
            raise NotAllowed
        start = datetime(year, month, 1, tzinfo=tz)
        end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=tz)
        return await self.rewards.used_in(station_id, start=start, end=end)
