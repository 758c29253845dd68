"""The list a seller fulfils when a produce campaign closes, as a spreadsheet (.xlsx).

Rows are written by the report's sheet writer, so text is never read as a formula (names and
places are typed by people) and columns get readable widths.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from decimal import Decimal
from zoneinfo import ZoneInfo

import xlsxwriter

from bot.render.sheet import Label, _Sheet
from bot.services.campaigns import dialable, price_of
from storage.campaigns import Campaign, PledgeLine


class _Book:
    """The formats the sheet writer expects of its workbook."""

    def __init__(self, out: io.BytesIO) -> None:
        self.workbook = xlsxwriter.Workbook(out, {"strings_to_formulas": False})
        book = self.workbook
        self.header = book.add_format({"bold": True, "bg_color": "#EEEEEE", "text_wrap": True})
        self.decimal = book.add_format({"num_format": "#,##0.00"})
        self.total_decimal = book.add_format({"num_format": "#,##0.00", "bold": True})
        self.time = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        self.total_time = book.add_format({"num_format": "yyyy-mm-dd hh:mm", "bold": True})
        self.bold = book.add_format({"bold": True})


def campaign_workbook(
    campaign: Campaign, lines: Sequence[PledgeLine], *, label: Label, tz: ZoneInfo
) -> bytes:
    """One row per pledge: name, phone in full (the seller calls each buyer to arrange the
    handover), buy or sell, quantity and amount; then a total row."""
    out = io.BytesIO()
    book = _Book(out)
    unit = label(f"campaign.unit_{campaign.unit}")
    headers = [
        label("campaign.col_name"),
        label("campaign.col_phone"),
        label("campaign.col_way"),
        label("campaign.col_quantity", unit=unit),
        label("campaign.col_amount"),
        label("campaign.col_updated"),
    ]
    sheet = _Sheet(book, label("campaign.sheet_name"), headers)  # type: ignore[arg-type]
    price = price_of(campaign.price_minor)
    total = 0
    for line in lines:
        total += line.quantity
        sheet.write(
            [
                line.name or label("privacy.deleted_name"),
                dialable(line.phone),
                label(f"campaign.way_{line.way}"),
                line.quantity,
                (price * line.quantity).quantize(Decimal("0.01")),
                line.updated_at.astimezone(tz).replace(tzinfo=None),
            ]
        )
    sheet.write(
        [label("campaign.col_total"), "", "", total, (price * total).quantize(Decimal("0.01"))],
        style=book.bold,
    )
    sheet.finish()
    book.workbook.close()
    return out.getvalue()
