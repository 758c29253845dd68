"""Produce campaigns (爱心助农): the rules, free of Telegram."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import phonenumbers

from bot.clock import Clock
from bot.services.errors import InvalidInput, NotAllowed
from bot.services.kinds import TOPIC_SIGNED_UP
from bot.services.messaging import ReminderService
from bot.services.people import Viewer
from bot.services.profile import DEFAULT_PHONE_REGION, clean_text
from bot.timeparse import read_moment
from storage.campaigns import WAYS, Campaign, CampaignRepository, PledgedFigures, Totals
from storage.presses import Press

UNITS = ("jin", "kg")
# Stored with a notice, so that it reads in the talent's language when it is sent.
UNIT_NAMES = {"jin": {"zh": "斤", "en": "jin"}, "kg": {"zh": "公斤", "en": "kg"}}
# Whole units only: produce is weighed and sold by the 斤 or kg at a stall, and a half is
# easier to agree by phone than to type. No one pledges or sells more than this in one go.
QUANTITY_MAX = 1_000_000
PRICE_MAX = Decimal("100000")
TEXT_MAX = 200
BAR_CELLS = 10
CLOSE_AFTER_MAX = timedelta(days=366)
# How often one person's progress message may be edited: changes in between are coalesced.
EDIT_EVERY = timedelta(seconds=5)

_ZH_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
              "七": 7, "八": 8, "九": 9}  # fmt: skip
_ZH_UNITS = {"十": 10, "百": 100, "千": 1000}
_UNIT_WORDS = re.compile(r"\s*(斤|公斤|千克|kg|kgs|jin)\s*$")


def zh_numeral(text: str) -> int | None:
    """``五十`` → 50, ``一百二十`` → 120, ``两千零五`` → 2005, ``三万`` → 30000; else None."""
    if not text or any(ch not in _ZH_DIGITS and ch not in _ZH_UNITS and ch != "万" for ch in text):
        return None
    total, section, digit = 0, 0, None
    for ch in text:
        if ch in _ZH_DIGITS:
            if digit is not None and digit != 0:
                return None  # 五五: two digits in a row is not how a number is said
            digit = _ZH_DIGITS[ch]
        elif ch in _ZH_UNITS:
            section += (1 if digit is None else digit) * _ZH_UNITS[ch]
            digit = None
        else:  # 万
            total = (total + section + (digit or 0)) * 10_000
            section, digit = 0, None
    return total + section + (digit or 0)


def parse_quantity(text: str | None, *, goal: int) -> int:
    """A quantity a talent typed: ``50``, ``1,200``, ``五十``, ``50斤``; whole units only.

    Raises ``InvalidInput`` with a key that says what is wrong; zero is refused (withdrawing
    has its own button) and so is anything above ten times the goal or ``QUANTITY_MAX``.
    """
    if text is None:
        raise InvalidInput("campaign.qty_not_number")
    value = unicodedata.normalize("NFKC", text).strip().lower()
    value = _UNIT_WORDS.sub("", value).replace(",", "").replace("，", "").replace(" ", "")
    limit = min(goal * 10, QUANTITY_MAX)
    if re.fullmatch(r"-\d+(\.\d+)?", value):
        raise InvalidInput("campaign.qty_negative")
    if re.fullmatch(r"\d+[.]\d+", value):
        raise InvalidInput("campaign.qty_whole")
    if re.fullmatch(r"\d{1,9}", value):
        number = int(value)
    else:
        zh = zh_numeral(value)
        if zh is None:
            raise InvalidInput("campaign.qty_not_number")
        number = zh
    if number == 0:
        raise InvalidInput("campaign.qty_zero")
    if number > limit:
        raise InvalidInput("campaign.qty_too_much", max=limit)
    return number


def parse_goal(text: str | None) -> int:
    """The quantity a campaign hopes to sell."""
    try:
        return parse_quantity(text, goal=QUANTITY_MAX)
    except InvalidInput as exc:
        raise InvalidInput("campaign.bad_goal", max=QUANTITY_MAX) from exc


def parse_price(text: str | None) -> int:
    """A price per unit like ``6``, ``6.5`` or ``¥6.50``, exactly, in fen."""
    value = unicodedata.normalize("NFKC", text or "").strip().lstrip("¥").strip()
    value = re.sub(r"\s*(元|块|cny|rmb)$", "", value.lower())
    if not re.fullmatch(r"\d{1,6}(\.\d{1,2})?", value) or Decimal(value) > PRICE_MAX:
        raise InvalidInput("campaign.bad_price")
    return int(Decimal(value) * 100)


def price_of(minor: int) -> Decimal:
    """Fen back to yuan, with two decimals."""
    return (Decimal(minor) / 100).quantize(Decimal("0.01"))


def dialable(phone: str | None) -> str:
    """A stored phone as a seller dials it: ``138 0013 8000`` for a Chinese number (no ``+``,
    which a spreadsheet would take for the start of a formula), international otherwise."""
    if not phone:
        return ""
    try:
        number = phonenumbers.parse(phone, DEFAULT_PHONE_REGION)
    except phonenumbers.NumberParseException:
        return phone
    region = phonenumbers.region_code_for_number(number)
    style = phonenumbers.PhoneNumberFormat
    return phonenumbers.format_number(
        number, style.NATIONAL if region == DEFAULT_PHONE_REGION else style.INTERNATIONAL
    )


def progress_bar(done: int, goal: int) -> tuple[str, int]:
    """``▓▓▓▓▓▓░░░░`` and the percentage (which may pass 100)."""
    percent = done * 100 // goal if goal else 0
    filled = min(BAR_CELLS, done * BAR_CELLS // goal if goal else 0)
    return "▓" * filled + "░" * (BAR_CELLS - filled), percent


@dataclass(frozen=True, slots=True)
class Draft:
    """A campaign as the dialog collected it, checked field by field."""

    station_id: int | None
    product: str
    unit: str
    goal: int
    price_minor: int
    pickup: str
    contact: str
    closes_at: datetime


class CampaignService:
    def __init__(
        self,
        *,
        campaigns: CampaignRepository,
        reminders: ReminderService,
        clock: Clock,
        tz: ZoneInfo,
    ) -> None:
        self.rows = campaigns
        self.reminders = reminders
        self.clock = clock
        self.tz = tz

    # -- permissions --------------------------------------------------------------------------

    @staticmethod
    def stations_of(viewer: Viewer) -> list[int] | None:
        """Stations whose campaigns the viewer may open and manage; None: all (admins)."""
        return None if viewer.is_admin else viewer.stations_where_coordinator()

    @staticmethod
    def may_manage(viewer: Viewer, campaign: Campaign) -> bool:
        """Coordinators of the campaign's station, and admins; a city-wide one is admins'."""
        if viewer.is_admin:
            return True
        return campaign.station_id is not None and viewer.may_coordinate(campaign.station_id)

    def check_station(self, viewer: Viewer, station_id: int | None) -> None:
        """Whether the viewer may open a campaign for ``station_id`` (None: city-wide)."""
        allowed = self.stations_of(viewer)
        if allowed is not None and station_id not in allowed:
            raise NotAllowed

    # -- fields -------------------------------------------------------------------------------

    @staticmethod
    def clean(text: str | None) -> str:
        return clean_text(text, max_len=TEXT_MAX)

    def closing(self, text: str | None) -> datetime:
        """The closing time typed: a date alone closes at the end of that day."""
        now = self.clock.now()
        reading = read_moment(text or "", tz=self.tz, now=now)
        if reading is None:
            raise InvalidInput("campaign.bad_closing")
        value = reading.value
        if isinstance(value, date) and not isinstance(value, datetime):
            value = datetime.combine(value + timedelta(days=1), time(0), tzinfo=self.tz)
        if value <= now:
            raise InvalidInput("campaign.closing_past")
        if value - now > CLOSE_AFTER_MAX:
            raise InvalidInput("campaign.closing_far")
        return value

    # -- actions ------------------------------------------------------------------------------

    async def open(self, viewer: Viewer, draft: Draft, *, press: Press | None) -> Campaign:
        """Open a campaign (raises ``AlreadyDone`` for a second press of Open)."""
        self.check_station(viewer, draft.station_id)
        if draft.unit not in UNITS:
            raise InvalidInput("common.stale_button")
        return await self.rows.create(
            station_id=draft.station_id,
            product=draft.product,
            unit=draft.unit,
            goal=draft.goal,
            price_minor=draft.price_minor,
            pickup=draft.pickup,
            contact=draft.contact,
            closes_at=draft.closes_at,
            created_by=viewer.telegram_id,
            created_locale=viewer.locale,
            now=self.clock.now(),
            press=press,
        )

    async def visible(self, viewer: Viewer, campaign_id: int) -> Campaign:
        """A campaign the viewer may see: their station's, city-wide, or one they manage."""
        campaign = await self.rows.get(campaign_id)
        if campaign is None:
            raise InvalidInput("campaign.not_found")
        if self.may_manage(viewer, campaign) or campaign.station_id is None:
            return campaign
        talent = viewer.talent
        if talent is not None and talent.station_id == campaign.station_id:
            return campaign
        if talent is not None and await self.rows.pledges_of(campaign.id, talent.id):
            return campaign
        raise NotAllowed

    async def pledge(self, viewer: Viewer, campaign_id: int, way: str, text: str | None) -> int:
        """Set the viewer's pledge from what they typed; return the quantity."""
        campaign = await self.visible(viewer, campaign_id)
        if not viewer.registered or way not in WAYS:
            raise NotAllowed
        quantity = parse_quantity(text, goal=campaign.goal)
        assert viewer.talent is not None
        if not await self.rows.pledge(
            campaign.id, viewer.talent.id, way, quantity, now=self.clock.now()
        ):
            raise InvalidInput("campaign.closed_already")
        return quantity

    async def withdraw(self, viewer: Viewer, campaign_id: int) -> None:
        """Take back every pledge the viewer made to a campaign."""
        campaign = await self.visible(viewer, campaign_id)
        if not viewer.registered:
            raise NotAllowed
        assert viewer.talent is not None
        for way in WAYS:
            if not await self.rows.pledge(
                campaign.id, viewer.talent.id, way, 0, now=self.clock.now()
            ):
                raise InvalidInput("campaign.closed_already")

    async def close(self, viewer: Viewer, campaign_id: int, *, press: Press | None) -> Campaign:
        """Close a campaign now, by hand; raises ``InvalidInput`` when it was closed already."""
        campaign = await self.rows.get(campaign_id)
        if campaign is None:
            raise InvalidInput("campaign.not_found")
        if not self.may_manage(viewer, campaign):
            raise NotAllowed
        if not await self.rows.close(
            campaign.id, by=viewer.telegram_id, now=self.clock.now(), press=press
        ):
            raise InvalidInput("campaign.closed_already")
        closed = await self.rows.get(campaign.id)
        assert closed is not None
        await self.tell_closed(closed)
        return closed

    async def close_due(self) -> list[Campaign]:
        """Close every campaign whose time has come; return those this call closed."""
        closed = []
        for campaign in await self.rows.due(now=self.clock.now()):
            if await self.rows.close(campaign.id, by=None, now=self.clock.now()):
                closed.append(campaign)
                await self.tell_closed(campaign)
        return closed

    async def tell_closed(self, campaign: Campaign) -> None:
        """Tell every pledger the campaign closed and where to collect (a stored notice)."""
        unit = UNIT_NAMES[campaign.unit]
        for talent_id, quantity in await self.rows.pledgers(campaign.id):
            await self.reminders.notify(
                talent_id,
                subject="campaign",
                subject_id=campaign.id,
                kind="closed",
                text_key="campaign.closed_notice",
                params={
                    "product": campaign.product,
                    "quantity": quantity,
                    "unit": unit,
                    "pickup": campaign.pickup,
                    "contact": campaign.contact,
                },
                topic=TOPIC_SIGNED_UP,
            )

    async def totals(self, campaign_id: int) -> Totals:
        return await self.rows.totals(campaign_id)

    async def pledged(
        self, station_id: int | None, *, start: datetime, end: datetime
    ) -> list[PledgedFigures]:
        """Quantities pledged to the campaigns opened in a report's period."""
        return await self.rows.pledged(station_id, start=start, end=end)
