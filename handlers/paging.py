"""Long lists, a page at a time, within what Telegram accepts in one message.

Telegram refuses a text over 4,096 characters (UTF-16 units, after parsing) and, in practice,
an inline keyboard of more than 100 buttons; an attendance list of a few hundred people breaks
both. Every list the bot shows (attendance, signups, /manage, /my, /vouchers, /rewards, the
admin's stations and rewards, the station pickers) is cut here: at most ``per_page`` entries,
and lines that together stay within ``budget``, with one row of page buttons under them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from handlers.context import BotContext
from storage.models import Station

T = TypeVar("T")

TEXT_LIMIT = 4096
BUTTON_LIMIT = 100
PER_PAGE = 10
# Room kept free for the title and notes around a page's lines, and for HTML tags.
MARGIN = 200


def utf16_len(text: str) -> int:
    """The length Telegram counts: UTF-16 code units (an emoji outside the BMP counts two)."""
    return len(text.encode("utf-16-le")) // 2


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list."""

    items: list[T]
    number: int  # from 0
    count: int  # how many pages there are (at least one)
    start: int  # the position of the page's first item in the whole list

    @property
    def single(self) -> bool:
        """Whether the whole list fits on one page."""
        return self.count == 1


def text_budget(*around: str) -> int:
    """What is left of a message for a page's lines once ``around`` (title, notes) is in it."""
    return TEXT_LIMIT - MARGIN - sum(utf16_len(text) + 1 for text in around)


def paginate(
    items: Sequence[T],
    number: int,
    *,
    per_page: int = PER_PAGE,
    line: Callable[[T], str] | None = None,
    budget: int = TEXT_LIMIT - MARGIN,
) -> Page[T]:
    """Page ``number`` (kept within range) of ``items``.

    A page holds at most ``per_page`` items and, when ``line`` says how each item is shown
    (as HTML, whose length is never less than what Telegram counts after parsing), only as
    many as fit in ``budget``. Pages are cut the same way every time for the same list.
    """
    bounds: list[tuple[int, int]] = []
    first, used = 0, 0
    for index, item in enumerate(items):
        size = utf16_len(line(item)) + 1 if line is not None else 0
        if index > first and (index - first >= per_page or used + size > budget):
            bounds.append((first, index))
            first, used = index, 0
        used += size
    bounds.append((first, len(items)))
    number = min(max(number, 0), len(bounds) - 1)
    start, end = bounds[number]
    return Page(list(items[start:end]), number, len(bounds), start)


def pager(
    context: BotContext, number: int, count: int, data: Callable[[int], str]
) -> list[tuple[str, str]]:
    """The row of page buttons: previous, "2 / 7", next; empty when there is one page.

    ``data(n)`` is the callback data that shows page ``n``; the middle button shows the same
    page again, which also refreshes it.
    """
    if count <= 1:
        return []
    row = []
    if number > 0:
        row.append((context.t("paging.previous"), data(number - 1)))
    row.append((context.t("paging.position", page=number + 1, pages=count), data(number)))
    if number + 1 < count:
        row.append((context.t("paging.next"), data(number + 1)))
    return row


async def stations_among(context: BotContext, allowed: Sequence[int] | None) -> list[Station]:
    """The stations whose ids are in ``allowed`` (every station when None), in list order."""
    return [
        station
        for station in await context.services.stations.list()
        if allowed is None or station.id in allowed
    ]


def station_rows(
    context: BotContext,
    stations: Sequence[Station],
    number: int,
    *,
    pick: Callable[[Station], str],
    turn: Callable[[int], str],
) -> list[list[tuple[str, str]]]:
    """A page of stations to choose from, one button a row, and the page buttons under them.

    ``pick(station)`` is the data of a station's button, ``turn(n)`` that of page ``n``.
    """
    shown = paginate(stations, number)
    rows = [[(station.name(context.viewer.locale), pick(station))] for station in shown.items]
    rows.append(pager(context, shown.number, shown.count, turn))
    return rows


def page_arg(value: str | None) -> int:
    """A page number from callback data; 0 for anything else."""
    return int(value) if value is not None and value.isdigit() and len(value) < 6 else 0
