"""The figures of the talent office's reports, funding rates, monthly deliveries, certificates.

Every figure is a sum over the attendance table or the ledger, read by id, never through a
talent's personal columns: a talent who erased their data keeps their row id, and their
attendance and points keep counting. Stations are keyed by id, with 0 for what belongs to no
station (city-wide activities, talents without a home station).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

from storage.database import Database, utc_text
from storage.models import Row, StationKind
from storage.points import LATEST_HOURS

NO_STATION = 0
# Hundredths of an hour, as an integer: hours are typed with at most two decimals, so summing
# these is exact where summing the REAL column could drift by a float's last digit.
_CENTI = f"CAST(round(({LATEST_HOURS}) * 100) AS INTEGER)"


class Window(Row):
    """What a report covers: [start, end) in UTC, its calendar days, and the stations.

    ``stations`` None means every station and what belongs to none.
    """

    start: datetime
    end: datetime
    first_day: date
    last_day: date
    now: datetime
    stations: tuple[int, ...] | None = None

    def params(self) -> dict[str, object]:
        """The named parameters every query of this module takes."""
        return {
            "start": utc_text(self.start),
            "end": utc_text(self.end),
            "first_day": self.first_day.isoformat(),
            "last_day": self.last_day.isoformat(),
            "now": utc_text(self.now),
            "all": int(self.stations is None),
            "stations": json.dumps(list(self.stations or ())),
        }


def _in_scope(column: str) -> str:
    return f"(:all OR coalesce({column}, 0) IN (SELECT value FROM json_each(:stations)))"


class TalentCounts(Row):
    station_id: int
    registered: int = 0
    new: int = 0
    present: int = 0


class ActivityFigures(Row):
    """One activity that started in the period, or whose attendance falls in it."""

    id: int
    station_id: int
    kind: str
    title: str
    place: str
    status: str
    starts_at: datetime
    ends_at: datetime
    points: int
    in_period: bool  # it started in the period
    over: bool  # it ended before the report was made
    signups: int  # talents with a place ('going')
    no_shows: int  # of those, who never checked in
    attended: int  # check-ins in the period
    walk_ins: int
    hours_centi: int


class PointsFigures(Row):
    station_id: int
    earned: int = 0
    adjusted: int = 0
    redeemed: int = 0
    refunded: int = 0
    outstanding: int = 0


class VoucherFigures(Row):
    station_id: int  # the partner's
    reward_id: int
    name_zh: str
    name_en: str
    used: int
    points: int


class TalentLine(Row):
    """One talent of the talents sheet: attendance at the report's stations, own points."""

    id: int
    name: str | None = None
    station_id: int
    attended: int = 0
    hours_centi: int = 0
    earned: int | None = None
    adjusted: int | None = None
    redeemed: int | None = None
    refunded: int | None = None
    balance: int | None = None


class FundingRate(Row):
    station_kind: StationKind
    per_talent_minor: int = 0
    per_hour_minor: int = 0
    currency: str = "CNY"
    updated_by: int | None = None
    updated_at: datetime | None = None

    @property
    def per_talent(self) -> Decimal:
        """The amount per engaged talent, in the currency's units."""
        return Decimal(self.per_talent_minor) / 100

    @property
    def per_hour(self) -> Decimal:
        """The amount per service hour."""
        return Decimal(self.per_hour_minor) / 100


class ServiceLine(Row):
    """One activity on a talent's certificate."""

    activity_id: int
    title: str
    station_id: int
    starts_at: datetime
    hours_centi: int


class Certificate(Row):
    id: int
    code: str
    talent_id: int
    station_id: int | None = None
    period_from: date
    period_to: date
    activities: int
    hours_centi: int
    issued_at: datetime
    name: str | None = None  # from the talent's row; None once they erased their data


class ReportRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def installed_at(self) -> datetime | None:
        """When this database was first set up (its first migration), or None."""
        text = await self.db.fetch_value("SELECT min(applied_at) FROM schema_migrations")
        return datetime.fromisoformat(text) if text else None

    async def talents(self, window: Window) -> list[TalentCounts]:
        """Registered by the end, new in the period and in the city during it, per home station."""
        rows = await self.db.fetch_all(
            "SELECT coalesce(station_id, 0) AS station_id, count(*) AS registered,"
            " count(*) FILTER (WHERE registered_at >= :start) AS new,"
            " count(*) FILTER (WHERE stay_from <= :last_day AND stay_to >= :first_day)"
            " AS present"
            " FROM talents WHERE registered_at IS NOT NULL AND registered_at < :end"
            f" AND {_in_scope('station_id')} GROUP BY 1",
            window.params(),
        )
        return [TalentCounts(**dict(row)) for row in rows]

    async def activities(self, window: Window) -> list[ActivityFigures]:
        """Activities that started in the period (drafts aside), and any with a check-in in it.

        Attendance columns count check-ins in the period only, so that their sums are the
        attendance table's sums for the period, whatever day an activity started.
        """
        rows = await self.db.fetch_all(
            "WITH att AS ("
            " SELECT a.activity_id, count(*) AS attended, sum(a.walk_in) AS walk_ins,"
            f" sum({_CENTI}) AS hours_centi"
            " FROM attendance a WHERE a.checked_in_at >= :start AND a.checked_in_at < :end"
            " GROUP BY a.activity_id)"
            " SELECT ac.id, coalesce(ac.station_id, 0) AS station_id, ac.kind, ac.title,"
            " ac.place, ac.status, ac.starts_at, ac.ends_at, ac.points,"
            " (ac.starts_at >= :start AND ac.starts_at < :end) AS in_period,"
            " (ac.ends_at <= :now) AS over,"
            " (SELECT count(*) FROM signups s WHERE s.activity_id = ac.id"
            " AND s.status = 'going') AS signups,"
            " (SELECT count(*) FROM signups s WHERE s.activity_id = ac.id AND s.status = 'going'"
            " AND NOT EXISTS (SELECT 1 FROM attendance t WHERE t.activity_id = s.activity_id"
            " AND t.talent_id = s.talent_id)) AS no_shows,"
            " coalesce(att.attended, 0) AS attended, coalesce(att.walk_ins, 0) AS walk_ins,"
            " coalesce(att.hours_centi, 0) AS hours_centi"
            " FROM activities ac LEFT JOIN att ON att.activity_id = ac.id"
            " WHERE ((ac.starts_at >= :start AND ac.starts_at < :end AND ac.status != 'draft')"
            " OR att.activity_id IS NOT NULL)"
            f" AND {_in_scope('ac.station_id')}"
            " ORDER BY ac.starts_at, ac.id",
            window.params(),
        )
        return [ActivityFigures(**dict(row)) for row in rows]

    async def engaged(self, window: Window) -> tuple[dict[int, int], int]:
        """Talents who checked in at least once in the period: per station, and in all."""
        where = (
            " FROM attendance a JOIN activities ac ON ac.id = a.activity_id"
            " WHERE a.checked_in_at >= :start AND a.checked_in_at < :end"
            f" AND {_in_scope('ac.station_id')}"
        )
        params = window.params()
        rows = await self.db.fetch_all(
            f"SELECT coalesce(ac.station_id, 0), count(DISTINCT a.talent_id){where} GROUP BY 1",
            params,
        )
        total = await self.db.fetch_value(f"SELECT count(DISTINCT a.talent_id){where}", params)
        return {row[0]: row[1] for row in rows}, int(total or 0)

    async def points(self, window: Window) -> list[PointsFigures]:
        """The ledger per home station: movements by kind in the period, balances at its end.

        The ledger is summed per talent first, from an index in talent order, and only the
        per-talent sums meet the talents table.
        """
        rows = await self.db.fetch_all(
            f"WITH per_talent AS ({_PER_TALENT_LEDGER} GROUP BY l.talent_id)"
            " SELECT coalesce(t.station_id, 0) AS station_id,"
            " coalesce(sum(p.earned), 0) AS earned, coalesce(sum(p.adjusted), 0) AS adjusted,"
            " coalesce(sum(p.redeemed), 0) AS redeemed,"
            " coalesce(sum(p.refunded), 0) AS refunded,"
            " coalesce(sum(p.balance), 0) AS outstanding"
            " FROM per_talent p LEFT JOIN talents t ON t.id = p.talent_id"
            f" WHERE {_in_scope('t.station_id')} GROUP BY 1",
            window.params(),
        )
        return [PointsFigures(**dict(row)) for row in rows]

    async def vouchers(self, window: Window) -> list[VoucherFigures]:
        """Vouchers used in the period, per partner and reward."""
        rows = await self.db.fetch_all(
            "SELECT r.station_id, r.id AS reward_id, r.name_zh, r.name_en,"
            " count(*) AS used, sum(v.cost) AS points"
            " FROM vouchers v JOIN rewards r ON r.id = v.reward_id"
            " WHERE v.status = 'used' AND v.used_at >= :start AND v.used_at < :end"
            f" AND {_in_scope('r.station_id')}"
            " GROUP BY r.id ORDER BY r.station_id, r.id",
            window.params(),
        )
        return [VoucherFigures(**dict(row)) for row in rows]

    async def last_talent_id(self) -> int:
        """The highest talent id, where the talents sheet's pages end."""
        return int(await self.db.fetch_value("SELECT coalesce(max(id), 0) FROM talents"))

    async def talent_lines(self, window: Window, *, lo: int, hi: int) -> list[TalentLine]:
        """Talents with ids in [lo, hi] who served at the report's stations in the period, or
        whose home station is one of them and whose points moved in it.

        Pages of ids keep each query to index ranges and the memory to one page.
        """
        home = _in_scope("t.station_id")
        rows = await self.db.fetch_all(
            "WITH att AS ("
            " SELECT a.talent_id, count(*) AS attended,"
            f" sum({_CENTI}) AS hours_centi"
            " FROM attendance a JOIN activities ac ON ac.id = a.activity_id"
            " WHERE a.talent_id BETWEEN :lo AND :hi"
            " AND a.checked_in_at >= :start AND a.checked_in_at < :end"
            f" AND {_in_scope('ac.station_id')} GROUP BY a.talent_id),"
            f" led AS ({_PER_TALENT_LEDGER} AND l.talent_id BETWEEN :lo AND :hi"
            " GROUP BY l.talent_id)"
            " SELECT t.id, t.name, coalesce(t.station_id, 0) AS station_id,"
            " coalesce(att.attended, 0) AS attended,"
            " coalesce(att.hours_centi, 0) AS hours_centi,"
            f" CASE WHEN {home} THEN coalesce(led.earned, 0) END AS earned,"
            f" CASE WHEN {home} THEN coalesce(led.adjusted, 0) END AS adjusted,"
            f" CASE WHEN {home} THEN coalesce(led.redeemed, 0) END AS redeemed,"
            f" CASE WHEN {home} THEN coalesce(led.refunded, 0) END AS refunded,"
            f" CASE WHEN {home} THEN coalesce(led.balance, 0) END AS balance"
            " FROM talents t LEFT JOIN att ON att.talent_id = t.id"
            " LEFT JOIN led ON led.talent_id = t.id"
            " WHERE t.id BETWEEN :lo AND :hi AND (att.talent_id IS NOT NULL"
            f" OR ({home} AND led.moved > 0))"
            " ORDER BY t.id",
            {**window.params(), "lo": lo, "hi": hi},
        )
        # Plain integers and text straight from SQLite: nothing to validate, and a city's
        # 100,000 lines are built faster without it.
        return [TalentLine.model_construct(**dict(row)) for row in rows]

    # -- funding rates --------------------------------------------------------------------------

    async def rates(self) -> dict[StationKind, FundingRate]:
        """The funding rate of each kind of station."""
        rows = await self.db.fetch_all("SELECT * FROM funding_rates")
        return {StationKind(row["station_kind"]): FundingRate(**dict(row)) for row in rows}

    async def set_rate(
        self, kind: StationKind, column: str, minor: int, *, by: int, now: datetime
    ) -> None:
        """Set one amount of a kind's rate, in minor units."""
        if column not in ("per_talent_minor", "per_hour_minor"):
            raise ValueError(f"not a rate column: {column}")
        await self.db.execute(
            f"UPDATE funding_rates SET {column} = :minor, updated_by = :by, updated_at = :now"
            " WHERE station_kind = :kind",
            {"minor": minor, "by": by, "now": utc_text(now), "kind": kind},
        )

    async def set_currency(self, currency: str, *, by: int, now: datetime) -> None:
        """One currency for every kind, so that a city's total is one amount."""
        await self.db.execute(
            "UPDATE funding_rates SET currency = :currency, updated_by = :by, updated_at = :now",
            {"currency": currency, "by": by, "now": utc_text(now)},
        )

    # -- monthly reports ------------------------------------------------------------------------

    async def claim_delivery(
        self, month: str, telegram_id: int, scope: str, *, now: datetime, max_attempts: int
    ) -> bool:
        """Take the monthly report for this recipient to send; False when it is not ours to send.

        A new row is ours; so is one left "sending" by a run that died, or one that failed
        and has tries left. A row sent, or whose recipient blocked the bot, never is again.
        """
        async with self.db.transaction() as tx:
            added = await tx.execute_rowcount(
                "INSERT INTO report_deliveries (month, telegram_id, scope, attempts, created_at)"
                " VALUES (:month, :tg, :scope, 1, :now) ON CONFLICT DO NOTHING",
                {"month": month, "tg": telegram_id, "scope": scope, "now": utc_text(now)},
            )
            if added:
                return True
            retried = await tx.execute_rowcount(
                "UPDATE report_deliveries SET status = 'sending', attempts = attempts + 1"
                " WHERE month = :month AND telegram_id = :tg AND scope = :scope"
                " AND status IN ('sending', 'failed') AND attempts < :max",
                {"month": month, "tg": telegram_id, "scope": scope, "max": max_attempts},
            )
        return retried == 1

    async def settle_delivery(
        self,
        month: str,
        telegram_id: int,
        scope: str,
        status: str,
        *,
        now: datetime,
        error: str | None = None,
    ) -> None:
        """Record how sending went."""
        await self.db.execute(
            "UPDATE report_deliveries SET status = :status, last_error = :error,"
            " sent_at = CASE WHEN :status = 'sent' THEN :now END"
            " WHERE month = :month AND telegram_id = :tg AND scope = :scope",
            {
                "status": status,
                "error": error,
                "now": utc_text(now),
                "month": month,
                "tg": telegram_id,
                "scope": scope,
            },
        )

    async def deliveries(self, month: str) -> list[dict]:
        """What was recorded for a month's reports."""
        rows = await self.db.fetch_all(
            "SELECT telegram_id, scope, status, attempts FROM report_deliveries"
            " WHERE month = ? ORDER BY telegram_id, scope",
            (month,),
        )
        return [dict(row) for row in rows]

    async def coordinators(self) -> list[tuple[int, int, str | None]]:
        """(Telegram id, station, language) of every coordinator."""
        rows = await self.db.fetch_all(
            "SELECT t.telegram_id, r.station_id, t.language FROM roles r"
            " JOIN talents t ON t.id = r.talent_id WHERE r.role = 'coordinator'"
            " ORDER BY t.telegram_id, r.station_id"
        )
        return [(row[0], row[1], row[2]) for row in rows]

    async def language_of(self, telegram_id: int) -> str | None:
        """A user's chosen language, if they have a row."""
        return await self.db.fetch_value(
            "SELECT language FROM talents WHERE telegram_id = ?", (telegram_id,)
        )

    # -- service certificates -------------------------------------------------------------------

    async def service(
        self, talent_id: int, *, start: datetime, end: datetime
    ) -> list[ServiceLine]:
        """A talent's check-ins in [start, end), with the hours that count."""
        rows = await self.db.fetch_all(
            "SELECT a.activity_id, ac.title, coalesce(ac.station_id, 0) AS station_id,"
            f" ac.starts_at, {_CENTI} AS hours_centi"
            " FROM attendance a JOIN activities ac ON ac.id = a.activity_id"
            " WHERE a.talent_id = :talent AND a.checked_in_at >= :start"
            " AND a.checked_in_at < :end ORDER BY ac.starts_at, a.id",
            {"talent": talent_id, "start": utc_text(start), "end": utc_text(end)},
        )
        return [ServiceLine(**dict(row)) for row in rows]

    async def issue(
        self,
        *,
        code: str,
        talent_id: int,
        station_id: int | None,
        period: tuple[date, date],
        activities: int,
        hours_centi: int,
        now: datetime,
    ) -> Certificate:
        """Record an issued certificate."""
        await self.db.execute(
            "INSERT INTO certificates (code, talent_id, station_id, period_from, period_to,"
            " activities, hours_centi, issued_at)"
            " VALUES (:code, :talent, :station, :from, :to, :activities, :hours, :now)",
            {
                "code": code,
                "talent": talent_id,
                "station": station_id,
                "from": period[0].isoformat(),
                "to": period[1].isoformat(),
                "activities": activities,
                "hours": hours_centi,
                "now": utc_text(now),
            },
        )
        found = await self.certificate(code)
        assert found is not None
        return found

    async def certificate(self, code: str) -> Certificate | None:
        """A certificate by its code, with the holder's name as it is now."""
        row = await self.db.fetch_one(
            "SELECT c.*, t.name FROM certificates c LEFT JOIN talents t ON t.id = c.talent_id"
            " WHERE c.code = ?",
            (code,),
        )
        return None if row is None else Certificate(**dict(row))


# Per talent: points moved in the period by kind, the balance at its end, and how many rows
# moved in it. Read from ledger_talent_time alone. ``:lo``/``:hi`` narrow it to a page.
_PER_TALENT_LEDGER = (
    "SELECT l.talent_id, sum(l.delta) AS balance,"
    " sum(l.delta) FILTER (WHERE l.kind = 'earn' AND l.created_at >= :start) AS earned,"
    " sum(l.delta) FILTER (WHERE l.kind = 'adjust' AND l.created_at >= :start) AS adjusted,"
    " -sum(l.delta) FILTER (WHERE l.kind = 'redeem' AND l.created_at >= :start) AS redeemed,"
    " sum(l.delta) FILTER (WHERE l.kind = 'refund' AND l.created_at >= :start) AS refunded,"
    " count(*) FILTER (WHERE l.created_at >= :start) AS moved"
    " FROM ledger l WHERE l.created_at < :end"
)
