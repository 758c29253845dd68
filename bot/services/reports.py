"""Reports for the talent office: periods and seasons, the figures per station, funding rules.

Who counts where:
- talents (registered, new, in the city) by their home station;
- activities, signups, check-ins, engaged talents and service hours by the activity's station;
- points by the talent's home station (a balance belongs to the talent);
- vouchers by the partner whose reward it was.
Station 0 holds what belongs to none: city-wide activities and talents without a station.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

from babel.numbers import list_currencies

from bot.clock import Clock
from bot.services.errors import InvalidInput, NotAllowed
from bot.services.kinds import ACTIVITY_KINDS
from bot.services.people import Viewer
from bot.timeparse import read_range
from storage.campaigns import CampaignRepository, PledgedFigures
from storage.models import Station, StationKind
from storage.reports import (
    NO_STATION,
    ActivityFigures,
    FundingRate,
    ReportRepository,
    TalentLine,
    VoucherFigures,
    Window,
)
from storage.stations import StationRepository

CUSTOM_MAX_DAYS = 400  # a season and a little: longer spans make a chart nobody can read
RATE_MAX = Decimal("1000000")
TALENT_PAGE = 5_000  # talent ids per query of the talents sheet
CENT = Decimal("0.01")


class PeriodKind(StrEnum):
    THIS_MONTH = "tm"
    LAST_MONTH = "lm"
    THIS_SEASON = "ts"
    LAST_SEASON = "ls"
    DATES = "d"


@dataclass(frozen=True, slots=True)
class Period:
    """Calendar days from ``first`` to ``last``, both included, in the programme's zone."""

    first: date
    last: date
    kind: str = PeriodKind.DATES

    def bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """[start, end) as UTC moments: local midnight of the first day to after the last."""
        start = datetime.combine(self.first, time(0), tzinfo=tz).astimezone(UTC)
        end = datetime.combine(self.last + timedelta(days=1), time(0), tzinfo=tz)
        return start, end.astimezone(UTC)

    @property
    def is_month(self) -> bool:
        """It is one whole calendar month."""
        return self.first.day == 1 and _month_after(self.first) - timedelta(days=1) == self.last

    @property
    def slug(self) -> str:
        """A name for files: ``2026-11``, ``season-2026-2027`` or ``2026-12-01_2027-01-31``."""
        if self.kind in (PeriodKind.THIS_SEASON, PeriodKind.LAST_SEASON):
            return f"season-{self.first.year}-{self.last.year}"
        if self.is_month:
            return f"{self.first:%Y-%m}"
        return f"{self.first.isoformat()}_{self.last.isoformat()}"

    def weeks(self) -> list[date]:
        """The Mondays of the weeks the period touches."""
        monday = self.first - timedelta(days=self.first.weekday())
        return [monday + timedelta(weeks=i) for i in range((self.last - monday).days // 7 + 1)]


def _month_after(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def month_of(day: date) -> Period:
    """The calendar month ``day`` is in."""
    first = day.replace(day=1)
    return Period(first, _month_after(first) - timedelta(days=1), PeriodKind.THIS_MONTH)


def season_of(day: date, month_day: tuple[int, int]) -> Period:
    """The programme's season ``day`` is in: from its start day to the day before a year on."""
    month, mday = month_day
    first = date(day.year, month, mday)
    if day < first:
        first = date(day.year - 1, month, mday)
    last = date(first.year + 1, month, mday) - timedelta(days=1)
    return Period(first, last, PeriodKind.THIS_SEASON)


def resolve_period(kind: str, *, today: date, month_day: tuple[int, int]) -> Period:
    """This or last month or season, as of ``today``."""
    if kind == PeriodKind.THIS_MONTH:
        return month_of(today)
    if kind == PeriodKind.LAST_MONTH:
        return replace(month_of(today.replace(day=1) - timedelta(days=1)), kind=kind)
    if kind == PeriodKind.THIS_SEASON:
        return season_of(today, month_day)
    if kind == PeriodKind.LAST_SEASON:
        this = season_of(today, month_day)
        return replace(season_of(this.first - timedelta(days=1), month_day), kind=kind)
    raise InvalidInput("common.stale_button")


def custom_period(first: date, last: date) -> Period:
    """Two typed days, in order, not too far apart."""
    if last < first:
        raise InvalidInput("reports.dates_backwards")
    if (last - first).days + 1 > CUSTOM_MAX_DAYS:
        raise InvalidInput("reports.dates_too_long", days=CUSTOM_MAX_DAYS)
    return Period(first, last, PeriodKind.DATES)


def parse_dates(text: str | None, *, today: date) -> Period:
    """Two days typed in either language ("2026-12-01 to 2027-01-31", "12月1日到1月31日")."""
    parsed = read_range(text or "", today=today)
    if parsed is None:
        raise InvalidInput("reports.bad_dates")
    # No need to ask back about a guessed year: the report's title spells out the period.
    return custom_period(*parsed.value)


def hours_of(centi: int) -> Decimal:
    """Hundredths of an hour as exact hours."""
    return Decimal(centi) / 100


@dataclass(frozen=True, slots=True)
class Funding:
    """What a station is paid for the period, and how."""

    engaged: int
    hours: Decimal
    per_talent: Decimal
    per_hour: Decimal
    currency: str

    @property
    def amount(self) -> Decimal:
        """Engaged talents times the rate per talent, plus hours times the rate per hour."""
        total = self.engaged * self.per_talent + self.hours * self.per_hour
        return total.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(slots=True)
class Figures:
    """One row of the report: a station, what belongs to none (id 0), or the total (id -1)."""

    station_id: int
    name_zh: str = ""
    name_en: str = ""
    kind: StationKind | None = None
    registered: int = 0
    new: int = 0
    present: int = 0
    engaged: int = 0
    held: dict[str, int] = field(default_factory=dict)
    cancelled: int = 0
    signups: int = 0
    attended: int = 0
    walk_ins: int = 0
    no_shows: int = 0
    hours_centi: int = 0
    points_earned: int = 0
    points_adjusted: int = 0
    points_redeemed: int = 0
    points_refunded: int = 0
    points_outstanding: int = 0
    vouchers_used: int = 0
    voucher_points: int = 0
    funding: Funding | None = None
    funding_amount: Decimal = Decimal("0.00")

    def name(self, locale: str) -> str:
        """The row's name in ``locale`` (empty for the two rows the renderer names)."""
        return self.name_zh if locale == "zh" else self.name_en

    @property
    def activities_held(self) -> int:
        """Activities held, of every kind."""
        return sum(self.held.values())

    @property
    def hours(self) -> Decimal:
        """Service hours, corrections applied."""
        return hours_of(self.hours_centi)

    @property
    def hours_per_engaged(self) -> Decimal:
        """Service hours per engaged talent (0 when nobody was engaged)."""
        if not self.engaged:
            return Decimal("0.00")
        return (self.hours / self.engaged).quantize(CENT, rounding=ROUND_HALF_UP)

    def has_figures(self) -> bool:
        """Whether anything at all was counted for it."""
        numbers = (
            self.registered, self.engaged, self.activities_held, self.cancelled, self.attended,
            self.hours_centi, self.points_earned, self.points_adjusted, self.points_redeemed,
            self.points_refunded, self.points_outstanding, self.vouchers_used, self.signups,
        )  # fmt: skip
        return any(numbers)


TOTAL = -1
_SUMMED = (
    "registered", "new", "present", "cancelled", "signups", "attended", "walk_ins",
    "no_shows", "hours_centi", "points_earned", "points_adjusted", "points_redeemed",
    "points_refunded", "points_outstanding", "vouchers_used", "voucher_points",
    "funding_amount",
)  # fmt: skip


@dataclass(slots=True)
class Report:
    """Everything a report shows, computed once and rendered as text, chart and spreadsheet."""

    period: Period
    station_id: int | None  # None: every station
    window: Window
    rows: list[Figures]
    total: Figures
    activities: list[ActivityFigures]
    vouchers: list[VoucherFigures]
    weeks: list[date]
    hours_by_week: dict[int, list[int]]  # station id -> hundredths of an hour per week
    currency: str
    generated_at: datetime
    stations: dict[int, Station]
    # Produce campaigns opened in the period, with the quantity pledged to each.
    campaigns: list[PledgedFigures] = field(default_factory=list)

    def station_name(self, station_id: int, locale: str) -> str | None:
        """A station's name, or None for what belongs to none."""
        station = self.stations.get(station_id)
        return station.name(locale) if station else None


def parse_amount(text: str | None) -> int:
    """A rate typed by an admin, like ``200``, ``12.5`` or ``0``; in minor units (fen)."""
    value = (text or "").strip().replace(",", "").replace("，", "")
    if not re.fullmatch(r"\d{1,7}(\.\d{1,2})?", value) or Decimal(value) > RATE_MAX:
        raise InvalidInput("reports.bad_amount", max=int(RATE_MAX))
    return int(Decimal(value) * 100)


def parse_currency(text: str | None) -> str:
    """A three-letter currency code Babel knows, like CNY."""
    value = (text or "").strip().upper()
    if value not in list_currencies():
        raise InvalidInput("reports.bad_currency")
    return value


class ReportService:
    def __init__(
        self,
        *,
        reports: ReportRepository,
        stations: StationRepository,
        clock: Clock,
        tz: ZoneInfo,
        season_start: tuple[int, int],
        campaigns: CampaignRepository | None = None,
    ) -> None:
        self.campaigns = campaigns
        self.reports = reports
        self.stations = stations
        self.clock = clock
        self.tz = tz
        self.season_start = season_start

    # -- who may see what ----------------------------------------------------------------------

    @staticmethod
    def stations_of(viewer: Viewer) -> list[int] | None:
        """The stations whose reports ``viewer`` may see; None: all of them (admins)."""
        if viewer.is_admin:
            return None
        return sorted(set(viewer.stations_where_coordinator()))

    def check(self, viewer: Viewer, station_id: int | None) -> None:
        """Refuse a report the viewer may not see: all stations need an admin."""
        allowed = self.stations_of(viewer)
        if allowed is None:
            return
        if station_id is None or station_id not in allowed:
            raise NotAllowed

    # -- periods -------------------------------------------------------------------------------

    def today(self) -> date:
        """Today in the programme's zone."""
        return self.clock.now().astimezone(self.tz).date()

    def period(self, kind: str) -> Period:
        """This or last month or season, as of today."""
        return resolve_period(kind, today=self.today(), month_day=self.season_start)

    def season(self, day: date | None = None) -> Period:
        """The season ``day`` (today by default) is in."""
        return season_of(day or self.today(), self.season_start)

    # -- the report ----------------------------------------------------------------------------

    async def report(self, viewer: Viewer, station_id: int | None, period: Period) -> Report:
        """The report of one station (or all, for admins) over a period."""
        self.check(viewer, station_id)
        if station_id is not None and await self.stations.get(station_id) is None:
            raise InvalidInput("common.stale_button")
        return await self.build(station_id, period)

    def window(self, station_id: int | None, period: Period) -> Window:
        """The query window of a report."""
        start, end = period.bounds(self.tz)
        return Window(
            start=start,
            end=end,
            first_day=period.first,
            last_day=period.last,
            now=self.clock.now(),
            stations=None if station_id is None else (station_id,),
        )

    async def build(self, station_id: int | None, period: Period) -> Report:
        """Compute a report; the caller has checked who may see it."""
        window = self.window(station_id, period)
        stations = {s.id: s for s in await self.stations.list()}
        rates = await self.reports.rates()
        shown = list(stations) if station_id is None else [station_id]
        rows: dict[int, Figures] = {}
        for sid in shown:
            station = stations[sid]
            rows[sid] = Figures(sid, station.name_zh, station.name_en, station.kind)
        rows.setdefault(NO_STATION, Figures(NO_STATION))

        def row(sid: int) -> Figures:
            # A station added or removed while the report runs still lands in a row.
            return rows.setdefault(sid, Figures(sid))

        for counts in await self.reports.talents(window):
            target = row(counts.station_id)
            target.registered, target.new, target.present = (
                counts.registered, counts.new, counts.present,
            )  # fmt: skip
        activities = await self.reports.activities(window)
        now = window.now
        for activity in activities:
            target = row(activity.station_id)
            target.attended += activity.attended
            target.walk_ins += activity.walk_ins
            target.hours_centi += activity.hours_centi
            if not activity.in_period:
                continue
            if activity.status == "cancelled":
                target.cancelled += 1
            elif activity.over:
                target.held[activity.kind] = target.held.get(activity.kind, 0) + 1
                target.signups += activity.signups
                target.no_shows += activity.no_shows
        engaged, engaged_total = await self.reports.engaged(window)
        for sid, count in engaged.items():
            row(sid).engaged = count
        for points in await self.reports.points(window):
            target = row(points.station_id)
            target.points_earned = points.earned
            target.points_adjusted = points.adjusted
            target.points_redeemed = points.redeemed
            target.points_refunded = points.refunded
            target.points_outstanding = points.outstanding
        vouchers = await self.reports.vouchers(window)
        for voucher in vouchers:
            target = row(voucher.station_id)
            target.vouchers_used += voucher.used
            target.voucher_points += voucher.points
        currency = next(iter(rates.values())).currency if rates else "CNY"
        for figures in rows.values():
            rate = rates.get(figures.kind) if figures.kind else None
            if rate is not None:
                figures.funding = funding_of(figures, rate)
                figures.funding_amount = figures.funding.amount
        ordered = [rows[sid] for sid in sorted(rows) if sid != NO_STATION]
        if station_id is None and rows[NO_STATION].has_figures():
            ordered.append(rows[NO_STATION])
        total = Figures(TOTAL)
        for figures in ordered:
            for name in _SUMMED:
                setattr(total, name, getattr(total, name) + getattr(figures, name))
            for kind, count in figures.held.items():
                total.held[kind] = total.held.get(kind, 0) + count
        # A talent engaged at two stations is one talent of the city.
        total.engaged = engaged_total
        weeks = period.weeks()
        return Report(
            period=period,
            station_id=station_id,
            window=window,
            rows=ordered,
            total=total,
            activities=activities,
            vouchers=vouchers,
            weeks=weeks,
            hours_by_week=self._by_week(activities, weeks, [f.station_id for f in ordered]),
            currency=currency,
            generated_at=now,
            stations=stations,
            campaigns=await self._campaigns(station_id, window),
        )

    async def _campaigns(self, station_id: int | None, window: Window) -> list[PledgedFigures]:
        """Quantities pledged to the campaigns opened in the window (none without the table)."""
        if self.campaigns is None:
            return []
        return await self.campaigns.pledged(station_id, start=window.start, end=window.end)

    def _by_week(
        self, activities: list[ActivityFigures], weeks: list[date], shown: list[int]
    ) -> dict[int, list[int]]:
        """Hours per station and week, by the week the activity started in (clamped to the
        period's weeks, so that the weeks add up to the period's hours)."""
        series = {sid: [0] * len(weeks) for sid in shown}
        for activity in activities:
            if not activity.hours_centi or activity.station_id not in series:
                continue
            day = activity.starts_at.astimezone(self.tz).date()
            index = min(max((day - weeks[0]).days // 7, 0), len(weeks) - 1)
            series[activity.station_id][index] += activity.hours_centi
        return series

    async def talent_lines(self, report: Report) -> AsyncIterator[list[TalentLine]]:
        """The talents sheet, a page of talent ids at a time."""
        last = await self.reports.last_talent_id()
        for lo in range(1, last + 1, TALENT_PAGE):
            page = await self.reports.talent_lines(report.window, lo=lo, hi=lo + TALENT_PAGE - 1)
            if page:
                yield page

    # -- funding rates -------------------------------------------------------------------------

    async def rates(self) -> dict[StationKind, FundingRate]:
        """The funding rate of each kind of station."""
        return await self.reports.rates()

    async def set_rate(self, actor: Viewer, kind: StationKind, which: str, text: str) -> None:
        """Set the amount per engaged talent (``talent``) or per hour (``hour``) of a kind."""
        if not actor.is_admin:
            raise NotAllowed
        column = {"talent": "per_talent_minor", "hour": "per_hour_minor"}[which]
        await self.reports.set_rate(
            kind, column, parse_amount(text), by=actor.telegram_id, now=self.clock.now()
        )

    async def set_currency(self, actor: Viewer, text: str) -> str:
        """Set the currency of every rate."""
        if not actor.is_admin:
            raise NotAllowed
        currency = parse_currency(text)
        await self.reports.set_currency(currency, by=actor.telegram_id, now=self.clock.now())
        return currency


def funding_of(figures: Figures, rate: FundingRate) -> Funding:
    """A station's funding: its engaged talents and service hours at its kind's rates."""
    return Funding(
        engaged=figures.engaged,
        hours=figures.hours,
        per_talent=rate.per_talent,
        per_hour=rate.per_hour,
        currency=rate.currency,
    )


def kinds_held(report: Report) -> list[str]:
    """The kinds of activities held in the report, in the catalog's order."""
    return [kind for kind in ACTIVITY_KINDS if report.total.held.get(kind)] + sorted(
        set(report.total.held) - set(ACTIVITY_KINDS)
    )
