"""Produce campaigns in /report: a few lines under the summary and a sheet of their own."""

from __future__ import annotations

from bot.i18n import Translator, fmt_number
from bot.render.sheet import Label, ReportWorkbook, _Sheet
from bot.services.reports import Report

MAX_LINES = 10


def _station(translator: Translator, locale: str, report: Report, station_id: int | None) -> str:
    if station_id is None:
        return translator(locale, "activity.city_wide")
    return report.station_name(station_id, locale) or "?"


def summary_lines(translator: Translator, locale: str, report: Report) -> list[str]:
    """Quantity pledged per campaign, then per station and unit; nothing without campaigns."""
    if not report.campaigns:
        return []
    n = lambda value: fmt_number(value, locale)  # noqa: E731
    unit = lambda code: translator(locale, f"campaign.unit_{code}")  # noqa: E731
    lines = ["", translator(locale, "campaign.report_title")]
    for figures in report.campaigns[:MAX_LINES]:
        lines.append(
            translator(
                locale,
                "campaign.report_line",
                product=figures.product,
                station=_station(translator, locale, report, figures.station_id),
                quantity=n(figures.quantity),
                goal=n(figures.goal),
                unit=unit(figures.unit),
                people=n(figures.people),
            )
        )
    if len(report.campaigns) > MAX_LINES:
        lines.append(
            translator(locale, "campaign.report_more", count=len(report.campaigns) - MAX_LINES)
        )
    per_station: dict[int | None, dict[str, int]] = {}
    for figures in report.campaigns:
        units = per_station.setdefault(figures.station_id, {})
        units[figures.unit] = units.get(figures.unit, 0) + figures.quantity
    for station_id, units in per_station.items():
        amounts = " · ".join(f"{n(q)} {unit(code)}" for code, q in units.items())
        lines.append(
            translator(
                locale,
                "campaign.report_station",
                station=_station(translator, locale, report, station_id),
                amounts=amounts,
            )
        )
    return lines


def add_sheet(workbook: ReportWorkbook, label: Label, locale: str) -> None:
    """A sheet with one row per campaign opened in the period (left out when there is none)."""
    report = workbook.report
    if not report.campaigns:
        return
    sheet = _Sheet(
        workbook,
        label("campaign.report_sheet"),
        [
            label("campaign.report_col_station"),
            label("campaign.report_col_product"),
            label("campaign.report_col_unit"),
            label("campaign.report_col_goal"),
            label("campaign.report_col_pledged"),
            label("campaign.report_col_people"),
        ],
    )
    for figures in report.campaigns:
        station = (
            label("activity.city_wide")
            if figures.station_id is None
            else report.station_name(figures.station_id, locale) or "?"
        )
        sheet.write(
            [
                station,
                figures.product,
                label(f"campaign.unit_{figures.unit}"),
                figures.goal,
                figures.quantity,
                figures.people,
            ]
        )
    sheet.finish()
