"""A report as the talent office receives it: a short message, a chart and a spreadsheet.

The same functions serve /report and the monthly report. The message and the chart come
first; the spreadsheet, which lists every talent and for a whole city takes seconds to write,
is made after them, so that the figures never wait for it.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from decimal import Decimal
from functools import partial

from babel.numbers import format_currency

from bot.i18n import Html, Translator, fmt_date, fmt_month, fmt_number
from bot.render import plain
from bot.render.campaign_report import add_sheet as add_campaign_sheet
from bot.render.campaign_report import summary_lines
from bot.render.chart import ChartText, Series, render_chart
from bot.render.sheet import ReportWorkbook
from bot.services.reports import Figures, Period, PeriodKind, Report, ReportService, kinds_held

MAX_STATION_LINES = 30  # more stations than this: the spreadsheet has them all


@dataclass(frozen=True, slots=True)
class Composed:
    """What is sent first: the summary (Telegram HTML) and the chart."""

    text: str
    caption: str
    chart: bytes
    chart_name: str


@dataclass(frozen=True, slots=True)
class Sheet:
    """The spreadsheet, and its file name."""

    data: bytes
    name: str


def _babel(locale: str) -> str:
    return "zh_Hans_CN" if locale == "zh" else "en"


def period_label(translator: Translator, locale: str, period: Period) -> str:
    """ "2026年11月", "2026–2027 season" or "2026/12/1 – 2027/1/31"."""
    if period.kind in (PeriodKind.THIS_SEASON, PeriodKind.LAST_SEASON):
        return plain(
            translator, locale, "reports.period_season",
            first=str(period.first.year), last=str(period.last.year),
        )  # fmt: skip
    if period.is_month:
        month = fmt_month(period.first.year, period.first.month, locale)
        return plain(translator, locale, "reports.period_month", month=month)
    return plain(
        translator, locale, "reports.period_dates",
        first=fmt_date(period.first, locale), last=fmt_date(period.last, locale),
    )  # fmt: skip


def scope_name(translator: Translator, locale: str, report: Report) -> str:
    """The station's name, or "All stations"."""
    if report.station_id is None:
        return plain(translator, locale, "reports.all_stations")
    return report.station_name(report.station_id, locale) or "?"


def money(amount: Decimal, currency: str, locale: str) -> str:
    """An amount with its currency, as people of ``locale`` write it."""
    return format_currency(amount, currency, locale=_babel(locale))


def _hours(value: Decimal, locale: str) -> str:
    return fmt_number(value.normalize() if value == value.to_integral() else value, locale)


def formula(translator: Translator, locale: str, figures: Figures) -> str:
    """``12 talents × ¥200.00 + 345.5 h × ¥50.00``."""
    funding = figures.funding
    assert funding is not None
    return translator(
        locale,
        "reports.formula",
        talents=fmt_number(funding.engaged, locale),
        per_talent=money(funding.per_talent, funding.currency, locale),
        hours=_hours(funding.hours, locale),
        per_hour=money(funding.per_hour, funding.currency, locale),
    )


def summary_text(translator: Translator, locale: str, report: Report) -> str:
    """The message: the figures of the whole report, then one line per station."""
    t = partial(translator, locale)
    n = partial(fmt_number, locale=locale)
    total = report.total
    kinds = kinds_held(report)
    listed = " · ".join(f"{t(f'kind.{k}')} {n(total.held[k])}" for k in kinds)
    partners: dict[int, int] = {}
    for voucher in report.vouchers:
        partners[voucher.station_id] = partners.get(voucher.station_id, 0) + voucher.used
    partner_list = " · ".join(
        f"{report.station_name(sid, locale) or '?'} {n(count)}" for sid, count in partners.items()
    )
    lines = [
        t(
            "reports.summary_title",
            scope=scope_name(translator, locale, report),
            period=period_label(translator, locale, report.period),
        ),
        t(
            "reports.summary_talents",
            registered=n(total.registered), new=n(total.new), present=n(total.present),
            engaged=n(total.engaged),
        ),
        t(
            "reports.summary_activities",
            held=n(total.activities_held), cancelled=n(total.cancelled),
            kinds=t("reports.summary_kinds", list=listed) if listed else "",
        ),
        t(
            "reports.summary_attendance",
            signups=n(total.signups), attended=n(total.attended), walk_ins=n(total.walk_ins),
            no_shows=n(total.no_shows),
        ),
        t(
            "reports.summary_hours",
            hours=_hours(total.hours, locale), per_talent=_hours(total.hours_per_engaged, locale),
        ),
        t(
            "reports.summary_points",
            earned=n(total.points_earned), redeemed=n(total.points_redeemed),
            refunded=n(total.points_refunded), adjusted=f"{total.points_adjusted:+,}",
            outstanding=n(total.points_outstanding),
        ),
        t(
            "reports.summary_vouchers",
            count=n(total.vouchers_used),
            partners=t("reports.summary_kinds", list=partner_list) if partner_list else "",
        ),
    ]  # fmt: skip
    if report.station_id is not None:
        station = report.rows[0]
        if station.funding is not None:
            lines.append(
                t(
                    "reports.summary_funding",
                    amount=money(station.funding_amount, report.currency, locale),
                    formula=Html(formula(translator, locale, station)),
                )
            )
        return "\n".join(lines)
    lines.append(
        t(
            "reports.summary_funding_total",
            amount=money(total.funding_amount, report.currency, locale),
        )
    )
    lines += ["", t("reports.stations_title")]
    for figures in report.rows[:MAX_STATION_LINES]:
        name = figures.name(locale) or plain(translator, locale, "reports.no_station")
        lines.append(
            t(
                "reports.station_line",
                name=name,
                engaged=n(figures.engaged),
                hours=_hours(figures.hours, locale),
                amount=money(figures.funding_amount, report.currency, locale),
            )
        )
    if len(report.rows) > MAX_STATION_LINES:
        lines.append(t("reports.more_stations", count=len(report.rows) - MAX_STATION_LINES))
    return "\n".join(lines)


def chart_png(translator: Translator, locale: str, report: Report) -> bytes:
    """The chart of a report."""
    label = partial(plain, translator, locale)
    title = f"{scope_name(translator, locale, report)} · " + period_label(
        translator, locale, report.period
    )
    series = [
        Series(
            name=figures.name(locale) or label("reports.no_station"),
            hours_centi=report.hours_by_week.get(figures.station_id, [0] * len(report.weeks)),
            engaged=figures.engaged,
        )
        for figures in report.rows
    ]
    text = ChartText(
        title=title,
        hours_title=label("reports.chart_hours"),
        engaged_title=label("reports.chart_engaged"),
        no_data=label("reports.chart_no_data"),
    )
    return render_chart(text, report.weeks, series)


def file_name(translator: Translator, locale: str, report: Report, extension: str) -> str:
    """``报表-市民中心站-2026-11.xlsx``: the station's name and the period."""
    scope = scope_name(translator, locale, report)
    prefix = plain(translator, locale, "reports.file_prefix")
    safe = re.sub(r"[^\w\-]+", "-", f"{prefix}-{scope}-{report.period.slug}").strip("-")
    return f"{safe}.{extension}"


async def compose(translator: Translator, locale: str, report: Report) -> Composed:
    """The message and the chart of a report, in ``locale``."""
    caption = translator(
        locale,
        "reports.chart_caption",
        scope=scope_name(translator, locale, report),
        period=period_label(translator, locale, report.period),
    )
    text = "\n".join(
        [summary_text(translator, locale, report), *summary_lines(translator, locale, report)]
    )
    return Composed(
        text=text,
        caption=caption,
        chart=await asyncio.to_thread(chart_png, translator, locale, report),
        chart_name=file_name(translator, locale, report, "png"),
    )


async def spreadsheet(
    translator: Translator, locale: str, service: ReportService, report: Report
) -> Sheet:
    """The spreadsheet of a report, in ``locale``."""
    workbook = ReportWorkbook(report, partial(plain, translator, locale), locale, service.tz)
    # Writing cells is pure Python and a city has many talents: each page is written in a
    # thread, so that the bot goes on answering others while the spreadsheet grows.
    async for page in service.talent_lines(report):
        await asyncio.to_thread(workbook.add_talents, page)
    add_campaign_sheet(workbook, partial(plain, translator, locale), locale)
    data = await asyncio.to_thread(workbook.finish)
    return Sheet(data, file_name(translator, locale, report, "xlsx"))
