"""The report's spreadsheet (.xlsx): Summary, Activities, Vouchers, Talents, and About.

The talents sheet can hold a city's 100,000 talents, so the workbook is written with
XlsxWriter's constant memory mode: each row goes to a temporary file as soon as it is complete.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import xlsxwriter

from bot.exports import safe_text
from bot.services.reports import Figures, Funding, Report, hours_of, kinds_held
from storage.reports import TalentLine

Label = Callable[..., str]  # a catalog key (and parameters) to plain text in the reader's language
WIDTH_MIN, WIDTH_MAX = 8, 48
# A cell that starts with one of these is read as a formula by spreadsheet programs.


def display_width(text: str) -> int:
    """How many columns ``text`` takes: a Chinese character is two."""
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


class _Sheet:
    """One worksheet written row by row, remembering how wide each column needs to be."""

    def __init__(self, book: ReportWorkbook, name: str, headers: Sequence[str]) -> None:
        self.book = book
        self.sheet = book.workbook.add_worksheet(name)
        self.widths = [display_width(h) for h in headers]
        self.row = 0
        self.write(headers, style=book.header)
        self.sheet.freeze_panes(1, 0)

    def write(self, values: Sequence[object], *, style: object = None) -> None:
        """Write one row: text as text (never a formula), numbers as numbers, times as dates."""
        book = self.book
        for col, value in enumerate(values):
            bold = style is not None
            if value is None or value == "":
                shown = ""
                self.sheet.write_blank(self.row, col, None, style)
            elif isinstance(value, bool):
                shown = str(value)
                self.sheet.write_boolean(self.row, col, value, style)
            elif isinstance(value, datetime):
                shown = "yyyy-mm-dd hh:mm"
                self.sheet.write_datetime(
                    self.row, col, value, book.total_time if bold else book.time
                )
            elif isinstance(value, Decimal):
                shown = f"{value:,.2f}"
                self.sheet.write_number(
                    self.row, col, float(value), book.total_decimal if bold else book.decimal
                )
            elif isinstance(value, int | float):
                shown = str(value)
                self.sheet.write_number(self.row, col, value, style)
            else:
                shown = safe_text(str(value))
                self.sheet.write_string(self.row, col, shown, style)
            if col < len(self.widths):
                self.widths[col] = max(self.widths[col], display_width(shown))
            else:
                self.widths.append(display_width(shown))
        self.row += 1

    def finish(self) -> None:
        """Set readable column widths, from what was written."""
        for col, width in enumerate(self.widths):
            self.sheet.set_column(col, col, min(WIDTH_MAX, max(WIDTH_MIN, width + 2)))


class ReportWorkbook:
    """The workbook of one report; talents arrive in pages, then ``finish`` gives the bytes."""

    def __init__(self, report: Report, label: Label, locale: str, tz: ZoneInfo) -> None:
        self.report = report
        self.label = label
        self.locale = locale
        self.tz = tz
        self.out = io.BytesIO()
        self.workbook = xlsxwriter.Workbook(
            self.out, {"constant_memory": True, "strings_to_formulas": False}
        )
        book = self.workbook
        self.header = book.add_format({"bold": True, "bg_color": "#EEEEEE", "text_wrap": True})
        self.decimal = book.add_format({"num_format": "#,##0.00"})
        self.total_decimal = book.add_format({"num_format": "#,##0.00", "bold": True})
        self.time = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        self.total_time = book.add_format({"num_format": "yyyy-mm-dd hh:mm", "bold": True})
        self.bold = book.add_format({"bold": True})
        self._summary()
        self._activities()
        self._vouchers()
        self.talents = _Sheet(self, label("reports.sheet_talents"), self._talent_headers())

    def row_name(self, figures: Figures) -> str:
        """A row's name: the station's, or the two rows that are not a station."""
        if figures.station_id < 0:
            return self.label("reports.total")
        if figures.station_id == 0:
            return self.label("reports.no_station")
        return figures.name(self.locale)

    def station_name(self, station_id: int) -> str:
        """A station by id, as the sheets name it."""
        return self.report.station_name(station_id, self.locale) or self.label(
            "reports.no_station"
        )

    def local(self, moment: datetime) -> datetime:
        """A moment in the programme's zone, without the zone (spreadsheets have none)."""
        return moment.astimezone(self.tz).replace(tzinfo=None)

    # -- sheets --------------------------------------------------------------------------------

    def _summary(self) -> None:
        label, report = self.label, self.report
        kinds = kinds_held(report)
        headers = [
            label("reports.col_station"),
            label("reports.col_kind"),
            label("reports.col_registered"),
            label("reports.col_new"),
            label("reports.col_present"),
            label("reports.col_engaged"),
            label("reports.col_held"),
            *(label("reports.col_held_kind", kind=label(f"kind.{kind}")) for kind in kinds),
            label("reports.col_cancelled"),
            label("reports.col_signups"),
            label("reports.col_attended"),
            label("reports.col_walk_ins"),
            label("reports.col_no_shows"),
            label("reports.col_hours"),
            label("reports.col_hours_per_talent"),
            label("reports.col_earned"),
            label("reports.col_adjusted"),
            label("reports.col_redeemed"),
            label("reports.col_refunded"),
            label("reports.col_outstanding"),
            label("reports.col_vouchers"),
            label("reports.col_funding"),
            label("reports.col_currency"),
            label("reports.col_formula"),
        ]
        sheet = _Sheet(self, label("reports.sheet_summary"), headers)
        for figures in [*report.rows, report.total]:
            total = figures.station_id < 0
            kind = label(f"station_kind.{figures.kind}") if figures.kind else ""
            funding = figures.funding
            sheet.write(
                [
                    self.row_name(figures),
                    kind,
                    figures.registered,
                    figures.new,
                    figures.present,
                    figures.engaged,
                    figures.activities_held,
                    *(figures.held.get(k, 0) for k in kinds),
                    figures.cancelled,
                    figures.signups,
                    figures.attended,
                    figures.walk_ins,
                    figures.no_shows,
                    figures.hours,
                    figures.hours_per_engaged,
                    figures.points_earned,
                    figures.points_adjusted,
                    figures.points_redeemed,
                    figures.points_refunded,
                    figures.points_outstanding,
                    figures.vouchers_used,
                    figures.funding_amount,
                    report.currency,
                    formula_text(label, funding) if funding else "",
                ],
                style=self.bold if total else None,
            )
        sheet.finish()

    def _activities(self) -> None:
        label = self.label
        sheet = _Sheet(
            self,
            label("reports.sheet_activities"),
            [
                label("reports.col_starts", zone=self.tz.key),
                label("reports.col_ends", zone=self.tz.key),
                label("reports.col_station"),
                label("reports.col_activity_kind"),
                label("reports.col_title"),
                label("reports.col_place"),
                label("reports.col_status"),
                label("reports.col_signups"),
                label("reports.col_attended"),
                label("reports.col_walk_ins"),
                label("reports.col_no_shows"),
                label("reports.col_hours"),
                label("reports.col_points_each"),
            ],
        )
        for activity in self.report.activities:
            counted = activity.in_period and activity.over and activity.status != "cancelled"
            sheet.write(
                [
                    self.local(activity.starts_at),
                    self.local(activity.ends_at),
                    self.station_name(activity.station_id),
                    label(f"kind.{activity.kind}"),
                    activity.title,
                    activity.place,
                    label(f"reports.status_{activity.status}"),
                    activity.signups if counted else None,
                    activity.attended,
                    activity.walk_ins,
                    activity.no_shows if counted else None,
                    hours_of(activity.hours_centi),
                    activity.points,
                ]
            )
        sheet.finish()

    def _vouchers(self) -> None:
        label = self.label
        sheet = _Sheet(
            self,
            label("reports.sheet_vouchers"),
            [
                label("reports.col_partner"),
                label("reports.col_reward"),
                label("reports.col_vouchers"),
                label("reports.col_voucher_points"),
            ],
        )
        for voucher in self.report.vouchers:
            name = voucher.name_zh if self.locale == "zh" else voucher.name_en
            sheet.write(
                [self.station_name(voucher.station_id), name, voucher.used, voucher.points]
            )
        sheet.finish()

    def _talent_headers(self) -> list[str]:
        label = self.label
        return [
            label("reports.col_talent_id"),
            label("reports.col_name"),
            label("reports.col_home_station"),
            label("reports.col_attended"),
            label("reports.col_hours"),
            label("reports.col_earned"),
            label("reports.col_adjusted"),
            label("reports.col_redeemed"),
            label("reports.col_refunded"),
            label("reports.col_balance"),
        ]

    def add_talents(self, lines: Sequence[TalentLine]) -> None:
        """Write a page of the talents sheet.

        A city has many talents, so this skips the general ``write``: the cells' types are
        known, and only the two text columns can grow wider than their headers.
        """
        sheet, widths = self.talents.sheet, self.talents.widths
        row = self.talents.row
        erased = self.label("reports.erased")
        stations: dict[int, str] = {}
        for line in lines:
            name = safe_text(line.name) if line.name is not None else erased
            station = stations.get(line.station_id)
            if station is None:
                station = stations[line.station_id] = safe_text(self.station_name(line.station_id))
            sheet.write_number(row, 0, line.id)
            sheet.write_string(row, 1, name)
            sheet.write_string(row, 2, station)
            sheet.write_number(row, 3, line.attended)
            sheet.write_number(row, 4, line.hours_centi / 100, self.decimal)
            for col, value in enumerate(
                (line.earned, line.adjusted, line.redeemed, line.refunded, line.balance), 5
            ):
                if value is not None:
                    sheet.write_number(row, col, value)
            widths[1] = max(widths[1], display_width(name))
            widths[2] = max(widths[2], display_width(station))
            row += 1
        self.talents.row = row

    def finish(self) -> bytes:
        """Close the talents sheet, add the About sheet and return the file."""
        self.talents.finish()
        label, report = self.label, self.report
        about = _Sheet(self, label("reports.sheet_about"), [label("reports.about_what"), ""])
        for key, value in (
            ("reports.about_period", f"{report.period.first} – {report.period.last}"),
            ("reports.about_zone", self.tz.key),
            ("reports.about_generated", self.local(report.generated_at)),
        ):
            about.write([label(key), value])
        for key in ("reports.define_engaged", "reports.define_no_show", "reports.define_hours",
                    "reports.define_points", "reports.define_held"):  # fmt: skip
            about.write([label(key), ""])
        about.finish()
        self.workbook.close()
        return self.out.getvalue()


def formula_text(label: Label, funding: Funding) -> str:
    """How a station's funding was computed, in words and numbers."""
    return label(
        "reports.formula_plain",
        talents=funding.engaged,
        per_talent=f"{funding.per_talent:,.2f}",
        hours=f"{funding.hours:,.2f}",
        per_hour=f"{funding.per_hour:,.2f}",
        amount=f"{funding.amount:,.2f}",
        currency=funding.currency,
    )
