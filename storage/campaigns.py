"""Produce campaigns, the pledges talents make to them, and each person's progress message."""

from __future__ import annotations

from datetime import datetime

from storage.database import Database, utc_text
from storage.models import Row
from storage.presses import Press, spend

WAYS = ("buy", "sell")


class Campaign(Row):
    id: int
    station_id: int | None = None
    product: str
    unit: str
    goal: int
    price_minor: int
    pickup: str
    contact: str
    closes_at: datetime
    status: str
    created_by: int
    created_locale: str = "zh"
    created_at: datetime
    closed_at: datetime | None = None
    closed_by: int | None = None


class Totals(Row):
    """What a campaign has been pledged so far."""

    buy: int = 0
    sell: int = 0
    people: int = 0

    @property
    def quantity(self) -> int:
        return self.buy + self.sell


class PledgeLine(Row):
    """One line of the list a seller fulfils."""

    talent_id: int
    name: str | None = None
    phone: str | None = None
    way: str
    quantity: int
    updated_at: datetime


class View(Row):
    campaign_id: int
    telegram_id: int
    message_id: int
    locale: str = "zh"


class PledgedFigures(Row):
    """Quantity pledged to one campaign, for reports."""

    campaign_id: int
    station_id: int | None = None
    product: str
    unit: str
    goal: int
    quantity: int
    people: int


class CampaignRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(
        self,
        *,
        station_id: int | None,
        product: str,
        unit: str,
        goal: int,
        price_minor: int,
        pickup: str,
        contact: str,
        closes_at: datetime,
        created_by: int,
        created_locale: str,
        now: datetime,
        press: Press | None = None,
    ) -> Campaign:
        """Open a campaign (once per press of the confirm button)."""
        async with self.db.transaction() as tx:
            await spend(tx, press, now=now)
            campaign_id = await tx.execute(
                "INSERT INTO campaigns (station_id, product, unit, goal, price_minor, pickup,"
                " contact, closes_at, created_by, created_locale, created_at) VALUES (:station,"
                " :product, :unit, :goal, :price, :pickup, :contact, :closes, :by, :locale,"
                " :now)",
                {
                    "station": station_id,
                    "product": product,
                    "unit": unit,
                    "goal": goal,
                    "price": price_minor,
                    "pickup": pickup,
                    "contact": contact,
                    "closes": utc_text(closes_at),
                    "by": created_by,
                    "locale": created_locale,
                    "now": utc_text(now),
                },
            )
        campaign = await self.get(campaign_id)
        assert campaign is not None
        return campaign

    async def get(self, campaign_id: int) -> Campaign | None:
        row = await self.db.fetch_one("SELECT * FROM campaigns WHERE id = ?", (campaign_id,))
        return Campaign.model_validate(dict(row)) if row else None

    async def open_for(self, station_ids: list[int] | None, *, limit: int = 20) -> list[Campaign]:
        """Open campaigns of these stations and the city-wide ones (None: every campaign)."""
        if station_ids is None:
            rows = await self.db.fetch_all(
                "SELECT * FROM campaigns WHERE status = 'open' ORDER BY closes_at LIMIT ?",
                (limit,),
            )
        else:
            marks = ",".join("?" * len(station_ids)) or "NULL"
            rows = await self.db.fetch_all(
                "SELECT * FROM campaigns WHERE status = 'open'"
                f" AND (station_id IS NULL OR station_id IN ({marks}))"
                " ORDER BY closes_at LIMIT ?",
                (*station_ids, limit),
            )
        return [Campaign.model_validate(dict(row)) for row in rows]

    async def due(self, *, now: datetime) -> list[Campaign]:
        """Open campaigns whose closing time has come."""
        # This and ``stale_views`` run every few seconds from a job: they read through the
        # writer, so that a poll never holds the shared reader's snapshot open while a handler
        # writes a row and reads it back there.
        async with self.db.transaction() as tx:
            rows = await tx.fetch_all(
                "SELECT * FROM campaigns WHERE status = 'open' AND closes_at <= ?",
                (utc_text(now),),
            )
        return [Campaign.model_validate(dict(row)) for row in rows]

    async def close(
        self, campaign_id: int, *, by: int | None, now: datetime, press: Press | None = None
    ) -> bool:
        """Close an open campaign; False when it was closed already (nothing changes)."""
        async with self.db.transaction() as tx:
            await spend(tx, press, now=now)
            closed = await tx.execute_rowcount(
                "UPDATE campaigns SET status = 'closed', closed_at = :now, closed_by = :by"
                " WHERE id = :id AND status = 'open'",
                {"id": campaign_id, "by": by, "now": utc_text(now)},
            )
            if closed:
                await tx.execute(
                    "UPDATE campaign_views SET dirty = 1 WHERE campaign_id = ?", (campaign_id,)
                )
        return bool(closed)

    async def pledge(
        self, campaign_id: int, talent_id: int, way: str, quantity: int, *, now: datetime
    ) -> bool:
        """Set a talent's pledge (0 withdraws it) while the campaign is open; False if closed.

        The pledge and the marking of everyone's progress message as out of date are one
        transaction, so no change is ever left unshown.
        """
        async with self.db.transaction() as tx:
            row = await tx.fetch_one(
                "SELECT status FROM campaigns WHERE id = ? AND status = 'open' AND closes_at > ?",
                (campaign_id, utc_text(now)),
            )
            if row is None:
                return False
            if quantity == 0:
                await tx.execute(
                    "DELETE FROM pledges WHERE campaign_id = ? AND talent_id = ? AND way = ?",
                    (campaign_id, talent_id, way),
                )
            else:
                await tx.execute(
                    "INSERT INTO pledges (campaign_id, talent_id, way, quantity, created_at,"
                    " updated_at) VALUES (:c, :t, :way, :q, :now, :now)"
                    " ON CONFLICT (campaign_id, talent_id, way)"
                    " DO UPDATE SET quantity = excluded.quantity,"
                    " updated_at = excluded.updated_at",
                    {"c": campaign_id, "t": talent_id, "way": way, "q": quantity,
                     "now": utc_text(now)},
                )  # fmt: skip
            await tx.execute(
                "UPDATE campaign_views SET dirty = 1 WHERE campaign_id = ?", (campaign_id,)
            )
        return True

    async def pledges_of(self, campaign_id: int, talent_id: int) -> dict[str, int]:
        """A talent's pledges to a campaign, by way."""
        rows = await self.db.fetch_all(
            "SELECT way, quantity FROM pledges WHERE campaign_id = ? AND talent_id = ?",
            (campaign_id, talent_id),
        )
        return {row[0]: row[1] for row in rows}

    async def totals(self, campaign_id: int) -> Totals:
        row = await self.db.fetch_one(
            "SELECT coalesce(sum(CASE way WHEN 'buy' THEN quantity END), 0) AS buy,"
            " coalesce(sum(CASE way WHEN 'sell' THEN quantity END), 0) AS sell,"
            " count(DISTINCT talent_id) AS people FROM pledges WHERE campaign_id = ?",
            (campaign_id,),
        )
        return Totals.model_validate(dict(row)) if row else Totals()

    async def lines(self, campaign_id: int) -> list[PledgeLine]:
        """Every pledge with the talent's name and phone, for the seller's list."""
        rows = await self.db.fetch_all(
            "SELECT p.talent_id, t.name, t.phone, p.way, p.quantity, p.updated_at"
            " FROM pledges p JOIN talents t ON t.id = p.talent_id"
            " WHERE p.campaign_id = ? ORDER BY p.way, p.created_at, p.talent_id",
            (campaign_id,),
        )
        return [PledgeLine.model_validate(dict(row)) for row in rows]

    async def pledgers(self, campaign_id: int) -> list[tuple[int, int]]:
        """Each talent who pledged, with the quantity they pledged in all."""
        rows = await self.db.fetch_all(
            "SELECT talent_id, sum(quantity) FROM pledges WHERE campaign_id = ?"
            " GROUP BY talent_id ORDER BY talent_id",
            (campaign_id,),
        )
        return [(row[0], row[1]) for row in rows]

    # -- progress messages ----------------------------------------------------------------------

    async def keep_view(
        self, campaign_id: int, telegram_id: int, message_id: int, *, locale: str, now: datetime
    ) -> int | None:
        """Remember the person's progress message; return the one it replaces, if any."""
        async with self.db.transaction() as tx:
            old = await tx.fetch_one(
                "SELECT message_id FROM campaign_views WHERE campaign_id = ? AND telegram_id = ?",
                (campaign_id, telegram_id),
            )
            await tx.execute(
                "INSERT INTO campaign_views (campaign_id, telegram_id, message_id, locale, dirty,"
                " edited_at) VALUES (:c, :who, :m, :locale, 0, :now) ON CONFLICT (campaign_id,"
                " telegram_id) DO UPDATE SET message_id = excluded.message_id, dirty = 0,"
                " locale = excluded.locale, edited_at = excluded.edited_at",
                {
                    "c": campaign_id,
                    "who": telegram_id,
                    "m": message_id,
                    "locale": locale,
                    "now": utc_text(now),
                },
            )
        return old[0] if old and old[0] != message_id else None

    async def view_of(self, campaign_id: int, telegram_id: int) -> View | None:
        row = await self.db.fetch_one(
            "SELECT campaign_id, telegram_id, message_id FROM campaign_views"
            " WHERE campaign_id = ? AND telegram_id = ?",
            (campaign_id, telegram_id),
        )
        return View.model_validate(dict(row)) if row else None

    async def stale_views(self, *, edited_before: datetime, limit: int = 200) -> list[View]:
        """Progress messages out of date and not edited in the last few seconds."""
        async with self.db.transaction() as tx:
            rows = await tx.fetch_all(
                "SELECT campaign_id, telegram_id, message_id, locale FROM campaign_views"
                " WHERE dirty = 1 AND edited_at <= ? ORDER BY edited_at LIMIT ?",
                (utc_text(edited_before), limit),
            )
        return [View.model_validate(dict(row)) for row in rows]

    async def shown(self, view: View, *, now: datetime) -> None:
        """The message was edited to the figures of now."""
        await self.db.execute(
            "UPDATE campaign_views SET dirty = 0, edited_at = :now"
            " WHERE campaign_id = :c AND telegram_id = :who AND message_id = :m",
            {"c": view.campaign_id, "who": view.telegram_id, "m": view.message_id,
             "now": utc_text(now)},
        )  # fmt: skip

    async def forget_view(self, view: View) -> None:
        """The message is gone (deleted, or the person blocked the bot): stop editing it."""
        await self.db.execute(
            "DELETE FROM campaign_views WHERE campaign_id = ? AND telegram_id = ?"
            " AND message_id = ?",
            (view.campaign_id, view.telegram_id, view.message_id),
        )

    # -- reports --------------------------------------------------------------------------------

    async def pledged(
        self, station_id: int | None, *, start: datetime, end: datetime
    ) -> list[PledgedFigures]:
        """Quantity pledged per campaign opened in [start, end), of one station or all."""
        scope = "" if station_id is None else " AND c.station_id = :station"
        rows = await self.db.fetch_all(
            "SELECT c.id AS campaign_id, c.station_id, c.product, c.unit, c.goal,"
            " coalesce(sum(p.quantity), 0) AS quantity,"
            " count(DISTINCT p.talent_id) AS people"
            " FROM campaigns c LEFT JOIN pledges p ON p.campaign_id = c.id"
            " WHERE c.created_at >= :start AND c.created_at < :end" + scope +
            " GROUP BY c.id ORDER BY c.created_at, c.id",
            {"station": station_id, "start": utc_text(start), "end": utc_text(end)},
        )  # fmt: skip
        return [PledgedFigures.model_validate(dict(row)) for row in rows]
