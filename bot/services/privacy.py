"""A talent's rights over their data: a copy of everything stored (/mydata), and erasure."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.clock import Clock
from bot.services.activities import ActivityService
from storage.database import utc_text
from storage.privacy import Erasure, PrivacyRepository

EXPORT_FORMAT = "talentbot personal data, version 1"


@dataclass(frozen=True, slots=True)
class ExportSummary:
    """The figures of an export, for the message that comes with the file."""

    roles: int
    signups: int
    checkins: int
    hours: float
    ledger_entries: int
    balance: int
    vouchers: int
    notifications_off: int
    reminders: int


class PrivacyService:
    def __init__(
        self, *, privacy: PrivacyRepository, activities: ActivityService, clock: Clock
    ) -> None:
        self.privacy = privacy
        self.activities = activities
        self.clock = clock

    async def export(self, talent_id: int) -> dict[str, Any] | None:
        """Everything stored about the talent; None when nothing is (no row, or deleted)."""
        data = await self.privacy.export(talent_id)
        if not data:
            return None
        return {"format": EXPORT_FORMAT, "exported_at": utc_text(self.clock.now()), **data}

    @staticmethod
    def export_file(data: dict[str, Any]) -> bytes:
        """The export as a file a person can open and read: indented UTF-8 JSON."""
        return json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")

    @staticmethod
    def summary(data: dict[str, Any]) -> ExportSummary:
        """The figures a talent sees next to the file."""
        return ExportSummary(
            roles=len(data["roles"]),
            signups=len(data["signups"]),
            checkins=len(data["attendance"]),
            hours=sum(row["hours"] for row in data["attendance"]),
            ledger_entries=len(data["ledger"]),
            balance=data["points_balance"],
            vouchers=len(data["vouchers"]),
            notifications_off=len(data["notifications_turned_off"]),
            reminders=len(data["reminders"]),
        )

    async def erase(self, talent_id: int) -> Erasure | None:
        """Erase the talent's personal data (one transaction); None when already gone.

        Whoever moves up from a waitlist into the place the talent held gets their reminders;
        telling them is the caller's, which can reach them.
        """
        erasure = await self.privacy.erase(talent_id, now=self.clock.now())
        if erasure is not None:
            for activity_id, promoted in erasure.promoted:
                await self.activities.moved_up(activity_id, promoted)
        return erasure
