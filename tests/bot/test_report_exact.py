"""Exact reports: a season built by hand, every figure compared with totals computed here.

The scenario is kept as plain Python lists (who checked in where, with which final hours; every
points movement) and the expected figures are computed from those lists, not from SQL. Then
the report's totals are compared with plain sums over the attendance table and the ledger.
"""

from __future__ import annotations

import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import openpyxl
import pytest

from bot.render.report import spreadsheet
from bot.services.activities import ActivityDraft
from bot.services.reports import Period, PeriodKind
from storage.models import StationKind
from tests.support.harness import ADMIN_ID

TZ_HOURS = 8  # Asia/Shanghai


def local(y, m, d, hh=0, mm=0):
    """A moment given in programme time, as UTC."""
    return datetime(y, m, d, hh, mm, tzinfo=UTC) - timedelta(hours=TZ_HOURS)


@dataclass
class Book:
    """What the test itself records while it builds the season."""

    home: dict[int, int] = field(default_factory=dict)  # talent -> home station (0: none)
    registered_at: dict[int, datetime] = field(default_factory=dict)
    stay: dict[int, tuple[date, date]] = field(default_factory=dict)
    # (talent, activity station, activity id, moment, walk-in, final hours)
    checkins: list[tuple[int, int, int, datetime, bool, Decimal]] = field(default_factory=list)
    # (talent, kind, delta, moment)
    ledger: list[tuple[int, str, int, datetime]] = field(default_factory=list)
    # (activity id, station, kind, start, end, status, going talent ids)
    activities: list[tuple[int, int, str, datetime, datetime, str, set[int]]] = field(
        default_factory=list
    )
    vouchers_used: list[tuple[int, datetime, int]] = field(default_factory=list)  # partner
    deleted: set[int] = field(default_factory=set)  # talents who erased their data


class Season:
    def __init__(self, harness):
        self.h = harness
        self.s = harness.services
        self.book = Book()
        self.tokens = {}

    async def admin(self):
        return await self.s.people.viewer(ADMIN_ID, "en")

    async def station(self, name, kind):
        return await self.s.stations.add(
            name_zh=name, name_en=name, kind=kind, created_by=ADMIN_ID, now=self.s.clock.now()
        )

    async def talent(self, tg, station, *, when, stay=(date(2026, 11, 1), date(2027, 3, 31))):
        self.h.clock.set(when)
        talent = await self.s.talents.register(
            tg, language="en", name=f"Talent {tg}", phone=None, expertise=("medicine",),
            title=None, region="Harbin", station_id=station.id if station else None,
            stay_from=stay[0], stay_to=stay[1], consent_at=when, now=when,
        )  # fmt: skip
        self.book.home[talent.id] = station.id if station else 0
        self.book.registered_at[talent.id] = when
        self.book.stay[talent.id] = stay
        return talent

    async def activity(self, station, kind, starts, hours, points, going=()):
        self.h.clock.set(starts - timedelta(days=3))
        admin = await self.admin()
        draft = ActivityDraft(
            station_id=station.id if station else None, city_wide=station is None, kind=kind,
            title=f"{kind} {starts:%m-%d}", place="Hall", starts_at=starts,
            ends_at=starts + timedelta(hours=hours), points=points,
        )  # fmt: skip
        activity = await self.s.activities.create(admin, draft)
        activity, _ = await self.s.activities.publish(admin, activity.id)
        await self.h.outbox.drain()
        for talent in going:
            await self.s.activities.sign_up(talent.id, activity.id, waitlist=False)
        self.book.activities.append(
            [activity.id, station.id if station else 0, kind, activity.starts_at,
             activity.ends_at, "published", {t.id for t in going}]
        )  # fmt: skip
        return activity

    def _activity(self, activity_id):
        return next(a for a in self.book.activities if a[0] == activity_id)

    async def check_in(self, talent, activity, *, manual=False, after=timedelta(minutes=5)):
        when = activity.starts_at + after
        self.h.clock.set(when)
        admin = await self.admin()
        if manual:
            result = await self.s.checkins.manual(admin, activity.id, talent.id)
        else:
            token = await self.s.checkins.code(admin, activity.id)
            result = await self.s.checkins.scan(talent.id, token)
        assert result.outcome == "checked_in"
        record = self._activity(activity.id)
        hours = Decimal(str(round((activity.ends_at - activity.starts_at).seconds / 3600, 2)))
        walk_in = talent.id not in record[6]
        self.book.checkins.append([talent.id, record[1], activity.id, when, walk_in, hours])
        if activity.points:
            self.book.ledger.append((talent.id, "earn", activity.points, when))

    async def correct(self, talent, activity, hours):
        rows = await self.s.points.points.attendance(activity.id)
        row = next(r for r in rows if r.talent_id == talent.id)
        self.h.clock.advance(timedelta(hours=1))
        await self.s.checkins.correct(await self.admin(), row.id, hours, "late arrival")
        for checkin in self.book.checkins:
            if checkin[0] == talent.id and checkin[2] == activity.id:
                checkin[5] = Decimal(str(hours))

    async def cancel(self, activity):
        await self.s.activities.cancel(await self.admin(), activity.id)
        await self.h.outbox.drain()
        self._activity(activity.id)[5] = "cancelled"

    async def adjust(self, talent, delta, when):
        self.h.clock.set(when)
        ok, _ = await self.s.points.adjust(await self.admin(), talent.id, delta, "seed")
        assert ok
        self.book.ledger.append((talent.id, "adjust", delta, when))

    async def redeem(self, talent, reward, when):
        self.h.clock.set(when)
        outcome, voucher, _ = await self.s.rewards.redeem(talent.id, reward.id)
        assert outcome == "redeemed"
        self.book.ledger.append((talent.id, "redeem", -reward.cost, when))
        return voucher

    async def use(self, voucher, reward, when):
        self.h.clock.set(when)
        assert await self.s.rewards.use(await self.admin(), voucher.code) == "used"
        self.book.vouchers_used.append((reward.station_id, when, reward.cost))

    async def refund_by_cancel(self, talent, voucher, cost, when):
        self.h.clock.set(when)
        assert await self.s.rewards.cancel(await self.admin(), voucher.id)
        self.book.ledger.append((talent.id, "refund", cost, when))


# -- a deleted talent ------------------------------------------------------------------------
async def erase_like_deleteme(harness, talent):
    """The talent's own /deleteme: their check-ins, hours and ledger stay and keep counting."""
    assert await harness.services.privacy.erase(talent.id) is not None


# -- the expected figures, computed from the book --------------------------------------------


def expected(book: Book, start: datetime, end: datetime, now: datetime, first: date, last: date):
    """Per station (0: none) and in all, from the lists alone."""
    rows = defaultdict(lambda: defaultdict(int))
    total = defaultdict(int)
    engaged = defaultdict(set)
    for talent, home in book.home.items():
        at = book.registered_at[talent]
        # Someone who erased their data is no longer a registered talent; what they did stays.
        if at < end and talent not in book.deleted:
            rows[home]["registered"] += 1
            rows[home]["new"] += at >= start
            stay_from, stay_to = book.stay[talent]
            rows[home]["present"] += stay_from <= last and stay_to >= first
    for talent, station, _activity, when, walk_in, hours in book.checkins:
        if start <= when < end:
            rows[station]["attended"] += 1
            rows[station]["walk_ins"] += walk_in
            rows[station]["hours"] += hours
            engaged[station].add(talent)
            engaged["all"].add(talent)
    for activity_id, station, kind, starts, ends, status, going in book.activities:
        if not start <= starts < end:
            continue
        if status == "cancelled":
            rows[station]["cancelled"] += 1
        elif ends <= now:
            rows[station][f"held_{kind}"] += 1
            rows[station]["held"] += 1
            rows[station]["signups"] += len(going)
            came = {c[0] for c in book.checkins if c[2] == activity_id}
            rows[station]["no_shows"] += len(going - came)
    for talent, kind, delta, when in book.ledger:
        home = book.home[talent]
        if when < end:
            rows[home]["outstanding"] += delta
        if start <= when < end:
            key = {"earn": "earned", "adjust": "adjusted", "refund": "refunded"}.get(kind)
            if key:
                rows[home][key] += delta
            else:
                rows[home]["redeemed"] += -delta
    for partner, when, _cost in book.vouchers_used:
        if start <= when < end:
            rows[partner]["vouchers"] += 1
    for station, figures in rows.items():
        figures["engaged"] = len(engaged[station])
        for key, value in figures.items():
            total[key] += value
    total["engaged"] = len(engaged["all"])
    return rows, total


def actual(figures):
    values = {
        "registered": figures.registered, "new": figures.new, "present": figures.present,
        "engaged": figures.engaged, "held": figures.activities_held,
        "cancelled": figures.cancelled, "signups": figures.signups,
        "attended": figures.attended, "walk_ins": figures.walk_ins,
        "no_shows": figures.no_shows, "hours": figures.hours,
        "earned": figures.points_earned, "adjusted": figures.points_adjusted,
        "redeemed": figures.points_redeemed, "refunded": figures.points_refunded,
        "outstanding": figures.points_outstanding, "vouchers": figures.vouchers_used,
    }  # fmt: skip
    values.update({f"held_{kind}": count for kind, count in figures.held.items()})
    return {key: value for key, value in values.items() if value}


def clean(figures):
    return {key: value for key, value in figures.items() if value}


@pytest.fixture
async def season(harness):
    s = Season(harness)
    hub = await s.station("Hub", StationKind.COMMUNITY)
    hospital = await s.station("Hospital", StationKind.PROFESSIONAL)
    hotel = await s.station("Hotel", StationKind.COMMUNITY)
    t1 = await s.talent(501, hub, when=local(2026, 9, 20, 10))
    t2 = await s.talent(502, hub, when=local(2026, 11, 26, 10))
    t3 = await s.talent(503, hospital, when=local(2026, 11, 27, 10))
    t4 = await s.talent(504, hospital, when=local(2026, 12, 1, 0, 0))  # first minute of Dec
    t5 = await s.talent(
        505, None, when=local(2026, 12, 15, 10), stay=(date(2027, 2, 1), date(2027, 3, 1))
    )
    t6 = await s.talent(506, hub, when=local(2026, 11, 30, 23, 59))  # last minute of Nov
    await s.talent(507, hospital, when=local(2027, 1, 25, 10))
    # Last season: counts in balances, not in this season's figures.
    old = await s.activity(hub, "lecture", local(2026, 9, 25, 9), 2, 10)
    await s.check_in(t1, old)
    # A hub lecture: two check-ins, one no-show, one walk-in; t2's hours corrected twice.
    a1 = await s.activity(hub, "lecture", local(2026, 12, 5, 9, 30), 2, 10, going=[t1, t2, t3])
    await s.check_in(t1, a1)
    await s.check_in(t2, a1, after=timedelta(minutes=-30))
    await s.check_in(t5, a1)
    await s.correct(t2, a1, 1.5)
    await s.correct(t2, a1, 1.25)
    # A hospital clinic: a check-in by hand, t1 walks in (engaged at two stations).
    a2 = await s.activity(hospital, "clinic", local(2026, 12, 10, 14), 3, 20, going=[t3, t4])
    await s.check_in(t3, a2)
    await s.check_in(t4, a2, manual=True)
    await s.check_in(t1, a2)
    await s.correct(t4, a2, 2.5)
    # Cancelled before it started: its signup counts nowhere.
    a3 = await s.activity(hospital, "clinic", local(2026, 12, 20, 9), 2, 20, going=[t3])
    await s.cancel(a3)
    # A city-wide call in January, one check-in from the talent who will erase their data.
    a4 = await s.activity(None, "volunteer", local(2027, 1, 5, 9), 1.5, 5, going=[t6])
    await s.check_in(t1, a4)
    await s.check_in(t6, a4)
    # Checked in 45 minutes before a start that falls in February: counts where it happened.
    a5 = await s.activity(hospital, "teaching", local(2027, 2, 1, 0, 15), 1, 0)
    await s.check_in(t3, a5, after=timedelta(minutes=-45))
    # Upcoming when the report is made: not held.
    await s.activity(hub, "event", local(2027, 2, 10, 9), 4, 10, going=[t2])
    # Points: rewards used, cancelled (refund) and expired (refund); adjustments.
    admin = await s.admin()
    reward = await s.s.rewards.add(
        admin, {"name_zh": "温泉", "name_en": "Spa", "description_zh": "x",
                "description_en": "x", "station_id": hotel.id, "cost": 15, "stock": 10,
                "per_talent_limit": 0, "valid_days": 5},
    )  # fmt: skip
    used = await s.redeem(t1, reward, local(2027, 1, 10, 10))
    await s.use(used, reward, local(2027, 1, 11, 10))
    cancelled = await s.redeem(t3, reward, local(2026, 12, 12, 10))
    await s.refund_by_cancel(t3, cancelled, 15, local(2026, 12, 13, 10))
    await s.adjust(t2, 20, local(2026, 12, 27, 10))
    await s.redeem(t2, reward, local(2026, 12, 28, 10))
    s.h.clock.set(local(2027, 1, 3, 12))  # five days on: it expires and is refunded
    assert await s.s.rewards.expire_due() == 1
    s.book.ledger.append((t2.id, "refund", 15, s.h.clock.now()))
    await s.adjust(t5, 7, local(2026, 12, 16, 10))
    await s.adjust(t1, -3, local(2027, 1, 12, 10))
    await erase_like_deleteme(harness, t6)
    s.book.deleted.add(t6.id)
    rates = s.s.reports
    await rates.set_rate(admin, StationKind.PROFESSIONAL, "talent", "200")
    await rates.set_rate(admin, StationKind.PROFESSIONAL, "hour", "50.5")
    await rates.set_rate(admin, StationKind.COMMUNITY, "hour", "10")
    s.h.clock.set(local(2027, 2, 3, 12))  # when the reports are made
    return s, {"hub": hub, "hospital": hospital, "hotel": hotel}


@pytest.mark.parametrize(
    "kind, first, last",
    [
        (PeriodKind.THIS_SEASON, date(2026, 10, 1), date(2027, 9, 30)),
        (PeriodKind.LAST_MONTH, date(2027, 1, 1), date(2027, 1, 31)),
        (PeriodKind.THIS_MONTH, date(2027, 2, 1), date(2027, 2, 28)),
        (PeriodKind.LAST_SEASON, date(2025, 10, 1), date(2026, 9, 30)),
    ],
)
async def test_every_figure_matches_the_book(harness, season, kind, first, last):
    s, stations = season
    period = s.s.reports.period(kind)
    assert (period.first, period.last) == (first, last)
    admin = await s.admin()
    report = await s.s.reports.report(admin, None, period)
    start, end = (
        local(first.year, first.month, first.day),
        local(last.year, last.month, last.day) + timedelta(days=1),
    )
    rows, total = expected(s.book, start, end, s.h.clock.now(), first, last)
    for figures in report.rows:
        assert actual(figures) == clean(rows[figures.station_id]), figures.name_en
    assert {f.station_id for f in report.rows if actual(f)} == {
        k for k, v in rows.items() if clean(v)
    }
    assert actual(report.total) == clean(total)
    # Funding: the hospital's engaged talents and hours at its rates, the hub's hours at 10.
    hospital = next(f for f in report.rows if f.station_id == stations["hospital"].id)
    hub = next(f for f in report.rows if f.station_id == stations["hub"].id)
    assert hospital.funding_amount == (
        rows[hospital.station_id]["engaged"] * Decimal("200")
        + Decimal(rows[hospital.station_id]["hours"] or 0) * Decimal("50.5")
    ).quantize(Decimal("0.01"))
    assert hub.funding_amount == (Decimal(rows[hub.station_id]["hours"] or 0) * 10).quantize(
        Decimal("0.01")
    )
    assert report.total.funding_amount == hospital.funding_amount + hub.funding_amount
    await totals_equal_the_tables(harness, report, start, end)
    await spreadsheet_adds_up(harness, report)


async def totals_equal_the_tables(harness, report, start, end):
    """The report's totals are the plain sums over the attendance table and the ledger."""
    db = harness.services.db
    bounds = (start.isoformat(timespec="seconds"), end.isoformat(timespec="seconds"))
    hours = await db.fetch_value(
        "SELECT coalesce(sum(coalesce((SELECT c.hours FROM hour_corrections c"
        " WHERE c.attendance_id = a.id ORDER BY c.id DESC LIMIT 1), a.hours)), 0)"
        " FROM attendance a WHERE checked_in_at >= ? AND checked_in_at < ?",
        bounds,
    )
    assert report.total.hours == Decimal(str(round(hours, 2)))
    count = await db.fetch_value(
        "SELECT count(*) FROM attendance WHERE checked_in_at >= ? AND checked_in_at < ?", bounds
    )
    assert report.total.attended == count
    outstanding = await db.fetch_value(
        "SELECT coalesce(sum(delta), 0) FROM ledger WHERE created_at < ?", (bounds[1],)
    )
    assert report.total.points_outstanding == outstanding
    kinds = {"earn": "points_earned", "adjust": "points_adjusted",
             "refund": "points_refunded", "redeem": "points_redeemed"}  # fmt: skip
    for kind, figure in kinds.items():
        value = await db.fetch_value(
            "SELECT coalesce(sum(delta), 0) FROM ledger WHERE kind = ?"
            " AND created_at >= ? AND created_at < ?",
            (kind, *bounds),
        )
        assert getattr(report.total, figure) == (-value if kind == "redeem" else value)


async def spreadsheet_adds_up(harness, report):
    """The spreadsheet's sheets add up to the summary's total row."""
    services = harness.services
    sheet = await spreadsheet(services.translator, "en", services.reports, report)
    book = openpyxl.load_workbook(io.BytesIO(sheet.data), read_only=True)
    assert book.sheetnames == ["Summary", "Activities", "Vouchers", "Talents", "About"]
    summary = [list(row) for row in book["Summary"].iter_rows(values_only=True)]
    headers = summary[0]
    assert len(summary) == 1 + len(report.rows) + 1
    total = dict(zip(headers, summary[-1], strict=True))
    assert total["Station"] == "Total"
    assert total["Engaged talents"] == report.total.engaged
    assert total["Service hours"] == pytest.approx(float(report.total.hours))
    assert total["Points earned"] == report.total.points_earned
    assert total["Points redeemed"] == report.total.points_redeemed
    assert total["Talents registered"] == report.total.registered
    assert total["Funding"] == pytest.approx(float(report.total.funding_amount))
    talents = [list(row) for row in book["Talents"].iter_rows(values_only=True)]
    columns = {name: i for i, name in enumerate(talents[0])}

    def column_sum(rows, name):
        return sum(row[columns[name]] or 0 for row in rows[1:])

    assert column_sum(talents, "Service hours") == pytest.approx(float(report.total.hours))
    assert column_sum(talents, "Attended") == report.total.attended
    assert column_sum(talents, "Points earned") == report.total.points_earned
    assert column_sum(talents, "Points redeemed") == report.total.points_redeemed
    assert column_sum(talents, "Points refunded") == report.total.points_refunded
    activities = [list(row) for row in book["Activities"].iter_rows(values_only=True)]
    columns = {name: i for i, name in enumerate(activities[0])}
    assert column_sum(activities, "Attended") == report.total.attended
    assert column_sum(activities, "Service hours") == pytest.approx(float(report.total.hours))
    assert column_sum(activities, "No-shows") == report.total.no_shows
    if report.total.hours:
        erased = [row for row in talents[1:] if row[1] == "(data erased)"]
        assert len(erased) <= 1


async def test_a_custom_period_is_its_days(harness, season):
    s, _ = season
    period = Period(date(2026, 12, 5), date(2026, 12, 10), PeriodKind.DATES)
    report = await s.s.reports.report(await s.admin(), None, period)
    start, end = local(2026, 12, 5), local(2026, 12, 11)
    _, total = expected(s.book, start, end, s.h.clock.now(), period.first, period.last)
    assert actual(report.total) == clean(total)
    assert report.total.hours == Decimal("2") + Decimal("1.25") + Decimal("2") + Decimal(
        "3"
    ) + Decimal("2.5") + Decimal("3")
