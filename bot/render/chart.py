"""The report's chart as a PNG: service hours by week per station, and engaged talents.

Drawn with Pillow: two simple bar charts need rectangles, lines and text, not a plotting
library. Every label goes through the bundled CJK font.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from PIL import Image, ImageDraw

from bot.render.fonts import pil_font, printable

WIDTH, HEIGHT = 1200, 900
MARGIN = 40
AXIS = "#444444"
GRID = "#e3e3e3"
TEXT = "#222222"
MUTED = "#666666"
# Okabe and Ito's palette: told apart by people with any common colour blindness.
PALETTE = (
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Series:
    """One station: its name, hours per week (hundredths) and engaged talents."""

    name: str
    hours_centi: Sequence[int]
    engaged: int


@dataclass(frozen=True, slots=True)
class ChartText:
    """The chart's words, already in the reader's language."""

    title: str
    hours_title: str
    engaged_title: str
    no_data: str


def nice_step(top: float, ticks: int = 5) -> float:
    """A round step (1, 2 or 5 times a power of ten) that splits ``top`` in about ``ticks``."""
    if top <= 0:
        return 1.0
    raw = top / ticks
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * power:
            return factor * power
    return 10 * power


def _number(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"


def render_chart(text: ChartText, weeks: Sequence[date], series: Sequence[Series]) -> bytes:
    """The PNG: stacked weekly hours per station on top, engaged talents per station below."""
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    draw.text((MARGIN, 24), printable(text.title), font=pil_font(30), fill=TEXT)
    colors = [PALETTE[i % len(PALETTE)] for i in range(len(series))]
    y = _legend(draw, series, colors, top=76)
    split = y + int((HEIGHT - y) * 0.58)
    _weekly_hours(draw, text, weeks, series, colors, box=(MARGIN, y + 10, WIDTH - MARGIN, split))
    _engaged(draw, text, series, colors, box=(MARGIN, split + 20, WIDTH - MARGIN, HEIGHT - 24))
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _legend(
    draw: ImageDraw.ImageDraw, series: Sequence[Series], colors: Sequence[str], *, top: int
) -> int:
    """Colour keys with the stations' names, wrapped over lines; returns where it ends."""
    font = pil_font(20)
    x, y = MARGIN, top
    for item, color in zip(series, colors, strict=True):
        name = _fit(draw, printable(item.name), font, WIDTH - 2 * MARGIN - 60)
        width = 28 + int(draw.textlength(name, font=font)) + 24
        if x + width > WIDTH - MARGIN and x > MARGIN:
            x, y = MARGIN, y + 32
        draw.rectangle((x, y + 4, x + 18, y + 22), fill=color)
        draw.text((x + 26, y), name, font=font, fill=TEXT)
        x += width
    return y + 36


def _weekly_hours(
    draw: ImageDraw.ImageDraw,
    text: ChartText,
    weeks: Sequence[date],
    series: Sequence[Series],
    colors: Sequence[str],
    *,
    box: tuple[int, int, int, int],
) -> None:
    left, top, right, bottom = box
    font, small = pil_font(22), pil_font(16)
    draw.text((left, top), printable(text.hours_title), font=font, fill=TEXT)
    top += 36
    totals = [sum(s.hours_centi[i] for s in series) / 100 for i in range(len(weeks))]
    peak = max(totals, default=0)
    step = nice_step(peak)
    ceiling = step * max(1, math.ceil(peak / step)) if peak else step * 5
    plot_left, plot_bottom = left + 70, bottom - 30
    height = plot_bottom - top
    ticks = round(ceiling / step)
    for i in range(ticks + 1):
        value = step * i
        y = plot_bottom - height * value / ceiling
        draw.line((plot_left, y, right, y), fill=GRID if i else AXIS, width=1)
        label = _number(value)
        draw.text(
            (plot_left - 8 - draw.textlength(label, font=small), y - 10),
            label,
            font=small,
            fill=MUTED,
        )
    if not peak:
        _centered(draw, printable(text.no_data), font, (plot_left, top, right, plot_bottom))
    slot = (right - plot_left) / max(1, len(weeks))
    bar = max(2.0, slot * 0.7)
    # Show a week's date under every n-th bar, so that the labels never overlap.
    every = max(1, math.ceil(46 / slot))
    for i, monday in enumerate(weeks):
        x0 = plot_left + slot * i + (slot - bar) / 2
        y = float(plot_bottom)
        for item, color in zip(series, colors, strict=True):
            value = item.hours_centi[i] / 100
            if value:
                rise = height * value / ceiling
                draw.rectangle((x0, y - rise, x0 + bar, y), fill=color)
                y -= rise
        if i % every == 0:
            label = f"{monday.month}/{monday.day}"
            width = draw.textlength(label, font=small)
            draw.text((x0 + bar / 2 - width / 2, plot_bottom + 6), label, font=small, fill=MUTED)


def _engaged(
    draw: ImageDraw.ImageDraw,
    text: ChartText,
    series: Sequence[Series],
    colors: Sequence[str],
    *,
    box: tuple[int, int, int, int],
) -> None:
    left, top, right, bottom = box
    font, label_font = pil_font(22), pil_font(18)
    draw.text((left, top), printable(text.engaged_title), font=font, fill=TEXT)
    top += 40
    if not series:
        return
    names = [_fit(draw, printable(s.name), label_font, 300) for s in series]
    name_width = max(int(draw.textlength(n, font=label_font)) for n in names) + 16
    plot_left = left + name_width
    peak = max((s.engaged for s in series), default=0)
    row = min(44.0, (bottom - top) / len(series))
    for i, (item, name, color) in enumerate(zip(series, names, colors, strict=True)):
        y = top + row * i
        draw.text(
            (plot_left - 12 - draw.textlength(name, font=label_font), y + row / 2 - 12),
            name,
            font=label_font,
            fill=TEXT,
        )
        length = (right - plot_left - 80) * item.engaged / peak if peak else 0
        draw.rectangle((plot_left, y + row * 0.15, plot_left + length, y + row * 0.85), fill=color)
        draw.text(
            (plot_left + length + 8, y + row / 2 - 12),
            f"{item.engaged:,}",
            font=label_font,
            fill=TEXT,
        )
    draw.line((plot_left, top, plot_left, top + row * len(series)), fill=AXIS, width=1)


def _fit(draw: ImageDraw.ImageDraw, label: str, font: object, room: float) -> str:
    """``label`` cut with an ellipsis to fit ``room`` pixels."""
    if draw.textlength(label, font=font) <= room:  # type: ignore[arg-type]
        return label
    while label and draw.textlength(label + "…", font=font) > room:  # type: ignore[arg-type]
        label = label[:-1]
    return label + "…"


def _centered(
    draw: ImageDraw.ImageDraw, label: str, font: object, box: tuple[float, float, float, float]
) -> None:
    left, top, right, bottom = box
    width = draw.textlength(label, font=font)  # type: ignore[arg-type]
    draw.text(((left + right - width) / 2, (top + bottom) / 2 - 12), label, font=font, fill=MUTED)  # type: ignore[arg-type]
